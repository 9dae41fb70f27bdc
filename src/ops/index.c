/* index.c — joining and indexing ops: concat, index_select, gather, scatter.
 *
 * Each entry point checks its arguments (NULL, ndim, dtypes, devices, shapes), checks
 * EVERY index against its bound before anything is written (ST_E_INDEX naming the op,
 * the bad value, the dim and its size; negative indices are errors, never wrapped),
 * allocates the output on the inputs' device and dispatches to the backend. 0-d x
 * (gather/scatter only) is handled as a 1-D view of one element.
 *
 * Autograd record layout (st_grad_ctx), for the backward rules:
 *   CONCAT        inputs[k], k < n_inputs <= 4: the ORIGINAL inputs that need grad
 *                 (st_grad_needed), in argument order; inputs that do not need grad
 *                 are absent. iargs[0] = dim (normalised), iargs[1] = out.shape[dim],
 *                 iargs[2+2k] = offset of inputs[k] along dim in out,
 *                 iargs[3+2k] = inputs[k]->shape[dim]. out's dtype is the promotion of
 *                 all inputs, so grad slices may need a cast back to inputs[k]'s dtype.
 *                 More than 4 inputs needing grad: ST_E_UNSUPPORTED, nothing recorded.
 *   INDEX_SELECT  inputs[0] = x, inputs[1] = index (1-D i32/i64); n_inputs = 2;
 *                 iargs[0] = dim (normalised). out dtype = x dtype.
 *   GATHER        inputs[0] = x, inputs[1] = index (ndim of x); n_inputs = 2;
 *                 iargs[0] = dim (normalised). out shape = index shape, dtype = x's.
 *   SCATTER       inputs[0] = x, inputs[1] = index, inputs[2] = src; n_inputs = 3;
 *                 iargs[0] = dim (normalised), iargs[1] = reduce_add (0/1). out dtype =
 *                 x's; src is converted to it (grad_src needs a cast back).
 *                 Only index.shape elements of src are used.
 *   For 0-d x, dim is 0 (gather/scatter treat it as shape [1]).
 */
#include "op_common.h"

#include <inttypes.h>

static bool is_index_dtype(const st_tensor *t) { return t->dtype == ST_I32 || t->dtype == ST_I64; }

/* ---------------------------------------------------------------- index validation */

/* First out-of-range value of a strided i32/i64 host array, or false when all are in
 * [0, bound). pos receives the flat (row-major) position of the bad value. */
static bool find_bad_index(const char *base, st_dtype dt, int ndim, const int64_t *shape, const int64_t *strides,
                           int64_t bound, int64_t *bad, int64_t *pos) {
    int64_t n = st_shape_numel(ndim, shape);
    int64_t ix[ST_MAX_DIMS] = {0};
    int64_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v =
            dt == ST_I32 ? ((const int32_t *)(const void *)base)[off] : ((const int64_t *)(const void *)base)[off];
        if (v < 0 || v >= bound) {
            *bad = v;
            *pos = i;
            return true;
        }
        for (int d = ndim - 1; d >= 0; d--) {
            off += strides[d];
            if (++ix[d] < shape[d]) break;
            off -= strides[d] * shape[d];
            ix[d] = 0;
        }
    }
    return false;
}

/* Every element of `index` in [0, bound): else ST_E_INDEX naming op, value, dim, size.
 * CPU indices are read in place; others are brought to the host first. */
static st_status check_indices(const char *op, const st_tensor *x, st_tensor *index, int dim, int64_t bound) {
    int64_t bad = 0, pos = 0;
    bool found;
    if (st_tensor_device(index).kind == ST_BACKEND_CPU) {
        found = find_bad_index(st_data_ptr(index), index->dtype, index->ndim, index->shape, index->strides, bound,
                               &bad, &pos);
    } else {
        int64_t n = st_numel(index);
        int64_t *h = st_malloc((size_t)n * sizeof(int64_t));
        if (!h) return st_last_status();
        st_status s = st_to_host(index, ST_I64, h, (size_t)n * sizeof(int64_t));
        if (s != ST_OK) {
            st_free(h);
            return s;
        }
        int64_t one = 1;
        found = find_bad_index((const char *)h, ST_I64, 1, &n, &one, bound, &bad, &pos);
        st_free(h);
    }
    if (!found) return ST_OK;
    return st_err(ST_E_INDEX,
                  "%s: index %" PRId64 " is out of range for dim %d of size %" PRId64
                  " (at flat position %" PRId64 " of index %s; x %s)",
                  op, bad, dim, bound, pos, st_tdesc(index), st_tdesc2(x));
}

