/* softmax.c — softmax and log_softmax along one dim, and mean cross-entropy.
 *
 * softmax/log_softmax: float dtypes only; the result has x's shape and dtype; the
 * kernel subtracts the line maximum first (stable for logits of any magnitude); a NaN
 * in a line makes the whole line NaN. A 0-d input is one line of length 1.
 * Autograd: ctx.op = ST_OP_SOFTMAX / ST_OP_LOG_SOFTMAX, n_inputs = 1, inputs[0] = x
 * (the original input), iargs[0] = dim (normalised, >= 0; 0 for a 0-d x).
 *
 * cross_entropy(logits [N,C] float, targets [N] i32/i64) = mean over n of
 * -log_softmax(logits)[n, targets[n]]. It is composed from public ops (log_softmax,
 * reshape, gather, mean, neg), so its gradient comes from theirs; it records nothing
 * itself. N == 0 gives NaN (mean of nothing).
 */
#include "op_common.h"

static st_tensor *softmax_op(st_op op, st_tensor *x, int dim) {
    const char *name = st_op_table[op].name;
    ST_CHECK_ARG(name, x);
    int d = st_norm_axis(name, dim, x->ndim);
    if (d < 0) {
        st_err_prefix("%s of %s", name, st_tdesc(x));
        return NULL;
    }
    if (!st_dtype_is_float(x->dtype)) {
        st_err(ST_E_DTYPE, "%s: needs a float dtype, got %s", name, st_tdesc(x));
        return NULL;
    }
    st_tensor *out = st_new_like_dev(x, x->ndim, x->shape, x->dtype);
    if (!out) return NULL;
    st_kview dv = st_kview_of(out), xv = st_kview_of(x);
    if (x->ndim == 0) {
        dv.ndim = xv.ndim = 1;
        dv.shape[0] = xv.shape[0] = 1;
        dv.strides[0] = xv.strides[0] = 1;
    }
    if (st_tensor_backend(x)->softmax(st_tensor_device(x).index, op, &dv, &xv, d) != ST_OK) {
        st_err_prefix("%s of %s", name, st_tdesc(x));
        st_release(out);
        return NULL;
    }
    if (!st_grad_needed(&x, 1)) return out;
    st_grad_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.op = op;
    ctx.n_inputs = 1;
    ctx.inputs[0] = x;
    ctx.iargs[0] = d;
    return st_autograd_record(out, &ctx);
}

st_tensor *st_softmax(st_tensor *x, int dim) { return softmax_op(ST_OP_SOFTMAX, x, dim); }
st_tensor *st_log_softmax(st_tensor *x, int dim) { return softmax_op(ST_OP_LOG_SOFTMAX, x, dim); }

/* Shapes, dtypes and target range of cross_entropy's arguments. */
static st_status ce_check(st_tensor *logits, st_tensor *targets) {
    if (logits->ndim != 2 || targets->ndim != 1 || targets->shape[0] != logits->shape[0])
        return st_err(ST_E_SHAPE, "cross_entropy: needs logits [N,C] and targets [N], got %s and %s", st_tdesc(logits),
                      st_tdesc2(targets));
    if (!st_dtype_is_float(logits->dtype) || st_dtype_is_float(targets->dtype))
        return st_err(ST_E_DTYPE, "cross_entropy: needs float logits and i32/i64 targets, got %s and %s",
                      st_tdesc(logits), st_tdesc2(targets));
    if (st_check_same_device("cross_entropy", logits, targets) != ST_OK) return st_last_status();
    int64_t n = targets->shape[0], c = logits->shape[1];
    if (n > 0 && c == 0)
        return st_err(ST_E_SHAPE, "cross_entropy: logits %s have no classes", st_tdesc(logits));
    int64_t *t = st_malloc((size_t)(n ? n : 1) * sizeof *t);
    if (!t) return st_last_status();
    st_status s = st_to_host(targets, ST_I64, t, (size_t)n * sizeof *t);
    for (int64_t i = 0; s == ST_OK && i < n; i++)
        if (t[i] < 0 || t[i] >= c)
            s = st_err(ST_E_INDEX, "cross_entropy: targets[%lld] = %lld is out of range [0, %lld) for logits %s",
                       (long long)i, (long long)t[i], (long long)c, st_tdesc(logits));
    st_free(t);
    return s;
}

st_tensor *st_cross_entropy(st_tensor *logits, st_tensor *targets) {
    ST_CHECK_ARG("cross_entropy", logits);
    ST_CHECK_ARG("cross_entropy", targets);
    if (ce_check(logits, targets) != ST_OK) return NULL;
    int64_t col[2] = {targets->shape[0], 1};
    st_tensor *lp = st_log_softmax(logits, 1);
    st_tensor *idx = lp ? st_reshape(targets, 2, col) : NULL;
    st_tensor *picked = idx ? st_gather(lp, 1, idx) : NULL;
    st_tensor *m = picked ? st_mean(picked, NULL, 0, false) : NULL;
    st_tensor *out = m ? st_neg(m) : NULL;
    st_release(m);
    st_release(picked);
    st_release(idx);
    st_release(lp);
    if (!out) st_err_prefix("cross_entropy of %s and %s", st_tdesc(logits), st_tdesc2(targets));
    return out;
}
