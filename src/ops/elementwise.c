/* elementwise.c — the elementwise op family: binary arithmetic and comparisons with
 * NumPy broadcasting, scalar forms, where, and the unary math ops.
 *
 * Per op: NULL and device checks; dtype promotion (i32 < i64 < f32 < f64) with the
 * inputs converted to the common dtype; float-only ops (ST_OPF_FLOAT in ops.def) on
 * integer dtypes are ST_E_DTYPE; broadcasting resolved into stride-0 kernel views; the
 * output is a fresh tensor on the inputs' device; the backend's binary/unary/where
 * entry computes it. Empty results skip the kernel.
 *
 * Semantics (every backend follows them):
 * - comparisons return 0/1 in the promoted dtype and are not differentiable;
 * - integer division is C truncating division; x/0 is 0 for integers and
 *   INT_MIN/-1 wraps to INT_MIN; integer add/sub/mul/neg/abs wrap (two's complement);
 * - maximum/minimum propagate NaN; relu(NaN) is NaN;
 * - where(cond, a, b): cond of any dtype, non-zero (NaN included) selects a;
 * - scalar forms build a 0-d tensor of the input's dtype on its device (the scalar
 *   converted by truncation for integers; a value the dtype cannot hold is an error)
 *   and run the ordinary binary op, so autograd sees a plain binary op.
 * Autograd: the ctx names the original inputs (before dtype conversion).
 */
#include "op_common.h"

static st_tensor *record(st_tensor *out, st_op op, int n, st_tensor *const *ins, double darg) {
    if (!out || (st_op_table[op].flags & ST_OPF_CMP) || !st_grad_needed(ins, n)) return out;
    st_grad_ctx c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.n_inputs = n;
    for (int i = 0; i < n; i++) c.inputs[i] = ins[i];
    c.dargs[0] = darg;
    return st_autograd_record(out, &c);
}

static bool needs_float(const char *name, st_op op, st_dtype dt, const st_tensor *a, const st_tensor *b) {
    if (!(st_op_table[op].flags & ST_OPF_FLOAT) || st_dtype_is_float(dt)) return false;
    if (b)
        st_err(ST_E_DTYPE, "%s: needs a float dtype, got %s and %s", name, st_tdesc(a), st_tdesc2(b));
    else
        st_err(ST_E_DTYPE, "%s: needs a float dtype, got %s", name, st_tdesc(a));
    return true;
}

/* out = op(a, b) over the broadcast shape; a and b already checked non-NULL. */
static st_tensor *binary_compute(st_op op, const char *name, st_tensor *a, st_tensor *b) {
    if (st_check_same_device(name, a, b) != ST_OK) return NULL;
    st_dtype dt = st_promote(a->dtype, b->dtype);
    if (needs_float(name, op, dt, a, b)) return NULL;
    int nd;
    int64_t shape[ST_MAX_DIMS];
    if (st_broadcast_shapes(name, a->ndim, a->shape, b->ndim, b->shape, &nd, shape) != ST_OK) return NULL;
    st_tensor *out = st_new_like_dev(a, nd, shape, dt);
    if (!out || st_numel(out) == 0) return out;
    st_tensor *ca = st_cast_to(a, dt);
    st_tensor *cb = ca ? st_cast_to(b, dt) : NULL;
    st_status s = cb ? ST_OK : st_last_status();
    if (cb) {
        st_kview dv = st_kview_of(out);
        st_kview av = st_kview_broadcast(ca, nd, shape), bv = st_kview_broadcast(cb, nd, shape);
        s = st_tensor_backend(out)->binary(out->storage->dev_index, op, &dv, &av, &bv);
    }
    st_release(cb);
    st_release(ca);
    if (s != ST_OK) {
        st_release(out);
        return NULL;
    }
    return out;
}

static st_tensor *binary_op(st_op op, st_tensor *a, st_tensor *b) {
    const char *name = st_op_table[op].name;
    ST_CHECK_ARG(name, a);
    ST_CHECK_ARG(name, b);
    st_tensor *ins[2] = {a, b};
    return record(binary_compute(op, name, a, b), op, 2, ins, 0.0);
}

st_tensor *st_add(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_ADD, a, b); }
st_tensor *st_sub(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_SUB, a, b); }
st_tensor *st_mul(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_MUL, a, b); }
st_tensor *st_div(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_DIV, a, b); }
st_tensor *st_pow(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_POW, a, b); }
st_tensor *st_maximum(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_MAXIMUM, a, b); }
st_tensor *st_minimum(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_MINIMUM, a, b); }
st_tensor *st_eq(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_EQ, a, b); }
st_tensor *st_ne(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_NE, a, b); }
st_tensor *st_lt(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_LT, a, b); }
st_tensor *st_le(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_LE, a, b); }
st_tensor *st_gt(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_GT, a, b); }
st_tensor *st_ge(st_tensor *a, st_tensor *b) { return binary_op(ST_OP_GE, a, b); }

/* ---------------------------------------------------------------- scalar forms */

