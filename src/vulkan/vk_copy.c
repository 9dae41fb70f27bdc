/* vk_copy.c — data movement on the Vulkan backend: copy with dtype conversion over any
 * strides, fill; and the geometry preparation every strided kernel shares.
 */
#include "vk_fns.h"

#include <math.h>

const char *stvk_dt_suffix(int code) {
    static const char *const s[] = {"f32", "i32", "i64", "f64"};
    return code >= 0 && code < 4 ? s[code] : "?";
}

int64_t stvk_view_reach(const st_kview *v) {
    int64_t r = 1;
    for (int d = 0; d < v->ndim; d++) {
        if (v->shape[d] == 0) return 0;
        r += (v->shape[d] - 1) * v->strides[d];
    }
    return r;
}

st_status stvk_geom_prepare(int dev, const char *op, int nops, const st_kview *const *views, uint64_t *geom,
                            uint32_t *n) {
    int64_t numel = st_shape_numel(views[0]->ndim, views[0]->shape);
    for (int o = 0; o < nops; o++)
        if (stvk_view_reach(views[o]) > STVK_MAX_ELEMS || numel > STVK_MAX_ELEMS)
            return st_err(ST_E_UNSUPPORTED, "%s: a tensor of more than 2^31 elements is beyond the vulkan backend's "
                                            "32-bit indexing", op);
    *n = (uint32_t)numel;
    stvk_geom g;
    if (stvk_geom_make(&g, nops, views)) {
        *geom = 0;
        return ST_OK;
    }
    return stvk_upload_small(dev, &g, sizeof g, geom);
}

st_status stvk_copy(int dev, const st_kview *dst, const st_kview *src) {
    int dc = stvk_dtype_code(dev, dst->dtype, "copy"), sc = dc < 0 ? -1 : stvk_dtype_code(dev, src->dtype, "copy");
    if (dc < 0 || sc < 0) return st_last_status();
    const st_kview *vs[2] = {dst, src};
    uint64_t geom = 0;
    uint32_t n = 0;
    st_status s = stvk_geom_prepare(dev, "copy", 2, vs, &geom, &n);
    if (s != ST_OK || n == 0) return s;
    if (!geom && dc == sc) /* plain bytes */
        return stvk_copy_bytes(dev, dst->handle, (size_t)dst->offset * st_dtype_size(dst->dtype), src->handle,
                               (size_t)src->offset * st_dtype_size(src->dtype), (size_t)n * st_dtype_size(dst->dtype));
    char name[32];
    snprintf(name, sizeof name, "copy_%s_%s", stvk_dt_suffix(sc), stvk_dt_suffix(dc));
    stvk_kernel k = {.shader = name, .spec = {STVK_EW_WG}, .nspec = 1};
    struct {
        uint64_t dst, src, geom;
        int64_t n;
    } pc = {stvk_view_addr(dst), stvk_view_addr(src), geom, n};
    return stvk_dispatch_linear(dev, &k, stvk_groups_for(n, STVK_EW_WG, STVK_EW_MAX_GROUPS), &pc, sizeof pc);
}

st_status stvk_fill(int dev, const st_kview *dst, double value) {
    int dc = stvk_dtype_code(dev, dst->dtype, "fill");
    if (dc < 0) return st_last_status();
    const st_kview *vs[1] = {dst};
    uint64_t geom = 0;
    uint32_t n = 0;
    st_status s = stvk_geom_prepare(dev, "fill", 1, vs, &geom, &n);
    if (s != ST_OK || n == 0) return s;
    uint64_t bits;
    if (dc == STVK_DT_F32) {
        float f = (float)value;
        uint32_t u;
        memcpy(&u, &f, 4);
        bits = u;
    } else if (dc == STVK_DT_I32) {
        bits = (uint64_t)(int64_t)(int32_t)value;
    } else {
        bits = (uint64_t)(int64_t)value;
    }
    if (!geom && dc != STVK_DT_I64) /* 4-byte pattern: the transfer engine fills it */
        return stvk_fill_u32(dev, dst->handle, (size_t)dst->offset * 4, (size_t)n * 4, (uint32_t)bits);
    char name[32];
    snprintf(name, sizeof name, "fill_%s", stvk_dt_suffix(dc));
    stvk_kernel k = {.shader = name, .spec = {STVK_EW_WG}, .nspec = 1};
    struct {
        uint64_t dst, geom;
        int64_t n;
        uint64_t bits;
    } pc = {stvk_view_addr(dst), geom, n, bits};
    return stvk_dispatch_linear(dev, &k, stvk_groups_for(n, STVK_EW_WG, STVK_EW_MAX_GROUPS), &pc, sizeof pc);
}
