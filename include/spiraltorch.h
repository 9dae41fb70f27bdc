/*
 * spiraltorch.h — the whole public API of libspiraltorch.
 *
 * A tour
 * ------
 * - Tensors are opaque, reference-counted handles (st_tensor). Every function that
 *   returns an st_tensor* returns a NEW reference that the caller owns and must give
 *   back with st_release(); tensor arguments are BORROWED (the callee retains what it
 *   keeps). On failure a constructor returns NULL and st_last_error() says why.
 * - Actions return st_status (ST_OK == 0). The message of the last failure on this
 *   thread is st_last_error(); st_last_status() is its code.
 * - Views (reshape of contiguous data, permute, transpose, slice, expand) share storage
 *   with their base tensor.
 * - Ops are eager and follow NumPy broadcasting. dtypes: f32, f64, i32, i64. Mixed
 *   dtypes promote along i32 < i64 < f32 < f64.
 * - Devices: `cpu` always; `vulkan` (alias `wgpu`), `cuda`, `hip` when compiled in.
 *   `auto` walks ST_DEVICE_AUTO_PRIORITIES (default "wgpu,cpu").
 * - All memory goes through one allocator hook (st_set_allocator) so that tests can
 *   fail the N-th allocation; st_alloc_stats() reports live allocations.
 *
 * A 20-line example
 * -----------------
 *     #include <spiraltorch.h>
 *     #include <stdio.h>
 *     int main(void) {
 *         int64_t shape[2] = {2, 3};
 *         st_manual_seed(42);
 *         st_tensor *a = st_randn(2, shape, ST_F32);
 *         st_tensor *b = st_ones(2, shape, ST_F32);
 *         st_tensor *c = st_add(a, b);              // broadcasting, eager
 *         st_tensor *s = st_sum(c, NULL, 0, false); // sum over all axes
 *         if (!s) { fprintf(stderr, "%s\n", st_last_error()); return 1; }
 *         double v;
 *         st_item(s, &v);
 *         printf("sum = %g\n", v);
 *         st_release(s); st_release(c); st_release(b); st_release(a);
 *         return 0;
 *     }
 */
#ifndef SPIRALTORCH_H
#define SPIRALTORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ST_API __declspec(dllexport)
#else
#define ST_API __attribute__((visibility("default")))
#endif

#define ST_VERSION_MAJOR 0
#define ST_VERSION_MINOR 1
#define ST_VERSION_PATCH 0
ST_API const char *st_version(void);

/* ------------------------------------------------------------------ status */

/* X-macro: code, name, message. The enum and st_status_str() come from this list. */
#define ST_STATUS_LIST(X)                                                  \
    X(ST_OK, 0, "ok")                                                      \
    X(ST_E_INVALID_ARG, 1, "invalid argument")                             \
    X(ST_E_SHAPE, 2, "shape mismatch")                                     \
    X(ST_E_DTYPE, 3, "unsupported or mismatched dtype")                    \
    X(ST_E_OOM, 4, "out of memory")                                        \
    X(ST_E_IO, 5, "i/o error")                                             \
    X(ST_E_FORMAT, 6, "malformed input")                                   \
    X(ST_E_UNSUPPORTED, 7, "unsupported")                                  \
    X(ST_E_DEVICE, 8, "device error")                                      \
    X(ST_E_INDEX, 9, "index out of range")                                 \
    X(ST_E_NOT_FOUND, 10, "not found")                                     \
    X(ST_E_STATE, 11, "invalid state")                                     \
    X(ST_E_INTERNAL, 12, "internal error")

typedef enum st_status {
#define ST_X_ENUM(code, val, msg) code = val,
    ST_STATUS_LIST(ST_X_ENUM)
#undef ST_X_ENUM
} st_status;

/* Static description of a status code ("out of memory"). Never NULL. */
ST_API const char *st_status_str(st_status s);
/* Message of the last failure on the calling thread ("" when none). The pointer stays
 * valid until the next failing call on this thread. */
ST_API const char *st_last_error(void);
ST_API st_status st_last_status(void);
ST_API void st_clear_error(void);

/* ------------------------------------------------------------------ memory */

/* Allocator hook. alloc must return memory aligned to `align` (a power of two >= 16)
 * or NULL. Every allocation of the library, tensor data included, goes through it. */
typedef struct st_allocator {
    void *(*alloc)(size_t size, size_t align, void *user);
    void (*free)(void *ptr, size_t size, void *user);
    void *user;
} st_allocator;

/* Install `a` (copied), or the default allocator when NULL. Only valid while no
 * library object is alive (returns ST_E_STATE otherwise). */
ST_API st_status st_set_allocator(const st_allocator *a);

typedef struct st_alloc_stats {
    int64_t live_allocs; /* allocations not yet freed */
    int64_t live_bytes;
    int64_t total_allocs; /* since start */
    int64_t peak_bytes;
} st_alloc_stats;
ST_API void st_get_alloc_stats(st_alloc_stats *out);

