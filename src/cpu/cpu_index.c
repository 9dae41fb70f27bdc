/* cpu_index.c — CPU kernels of index_select, gather and scatter.
 *
 * Contract (backend.h): the op layer has checked shapes and dtypes, validated every
 * index and allocated dst; dst and x/src share one dtype (these kernels move bits, so
 * only the element size matters, except for scatter-add); index views are i32/i64;
 * every view may be strided. The kernels still bounds-check each index and report
 * ST_E_INDEX instead of touching memory out of range (defence for direct callers).
 *
 * Threads: index_select and gather write each dst element once, so any split works
 * (rows, and chunks of long rows). scatter iterates with `dim` moved innermost: a row
 * then holds whole lines along dim, the only elements that can collide, and is
 * processed in index order by one thread ("later writes win", and a deterministic
 * order of additions); distinct rows run in parallel.
 */
#include "cpu.h"

/* Index value at element offset `off` of an i32/i64 array. */
static inline int64_t idx_load(const char *base, bool i64, int64_t off) {
    return i64 ? ((const int64_t *)(const void *)base)[off] : ((const int32_t *)(const void *)base)[off];
}

/* Copy n elements of size esz (4 or 8) between strided runs. */
static void move_run(char *d, int64_t ds, const char *s, int64_t ss, int64_t n, size_t esz) {
    if (ds == 1 && ss == 1) {
        memcpy(d, s, (size_t)n * esz);
    } else if (esz == 4) {
        uint32_t *dp = (uint32_t *)(void *)d;
        const uint32_t *sp = (const uint32_t *)(const void *)s;
        for (int64_t i = 0; i < n; i++) dp[i * ds] = sp[i * ss];
    } else {
        uint64_t *dp = (uint64_t *)(void *)d;
        const uint64_t *sp = (const uint64_t *)(const void *)s;
        for (int64_t i = 0; i < n; i++) dp[i * ds] = sp[i * ss];
    }
}

static st_status bad_index(const char *op, int64_t bound) {
    return st_err(ST_E_INDEX, "cpu %s: an index is out of range [0, %lld)", op, (long long)bound);
}

/* ---------------------------------------------------------------- index_select */

st_status st_cpu_index_select(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx) {
    (void)dev;
    /* One slice (dim removed) has the same geometry for every index: iterate it once. */
    st_kview ds = *dst, xs = *x;
    ds.shape[dim] = 1;
    xs.shape[dim] = 1;
    const st_kview *vs[2] = {&ds, &xs};
    st_iter it;
    st_iter_init(&it, 2, vs);
    int64_t n = idx->shape[0], bound = x->shape[dim];
    if (it.numel == 0 || n == 0) return ST_OK;
    size_t esz = st_dtype_size(dst->dtype);
    char *db = st_cpu_base(dst);
    const char *xb = st_cpu_base(x), *ib = st_cpu_base(idx);
    bool i64 = idx->dtype == ST_I64;
    int64_t chunk = it.inner > ST_CPU_PAR_MIN ? ST_CPU_PAR_MIN : it.inner;
    int64_t per_row = (it.inner + chunk - 1) / chunk;
    int64_t per_idx = it.outer * per_row;
    int64_t tasks = n * per_idx;
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) reduction(| : bad) \
    if (n * it.numel >= ST_CPU_PAR_MIN)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t j = t / per_idx, r = t % per_idx;
        int64_t row = r / per_row, c0 = (r % per_row) * chunk;
        int64_t v = idx_load(ib, i64, j * idx->strides[0]);
        if (v < 0 || v >= bound) {
            bad = 1;
            continue;
        }
        int64_t len = it.inner - c0 < chunk ? it.inner - c0 : chunk;
        int64_t offs[2];
        st_iter_row(&it, row, offs);
        int64_t doff = j * dst->strides[dim] + offs[0] + c0 * it.istride[0];
        int64_t xoff = v * x->strides[dim] + offs[1] + c0 * it.istride[1];
        move_run(db + doff * (int64_t)esz, it.istride[0], xb + xoff * (int64_t)esz, it.istride[1], len, esz);
    }
    return bad ? bad_index("index_select", bound) : ST_OK;
}

/* ---------------------------------------------------------------- gather */

#define GATHER_RUN(T)                                                              \
    do {                                                                           \
        T *d_ = (T *)(void *)(db + doff * (int64_t)sizeof(T));                     \
        const T *x_ = (const T *)(const void *)(xb + xoff * (int64_t)sizeof(T));   \
        for (int64_t i = 0; i < len; i++) {                                        \
            int64_t v = idx_load(ib, i64, ioff + i * is);                          \
            if (v < 0 || v >= bound) {                                             \
                bad = 1;                                                           \
                continue;                                                          \
            }                                                                      \
            d_[i * ds] = x_[i * xs + v * xd];                                      \
        }                                                                          \
    } while (0)

