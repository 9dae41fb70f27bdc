/* json.h — a small strict JSON pull reader shared by the Redis values (src/kv) and
 * tuner.json (src/tune). No tree, no allocation: the caller walks the grammar it
 * expects with these primitives, so every reader is bounded by its own schema.
 *
 * Invariants: the cursor never passes `e`; a failed primitive leaves `s` at the
 * offending byte, so st_json_where() can name the position; nesting skipped by
 * st_json_skip is bounded by ST_JSON_MAX_DEPTH.
 */
#ifndef ST_JSON_H
#define ST_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define ST_JSON_MAX_DEPTH 32

typedef struct st_json {
    const char *b; /* start of the text (for positions) */
    const char *s; /* cursor */
    const char *e; /* end */
} st_json;

void st_json_init(st_json *j, const char *text, size_t n);
void st_json_ws(st_json *j);
/* Skips white space; consumes `c` when it is next. */
bool st_json_lit(st_json *j, char c);
/* A string into out (NUL-terminated, at most cap-1 bytes). Escapes \" \\ \/ \b \f \n \r
 * \t and \u00XX below 0x80 are decoded; other \u escapes and control characters are
 * refused. ascii: refuse bytes >= 0x7f too (Redis values); otherwise UTF-8 bytes pass. */
bool st_json_str(st_json *j, char *out, size_t cap, bool ascii);
/* A finite number (at most 39 characters); with bools, `true`/`false` read as 1/0. */
bool st_json_num(st_json *j, double *v, bool bools);
/* Skips one value of any type (depth-bounded). */
bool st_json_skip(st_json *j);
/* Whether only white space is left. */
bool st_json_end(st_json *j);
/* 1-based line and column of the cursor. */
void st_json_where(const st_json *j, size_t *line, size_t *col);

#endif
