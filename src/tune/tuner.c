/* tuner.c — `spiral tune` (SPEC §5): measure the candidate space of every heuristic
 * field over a grid of shapes on one device and write tuner.json.
 *
 * Search. The full cross product (TopK: 2*6*5*6*2*2 = 1440 choices per shape) is far
 * too many to time; fields interact weakly, so the search is coordinate-wise: start
 * from the fallback choice (what a plain build picks), sweep one field over its
 * candidates holding the others at the best so far, keep the fastest, and repeat the
 * sweep `passes` times (a second pass catches the pairs that do interact, e.g. u2 with
 * ch). Each distinct choice is timed once per shape (memoised), and every timed choice
 * becomes a sample, so tuner.json holds the fallback, the winner and the ones between.
 *
 * Device-generic: tensors are made on `dev`, the op runs through the backend's rankk
 * entry (st_rankk_with_params) with explicit parameters, and each timed run sits
 * between two st_device_sync calls. Candidates come from one table (cands below) and
 * are pruned with hk_field_valid against the chain's device limits and subgroup flag;
 * a column chunk or tile at least as wide as the row is the whole row, so those
 * duplicates of ch=0 / the widest tile are skipped.
 *
 * Invariants: no sample is recorded for a failed run (the error is returned); the
 * output file is replaced atomically (st_tune_file_write).
 */
#include "tune/tune.h"
#include "kv/kv.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

/* ---------------------------------------------------------------- candidates */
typedef struct cand_list {
    const char *field;
    int n;
    int32_t v[ST_TUNE_MAX_CANDS];
} cand_list;

static const cand_list topk_cands[] = {
    {"u2", 2, {0, 1}},
    {"wg", 6, {32, 64, 128, 256, 512, 1024}},
    {"kl", 5, {4, 8, 16, 32, 64}},
    {"ch", 6, {0, 2048, 4096, 8192, 16384, 32768}},
    {"algo", 3, {0, 1, 2}},
    {"est", 2, {0, 1}},
};
static const cand_list midk_cands[] = {
    {"wg", 6, {32, 64, 128, 256, 512, 1024}},
    {"tile", 6, {512, 1024, 2048, 4096, 8192, 16384}},
    {"u2", 2, {0, 1}},
};

int st_tune_candidates(int kind, int field, int32_t *out) {
    const cand_list *cl = kind == ST_HEUR_MIDK ? midk_cands : topk_cands;
    int n = kind == ST_HEUR_MIDK ? (int)(sizeof midk_cands / sizeof *midk_cands) : (int)(sizeof topk_cands / sizeof *topk_cands);
    const char *name = hk_kinds[kind].fields[field].name;
    for (int i = 0; i < n; i++)
        if (!strcmp(cl[i].field, name)) {
            memcpy(out, cl[i].v, sizeof(int32_t) * (size_t)cl[i].n);
            return cl[i].n;
        }
    return 0; /* a field without candidates keeps its fallback value */
}

/* Candidates of one field for a shape, pruned. */
static int pruned(int kind, int field, int64_t cols, bool sg, const st_heur_limits *lim, int32_t *out) {
    int32_t all[ST_TUNE_MAX_CANDS];
    int n = st_tune_candidates(kind, field, all), m = 0;
    const char *name = hk_kinds[kind].fields[field].name;
    bool widest_tile = false;
    for (int i = 0; i < n; i++) {
        char why[256];
        if (!hk_field_valid(kind, field, all[i], lim, sg, why, sizeof why)) continue;
        if (kind == ST_HEUR_TOPK && !strcmp(name, "ch") && all[i] >= cols) continue; /* = ch 0 */
        if (kind == ST_HEUR_MIDK && !strcmp(name, "tile") && all[i] >= cols) {
            if (widest_tile) continue; /* one tile per row already */
            widest_tile = true;
        }
        out[m++] = all[i];
    }
    return m;
}

/* ---------------------------------------------------------------- grid */
typedef struct shape {
    int kind;
    int64_t rows, cols, k;
} shape;

