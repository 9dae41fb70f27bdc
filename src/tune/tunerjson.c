/* tunerjson.c — tuner.json (schema "spiraltorch.tuner/1", SPEC §5): the writer and a
 * strict, bounded reader built on the shared pull reader (src/core/json.h).
 *
 *   {"schema":"spiraltorch.tuner/1", "created":"2024-05-01T12:00:00Z",
 *    "device":{"backend":"cpu","name":"...","vendor":"...","driver":"...",
 *              "subgroup_size":0,"max_workgroup":1024,"shared_mem":65536,"subgroup":false},
 *    "reps":5, "warmup":1,
 *    "topk":[{"rows":64,"cols":4096,"k":16,"subgroup":false,
 *             "choice":{"u2":false,"wg":128,"kl":16,"ch":0,"algo":0,"est":false},
 *             "time_ms":0.1234}, ...],
 *    "midk":[...]}
 *
 * Reader invariants: every key is known (an unknown key, a duplicate, a wrong type or a
 * value out of range is an error "<file>:<line>:<col>: <what>" at the offending place);
 * "schema", "device" (with "backend"), "topk" and "midk" are required; a choice may name
 * a subset of the kind's fields (an older tuner), each checked against the field table
 * and the recorded device's limits; at most ST_TUNE_MAX_SAMPLES samples per kind and
 * ST_TUNE_MAX_FILE bytes. On failure the output is left empty, never half-filled.
 */
#include "tune/tune.h"
#include "core/json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

void st_tune_file_init(st_tune_file *f) { memset(f, 0, sizeof *f); }

void st_tune_file_free(st_tune_file *f) {
    for (int k = 0; k < HK_NKINDS; k++) st_free(f->s[k]);
    st_tune_file_init(f);
}

st_status st_tune_file_add(st_tune_file *f, int kind, const st_tune_sample *s) {
    if (f->n[kind] >= ST_TUNE_MAX_SAMPLES)
        return st_err(ST_E_INVALID_ARG, "tuner.json: more than %d %s samples", ST_TUNE_MAX_SAMPLES, hk_kinds[kind].name);
    if (f->n[kind] == f->cap[kind]) {
        size_t cap = f->cap[kind] ? f->cap[kind] * 2 : 64;
        st_tune_sample *p = st_malloc(cap * sizeof *p);
        if (!p) return ST_E_OOM;
        if (f->n[kind]) memcpy(p, f->s[kind], f->n[kind] * sizeof *p);
        st_free(f->s[kind]);
        f->s[kind] = p;
        f->cap[kind] = cap;
    }
    f->s[kind][f->n[kind]++] = *s;
    return ST_OK;
}

/* ---------------------------------------------------------------- writer */

static void put_str(FILE *o, const char *s) {
    fputc('"', o);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) fprintf(o, "\\u%04x", c);
        else fputc(c, o);
    }
    fputc('"', o);
}

static void put_samples(FILE *o, const st_tune_file *f, int kind) {
    fprintf(o, "  \"%s\": [", hk_kinds[kind].name);
    for (size_t i = 0; i < f->n[kind]; i++) {
        const st_tune_sample *s = &f->s[kind][i];
        fprintf(o, "%s\n    {\"rows\":%lld,\"cols\":%lld,\"k\":%lld,\"subgroup\":%s,\"choice\":{", i ? "," : "",
                (long long)s->rows, (long long)s->cols, (long long)s->k, s->sg ? "true" : "false");
        int n = 0;
        for (int fi = 0; fi < hk_kinds[kind].nfields; fi++) {
            if (!(s->have & (1u << fi))) continue;
            const hk_field *fd = &hk_kinds[kind].fields[fi];
            if (fd->is_bool) fprintf(o, "%s\"%s\":%s", n++ ? "," : "", fd->name, s->v[fi] ? "true" : "false");
            else fprintf(o, "%s\"%s\":%d", n++ ? "," : "", fd->name, (int)s->v[fi]);
        }
        fprintf(o, "},\"time_ms\":%.6g}", s->time_ms);
    }
    fprintf(o, "%s]", f->n[kind] ? "\n  " : "");
}

