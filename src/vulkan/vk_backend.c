/* vk_backend.c — the Vulkan backend's vtable (device `vulkan`, alias `wgpu`) and the
 * geometry helper shared by its strided kernels.
 */
#include "vk_fns.h"

static int vk_device_count(char *why, size_t cap) { return stvk_device_count(why, cap); }

static int64_t vk_subgroup_size(int dev) {
    const stvk_caps *c = stvk_caps_of(dev);
    return c ? (int64_t)c->subgroup_size : 0;
}

/* A software Vulkan device (lavapipe: device type CPU) runs about 10x slower than the
 * CPU backend's own kernels: `auto` passes it by unless ST_VULKAN_ALLOW_CPU=1. Asking for
 * `--device vulkan` explicitly always works (that is how the tests use lavapipe). */
static bool vk_auto_eligible(int dev, char *why, size_t cap) {
    const stvk_caps *c = stvk_caps_of(dev);
    if (!c) {
        snprintf(why, cap, "%s", st_last_error());
        return false;
    }
    if (c->type == VK_PHYSICAL_DEVICE_TYPE_CPU && !st_env_on("ST_VULKAN_ALLOW_CPU")) {
        snprintf(why, cap, "device %d '%.80s' is a software (CPU) implementation, slower than the cpu backend "
                           "(ST_VULKAN_ALLOW_CPU=1 lets auto take it; --device vulkan always does)", dev, c->name);
        return false;
    }
    return true;
}

static st_status vk_identify(int dev, st_device_info *out) {
    const stvk_caps *c = stvk_caps_of(dev);
    if (!c) return st_last_status();
    snprintf(out->name, sizeof out->name, "%s", c->name);
    snprintf(out->vendor, sizeof out->vendor, "%s", c->vendor);
    snprintf(out->driver, sizeof out->driver, "%s", c->driver);
    out->subgroup_size = (int32_t)c->subgroup_size;
    out->max_workgroup = (int32_t)c->max_wg_invocations;
    out->shared_mem = c->shared_mem;
    return ST_OK;
}

static bool vk_dtype_supported(int dev, st_dtype dt) {
    (void)dev;
    return dt == ST_F32 || dt == ST_I32 || dt == ST_I64;
}

bool stvk_geom_make(stvk_geom *g, int nops, const st_kview *const *views) {
    memset(g, 0, sizeof *g);
    g->nops = nops;
    const st_kview *v0 = views[0];
    int nd = 0;
    /* drop size-1 dims, then merge a dim into the previous kept one when, for every
     * operand, stride[prev] == stride[cur] * shape[cur]. */
    for (int d = 0; d < v0->ndim; d++) {
        int64_t n = v0->shape[d];
        if (n == 1) continue;
        if (nd > 0) {
            bool merge = true;
            for (int o = 0; o < nops && merge; o++)
                merge = g->strides[o][nd - 1] == views[o]->strides[d] * n;
            if (merge) {
                g->shape[nd - 1] *= n;
                for (int o = 0; o < nops; o++) g->strides[o][nd - 1] = views[o]->strides[d];
                continue;
            }
        }
        g->shape[nd] = n;
        for (int o = 0; o < nops; o++) g->strides[o][nd] = views[o]->strides[d];
        nd++;
    }
    for (int d = 0; d < v0->ndim; d++)
        if (v0->shape[d] == 0) nd = 0, g->shape[0] = 0;
    if (nd == 0) { /* a scalar (or empty): one dim */
        bool empty = false;
        for (int d = 0; d < v0->ndim; d++) empty |= v0->shape[d] == 0;
        g->shape[0] = empty ? 0 : 1;
        for (int o = 0; o < nops; o++) g->strides[o][0] = 1;
        nd = 1;
    }
    g->ndim = nd;
    bool contig = nd == 1;
    for (int o = 0; o < nops && contig; o++) contig = g->strides[o][0] == 1;
    return contig;
}

const st_backend st_vulkan_backend = {
    .name = "vulkan",
    .kind = ST_BACKEND_VULKAN,
    .device_count = vk_device_count,
    .describe = stvk_describe,
    .sync = stvk_sync,
    .subgroup_size = vk_subgroup_size,
    .dtype_supported = vk_dtype_supported,
    .auto_eligible = vk_auto_eligible,
    .identify = vk_identify,
    .timer_start = stvk_timer_start,
    .timer_stop = stvk_timer_stop,
    .buf_alloc = stvk_buf_alloc,
    .buf_free = stvk_buf_free,
    .write = stvk_write,
    .read = stvk_read,
    .copy = stvk_copy,
    .fill = stvk_fill,
    .unary = stvk_unary,
    .binary = stvk_binary,
    .where = stvk_where,
    .reduce = stvk_reduce,
    .argmax = stvk_argmax,
    .matmul = stvk_matmul,
    .softmax = stvk_softmax,
    .index_select = stvk_index_select,
    .gather = stvk_gather,
    .scatter = stvk_scatter,
    .arange = stvk_arange,
    .random = stvk_random,
    .rankk = stvk_rankk,
};