static int64_t rows_for(int64_t cols, bool quick) {
    int64_t elems = quick ? (int64_t)1 << 16 : (int64_t)1 << 20, r = elems / cols;
    return r < 1 ? 1 : r > 4096 ? 4096 : r;
}

/* The built-in grid: one shape per bucket. TopK: cols 2^8..2^20 (step 4x) x k
 * 1..1024 (step 4x); MidK: cols 2^8..2^18 x k in {8, 64, c/4, c/2}. 64 shapes. */
static int default_grid(shape *g, int cap, bool quick) {
    int n = 0;
    if (quick) {
        static const int64_t q[][3] = {{ST_HEUR_TOPK, 4096, 16}, {ST_HEUR_TOPK, 16384, 256}, {ST_HEUR_TOPK, 1024, 4},
                                       {ST_HEUR_MIDK, 4096, 1024}, {ST_HEUR_MIDK, 16384, 64}};
        for (size_t i = 0; i < sizeof q / sizeof *q && n < cap; i++)
            g[n++] = (shape){(int)q[i][0], rows_for(q[i][1], true), q[i][1], q[i][2]};
        return n;
    }
    for (int64_t c = 256; c <= (1 << 20); c *= 4)
        for (int64_t k = 1; k <= 1024 && k <= c; k *= 4)
            if (n < cap) g[n++] = (shape){ST_HEUR_TOPK, rows_for(c, false), c, k};
    for (int64_t c = 256; c <= (1 << 18); c *= 4) {
        int64_t ks[4] = {8, 64, c / 4, c / 2};
        for (int i = 0; i < 4; i++) {
            bool dup = false;
            for (int j = 0; j < i; j++) dup |= st_heur_ceil_log2(ks[j]) == st_heur_ceil_log2(ks[i]);
            if (!dup && ks[i] <= c && n < cap) g[n++] = (shape){ST_HEUR_MIDK, rows_for(c, false), c, ks[i]};
        }
    }
    return n;
}

/* "topk:RxCxK,midk:RxCxK,..." */
static int parse_grid(const char *text, shape *g, int cap) {
    int n = 0;
    const char *p = text;
    while (*p) {
        int kind;
        if (!strncmp(p, "topk:", 5)) kind = ST_HEUR_TOPK, p += 5;
        else if (!strncmp(p, "midk:", 5)) kind = ST_HEUR_MIDK, p += 5;
        else return st_err(ST_E_INVALID_ARG, "tune: grid entry %d ('%.20s'): expected topk: or midk:", n + 1, p), -1;
        long long r, c, k;
        int used = 0;
        if (sscanf(p, "%lldx%lldx%lld%n", &r, &c, &k, &used) != 3 || used == 0)
            return st_err(ST_E_INVALID_ARG, "tune: grid entry %d: expected ROWSxCOLSxK after the kind", n + 1), -1;
        if (r < 1 || c < 1 || k < 0 || k > c || r > (1 << 24) || c > (1ll << 31) || r * c > (1ll << 30))
            return st_err(ST_E_INVALID_ARG, "tune: grid entry %d: %lldx%lldx%lld is out of range (rows, cols >= 1, "
                                            "0 <= k <= cols, rows*cols <= 2^30)", n + 1, r, c, k), -1;
        if (n == cap) return st_err(ST_E_INVALID_ARG, "tune: more than %d grid entries", cap), -1;
        g[n++] = (shape){kind, r, c, k};
        p += used;
        if (*p == ',') p++;
        else if (*p) return st_err(ST_E_INVALID_ARG, "tune: grid entry %d: unexpected '%c'", n, *p), -1;
    }
    if (!n) return st_err(ST_E_INVALID_ARG, "tune: the grid is empty"), -1;
    return n;
}

/* ---------------------------------------------------------------- measurement */
static double mono_s(void) { return st_mono_ms() / 1e3; }

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct run {
    st_device dev;
    const st_tune_options *o;
    st_tune_file *file;
    st_heur_limits lim;
    bool sg;
    int done, total;
    double t0;
    const shape *cur;
} run;

