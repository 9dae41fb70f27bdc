/* chain.c — the heuristics priority chain and its cache (SPEC §4).
 *
 * Per field, the first source that gives a valid value wins: env SPIRAL_HEUR_K_LAB
 * (TopK), env SPIRAL_HEUR_K / SPIRAL_HEUR_MIDK, the rule file, the Redis slot, the
 * generated table, the fallback formulas (adjusted to the device when even they are
 * invalid there).
 *
 * State and invariants:
 * - G holds a snapshot of the environment (copies of the strings), the rule file's
 *   identity (device, inode, size, mtime) and the programs parsed from them. It is
 *   read and written only under G.mu.
 * - g_gen (atomic) changes whenever anything a choice depends on changes: env, file,
 *   limits, tables, the Redis slot, reload, reset. It never decreases.
 * - Each thread caches choices in a direct-mapped table keyed by (kind, rows, cols, k,
 *   sg) and tagged with the g_gen they were computed under; a warm call is one coarse
 *   clock read, one atomic load and a compare: no lock, no getenv, no stat.
 * - The snapshot is re-validated (getenv + stat) at most every g_recheck_ms by a
 *   CLOCK_MONOTONIC_COARSE clock, by whichever thread gets the lock first (try-lock:
 *   the others go on with the current generation). Staleness bound: g_recheck_ms plus
 *   one tick of the coarse clock.
 */
#include "heur/heur.h"
#include "kv/kv.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

enum { E_LAB, E_K, E_MIDK, NENV };
static const struct {
    const char *var;
    int kind;
    st_heur_source src;
} env_src[NENV] = {{"SPIRAL_HEUR_K_LAB", ST_HEUR_TOPK, ST_HEUR_SRC_ENV_LAB},
                   {"SPIRAL_HEUR_K", ST_HEUR_TOPK, ST_HEUR_SRC_ENV},
                   {"SPIRAL_HEUR_MIDK", ST_HEUR_MIDK, ST_HEUR_SRC_ENV}};

typedef struct file_id {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id;

typedef struct source {
    char *text; /* snapshot (env value or file path); NULL when unset */
    hk_prog *prog;
    char err[HK_DIAG_MAX];
} source;

static struct {
    pthread_mutex_t mu;
    bool loaded;
    source env[NENV];
    source file; /* text = the path */
    file_id fid;
    char *redis_url;     /* REDIS_URL as last seen (owned) */
    char redis_err[512]; /* why the Redis slot is not installed ("" when it is) */
    bool kv_owned;       /* the slot is src/kv's (not a test's) */
    hk_prog *fallback[HK_NKINDS];
    st_heur_limits lim;
    const st_heur_table *tables[HK_NKINDS];
    st_heur_remote remote;
    bool has_remote;
    char backend[16]; /* the device backend tables must match (st_heur_set_backend) */
} G = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .lim = {1024, 32, 65536},
       .backend = "cpu",
       .tables = {&st_heur_topk_generated, &st_heur_midk_generated}};

static _Atomic uint64_t g_gen = 1;
static _Atomic int64_t g_last_check_ms = INT64_MIN / 2;
static _Atomic int g_recheck_ms = 250;