/* 0-d tensor holding v in like's dtype, on like's device. */
static st_tensor *scalar_like(const char *name, const st_tensor *like, double v) {
    union {
        float f;
        double d;
        int32_t i;
        int64_t l;
    } u;
    switch (like->dtype) {
    case ST_F32: u.f = (float)v; break;
    case ST_F64: u.d = v; break;
    case ST_I32:
        if (!(v > -2147483649.0 && v < 2147483648.0)) goto range;
        u.i = (int32_t)v;
        break;
    case ST_I64:
        if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) goto range;
        u.l = (int64_t)v;
        break;
    default: st_err(ST_E_DTYPE, "%s: invalid dtype %d", name, (int)like->dtype); return NULL;
    }
    return st_from_data_on(st_tensor_device(like), &u, 0, NULL, like->dtype);
range:
    st_err(ST_E_INVALID_ARG, "%s: scalar %g does not fit the dtype of %s", name, v, st_tdesc(like));
    return NULL;
}

static st_tensor *scalar_op(st_op op, const char *name, st_tensor *a, double v) {
    ST_CHECK_ARG(name, a);
    if (needs_float(name, op, a->dtype, a, NULL)) return NULL;
    st_tensor *s = scalar_like(name, a, v);
    if (!s) return NULL;
    st_tensor *ins[2] = {a, s};
    st_tensor *out = record(binary_compute(op, name, a, s), op, 2, ins, v);
    st_release(s);
    return out;
}

st_tensor *st_add_scalar(st_tensor *a, double s) { return scalar_op(ST_OP_ADD, "add_scalar", a, s); }
st_tensor *st_mul_scalar(st_tensor *a, double s) { return scalar_op(ST_OP_MUL, "mul_scalar", a, s); }
st_tensor *st_pow_scalar(st_tensor *a, double s) { return scalar_op(ST_OP_POW, "pow_scalar", a, s); }

/* ---------------------------------------------------------------- where */

static st_tensor *where_compute(st_tensor *cond, st_tensor *a, st_tensor *b) {
    if (st_check_same_device("where", cond, a) != ST_OK || st_check_same_device("where", a, b) != ST_OK) return NULL;
    st_dtype dt = st_promote(a->dtype, b->dtype);
    int n1, nd;
    int64_t s1[ST_MAX_DIMS], shape[ST_MAX_DIMS];
    if (st_broadcast_shapes("where", cond->ndim, cond->shape, a->ndim, a->shape, &n1, s1) != ST_OK ||
        st_broadcast_shapes("where", n1, s1, b->ndim, b->shape, &nd, shape) != ST_OK)
        return NULL;
    st_tensor *out = st_new_like_dev(a, nd, shape, dt);
    if (!out || st_numel(out) == 0) return out;
    st_tensor *ca = st_cast_to(a, dt);
    st_tensor *cb = ca ? st_cast_to(b, dt) : NULL;
    st_status s = cb ? ST_OK : st_last_status();
    if (cb) {
        st_kview dv = st_kview_of(out), cv = st_kview_broadcast(cond, nd, shape);
        st_kview av = st_kview_broadcast(ca, nd, shape), bv = st_kview_broadcast(cb, nd, shape);
        s = st_tensor_backend(out)->where(out->storage->dev_index, &dv, &cv, &av, &bv);
    }
    st_release(cb);
    st_release(ca);
    if (s != ST_OK) {
        st_release(out);
        return NULL;
    }
    return out;
}

st_tensor *st_where(st_tensor *cond, st_tensor *a, st_tensor *b) {
    ST_CHECK_ARG("where", cond);
    ST_CHECK_ARG("where", a);
    ST_CHECK_ARG("where", b);
    st_tensor *ins[3] = {cond, a, b};
    return record(where_compute(cond, a, b), ST_OP_WHERE, 3, ins, 0.0);
}

/* ---------------------------------------------------------------- unary */

static st_tensor *unary_op(st_op op, st_tensor *x) {
    const char *name = st_op_table[op].name;
    ST_CHECK_ARG(name, x);
    if (needs_float(name, op, x->dtype, x, NULL)) return NULL;
    st_tensor *out = st_new_like_dev(x, x->ndim, x->shape, x->dtype);
    if (!out) return NULL;
    if (st_numel(out) > 0) {
        st_kview dv = st_kview_of(out), xv = st_kview_of(x);
        if (st_tensor_backend(out)->unary(out->storage->dev_index, op, &dv, &xv) != ST_OK) {
            st_release(out);
            return NULL;
        }
    }
    return record(out, op, 1, &x, 0.0);
}

st_tensor *st_neg(st_tensor *x) { return unary_op(ST_OP_NEG, x); }
st_tensor *st_exp(st_tensor *x) { return unary_op(ST_OP_EXP, x); }
st_tensor *st_log(st_tensor *x) { return unary_op(ST_OP_LOG, x); }
st_tensor *st_sqrt(st_tensor *x) { return unary_op(ST_OP_SQRT, x); }
st_tensor *st_abs(st_tensor *x) { return unary_op(ST_OP_ABS, x); }
st_tensor *st_relu(st_tensor *x) { return unary_op(ST_OP_RELU, x); }
st_tensor *st_gelu(st_tensor *x) { return unary_op(ST_OP_GELU, x); }
st_tensor *st_tanh(st_tensor *x) { return unary_op(ST_OP_TANH, x); }
st_tensor *st_sigmoid(st_tensor *x) { return unary_op(ST_OP_SIGMOID, x); }