static st_status time_choice(run *R, st_tensor *x, const shape *sh, const int32_t *v, double *median) {
    st_rankk_params p;
    st_rankk_params_from_values(sh->kind, v, &p);
    st_rankk_kind rk = sh->kind == ST_HEUR_MIDK ? ST_MIDK : ST_TOPK;
    double ts[1000];
    int reps = R->o->reps > 1000 ? 1000 : R->o->reps;
    for (int i = 0; i < R->o->warmup + reps; i++) {
        st_tensor *val = NULL, *idx = NULL;
        st_status s = st_device_sync(R->dev);
        double a = mono_s();
        if (s == ST_OK) s = st_rankk_with_params(x, rk, sh->k, ST_I32, &p, &val, &idx);
        if (s == ST_OK) s = st_device_sync(R->dev);
        double b = mono_s();
        st_release(val);
        st_release(idx);
        if (s != ST_OK) return st_err_prefix("tune: %s %lldx%lldx%lld", hk_kinds[sh->kind].name, (long long)sh->rows,
                                             (long long)sh->cols, (long long)sh->k);
        if (i >= R->o->warmup) ts[i - R->o->warmup] = (b - a) * 1e3;
    }
    qsort(ts, (size_t)reps, sizeof *ts, cmp_d);
    *median = reps % 2 ? ts[reps / 2] : 0.5 * (ts[reps / 2 - 1] + ts[reps / 2]);
    return ST_OK;
}

static void progress(run *R) {
    if (!R->o->progress) return;
    double el = mono_s() - R->t0;
    st_tune_progress pg = {R->done, R->total, el, R->done ? el / R->done * (R->total - R->done) : -1,
                           hk_kinds[R->cur->kind].name, R->cur->rows, R->cur->cols, R->cur->k};
    R->o->progress(&pg, R->o->user);
}

typedef struct memo {
    int n;
    int32_t v[256][ST_HEUR_MAX_FIELDS];
    double t[256];
} memo;

/* Time v (memoised); records a sample the first time. */
static st_status measure(run *R, memo *m, st_tensor *x, const shape *sh, const int32_t *v, double *t) {
    size_t nb = sizeof(int32_t) * (size_t)hk_kinds[sh->kind].nfields;
    for (int i = 0; i < m->n; i++)
        if (!memcmp(m->v[i], v, nb)) return *t = m->t[i], ST_OK;
    st_status s = time_choice(R, x, sh, v, t);
    if (s != ST_OK) return s;
    if (m->n < 256) {
        memcpy(m->v[m->n], v, nb);
        m->t[m->n++] = *t;
    }
    st_tune_sample smp = {sh->rows, sh->cols, sh->k, R->sg, {0}, (1u << hk_kinds[sh->kind].nfields) - 1, *t};
    memcpy(smp.v, v, nb);
    return st_tune_file_add(R->file, sh->kind, &smp);
}

