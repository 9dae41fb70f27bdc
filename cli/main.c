/* main.c — `spiral`: dispatches to the subcommand table in commands.def. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *args;
    const char *help;
} g_cmds[] = {
#define ST_CMD(name, fn, args, help) {name, fn, args, help},
#include "commands.def"
#undef ST_CMD
};
#define NCMDS ((int)(sizeof g_cmds / sizeof g_cmds[0]))

static void usage_all(FILE *f) {
    fprintf(f, "usage: spiral <command> [options]\n\ncommands:\n");
    for (int i = 0; i < NCMDS; i++) fprintf(f, "  %-8s %-40s %s\n", g_cmds[i].name, g_cmds[i].args, g_cmds[i].help);
}

int cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "spiral %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    for (int i = 0; i < NCMDS; i++)
        if (strcmp(g_cmds[i].name, cmd) == 0) fprintf(stderr, "usage: spiral %s %s\n", cmd, g_cmds[i].args);
    return CLI_USAGE;
}

int cli_device(const char *cmd, const char *name, st_device *out) {
    if (st_device_parse(name, out) == ST_OK) return 0;
    return st_last_status() == ST_E_DEVICE ? cli_fail(cmd) : cli_usage(cmd, "%s", st_last_error());
}

int cli_fail(const char *cmd) {
    fprintf(stderr, "spiral %s: %s\n", cmd, st_last_error());
    return CLI_ERR;
}

int cli_parse_i64(const char *s, long long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0) return -1;
    *out = v;
    return 0;
}

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage_all(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage_all(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("spiral %s\n", st_version());
        return CLI_OK;
    }
    for (int i = 0; i < NCMDS; i++)
        if (strcmp(argv[1], g_cmds[i].name) == 0) return g_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "spiral: unknown command '%s'\n", argv[1]);
    usage_all(stderr);
    return CLI_USAGE;
}