static int64_t coarse_ms(void) {
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bump(void) { atomic_fetch_add_explicit(&g_gen, 1, memory_order_acq_rel); }

/* ---------------------------------------------------------------- loading */

static bool same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static void source_clear(source *s) {
    st_free(s->text);
    hk_prog_free(s->prog);
    s->text = NULL;
    s->prog = NULL;
    s->err[0] = '\0';
}

/* Parses `text` into s (s->text must already be set). Errors are logged once here. */
static st_status source_parse(source *s, const char *name, const char *text, size_t len, bool file, int kind) {
    s->prog = hk_parse(name, text, len, file, kind, s->err, sizeof s->err);
    if (s->prog) return ST_OK;
    if (!s->err[0]) return ST_E_OOM;
    st_logf(ST_LOG_WARN, "heuristics: source skipped: %s", s->err);
    return ST_OK;
}

static st_status load_env(int i, const char *now) {
    source *s = &G.env[i];
    source_clear(s);
    if (!now) return ST_OK;
    if (!(s->text = st_strdup(now))) return ST_E_OOM;
    st_status st = source_parse(s, env_src[i].var, now, strlen(now), false, env_src[i].kind);
    if (st != ST_OK) source_clear(s); /* retried at the next check */
    return st;
}

static file_id stat_file(const char *path) {
    file_id id = {0};
    struct stat sb;
    if (path && stat(path, &sb) == 0) {
        id.exists = true;
        id.dev = sb.st_dev;
        id.ino = sb.st_ino;
        id.size = sb.st_size;
        id.mtime = sb.st_mtim;
    }
    return id;
}

static bool same_id(const file_id *a, const file_id *b) {
    if (a->exists != b->exists) return false;
    return !a->exists || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
                          a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec);
}

static st_status load_file(const char *path, const file_id *id) {
    source *s = &G.file;
    source_clear(s);
    G.fid = *id;
    if (!path) return ST_OK;
    if (!(s->text = st_strdup(path))) return ST_E_OOM;
    if (!id->exists) return ST_OK;
    char *buf;
    size_t len;
    st_status st = hk_read_file(path, &buf, &len, s->err, sizeof s->err);
    if (st == ST_E_IO) {
        st_logf(ST_LOG_WARN, "heuristics: source skipped: %s", s->err);
        return ST_OK;
    }
    if (st == ST_OK) {
        st = source_parse(s, path, buf, len, true, ST_HEUR_TOPK);
        st_free(buf);
    }
    if (st != ST_OK) { /* out of memory: forget the identity so that it is retried */
        source_clear(s);
        G.fid.exists = !id->exists;
    }
    return st;
}

/* The fallback formulas of the field list, as one program per kind. */
static st_status load_fallback(void) {
    for (int k = 0; k < HK_NKINDS; k++) {
        if (G.fallback[k]) continue;
        char text[2048], diag[HK_DIAG_MAX];
        size_t o = 0;
        for (int f = 0; f < hk_kinds[k].nfields && o < sizeof text; f++)
            o += (size_t)snprintf(text + o, sizeof text - o, "%s: %s\n", hk_kinds[k].fields[f].name,
                                  hk_kinds[k].fields[f].fallback);
        G.fallback[k] = hk_parse("fallback", text, strlen(text), false, k, diag, sizeof diag);
        if (!G.fallback[k] && !diag[0]) return ST_E_OOM;
        if (!G.fallback[k]) st_logf(ST_LOG_ERROR, "internal: the fallback formulas do not parse: %s", diag);
    }
    return ST_OK;
}

char *st_heur_rule_file_path(char *buf, size_t cap) {
    const char *f = st_env("SPIRAL_HEUR_FILE"), *home = st_env("ST_HOME"), *h = st_env("HOME");
    if (f) snprintf(buf, cap, "%s", f);
    else if (home) snprintf(buf, cap, "%s/heur.kdsl", home);
    else if (h) snprintf(buf, cap, "%s/.spiraltorch/heur.kdsl", h);
    else return NULL;
    return buf;
}

