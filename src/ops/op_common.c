/* op_common.c — shared op-layer helpers (see op_common.h). */
#include "op_common.h"

st_dtype st_promote(st_dtype a, st_dtype b) {
    static const int rank[ST_NUM_DTYPES] = {[ST_I32] = 0, [ST_I64] = 1, [ST_F32] = 2, [ST_F64] = 3};
    return rank[a] >= rank[b] ? a : b;
}

st_status st_check_same_device(const char *op, const st_tensor *a, const st_tensor *b) {
    st_device da = st_tensor_device(a), db = st_tensor_device(b);
    if (da.kind != db.kind || da.index != db.index)
        return st_err(ST_E_DEVICE, "%s: tensors are on different devices (%s:%d and %s:%d)", op,
                      st_backend_name(da.kind), da.index, st_backend_name(db.kind), db.index);
    return ST_OK;
}

st_status st_broadcast_shapes(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb, int *nout,
                              int64_t *out) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = na - n + i, ib = nb - n + i;
        int64_t x = ia >= 0 ? sa[ia] : 1, y = ib >= 0 ? sb[ib] : 1;
        if (x != y && x != 1 && y != 1) {
            char s1[160], s2[160];
            st_fmt_shape(s1, sizeof s1, na, sa);
            st_fmt_shape(s2, sizeof s2, nb, sb);
            return st_err(ST_E_SHAPE, "%s: shapes %s and %s do not broadcast (dim %d: %lld vs %lld)", op, s1, s2, i,
                          (long long)x, (long long)y);
        }
        out[i] = x == 1 ? y : x;
    }
    *nout = n;
    return ST_OK;
}

st_kview st_kview_broadcast(const st_tensor *t, int ndim, const int64_t *shape) {
    st_kview v = st_kview_of(t);
    st_kview r = v;
    r.ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        int j = t->ndim - ndim + i;
        r.shape[i] = shape[i];
        r.strides[i] = (j >= 0 && t->shape[j] == shape[i]) ? t->strides[j] : 0;
    }
    return r;
}

st_tensor *st_cast_to(st_tensor *t, st_dtype dt) {
    if (t->dtype == dt) return st_retain(t);
    return st_to_dtype(t, dt);
}

st_tensor *st_new_like_dev(const st_tensor *t, int ndim, const int64_t *shape, st_dtype dt) {
    return st_tensor_new(st_tensor_device(t), ndim, shape, dt);
}

bool st_axes_mask(const char *op, const int *axes, int naxes, int ndim, uint32_t *mask) {
    *mask = 0;
    if (!axes || naxes == 0) {
        *mask = ndim ? (uint32_t)((1u << ndim) - 1) : 0;
        return true;
    }
    if (naxes < 0 || naxes > ST_MAX_DIMS) {
        st_err(ST_E_INVALID_ARG, "%s: naxes %d is out of range", op, naxes);
        return false;
    }
    for (int i = 0; i < naxes; i++) {
        if (ndim == 0 && (axes[i] == 0 || axes[i] == -1)) continue;
        int a = st_norm_axis(op, axes[i], ndim);
        if (a < 0) return false;
        if (*mask & (1u << a)) {
            st_err(ST_E_INVALID_ARG, "%s: axis %d is repeated", op, axes[i]);
            return false;
        }
        *mask |= 1u << a;
    }
    return true;
}

/* Until src/autograd provides the tape, recording is a no-op (weak defaults). */
__attribute__((weak)) st_tensor *st_autograd_record(st_tensor *out, const st_grad_ctx *ctx) {
    (void)ctx;
    return out;
}
__attribute__((weak)) bool st_grad_needed(st_tensor *const *ts, int n) {
    (void)ts;
    (void)n;
    return false;
}
