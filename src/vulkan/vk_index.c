/* vk_index.c — index_select, gather and scatter on the Vulkan backend
 * (shaders/rm_index.comp).
 *
 * Contract (backend.h): shapes, dtypes and every index were validated by the op layer;
 * dst and x/src share one dtype; index views are i32/i64; all views may be strided.
 * Invariants:
 * - index_select and gather are one kernel: dst element i reads x at (x's offset of i
 *   with dim's stride set to 0) + v * x.stride[dim], v the index element that goes with
 *   i (index_select: the 1-D index seen with dst's shape, stride 0 off dim). Bits move
 *   unconverted (4- or 8-byte elements).
 * - scatter: one invocation per position of the slice across dim (index, src and dst
 *   share the index's shape off dim); it walks dim in index order, so repeated indices
 *   resolve as on the CPU (the last write wins, additions in index order), and no two
 *   invocations touch one dst element: deterministic, without atomics.
 * - 32-bit indexing: every view's reach must stay below 2^31 elements.
 */
#include "vk_fns.h"

typedef struct ipc {
    uint64_t dst, x, idx, geom;
    uint32_t n, nj, xd, is_d, ss_d, pad;
} ipc;

static st_status too_big(const char *op) {
    return st_err(ST_E_UNSUPPORTED, "%s: a tensor of more than 2^31 elements is beyond the vulkan backend's 32-bit "
                                    "indexing", op);
}

/* dst[i] = x[xz(i) + idx(i) * xd] over the views (dst, idxv, xz) of dst's shape. */
static st_status run_gather(int dev, const char *op, const st_kview *dst, const st_kview *x, const st_kview *idxv,
                            const st_kview *xz, int64_t xd) {
    if (stvk_dtype_code(dev, dst->dtype, op) < 0) return st_last_status();
    if (stvk_view_reach(x) > STVK_MAX_ELEMS) return too_big(op);
    const st_kview *vs[3] = {dst, idxv, xz};
    uint64_t geom = 0;
    uint32_t n = 0;
    st_status s = stvk_geom_prepare(dev, op, 3, vs, &geom, &n);
    if (s != ST_OK || n == 0) return s;
    char name[32];
    snprintf(name, sizeof name, "rm_gather_e%d_%s", st_dtype_size(dst->dtype) == 8 ? 64 : 32,
             idxv->dtype == ST_I64 ? "i64" : "i32");
    stvk_kernel k = {.shader = name, .spec = {STVK_EW_WG}, .nspec = 1};
    ipc pc = {stvk_view_addr(dst), stvk_view_addr(x), stvk_view_addr(idxv), geom, n, 0, (uint32_t)xd, 0, 0, 0};
    return stvk_dispatch_linear(dev, &k, stvk_groups_for(n, STVK_EW_WG, STVK_EW_MAX_GROUPS), &pc, sizeof pc);
}

st_status stvk_index_select(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx) {
    st_kview iv = *dst, xz = *x;
    iv.handle = idx->handle;
    iv.offset = idx->offset;
    iv.dtype = idx->dtype;
    for (int d = 0; d < dst->ndim; d++) {
        iv.strides[d] = d == dim ? idx->strides[0] : 0;
        xz.shape[d] = dst->shape[d];
    }
    xz.strides[dim] = 0;
    return run_gather(dev, "index_select", dst, x, &iv, &xz, x->strides[dim]);
}

st_status stvk_gather(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx) {
    st_kview xz = *x;
    for (int d = 0; d < xz.ndim; d++) xz.shape[d] = dst->shape[d];
    xz.strides[dim] = 0;
    return run_gather(dev, "gather", dst, x, idx, &xz, x->strides[dim]);
}

st_status stvk_scatter(int dev, const st_kview *dst, int dim, const st_kview *idx, const st_kview *src, bool add) {
    int dc = stvk_dtype_code(dev, dst->dtype, "scatter");
    if (dc < 0) return st_last_status();
    if (stvk_view_reach(dst) > STVK_MAX_ELEMS || stvk_view_reach(src) > STVK_MAX_ELEMS || stvk_view_reach(idx) > STVK_MAX_ELEMS)
        return too_big("scatter");
    st_kview si = *idx, ss = *src, sd = *dst;
    for (int d = 0; d < si.ndim; d++) ss.shape[d] = sd.shape[d] = si.shape[d];
    si.shape[dim] = ss.shape[dim] = sd.shape[dim] = 1;
    int64_t nj = idx->shape[dim];
    const st_kview *vs[3] = {&si, &ss, &sd};
    uint64_t geom = 0;
    uint32_t n = 0;
    st_status s = stvk_geom_prepare(dev, "scatter", 3, vs, &geom, &n);
    if (s != ST_OK || n == 0 || nj == 0) return s;
    char name[32];
    snprintf(name, sizeof name, "rm_scatter_%s_%s", stvk_dt_suffix(dc), idx->dtype == ST_I64 ? "i64" : "i32");
    stvk_kernel k = {.shader = name, .spec = {STVK_EW_WG, add ? 1u : 0u}, .nspec = 2};
    ipc pc = {stvk_view_addr(dst), stvk_view_addr(src), stvk_view_addr(idx), geom, n, (uint32_t)nj,
              (uint32_t)dst->strides[dim], (uint32_t)idx->strides[dim], (uint32_t)src->strides[dim], 0};
    /* one invocation per slice position (the shader has no grid-stride loop) */
    return stvk_dispatch_linear(dev, &k, stvk_groups_for(n, STVK_EW_WG, UINT32_MAX), &pc, sizeof pc);
}
