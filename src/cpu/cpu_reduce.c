/* cpu_reduce.c — CPU reductions (sum/mean/max/min over a mask of axes), argmax, and
 * softmax/log_softmax.
 *
 * Invariants:
 * - dst is exclusive and keepdim-shaped (x's ndim, 1 in the reduced dims); the op layer
 *   has checked dtypes (mean/softmax: float; sum of integers: i64 dst) and rejected
 *   max/min/argmax over an empty axis (the kernels still refuse it).
 * - A reduction is planned as kept dims x reduced dims (size-1 dims dropped, reduced
 *   dims ordered by falling stride, adjacent dims merged). Then one of:
 *     row mode    each output reduces its reduced elements (innermost stride first);
 *                 outputs run in parallel, or, when there are few, each output's range
 *                 is split over threads with one partial per thread, folded in order;
 *     column mode the innermost kept dim is the fastest in memory: a chunk of outputs is
 *                 accumulated row by row (vectorises across outputs); with fewer chunks
 *                 than threads, each chunk's rows are split over threads instead.
 * - Float sums: f32 lanes of at most RUN elements folded into double lanes (blocked
 *   accumulation), so a 16M-element f32 sum stays within ~1e-7 relative; strided and
 *   column paths accumulate in double. max/min propagate NaN.
 * - Results depend only on the inputs and the thread count (deterministic).
 */
#include "cpu.h"

#include <math.h>

#define TC __attribute__((target_clones("avx512f", "avx2", "default")))
#define LANES 64 /* independent accumulators of the contiguous kernels */
#define RUN 16   /* elements each f32 lane sums before folding into double */
#define COL_CH 256
#define MAX_PARTS 256

/* ---------------------------------------------------------------- row kernels */

static double fold_lanes(double *d, int n) {
    while (n > 1) {
        n /= 2;
        for (int j = 0; j < n; j++) d[j] += d[j + n];
    }
    return d[0];
}

/* Sum of n contiguous elements: T lanes of RUN elements, folded into double lanes. */
#define DEF_SUM_C(NAME, T)                                                          \
    TC static double NAME(const T *p, int64_t n) {                                  \
        double dacc[LANES] = {0};                                                   \
        int64_t i = 0;                                                              \
        for (; i + LANES * RUN <= n; i += LANES * RUN) {                            \
            T acc[LANES] = {0};                                                     \
            for (int r = 0; r < RUN; r++)                                           \
                for (int j = 0; j < LANES; j++) acc[j] += p[i + r * LANES + j];      \
            for (int j = 0; j < LANES; j++) dacc[j] += (double)acc[j];              \
        }                                                                           \
        T acc[LANES] = {0}; /* fewer than RUN more rounds */                        \
        for (; i + LANES <= n; i += LANES)                                          \
            for (int j = 0; j < LANES; j++) acc[j] += p[i + j];                     \
        for (int j = 0; j < LANES; j++) dacc[j] += (double)acc[j];                  \
        for (int j = 0; i < n; i++, j++) dacc[j] += (double)p[i];                   \
        return fold_lanes(dacc, LANES);                                             \
    }
DEF_SUM_C(sum_f32_c, float)
DEF_SUM_C(sum_f64_c, double)

/* Strided float sum, in double with four accumulators. */
#define DEF_SUM_S(NAME, T)                                                          \
    static double NAME(const T *p, int64_t s, int64_t n) {                          \
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                      \
        int64_t i = 0;                                                              \
        for (; i + 4 <= n; i += 4) {                                                \
            a0 += p[i * s];                                                         \
            a1 += p[(i + 1) * s];                                                   \
            a2 += p[(i + 2) * s];                                                   \
            a3 += p[(i + 3) * s];                                                   \
        }                                                                           \
        for (; i < n; i++) a0 += p[i * s];                                          \
        return (a0 + a1) + (a2 + a3);                                               \
    }
DEF_SUM_S(sum_f32_s, float)
DEF_SUM_S(sum_f64_s, double)

/* Integer sums (exact in i64, wrapping like torch on overflow). */
#define DEF_SUM_I(NAME, T)                                                          \
    static int64_t NAME(const T *p, int64_t s, int64_t n) {                         \
        uint64_t acc[8] = {0};                                                      \
        int64_t i = 0;                                                              \
        if (s == 1)                                                                 \
            for (; i + 8 <= n; i += 8)                                              \
                for (int j = 0; j < 8; j++) acc[j] += (uint64_t)(int64_t)p[i + j];  \
        for (; i < n; i++) acc[0] += (uint64_t)(int64_t)p[i * s];                   \
        uint64_t t = 0;                                                             \
        for (int j = 0; j < 8; j++) t += acc[j];                                    \
        return (int64_t)t;                                                          \
    }
