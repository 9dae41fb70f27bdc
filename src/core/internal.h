/* internal.h — private core definitions shared by every layer of libspiraltorch.
 *
 * Invariants:
 * - A tensor owns one reference to its storage; views own their own reference.
 * - shape[i] >= 0; strides are in elements and may be 0 (expanded dims) but never
 *   negative; offset + the furthest reachable element lies inside the storage.
 * - Every function that can fail sets the thread's error (st_err) before returning it.
 */
#ifndef ST_INTERNAL_H
#define ST_INTERNAL_H

#include "spiraltorch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- ops */
#define ST_OPF_DIFF 1u
#define ST_OPF_FLOAT 2u
#define ST_OPF_CMP 4u

typedef enum st_op_kind { ST_OPK_UNARY, ST_OPK_BINARY, ST_OPK_TERNARY, ST_OPK_REDUCE, ST_OPK_OTHER } st_op_kind;

typedef enum st_op {
#define ST_OP(e, name, kind, arity, flags) ST_OP_##e,
#include "ops.def"
#undef ST_OP
    ST_OP__COUNT
} st_op;

typedef struct st_op_info {
    const char *name;
    st_op_kind kind;
    int arity;
    unsigned flags;
} st_op_info;
extern const st_op_info st_op_table[ST_OP__COUNT];

/* ---------------------------------------------------------------- errors */

/* Set the thread's error (printf-style) and return `s`. */
st_status st_err(st_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message with "<prefix>: " (keeps the status). Returns it. */
st_status st_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Broken invariant: logs, sets ST_E_INTERNAL. Never aborts on user input. */
#define ST_ASSERT(cond)                                                                  \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            st_err(ST_E_INTERNAL, "internal invariant failed: %s (%s:%d)", #cond, __FILE__, \
                   __LINE__);                                                            \
        }                                                                                \
    } while (0)

/* ---------------------------------------------------------------- memory */
void *st_malloc(size_t size);                  /* NULL + ST_E_OOM error on failure */
void *st_calloc(size_t n, size_t size);        /* zeroed */
void *st_malloc_aligned(size_t size, size_t align);
void st_free(void *p);                         /* NULL-safe; frees st_malloc/aligned memory */
char *st_strdup(const char *s);
void st_alloc_reset_peak(void); /* peak_bytes := live_bytes (tests measure extra memory) */
void st_alloc_trim(void);       /* return cached large blocks to the allocator hook */

/* ---------------------------------------------------------------- logging */
void st_logf(st_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- environment */
/* Environment variables are read only through this (src/core/env.c), so that
 * docs/env.md can list every one. Returns NULL when unset or empty. */
const char *st_env(const char *name);
/* A switch variable: set, not empty and not "0". */
bool st_env_on(const char *name);
/* A switch that is on by default: unset or empty -> def, "0" -> off, else on. */
bool st_env_flag(const char *name, bool def);

/* ---------------------------------------------------------------- clock */
/* Monotonic host clock in milliseconds (timings: device timer fallback, self-rewrite,
 * the tuner). */
static inline double st_mono_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------- storage & tensors */
struct st_backend;

typedef struct st_storage {
    int refcount;
    const struct st_backend *be;
    int dev_index;
    void *handle; /* backend buffer; for the CPU a host pointer */
    size_t nbytes;
} st_storage;

struct st_autograd_node; /* defined by src/autograd */

struct st_tensor {
    int refcount;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t strides[ST_MAX_DIMS];
    int64_t offset; /* in elements */
    st_storage *storage;
    /* autograd */
    bool requires_grad;
    st_tensor *grad;
    struct st_autograd_node *grad_fn;
};

/* Kernel view: what a backend kernel sees of a tensor. */
typedef struct st_kview {
    void *handle;   /* storage handle */
    int64_t offset; /* elements */
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t strides[ST_MAX_DIMS];
} st_kview;

st_kview st_kview_of(const st_tensor *t);
/* Appends a dim (size n; strides s[k] of ns operands) to a dims list of cnt entries,
 * merging it into the previous dim when strides[k][cnt-1] == s[k]*n for every operand.
 * Returns the new count. Shared by the reduction planners of every backend. */
int st_dims_push(int cnt, int64_t *sizes, int64_t **strides, int ns, int64_t n, const int64_t *s);
int64_t st_shape_numel(int ndim, const int64_t *shape);
bool st_kview_contiguous(const st_kview *v);

/* New tensor with fresh storage on `dev` (uninitialised). */
st_tensor *st_tensor_new(st_device dev, int ndim, const int64_t *shape, st_dtype dt);
/* New tensor header that shares t's storage, with the given geometry. */
st_tensor *st_tensor_view(st_tensor *t, int ndim, const int64_t *shape, const int64_t *strides, int64_t offset);
const struct st_backend *st_tensor_backend(const st_tensor *t);
st_device st_tensor_device(const st_tensor *t);

/* Format "f32[2,3]" into buf. */
void st_fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape);
/* Returns a thread-local formatted description of a tensor for messages ("f32[2,3]"). */
const char *st_tdesc(const st_tensor *t);
const char *st_tdesc2(const st_tensor *t); /* second buffer, for two-tensor messages */

/* Normalise a possibly negative axis against ndim; -1 on error (error set, naming op). */
int st_norm_axis(const char *op, int axis, int ndim);

/* Philox helpers for backends. */
void st_rng_reserve(st_rng *rng, uint64_t n_u32, uint64_t *seed, uint64_t *offset);
void st_philox4x32(uint64_t seed, uint64_t counter, uint32_t out[4]);

/* Number of library objects alive (for st_set_allocator's check). */
extern int64_t st_live_objects_hint;

#endif
