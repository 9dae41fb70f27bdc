/* url.c — REDIS_URL parsing (no hiredis needed, so it is always built and tested).
 *
 * Accepted: redis://[user:password@]host[:port][/db] (also redis://:password@host) and
 * unix://path[?db=N]. Invariants: never reads past the string's NUL; every rejection
 * sets the thread error with a message naming the part that is wrong; the output is
 * fully written (zeroed first) only on success.
 */
#include "kv/kv.h"

#include <ctype.h>
#include <stdlib.h>

static st_status bad(const char *url, const char *what) {
    return st_err(ST_E_INVALID_ARG, "REDIS_URL '%s': %s (expected redis://[user:password@]host[:port][/db] or "
                                    "unix://path)", url, what);
}

/* Decimal in [lo, hi] made of the n bytes at s. */
static bool parse_int(const char *s, size_t n, long lo, long hi, int *out) {
    if (n == 0 || n > 9) return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool copy_part(char *dst, size_t cap, const char *s, size_t n) {
    if (n >= cap) return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

st_status st_kv_parse_url(const char *url, st_kv_url *out) {
    st_kv_url u;
    memset(&u, 0, sizeof u);
    u.port = 6379;
    if (!url || !out) return st_err(ST_E_INVALID_ARG, "REDIS_URL: missing");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127) return bad(url, "contains a space or a control or non-ASCII character");
    if (!strncmp(url, "unix://", 7)) {
        const char *p = url + 7, *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || p[0] != '/') return bad(url, "the socket path must be absolute (unix:///path/to/sock)");
        if (!copy_part(u.path, sizeof u.path, p, n)) return bad(url, "the socket path is too long");
        if (q) {
            if (strncmp(q, "?db=", 4) || !parse_int(q + 4, strlen(q + 4), 0, 15, &u.db))
                return bad(url, "after the path only ?db=N (0..15) is accepted");
        }
        u.is_unix = true;
        *out = u;
        return ST_OK;
    }
    if (strncmp(url, "redis://", 8)) return bad(url, "unknown scheme");
    const char *p = url + 8;
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@') at = q; /* the last '@' ends the credentials */
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) return bad(url, "credentials must be user:password@ or :password@");
        if (!copy_part(u.user, sizeof u.user, p, (size_t)(colon - p))) return bad(url, "the user name is too long");
        if (!copy_part(u.pass, sizeof u.pass, colon + 1, (size_t)(at - colon - 1)))
            return bad(url, "the password is too long");
        if (!u.pass[0]) return bad(url, "empty password");
        p = at + 1;
    }
    const char *hend = end;
    if (*p == '[') { /* [::1]:port */
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) return bad(url, "unclosed '[' in the host");
        if (!copy_part(u.host, sizeof u.host, p + 1, (size_t)(rb - p - 1))) return bad(url, "the host is too long");
        hend = rb + 1;
        if (hend < end && *hend != ':') return bad(url, "junk after the ']' of the host");
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon) hend = colon;
        if (!copy_part(u.host, sizeof u.host, p, (size_t)(hend - p))) return bad(url, "the host is too long");
    }
    if (!u.host[0]) return bad(url, "missing host");
    for (const char *h = u.host; *h; h++)
        if (!isalnum((unsigned char)*h) && !strchr(".-_:", *h)) return bad(url, "the host has a character that no host name has");
    if (hend < end && *hend == ':') {
        if (!parse_int(hend + 1, (size_t)(end - hend - 1), 1, 65535, &u.port))
            return bad(url, "the port must be a number in 1..65535");
    }
    if (slash && slash[1]) {
        if (!parse_int(slash + 1, strlen(slash + 1), 0, 15, &u.db)) return bad(url, "the database must be a number in 0..15");
    }
    *out = u;
    return ST_OK;
}
