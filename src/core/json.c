/* json.c — the strict JSON pull reader of json.h (shared by src/kv and src/tune).
 *
 * Invariants: no allocation; every primitive checks the bound before each byte; on
 * failure the cursor is left at (or just after whitespace before) the offending byte.
 */
#include "core/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void st_json_init(st_json *j, const char *text, size_t n) {
    j->b = j->s = text;
    j->e = text + n;
}

void st_json_ws(st_json *j) {
    while (j->s < j->e && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r')) j->s++;
}

bool st_json_lit(st_json *j, char c) {
    st_json_ws(j);
    if (j->s < j->e && *j->s == c) {
        j->s++;
        return true;
    }
    return false;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool st_json_str(st_json *j, char *out, size_t cap, bool ascii) {
    if (!st_json_lit(j, '"')) return false;
    size_t n = 0;
    while (j->s < j->e && *j->s != '"') {
        const char *at = j->s;
        unsigned char c = (unsigned char)*j->s++;
        if (c == '\\') {
            if (j->s >= j->e) return j->s = at, false;
            char esc = *j->s++;
            const char *m = strchr("\"\\/bfnrt", esc);
            if (esc && m) {
                c = (unsigned char)"\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"];
            } else if (esc == 'u' && j->e - j->s >= 4) {
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(j->s[i]);
                    if (h < 0) return j->s = at, false;
                    v = v * 16 + h;
                }
                if (v >= 0x80) return j->s = at, false;
                j->s += 4;
                c = (unsigned char)v;
            } else {
                return j->s = at, false;
            }
        } else if (c < 32 || (ascii && c >= 127)) {
            return j->s = at, false;
        }
        if (n + 1 >= cap) return j->s = at, false;
        out[n++] = (char)c;
    }
    if (j->s >= j->e) return false;
    j->s++;
    out[n] = '\0';
    return true;
}

bool st_json_num(st_json *j, double *v, bool bools) {
    st_json_ws(j);
    if (bools && j->e - j->s >= 4 && !memcmp(j->s, "true", 4)) return j->s += 4, *v = 1, true;
    if (bools && j->e - j->s >= 5 && !memcmp(j->s, "false", 5)) return j->s += 5, *v = 0, true;
    char buf[40];
    size_t n = 0;
    while (j->s + n < j->e && n < sizeof buf - 1 && strchr("0123456789+-.eE", j->s[n]) && j->s[n]) n++;
    if (n == 0 || n >= sizeof buf - 1) return false;
    memcpy(buf, j->s, n);
    buf[n] = '\0';
    char *end;
    *v = strtod(buf, &end);
    if (end != buf + n || !isfinite(*v)) return false;
    j->s += n;
    return true;
}

static bool skip_depth(st_json *j, int depth) {
    if (depth > ST_JSON_MAX_DEPTH) return false;
    st_json_ws(j);
    if (j->s >= j->e) return false;
    char c = *j->s;
    double d;
    char tmp[4096];
    if (c == '"') return st_json_str(j, tmp, sizeof tmp, false);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->s++;
        if (st_json_lit(j, close)) return true;
        do {
            if (c == '{' && (!st_json_str(j, tmp, sizeof tmp, false) || !st_json_lit(j, ':'))) return false;
            if (!skip_depth(j, depth + 1)) return false;
        } while (st_json_lit(j, ','));
        return st_json_lit(j, close);
    }
    if (j->e - j->s >= 4 && !memcmp(j->s, "null", 4)) return j->s += 4, true;
    return st_json_num(j, &d, true);
}

bool st_json_skip(st_json *j) { return skip_depth(j, 0); }

bool st_json_end(st_json *j) {
    st_json_ws(j);
    return j->s == j->e;
}

void st_json_where(const st_json *j, size_t *line, size_t *col) {
    size_t l = 1, c = 1;
    for (const char *p = j->b; p < j->s && p < j->e; p++) {
        if (*p == '\n') l++, c = 1;
        else c++;
    }
    *line = l;
    *col = c;
}
