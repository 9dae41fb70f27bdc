/* rankk.c — TopK / BottomK / MidK: argument checks, the heuristic choice, dispatch to
 * the backend's rankk entry, autograd recording.
 *
 * Parameters: TopK/BottomK fields come from st_heur_choose, MidK fields from
 * st_heur_choose_midk, for the input's (rows, cols, k) and whether the device runs
 * subgroup kernels (backend entry subgroup_size; the CPU: no). Tests and the tuner can bypass the chain with
 * st_rankk_with_params (internal).
 *
 * Self-rewrite (SPEC §6, src/tune/selfrewrite.c): when ST_SELF_REWRITE=1, st_rankk_ex
 * may explore a neighbouring candidate, times the call (device sync before and after)
 * and records an observation. When it is unset the whole hook is one load of a cached
 * flag (st_sr_enabled()).
 *
 * Autograd (ctx layout): ctx.op = ST_OP_TOPK/BOTTOMK/MIDK, inputs = {x, indices (i64
 * or i32)}, iargs[0] = k. Backward: scatter-add of the values' gradient into zeros of
 * x's shape at the indices along the last axis.
 */
#include "op_common.h"

#include <pthread.h>

#include "heur/heur.h"
#include "tune/tune.h"

#include <time.h>

static const char *kind_name(st_rankk_kind kind) {
    return kind == ST_TOPK ? "topk" : kind == ST_BOTTOMK ? "bottomk" : "midk";
}

bool st_rankk_uses_subgroup(const st_backend *be, int dev) {
    /* The CPU kernels have no subgroups; a GPU backend reports its subgroup size (then
     * the sg buckets of the tables and rules apply). */
    return be && be->subgroup_size && be->subgroup_size(dev) > 0;
}

void st_rankk_params_from_values(int kind, const int32_t *v, st_rankk_params *p) {
    memset(p, 0, sizeof *p);
    if (kind == ST_HEUR_MIDK) {
        st_heur_midk_choice c;
        for (int f = 0; f < hk_kinds[kind].nfields; f++) hk_field_store(kind, f, &c, v[f]);
        p->wg = c.wg;
        p->tile = c.tile;
        p->u2 = c.u2;
        p->algo = ST_RANKK_ALGO_RADIX;
        return;
    }
    st_heur_choice c;
    for (int f = 0; f < hk_kinds[kind].nfields; f++) hk_field_store(kind, f, &c, v[f]);
    p->u2 = c.u2;
    p->wg = c.wg;
    p->kl = c.kl;
    p->ch = c.ch;
    p->algo = c.algo;
    p->est = c.est;
}

/* The heuristics validate against one device's limits and use only tables tuned on its
 * backend: when a rank-K call runs on another device than the last one, hand the chain
 * that device's identity (a change invalidates the chain's cache; alternating devices
 * then pay a chain walk per switch, not per call). */