/* ------------------------------------------------------------------ logging */

typedef enum st_log_level { ST_LOG_DEBUG = 0, ST_LOG_INFO = 1, ST_LOG_WARN = 2, ST_LOG_ERROR = 3, ST_LOG_OFF = 4 } st_log_level;
typedef void (*st_log_fn)(st_log_level level, const char *msg, void *user);
/* NULL restores the default sink (stderr, "spiraltorch: <level>: <msg>"). */
ST_API void st_set_log_callback(st_log_fn fn, void *user);
/* Messages below `level` are dropped. Default: ST_LOG_WARN, or ST_LOG's value
 * (debug|info|warn|error|off). */
ST_API void st_set_log_level(st_log_level level);
ST_API st_log_level st_get_log_level(void);

/* ------------------------------------------------------------------ dtypes */

typedef enum st_dtype { ST_F32 = 0, ST_F64 = 1, ST_I32 = 2, ST_I64 = 3 } st_dtype;
#define ST_NUM_DTYPES 4
ST_API size_t st_dtype_size(st_dtype dt);
ST_API const char *st_dtype_name(st_dtype dt); /* "f32", "f64", "i32", "i64" */
ST_API bool st_dtype_is_float(st_dtype dt);

/* ------------------------------------------------------------------ devices */

typedef enum st_backend_kind { ST_BACKEND_CPU = 0, ST_BACKEND_VULKAN = 1, ST_BACKEND_CUDA = 2, ST_BACKEND_HIP = 3 } st_backend_kind;
#define ST_NUM_BACKENDS 4

typedef struct st_device {
    st_backend_kind kind;
    int index;
} st_device;

/* Parse "cpu", "vulkan", "wgpu", "cuda", "hip", optionally ":N", or "auto".
 * "auto" resolves through ST_DEVICE_AUTO_PRIORITIES. Unknown names are ST_E_INVALID_ARG
 * with a message that lists the valid ones. */
ST_API st_status st_device_parse(const char *name, st_device *out);
/* The device `auto` picks right now (see st_device_auto_report for why). */
ST_API st_status st_device_auto(st_device *out);
/* Human-readable account of the auto selection: one line per priority entry.
 * Writes at most cap bytes (NUL-terminated); returns the length it needed. */
ST_API size_t st_device_auto_report(char *buf, size_t cap);
ST_API const char *st_backend_name(st_backend_kind kind);
/* Whether the backend is compiled in. */
ST_API bool st_backend_compiled(st_backend_kind kind);
/* Number of usable devices of that backend (0 when absent or compiled out). If
 * why/cap are given, a reason is written when it is 0. */
ST_API int st_backend_device_count(st_backend_kind kind, char *why, size_t cap);
/* Description of a device ("cpu: 2 threads, AMD EPYC"). */
ST_API st_status st_device_describe(st_device dev, char *buf, size_t cap);
/* Device on which creation functions place new tensors (default: cpu). */
ST_API st_status st_set_default_device(st_device dev);
ST_API st_device st_get_default_device(void);
/* Wait for all queued work on the device. */
ST_API st_status st_device_sync(st_device dev);
/* Device-side timing, like a pair of CUDA events: start records a timestamp into the
 * device's queue; stop records a second one, waits for the device and sets *ms to the
 * device time between the two (Vulkan: GPU timestamps, so host submit and wait costs are
 * not counted). Where the device has no timestamps (and on the CPU) both sync and the
 * host clock is used. One timer per device and thread; stop without start is
 * ST_E_INVALID_ARG. */
ST_API st_status st_device_timer_start(st_device dev);
ST_API st_status st_device_timer_stop(st_device dev, double *ms);
/* Whether tensors of dtype dt can live on dev (Vulkan: f32, i32, i64; CPU: all). */
ST_API bool st_device_supports_dtype(st_device dev, st_dtype dt);

/* Identity of a device, as recorded by the tuner (tuner.json "device", SPEC §5):
 * strings are "" when the backend cannot tell; the limits are those the heuristics
 * validate against (st_heur_get_limits) unless the backend reports its own. */
typedef struct st_device_info {
    char backend[16]; /* "cpu", "vulkan", ... */
    char name[256];   /* "AMD EPYC 7B13", "NVIDIA H100 80GB HBM3" */
    char vendor[128];
    char driver[128];
    int32_t subgroup_size; /* 0: no subgroups */
    int32_t max_workgroup;
    int64_t shared_mem;
    bool subgroup; /* rank-K on this device asks the heuristics for subgroup kernels (sg) */
} st_device_info;
ST_API st_status st_device_get_info(st_device dev, st_device_info *out);

/* Worker threads of the CPU backend (default: number of cores, or ST_NUM_THREADS). */
ST_API void st_set_num_threads(int n);
ST_API int st_get_num_threads(void);

/* ------------------------------------------------------------------ RNG */

/* Counter-based generator (Philox4x32-10): (seed, offset) fully determines the stream,
 * on every backend. The global generator is used where an st_rng* argument is NULL. */