DEF_SUM_I(sum_i32, int32_t)
DEF_SUM_I(sum_i64, int64_t)

/* NaN-sticking selection: once a lane holds NaN it keeps it. For integers the NaN test
 * folds away. */
#define PICK_MAX(v, a) (((v) > (a)) | ((v) != (v)) ? (v) : (a))
#define PICK_MIN(v, a) (((v) < (a)) | ((v) != (v)) ? (v) : (a))

/* max/min of n >= 1 elements (contiguous: LANES lanes; else scalar). */
#define DEF_EXT(NAME, T, PICK)                                                      \
    TC static T NAME(const T *p, int64_t s, int64_t n) {                            \
        T m = p[0];                                                                 \
        int64_t i = 1;                                                              \
        if (s == 1 && n >= 2 * LANES) {                                             \
            T acc[LANES];                                                           \
            for (int j = 0; j < LANES; j++) acc[j] = p[j];                          \
            for (i = LANES; i + LANES <= n; i += LANES)                             \
                for (int j = 0; j < LANES; j++) acc[j] = PICK(p[i + j], acc[j]);    \
            for (int j = 0; j < LANES; j++) m = PICK(acc[j], m);                    \
        }                                                                           \
        for (; i < n; i++) m = PICK(p[i * s], m);                                   \
        return m;                                                                   \
    }
DEF_EXT(max_f32, float, PICK_MAX)
DEF_EXT(min_f32, float, PICK_MIN)
DEF_EXT(max_f64, double, PICK_MAX)
DEF_EXT(min_f64, double, PICK_MIN)
DEF_EXT(max_i32, int32_t, PICK_MAX)
DEF_EXT(min_i32, int32_t, PICK_MIN)
DEF_EXT(max_i64, int64_t, PICK_MAX)
DEF_EXT(min_i64, int64_t, PICK_MIN)

/* ---------------------------------------------------------------- partial results */

/* A partial reduction: floats in f (double holds every f32/f64 value and NaN),
 * integers in i. has == 0 means "no element seen yet". */
typedef struct rpart {
    double f;
    int64_t i;
    int has;
} rpart;

static void part_add_f(st_op op, rpart *a, double v) {
    if (op == ST_OP_SUM || op == ST_OP_MEAN) a->f += v;
    else if (!a->has) a->f = v;
    else a->f = op == ST_OP_MAX ? PICK_MAX(v, a->f) : PICK_MIN(v, a->f);
    a->has = 1;
}
static void part_add_i(st_op op, rpart *a, int64_t v) {
    if (op == ST_OP_SUM) a->i = (int64_t)((uint64_t)a->i + (uint64_t)v);
    else if (!a->has) a->i = v;
    else a->i = op == ST_OP_MAX ? PICK_MAX(v, a->i) : PICK_MIN(v, a->i);
    a->has = 1;
}
static void part_merge(st_op op, bool is_float, rpart *a, const rpart *b) {
    if (!b->has) return;
    if (is_float) part_add_f(op, a, b->f);
    else part_add_i(op, a, b->i);
}

/* Reduce one row of n >= 1 elements (stride s) into a. */
static void row_reduce(st_op op, st_dtype dt, const char *p, int64_t s, int64_t n, rpart *a) {
    bool sum = op == ST_OP_SUM || op == ST_OP_MEAN, mx = op == ST_OP_MAX;
    const void *v = p;
    switch (dt) {
    case ST_F32:
        if (sum) part_add_f(op, a, s == 1 ? sum_f32_c(v, n) : sum_f32_s(v, s, n));
        else part_add_f(op, a, mx ? max_f32(v, s, n) : min_f32(v, s, n));
        break;
    case ST_F64:
        if (sum) part_add_f(op, a, s == 1 ? sum_f64_c(v, n) : sum_f64_s(v, s, n));
        else part_add_f(op, a, mx ? max_f64(v, s, n) : min_f64(v, s, n));
        break;
    case ST_I32: part_add_i(op, a, sum ? sum_i32(v, s, n) : mx ? max_i32(v, s, n) : min_i32(v, s, n)); break;
    case ST_I64: part_add_i(op, a, sum ? sum_i64(v, s, n) : mx ? max_i64(v, s, n) : min_i64(v, s, n)); break;
    }
}