/* Re-validates the snapshot (under G.mu); force re-reads everything. */
static st_status refresh(bool force) {
    bool changed = force || !G.loaded;
    st_status st = load_fallback();
    for (int i = 0; i < NENV && st == ST_OK; i++) {
        const char *now = st_env(env_src[i].var);
        if (changed || !same_str(G.env[i].text, now)) {
            st = load_env(i, now);
            changed = true;
        }
    }
    char pbuf[4096];
    const char *path = st_heur_rule_file_path(pbuf, sizeof pbuf);
    file_id id = stat_file(path);
    if (st == ST_OK && (changed || !same_str(G.file.text, path) || !same_id(&G.fid, &id))) {
        st = load_file(path, &id);
        changed = true;
    }
    const char *url = st_env("REDIS_URL");
    if (!same_str(G.redis_url, url)) {
        char *copy = url ? st_strdup(url) : NULL;
        if (!url || copy) { /* on out of memory: retried at the next check */
            st_free(G.redis_url);
            G.redis_url = copy;
            st_heur_remote slot;
            if (st_kv_configure(url, &slot, G.redis_err, sizeof G.redis_err)) {
                G.remote = slot;
                G.has_remote = G.kv_owned = true;
            } else if (G.kv_owned) {
                G.has_remote = G.kv_owned = false;
            }
            if (url && G.redis_err[0]) st_logf(ST_LOG_ERROR, "heuristics: Redis source off: %s", G.redis_err);
            changed = true;
        }
    }
    if (G.kv_owned) {
        if (force) st_kv_flush();
        if (st_kv_poll()) changed = true;
    }
    if (st != ST_OK) {
        G.loaded = false;
        bump();
        return st_err(st, "heuristics: out of memory loading the rules");
    }
    G.loaded = true;
    if (changed) bump();
    atomic_store_explicit(&g_last_check_ms, coarse_ms(), memory_order_relaxed);
    return ST_OK;
}

/* Per-thread state of the fast path: a countdown of calls between clock reads (the
 * coarse clock costs tens of ns on some VMs) and the choice cache (2-way sets, the
 * most recent first). */
#define RECHECK_EVERY 16
#define CACHE_SETS 256
typedef struct centry {
    uint64_t gen;
    int64_t rows, cols, k;
    uint8_t kind, sg;
    union {
        st_heur_choice t;
        st_heur_midk_choice m;
    } u;
} centry;
static _Thread_local struct {
    unsigned countdown;
    centry set[CACHE_SETS][2];
} tl;

static void maybe_recheck(void) {
    int ms = atomic_load_explicit(&g_recheck_ms, memory_order_relaxed);
    if (ms > 0 && tl.countdown) {
        tl.countdown--;
        return;
    }
    tl.countdown = RECHECK_EVERY - 1;
    int64_t now = coarse_ms();
    if (now - atomic_load_explicit(&g_last_check_ms, memory_order_relaxed) < ms) return;
    if (pthread_mutex_trylock(&G.mu) != 0) return;
    (void)refresh(false); /* on failure the slow path reports it */
    pthread_mutex_unlock(&G.mu);
}

/* ---------------------------------------------------------------- the chain */

typedef struct chain_out {
    int32_t v[ST_HEUR_MAX_FIELDS];
    uint8_t src[ST_HEUR_MAX_FIELDS];
    const hk_prog *prog[ST_HEUR_MAX_FIELDS]; /* env/file sources: where it came from */
    uint32_t pos[ST_HEUR_MAX_FIELDS];
    char *notes;
    size_t ncap;
} chain_out;

