/* cpu_index.c — CPU kernels of index_select, gather and scatter.
 *
 * Contract (backend.h): the op layer has checked shapes and dtypes, validated every
 * index and allocated dst; dst and x/src share one dtype (these kernels move bits, so
 * only the element size matters, except for scatter-add); index views are i32/i64;
 * every view may be strided. The kernels still bounds-check each index and report
 * ST_E_INDEX instead of touching memory out of range (defence for direct callers).
 *
 * Threads: index_select and gather write each dst element once, so any split works
 * (rows, and chunks of long rows). scatter can collide only among index elements that
 * share every coordinate but `dim`; so a task owns a set of non-dim coordinates and
 * walks dim in index order for them ("later writes win", and a deterministic order of
 * additions, whatever the thread count), while distinct tasks run in parallel. Inside
 * a task the inner loop runs over the slice's innermost dim, in memory order.
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

/* Elements per task of a scatter: whole slice rows when there are enough of them,
 * else rows cut so that every thread gets work (never below 64 elements). */
static int64_t scatter_chunk(const st_iter *it, int64_t nj) {
    int64_t want = 4 * (int64_t)st_cpu_threads();
    if (it->outer >= want || it->numel * nj < ST_CPU_PAR_MIN || it->inner <= 64) return it->inner;
    int64_t parts = (want + it->outer - 1) / it->outer;
    int64_t c = (it->inner + parts - 1) / parts;
    return c < 64 ? 64 : c;
}

st_status st_cpu_scatter(int dev, const st_kview *dst, int dim, const st_kview *idx, const st_kview *src, bool add) {
    (void)dev;
    /* Geometry of one slice across dim (shape[dim] = 1), shared by index, src and dst:
     * a task owns some non-dim coordinates and walks j = 0..n-1 along dim for them. */
    st_kview si = *idx, ss = *src, sd = *dst;
    for (int d = 0; d < si.ndim; d++) ss.shape[d] = sd.shape[d] = si.shape[d];
    si.shape[dim] = ss.shape[dim] = sd.shape[dim] = 1;
    const st_kview *views[3] = {&si, &ss, &sd};
    st_iter it;
    st_iter_init(&it, 3, views);
    int64_t nj = idx->shape[dim];
    if (it.numel == 0 || nj == 0) return ST_OK;
    scatter_row base = {
        .db = st_cpu_base(dst),
        .sb = st_cpu_base(src),
        .ib = st_cpu_base(idx),
        .i64 = idx->dtype == ST_I64,
        .bound = dst->shape[dim],
        .dd = dst->strides[dim],
        .is = it.istride[0],
        .ss = it.istride[1],
        .dsr = it.istride[2],
    };
    if (it.numel == 1) { /* one line along dim: a single run over j */
        base.n = nj;
        base.is = idx->strides[dim];
        base.ss = src->strides[dim];
        base.dsr = 0;
        return scatter_row_run(&base, dst->dtype, add) ? bad_index("scatter", dst->shape[dim]) : ST_OK;
    }
    int64_t chunk = scatter_chunk(&it, nj);
    int64_t per_row = (it.inner + chunk - 1) / chunk, tasks = it.outer * per_row;
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) reduction(| : bad) \
    if (it.numel * nj >= ST_CPU_PAR_MIN && tasks > 1)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t offs[3], c0 = (t % per_row) * chunk;
        st_iter_row(&it, t / per_row, offs);
        scatter_row r = base;
        r.n = it.inner - c0 < chunk ? it.inner - c0 : chunk;
        for (int64_t j = 0; j < nj; j++) {
            r.ioff = offs[0] + c0 * it.istride[0] + j * idx->strides[dim];
            r.soff = offs[1] + c0 * it.istride[1] + j * src->strides[dim];
            r.doff = offs[2] + c0 * it.istride[2];
            bad |= scatter_row_run(&r, dst->dtype, add);
        }
    }
    return bad ? bad_index("scatter", dst->shape[dim]) : ST_OK;
}
