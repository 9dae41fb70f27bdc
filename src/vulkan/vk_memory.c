/* vk_memory.c — device buffers, the pool, staging, host <-> device transfers.
 *
 * Tensor buffers live in DEVICE_LOCAL memory (on a discrete GPU host-visible memory
 * sits across PCIe: ~70 GB/s instead of ~3 TB/s on an H100). Sizes are rounded to size
 * classes (4 KiB minimum, then quarter steps between powers of two) and freed buffers
 * wait in per-class free lists. The pool is stream-ordered: a buffer freed after the
 * commands that use it were recorded can serve the next allocation at once, because
 * every later command runs after them (see vk_internal.h). Cached bytes are bounded by
 * ST_VULKAN_POOL_MB (default 2048); going over waits for the device and trims.
 * Uploads of up to 64 KiB are inlined with vkCmdUpdateBuffer; larger ones go through a
 * host-visible staging buffer recycled after its batch's fence. Reads wait.
 */
#include "vk_fns.h"

#include <stdlib.h>

#define SMALL_CLASS ((size_t)4096)
#define ARENA_BYTES ((size_t)256 << 10)
#define UPDATE_MAX ((size_t)65536)
#define HOST_KEEP 32

static size_t size_class(size_t n, int *e_out, int *j_out) {
    if (n <= SMALL_CLASS) { /* the slot the general rule gives 4096 (e 11, j 3): (12, 0) is 5120's */
        *e_out = 11;
        *j_out = 3;
        return SMALL_CLASS;
    }
    int e = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^e < n <= 2^(e+1) */
    size_t base = (size_t)1 << e, q = base >> 2;
    size_t j = (n - base + q - 1) / q; /* 1..4 */
    *e_out = e;
    *j_out = (int)j - 1;
    return base + j * q;
}

st_status stvk_buf_new(stvk_dev *d, size_t nbytes, uint32_t mem_type, stvk_buf **out) {
    stvk_buf *b = calloc(1, sizeof *b);
    if (!b) return st_err(ST_E_OOM, "vulkan: out of host memory");
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = nbytes,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    if (d->cond_begin) bi.usage |= VK_BUFFER_USAGE_CONDITIONAL_RENDERING_BIT_EXT; /* stvk_gate_begin */
    if (d->fn.vkCreateBuffer(d->dev, &bi, NULL, &b->buf) != VK_SUCCESS) {
        free(b);
        return st_err(ST_E_OOM, "vulkan: vkCreateBuffer of %zu bytes failed", nbytes);
    }
    VkMemoryRequirements req;
    d->fn.vkGetBufferMemoryRequirements(d->dev, b->buf, &req);
    if (!(req.memoryTypeBits & (1u << mem_type))) {
        d->fn.vkDestroyBuffer(d->dev, b->buf, NULL);
        free(b);
        return st_err(ST_E_DEVICE, "vulkan: memory type %u cannot hold storage buffers", mem_type);
    }
    VkMemoryAllocateFlagsInfo fi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT};
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .pNext = &fi,
                               .allocationSize = req.size,
                               .memoryTypeIndex = mem_type};
    VkResult r = d->fn.vkAllocateMemory(d->dev, &ai, NULL, &b->mem);
    if (r != VK_SUCCESS) {
        d->fn.vkDestroyBuffer(d->dev, b->buf, NULL);
        free(b);
        return st_err(ST_E_OOM, "vulkan: out of device memory allocating %zu bytes (VkResult %d)", nbytes, (int)r);
    }
    d->fn.vkBindBufferMemory(d->dev, b->buf, b->mem, 0);
    VkBufferDeviceAddressInfo dai = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b->buf};
    b->addr = d->fn.vkGetBufferDeviceAddress(d->dev, &dai);
    b->size = nbytes;
    b->mem_type = mem_type;
    if (d->memprops.memoryTypes[mem_type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        if (d->fn.vkMapMemory(d->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map) != VK_SUCCESS) b->map = NULL;
    }
    *out = b;
    return ST_OK;
}

void stvk_buf_destroy(stvk_dev *d, stvk_buf *b) {
    if (!b) return;
    if (b->map) d->fn.vkUnmapMemory(d->dev, b->mem);
    d->fn.vkDestroyBuffer(d->dev, b->buf, NULL);
    d->fn.vkFreeMemory(d->dev, b->mem, NULL);
    free(b);
}

static size_t pool_cap(void) {
    static size_t cap;
    if (!cap) {
        const char *v = st_env("ST_VULKAN_POOL_MB");
        long mb = v ? atol(v) : 2048;
        if (v && mb < 0) {
            st_logf(ST_LOG_WARN, "ST_VULKAN_POOL_MB='%s' is negative; using 2048", v);
            mb = 2048;
        }
        cap = (size_t)mb << 20;
        if (!cap) cap = 1; /* 0: keep nothing */
    }
    return cap;
}