static void note(chain_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(chain_out *o, const char *fmt, ...) {
    char msg[HK_DIAG_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st_logf(ST_LOG_WARN, "%s", msg);
    if (o->notes) {
        size_t used = strlen(o->notes);
        if (used + 1 < o->ncap) snprintf(o->notes + used, o->ncap - used, "%s\n", msg);
    }
}

/* Fields still open after one rule program. */
static uint32_t from_prog(const hk_prog *p, st_heur_source src, int kind, const hk_shape *s, uint32_t open,
                          chain_out *o) {
    for (int f = 0; f < hk_kinds[kind].nfields; f++) {
        if (!(open & (1u << f))) continue;
        double v;
        uint32_t pos = 0;
        char err[HK_DIAG_MAX], why[256];
        hk_outcome r = hk_eval_field(p, kind, f, s, &v, &pos, err, sizeof err);
        if (r == HK_ERROR) {
            note(o, "%s (for r=%.0f c=%.0f k=%.0f sg=%d; the next source is used)", err, s->var[HK_V_R],
                 s->var[HK_V_C], s->var[HK_V_K], (int)s->sg);
        } else if (r == HK_VALUE && !hk_field_valid(kind, f, v, &G.lim, s->sg, why, sizeof why)) {
            hk_format_at(p, pos, err, sizeof err, "%s", why);
            note(o, "%s (for r=%.0f c=%.0f k=%.0f sg=%d; the next source is used)", err, s->var[HK_V_R],
                 s->var[HK_V_C], s->var[HK_V_K], (int)s->sg);
        } else if (r == HK_VALUE) {
            o->v[f] = (int32_t)v;
            o->src[f] = (uint8_t)src;
            o->prog[f] = p;
            o->pos[f] = pos;
            open &= ~(1u << f);
        }
    }
    return open;
}

static uint32_t take(chain_out *o, int kind, int f, double v, st_heur_source src, const char *name,
                     const hk_shape *s, uint32_t open) {
    char why[256];
    if (!hk_field_valid(kind, f, v, &G.lim, s->sg, why, sizeof why)) {
        note(o, "%s: %s (the next source is used)", name, why);
        return open;
    }
    o->v[f] = (int32_t)v;
    o->src[f] = (uint8_t)src;
    return open & ~(1u << f);
}

static uint32_t from_remote(int kind, int64_t r, int64_t c, int64_t k, const hk_shape *s, uint32_t open,
                            chain_out *o) {
    if (!G.has_remote || !G.remote.lookup) return open;
    int32_t vals[ST_HEUR_MAX_FIELDS] = {0};
    uint32_t have = 0;
    if (!G.remote.lookup(G.remote.user, kind, r, c, k, s->sg, vals, &have)) return open;
    for (int f = 0; f < hk_kinds[kind].nfields; f++)
        if ((open & have) & (1u << f)) open = take(o, kind, f, vals[f], ST_HEUR_SRC_REDIS, "redis", s, open);
    return open;
}

static bool table_applies(const st_heur_table *t) {
    return !t->backend || !t->backend[0] || !strcmp(t->backend, G.backend);
}

static uint32_t from_table(int kind, int64_t c, int64_t k, const hk_shape *s, uint32_t open, chain_out *o) {
    const st_heur_table *t = G.tables[kind];
    if (!table_applies(t)) return open;
    const st_heur_table_row *row = st_heur_table_find(t, st_heur_bucket_of(s->sg, c, k));
    if (!row) return open;
    for (int f = 0; f < hk_kinds[kind].nfields; f++) {
        int col = st_heur_table_column(t, hk_kinds[kind].fields[f].name);
        if ((open & (1u << f)) && col >= 0) open = take(o, kind, f, row->v[col], ST_HEUR_SRC_TABLE, "table", s, open);
    }
    return open;
}

/* A value the device accepts, as close to v as the checks allow. */
static double adjust(int kind, int f, double v, const hk_shape *s) {
    const hk_field *fd = &hk_kinds[kind].fields[f];
    if (!(v == v)) v = (double)fd->min;
    v = floor(v < (double)fd->min ? (double)fd->min : v > (double)fd->max ? (double)fd->max : v);
    if (fd->checks & ST_HEUR_CHK_WG && v > G.lim.max_workgroup) v = G.lim.max_workgroup;
    if (fd->checks & ST_HEUR_CHK_SMEM8 && v * 8 > (double)G.lim.shared_mem) v = floor((double)G.lim.shared_mem / 8);
    if (fd->checks & (ST_HEUR_CHK_POW2 | ST_HEUR_CHK_WG)) {
        double p = 1;
        while (p * 2 <= v) p *= 2;
        v = p;
        if (fd->checks & ST_HEUR_CHK_WG && s->sg && G.lim.subgroup_size > v && G.lim.subgroup_size <= G.lim.max_workgroup)
            v = G.lim.subgroup_size;
    }
    return v;
}

static void from_fallback(int kind, const hk_shape *s, uint32_t open, chain_out *o) {
    for (int f = 0; f < hk_kinds[kind].nfields; f++) {
        if (!(open & (1u << f))) continue;
        double v = (double)hk_kinds[kind].fields[f].min;
        uint32_t pos;
        char err[HK_DIAG_MAX], why[256];
        if (G.fallback[kind] && hk_eval_field(G.fallback[kind], kind, f, s, &v, &pos, err, sizeof err) != HK_VALUE)
            v = (double)hk_kinds[kind].fields[f].min;
        if (!hk_field_valid(kind, f, v, &G.lim, s->sg, why, sizeof why)) {
            double a = adjust(kind, f, v, s);
            note(o, "fallback: %s; adjusted to %.0f", why, a);
            v = a;
        }
        o->v[f] = (int32_t)v;
        o->src[f] = ST_HEUR_SRC_FALLBACK;
    }
}

/* Runs the chain (under G.mu, state loaded). */
static void run_chain(int kind, int64_t r, int64_t c, int64_t k, bool sg, chain_out *o) {
    hk_shape s;
    hk_shape_make(&s, r, c, k, sg, &G.lim);
    uint32_t open = (1u << hk_kinds[kind].nfields) - 1;
    for (int i = 0; i < NENV; i++)
        if (env_src[i].kind == kind && G.env[i].prog) open = from_prog(G.env[i].prog, env_src[i].src, kind, &s, open, o);
    if (G.file.prog) open = from_prog(G.file.prog, ST_HEUR_SRC_FILE, kind, &s, open, o);
    if (open) open = from_remote(kind, r, c, k, &s, open, o);
    if (open) open = from_table(kind, c, k, &s, open, o);
    if (open) from_fallback(kind, &s, open, o);
}

/* ---------------------------------------------------------------- cache and choose */

static inline centry *cache_set(int kind, int64_t r, int64_t c, int64_t k, bool sg) {
    uint64_t h = (uint64_t)r * 0x9E3779B97F4A7C15ull ^ (uint64_t)c * 0xC2B2AE3D27D4EB4Full ^
                 (uint64_t)k * 0x165667B19E3779F9ull ^ (uint64_t)(kind * 2 + sg) * 0x27D4EB2F165667C5ull;
    return tl.set[(h ^ (h >> 29)) % CACHE_SETS];
}

static inline bool hit(const centry *e, uint64_t gen, int kind, int64_t r, int64_t c, int64_t k, bool sg) {
    return e->gen == gen && e->rows == r && e->cols == c && e->k == k && e->kind == kind && e->sg == sg;
}

static st_status choose_slow(int kind, int64_t r, int64_t c, int64_t k, bool sg, void *out, centry *e) {
    pthread_mutex_lock(&G.mu);
    st_status st = G.loaded ? ST_OK : refresh(false);
    if (st != ST_OK) {
        pthread_mutex_unlock(&G.mu);
        return st;
    }
    uint64_t gen = atomic_load_explicit(&g_gen, memory_order_acquire);
    chain_out o = {0};
    run_chain(kind, r, c, k, sg, &o);
    pthread_mutex_unlock(&G.mu);
    memset(out, 0, hk_kinds[kind].struct_size);
    for (int f = 0; f < hk_kinds[kind].nfields; f++) hk_field_store(kind, f, out, o.v[f]);
    e[1] = e[0]; /* e is the set: the older entry moves to the second way */
    e[0] = (centry){gen, r, c, k, (uint8_t)kind, sg, {{0}}};
    memcpy(&e[0].u, out, hk_kinds[kind].struct_size);
    return ST_OK;
}

static st_status check_args(const char *fn, int64_t r, int64_t c, int64_t k, const void *out) {
    if (!out) return st_err(ST_E_INVALID_ARG, "%s: out is NULL", fn);
    if (r < 0 || c < 0 || k < 0)
        return st_err(ST_E_INVALID_ARG, "%s: rows, cols and k must be >= 0 (got %lld, %lld, %lld)", fn, (long long)r,
                      (long long)c, (long long)k);
    return ST_OK;
}

st_status st_heur_choose(int64_t rows, int64_t cols, int64_t k, bool subgroup, st_heur_choice *out) {
    if (check_args("st_heur_choose", rows, cols, k, out) != ST_OK) return ST_E_INVALID_ARG;
    maybe_recheck();
    uint64_t gen = atomic_load_explicit(&g_gen, memory_order_acquire);
    centry *e = cache_set(ST_HEUR_TOPK, rows, cols, k, subgroup);
    for (int w = 0; w < 2; w++)
        if (hit(&e[w], gen, ST_HEUR_TOPK, rows, cols, k, subgroup)) {
            *out = e[w].u.t;
            return ST_OK;
        }
    return choose_slow(ST_HEUR_TOPK, rows, cols, k, subgroup, out, e);
}

st_status st_heur_choose_midk(int64_t rows, int64_t cols, int64_t k, bool subgroup, st_heur_midk_choice *out) {
    if (check_args("st_heur_choose_midk", rows, cols, k, out) != ST_OK) return ST_E_INVALID_ARG;
    maybe_recheck();
    uint64_t gen = atomic_load_explicit(&g_gen, memory_order_acquire);
    centry *e = cache_set(ST_HEUR_MIDK, rows, cols, k, subgroup);
    for (int w = 0; w < 2; w++)
        if (hit(&e[w], gen, ST_HEUR_MIDK, rows, cols, k, subgroup)) {
            *out = e[w].u.m;
            return ST_OK;
        }
    return choose_slow(ST_HEUR_MIDK, rows, cols, k, subgroup, out, e);
}

/* ---------------------------------------------------------------- explain */

static void where_of(const chain_out *o, int kind, int f, char *buf, size_t cap) {
    uint32_t line, col;
    switch ((st_heur_source)o->src[f]) {
    case ST_HEUR_SRC_ENV_LAB: snprintf(buf, cap, "env SPIRAL_HEUR_K_LAB"); break;
    case ST_HEUR_SRC_ENV: snprintf(buf, cap, "env %s", kind == ST_HEUR_TOPK ? "SPIRAL_HEUR_K" : "SPIRAL_HEUR_MIDK"); break;
    case ST_HEUR_SRC_FILE:
        hk_linecol(o->prog[f], o->pos[f], &line, &col);
        snprintf(buf, cap, "%s:%u", o->prog[f]->source, line);
        break;
    case ST_HEUR_SRC_REDIS: snprintf(buf, cap, "redis"); break;
    case ST_HEUR_SRC_TABLE: snprintf(buf, cap, "table"); break;
    case ST_HEUR_SRC_FALLBACK: snprintf(buf, cap, "fallback"); break;
    }
}

st_status st_heur_explain(st_heur_kind kind, int64_t rows, int64_t cols, int64_t k, bool subgroup,
                          st_heur_explanation *out) {
    if (check_args("st_heur_explain", rows, cols, k, out) != ST_OK) return ST_E_INVALID_ARG;
    if (kind != ST_HEUR_TOPK && kind != ST_HEUR_MIDK)
        return st_err(ST_E_INVALID_ARG, "st_heur_explain: unknown kind %d", (int)kind);
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&G.mu);
    st_status st = refresh(false);
    if (st == ST_OK) {
        chain_out o = {.notes = out->notes, .ncap = sizeof out->notes};
        run_chain(kind, rows, cols, k, subgroup, &o);
        out->kind = kind;
        out->nfields = hk_kinds[kind].nfields;
        for (int f = 0; f < out->nfields; f++) {
            st_heur_field_explanation *fe = &out->fields[f];
            fe->name = hk_kinds[kind].fields[f].name;
            fe->is_bool = hk_kinds[kind].fields[f].is_bool;
            fe->value = o.v[f];
            fe->source = (st_heur_source)o.src[f];
            where_of(&o, kind, f, fe->where, sizeof fe->where);
        }
    }
    pthread_mutex_unlock(&G.mu);
    return st;
}

/* ---------------------------------------------------------------- control */

void st_heur_reload(void) {
    pthread_mutex_lock(&G.mu);
    (void)refresh(true);
    pthread_mutex_unlock(&G.mu);
}

void st_heur_set_recheck_ms(int ms) { atomic_store(&g_recheck_ms, ms < 0 ? 0 : ms); }

void st_heur_reset(void) {
    pthread_mutex_lock(&G.mu);
    for (int i = 0; i < NENV; i++) source_clear(&G.env[i]);
    source_clear(&G.file);
    memset(&G.fid, 0, sizeof G.fid);
    for (int k = 0; k < HK_NKINDS; k++) {
        hk_prog_free(G.fallback[k]);
        G.fallback[k] = NULL;
    }
    if (G.kv_owned) {
        char e[8];
        st_heur_remote none;
        (void)st_kv_configure(NULL, &none, e, sizeof e);
        G.has_remote = G.kv_owned = false;
    }
    st_free(G.redis_url);
    G.redis_url = NULL;
    G.redis_err[0] = '\0';
    G.loaded = false;
    bump();
    atomic_store(&g_last_check_ms, INT64_MIN / 2);
    pthread_mutex_unlock(&G.mu);
}

void st_heur_invalidate(void) { bump(); }

st_status st_heur_set_limits(const st_heur_limits *lim) {
    st_heur_limits l = {1024, 32, 65536};
    if (lim) {
        if (lim->max_workgroup < 1 || lim->subgroup_size < 0 || lim->shared_mem < 0)
            return st_err(ST_E_INVALID_ARG, "st_heur_set_limits: max_workgroup must be >= 1, subgroup_size and "
                                            "shared_mem >= 0");
        l = *lim;
    }
    pthread_mutex_lock(&G.mu);
    G.lim = l;
    bump();
    pthread_mutex_unlock(&G.mu);
    return ST_OK;
}

const st_heur_limits *st_heur_limits_locked(void) { return &G.lim; }

void st_heur_get_limits(st_heur_limits *out) {
    if (!out) return;
    pthread_mutex_lock(&G.mu);
    *out = G.lim;
    pthread_mutex_unlock(&G.mu);
}

void st_heur_set_backend(const char *name) {
    pthread_mutex_lock(&G.mu);
    snprintf(G.backend, sizeof G.backend, "%s", name && name[0] ? name : "cpu");
    bump();
    pthread_mutex_unlock(&G.mu);
}

void st_heur_fallback_values(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, int32_t *v) {
    pthread_mutex_lock(&G.mu);
    (void)load_fallback(); /* on out of memory: the fields' minimum values, adjusted */
    hk_shape s;
    hk_shape_make(&s, rows, cols, k, sg, &G.lim);
    chain_out o = {0};
    from_fallback(kind, &s, (1u << hk_kinds[kind].nfields) - 1, &o);
    pthread_mutex_unlock(&G.mu);
    memcpy(v, o.v, sizeof(int32_t) * (size_t)hk_kinds[kind].nfields);
}

void st_heur_set_tables(const st_heur_table *topk, const st_heur_table *midk) {
    pthread_mutex_lock(&G.mu);
    G.tables[ST_HEUR_TOPK] = topk ? topk : &st_heur_topk_generated;
    G.tables[ST_HEUR_MIDK] = midk ? midk : &st_heur_midk_generated;
    bump();
    pthread_mutex_unlock(&G.mu);
}

void st_heur_set_remote(const st_heur_remote *r) {
    pthread_mutex_lock(&G.mu);
    G.has_remote = r != NULL;
    G.kv_owned = false;
    if (r) G.remote = *r;
    bump();
    pthread_mutex_unlock(&G.mu);
}

/* ---------------------------------------------------------------- sources (spiral info) */

static void first_line(const char *s, char *buf, size_t cap) {
    const char *nl = strchr(s, '\n');
    snprintf(buf, cap, "error: %.*s; skipped", (int)(nl ? (size_t)(nl - s) : strlen(s)), s);
}

static void describe_source(const source *s, const char *label, st_heur_source_info *si) {
    if (s->prog) {
        si->active = true;
        snprintf(si->detail, sizeof si->detail, "%s%s%u statement%s", label ? label : "", label ? ": " : "",
                 s->prog->nstmts, s->prog->nstmts == 1 ? "" : "s");
    } else if (s->err[0]) {
        first_line(s->err, si->detail, sizeof si->detail);
    } else {
        snprintf(si->detail, sizeof si->detail, "%s%s", label ? label : "not set", label ? " (not found)" : "");
    }
}

static void describe_rest(st_heur_source_info *si) {
    si[0] = (st_heur_source_info){ST_HEUR_SRC_REDIS, "redis", false, ""};
    if (G.has_remote && G.remote.describe) {
        si[0].active = true;
        G.remote.describe(G.remote.user, si[0].detail, sizeof si[0].detail);
    } else if (G.redis_url && G.redis_err[0]) {
        snprintf(si[0].detail, sizeof si[0].detail, "error: %.370s", G.redis_err);
    } else if (G.redis_url && !st_kv_built()) {
        snprintf(si[0].detail, sizeof si[0].detail, "REDIS_URL is set but Redis support is not built");
    } else if (G.redis_url) {
        snprintf(si[0].detail, sizeof si[0].detail, "REDIS_URL is set; the slot was replaced");
    } else {
        snprintf(si[0].detail, sizeof si[0].detail, "not configured (REDIS_URL unset)");
    }
    si[1] = (st_heur_source_info){ST_HEUR_SRC_TABLE, "table", false, ""};
    int nt = G.tables[0]->n, nm = G.tables[1]->n;
    bool ok = table_applies(G.tables[0]) && table_applies(G.tables[1]);
    const char *tb = G.tables[0]->n ? G.tables[0]->backend : G.tables[1]->backend;
    si[1].active = ok && (nt > 0 || nm > 0);
    snprintf(si[1].detail, sizeof si[1].detail, "generated: topk %d bucket%s, midk %d bucket%s%s%s%s%s", nt,
             nt == 1 ? "" : "s", nm, nm == 1 ? "" : "s", nt || nm ? "" : " (empty)", tb && tb[0] ? ", tuned on " : "",
             tb && tb[0] ? tb : "", ok ? "" : " (not used: the device backend differs)");
    si[2] = (st_heur_source_info){ST_HEUR_SRC_FALLBACK, "fallback", true, "built-in formulas"};
}

int st_heur_sources(st_heur_source_info *out, int cap) {
    enum { N = 7 };
    st_heur_source_info si[N];
    memset(si, 0, sizeof si);
    pthread_mutex_lock(&G.mu);
    (void)refresh(false);
    for (int i = 0; i < NENV; i++) {
        si[i].source = env_src[i].src;
        snprintf(si[i].name, sizeof si[i].name, "env %s", env_src[i].var);
        describe_source(&G.env[i], NULL, &si[i]);
    }
    si[3].source = ST_HEUR_SRC_FILE;
    snprintf(si[3].name, sizeof si[3].name, "file");
    if (G.file.text) describe_source(&G.file, G.file.text, &si[3]);
    else snprintf(si[3].detail, sizeof si[3].detail, "no path (SPIRAL_HEUR_FILE, ST_HOME and HOME unset)");
    describe_rest(&si[4]);
    pthread_mutex_unlock(&G.mu);
    for (int i = 0; i < N && i < cap && out; i++) out[i] = si[i];
    return N;
}
