/* alloc.c — the one allocation hook of the library, with live-allocation accounting.
 *
 * Every allocation (headers, tensor data, scratch) goes through st_malloc_aligned so a
 * test can install an allocator that fails the N-th call. A small header in front of
 * each block records the size and alignment pad so st_free can hand the exact pointer
 * and size back to the hook.
 *
 * Large blocks (>= 8 MiB) are kept in a small cache when freed and handed out again for
 * a request of the same alignment and a size within 25%: a fresh large tensor otherwise
 * costs the kernel's zeroing of every page, which dominated big out-of-place ops and
 * rank-K outputs. Cached blocks count as freed in the statistics; st_alloc_trim() (also
 * run by st_set_allocator) returns them. ST_CPU_CACHE_MB bounds the cache (default
 * 1024; 0 disables it).
 */
#include "internal.h"

#include <pthread.h>
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
    size_t align; /* requested alignment (cache matching) */
} blk_hdr;

#define CACHE_MIN ((size_t)8 << 20)
#define CACHE_SLOTS 8
static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *p; /* user pointer */
    size_t user_size, align;
} g_cache[CACHE_SLOTS];
static size_t g_cache_bytes;
static long g_cache_limit_mb = -1;

static size_t cache_limit(void) {
    if (g_cache_limit_mb < 0) {
        const char *v = st_env("ST_CPU_CACHE_MB");
        char *end = NULL;
        long mb = v ? strtol(v, &end, 10) : 1024;
        if (v && (*end || mb < 0)) {
            st_logf(ST_LOG_WARN, "ST_CPU_CACHE_MB='%s' is not a non-negative integer; using 1024", v);
            mb = 1024;
        }
        g_cache_limit_mb = mb;
    }
    return (size_t)g_cache_limit_mb << 20;
}

static void account_alloc(size_t size) {
    atomic_fetch_add(&g_live, 1);
    atomic_fetch_add(&g_total, 1);
    int64_t b = atomic_fetch_add(&g_live_bytes, (int64_t)size) + (int64_t)size;
    int64_t pk = atomic_load(&g_peak);
    while (b > pk && !atomic_compare_exchange_weak(&g_peak, &pk, b)) {
    }
}

/* A cached block for (size, align), or NULL. */
static void *cache_take(size_t size, size_t align) {
    void *p = NULL;
    pthread_mutex_lock(&g_cache_mu);
    int best = -1;
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (g_cache[i].p && g_cache[i].align == align && g_cache[i].user_size >= size &&
            g_cache[i].user_size - size <= size / 4 && (best < 0 || g_cache[i].user_size < g_cache[best].user_size))
            best = i;
    if (best >= 0) {
        p = g_cache[best].p;
        g_cache_bytes -= g_cache[best].user_size;
        account_alloc(g_cache[best].user_size);
        g_cache[best].p = NULL;
    }
    pthread_mutex_unlock(&g_cache_mu);
    return p;
}

/* Keep a freed block; false when the cache is full. */
static bool cache_put(char *p, size_t user_size, size_t align) {
    bool kept = false;
    pthread_mutex_lock(&g_cache_mu);
    if (g_cache_bytes + user_size <= cache_limit())
        for (int i = 0; i < CACHE_SLOTS && !kept; i++)
            if (!g_cache[i].p) {
                g_cache[i].p = p;
                g_cache[i].user_size = user_size;
                g_cache[i].align = align;
                g_cache_bytes += user_size;
                kept = true;
            }
    pthread_mutex_unlock(&g_cache_mu);
    return kept;
}

static void release_block(void *p);

void st_alloc_trim(void) {
    pthread_mutex_lock(&g_cache_mu);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (g_cache[i].p) {
            release_block(g_cache[i].p);
            g_cache[i].p = NULL;
        }
    g_cache_bytes = 0;
    pthread_mutex_unlock(&g_cache_mu);
}

void *st_malloc_aligned(size_t size, size_t align) {
    if (align < 16) align = 16;
    if (size >= CACHE_MIN) {
        void *c = cache_take(size, align);
        if (c) return c;
    }
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
    h->align = align;
    account_alloc(size);
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

/* Hands a block back to the hook (no accounting). */
static void release_block(void *p) {
    blk_hdr *h = (blk_hdr *)(void *)((char *)p - sizeof(blk_hdr));
    g_alloc.free(h->raw, h->size, g_alloc.user);
}

void st_free(void *p) {
    if (!p) return;
    blk_hdr *h = (blk_hdr *)(void *)((char *)p - sizeof(blk_hdr));
    atomic_fetch_sub(&g_live, 1);
    atomic_fetch_sub(&g_live_bytes, (int64_t)h->user_size);
    if (h->user_size >= CACHE_MIN && cache_put(p, h->user_size, h->align)) return;
    release_block(p);
}

char *st_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = st_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

st_status st_set_allocator(const st_allocator *a) {
    st_alloc_trim(); /* cached blocks belong to the old allocator */
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
