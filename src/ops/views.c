/* views.c — reshape, permute, transpose, slice, expand, squeeze, unsqueeze.
 * All share storage with their input where the strides allow (reshape of a
 * non-viewable layout copies, like torch.reshape). Autograd: each records its inverse
 * geometry in the grad ctx. */
#include "op_common.h"

static st_tensor *record(st_tensor *out, st_op op, st_tensor *in, const int64_t *iargs, int niargs) {
    if (!out || !st_grad_needed(&in, 1)) return out;
    st_grad_ctx c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.n_inputs = 1;
    c.inputs[0] = in;
    for (int i = 0; i < niargs && i < ST_MAX_DIMS + 4; i++) c.iargs[i] = iargs[i];
    return st_autograd_record(out, &c);
}

/* Try to express the new shape as a view of t's strides (torch's computeStride). */
static bool view_strides(const st_tensor *t, int nd, const int64_t *shape, int64_t *strides) {
    int64_t numel = st_numel(t);
    if (numel == 0 || t->ndim == 0) {
        int64_t s = 1;
        for (int i = nd - 1; i >= 0; i--) {
            strides[i] = s;
            s *= shape[i] > 0 ? shape[i] : 1;
        }
        return true;
    }
    int view_d = nd - 1;
    int64_t chunk_base_stride = t->strides[t->ndim - 1];
    int64_t tensor_numel = 1, view_numel = 1;
    for (int td = t->ndim - 1; td >= 0; td--) {
        tensor_numel *= t->shape[td];
        if (td == 0 || (t->shape[td - 1] != 1 && t->strides[td - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
                strides[view_d] = view_numel * chunk_base_stride;
                view_numel *= shape[view_d];
                view_d--;
            }
            if (view_numel != tensor_numel) return false;
            if (td > 0) {
                chunk_base_stride = t->strides[td - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    return view_d == -1;
}

st_tensor *st_reshape(st_tensor *t, int ndim, const int64_t *shape_in) {
    ST_CHECK_ARG("reshape", t);
    if (ndim < 0 || ndim > ST_MAX_DIMS || (ndim > 0 && !shape_in)) {
        st_err(ST_E_SHAPE, "reshape: ndim %d is out of range [0, %d] (or shape is NULL)", ndim, ST_MAX_DIMS);
        return NULL;
    }
    int64_t shape[ST_MAX_DIMS];
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        shape[i] = shape_in[i];
        if (shape[i] == -1) {
            if (infer >= 0) {
                st_err(ST_E_SHAPE, "reshape: only one dimension can be -1");
                return NULL;
            }
            infer = i;
        } else if (shape[i] < 0) {
            st_err(ST_E_SHAPE, "reshape: shape[%d] = %lld is invalid", i, (long long)shape[i]);
            return NULL;
        } else {
            known *= shape[i];
        }
    }
    int64_t numel = st_numel(t);
    if (infer >= 0) {
        if (known == 0 || numel % known != 0) {
            char s[160];
            st_fmt_shape(s, sizeof s, ndim, shape_in);
            st_err(ST_E_SHAPE, "reshape: cannot infer -1 reshaping %s to %s", st_tdesc(t), s);
            return NULL;
        }
        shape[infer] = numel / known;
    }
    if (st_shape_numel(ndim, shape) != numel) {
        char s[160];
        st_fmt_shape(s, sizeof s, ndim, shape);
        st_err(ST_E_SHAPE, "reshape: %s has %lld elements, shape %s has %lld", st_tdesc(t), (long long)numel, s,
               (long long)st_shape_numel(ndim, shape));
        return NULL;
    }
    int64_t strides[ST_MAX_DIMS];
    st_tensor *out;
    if (view_strides(t, ndim, shape, strides)) {
        out = st_tensor_view(t, ndim, shape, strides, t->offset);
    } else {
        st_tensor *c = st_clone(t); /* records its own copy node */
        if (!c) return NULL;
        out = st_reshape(c, ndim, shape);
        st_release(c);
        return out;
    }
    int64_t args[ST_MAX_DIMS + 1];
    args[0] = t->ndim;
    for (int i = 0; i < t->ndim; i++) args[1 + i] = t->shape[i];
    return record(out, ST_OP_RESHAPE, t, args, 1 + t->ndim);
}

st_tensor *st_permute(st_tensor *t, const int *dims) {
    ST_CHECK_ARG("permute", t);
    ST_CHECK_ARG("permute", dims);
    int64_t shape[ST_MAX_DIMS], strides[ST_MAX_DIMS];
    bool seen[ST_MAX_DIMS] = {false};
    int64_t args[ST_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        int d = st_norm_axis("permute", dims[i], t->ndim);
        if (d < 0) return NULL;
        if (seen[d]) {
            st_err(ST_E_INVALID_ARG, "permute: dim %d appears twice for %s", dims[i], st_tdesc(t));
            return NULL;
        }
        seen[d] = true;
        shape[i] = t->shape[d];
        strides[i] = t->strides[d];
        args[i] = d;
    }
    st_tensor *out = st_tensor_view(t, t->ndim, shape, strides, t->offset);
    return record(out, ST_OP_PERMUTE, t, args, t->ndim);
}

st_tensor *st_transpose(st_tensor *t, int d0, int d1) {
    ST_CHECK_ARG("transpose", t);
    int a = st_norm_axis("transpose", d0, t->ndim), b = st_norm_axis("transpose", d1, t->ndim);
    if (a < 0 || b < 0) return NULL;
    int dims[ST_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = i;
    if (t->ndim == 0) return st_retain(t);
    dims[a] = b;
    dims[b] = a;
    return st_permute(t, dims);
}

st_tensor *st_slice(st_tensor *t, int dim, int64_t start, int64_t end, int64_t step) {
    ST_CHECK_ARG("slice", t);
    int d = st_norm_axis("slice", dim, t->ndim);
    if (d < 0) return NULL;
    if (t->ndim == 0) {
        st_err(ST_E_SHAPE, "slice: cannot slice a 0-d tensor");
        return NULL;
    }
    if (step < 1) {
        st_err(ST_E_INVALID_ARG, "slice: step %lld must be >= 1", (long long)step);
        return NULL;
    }
    int64_t n = t->shape[d];
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (start > n) start = n;
    if (end < start) end = start;
    if (end > n) end = n;
    int64_t shape[ST_MAX_DIMS], strides[ST_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    memcpy(strides, t->strides, sizeof strides);
    shape[d] = (end - start + step - 1) / step;
    strides[d] = t->strides[d] * step;
    st_tensor *out = st_tensor_view(t, t->ndim, shape, strides, t->offset + start * t->strides[d]);
    int64_t args[4] = {d, start, end, step};
    return record(out, ST_OP_SLICE, t, args, 4);
}

st_tensor *st_expand(st_tensor *t, int ndim, const int64_t *shape_in) {
    ST_CHECK_ARG("expand", t);
    if (ndim < t->ndim || ndim > ST_MAX_DIMS || (ndim > 0 && !shape_in)) {
        st_err(ST_E_SHAPE, "expand: cannot expand %s to %d dims", st_tdesc(t), ndim);
        return NULL;
    }
    int64_t shape[ST_MAX_DIMS], strides[ST_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        int j = t->ndim - ndim + i;
        int64_t want = shape_in[i];
        if (j < 0) {
            if (want < 0) {
                st_err(ST_E_SHAPE, "expand: -1 is not allowed for new leading dim %d", i);
                return NULL;
            }
            shape[i] = want;
            strides[i] = 0;
            continue;
        }
        if (want == -1) want = t->shape[j];
        if (t->shape[j] == want) {
            shape[i] = want;
            strides[i] = t->strides[j];
        } else if (t->shape[j] == 1 && want >= 0) {
            shape[i] = want;
            strides[i] = 0;
        } else {
            char s[160];
            st_fmt_shape(s, sizeof s, ndim, shape_in);
            st_err(ST_E_SHAPE, "expand: cannot expand %s to %s (dim %d is %lld, not 1)", st_tdesc(t), s, i,
                   (long long)t->shape[j]);
            return NULL;
        }
    }
    st_tensor *out = st_tensor_view(t, ndim, shape, strides, t->offset);
    int64_t args[ST_MAX_DIMS + 1];
    args[0] = t->ndim;
    for (int i = 0; i < t->ndim; i++) args[1 + i] = t->shape[i];
    return record(out, ST_OP_EXPAND, t, args, 1 + t->ndim);
}

st_tensor *st_squeeze(st_tensor *t, int dim) {
    ST_CHECK_ARG("squeeze", t);
    int d = st_norm_axis("squeeze", dim, t->ndim);
    if (d < 0) return NULL;
    if (t->ndim == 0) return st_retain(t);
    if (t->shape[d] != 1) {
        st_err(ST_E_SHAPE, "squeeze: dim %d of %s is not 1", dim, st_tdesc(t));
        return NULL;
    }
    int64_t shape[ST_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < t->ndim; i++)
        if (i != d) shape[n++] = t->shape[i];
    return st_reshape(t, n, shape);
}

st_tensor *st_unsqueeze(st_tensor *t, int dim) {
    ST_CHECK_ARG("unsqueeze", t);
    if (t->ndim >= ST_MAX_DIMS) {
        st_err(ST_E_SHAPE, "unsqueeze: %s already has the maximum of %d dims", st_tdesc(t), ST_MAX_DIMS);
        return NULL;
    }
    int d = st_norm_axis("unsqueeze", dim, t->ndim + 1);
    if (d < 0) return NULL;
    int64_t shape[ST_MAX_DIMS];
    int n = 0;
    for (int i = 0; i <= t->ndim; i++) {
        if (i == d) shape[n++] = 1;
        if (i < t->ndim) shape[n++] = t->shape[i];
    }
    return st_reshape(t, n, shape);
}