/* ---------------------------------------------------------------- plan */

typedef struct red_plan {
    int nk, nr;
    int64_t ks[ST_MAX_DIMS], kx[ST_MAX_DIMS], kd[ST_MAX_DIMS]; /* kept: size, x stride, dst stride */
    int64_t rs[ST_MAX_DIMS], rx[ST_MAX_DIMS];                  /* reduced: size, x stride */
    int64_t n_out, n_red;
    int64_t rin, rstr; /* innermost reduced dim (1, 1 when none) */
} red_plan;

static void plan_init(red_plan *P, const st_kview *dst, const st_kview *x, uint32_t mask) {
    memset(P, 0, sizeof *P);
    P->n_out = P->n_red = 1;
    int order[ST_MAX_DIMS], no = 0;
    int64_t *kstr[2] = {P->kx, P->kd}, *rstr[1] = {P->rx};
    for (int d = 0; d < x->ndim; d++) {
        bool red = (mask >> d) & 1u;
        if (red) P->n_red *= x->shape[d];
        else P->n_out *= x->shape[d];
        if (x->shape[d] == 1) continue;
        if (!red) {
            int64_t s[2] = {x->strides[d], dst->strides[d]};
            P->nk = st_dims_push(P->nk, P->ks, kstr, 2, x->shape[d], s);
            continue;
        }
        int j = no++; /* insertion by falling stride (stable) */
        while (j > 0 && x->strides[order[j - 1]] < x->strides[d]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = d;
    }
    for (int k = 0; k < no; k++)
        P->nr = st_dims_push(P->nr, P->rs, rstr, 1, x->shape[order[k]], &x->strides[order[k]]);
    P->rin = P->nr ? P->rs[P->nr - 1] : 1;
    P->rstr = P->nr ? P->rx[P->nr - 1] : 1;
}

/* x offset of outer reduced row r (all reduced dims but the innermost). */
static int64_t red_row_off(const red_plan *P, int64_t r) {
    int64_t off = 0;
    for (int d = P->nr - 2; d >= 0; d--) {
        off += (r % P->rs[d]) * P->rx[d];
        r /= P->rs[d];
    }
    return off;
}

/* x and dst offsets of output o (kept dims). */
static void out_off(const red_plan *P, int64_t o, int64_t *xo, int64_t *dof) {
    *xo = *dof = 0;
    for (int d = P->nk - 1; d >= 0; d--) {
        int64_t i = o % P->ks[d];
        o /= P->ks[d];
        *xo += i * P->kx[d];
        *dof += i * P->kd[d];
    }
}

/* Reduce the flat reduced indices [lo, hi) of one output (x at xb) into a. */
static void reduce_range(const red_plan *P, st_op op, st_dtype dt, const char *xb, int64_t lo, int64_t hi,
                         rpart *a) {
    int64_t esz = (int64_t)st_dtype_size(dt);
    while (lo < hi) {
        int64_t r = lo / P->rin, c = lo % P->rin;
        int64_t n = P->rin - c < hi - lo ? P->rin - c : hi - lo;
        row_reduce(op, dt, xb + (red_row_off(P, r) + c * P->rstr) * esz, P->rstr, n, a);
        lo += n;
    }
}

/* ---------------------------------------------------------------- writing results */

static void write_part(st_op op, st_dtype ddt, char *dp, const rpart *a, int64_t n_red) {
    double f = a->f;
    if (op == ST_OP_MEAN) f = n_red ? f / (double)n_red : NAN;
    switch (ddt) {
    case ST_F32: *(float *)(void *)dp = (float)f; break;
    case ST_F64: *(double *)(void *)dp = f; break;
    case ST_I32: *(int32_t *)(void *)dp = (int32_t)a->i; break;
    case ST_I64: *(int64_t *)(void *)dp = a->i; break;
    }
}

/* ---------------------------------------------------------------- row mode */

/* One output split over threads: one partial per thread, folded in thread order. */
static void reduce_one_par(const red_plan *P, st_op op, st_dtype dt, const char *xb, rpart *out) {
    int nt = st_cpu_threads();
    if (nt > MAX_PARTS) nt = MAX_PARTS;
    if (P->n_red < ST_CPU_PAR_MIN) nt = 1;
    rpart parts[MAX_PARTS];
    memset(parts, 0, sizeof(rpart) * (size_t)nt);
    int64_t n = P->n_red;
#pragma omp parallel for schedule(static, 1) num_threads(nt) if (nt > 1)
    for (int t = 0; t < nt; t++) {
        /* Split on multiples of 1024 elements so each piece keeps whole lane runs. */
        int64_t blocks = (n + 1023) / 1024;
        int64_t lo = blocks * t / nt * 1024, hi = blocks * (t + 1) / nt * 1024;
        if (hi > n) hi = n;
        if (lo < hi) reduce_range(P, op, dt, xb, lo, hi, &parts[t]);
    }
    bool fl = st_dtype_is_float(dt);
    for (int t = 0; t < nt; t++) part_merge(op, fl, out, &parts[t]);
}

static void reduce_rows(const red_plan *P, st_op op, const st_kview *dst, const st_kview *x) {
    const char *xb = st_cpu_base(x);
    char *db = st_cpu_base(dst);
    int64_t xz = (int64_t)st_dtype_size(x->dtype), dz = (int64_t)st_dtype_size(dst->dtype);
    int nt = st_cpu_threads();
    if (P->n_out < 4 * (int64_t)nt && P->n_red >= ST_CPU_PAR_MIN) {
        for (int64_t o = 0; o < P->n_out; o++) {
            int64_t xo, dof;
            out_off(P, o, &xo, &dof);
            rpart a = {0, 0, 0};
            reduce_one_par(P, op, x->dtype, xb + xo * xz, &a);
            write_part(op, dst->dtype, db + dof * dz, &a, P->n_red);
        }
        return;
    }
#pragma omp parallel for schedule(static) num_threads(nt) if (P->n_out * P->n_red >= ST_CPU_PAR_MIN)
    for (int64_t o = 0; o < P->n_out; o++) {
        int64_t xo, dof;
        out_off(P, o, &xo, &dof);
        rpart a = {0, 0, 0};
        reduce_range(P, op, x->dtype, xb + xo * xz, 0, P->n_red, &a);
        write_part(op, dst->dtype, db + dof * dz, &a, P->n_red);
    }
}

/* ---------------------------------------------------------------- column mode */

/* acc[0..len) (op)= the row p (x stride ks); first: initialise. */
#define DEF_COL(NAME, T, A)                                                                 \
    static void NAME(st_op op, const T *p, int64_t ks, int64_t len, A *acc, bool first) {   \
        if (first) {                                                                        \
            for (int64_t j = 0; j < len; j++)                                               \
                acc[j] = (op == ST_OP_SUM || op == ST_OP_MEAN) ? (A)0 : (A)p[j * ks];       \
            if (op != ST_OP_SUM && op != ST_OP_MEAN) return;                                \
        }                                                                                   \
        if (op == ST_OP_SUM || op == ST_OP_MEAN) {                                          \
            if (ks == 1) for (int64_t j = 0; j < len; j++) acc[j] += (A)p[j];               \
            else for (int64_t j = 0; j < len; j++) acc[j] += (A)p[j * ks];                  \
        } else if (op == ST_OP_MAX) {                                                       \
            if (ks == 1) for (int64_t j = 0; j < len; j++) acc[j] = PICK_MAX((A)p[j], acc[j]); \
            else for (int64_t j = 0; j < len; j++) acc[j] = PICK_MAX((A)p[j * ks], acc[j]);    \
        } else {                                                                            \
            if (ks == 1) for (int64_t j = 0; j < len; j++) acc[j] = PICK_MIN((A)p[j], acc[j]); \
            else for (int64_t j = 0; j < len; j++) acc[j] = PICK_MIN((A)p[j * ks], acc[j]);    \
        }                                                                                   \
    }
DEF_COL(col_f32, float, double)
DEF_COL(col_f64, double, double)
DEF_COL(col_i32, int32_t, int64_t)
DEF_COL(col_i64, int64_t, int64_t)

static void col_row(st_op op, st_dtype dt, const char *p, int64_t ks, int64_t len, double *fa, int64_t *ia,
                    bool first) {
    switch (dt) {
    case ST_F32: col_f32(op, (const float *)(const void *)p, ks, len, fa, first); break;
    case ST_F64: col_f64(op, (const double *)(const void *)p, ks, len, fa, first); break;
    case ST_I32: col_i32(op, (const int32_t *)(const void *)p, ks, len, ia, first); break;
    case ST_I64: col_i64(op, (const int64_t *)(const void *)p, ks, len, ia, first); break;
    }
}

/* Accumulate the reduced rows [r0, r1) of a chunk of len outputs (x offset xo) into
 * fa (floats) or ia (integers); the first row initialises. */
static void col_accum(const red_plan *P, st_op op, const st_kview *x, int64_t xo, int64_t len, int64_t r0,
                      int64_t r1, double *fa, int64_t *ia) {
    int64_t xz = (int64_t)st_dtype_size(x->dtype);
    const char *xb = st_cpu_base(x) + xo * xz;
    int64_t ks = P->kx[P->nk - 1];
    int64_t idx[ST_MAX_DIMS] = {0}, off = 0, rem = r0;
    for (int d = P->nr - 1; d >= 0; d--) { /* odometer start at r0 */
        idx[d] = rem % P->rs[d];
        rem /= P->rs[d];
        off += idx[d] * P->rx[d];
    }
    for (int64_t r = r0; r < r1; r++) {
        col_row(op, x->dtype, xb + off * xz, ks, len, fa, ia, r == r0);
        for (int d = P->nr - 1; d >= 0; d--) {
            off += P->rx[d];
            if (++idx[d] < P->rs[d]) break;
            off -= P->rx[d] * P->rs[d];
            idx[d] = 0;
        }
    }
}

static void col_write(const red_plan *P, st_op op, const st_kview *dst, st_dtype xdt, int64_t dof, int64_t len,
                      const double *fa, const int64_t *ia) {
    int64_t dz = (int64_t)st_dtype_size(dst->dtype), kd = P->kd[P->nk - 1];
    char *db = st_cpu_base(dst) + dof * dz;
    for (int64_t j = 0; j < len; j++) {
        rpart a = {0, 0, 1};
        if (st_dtype_is_float(xdt)) a.f = fa[j];
        else a.i = ia[j];
        write_part(op, dst->dtype, db + j * kd * dz, &a, P->n_red);
    }
}

/* Few output chunks, many reduced rows: each chunk's rows are split over nt threads
 * (scratch: nt partial chunks), folded in thread order. false when out of memory. */
static bool col_split(const red_plan *P, st_op op, const st_kview *dst, const st_kview *x, int64_t xo, int64_t dof,
                      int64_t len, int nt) {
    double *fa = st_malloc(sizeof(double) * COL_CH * (size_t)nt);
    int64_t *ia = st_malloc(sizeof(int64_t) * COL_CH * (size_t)nt);
    if (!fa || !ia) {
        st_free(fa);
        st_free(ia);
        st_clear_error();
        return false;
    }
    int64_t n = P->n_red;
#pragma omp parallel for schedule(static, 1) num_threads(nt)
    for (int t = 0; t < nt; t++)
        col_accum(P, op, x, xo, len, n * t / nt, n * (t + 1) / nt, fa + t * COL_CH, ia + t * COL_CH);
    bool fl = st_dtype_is_float(x->dtype);
    for (int t = 1; t < nt; t++)
        for (int64_t j = 0; j < len; j++) {
            rpart a = {0, 0, 1}, b = {0, 0, 1};
            if (fl) {
                a.f = fa[j];
                b.f = fa[t * COL_CH + j];
            } else {
                a.i = ia[j];
                b.i = ia[t * COL_CH + j];
            }
            part_merge(op, fl, &a, &b);
            fa[j] = a.f;
            ia[j] = a.i;
        }
    col_write(P, op, dst, x->dtype, dof, len, fa, ia);
    st_free(fa);
    st_free(ia);
    return true;
}

/* x and dst offsets and length of column task t (output chunk of at most COL_CH). */
static int64_t col_task_at(const red_plan *P, int64_t t, int64_t *xo, int64_t *dof) {
    int64_t kin = P->ks[P->nk - 1], per = (kin + COL_CH - 1) / COL_CH;
    int64_t o = t / per * kin, c0 = t % per * COL_CH;
    out_off(P, o, xo, dof);
    *xo += c0 * P->kx[P->nk - 1];
    *dof += c0 * P->kd[P->nk - 1];
    return kin - c0 < COL_CH ? kin - c0 : COL_CH;
}

static void reduce_cols(const red_plan *P, st_op op, const st_kview *dst, const st_kview *x) {
    int64_t kin = P->ks[P->nk - 1], tasks = (P->n_out / kin) * ((kin + COL_CH - 1) / COL_CH);
    int nt = st_cpu_threads() < MAX_PARTS ? st_cpu_threads() : MAX_PARTS;
    bool big = P->n_out * P->n_red >= ST_CPU_PAR_MIN;
    if (big && tasks < nt && P->n_red >= 4 * (int64_t)nt) {
        bool ok = true;
        for (int64_t t = 0; t < tasks && ok; t++) {
            int64_t xo, dof, len = col_task_at(P, t, &xo, &dof);
            ok = col_split(P, op, dst, x, xo, dof, len, nt);
        }
        if (ok) return; /* else (out of memory for scratch): the plain loop below */
    }
#pragma omp parallel for schedule(static) num_threads(nt) if (big)
    for (int64_t t = 0; t < tasks; t++) {
        double fa[COL_CH];
        int64_t ia[COL_CH];
        int64_t xo, dof, len = col_task_at(P, t, &xo, &dof);
        col_accum(P, op, x, xo, len, 0, P->n_red, fa, ia);
        col_write(P, op, dst, x->dtype, dof, len, fa, ia);
    }
}

/* ---------------------------------------------------------------- entry */

st_status st_cpu_reduce(int dev, st_op op, const st_kview *dst, const st_kview *x, uint32_t mask) {
    (void)dev;
    if (op != ST_OP_SUM && op != ST_OP_MEAN && op != ST_OP_MAX && op != ST_OP_MIN)
        return st_err(ST_E_INVALID_ARG, "cpu reduce: op %s is not a reduction", st_op_table[op].name);
    red_plan P;
    plan_init(&P, dst, x, mask);
    if (P.n_out == 0) return ST_OK;
    if (P.n_red == 0) {
        if (op == ST_OP_MAX || op == ST_OP_MIN)
            return st_err(ST_E_SHAPE, "%s: cannot reduce over an empty axis", st_op_table[op].name);
        return st_cpu_fill(dev, dst, op == ST_OP_MEAN ? NAN : 0.0);
    }
    bool col = P.nk > 0 && P.ks[P.nk - 1] >= 8 && (P.nr == 0 || P.kx[P.nk - 1] < P.rstr);
    if (col) reduce_cols(&P, op, dst, x);
    else reduce_rows(&P, op, dst, x);
    return ST_OK;
}

/* ---------------------------------------------------------------- lines (argmax, softmax) */

/* Iteration over every line along `dim`: views of x (and dst) with that dim set to 1. */
typedef struct line_iter {
    st_iter it;
    int64_t len, xs, ds; /* line length; x and dst strides along dim */
} line_iter;

static void line_init(line_iter *L, const st_kview *dst, const st_kview *x, int dim) {
    st_kview d1 = *dst, x1 = *x;
    d1.shape[dim] = 1;
    x1.shape[dim] = 1;
    const st_kview *vs[2] = {&d1, &x1};
    st_iter_init(&L->it, 2, vs);
    L->len = x->shape[dim];
    L->xs = x->strides[dim];
    L->ds = dst->strides[dim];
}

/* Offsets of line k. */
static void line_off(const line_iter *L, int64_t k, int64_t *doff, int64_t *xoff) {
    int64_t inner = L->it.inner ? L->it.inner : 1, offs[2];
    st_iter_row(&L->it, k / inner, offs);
    *doff = offs[0] + (k % inner) * L->it.istride[0];
    *xoff = offs[1] + (k % inner) * L->it.istride[1];
}

/* Index of the first maximum; the first NaN wins. */
#define DEF_ARGMAX(NAME, T)                                                         \
    static int64_t NAME(const T *p, int64_t s, int64_t n) {                         \
        T best = p[0];                                                              \
        int64_t bi = 0;                                                             \
        if (best != best) return 0;                                                 \
        for (int64_t i = 1; i < n; i++) {                                           \
            T v = p[i * s];                                                         \
            if (v != v) return i;                                                   \
            if (v > best) {                                                         \
                best = v;                                                           \
                bi = i;                                                             \
            }                                                                       \
        }                                                                           \
        return bi;                                                                  \
    }
DEF_ARGMAX(argmax_f32, float)
DEF_ARGMAX(argmax_f64, double)
DEF_ARGMAX(argmax_i32, int32_t)
DEF_ARGMAX(argmax_i64, int64_t)

st_status st_cpu_argmax(int dev, const st_kview *dst, const st_kview *x, int axis) {
    (void)dev;
    if (axis < 0 || axis >= x->ndim || dst->dtype != ST_I64)
        return st_err(ST_E_INVALID_ARG, "cpu argmax: axis %d / dtype %s invalid", axis, st_dtype_name(dst->dtype));
    line_iter L;
    line_init(&L, dst, x, axis);
    if (L.it.numel == 0) return ST_OK;
    if (L.len == 0) return st_err(ST_E_SHAPE, "argmax: cannot reduce over an empty axis");
    const char *xb = st_cpu_base(x);
    int64_t *db = (int64_t *)(void *)st_cpu_base(dst);
    int64_t xz = (int64_t)st_dtype_size(x->dtype);
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) if (L.it.numel * L.len >= ST_CPU_PAR_MIN)
    for (int64_t k = 0; k < L.it.numel; k++) {
        int64_t doff, xoff;
        line_off(&L, k, &doff, &xoff);
        const void *p = xb + xoff * xz;
        int64_t r = 0;
        switch (x->dtype) {
        case ST_F32: r = argmax_f32(p, L.xs, L.len); break;
        case ST_F64: r = argmax_f64(p, L.xs, L.len); break;
        case ST_I32: r = argmax_i32(p, L.xs, L.len); break;
        case ST_I64: r = argmax_i64(p, L.xs, L.len); break;
        }
        db[doff] = r;
    }
    return ST_OK;
}