st_status st_tune_file_write(const char *path, const st_tune_file *f) {
    size_t plen = strlen(path);
    char *tmp = st_malloc(plen + 32);
    if (!tmp) return ST_E_OOM;
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *o = fopen(tmp, "w");
    if (!o) {
        st_status s = st_err(ST_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
        st_free(tmp);
        return s;
    }
    const st_device_info *d = &f->dev;
    fprintf(o, "{\n  \"schema\": \"%s\",\n  \"created\": ", ST_TUNE_SCHEMA);
    put_str(o, f->created);
    fprintf(o, ",\n  \"device\": {\"backend\":");
    put_str(o, d->backend);
    fprintf(o, ",\"name\":");
    put_str(o, d->name);
    fprintf(o, ",\"vendor\":");
    put_str(o, d->vendor);
    fprintf(o, ",\"driver\":");
    put_str(o, d->driver);
    fprintf(o, ",\"subgroup_size\":%d,\"max_workgroup\":%d,\"shared_mem\":%lld,\"subgroup\":%s},\n",
            (int)d->subgroup_size, (int)d->max_workgroup, (long long)d->shared_mem, d->subgroup ? "true" : "false");
    fprintf(o, "  \"reps\": %d,\n  \"warmup\": %d,\n", f->reps, f->warmup);
    put_samples(o, f, ST_HEUR_TOPK);
    fprintf(o, ",\n");
    put_samples(o, f, ST_HEUR_MIDK);
    fprintf(o, "\n}\n");
    bool ok = fflush(o) == 0 && !ferror(o) && fsync(fileno(o)) == 0;
    int err = errno;
    ok = (fclose(o) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        unlink(tmp);
        st_status s = st_err(ST_E_IO, "%s: cannot write: %s", path, strerror(err));
        st_free(tmp);
        return s;
    }
    st_free(tmp);
    return ST_OK;
}

/* ---------------------------------------------------------------- reader */

typedef struct rd {
    st_json j;
    const char *name;
} rd;

static st_status bad(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static st_status bad(rd *r, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st_json_ws(&r->j);
    size_t line, col;
    st_json_where(&r->j, &line, &col);
    return st_err(ST_E_FORMAT, "%s:%zu:%zu: %s", r->name, line, col, msg);
}

/* Object iteration: first call with *first = true. Returns 1 with the key, 0 at the
 * closing brace, -1 on error (reported). */
static int next_key(rd *r, bool *first, char *key, size_t cap, const char *what) {
    if (*first) {
        *first = false;
        if (!st_json_lit(&r->j, '{')) return bad(r, "%s: expected an object", what), -1;
        if (st_json_lit(&r->j, '}')) return 0;
    } else {
        if (st_json_lit(&r->j, '}')) return 0;
        if (!st_json_lit(&r->j, ',')) return bad(r, "%s: expected ',' or '}'", what), -1;
    }
    const char *at = r->j.s;
    if (!st_json_str(&r->j, key, cap, true)) {
        r->j.s = at;
        return bad(r, "%s: expected a key (a string of at most %zu ASCII characters)", what, cap - 1), -1;
    }
    if (!st_json_lit(&r->j, ':')) return bad(r, "%s: expected ':' after \"%s\"", what, key), -1;
    return 1;
}

static bool dup_key(rd *r, unsigned *seen, unsigned bit, const char *key, const char *what) {
    if (*seen & bit) {
        bad(r, "%s: duplicate key \"%s\"", what, key);
        return true;
    }
    *seen |= bit;
    return false;
}

static st_status read_int(rd *r, const char *key, double lo, double hi, int64_t *out) {
    double d;
    const char *at = r->j.s;
    if (!st_json_num(&r->j, &d, false)) return bad(r, "\"%s\": expected a number", key);
    if (d != floor(d) || d < lo || d > hi) {
        r->j.s = at;
        return bad(r, "\"%s\": %.17g is not an integer in [%.0f, %.0f]", key, d, lo, hi);
    }
    *out = (int64_t)d;
    return ST_OK;
}

static st_status read_bool(rd *r, const char *key, bool *out) {
    st_json_ws(&r->j);
    double d;
    const char *at = r->j.s;
    if (!st_json_num(&r->j, &d, true) || (d != 0 && d != 1)) {
        r->j.s = at;
        return bad(r, "\"%s\": expected true, false, 0 or 1", key);
    }
    *out = d != 0;
    return ST_OK;
}

static st_status read_string(rd *r, const char *key, char *out, size_t cap) {
    if (!st_json_str(&r->j, out, cap, false))
        return bad(r, "\"%s\": expected a string of at most %zu bytes (JSON escapes below \\u0080)", key, cap - 1);
    return ST_OK;
}

static st_status read_device(rd *r, st_device_info *d) {
    char key[32];
    bool first = true;
    unsigned seen = 0;
    int rc;
    st_status s = ST_OK;
    static const char *const keys[] = {"backend", "name", "vendor", "driver", "subgroup_size", "max_workgroup",
                                       "shared_mem", "subgroup"};
    while (s == ST_OK && (rc = next_key(r, &first, key, sizeof key, "\"device\"")) == 1) {
        int i = 0;
        while (i < 8 && strcmp(key, keys[i])) i++;
        if (i == 8) return bad(r, "\"device\": unknown key \"%s\"", key);
        if (dup_key(r, &seen, 1u << i, key, "\"device\"")) return ST_E_FORMAT;
        int64_t v = 0;
        switch (i) {
        case 0: s = read_string(r, key, d->backend, sizeof d->backend); break;
        case 1: s = read_string(r, key, d->name, sizeof d->name); break;
        case 2: s = read_string(r, key, d->vendor, sizeof d->vendor); break;
        case 3: s = read_string(r, key, d->driver, sizeof d->driver); break;
        case 4: s = read_int(r, key, 0, 4096, &v), d->subgroup_size = (int32_t)v; break;
        case 5: s = read_int(r, key, 1, 1 << 20, &v), d->max_workgroup = (int32_t)v; break;
        case 6: s = read_int(r, key, 0, 1e15, &v), d->shared_mem = v; break;
        default: s = read_bool(r, key, &d->subgroup); break;
        }
    }
    if (s != ST_OK || rc < 0) return ST_E_FORMAT;
    if (!(seen & 1) || !d->backend[0]) return bad(r, "\"device\": \"backend\" is missing or empty");
    return ST_OK;
}

static st_status read_choice(rd *r, int kind, const st_heur_limits *lim, st_tune_sample *smp) {
    char key[HK_MAX_NAME];
    bool first = true;
    int rc;
    while ((rc = next_key(r, &first, key, sizeof key, "\"choice\"")) == 1) {
        int fi = hk_field_index(kind, key, strlen(key));
        if (fi < 0) return bad(r, "\"choice\": unknown %s field \"%s\"", hk_kinds[kind].name, key);
        if (dup_key(r, &smp->have, 1u << fi, key, "\"choice\"")) return ST_E_FORMAT;
        double d;
        char why[256];
        const char *at = r->j.s;
        if (!st_json_num(&r->j, &d, true)) return bad(r, "\"choice\": \"%s\" is not a number or a boolean", key);
        if (!hk_field_valid(kind, fi, d, lim, smp->sg, why, sizeof why)) {
            r->j.s = at;
            return bad(r, "\"choice\": %s", why);
        }
        smp->v[fi] = (int32_t)d;
    }
    if (rc < 0) return ST_E_FORMAT;
    if (!smp->have) return bad(r, "\"choice\": names no field");
    return ST_OK;
}

static st_status read_sample(rd *r, int kind, const st_heur_limits *lim, st_tune_sample *smp) {
    char key[32];
    bool first = true;
    unsigned seen = 0;
    int rc;
    st_status s = ST_OK;
    static const char *const keys[] = {"rows", "cols", "k", "subgroup", "choice", "time_ms"};
    memset(smp, 0, sizeof *smp);
    const char *start = r->j.s;
    /* The subgroup flag validates the choice (workgroup sizes): read it first. */
    {
        st_json probe = r->j;
        char k2[32];
        bool f2 = true;
        rd pr = {probe, r->name};
        int c2;
        while ((c2 = next_key(&pr, &f2, k2, sizeof k2, "sample")) == 1) {
            if (!strcmp(k2, "subgroup")) {
                bool b = false;
                if (read_bool(&pr, k2, &b) == ST_OK) smp->sg = b;
                break;
            }
            if (!st_json_skip(&pr.j)) break;
        }
        st_clear_error();
    }
    r->j.s = start;
    while (s == ST_OK && (rc = next_key(r, &first, key, sizeof key, "sample")) == 1) {
        int i = 0;
        while (i < 6 && strcmp(key, keys[i])) i++;
        if (i == 6) return bad(r, "sample: unknown key \"%s\"", key);
        if (dup_key(r, &seen, 1u << i, key, "sample")) return ST_E_FORMAT;
        double d;
        switch (i) {
        case 0: s = read_int(r, key, 1, 1e15, &smp->rows); break;
        case 1: s = read_int(r, key, 1, 1e15, &smp->cols); break;
        case 2: s = read_int(r, key, 0, 1e15, &smp->k); break;
        case 3: s = read_bool(r, key, &smp->sg); break;
        case 4: s = read_choice(r, kind, lim, smp); break;
        default:
            if (!st_json_num(&r->j, &d, false) || !(d >= 0) || d > 1e9)
                return bad(r, "\"time_ms\": expected a number in [0, 1e9]");
            smp->time_ms = d;
        }
    }
    if (s != ST_OK || rc < 0) return ST_E_FORMAT;
    if (seen != 63u) {
        int i = 0;
        while (seen & (1u << i)) i++;
        return bad(r, "sample: \"%s\" is missing", keys[i]);
    }
    if (smp->k > smp->cols) return bad(r, "sample: k=%lld is larger than cols=%lld", (long long)smp->k, (long long)smp->cols);
    return ST_OK;
}

static st_status read_samples(rd *r, int kind, const st_heur_limits *lim, st_tune_file *f) {
    if (!st_json_lit(&r->j, '[')) return bad(r, "\"%s\": expected an array", hk_kinds[kind].name);
    if (st_json_lit(&r->j, ']')) return ST_OK;
    do {
        st_tune_sample smp;
        st_status s = read_sample(r, kind, lim, &smp);
        if (s != ST_OK) return s;
        if ((s = st_tune_file_add(f, kind, &smp)) != ST_OK) return s == ST_E_OOM ? s : bad(r, "%s", st_last_error());
    } while (st_json_lit(&r->j, ','));
    if (!st_json_lit(&r->j, ']')) return bad(r, "\"%s\": expected ',' or ']'", hk_kinds[kind].name);
    return ST_OK;
}

static st_status parse(rd *r, st_tune_file *f) {
    enum { K_SCHEMA, K_CREATED, K_DEVICE, K_REPS, K_WARMUP, K_TOPK, K_MIDK, NK };
    static const char *const keys[NK] = {"schema", "created", "device", "reps", "warmup", "topk", "midk"};
    char key[32];
    bool first = true;
    unsigned seen = 0;
    int rc;
    st_status s = ST_OK;
    st_heur_limits lim = {1024, 32, 65536};
    while (s == ST_OK && (rc = next_key(r, &first, key, sizeof key, "top level")) == 1) {
        int i = 0;
        while (i < NK && strcmp(key, keys[i])) i++;
        if (i == NK) return bad(r, "unknown key \"%s\" (expected schema, created, device, reps, warmup, topk, midk)", key);
        if (dup_key(r, &seen, 1u << i, key, "top level")) return ST_E_FORMAT;
        if (i != K_SCHEMA && !(seen & 1u << K_SCHEMA))
            return bad(r, "\"schema\" must come first (\"%s\" before it)", key);
        if ((i == K_TOPK || i == K_MIDK) && !(seen & 1u << K_DEVICE))
            return bad(r, "\"device\" must come before \"%s\" (its limits validate the choices)", key);
        char buf[64];
        int64_t v = 0;
        switch (i) {
        case K_SCHEMA: {
            const char *at = r->j.s;
            if ((s = read_string(r, key, buf, sizeof buf)) != ST_OK) return s;
            if (strcmp(buf, ST_TUNE_SCHEMA)) {
                r->j.s = at;
                return bad(r, "schema \"%s\" is not \"%s\"", buf, ST_TUNE_SCHEMA);
            }
            break;
        }
        case K_CREATED: s = read_string(r, key, f->created, sizeof f->created); break;
        case K_DEVICE:
            s = read_device(r, &f->dev);
            lim = (st_heur_limits){f->dev.max_workgroup > 0 ? f->dev.max_workgroup : 1024, f->dev.subgroup_size,
                                   f->dev.shared_mem > 0 ? f->dev.shared_mem : 65536};
            break;
        case K_REPS: s = read_int(r, key, 1, 1e6, &v), f->reps = (int)v; break;
        case K_WARMUP: s = read_int(r, key, 0, 1e6, &v), f->warmup = (int)v; break;
        default: s = read_samples(r, i == K_TOPK ? ST_HEUR_TOPK : ST_HEUR_MIDK, &lim, f); break;
        }
    }
    if (s != ST_OK) return s;
    if (rc < 0) return ST_E_FORMAT;
    if (!st_json_end(&r->j)) return bad(r, "junk after the top-level object");
    for (int i = 0; i < NK; i++)
        if ((i == K_SCHEMA || i == K_DEVICE || i == K_TOPK || i == K_MIDK) && !(seen & 1u << i))
            return bad(r, "\"%s\" is missing", keys[i]);
    return ST_OK;
}

st_status st_tune_file_parse(const char *text, size_t len, const char *name, st_tune_file *f) {
    st_tune_file_init(f);
    if (len > ST_TUNE_MAX_FILE) return st_err(ST_E_FORMAT, "%s: %zu bytes: larger than the %u-byte limit", name, len, ST_TUNE_MAX_FILE);
    rd r;
    st_json_init(&r.j, text, len);
    r.name = name;
    st_status s = parse(&r, f);
    if (s != ST_OK) st_tune_file_free(f);
    return s;
}

st_status st_tune_file_read(const char *path, st_tune_file *f) {
    st_tune_file_init(f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return st_err(ST_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return st_err(ST_E_IO, "%s: not a regular file", path);
    }
    if (sb.st_size > (off_t)ST_TUNE_MAX_FILE) {
        close(fd);
        return st_err(ST_E_FORMAT, "%s: %lld bytes: larger than the %u-byte limit", path, (long long)sb.st_size,
                      ST_TUNE_MAX_FILE);
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *buf = st_malloc(n + 1);
    if (!buf) {
        close(fd);
        return ST_E_OOM;
    }
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (got != n) {
        st_free(buf);
        return st_err(ST_E_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = '\0';
    st_status s = st_tune_file_parse(buf, n, path, f);
    st_free(buf);
    return s;
}