typedef struct st_rng st_rng;
ST_API st_rng *st_rng_new(uint64_t seed);
ST_API void st_rng_free(st_rng *rng);
ST_API void st_rng_seed(st_rng *rng, uint64_t seed); /* NULL: the global one */
ST_API void st_manual_seed(uint64_t seed);          /* same as st_rng_seed(NULL, seed) */
ST_API uint64_t st_rng_next_u64(st_rng *rng);       /* NULL: the global one */

/* ------------------------------------------------------------------ tensors */

#define ST_MAX_DIMS 8
typedef struct st_tensor st_tensor;

ST_API st_tensor *st_retain(st_tensor *t); /* returns t; NULL-safe */
ST_API void st_release(st_tensor *t);      /* NULL-safe */

/* Creation on the default device. shape may be NULL when ndim == 0 (a scalar). */
ST_API st_tensor *st_empty(int ndim, const int64_t *shape, st_dtype dt);
ST_API st_tensor *st_zeros(int ndim, const int64_t *shape, st_dtype dt);
ST_API st_tensor *st_ones(int ndim, const int64_t *shape, st_dtype dt);
ST_API st_tensor *st_full(int ndim, const int64_t *shape, st_dtype dt, double value);
ST_API st_tensor *st_scalar(double value, st_dtype dt);
/* 1-D [start, start+step, ...) below end (above, for a negative step). */
ST_API st_tensor *st_arange(double start, double end, double step, st_dtype dt);
/* Uniform [0,1) and standard normal, float dtypes only; rng NULL = global. */
ST_API st_tensor *st_rand(int ndim, const int64_t *shape, st_dtype dt);
ST_API st_tensor *st_randn(int ndim, const int64_t *shape, st_dtype dt);
ST_API st_tensor *st_rand_gen(st_rng *rng, int ndim, const int64_t *shape, st_dtype dt);
ST_API st_tensor *st_randn_gen(st_rng *rng, int ndim, const int64_t *shape, st_dtype dt);
/* Copy of host data (contiguous, row-major) into a new tensor. */
ST_API st_tensor *st_from_data(const void *data, int ndim, const int64_t *shape, st_dtype dt);
/* Same, on an explicit device. */
ST_API st_tensor *st_empty_on(st_device dev, int ndim, const int64_t *shape, st_dtype dt);
ST_API st_tensor *st_from_data_on(st_device dev, const void *data, int ndim, const int64_t *shape, st_dtype dt);

/* In-place fill (values converted to the dtype). */
ST_API st_status st_fill_(st_tensor *t, double value);

/* Inspection. Pointers returned stay valid while t lives. */
ST_API int st_ndim(const st_tensor *t);
ST_API const int64_t *st_shape(const st_tensor *t);
ST_API const int64_t *st_strides(const st_tensor *t); /* in elements */
ST_API int64_t st_numel(const st_tensor *t);
ST_API st_dtype st_get_dtype(const st_tensor *t);
ST_API st_device st_get_device(const st_tensor *t);
ST_API bool st_is_contiguous(const st_tensor *t);
/* Human-readable summary, e.g. "f32[2,3] cpu". */
ST_API st_status st_describe(const st_tensor *t, char *buf, size_t cap);

/* Copy all elements to host memory as row-major `dt` (converted). cap in bytes. */
ST_API st_status st_to_host(const st_tensor *t, st_dtype dt, void *dst, size_t cap);
/* Value of a one-element tensor. */
ST_API st_status st_item(const st_tensor *t, double *out);
/* Pointer to the data of a CPU tensor (NULL on another device); honours the offset. */
ST_API void *st_data_ptr(st_tensor *t);
/* Contiguous copy or the same tensor (retained) if already contiguous. */
ST_API st_tensor *st_contiguous(st_tensor *t);
ST_API st_tensor *st_clone(st_tensor *t);
ST_API st_tensor *st_to_dtype(st_tensor *t, st_dtype dt);
ST_API st_tensor *st_to_device(st_tensor *t, st_device dev);

/* ------------------------------------------------------------------ views */

/* One entry of the shape may be -1 (inferred). A view when strides allow, else a copy. */
ST_API st_tensor *st_reshape(st_tensor *t, int ndim, const int64_t *shape);
ST_API st_tensor *st_permute(st_tensor *t, const int *dims);
ST_API st_tensor *st_transpose(st_tensor *t, int d0, int d1);
/* Elements start, start+step, ... below end along dim; negative start/end count from
 * the end and are clamped like Python slices; step >= 1. */
ST_API st_tensor *st_slice(st_tensor *t, int dim, int64_t start, int64_t end, int64_t step);
/* Broadcast to `shape` (size-1 dims repeat with stride 0; -1 keeps a dim). */
ST_API st_tensor *st_expand(st_tensor *t, int ndim, const int64_t *shape);
ST_API st_tensor *st_squeeze(st_tensor *t, int dim);
ST_API st_tensor *st_unsqueeze(st_tensor *t, int dim);

