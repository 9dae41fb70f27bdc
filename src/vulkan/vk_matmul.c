/* vk_matmul.c — batched f32 matrix product on the Vulkan backend (shaders/rm_matmul.comp).
 *
 * dst [B,M,N] = a [B,M,K] @ b [B,K,N]. Like the CPU backend, only float dtypes (here f32;
 * the op layer rejects integers). Invariants:
 * - An operand with a unit stride in one of its two matrix dims goes to the kernel as
 *   is (spec constants A_T / B_T choose the loader); any other layout (no unit stride,
 *   stride-0 matrix dims) is first packed contiguously with stvk_copy into pool scratch,
 *   which is freed at once (stream-ordered). dst is written through its own strides.
 * - Batch strides may be 0 (broadcast operand); batches are the z workgroup dimension
 *   (<= the device's z limit, else several dispatches).
 * - Tile variant: 128x128 (8x8 per thread) when the problem fills the device, BK 16
 *   where its 33 KiB of shared memory fit (else BK 8, 17 KiB: lavapipe has 32 KiB),
 *   64x64 (4x4) for small problems; ST_VULKAN_MM_TILE=<shader name> forces one
 *   (benchmarks; ignored when it does not fit the device's shared memory).
 * - Indexing is 32-bit: every operand's reach must stay below 2^31 elements.
 */
#include "vk_fns.h"

typedef struct mm_tile {
    const char *name;
    uint32_t bm, bn, threads, shared; /* shared: bytes of shared memory */
} mm_tile;

static const mm_tile TILES[] = {
    {"rm_mm_128x128", 128, 128, 256, 2 * 8 * (33 + 33) * 16},
    {"rm_mm_128x128_k16", 128, 128, 256, 2 * 16 * (33 + 33) * 16},
    {"rm_mm_128x64", 128, 64, 256, 2 * 8 * (33 + 17) * 16},
    {"rm_mm_64x64", 64, 64, 256, 2 * 8 * (17 + 17) * 16},
};
#define NTILES (sizeof TILES / sizeof TILES[0])

/* Layout code of a [rows, cols] matrix with strides (s0, s1): 0 cols unit-stride,
 * 1 rows unit-stride, -1 neither (pack first). */
static int mat_kind(int64_t rows, int64_t cols, int64_t s0, int64_t s1) {
    if ((cols <= 1 || s1 == 1) && (rows <= 1 || s0 >= 1)) return 0;
    if ((rows <= 1 || s0 == 1) && (cols <= 1 || s1 >= 1)) return 1;
    return -1;
}

/* A contiguous copy of v in pool scratch (a broadcast batch stays one matrix). */
static st_status pack(int dev, const st_kview *v, st_kview *out, void **h, size_t *bytes) {
    st_kview c = *v;
    if (c.strides[0] == 0) c.shape[0] = 1;
    *bytes = (size_t)(c.shape[0] * c.shape[1] * c.shape[2]) * 4;
    st_status s = stvk_buf_alloc(dev, *bytes ? *bytes : 4, h);
    if (s != ST_OK) return s;
    st_kview d = c;
    d.handle = *h;
    d.offset = 0;
    d.strides[2] = 1;
    d.strides[1] = c.shape[2];
    d.strides[0] = c.shape[1] * c.shape[2];
    s = stvk_copy(dev, &d, &c);
    if (v->strides[0] == 0) d.strides[0] = 0;
    d.shape[0] = v->shape[0];
    *out = d;
    return s;
}

static const mm_tile *pick_tile(const stvk_caps *caps, int64_t B, int64_t M, int64_t N) {
    const char *force = st_env("ST_VULKAN_MM_TILE");
    if (force)
        for (size_t i = 0; i < NTILES; i++)
            if (!strcmp(force, TILES[i].name) && TILES[i].shared <= caps->shared_mem) return &TILES[i];
    int64_t big = B * ((M + 127) / 128) * ((N + 127) / 128);
    if (big < 128) return &TILES[3];
    /* BK 16 where its 33 KiB of shared memory fit (H100 4096^3: 29.4 vs 24.3 TFLOP/s) */
    return TILES[1].shared <= caps->shared_mem ? &TILES[1] : &TILES[0];
}

typedef struct mm_pc {
    uint64_t a, b, c;
    uint32_t M, N, K, pad0;
    uint32_t sam, sak, sbk, sbn, scm, scn;
    uint32_t sab, sbb, scb;
} mm_pc;