/* Common argument checks of an index tensor. */
static st_status check_index_arg(const char *op, const st_tensor *x, const st_tensor *index) {
    if (!is_index_dtype(index))
        return st_err(ST_E_DTYPE, "%s: index must be i32 or i64, got %s (x %s)", op, st_tdesc(index), st_tdesc2(x));
    return st_check_same_device(op, x, index);
}

static const st_backend *backend_of(const st_tensor *t) { return st_tensor_backend(t); }
static int dev_of(const st_tensor *t) { return st_tensor_device(t).index; }

/* Kernel view, with a 0-d tensor seen as shape [1]. */
static st_kview kv1(const st_tensor *t) {
    st_kview v = st_kview_of(t);
    if (v.ndim == 0) {
        v.ndim = 1;
        v.shape[0] = 1;
        v.strides[0] = 1;
    }
    return v;
}

/* Record (when needed) and return out; releases out on failure. */
static st_tensor *finish(st_tensor *out, st_tensor *const *ins, int n, const st_grad_ctx *ctx) {
    if (!out || !st_grad_needed(ins, n)) return out;
    return st_autograd_record(out, ctx);
}

/* ---------------------------------------------------------------- concat */

static st_status concat_check(st_tensor *const *ts, int n, int dim_in, int *dim_out, st_dtype *dt_out) {
    if (!ts) return st_err(ST_E_INVALID_ARG, "concat: argument 'ts' is NULL");
    if (n < 1) return st_err(ST_E_INVALID_ARG, "concat: needs at least one tensor, got n = %d", n);
    for (int i = 0; i < n; i++)
        if (!ts[i]) return st_err(ST_E_INVALID_ARG, "concat: tensor %d of %d is NULL", i, n);
    const st_tensor *t0 = ts[0];
    if (t0->ndim == 0)
        return st_err(ST_E_SHAPE, "concat: cannot concatenate 0-d tensors (tensor 0 is %s)", st_tdesc(t0));
    int dim = st_norm_axis("concat", dim_in, t0->ndim);
    if (dim < 0) return st_last_status();
    st_dtype dt = t0->dtype;
    for (int i = 1; i < n; i++) {
        const st_tensor *t = ts[i];
        st_device d0 = st_tensor_device(t0), di = st_tensor_device(t);
        if (d0.kind != di.kind || d0.index != di.index)
            return st_err(ST_E_DEVICE, "concat: tensor %d is on %s:%d, tensor 0 on %s:%d", i, st_backend_name(di.kind),
                          di.index, st_backend_name(d0.kind), d0.index);
        if (t->ndim != t0->ndim)
            return st_err(ST_E_SHAPE, "concat: tensor %d is %s with %d dims, tensor 0 is %s with %d", i, st_tdesc(t),
                          t->ndim, st_tdesc2(t0), t0->ndim);
        for (int d = 0; d < t0->ndim; d++)
            if (d != dim && t->shape[d] != t0->shape[d])
                return st_err(ST_E_SHAPE,
                              "concat: tensor %d is %s, tensor 0 is %s: sizes differ in dim %d "
                              "(only dim %d may differ)",
                              i, st_tdesc(t), st_tdesc2(t0), d, dim);
        dt = st_promote(dt, t->dtype);
    }
    *dim_out = dim;
    *dt_out = dt;
    return ST_OK;
}

/* Autograd ctx of a concat: the inputs that need grad, with offsets along dim. */
static st_status concat_ctx(st_tensor *const *ts, int n, int dim, int64_t total, st_grad_ctx *c) {
    memset(c, 0, sizeof *c);
    c->op = ST_OP_CONCAT;
    c->iargs[0] = dim;
    c->iargs[1] = total;
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        if (st_grad_needed(&ts[i], 1)) {
            if (c->n_inputs == 4)
                return st_err(ST_E_UNSUPPORTED,
                              "concat: more than 4 of the %d inputs require grad; autograd records at most 4 "
                              "(concatenate in stages)",
                              n);
            c->inputs[c->n_inputs] = ts[i];
            c->iargs[2 + 2 * c->n_inputs] = off;
            c->iargs[3 + 2 * c->n_inputs] = ts[i]->shape[dim];
            c->n_inputs++;
        }
        off += ts[i]->shape[dim];
    }
    return ST_OK;
}