/* Softmax / log_softmax of one line: max (NaN-propagating), sum of exp in double, then
 * write. Softmax stores the exps first and scales them in place. */
#define DEF_SOFTMAX(NAME, T, EXP, MAXF)                                               \
    static void NAME(bool lg, T *d, int64_t ds, const T *p, int64_t s, int64_t n) {   \
        T m = MAXF(p, s, n);                                                          \
        double sum = 0;                                                               \
        if (lg) {                                                                     \
            for (int64_t i = 0; i < n; i++) sum += (double)EXP(p[i * s] - m);         \
            T lse = (T)log(sum);                                                      \
            for (int64_t i = 0; i < n; i++) d[i * ds] = (p[i * s] - m) - lse;         \
            return;                                                                   \
        }                                                                             \
        for (int64_t i = 0; i < n; i++) {                                             \
            T e = EXP(p[i * s] - m);                                                  \
            d[i * ds] = e;                                                            \
            sum += (double)e;                                                         \
        }                                                                             \
        T inv = (T)(1.0 / sum);                                                       \
        for (int64_t i = 0; i < n; i++) d[i * ds] *= inv;                             \
    }
DEF_SOFTMAX(softmax_f32, float, expf, max_f32)
DEF_SOFTMAX(softmax_f64, double, exp, max_f64)