static st_status run(int dev, const st_kview *dst, const st_kview *a, const st_kview *b, int ka, int kb) {
    int64_t B = dst->shape[0], M = dst->shape[1], N = dst->shape[2], K = a->shape[2];
    const stvk_caps *caps = stvk_caps_of(dev);
    if (!caps) return st_last_status();
    const mm_tile *t = pick_tile(caps, B, M, N);
    stvk_kernel k = {.shader = t->name, .spec = {t->threads, (uint32_t)ka, (uint32_t)kb}, .nspec = 3};
    uint32_t gx = (uint32_t)((N + t->bn - 1) / t->bn), gy = (uint32_t)((M + t->bm - 1) / t->bm);
    if (gx > caps->max_groups[0] || gy > caps->max_groups[1])
        return st_err(ST_E_UNSUPPORTED, "matmul: %lldx%lld is beyond the vulkan device's workgroup grid",
                      (long long)M, (long long)N);
    int64_t zmax = caps->max_groups[2];
    for (int64_t b0 = 0; b0 < B; b0 += zmax) {
        int64_t nb = B - b0 < zmax ? B - b0 : zmax;
        mm_pc pc = {
            .a = stvk_view_addr(a) + (uint64_t)(b0 * a->strides[0]) * 4,
            .b = stvk_view_addr(b) + (uint64_t)(b0 * b->strides[0]) * 4,
            .c = stvk_view_addr(dst) + (uint64_t)(b0 * dst->strides[0]) * 4,
            .M = (uint32_t)M, .N = (uint32_t)N, .K = (uint32_t)K,
            .sam = (uint32_t)a->strides[1], .sak = (uint32_t)a->strides[2],
            .sbk = (uint32_t)b->strides[1], .sbn = (uint32_t)b->strides[2],
            .scm = (uint32_t)dst->strides[1], .scn = (uint32_t)dst->strides[2],
            .sab = (uint32_t)a->strides[0], .sbb = (uint32_t)b->strides[0], .scb = (uint32_t)dst->strides[0],
        };
        st_status s = stvk_dispatch(dev, &k, gx, gy, (uint32_t)nb, &pc, sizeof pc);
        if (s != ST_OK) return s;
    }
    return ST_OK;
}

st_status stvk_matmul(int dev, const st_kview *dst, const st_kview *a, const st_kview *b) {
    if (dst->dtype != ST_F32 || a->dtype != ST_F32 || b->dtype != ST_F32 || a->ndim != 3 || b->ndim != 3 ||
        dst->ndim != 3)
        return st_err(ST_E_DTYPE, "matmul: the vulkan backend needs 3-D f32 views (got %s, %s -> %s)",
                      st_dtype_name(a->dtype), st_dtype_name(b->dtype), st_dtype_name(dst->dtype));
    int64_t B = dst->shape[0], M = dst->shape[1], N = dst->shape[2], K = a->shape[2];
    if (B == 0 || M == 0 || N == 0) return ST_OK;
    if (K == 0) return stvk_fill(dev, dst, 0.0);
    if (stvk_view_reach(a) > STVK_MAX_ELEMS || stvk_view_reach(b) > STVK_MAX_ELEMS || stvk_view_reach(dst) > STVK_MAX_ELEMS)
        return st_err(ST_E_UNSUPPORTED, "matmul: an operand of more than 2^31 elements is beyond the vulkan "
                                        "backend's 32-bit indexing");
    st_kview av = *a, bv = *b;
    void *ah = NULL, *bh = NULL;
    size_t an = 0, bn = 0;
    st_status s = ST_OK;
    int ka = mat_kind(M, K, a->strides[1], a->strides[2]);
    int kb = mat_kind(K, N, b->strides[1], b->strides[2]);
    if (ka < 0) {
        s = pack(dev, a, &av, &ah, &an);
        ka = 0;
    }
    if (s == ST_OK && kb < 0) {
        s = pack(dev, b, &bv, &bh, &bn);
        kb = 0;
    }
    if (s == ST_OK) s = run(dev, dst, &av, &bv, ka, kb);
    if (ah) stvk_buf_free(dev, ah, an ? an : 4);
    if (bh) stvk_buf_free(dev, bh, bn ? bn : 4);
    return s;
}
