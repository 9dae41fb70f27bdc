/* alloc.c — the one allocation hook of the library, with live-allocation accounting.
 *
 * Every allocation (headers, tensor data, scratch) goes through st_malloc_aligned so a
 * test can install an allocator that fails the N-th call. A small header in front of
 * each block records the size and alignment pad so st_free can hand the exact pointer
 * and size back to the hook.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>

static void *default_alloc(size_t size, size_t align, void *user) {
    (void)user;
    void *p = NULL;
    if (posix_memalign(&p, align, size) != 0) return NULL;
    return p;
}
static void default_free(void *ptr, size_t size, void *user) {
    (void)size;
    (void)user;
    free(ptr);
}

static st_allocator g_alloc = {default_alloc, default_free, NULL};
static _Atomic int64_t g_live, g_live_bytes, g_total, g_peak;
int64_t st_live_objects_hint;

typedef struct {
    void *raw;   /* what the hook returned */
    size_t size; /* what the hook was asked for */
    size_t user_size;
    size_t pad;
} blk_hdr;

void *st_malloc_aligned(size_t size, size_t align) {
    if (align < 16) align = 16;
    size_t hdr = (sizeof(blk_hdr) + align - 1) / align * align;
    if (size > SIZE_MAX - hdr) {
        st_err(ST_E_OOM, "allocation of %zu bytes is too large", size);
        return NULL;
    }
    size_t total = size + hdr;
    void *raw = g_alloc.alloc(total, align, g_alloc.user);
    if (!raw) {
        st_err(ST_E_OOM, "out of memory allocating %zu bytes", size);
        return NULL;
    }
    char *p = (char *)raw + hdr;
    blk_hdr *h = (blk_hdr *)(void *)(p - sizeof(blk_hdr));
    h->raw = raw;
    h->size = total;
    h->user_size = size;
    h->pad = hdr;
    atomic_fetch_add(&g_live, 1);
    atomic_fetch_add(&g_total, 1);
    int64_t b = atomic_fetch_add(&g_live_bytes, (int64_t)size) + (int64_t)size;
    int64_t pk = atomic_load(&g_peak);
    while (b > pk && !atomic_compare_exchange_weak(&g_peak, &pk, b)) {
    }
    return p;
}

void *st_malloc(size_t size) { return st_malloc_aligned(size ? size : 1, 16); }

void *st_calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) {
        st_err(ST_E_OOM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *p = st_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void st_free(void *p) {
    if (!p) return;
    blk_hdr *h = (blk_hdr *)(void *)((char *)p - sizeof(blk_hdr));
    atomic_fetch_sub(&g_live, 1);
    atomic_fetch_sub(&g_live_bytes, (int64_t)h->user_size);
    g_alloc.free(h->raw, h->size, g_alloc.user);
}

char *st_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = st_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

st_status st_set_allocator(const st_allocator *a) {
    if (atomic_load(&g_live) != 0)
        return st_err(ST_E_STATE, "st_set_allocator: %lld allocations are still alive",
                      (long long)atomic_load(&g_live));
    if (a && (!a->alloc || !a->free))
        return st_err(ST_E_INVALID_ARG, "st_set_allocator: alloc and free must both be set");
    if (a)
        g_alloc = *a;
    else
        g_alloc = (st_allocator){default_alloc, default_free, NULL};
    return ST_OK;
}

void st_alloc_reset_peak(void) { atomic_store(&g_peak, atomic_load(&g_live_bytes)); }

void st_get_alloc_stats(st_alloc_stats *out) {
    if (!out) return;
    out->live_allocs = atomic_load(&g_live);
    out->live_bytes = atomic_load(&g_live_bytes);
    out->total_allocs = atomic_load(&g_total);
    out->peak_bytes = atomic_load(&g_peak);
}
