/* cli.h — the `spiral` command: subcommands are listed once in commands.def. Each
 * lives in its own file and uses only the public API. Exit codes: 0 ok, 1 runtime
 * error (message on stderr), 2 usage error (usage on stderr). */
#ifndef ST_CLI_H
#define ST_CLI_H

#include <spiraltorch.h>
#include <stdio.h>

#define CLI_OK 0
#define CLI_ERR 1
#define CLI_USAGE 2

#define ST_CMD(name, fn, args, help) int fn(int argc, char **argv);
#include "commands.def"
#undef ST_CMD

/* Prints "spiral: <msg>" and the usage line of `cmd` to stderr; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "spiral <cmd>: <st_last_error()>" to stderr; returns CLI_ERR. */
int cli_fail(const char *cmd);
/* Resolves a --device value: an unknown name is a usage error (CLI_USAGE), a known
 * backend without a usable device a runtime error (CLI_ERR); 0 on success. */
int cli_device(const char *cmd, const char *name, st_device *out);
/* Parses a non-negative integer option value; returns 0 on success. */
int cli_parse_i64(const char *s, long long *out);
/* JSON string escaping to f. */
void cli_json_str(FILE *f, const char *s);

#endif
