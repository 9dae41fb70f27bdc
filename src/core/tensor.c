/* tensor.c — tensor headers, storage, reference counting and inspection.
 *
 * A tensor header owns one reference to its storage. Storage is created on a backend
 * (st_storage.be) and freed through it when the last reference goes.
 */
#include "../backend/backend.h"

#include <math.h>

static bool valid_dtype(st_dtype dt) { return (unsigned)dt < ST_NUM_DTYPES; }

int64_t st_shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

static st_status check_shape(int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > ST_MAX_DIMS)
        return st_err(ST_E_SHAPE, "ndim %d is out of range [0, %d]", ndim, ST_MAX_DIMS);
    if (ndim > 0 && !shape) return st_err(ST_E_INVALID_ARG, "shape is NULL for ndim %d", ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return st_err(ST_E_SHAPE, "shape[%d] = %lld is negative", i, (long long)shape[i]);
        if (shape[i] > 0 && n > (INT64_C(1) << 47) / shape[i])
            return st_err(ST_E_SHAPE, "shape is too large (more than 2^47 elements)");
        n *= shape[i];
    }
    return ST_OK;
}

const st_backend *st_tensor_backend(const st_tensor *t) { return t->storage->be; }
st_device st_tensor_device(const st_tensor *t) {
    return (st_device){t->storage->be->kind, t->storage->dev_index};
}

static void contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] > 0 ? shape[i] : 1;
    }
}

int st_dims_push(int cnt, int64_t *sizes, int64_t **strides, int ns, int64_t n, const int64_t *s) {
    if (cnt > 0) {
        bool ok = true;
        for (int k = 0; k < ns; k++) ok = ok && strides[k][cnt - 1] == s[k] * n;
        if (ok) {
            sizes[cnt - 1] *= n;
            for (int k = 0; k < ns; k++) strides[k][cnt - 1] = s[k];
            return cnt;
        }
    }
    sizes[cnt] = n;
    for (int k = 0; k < ns; k++) strides[k][cnt] = s[k];
    return cnt + 1;
}

bool st_device_supports_dtype(st_device dev, st_dtype dt) {
    const st_backend *be = st_backend_get(dev.kind);
    if (!be || !valid_dtype(dt)) return false;
    return !be->dtype_supported || be->dtype_supported(dev.index, dt);
}

st_tensor *st_tensor_new(st_device dev, int ndim, const int64_t *shape, st_dtype dt) {
    if (!valid_dtype(dt)) {
        st_err(ST_E_DTYPE, "dtype %d is not a valid st_dtype", (int)dt);
        return NULL;
    }
    if (check_shape(ndim, shape) != ST_OK) return NULL;
    const st_backend *be = st_backend_get(dev.kind);
    if (!be) {
        st_err(ST_E_DEVICE, "backend '%s' is not compiled in", st_backend_name(dev.kind));
        return NULL;
    }
    if (be->dtype_supported && !be->dtype_supported(dev.index, dt)) {
        st_err(ST_E_DTYPE, "%s: dtype %s is not supported on this backend (see spiral info); use the cpu device",
               be->name, st_dtype_name(dt));
        return NULL;
    }
    st_tensor *t = st_calloc(1, sizeof *t);
    if (!t) return NULL;
    st_storage *s = st_calloc(1, sizeof *s);
    if (!s) {
        st_free(t);
        return NULL;
    }
    size_t nbytes = (size_t)st_shape_numel(ndim, shape) * st_dtype_size(dt);
    s->refcount = 1;
    s->be = be;
    s->dev_index = dev.index;
    s->nbytes = nbytes;
    if (be->buf_alloc(dev.index, nbytes, &s->handle) != ST_OK) {
        st_free(s);
        st_free(t);
        return NULL;
    }
    t->refcount = 1;
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    contiguous_strides(ndim, shape, t->strides);
    t->storage = s;
    return t;
}

st_tensor *st_tensor_view(st_tensor *base, int ndim, const int64_t *shape, const int64_t *strides, int64_t offset) {
    st_tensor *t = st_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->refcount = 1;
    t->dtype = base->dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->strides[i] = strides[i];
    }
    t->offset = offset;
    t->storage = base->storage;
    base->storage->refcount++;
    return t;
}

st_tensor *st_retain(st_tensor *t) {
    if (t) t->refcount++;
    return t;
}

void st_autograd_release_node(struct st_autograd_node *n); /* src/autograd, weak default below */

void st_release(st_tensor *t) {
    if (!t) return;
    if (--t->refcount > 0) return;
    st_release(t->grad);
    if (t->grad_fn) st_autograd_release_node(t->grad_fn);
    st_storage *s = t->storage;
    if (s && --s->refcount == 0) {
        s->be->buf_free(s->dev_index, s->handle, s->nbytes);
        st_free(s);
    }
    st_free(t);
}

