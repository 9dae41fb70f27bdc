/* cpu.h — private interface of the CPU backend: kernel entries and the strided
 * iteration helper shared by the kernel files.
 *
 * Threads: OpenMP, with a parallel region only when a kernel has at least
 * ST_CPU_PAR_MIN elements of work (below that, thread start-up costs more than it saves).
 */
#ifndef ST_CPU_H
#define ST_CPU_H

#include "../backend/backend.h"

#define ST_CPU_PAR_MIN (1 << 15)
#define ST_MAX_ITER_OPS 4

int st_cpu_threads(void);

/* Index of the calling thread inside a parallel region (0 outside, or without OpenMP). */
#ifdef _OPENMP
#include <omp.h>
static inline int st_cpu_tid(void) { return omp_get_thread_num(); }
#else
static inline int st_cpu_tid(void) { return 0; }
#endif

/* Typed pointer to the first element of a view. */
static inline char *st_cpu_base(const st_kview *v) {
    return (char *)v->handle + v->offset * (int64_t)st_dtype_size(v->dtype);
}

/* Joint iteration over nops views of one shape. Dims of size 1 are dropped and
 * adjacent dims merged where every operand allows it; the last remaining dim is the
 * inner loop (inner, istride[op]); the others form `outer` rows. */
typedef struct st_iter {
    int nops;
    int ndim; /* outer dims (excluding the inner one) */
    int64_t shape[ST_MAX_DIMS];
    int64_t strides[ST_MAX_ITER_OPS][ST_MAX_DIMS]; /* elements */
    int64_t inner;
    int64_t istride[ST_MAX_ITER_OPS];
    int64_t outer; /* number of rows */
    int64_t numel;
} st_iter;

void st_iter_init(st_iter *it, int nops, const st_kview *const *views);
/* Element offsets (relative to each view's base) of the first element of row `row`. */
void st_iter_row(const st_iter *it, int64_t row, int64_t *offs);

/* Kernel entries (one group per file). */
st_status st_cpu_copy(int dev, const st_kview *dst, const st_kview *src);
st_status st_cpu_fill(int dev, const st_kview *dst, double value);
st_status st_cpu_arange(int dev, const st_kview *dst, double start, double step);
st_status st_cpu_random(int dev, st_op op, const st_kview *dst, uint64_t seed, uint64_t offset);
/* cpu_elementwise.c */
st_status st_cpu_unary(int dev, st_op op, const st_kview *dst, const st_kview *x);
st_status st_cpu_binary(int dev, st_op op, const st_kview *dst, const st_kview *a, const st_kview *b);
st_status st_cpu_where(int dev, const st_kview *dst, const st_kview *cond, const st_kview *a, const st_kview *b);
/* cpu_reduce.c */
st_status st_cpu_reduce(int dev, st_op op, const st_kview *dst, const st_kview *x, uint32_t axes_mask);
st_status st_cpu_argmax(int dev, const st_kview *dst, const st_kview *x, int axis);
st_status st_cpu_softmax(int dev, st_op op, const st_kview *dst, const st_kview *x, int dim);
/* cpu_matmul.c */
st_status st_cpu_matmul(int dev, const st_kview *dst, const st_kview *a, const st_kview *b);
/* cpu_index.c */
st_status st_cpu_index_select(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx);
st_status st_cpu_gather(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx);
st_status st_cpu_scatter(int dev, const st_kview *dst, int dim, const st_kview *idx, const st_kview *src, bool add);

/* cpu_rankk.c */
st_status st_cpu_rankk(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx, const st_kview *x,
                       int64_t k, const st_rankk_params *p);
/* What the last st_cpu_rankk call on this thread ran (for tests and `spiral bench`). */
typedef struct st_cpu_rankk_stats {
    int algo;            /* ST_RANKK_ALGO_* actually used */
    int64_t tasks;       /* parallel tasks scheduled */
    int64_t chunks;      /* column chunks per row in pass 1 */
    int64_t shrinks;     /* candidate-buffer shrinks (filter) */
    int64_t candidates;  /* candidates pushed (filter) */
    int64_t row_passes;  /* passes over row data (radix) */
    int64_t tiles;       /* compaction tiles (MidK) */
    int64_t estimates;   /* rows whose threshold was estimated from a sample (filter) */
    int64_t redone;      /* rows redone without the estimate (it was too high) */
} st_cpu_rankk_stats;
void st_cpu_rankk_last_stats(st_cpu_rankk_stats *out);

#endif