void stvk_pool_trim(stvk_dev *d) {
    for (int e = 0; e < 64; e++)
        for (int j = 0; j < 4; j++)
            while (d->pool_free[e][j]) {
                stvk_buf *b = d->pool_free[e][j];
                d->pool_free[e][j] = b->next;
                stvk_buf_destroy(d, b);
            }
    d->pool_bytes = 0;
}

st_status stvk_pool_get(stvk_dev *d, size_t nbytes, stvk_buf **out) {
    int e, j;
    size_t sz = size_class(nbytes, &e, &j);
    if (d->pool_free[e][j]) {
        stvk_buf *b = d->pool_free[e][j];
        d->pool_free[e][j] = b->next;
        b->next = NULL;
        d->pool_bytes -= b->size;
        d->live_bytes += b->size;
        *out = b;
        return ST_OK;
    }
    st_status s = stvk_buf_new(d, sz, d->mt_device, out);
    if (s == ST_OK) {
        d->live_bytes += sz;
        return s;
    }
    /* Out of memory: let pending work finish, give the cache back, try once more. */
    stvk_flush(d, true);
    stvk_pool_trim(d);
    s = stvk_buf_new(d, sz, d->mt_device, out);
    if (s == ST_OK) d->live_bytes += sz;
    return s;
}

void stvk_pool_put(stvk_dev *d, stvk_buf *b) {
    int e, j;
    size_class(b->size, &e, &j);
    d->live_bytes -= b->size;
    if (d->pool_bytes + b->size > pool_cap()) {
        /* Destroying needs the device to be done with every cached buffer. */
        stvk_flush(d, true);
        stvk_pool_trim(d);
        if (b->size > pool_cap()) {
            stvk_buf_destroy(d, b);
            return;
        }
    }
    b->next = d->pool_free[e][j];
    d->pool_free[e][j] = b;
    d->pool_bytes += b->size;
}

st_status stvk_buf_alloc(int dev, size_t nbytes, void **handle) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_lock(d);
    stvk_buf *b = NULL;
    st_status s = stvk_pool_get(d, nbytes ? nbytes : 4, &b);
    stvk_unlock(d);
    *handle = b;
    return s;
}

void stvk_buf_free(int dev, void *handle, size_t nbytes) {
    (void)nbytes;
    if (!handle) return;
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return;
    stvk_lock(d);
    stvk_pool_put(d, handle);
    stvk_unlock(d);
}

/* A host-visible buffer of >= n bytes of memory type mt, from the recycled ones. */
static st_status host_get(stvk_dev *d, size_t n, uint32_t mt, stvk_buf **out) {
    stvk_buf **pp = &d->host_free, **best = NULL;
    int count = 0;
    for (; *pp; pp = &(*pp)->next, count++) {
        stvk_buf *b = *pp;
        if (b->mem_type == mt && b->size >= n && b->size <= 4 * n + SMALL_CLASS && (!best || b->size < (*best)->size)) best = pp;
    }
    if (best) {
        stvk_buf *b = *best;
        *best = b->next;
        b->next = NULL;
        *out = b;
        return ST_OK;
    }
    if (count >= HOST_KEEP) { /* keep the recycled list bounded: drop the oldest-in-list */
        stvk_buf *b = d->host_free;
        d->host_free = b->next;
        stvk_buf_destroy(d, b);
    }
    int e, j;
    size_t sz = size_class(n, &e, &j);
    st_status s = stvk_buf_new(d, sz, mt, out);
    if (s == ST_OK && !(*out)->map) {
        stvk_buf_destroy(d, *out);
        *out = NULL;
        return st_err(ST_E_DEVICE, "vulkan: mapping a staging buffer failed");
    }
    return s;
}

st_status stvk_host_get(stvk_dev *d, size_t nbytes, stvk_buf **out) { return host_get(d, nbytes, d->mt_host, out); }

uint64_t stvk_view_addr(const st_kview *v) {
    return stvk_addr(v->handle, (uint64_t)v->offset * st_dtype_size(v->dtype));
}