st_status st_cpu_softmax(int dev, st_op op, const st_kview *dst, const st_kview *x, int dim) {
    (void)dev;
    if (dim < 0 || dim >= x->ndim || dst->dtype != x->dtype || !st_dtype_is_float(x->dtype))
        return st_err(ST_E_INVALID_ARG, "cpu %s: dim %d / dtype %s invalid", st_op_table[op].name, dim,
                      st_dtype_name(x->dtype));
    line_iter L;
    line_init(&L, dst, x, dim);
    if (L.it.numel == 0 || L.len == 0) return ST_OK;
    bool lg = op == ST_OP_LOG_SOFTMAX;
    char *db = st_cpu_base(dst);
    const char *xb = st_cpu_base(x);
    int64_t z = (int64_t)st_dtype_size(x->dtype);
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) if (L.it.numel * L.len >= ST_CPU_PAR_MIN / 8)
    for (int64_t k = 0; k < L.it.numel; k++) {
        int64_t doff, xoff;
        line_off(&L, k, &doff, &xoff);
        if (x->dtype == ST_F32)
            softmax_f32(lg, (float *)(void *)(db + doff * z), L.ds, (const float *)(const void *)(xb + xoff * z), L.xs,
                        L.len);
        else
            softmax_f64(lg, (double *)(void *)(db + doff * z), L.ds, (const double *)(const void *)(xb + xoff * z),
                        L.xs, L.len);
    }
    return ST_OK;
}
