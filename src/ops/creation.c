/* creation.c — tensor factories: empty, zeros, ones, full, scalar, arange, rand,
 * randn, from_data. New tensors go to the default device unless a device is given. */
#include "op_common.h"

#include <math.h>

st_tensor *st_empty_on(st_device dev, int ndim, const int64_t *shape, st_dtype dt) {
    return st_tensor_new(dev, ndim, shape, dt);
}
st_tensor *st_empty(int ndim, const int64_t *shape, st_dtype dt) {
    return st_tensor_new(st_get_default_device(), ndim, shape, dt);
}

st_tensor *st_full(int ndim, const int64_t *shape, st_dtype dt, double value) {
    st_tensor *t = st_empty(ndim, shape, dt);
    if (t && st_fill_(t, value) != ST_OK) {
        st_release(t);
        return NULL;
    }
    return t;
}
st_tensor *st_zeros(int ndim, const int64_t *shape, st_dtype dt) { return st_full(ndim, shape, dt, 0.0); }
st_tensor *st_ones(int ndim, const int64_t *shape, st_dtype dt) { return st_full(ndim, shape, dt, 1.0); }
st_tensor *st_scalar(double value, st_dtype dt) { return st_full(0, NULL, dt, value); }

st_tensor *st_arange(double start, double end, double step, st_dtype dt) {
    if (!isfinite(start) || !isfinite(end) || !isfinite(step) || step == 0) {
        st_err(ST_E_INVALID_ARG, "arange: start=%g end=%g step=%g: need finite values and a non-zero step", start, end,
               step);
        return NULL;
    }
    double cnt = ceil((end - start) / step);
    if (cnt < 0) cnt = 0;
    if (cnt > (double)(INT64_C(1) << 40)) {
        st_err(ST_E_INVALID_ARG, "arange: %g elements is too many", cnt);
        return NULL;
    }
    int64_t n = (int64_t)cnt;
    st_tensor *t = st_empty(1, &n, dt);
    if (!t) return NULL;
    st_kview v = st_kview_of(t);
    if (n > 0 && st_tensor_backend(t)->arange(v.handle ? t->storage->dev_index : 0, &v, start, step) != ST_OK) {
        st_release(t);
        return NULL;
    }
    return t;
}

static st_tensor *random_impl(const char *op, st_op kind, st_rng *rng, int ndim, const int64_t *shape, st_dtype dt) {
    if (!st_dtype_is_float(dt)) {
        st_err(ST_E_DTYPE, "%s: dtype %s is not a float dtype", op, st_dtype_name(dt));
        return NULL;
    }
    st_tensor *t = st_empty(ndim, shape, dt);
    if (!t) return NULL;
    uint64_t seed, off;
    st_rng_reserve(rng, (uint64_t)st_numel(t), &seed, &off);
    st_kview v = st_kview_of(t);
    if (st_tensor_backend(t)->random(t->storage->dev_index, kind, &v, seed, off) != ST_OK) {
        st_release(t);
        return NULL;
    }
    return t;
}
st_tensor *st_rand_gen(st_rng *rng, int ndim, const int64_t *shape, st_dtype dt) {
    return random_impl("rand", ST_OP_RAND, rng, ndim, shape, dt);
}
st_tensor *st_randn_gen(st_rng *rng, int ndim, const int64_t *shape, st_dtype dt) {
    return random_impl("randn", ST_OP_RANDN, rng, ndim, shape, dt);
}
st_tensor *st_rand(int ndim, const int64_t *shape, st_dtype dt) { return st_rand_gen(NULL, ndim, shape, dt); }
st_tensor *st_randn(int ndim, const int64_t *shape, st_dtype dt) { return st_randn_gen(NULL, ndim, shape, dt); }

st_tensor *st_from_data_on(st_device dev, const void *data, int ndim, const int64_t *shape, st_dtype dt) {
    if (!data && ndim >= 0 && shape && st_shape_numel(ndim, shape) > 0) {
        st_err(ST_E_INVALID_ARG, "from_data: data is NULL");
        return NULL;
    }
    st_tensor *t = st_tensor_new(dev, ndim, shape, dt);
    if (!t) return NULL;
    size_t n = (size_t)st_numel(t) * st_dtype_size(dt);
    if (n && st_tensor_backend(t)->write(dev.index, t->storage->handle, 0, data, n) != ST_OK) {
        st_release(t);
        return NULL;
    }
    return t;
}
st_tensor *st_from_data(const void *data, int ndim, const int64_t *shape, st_dtype dt) {
    return st_from_data_on(st_get_default_device(), data, ndim, shape, dt);
}