st_tensor *st_concat(st_tensor *const *ts, int n, int dim_in) {
    int dim = 0;
    st_dtype dt = ST_F32;
    if (concat_check(ts, n, dim_in, &dim, &dt) != ST_OK) return NULL;
    int64_t shape[ST_MAX_DIMS];
    memcpy(shape, ts[0]->shape, sizeof shape);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (ts[i]->shape[dim] > (INT64_C(1) << 47) - total) {
            st_err(ST_E_SHAPE, "concat: total size along dim %d is too large", dim);
            return NULL;
        }
        total += ts[i]->shape[dim];
    }
    shape[dim] = total;
    st_grad_ctx ctx;
    bool grad = st_grad_needed(ts, n);
    if (grad && concat_ctx(ts, n, dim, total, &ctx) != ST_OK) return NULL;
    st_tensor *out = st_new_like_dev(ts[0], ts[0]->ndim, shape, dt);
    if (!out) return NULL;
    const st_backend *be = backend_of(out);
    st_kview ov = st_kview_of(out);
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = ts[i]->shape[dim];
        if (len > 0 && st_numel(ts[i]) > 0) {
            st_kview part = ov, src = st_kview_of(ts[i]);
            part.shape[dim] = len;
            part.offset += off * ov.strides[dim];
            st_status s = be->copy(dev_of(out), &part, &src);
            if (s != ST_OK) {
                st_err_prefix("concat: copying tensor %d (%s)", i, st_tdesc(ts[i]));
                st_release(out);
                return NULL;
            }
        }
        off += len;
    }
    return grad ? st_autograd_record(out, &ctx) : out;
}

/* ---------------------------------------------------------------- index_select */

