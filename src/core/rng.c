/* rng.c — counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
 *
 * A generator is (seed, offset): each request of n 32-bit words reserves the counters
 * [offset, offset + ceil(n/4)) and advances offset, so results do not depend on the
 * backend, on threading or on how the work is split.
 */
#include "internal.h"

struct st_rng {
    uint64_t seed;
    uint64_t offset; /* next unused 128-bit counter */
};

static st_rng g_rng = {0x5eed5eedULL, 0};

void st_philox4x32(uint64_t seed, uint64_t counter, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

st_rng *st_rng_new(uint64_t seed) {
    st_rng *r = st_malloc(sizeof *r);
    if (!r) return NULL;
    r->seed = seed;
    r->offset = 0;
    return r;
}
void st_rng_free(st_rng *rng) { st_free(rng); }
void st_rng_seed(st_rng *rng, uint64_t seed) {
    if (!rng) rng = &g_rng;
    rng->seed = seed;
    rng->offset = 0;
}
void st_manual_seed(uint64_t seed) { st_rng_seed(NULL, seed); }

void st_rng_reserve(st_rng *rng, uint64_t n_u32, uint64_t *seed, uint64_t *offset) {
    if (!rng) rng = &g_rng;
    *seed = rng->seed;
    *offset = rng->offset;
    rng->offset += (n_u32 + 3) / 4;
}

uint64_t st_rng_next_u64(st_rng *rng) {
    uint64_t seed, off;
    uint32_t w[4];
    st_rng_reserve(rng, 4, &seed, &off);
    st_philox4x32(seed, off, w);
    return ((uint64_t)w[0] << 32) | w[1];
}