st_status stvk_write(int dev, void *handle, size_t off, const void *src, size_t n) {
    if (!n) return ST_OK;
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_buf *dst = handle;
    stvk_lock(d);
    st_status s = ST_OK;
    VkCommandBuffer cmd;
    if (n <= UPDATE_MAX && !(n & 3) && !(off & 3)) {
        if ((s = stvk_cmd(d, &cmd)) == ST_OK) {
            d->fn.vkCmdUpdateBuffer(cmd, dst->buf, off, n, src);
            stvk_cmd_done(d);
        }
    } else {
        stvk_buf *st = NULL;
        if ((s = host_get(d, n, d->mt_host, &st)) == ST_OK && (s = stvk_cmd(d, &cmd)) == ST_OK) {
            memcpy(st->map, src, n);
            VkBufferCopy r = {.srcOffset = 0, .dstOffset = off, .size = n};
            d->fn.vkCmdCopyBuffer(cmd, st->buf, dst->buf, 1, &r);
            stvk_batch *b = &d->ring[d->cur];
            st->next = b->staging;
            b->staging = st;
            stvk_cmd_done(d);
        } else if (st) {
            st->next = d->host_free;
            d->host_free = st;
        }
    }
    d->stats.bytes_up += n;
    stvk_unlock(d);
    return s;
}

st_status stvk_read(int dev, void *handle, size_t off, void *dst, size_t n) {
    if (!n) return ST_OK;
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_buf *src = handle;
    stvk_lock(d);
    st_status s;
    if (src->map) { /* unified memory: wait, then read in place */
        s = stvk_flush(d, true);
        if (s == ST_OK) memcpy(dst, (const char *)src->map + off, n);
    } else {
        stvk_buf *st = NULL;
        VkCommandBuffer cmd;
        if ((s = host_get(d, n, d->mt_readback, &st)) == ST_OK && (s = stvk_cmd(d, &cmd)) == ST_OK) {
            VkBufferCopy r = {.srcOffset = off, .dstOffset = 0, .size = n};
            d->fn.vkCmdCopyBuffer(cmd, src->buf, st->buf, 1, &r);
            d->need_barrier = true;
            s = stvk_flush(d, true);
            if (s == ST_OK) memcpy(dst, st->map, n);
        }
        if (st) {
            st->next = d->host_free;
            d->host_free = st;
        }
    }
    d->stats.bytes_down += n;
    stvk_unlock(d);
    return s;
}

st_status stvk_upload_small(int dev, const void *data, size_t n, uint64_t *addr) {
    if (n > UPDATE_MAX) return st_err(ST_E_INTERNAL, "vulkan: stvk_upload_small of %zu bytes", n);
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    size_t n16 = (n + 15) & ~(size_t)15;
    stvk_lock(d);
    VkCommandBuffer cmd;
    st_status s = stvk_cmd(d, &cmd);
    stvk_batch *b = &d->ring[d->cur];
    if (s == ST_OK && b->arena && b->arena_used + n16 > ARENA_BYTES) {
        stvk_flush(d, false);
        s = stvk_cmd(d, &cmd);
        b = &d->ring[d->cur];
    }
    if (s == ST_OK && !b->arena) s = stvk_buf_new(d, ARENA_BYTES, d->mt_device, &b->arena);
    if (s == ST_OK) {
        unsigned char tmp[UPDATE_MAX];
        memcpy(tmp, data, n);
        memset(tmp + n, 0, n16 - n);
        d->fn.vkCmdUpdateBuffer(cmd, b->arena->buf, b->arena_used, n16, tmp);
        *addr = b->arena->addr + b->arena_used;
        b->arena_used += n16;
        stvk_cmd_done(d);
    }
    stvk_unlock(d);
    return s;
}

st_status stvk_fill_u32(int dev, void *handle, size_t off, size_t n, uint32_t value) {
    if (!n) return ST_OK;
    if ((n & 3) || (off & 3)) return st_err(ST_E_INTERNAL, "vulkan: fill of %zu bytes at %zu is not 4-aligned", n, off);
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_lock(d);
    VkCommandBuffer cmd;
    st_status s = stvk_cmd(d, &cmd);
    if (s == ST_OK) {
        d->fn.vkCmdFillBuffer(cmd, ((stvk_buf *)handle)->buf, off, n, value);
        stvk_cmd_done(d);
    }
    stvk_unlock(d);
    return s;
}

st_status stvk_copy_bytes(int dev, void *dst, size_t doff, const void *src, size_t soff, size_t n) {
    if (!n) return ST_OK;
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_lock(d);
    VkCommandBuffer cmd;
    st_status s = stvk_cmd(d, &cmd);
    if (s == ST_OK) {
        VkBufferCopy r = {.srcOffset = soff, .dstOffset = doff, .size = n};
        d->fn.vkCmdCopyBuffer(cmd, ((const stvk_buf *)src)->buf, ((stvk_buf *)dst)->buf, 1, &r);
        stvk_cmd_done(d);
    }
    stvk_unlock(d);
    return s;
}
