/* op_common.h — helpers every op family uses: argument checks, dtype promotion,
 * broadcasting, output allocation and dispatch to the tensor's backend.
 *
 * Convention for op entry points: check (NULL, dtype, device, shape) with errors that
 * name the op, the shapes and the dtypes; compute; record autograd (src/autograd)
 * when any input requires grad; return a new reference or NULL.
 */
#ifndef ST_OP_COMMON_H
#define ST_OP_COMMON_H

#include "../backend/backend.h"

/* NULL-check: sets "op: argument 'name' is NULL". */
#define ST_CHECK_ARG(op, t)                                                        \
    do {                                                                           \
        if (!(t)) {                                                                \
            st_err(ST_E_INVALID_ARG, "%s: argument '%s' is NULL", (op), #t);        \
            return NULL;                                                           \
        }                                                                          \
    } while (0)

/* i32 < i64 < f32 < f64 */
st_dtype st_promote(st_dtype a, st_dtype b);

/* Both tensors on one device, else ST_E_DEVICE naming the op and devices. */
st_status st_check_same_device(const char *op, const st_tensor *a, const st_tensor *b);

/* NumPy broadcast of two shapes; ST_E_SHAPE naming op and shapes on failure. */
st_status st_broadcast_shapes(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb, int *nout,
                              int64_t *out);

/* View of t broadcast (right-aligned) to `shape`: stride 0 in repeated dims. */
st_kview st_kview_broadcast(const st_tensor *t, int ndim, const int64_t *shape);

/* t itself (retained) when it already has dtype dt, else a converted copy. */
st_tensor *st_cast_to(st_tensor *t, st_dtype dt);

/* New output on t's device. */
st_tensor *st_new_like_dev(const st_tensor *t, int ndim, const int64_t *shape, st_dtype dt);

/* Parse an axes list into a bit mask (dedup, negative axes); NULL/0 = all axes.
 * Returns false with the error set (naming op) on a bad axis or a repeated one. */
bool st_axes_mask(const char *op, const int *axes, int naxes, int ndim, uint32_t *mask);

/* Autograd recording hook. Called by ops after computing `out` from inputs; no-op when
 * no input requires grad or grad mode is off. `ctx` is op-specific data copied by the
 * callee (may be NULL). Returns out, or NULL (and releases out) on failure. */
typedef struct st_grad_ctx {
    st_op op;
    int n_inputs;
    st_tensor *inputs[4];
    int64_t iargs[ST_MAX_DIMS + 4];
    double dargs[2];
} st_grad_ctx;
st_tensor *st_autograd_record(st_tensor *out, const st_grad_ctx *ctx);
bool st_grad_needed(st_tensor *const *ts, int n);

#endif