st_tensor *st_index_select(st_tensor *x, int dim_in, st_tensor *index) {
    ST_CHECK_ARG("index_select", x);
    ST_CHECK_ARG("index_select", index);
    if (check_index_arg("index_select", x, index) != ST_OK) return NULL;
    if (x->ndim == 0) {
        st_err(ST_E_SHAPE, "index_select: x is 0-d (%s); it needs at least one dim", st_tdesc(x));
        return NULL;
    }
    if (index->ndim != 1) {
        st_err(ST_E_SHAPE, "index_select: index must be 1-D, got %s (x %s)", st_tdesc(index), st_tdesc2(x));
        return NULL;
    }
    int dim = st_norm_axis("index_select", dim_in, x->ndim);
    if (dim < 0) return NULL;
    if (check_indices("index_select", x, index, dim, x->shape[dim]) != ST_OK) return NULL;
    int64_t shape[ST_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[dim] = index->shape[0];
    st_tensor *out = st_new_like_dev(x, x->ndim, shape, x->dtype);
    if (!out) return NULL;
    if (st_numel(out) > 0) {
        st_kview ov = st_kview_of(out), xv = st_kview_of(x), iv = st_kview_of(index);
        st_status s = backend_of(x)->index_select(dev_of(x), &ov, &xv, dim, &iv);
        if (s != ST_OK) {
            st_err_prefix("index_select: x %s, index %s", st_tdesc(x), st_tdesc2(index));
            st_release(out);
            return NULL;
        }
    }
    st_grad_ctx c;
    memset(&c, 0, sizeof c);
    c.op = ST_OP_INDEX_SELECT;
    c.n_inputs = 2;
    c.inputs[0] = x;
    c.inputs[1] = index;
    c.iargs[0] = dim;
    return finish(out, &x, 1, &c);
}

/* ---------------------------------------------------------------- gather / scatter */

/* index has x's ndim, and index.shape[d] <= limit.shape[d] for every d (except dim
 * when skip_dim). `what` names limit in the message. */
static st_status check_index_shape(const char *op, const st_tensor *index, const st_tensor *lim, const char *what,
                                   int dim, bool skip_dim) {
    int nd = lim->ndim;
    if (index->ndim != nd)
        return st_err(ST_E_SHAPE, "%s: index %s must have the same number of dims as %s %s", op, st_tdesc(index),
                      what, st_tdesc2(lim));
    for (int d = 0; d < nd; d++) {
        if (skip_dim && d == dim) continue;
        if (index->shape[d] > lim->shape[d])
            return st_err(ST_E_SHAPE, "%s: index %s is larger than %s %s in dim %d (%" PRId64 " > %" PRId64 ")", op,
                          st_tdesc(index), what, st_tdesc2(lim), d, index->shape[d], lim->shape[d]);
    }
    return ST_OK;
}

st_tensor *st_gather(st_tensor *x, int dim_in, st_tensor *index) {
    ST_CHECK_ARG("gather", x);
    ST_CHECK_ARG("gather", index);
    if (check_index_arg("gather", x, index) != ST_OK) return NULL;
    int dim = st_norm_axis("gather", dim_in, x->ndim);
    if (dim < 0) return NULL;
    if (check_index_shape("gather", index, x, "x", dim, true) != ST_OK) return NULL;
    int64_t bound = x->ndim ? x->shape[dim] : 1;
    if (st_numel(index) > 0 && check_indices("gather", x, index, dim, bound) != ST_OK) return NULL;
    st_tensor *out = st_new_like_dev(x, index->ndim, index->shape, x->dtype);
    if (!out) return NULL;
    if (st_numel(out) > 0) {
        st_kview ov = kv1(out), xv = kv1(x), iv = kv1(index);
        st_status s = backend_of(x)->gather(dev_of(x), &ov, &xv, dim, &iv);
        if (s != ST_OK) {
            st_err_prefix("gather: x %s, index %s", st_tdesc(x), st_tdesc2(index));
            st_release(out);
            return NULL;
        }
    }
    st_grad_ctx c;
    memset(&c, 0, sizeof c);
    c.op = ST_OP_GATHER;
    c.n_inputs = 2;
    c.inputs[0] = x;
    c.inputs[1] = index;
    c.iargs[0] = dim;
    return finish(out, &x, 1, &c);
}

static st_status scatter_check(st_tensor *x, int dim_in, st_tensor *index, st_tensor *src, int *dim_out) {
    if (check_index_arg("scatter", x, index) != ST_OK) return st_last_status();
    if (st_check_same_device("scatter", x, src) != ST_OK) return st_last_status();
    int dim = st_norm_axis("scatter", dim_in, x->ndim);
    if (dim < 0) return st_last_status();
    if (check_index_shape("scatter", index, x, "x", dim, true) != ST_OK) return st_last_status();
    if (check_index_shape("scatter", index, src, "src", dim, false) != ST_OK) return st_last_status();
    int64_t bound = x->ndim ? x->shape[dim] : 1;
    if (st_numel(index) > 0 && check_indices("scatter", x, index, dim, bound) != ST_OK) return st_last_status();
    *dim_out = dim;
    return ST_OK;
}

st_tensor *st_scatter(st_tensor *x, int dim_in, st_tensor *index, st_tensor *src, bool reduce_add) {
    ST_CHECK_ARG("scatter", x);
    ST_CHECK_ARG("scatter", index);
    ST_CHECK_ARG("scatter", src);
    int dim = 0;
    if (scatter_check(x, dim_in, index, src, &dim) != ST_OK) return NULL;
    /* The output starts as a plain copy of x (no autograd node of its own). */
    st_tensor *out = st_new_like_dev(x, x->ndim, x->shape, x->dtype);
    if (!out) return NULL;
    const st_backend *be = backend_of(x);
    st_kview ov = st_kview_of(out), xv = st_kview_of(x);
    st_status s = st_numel(out) > 0 ? be->copy(dev_of(x), &ov, &xv) : ST_OK;
    if (s == ST_OK && st_numel(index) > 0) {
        st_tensor *srcc = NULL;
        if (src->dtype != x->dtype) {
            /* Convert only the corner of src that index uses (no autograd node). */
            srcc = st_new_like_dev(src, index->ndim, index->shape, x->dtype);
            st_kview a = srcc ? st_kview_of(srcc) : ov, b = st_kview_of(src);
            for (int d = 0; d < b.ndim; d++) b.shape[d] = index->shape[d];
            s = srcc ? be->copy(dev_of(x), &a, &b) : st_last_status();
        }
        if (s == ST_OK) {
            st_kview dv = kv1(out), iv = kv1(index), sv = kv1(srcc ? srcc : src);
            s = be->scatter(dev_of(x), &dv, dim, &iv, &sv, reduce_add);
        }
        st_release(srcc);
    }
    if (s != ST_OK) {
        st_err_prefix("scatter: x %s, index %s", st_tdesc(x), st_tdesc2(index));
        st_release(out);
        return NULL;
    }
    st_grad_ctx c;
    memset(&c, 0, sizeof c);
    c.op = ST_OP_SCATTER;
    c.n_inputs = 3;
    c.inputs[0] = x;
    c.inputs[1] = index;
    c.inputs[2] = src;
    c.iargs[0] = dim;
    c.iargs[1] = reduce_add ? 1 : 0;
    st_tensor *diff[2] = {x, src};
    return finish(out, diff, 2, &c);
}