static st_tensor *random_input(st_device dev, int64_t rows, int64_t cols, uint64_t seed) {
    float *h = st_malloc((size_t)(rows * cols) * sizeof(float));
    if (!h) return NULL;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < rows * cols; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        h[i] = (float)((double)(s >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
    }
    int64_t shp[2] = {rows, cols};
    st_tensor *x = st_from_data_on(dev, h, 2, shp, ST_F32);
    st_free(h);
    return x;
}

static st_status tune_shape(run *R, const shape *sh, int si) {
    const hk_kind_info *ki = &hk_kinds[sh->kind];
    st_tensor *x = random_input(R->dev, sh->rows, sh->cols, (uint64_t)si + 1);
    if (!x) return st_err_prefix("tune: input %lldx%lld", (long long)sh->rows, (long long)sh->cols);
    memo *m = st_calloc(1, sizeof *m);
    if (!m) {
        st_release(x);
        return ST_E_OOM;
    }
    R->cur = sh;
    int32_t best[ST_HEUR_MAX_FIELDS] = {0};
    st_heur_fallback_values(sh->kind, sh->rows, sh->cols, sh->k, R->sg, best);
    double tbest;
    st_status s = measure(R, m, x, sh, best, &tbest);
    for (int pass = 0; pass < R->o->passes && s == ST_OK; pass++) {
        for (int f = 0; f < ki->nfields && s == ST_OK; f++) {
            int32_t c[ST_TUNE_MAX_CANDS];
            int n = pruned(sh->kind, f, sh->cols, R->sg, &R->lim, c);
            for (int i = 0; i < n && s == ST_OK; i++) {
                int32_t v[ST_HEUR_MAX_FIELDS];
                memcpy(v, best, sizeof v);
                v[f] = c[i];
                double t;
                s = measure(R, m, x, sh, v, &t);
                if (s == ST_OK && t < tbest) {
                    tbest = t;
                    memcpy(best, v, sizeof best);
                }
                R->done++;
                progress(R);
            }
        }
    }
    if (s == ST_OK) { /* Redis (ST_KV_BROADCAST=1): this shape's winner; a failure is a warning */
        if (st_kv_publish(sh->kind, sh->cols, sh->k, R->sg, best, tbest, R->o->reps, NULL) != ST_OK)
            st_logf(ST_LOG_WARN, "tune: %s", st_last_error());
        st_clear_error();
    }
    st_free(m);
    st_release(x);
    return s;
}

void st_tune_options_init(st_tune_options *o) {
    memset(o, 0, sizeof *o);
    o->reps = 5;
    o->warmup = 1;
    o->passes = 2;
}

#define MAX_GRID 4096

st_status st_tune_run(st_device dev, const st_tune_options *opt, const char *path) {
    if (!opt || !path) return st_err(ST_E_INVALID_ARG, "st_tune_run: options and path are required");
    st_tune_options o = *opt;
    if (o.reps < 1 || o.reps > 1000) return st_err(ST_E_INVALID_ARG, "tune: reps %d is out of range [1, 1000]", o.reps);
    if (o.warmup < 0 || o.warmup > 1000) return st_err(ST_E_INVALID_ARG, "tune: warmup %d is out of range [0, 1000]", o.warmup);
    if (o.passes < 1 || o.passes > 8) return st_err(ST_E_INVALID_ARG, "tune: passes %d is out of range [1, 8]", o.passes);
    shape *g = st_malloc(MAX_GRID * sizeof *g);
    if (!g) return ST_E_OOM;
    int ng = o.grid ? parse_grid(o.grid, g, MAX_GRID) : default_grid(g, MAX_GRID, o.quick);
    if (ng < 0) {
        st_free(g);
        return ST_E_INVALID_ARG;
    }
    st_tune_file file;
    st_tune_file_init(&file);
    st_status s = st_device_get_info(dev, &file.dev);
    if (s != ST_OK) {
        st_free(g);
        return st_err_prefix("tune");
    }
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(file.created, sizeof file.created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    file.reps = o.reps;
    file.warmup = o.warmup;
    st_heur_reload(); /* REDIS_URL / ST_KV_BROADCAST as they are now */
    run R = {dev, &o, &file, {0}, file.dev.subgroup, 0, 0, mono_s(), NULL};
    st_heur_get_limits(&R.lim);
    /* Prune against the tuned device's own limits when it reports them (a GPU backend's
     * identify entry), not the chain's current ones: gen_heuristics_table checks the
     * samples against the limits recorded in tuner.json. */
    if (file.dev.max_workgroup > 0) R.lim.max_workgroup = file.dev.max_workgroup;
    if (file.dev.shared_mem > 0) R.lim.shared_mem = file.dev.shared_mem;
    if (file.dev.subgroup_size > 0) R.lim.subgroup_size = file.dev.subgroup_size;
    for (int i = 0; i < ng; i++) {
        int per = 0;
        for (int f = 0; f < hk_kinds[g[i].kind].nfields; f++) {
            int32_t c[ST_TUNE_MAX_CANDS];
            per += pruned(g[i].kind, f, g[i].cols, R.sg, &R.lim, c);
        }
        R.total += per * o.passes;
    }
    for (int i = 0; i < ng && s == ST_OK; i++) s = tune_shape(&R, &g[i], i);
    if (s == ST_OK) s = st_tune_file_write(path, &file);
    st_tune_file_free(&file);
    st_free(g);
    return s;
}