st_kview st_kview_of(const st_tensor *t) {
    st_kview v;
    memset(&v, 0, sizeof v);
    v.handle = t->storage->handle;
    v.offset = t->offset;
    v.dtype = t->dtype;
    v.ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++) {
        v.shape[i] = t->shape[i];
        v.strides[i] = t->strides[i];
    }
    return v;
}

bool st_kview_contiguous(const st_kview *v) {
    int64_t s = 1;
    for (int i = v->ndim - 1; i >= 0; i--) {
        if (v->shape[i] != 1 && v->strides[i] != s) return false;
        s *= v->shape[i];
    }
    return true;
}

int st_ndim(const st_tensor *t) { return t ? t->ndim : -1; }
const int64_t *st_shape(const st_tensor *t) { return t ? t->shape : NULL; }
const int64_t *st_strides(const st_tensor *t) { return t ? t->strides : NULL; }
int64_t st_numel(const st_tensor *t) { return t ? st_shape_numel(t->ndim, t->shape) : 0; }
st_dtype st_get_dtype(const st_tensor *t) { return t->dtype; }
st_device st_get_device(const st_tensor *t) { return st_tensor_device(t); }
bool st_is_contiguous(const st_tensor *t) {
    st_kview v = st_kview_of(t);
    return st_kview_contiguous(&v);
}

void st_fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "[");
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%lld", i ? "," : "", (long long)shape[i]);
    snprintf(buf + n, n < cap ? cap - n : 0, "]");
}

static void tdesc_into(char *buf, size_t cap, const st_tensor *t) {
    if (!t) {
        snprintf(buf, cap, "NULL");
        return;
    }
    char sh[160];
    st_fmt_shape(sh, sizeof sh, t->ndim, t->shape);
    snprintf(buf, cap, "%s%s", st_dtype_name(t->dtype), sh);
}
const char *st_tdesc(const st_tensor *t) {
    static _Thread_local char buf[200];
    tdesc_into(buf, sizeof buf, t);
    return buf;
}
const char *st_tdesc2(const st_tensor *t) {
    static _Thread_local char buf[200];
    tdesc_into(buf, sizeof buf, t);
    return buf;
}

st_status st_describe(const st_tensor *t, char *buf, size_t cap) {
    if (!t || !buf) return st_err(ST_E_INVALID_ARG, "st_describe: NULL argument");
    char sh[160];
    st_fmt_shape(sh, sizeof sh, t->ndim, t->shape);
    snprintf(buf, cap, "%s%s %s:%d", st_dtype_name(t->dtype), sh, t->storage->be->name, t->storage->dev_index);
    return ST_OK;
}

int st_norm_axis(const char *op, int axis, int ndim) {
    int n = ndim > 0 ? ndim : 1;
    if (axis < -n || axis >= n) {
        st_err(ST_E_INDEX, "%s: axis %d is out of range for %d dims", op, axis, ndim);
        return -1;
    }
    return axis < 0 ? axis + n : axis;
}

/* ---------------------------------------------------------------- data movement */

void *st_data_ptr(st_tensor *t) {
    if (!t || t->storage->be->kind != ST_BACKEND_CPU) return NULL;
    return (char *)t->storage->handle + t->offset * (int64_t)st_dtype_size(t->dtype);
}

/* Copy into a new contiguous tensor of dtype dt on device dev. */
static st_tensor *copy_to(st_tensor *t, st_device dev, st_dtype dt) {
    st_tensor *out = st_tensor_new(dev, t->ndim, t->shape, dt);
    if (!out) return NULL;
    st_device src_dev = st_tensor_device(t);
    const st_backend *sb = t->storage->be;
    st_status s;
    if (src_dev.kind == dev.kind && src_dev.index == dev.index) {
        st_kview d = st_kview_of(out), x = st_kview_of(t);
        s = sb->copy(dev.index, &d, &x);
    } else {
        /* Cross-device: bring to a contiguous host copy of dtype dt, then upload. */
        size_t nbytes = (size_t)st_numel(t) * st_dtype_size(dt);
        void *host = st_malloc_aligned(nbytes ? nbytes : 1, 64);
        if (!host) {
            st_release(out);
            return NULL;
        }
        s = st_to_host(t, dt, host, nbytes);
        if (s == ST_OK) s = out->storage->be->write(dev.index, out->storage->handle, 0, host, nbytes);
        st_free(host);
    }
    if (s != ST_OK) {
        st_release(out);
        return NULL;
    }
    return out;
}