/* ------------------------------------------------------------------ ops */

/* Elementwise binary ops with NumPy broadcasting. Comparisons return 0/1 in the
 * promoted dtype. */
ST_API st_tensor *st_add(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_sub(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_mul(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_div(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_pow(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_maximum(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_minimum(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_eq(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_ne(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_lt(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_le(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_gt(st_tensor *a, st_tensor *b);
ST_API st_tensor *st_ge(st_tensor *a, st_tensor *b);
/* Scalar forms: t op s, with s converted to t's dtype. */
ST_API st_tensor *st_add_scalar(st_tensor *a, double s);
ST_API st_tensor *st_mul_scalar(st_tensor *a, double s);
ST_API st_tensor *st_pow_scalar(st_tensor *a, double s);
/* where(cond != 0, a, b), broadcasting all three. */
ST_API st_tensor *st_where(st_tensor *cond, st_tensor *a, st_tensor *b);

/* Elementwise unary ops. exp/log/sqrt/tanh/sigmoid/gelu need a float dtype. gelu is
 * the exact (erf) form. */
ST_API st_tensor *st_neg(st_tensor *x);
ST_API st_tensor *st_exp(st_tensor *x);
ST_API st_tensor *st_log(st_tensor *x);
ST_API st_tensor *st_sqrt(st_tensor *x);
ST_API st_tensor *st_abs(st_tensor *x);
ST_API st_tensor *st_relu(st_tensor *x);
ST_API st_tensor *st_gelu(st_tensor *x);
ST_API st_tensor *st_tanh(st_tensor *x);
ST_API st_tensor *st_sigmoid(st_tensor *x);

/* Reductions over the listed axes (negative counts from the end); axes == NULL or
 * naxes == 0 reduces over all axes. sum of an integer tensor is i64; mean needs a float
 * dtype; max/min keep the dtype (NaN propagates); argmax returns i64 (first maximum,
 * NaN counts as the maximum) over exactly one axis. */
ST_API st_tensor *st_sum(st_tensor *x, const int *axes, int naxes, bool keepdim);
ST_API st_tensor *st_mean(st_tensor *x, const int *axes, int naxes, bool keepdim);
ST_API st_tensor *st_max(st_tensor *x, const int *axes, int naxes, bool keepdim);
ST_API st_tensor *st_min(st_tensor *x, const int *axes, int naxes, bool keepdim);
ST_API st_tensor *st_argmax(st_tensor *x, int axis, bool keepdim);

/* Matrix product: 1-D and 2-D like numpy.matmul; N-D batches broadcast. Float dtypes. */
ST_API st_tensor *st_matmul(st_tensor *a, st_tensor *b);

/* Along `dim`. */
ST_API st_tensor *st_softmax(st_tensor *x, int dim);
ST_API st_tensor *st_log_softmax(st_tensor *x, int dim);
/* Mean cross-entropy of logits [N, C] against integer targets [N] (i32/i64). */
ST_API st_tensor *st_cross_entropy(st_tensor *logits, st_tensor *targets);

/* Joining and indexing. index tensors are i32 or i64; out-of-range indices are
 * ST_E_INDEX (negative indices are not wrapped). */
ST_API st_tensor *st_concat(st_tensor *const *ts, int n, int dim);
ST_API st_tensor *st_index_select(st_tensor *x, int dim, st_tensor *index);
/* out[i][j] = x[index[i][j]][j] (dim 0), like torch.gather. */
ST_API st_tensor *st_gather(st_tensor *x, int dim, st_tensor *index);
/* Out-of-place: a copy of x where out[index[i][j]][j] = src[i][j] (dim 0); later writes
 * win; with reduce_add the values are added instead (torch.scatter_add). */
ST_API st_tensor *st_scatter(st_tensor *x, int dim, st_tensor *index, st_tensor *src, bool reduce_add);

/* ------------------------------------------------------------------ rank-K */

/* Rank-K selection along the last axis (leading axes are batch rows), SPEC §3. The
 * total order is (value, column): NaN ranks above +inf, -0.0 equals +0.0, and among
 * equal values the lower column ranks first, so results are identical on every
 * backend. TopK: the k largest, largest first. BottomK: the k smallest, smallest
 * first. MidK: the k elements of ascending ranks [(n-k)/2, (n-k)/2 + k), in column
 * order. k in [0, n]. *values (x's dtype) and *indices (i32, or i64 with
 * st_rankk_ex) are new tensors of shape [..., k]. Kernel parameters come from the
 * heuristics chain (st_heur_choose / st_heur_choose_midk). Gradients flow to the
 * selected positions. */
typedef enum st_rankk_kind { ST_TOPK = 0, ST_BOTTOMK = 1, ST_MIDK = 2 } st_rankk_kind;
ST_API st_status st_topk(st_tensor *x, int64_t k, st_tensor **values, st_tensor **indices);
ST_API st_status st_bottomk(st_tensor *x, int64_t k, st_tensor **values, st_tensor **indices);
ST_API st_status st_midk(st_tensor *x, int64_t k, st_tensor **values, st_tensor **indices);
/* index_dtype ST_I32 or ST_I64; indices may be NULL when not wanted. */
ST_API st_status st_rankk_ex(st_tensor *x, st_rankk_kind kind, int64_t k, st_dtype index_dtype, st_tensor **values,
                             st_tensor **indices);

/* ------------------------------------------------------------------ op table */

/* The op list (from src/core/ops.def) for tools such as test-ops. */
ST_API int st_op_count(void);
ST_API const char *st_op_name(int op);

/* ---- heuristics (SpiralK) */

/* Kernel parameters of the rank-K ops come from a priority chain, per field (first
 * source that defines it wins): env SPIRAL_HEUR_K_LAB (TopK/BottomK), env SPIRAL_HEUR_K
 * or SPIRAL_HEUR_MIDK, the rule file (SPIRAL_HEUR_FILE, else $ST_HOME/heur.kdsl, else
 * ~/.spiraltorch/heur.kdsl), Redis, the generated table, the fallback formulas.
 * Rules are written in SpiralK (docs/spiralk.md). Every value is validated against
 * the device limits; an invalid one is rejected with a warning and the next source
 * is used. Results are cached: a warm st_heur_choose costs nanoseconds. */

#define ST_HEUR_MAX_FIELDS 16
/* Field checks beyond [min, max]. */
#define ST_HEUR_CHK_POW2 1u  /* a power of two */
#define ST_HEUR_CHK_WG 2u    /* a workgroup size: power of two, <= the device's maximum and
                                a multiple of its subgroup size when sg is requested */
#define ST_HEUR_CHK_SMEM8 4u /* value * 8 bytes fit the device's shared memory */
#define ST_HEUR_CTYPE_BOOL bool
#define ST_HEUR_CTYPE_INT int32_t

/* THE field list: X(name, BOOL|INT, min, max, checks, fallback (SpiralK), help).
 * Adding a field is one line here; the structs, the parser, validation, the
 * explanation and the CLI follow. */
#define ST_HEUR_TOPK_FIELDS(X)                                                                     \
    X(u2, BOOL, 0, 1, 0u, "(c>32768 || k>128) && (!sg || r < 128)", "two passes: candidates, then merge") \
    X(wg, INT, 1, 1024, ST_HEUR_CHK_WG, "sel(sg, sel(k >= 512 || r < 128, 512, 256), 128)", "workgroup size") \
    X(kl, INT, 1, 256, 0u, "sel(sg, sel(k>=512, 16, 4), sel(k>=64, 32, sel(k>=16, 16, 8)))", "candidates each lane keeps") \
    X(ch, INT, 0, 1073741824, 0u, "sel(c>16384, sel(sg, max(8192, pow2(c*r/512)), 8192), 0)", "column chunk per workgroup in the first pass, 0 = whole row") \
    X(algo, INT, 0, 2, 0u, "sel(k*8 > c || k > 4096, 1, sel(sg && c <= 32*sgsize && k <= sgsize, 2, 0))", "0 = streaming filter, 1 = radix select, 2 = subgroup select (short rows)") \
    X(est, BOOL, 0, 1, 0u, "c >= 8192", "estimate the threshold from a sample before the pass")
#define ST_HEUR_MIDK_FIELDS(X)                                                                     \
    X(wg, INT, 1, 1024, ST_HEUR_CHK_WG, "sel(c>16384, 256, 128)", "scan workgroup size")           \
    X(tile, INT, 1, 1048576, ST_HEUR_CHK_SMEM8, "sel(sg || c>65536, 4096, 2048)", "columns per compaction tile") \
    X(u2, BOOL, 0, 1, 0u, "k>512 || c>32768", "scan and apply as two passes")

#define ST_HEUR_X_MEMBER(name, type, mn, mx, chk, fb, help) ST_HEUR_CTYPE_##type name;
typedef struct st_heur_choice { /* TopK / BottomK */
    ST_HEUR_TOPK_FIELDS(ST_HEUR_X_MEMBER)
} st_heur_choice;
typedef struct st_heur_midk_choice {
    ST_HEUR_MIDK_FIELDS(ST_HEUR_X_MEMBER)
} st_heur_midk_choice;
#undef ST_HEUR_X_MEMBER

typedef enum st_heur_kind { ST_HEUR_TOPK = 0, ST_HEUR_MIDK = 1 } st_heur_kind;

/* The choice for a [rows, cols] input and k (subgroup: the device runs subgroup
 * kernels). rows, cols, k >= 0. Never fails on rule errors (those fall through the
 * chain with a warning); fails only on bad arguments or out of memory. Thread-safe. */
ST_API st_status st_heur_choose(int64_t rows, int64_t cols, int64_t k, bool subgroup, st_heur_choice *out);
ST_API st_status st_heur_choose_midk(int64_t rows, int64_t cols, int64_t k, bool subgroup, st_heur_midk_choice *out);

typedef enum st_heur_source {
    ST_HEUR_SRC_ENV_LAB = 0, /* SPIRAL_HEUR_K_LAB */
    ST_HEUR_SRC_ENV = 1,     /* SPIRAL_HEUR_K / SPIRAL_HEUR_MIDK */
    ST_HEUR_SRC_FILE = 2,
    ST_HEUR_SRC_REDIS = 3,
    ST_HEUR_SRC_TABLE = 4,
    ST_HEUR_SRC_FALLBACK = 5
} st_heur_source;

typedef struct st_heur_field_explanation {
    const char *name; /* static: "u2" */
    bool is_bool;
    int32_t value;
    st_heur_source source;
    char where[320]; /* "env SPIRAL_HEUR_K", "<path>:<line>", "redis", "table", "fallback" */
} st_heur_field_explanation;

typedef struct st_heur_explanation {
    st_heur_kind kind;
    int nfields;
    st_heur_field_explanation fields[ST_HEUR_MAX_FIELDS];
    char notes[2048]; /* warnings met on the way (rejected values, skipped sources), one a line */
} st_heur_explanation;

/* The chain, uncached, with each field's source. */
ST_API st_status st_heur_explain(st_heur_kind kind, int64_t rows, int64_t cols, int64_t k, bool subgroup,
                                 st_heur_explanation *out);

/* Environment and rule file are re-validated (getenv, stat) at most every
 * `ms` milliseconds (default 250; 0 = on every call) by a coarse monotonic clock that
 * each thread reads on every 16th call, so a change is seen within that interval and
 * 16 calls of a thread. st_heur_reload() re-reads everything now. */
ST_API void st_heur_reload(void);
ST_API void st_heur_set_recheck_ms(int ms);
/* Frees parsed rules and cached choices (before st_set_allocator or leak accounting);
 * the next call loads again. */
ST_API void st_heur_reset(void);

/* Limits that chosen values are validated against. Default (until a backend sets its
 * device's): max_workgroup 1024, subgroup_size 32, shared_mem 65536. */
typedef struct st_heur_limits {
    int32_t max_workgroup;
    int32_t subgroup_size; /* 0: no subgroups */
    int64_t shared_mem;    /* bytes per workgroup */
} st_heur_limits;
ST_API st_status st_heur_set_limits(const st_heur_limits *lim); /* NULL: defaults; invalidates the cache */
ST_API void st_heur_get_limits(st_heur_limits *out);
/* Make the chain answer for device dev: its limits and the tables tuned on its backend
 * (rank-K ops do this themselves for their input's device; tools that ask the chain
 * directly, such as `spiral heur choose --device`, call it). */
ST_API st_status st_heur_set_device(st_device dev);

/* Check rule text. mode FILE: sections allowed, statements before any section are
 * TopK; TOPK/MIDK: the text of SPIRAL_HEUR_K / SPIRAL_HEUR_MIDK. diag receives the
 * diagnostics ("source:line:col: message near 'tok'", one a line; "" when clean).
 * Returns ST_OK when clean, ST_E_FORMAT on a rule error, ST_E_IO / ST_E_OOM. */
typedef enum st_heur_check_mode { ST_HEUR_CHECK_FILE = 0, ST_HEUR_CHECK_TOPK = 1, ST_HEUR_CHECK_MIDK = 2 } st_heur_check_mode;
ST_API st_status st_heur_check(const char *text, size_t len, const char *source, st_heur_check_mode mode, char *diag,
                               size_t cap);
ST_API st_status st_heur_check_file(const char *path, char *diag, size_t cap);

/* The sources of the chain as they stand (for `spiral info`): fills up to cap entries
 * in chain order, returns how many there are (7). */
typedef struct st_heur_source_info {
    st_heur_source source;
    char name[64];    /* "env SPIRAL_HEUR_K_LAB", "env SPIRAL_HEUR_K", "env SPIRAL_HEUR_MIDK", "file", ... */
    bool active;      /* it can supply values now */
    char detail[384]; /* "not set", "3 statements", "<path>: 2 statements", "error: ...", ... */
} st_heur_source_info;
ST_API int st_heur_sources(st_heur_source_info *out, int cap);

/* ---- tuner (SPEC §5; docs: README "Tuning", docs/env.md) */

/* `spiral tune`: for each shape of a grid, the candidate values of every heuristic
 * field (one table in src/tune/tuner.c, pruned to what the device accepts) are timed
 * through the rank-K kernels on `dev` (warm-up runs, then `reps` timed runs with a
 * device sync around each; the median is kept). The search is coordinate-wise: start
 * from the fallback choice, sweep one field at a time keeping the others at the best
 * so far, `passes` times. Every measured choice is a sample of tuner.json (schema
 * "spiraltorch.tuner/1") with the device's identity. With ST_KV_BROADCAST=1 and
 * REDIS_URL, each shape's winner is also published to Redis. */
typedef struct st_tune_progress {
    int done, total;     /* measurements */
    double elapsed_s;
    double eta_s;        /* estimated time remaining (< 0: unknown yet) */
    const char *kind;    /* "topk", "midk" */
    int64_t rows, cols, k; /* the shape being measured */
} st_tune_progress;
typedef void (*st_tune_progress_fn)(const st_tune_progress *p, void *user);

typedef struct st_tune_options {
    bool quick;       /* the small grid (a few shapes, small sizes) */
    int reps;         /* timed runs per candidate (default 5; quick 3) */
    int warmup;       /* untimed runs before them (default 1) */
    int passes;       /* coordinate sweeps (default 2; quick 1) */
    const char *grid; /* NULL: the built-in grid; else "topk:RxCxK,midk:RxCxK,..." */
    st_tune_progress_fn progress; /* may be NULL */
    void *user;
} st_tune_options;
ST_API void st_tune_options_init(st_tune_options *o);
/* Tune on dev and write `path` (atomically). ST_E_INVALID_ARG on a bad grid or
 * option (message names it), ST_E_DEVICE / ST_E_IO / ST_E_OOM otherwise. */
ST_API st_status st_tune_run(st_device dev, const st_tune_options *o, const char *path);

/* ---- autograd */

/* Reverse-mode autograd over a tape recorded as ops run (like PyTorch's eager mode).
 * - A leaf requires grad after st_set_requires_grad(t, true) (float dtypes only). An
 *   op whose inputs require grad, run while grad mode is on, records a node; its
 *   output requires grad. The node keeps what backward needs (inputs' data, never the
 *   output tensor itself) and is freed when the last output that refers to it goes.
 * - st_backward(t, grad): gradients of t with respect to every leaf that requires grad,
 *   accumulated (+=) into the leaf's .grad. grad may be NULL only for a one-element t;
 *   otherwise it must have t's shape. Afterwards the saved tensors of the graph are
 *   freed (a second backward through it is ST_E_STATE) unless retain_graph is set.
 *   Only leaves get .grad; backward itself is not recorded (no double backward).
 * - Gradients of broadcast inputs are summed back to the input's shape; views
 *   (reshape, permute, slice, expand) pass gradients to their base.
 * - In-place writes (st_fill_, optimizer steps) to tensors saved by a graph that will
 *   still be backwarded give wrong gradients; do them after backward. */
ST_API st_status st_set_requires_grad(st_tensor *t, bool requires_grad);
ST_API bool st_requires_grad(const st_tensor *t);
/* True for tensors not produced by a recorded op. */
ST_API bool st_is_leaf(const st_tensor *t);
ST_API st_status st_backward(st_tensor *t, st_tensor *grad);
ST_API st_status st_backward_ex(st_tensor *t, st_tensor *grad, bool retain_graph);
/* The accumulated gradient of a leaf: BORROWED (do not release), NULL when none. It is
 * updated in place by later backward calls and stays valid until st_grad_clear or the
 * leaf's release. */
ST_API st_tensor *st_grad(st_tensor *t);
/* Fill .grad with zeros (keeps the buffer) / drop it (the next backward allocates). */
ST_API st_status st_zero_grad(st_tensor *t);
ST_API void st_grad_clear(st_tensor *t);
/* A new tensor sharing t's storage that does not require grad and has no history. */
ST_API st_tensor *st_detach(st_tensor *t);
/* Grad mode of the calling thread (on by default). st_set_grad_enabled returns the
 * previous state. st_no_grad_enter/exit nest: exit restores what enter found. */
ST_API bool st_is_grad_enabled(void);
ST_API bool st_set_grad_enabled(bool enabled);
ST_API void st_no_grad_enter(void);
ST_API void st_no_grad_exit(void);

/* ---- nn and optimizers */

typedef enum st_act { ST_ACT_NONE = 0, ST_ACT_RELU, ST_ACT_GELU, ST_ACT_TANH, ST_ACT_SIGMOID } st_act;
/* act(x); ST_ACT_NONE returns x retained. */
ST_API st_tensor *st_activation(st_tensor *x, st_act act);

/* A parameter list: named tensors, each retained by the list and marked requires_grad. */
typedef struct st_params st_params;
ST_API st_params *st_params_new(void);
ST_API void st_params_free(st_params *p); /* NULL-safe; releases the tensors */
/* name: 1..127 characters of [A-Za-z0-9_.-], unique in the list (it is a file name). */
ST_API st_status st_params_add(st_params *p, const char *name, st_tensor *t);
ST_API int st_params_count(const st_params *p);
ST_API st_tensor *st_params_at(const st_params *p, int i); /* borrowed */
ST_API const char *st_params_name(const st_params *p, int i);
ST_API int64_t st_params_numel(const st_params *p);
ST_API void st_params_zero_grad(st_params *p); /* drops every .grad */
/* One `<dir>/<name>.npy` per parameter (dir is created if missing). Load reads into
 * the existing tensors (shapes must match; dtype and device are converted). */
ST_API st_status st_params_save(const st_params *p, const char *dir);
ST_API st_status st_params_load(st_params *p, const char *dir);

/* In-place initialisers (no autograd). rng NULL = the global generator. Kaiming uses
 * the ReLU gain: uniform bound sqrt(6/fan_in), normal std sqrt(2/fan_in); Xavier:
 * bound sqrt(6/(fan_in+fan_out)), std sqrt(2/(fan_in+fan_out)). */
ST_API st_status st_init_uniform_(st_tensor *t, double lo, double hi, st_rng *rng);
ST_API st_status st_init_normal_(st_tensor *t, double mean, double std, st_rng *rng);
ST_API st_status st_init_kaiming_uniform_(st_tensor *t, int64_t fan_in, st_rng *rng);
ST_API st_status st_init_kaiming_normal_(st_tensor *t, int64_t fan_in, st_rng *rng);
ST_API st_status st_init_xavier_uniform_(st_tensor *t, int64_t fan_in, int64_t fan_out, st_rng *rng);
ST_API st_status st_init_xavier_normal_(st_tensor *t, int64_t fan_in, int64_t fan_out, st_rng *rng);

/* Linear layer y = x W^T + b with W [out, in] (Kaiming-uniform) and b [out] (uniform
 * +-1/sqrt(in)), like torch.nn.Linear. */
typedef struct st_linear st_linear;
ST_API st_linear *st_linear_new(int64_t in, int64_t out, bool bias, st_dtype dt, st_device dev, st_rng *rng);
ST_API void st_linear_free(st_linear *l);
ST_API st_tensor *st_linear_forward(st_linear *l, st_tensor *x);
ST_API st_tensor *st_linear_weight(st_linear *l); /* borrowed */
ST_API st_tensor *st_linear_bias(st_linear *l);   /* borrowed, NULL without bias */
/* Adds "<prefix>weight" and "<prefix>bias" to p. */
ST_API st_status st_linear_params(st_linear *l, st_params *p, const char *prefix);

/* MLP: sizes[0] -> sizes[1] -> ... -> sizes[n-1] (n >= 2), `act` between layers (not
 * after the last). Parameters "0.weight", "0.bias", "1.weight", ... */
typedef struct st_mlp st_mlp;
ST_API st_mlp *st_mlp_new(int n, const int64_t *sizes, st_act act, st_dtype dt, st_device dev, st_rng *rng);
ST_API void st_mlp_free(st_mlp *m);
ST_API st_tensor *st_mlp_forward(st_mlp *m, st_tensor *x);
ST_API st_params *st_mlp_params(st_mlp *m); /* borrowed, owned by the MLP */

/* Optimizers over a parameter list (the tensors are retained; the list is not kept).
 * SGD (torch semantics): g += wd*p; with momentum buf = mu*buf + (1-dampening)*g (buf = g
 * on the first step), g = nesterov ? g + mu*buf : buf; p -= lr*g.
 * Adam: g += wd*p (L2); m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *   p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps).
 * AdamW: like Adam with p *= 1 - lr*wd first instead of the L2 term.
 * Parameters without a .grad are skipped. Steps run under no_grad, in place. */
typedef enum st_optim_kind { ST_OPTIM_SGD = 0, ST_OPTIM_ADAM = 1, ST_OPTIM_ADAMW = 2 } st_optim_kind;
typedef struct st_optim_config {
    st_optim_kind kind;
    double lr;
    double momentum, dampening; /* SGD */
    bool nesterov;              /* SGD */
    double beta1, beta2, eps;   /* Adam, AdamW */
    double weight_decay;
} st_optim_config;
/* Defaults: SGD momentum 0; Adam/AdamW betas (0.9, 0.999), eps 1e-8; AdamW wd 0.01. */
ST_API st_optim_config st_optim_defaults(st_optim_kind kind, double lr);
typedef struct st_optim st_optim;
ST_API st_optim *st_optim_new(const st_params *p, const st_optim_config *cfg);
ST_API st_status st_optim_step(st_optim *o);
ST_API void st_optim_zero_grad(st_optim *o); /* drops every parameter's .grad */
ST_API void st_optim_set_lr(st_optim *o, double lr);
ST_API void st_optim_free(st_optim *o);

/* ------------------------------------------------------------------ .npy files */

/* NumPy .npy (format 1.0/2.0/3.0; <f4 <f8 <i4 <i8, and big-endian forms; C or Fortran
 * order). Load returns a CPU tensor; malformed files give ST_E_FORMAT with a message
 * that names the file and the problem. */
ST_API st_tensor *st_npy_load(const char *path);
ST_API st_tensor *st_npy_load_mem(const void *buf, size_t len, const char *name);
ST_API st_status st_npy_save(const char *path, st_tensor *t);

#ifdef __cplusplus
}
#endif
#endif /* SPIRALTORCH_H */