static void heur_follow_device(const st_backend *be, int dev) {
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static const st_backend *last_be;
    static int last_dev = -1;
    /* The common case (same device as the last call) takes no lock. */
    if (__atomic_load_n(&last_be, __ATOMIC_ACQUIRE) == be && __atomic_load_n(&last_dev, __ATOMIC_ACQUIRE) == dev)
        return;
    pthread_mutex_lock(&mu);
    if (be != last_be || dev != last_dev) {
        st_device_info info;
        memset(&info, 0, sizeof info);
        if (be->kind != ST_BACKEND_CPU && be->identify && be->identify(dev, &info) == ST_OK && info.max_workgroup > 0) {
            st_heur_limits lim = {info.max_workgroup, info.subgroup_size, info.shared_mem};
            st_heur_set_limits(&lim);
        } else if (last_be && last_be->kind != ST_BACKEND_CPU) {
            st_heur_set_limits(NULL); /* back from a GPU: the default limits */
        }
        st_heur_set_backend(be->name);
        __atomic_store_n(&last_dev, dev, __ATOMIC_RELEASE);
        __atomic_store_n(&last_be, be, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&mu);
}

st_status st_heur_set_device(st_device dev) {
    const st_backend *be = st_backend_get(dev.kind);
    if (!be) return st_err(ST_E_DEVICE, "st_heur_set_device: backend '%s' is not compiled in", st_backend_name(dev.kind));
    heur_follow_device(be, dev.index);
    return ST_OK;
}

/* Heuristic parameters for this call. */
st_status st_rankk_params_for(st_rankk_kind kind, int64_t rows, int64_t cols, int64_t k, bool subgroup,
                              st_rankk_params *p) {
    memset(p, 0, sizeof *p);
    if (kind == ST_MIDK) {
        st_heur_midk_choice c;
        st_status s = st_heur_choose_midk(rows, cols, k, subgroup, &c);
        if (s != ST_OK) return s;
        p->wg = c.wg;
        p->tile = c.tile;
        p->u2 = c.u2;
        p->algo = ST_RANKK_ALGO_RADIX;
        return ST_OK;
    }
    st_heur_choice c;
    st_status s = st_heur_choose(rows, cols, k, subgroup, &c);
    if (s != ST_OK) return s;
    p->u2 = c.u2;
    p->wg = c.wg;
    p->kl = c.kl;
    p->ch = c.ch;
    p->algo = c.algo;
    p->est = c.est;
    return ST_OK;
}

st_status st_rankk_with_params(st_tensor *x, st_rankk_kind kind, int64_t k, st_dtype index_dtype,
                               const st_rankk_params *params, st_tensor **values, st_tensor **indices) {
    const char *op = kind_name(kind);
    if (values) *values = NULL;
    if (indices) *indices = NULL;
    if (!x) return st_err(ST_E_INVALID_ARG, "%s: argument 'x' is NULL", op);
    if (!values) return st_err(ST_E_INVALID_ARG, "%s: argument 'values' is NULL", op);
    if ((unsigned)kind > ST_MIDK) return st_err(ST_E_INVALID_ARG, "rank-K: kind %d is not TopK/BottomK/MidK", (int)kind);
    if (index_dtype != ST_I32 && index_dtype != ST_I64)
        return st_err(ST_E_DTYPE, "%s: index dtype %s is not i32 or i64", op, st_dtype_name(index_dtype));
    if (x->ndim < 1) return st_err(ST_E_SHAPE, "%s: input %s has no axis to select along", op, st_tdesc(x));
    int64_t n = x->shape[x->ndim - 1];
    if (k < 0 || k > n)
        return st_err(ST_E_INVALID_ARG, "%s: k=%lld is out of range [0, %lld] for input %s", op, (long long)k,
                      (long long)n, st_tdesc(x));
    if (index_dtype == ST_I32 && n > INT32_MAX)
        return st_err(ST_E_INVALID_ARG, "%s: %lld columns do not fit i32 indices; ask for i64", op, (long long)n);
    const st_backend *be = st_tensor_backend(x);
    if (!be->rankk) return st_err(ST_E_UNSUPPORTED, "%s: backend '%s' has no rank-K kernels", op, be->name);

    int64_t shape[ST_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = k;
    st_tensor *v = st_new_like_dev(x, x->ndim, shape, x->dtype);
    st_tensor *ix = v ? st_new_like_dev(x, x->ndim, shape, index_dtype) : NULL;
    if (!ix) {
        st_release(v);
        return st_last_status();
    }
    st_kview xv = st_kview_of(x), vv = st_kview_of(v), iv = st_kview_of(ix);
    st_status s = be->rankk(x->storage->dev_index, (st_rank_mode)kind, &vv, &iv, &xv, k, params);
    if (s != ST_OK) {
        st_release(v);
        st_release(ix);
        return st_err_prefix("%s (input %s, k=%lld)", op, st_tdesc(x), (long long)k);
    }
    if (st_grad_needed(&x, 1)) {
        st_grad_ctx c;
        memset(&c, 0, sizeof c);
        c.op = kind == ST_TOPK ? ST_OP_TOPK : kind == ST_BOTTOMK ? ST_OP_BOTTOMK : ST_OP_MIDK;
        c.n_inputs = 2;
        c.inputs[0] = x;
        c.inputs[1] = ix;
        c.iargs[0] = k;
        v = st_autograd_record(v, &c);
        if (!v) {
            st_release(ix);
            return st_last_status();
        }
    }
    *values = v;
    if (indices)
        *indices = ix;
    else
        st_release(ix);
    return ST_OK;
}

/* The self-rewrite path: the chain's choice (or a neighbour, when exploring), timed
 * between two device syncs, then recorded. Observation failures are logged, never
 * returned: learning must not break the op. */
static st_status observed(st_tensor *x, st_rankk_kind kind, int64_t rows, int64_t n, int64_t k, bool sg,
                          st_dtype index_dtype, st_tensor **values, st_tensor **indices) {
    int hk = kind == ST_MIDK ? ST_HEUR_MIDK : ST_HEUR_TOPK;
    int32_t v[ST_HEUR_MAX_FIELDS] = {0};
    union {
        st_heur_choice t;
        st_heur_midk_choice m;
    } c;
    st_status s = hk == ST_HEUR_MIDK ? st_heur_choose_midk(rows, n, k, sg, &c.m) : st_heur_choose(rows, n, k, sg, &c.t);
    if (s != ST_OK) return s;
    for (int f = 0; f < hk_kinds[hk].nfields; f++) v[f] = hk_field_load(hk, f, &c);
    bool explored = st_sr_explore(hk, rows, n, k, sg, v);
    st_rankk_params p;
    st_rankk_params_from_values(hk, v, &p);
    st_device dev = st_tensor_device(x);
    if ((s = st_device_sync(dev)) != ST_OK) return s;
    double t0 = st_mono_ms();
    s = st_rankk_with_params(x, kind, k, index_dtype, &p, values, indices);
    if (s != ST_OK) return s;
    if (st_device_sync(dev) != ST_OK) return ST_OK; /* the result stands; nothing to learn */
    double ms = st_mono_ms() - t0;
    if (st_sr_observe(hk, rows, n, k, sg, v, ms, explored) != ST_OK)
        st_logf(ST_LOG_WARN, "self-rewrite: observation not recorded: %s", st_last_error());
    st_clear_error();
    return ST_OK;
}

st_status st_rankk_ex(st_tensor *x, st_rankk_kind kind, int64_t k, st_dtype index_dtype, st_tensor **values,
                      st_tensor **indices) {
    if (!x) return st_err(ST_E_INVALID_ARG, "%s: argument 'x' is NULL", kind_name(kind));
    if ((unsigned)kind > ST_MIDK) return st_err(ST_E_INVALID_ARG, "rank-K: kind %d is not TopK/BottomK/MidK", (int)kind);
    int64_t n = x->ndim ? x->shape[x->ndim - 1] : 0;
    int64_t rows = n ? st_numel(x) / n : 0;
    bool sg = st_rankk_uses_subgroup(st_tensor_backend(x), x->storage->dev_index);
    heur_follow_device(st_tensor_backend(x), x->storage->dev_index);
    st_rankk_params p;
    st_status s = st_rankk_params_for(kind, rows, n, k < 0 ? 0 : k, sg, &p);
    if (s != ST_OK) return s;
    if (st_sr_enabled() && k >= 0 && k <= n) return observed(x, kind, rows, n, k, sg, index_dtype, values, indices);
    return st_rankk_with_params(x, kind, k, index_dtype, &p, values, indices);
}

st_status st_topk(st_tensor *x, int64_t k, st_tensor **values, st_tensor **indices) {
    return st_rankk_ex(x, ST_TOPK, k, ST_I32, values, indices);
}
st_status st_bottomk(st_tensor *x, int64_t k, st_tensor **values, st_tensor **indices) {
    return st_rankk_ex(x, ST_BOTTOMK, k, ST_I32, values, indices);
}
st_status st_midk(st_tensor *x, int64_t k, st_tensor **values, st_tensor **indices) {
    return st_rankk_ex(x, ST_MIDK, k, ST_I32, values, indices);
}