st_status st_to_host(const st_tensor *t, st_dtype dt, void *dst, size_t cap) {
    if (!t || !dst) return st_err(ST_E_INVALID_ARG, "st_to_host: NULL argument");
    if (!valid_dtype(dt)) return st_err(ST_E_DTYPE, "st_to_host: dtype %d is not valid", (int)dt);
    int64_t n = st_numel(t);
    size_t need = (size_t)n * st_dtype_size(dt);
    if (cap < need)
        return st_err(ST_E_INVALID_ARG, "st_to_host: buffer of %zu bytes is too small for %s as %s (%zu bytes)",
                      cap, st_tdesc(t), st_dtype_name(dt), need);
    st_tensor *src = (st_tensor *)t;
    const st_backend *be = src->storage->be;
    st_tensor *tmp = NULL;
    bool on_cpu = be->kind == ST_BACKEND_CPU;
    if (!st_is_contiguous(src) || (on_cpu && src->dtype != dt)) {
        /* Compact (and on the CPU convert) on the tensor's own device first. */
        tmp = copy_to(src, st_tensor_device(src), on_cpu ? dt : src->dtype);
        if (!tmp) return st_last_status();
        src = tmp;
    }
    st_status s = ST_OK;
    size_t esz = st_dtype_size(src->dtype);
    if (!need) {
    } else if (src->dtype == dt) {
        s = be->read(src->storage->dev_index, src->storage->handle, (size_t)src->offset * esz, dst, need);
    } else {
        /* A device's contiguous data in its own dtype, converted on the host by the CPU
         * kernel (a device need not run every dtype, e.g. f64 on Vulkan). */
        void *raw = st_malloc_aligned((size_t)n * esz, 64);
        s = raw ? be->read(src->storage->dev_index, src->storage->handle, (size_t)src->offset * esz, raw, (size_t)n * esz)
                : st_last_status();
        if (s == ST_OK) {
            st_kview dv = {.handle = dst, .offset = 0, .dtype = dt, .ndim = 1, .shape = {n}, .strides = {1}};
            st_kview sv = {.handle = raw, .offset = 0, .dtype = src->dtype, .ndim = 1, .shape = {n}, .strides = {1}};
            s = st_cpu_backend.copy(0, &dv, &sv);
        }
        st_free(raw);
    }
    st_release(tmp);
    return s;
}

st_status st_item(const st_tensor *t, double *out) {
    if (!t || !out) return st_err(ST_E_INVALID_ARG, "st_item: NULL argument");
    if (st_numel(t) != 1) return st_err(ST_E_SHAPE, "st_item: %s has %lld elements, not 1", st_tdesc(t), (long long)st_numel(t));
    return st_to_host(t, ST_F64, out, sizeof *out);
}

st_tensor *st_contiguous(st_tensor *t) {
    if (!t) {
        st_err(ST_E_INVALID_ARG, "st_contiguous: NULL tensor");
        return NULL;
    }
    if (st_is_contiguous(t)) return st_retain(t);
    return st_clone(t);
}

/* Autograd hooks: src/autograd overrides these with strong definitions. */
__attribute__((weak)) void st_autograd_release_node(struct st_autograd_node *n) { (void)n; }
__attribute__((weak)) st_tensor *st_autograd_copy(st_tensor *t, st_tensor *out) {
    (void)t;
    return out;
}

st_tensor *st_clone(st_tensor *t) {
    if (!t) {
        st_err(ST_E_INVALID_ARG, "st_clone: NULL tensor");
        return NULL;
    }
    st_tensor *out = copy_to(t, st_tensor_device(t), t->dtype);
    return out ? st_autograd_copy(t, out) : NULL;
}

st_tensor *st_to_dtype(st_tensor *t, st_dtype dt) {
    if (!t) {
        st_err(ST_E_INVALID_ARG, "st_to_dtype: NULL tensor");
        return NULL;
    }
    if (!valid_dtype(dt)) {
        st_err(ST_E_DTYPE, "st_to_dtype: dtype %d is not valid", (int)dt);
        return NULL;
    }
    if (dt == t->dtype) return st_retain(t);
    st_tensor *out = copy_to(t, st_tensor_device(t), dt);
    return out ? st_autograd_copy(t, out) : NULL;
}

st_tensor *st_to_device(st_tensor *t, st_device dev) {
    if (!t) {
        st_err(ST_E_INVALID_ARG, "st_to_device: NULL tensor");
        return NULL;
    }
    st_device cur = st_tensor_device(t);
    if (cur.kind == dev.kind && cur.index == dev.index) return st_retain(t);
    st_tensor *out = copy_to(t, dev, t->dtype);
    return out ? st_autograd_copy(t, out) : NULL;
}

st_status st_fill_(st_tensor *t, double value) {
    if (!t) return st_err(ST_E_INVALID_ARG, "st_fill_: NULL tensor");
    st_kview v = st_kview_of(t);
    return t->storage->be->fill(t->storage->dev_index, &v, value);
}