st_status st_cpu_gather(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx) {
    (void)dev;
    /* x seen with dst's shape and stride 0 along dim; the index adds v * stride[dim]. */
    st_kview xz = *x;
    for (int d = 0; d < xz.ndim; d++) xz.shape[d] = dst->shape[d];
    xz.strides[dim] = 0;
    const st_kview *vs[3] = {dst, idx, &xz};
    st_iter it;
    st_iter_init(&it, 3, vs);
    if (it.numel == 0) return ST_OK;
    size_t esz = st_dtype_size(dst->dtype);
    char *db = st_cpu_base(dst);
    const char *xb = st_cpu_base(x), *ib = st_cpu_base(idx);
    bool i64 = idx->dtype == ST_I64;
    int64_t bound = x->shape[dim], xd = x->strides[dim];
    int64_t ds = it.istride[0], is = it.istride[1], xs = it.istride[2];
    int64_t chunk = it.inner > ST_CPU_PAR_MIN ? ST_CPU_PAR_MIN : it.inner;
    int64_t per_row = (it.inner + chunk - 1) / chunk;
    int64_t tasks = it.outer * per_row;
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) reduction(| : bad) \
    if (it.numel >= ST_CPU_PAR_MIN)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t row = t / per_row, c0 = (t % per_row) * chunk;
        int64_t len = it.inner - c0 < chunk ? it.inner - c0 : chunk;
        int64_t offs[3];
        st_iter_row(&it, row, offs);
        int64_t doff = offs[0] + c0 * ds, ioff = offs[1] + c0 * is, xoff = offs[2] + c0 * xs;
        if (esz == 4)
            GATHER_RUN(uint32_t);
        else
            GATHER_RUN(uint64_t);
    }
    return bad ? bad_index("gather", bound) : ST_OK;
}

/* ---------------------------------------------------------------- scatter */

/* One row of the scatter: element i goes to dst + (doff + i*dsr + v*dd). */
#define SCATTER_RUN(T, OP)                                                         \
    do {                                                                           \
        T *d_ = (T *)(void *)db;                                                   \
        const T *s_ = (const T *)(const void *)sb;                                 \
        for (int64_t i = 0; i < n; i++) {                                          \
            int64_t v = idx_load(ib, i64, ioff + i * is);                          \
            if (v < 0 || v >= bound) {                                             \
                bad = 1;                                                           \
                continue;                                                          \
            }                                                                      \
            d_[doff + i * dsr + v * dd] OP s_[soff + i * ss];                      \
        }                                                                          \
    } while (0)

typedef struct scatter_row {
    char *db;
    const char *sb, *ib;
    bool i64;
    int64_t bound, dd;            /* dst size and stride along dim */
    int64_t n, is, ss, dsr;       /* row length, index/src/dst strides in the row */
    int64_t ioff, soff, doff;     /* row start offsets */
} scatter_row;

static int scatter_row_run(const scatter_row *r, st_dtype dt, bool add) {
    char *db = r->db;
    const char *sb = r->sb, *ib = r->ib;
    bool i64 = r->i64;
    int64_t bound = r->bound, dd = r->dd, n = r->n, is = r->is, ss = r->ss, dsr = r->dsr;
    int64_t ioff = r->ioff, soff = r->soff, doff = r->doff;
    int bad = 0;
    if (!add) {
        if (st_dtype_size(dt) == 4)
            SCATTER_RUN(uint32_t, =);
        else
            SCATTER_RUN(uint64_t, =);
        return bad;
    }
    switch (dt) {
    case ST_F32: SCATTER_RUN(float, +=); break;
    case ST_F64: SCATTER_RUN(double, +=); break;
    case ST_I32: SCATTER_RUN(int32_t, +=); break;
    case ST_I64: SCATTER_RUN(int64_t, +=); break;
    }
    return bad;
}

/* v with dim moved to the last position. */
static st_kview dim_last(const st_kview *v, int dim) {
    st_kview r = *v;
    int k = 0;
    for (int d = 0; d < v->ndim; d++) {
        if (d == dim) continue;
        r.shape[k] = v->shape[d];
        r.strides[k] = v->strides[d];
        k++;
    }
    r.shape[k] = v->shape[dim];
    r.strides[k] = v->strides[dim];
    return r;
}

st_status st_cpu_scatter(int dev, const st_kview *dst, int dim, const st_kview *idx, const st_kview *src, bool add) {
    (void)dev;
    /* dst seen with the index's shape and stride 0 along dim; src cut to that shape. */
    st_kview dz = *dst, sc = *src;
    for (int d = 0; d < dz.ndim; d++) dz.shape[d] = sc.shape[d] = idx->shape[d];
    dz.strides[dim] = 0;
    st_kview vi = dim_last(idx, dim), vs = dim_last(&sc, dim), vd = dim_last(&dz, dim);
    const st_kview *views[3] = {&vi, &vs, &vd};
    st_iter it;
    st_iter_init(&it, 3, views);
    if (it.numel == 0) return ST_OK;
    scatter_row base = {
        .db = st_cpu_base(dst),
        .sb = st_cpu_base(src),
        .ib = st_cpu_base(idx),
        .i64 = idx->dtype == ST_I64,
        .bound = dst->shape[dim],
        .dd = dst->strides[dim],
        .n = it.inner,
        .is = it.istride[0],
        .ss = it.istride[1],
        .dsr = it.istride[2],
    };
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) reduction(| : bad) \
    if (it.numel >= ST_CPU_PAR_MIN && it.outer > 1)
    for (int64_t row = 0; row < it.outer; row++) {
        scatter_row r = base;
        int64_t offs[3];
        st_iter_row(&it, row, offs);
        r.ioff = offs[0];
        r.soff = offs[1];
        r.doff = offs[2];
        bad |= scatter_row_run(&r, dst->dtype, add);
    }
    return bad ? bad_index("scatter", dst->shape[dim]) : ST_OK;
}
