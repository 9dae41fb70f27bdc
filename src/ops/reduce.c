/* reduce.c — sum, mean, max, min over an axes list, and argmax over one axis.
 *
 * Rules: axes NULL/0 = all; negative axes count from the end; a repeated or
 * out-of-range axis is an error. sum of i32/i64 gives i64; mean needs a float dtype;
 * max/min keep the dtype and propagate NaN; argmax gives i64 (first maximum, NaN counts
 * as the maximum). Empty reductions: sum -> 0, mean -> NaN, max/min/argmax -> ST_E_SHAPE.
 * The backend writes a keepdim-shaped result; without keepdim the op returns a
 * reshaped view of it.
 *
 * Autograd (sum/mean/max/min): ctx.op = ST_OP_SUM/MEAN/MAX/MIN, n_inputs = 1,
 * inputs[0] = x (the original input), iargs[0] = axes mask (bit d set when dim d of
 * x was reduced; 0-d x has mask 0), iargs[1] = keepdim (0/1). The recorded output has
 * the keepdim or squeezed shape the caller sees. argmax is not differentiable.
 */
#include "op_common.h"

/* x's shape with 1 in the masked dims (kshape, knd = x's ndim) and the shape without
 * them (sshape, snd). */
static void reduced_shapes(const st_tensor *x, uint32_t mask, int64_t *kshape, int64_t *sshape, int *snd) {
    *snd = 0;
    for (int d = 0; d < x->ndim; d++) {
        bool red = (mask >> d) & 1u;
        kshape[d] = red ? 1 : x->shape[d];
        if (!red) sshape[(*snd)++] = x->shape[d];
    }
}

/* max/min/argmax need at least one element in each reduced slice. */
static bool check_nonempty(const char *op, const st_tensor *x, uint32_t mask) {
    for (int d = 0; d < x->ndim; d++) {
        if (((mask >> d) & 1u) && x->shape[d] == 0) {
            st_err(ST_E_SHAPE, "%s: cannot reduce over the empty dim %d of %s (no identity)", op, d, st_tdesc(x));
            return false;
        }
    }
    return true;
}

/* Replace keepdim-shaped `k` by its view without the reduced dims (consumes k). */
static st_tensor *squeeze_dims(st_tensor *k, int snd, const int64_t *sshape) {
    st_tensor *out = st_reshape(k, snd, sshape);
    st_release(k);
    return out;
}

static st_tensor *reduce_op(st_op op, st_tensor *x, const int *axes, int naxes, bool keepdim) {
    const char *name = st_op_table[op].name;
    ST_CHECK_ARG(name, x);
    uint32_t mask;
    if (!st_axes_mask(name, axes, naxes, x->ndim, &mask)) {
        st_err_prefix("%s of %s", name, st_tdesc(x));
        return NULL;
    }
    if (op == ST_OP_MEAN && !st_dtype_is_float(x->dtype)) {
        st_err(ST_E_DTYPE, "mean: needs a float dtype, got %s (convert with st_to_dtype)", st_tdesc(x));
        return NULL;
    }
    if ((op == ST_OP_MAX || op == ST_OP_MIN) && !check_nonempty(name, x, mask)) return NULL;
    st_dtype odt = (op == ST_OP_SUM && !st_dtype_is_float(x->dtype)) ? ST_I64 : x->dtype;
    int64_t kshape[ST_MAX_DIMS], sshape[ST_MAX_DIMS];
    int snd;
    reduced_shapes(x, mask, kshape, sshape, &snd);
    st_tensor *out = st_new_like_dev(x, x->ndim, kshape, odt);
    if (!out) return NULL;
    st_kview dv = st_kview_of(out), xv = st_kview_of(x);
    const st_backend *be = st_tensor_backend(x);
    if (be->reduce(st_tensor_device(x).index, op, &dv, &xv, mask) != ST_OK) {
        st_err_prefix("%s of %s", name, st_tdesc(x));
        st_release(out);
        return NULL;
    }
    if (!keepdim && snd != x->ndim && !(out = squeeze_dims(out, snd, sshape))) return NULL;
    if (!st_grad_needed(&x, 1)) return out;
    st_grad_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.op = op;
    ctx.n_inputs = 1;
    ctx.inputs[0] = x;
    ctx.iargs[0] = (int64_t)mask;
    ctx.iargs[1] = keepdim ? 1 : 0;
    return st_autograd_record(out, &ctx);
}

st_tensor *st_sum(st_tensor *x, const int *axes, int naxes, bool keepdim) {
    return reduce_op(ST_OP_SUM, x, axes, naxes, keepdim);
}
st_tensor *st_mean(st_tensor *x, const int *axes, int naxes, bool keepdim) {
    return reduce_op(ST_OP_MEAN, x, axes, naxes, keepdim);
}
st_tensor *st_max(st_tensor *x, const int *axes, int naxes, bool keepdim) {
    return reduce_op(ST_OP_MAX, x, axes, naxes, keepdim);
}
st_tensor *st_min(st_tensor *x, const int *axes, int naxes, bool keepdim) {
    return reduce_op(ST_OP_MIN, x, axes, naxes, keepdim);
}

st_tensor *st_argmax(st_tensor *x, int axis, bool keepdim) {
    ST_CHECK_ARG("argmax", x);
    int a = st_norm_axis("argmax", axis, x->ndim);
    if (a < 0) {
        st_err_prefix("argmax of %s", st_tdesc(x));
        return NULL;
    }
    uint32_t mask = x->ndim ? 1u << a : 0;
    if (!check_nonempty("argmax", x, mask)) return NULL;
    int64_t kshape[ST_MAX_DIMS], sshape[ST_MAX_DIMS];
    int snd;
    reduced_shapes(x, mask, kshape, sshape, &snd);
    st_tensor *out = st_new_like_dev(x, x->ndim, kshape, ST_I64);
    if (!out) return NULL;
    st_kview dv = st_kview_of(out), xv = st_kview_of(x);
    if (x->ndim == 0) { /* a 0-d tensor is one line of length 1 */
        dv.ndim = xv.ndim = 1;
        dv.shape[0] = xv.shape[0] = 1;
        dv.strides[0] = xv.strides[0] = 1;
    }
    const st_backend *be = st_tensor_backend(x);
    if (be->argmax(st_tensor_device(x).index, &dv, &xv, a) != ST_OK) {
        st_err_prefix("argmax of %s", st_tdesc(x));
        st_release(out);
        return NULL;
    }
    if (!keepdim && snd != x->ndim) return squeeze_dims(out, snd, sshape);
    return out;
}
