/* vk_rankk.c — rank-K on the Vulkan backend: the entry stvk_rankk (path choice from the
 * heuristics' parameters) and the fast TopK/BottomK path (threshold filter into shared
 * memory + bitonic sort, shaders/rk_filter.comp). MidK, algo = radix, i64 inputs, and k
 * too large for a workgroup's candidate buffer go to the exact path (vk_rankk_exact.c).
 *
 * Order: composite = key << 32 | ~column (key: order-preserving u32 of the value, NaN
 * top, -0 == +0; complemented for BottomK), unique per row, so sorting composites
 * descending is the exact total order of SPEC §3, ties included.
 *
 * Fast path (one kernel, rk_filter, several roles):
 *  u2 = 0: one workgroup per row keeps every element whose composite reaches a threshold
 *    in a shared buffer of CAP composites (subgroup ballot: one shared atomic per
 *    subgroup and step). Threads stream 4 elements per step (one 16-byte load when
 *    rows are aligned), 4 steps' loads in flight, in stretches of 16 steps without a
 *    barrier; after each stretch the group checks the count. On overflow it rolls back
 *    to the stretch's start, sorts the buffer and cuts it to the best k (which raises
 *    the threshold: a running top-k, nothing is lost) and redoes the stretch one step at
 *    a time (kk + 4 wg <= CAP makes every step fit). At the end it sorts the buffer
 *    (bitonic, descending) and writes the best k.
 *  u2 = 1: level 1 cuts rows into chunks of `ch` columns (0: the whole row), one
 *    workgroup each, keeping its best kk1 composites; merge levels (pairs as rows,
 *    segments of CAP) keep the best k of each segment while that shrinks the list
 *    enough; a final pass per row keeps the best k. This is what spreads one long row
 *    (1 x 2^26) over the whole GPU.
 *  est: the threshold starts at a sample's estimate instead of "everything": the key of
 *    the j-th best of a strided sample (<= 1024 keys, j = e + 4 sqrt(e) + 2 for e = kk's
 *    expected share of the sample), so that only a little more than kk elements are
 *    expected to pass; with u2, level 1 also keeps only kk1 = e + 6 sqrt(e) + 6 per chunk
 *    (e = k * ch / n, the chunk's expected share of the top k) instead of min(k, ch).
 *    Both are checked, never trusted: each chunk reports a bound (every element it
 *    dropped is below it); a final pass that finds fewer than k candidates, or a k-th
 *    best below some bound of its row, flags the row instead of writing it. The final
 *    pass of the levels also starts at a sample's estimate (of the candidates), checked
 *    the same way (fewer than k passed: flagged), so it sorts ~k candidates, not all.
 *    Flagged rows are redone exactly: by the same kernel without estimates (REDO: one
 *    workgroup per flagged row, others exit at once) for rows up to RK_REDO_MAX_COLS,
 *    else by stvk_rankk_exact(..., flags). Without est nothing can be flagged, so no
 *    redo runs. The redo is always recorded when est is on (no host read-back: ops stay
 *    asynchronous), behind a gate word ("some row is flagged", after the row flags; see
 *    stvk_gate_begin): with conditional rendering the GPU skips its dispatches when no
 *    row was flagged; elsewhere they run and an unflagged row costs a u32 read.
 *
 * Parameters (every field changes what is dispatched): wg = workgroup size (spec 0;
 * capped at stvk_pow2_ceil(n/4), at least 32, since a row of n columns keeps n/4 lanes busy);
 * kl = candidates per lane: CAP = kl * wg rounded down to a power of two, clamped to
 * [kk + 4 wg (rounded up), min(16 wg, (shared memory - sample) / 8)] (spec 1); spec 2 = elements per
 * thread in flight (RK_V); ch and u2 as above (dispatch shapes); est (sample size spec 4
 * and the level-1 keep count); algo 1 = the exact path; algo 2 = subgroup select for short
 * rows (rk_sgsel: one subgroup per row, k rounds of subgroup argmax, no shared memory or
 * barriers; where it cannot run, the filter).
 * Subgroup ballot compaction when the device has basic/vote/ballot/arithmetic/shuffle
 * subgroup ops, for the passes over composites (IN_PAIR) and the raw passes that take
 * PRETHR; the other raw passes (and every pass without subgroups, or with
 * ST_VULKAN_RANKK_SHARED=1) take the shared-atomic variant _sh: one shared atomic per
 * thread with a hit (measured faster on the H100 once the threshold is high: most
 * steps have at most a few hits a subgroup). With subgroups, kk <= subgroup size and wg a
 * multiple of it (PRETHR), the threshold also starts at an exact bound from the first
 * step: each subgroup sorts its lanes' best keys by shuffles and takes the kk-th (kk
 * lanes hold an element that large), the group the largest of those; so a short row
 * (16384 x 256, k = 8) sorts a few dozen candidates instead of the whole row.
 *
 * Inputs: f32 and i32 (bits copied to the values); the last dim must be contiguous with
 * rows at one stride (leading dims merged), else a contiguous copy is made first.
 * Indexing is 32-bit: x's reach and every temporary stay below 2^31 elements.
 */
#include "vk_fns.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#define RK_SAMPLE 1024                /* largest threshold sample */
#define RK_REDO_MAX_COLS (1u << 20)   /* flagged rows up to this long: redone by rk_filter */
#define RK_V 16                       /* elements per thread whose loads are in flight at once */

enum { RK_FINAL = 1, RK_IDX64 = 2, RK_BOTTOM = 4, RK_VEC4 = 8, RK_REDO = 16, RK_PRETHR = 32 };

/* Mirrors the push constants of shaders/rk_filter.comp. */
typedef struct rk_pc {
    uint64_t src, xv, dst, oidx, flags, bounds;
    uint32_t rs, n, seg, nseg, kk, xrs, nb, ngroups;
} rk_pc;
_Static_assert(sizeof(rk_pc) == 80, "rk_pc must match rk_filter.comp");

typedef struct rk_ctx {
    int dev;
    const char *in;    /* "f32" or "i32" */
    bool sg;           /* subgroup variants */
    uint32_t sgsize;   /* subgroup size (0: none) */
    uint32_t wg, kl, smem_cap;
    uint32_t mode;     /* RK_IDX64 | RK_BOTTOM */
    bool vec4;         /* rows 16-byte aligned */
    uint32_t v;        /* elements a thread keeps in flight (spec 2) */
    uint64_t x;        /* device address of row 0 */
    uint32_t rs, n, rows;
} rk_ctx;


/* Candidate buffer size for keeping kk; false when the buffer
 * cannot hold kk + 4 wg (the slow path appends one sub-step after a cut) in the
 * device's shared memory. CAP = kl * wg rounded down to a power of two, at most 16 * wg
 * (128 bytes a thread: a multiprocessor with 228 KiB of shared memory still holds
 * about 1800 threads' worth of workgroups; a larger buffer only costs occupancy), at
 * least kk + 4 wg. */
static bool rk_cap(const rk_ctx *c, uint32_t kk, uint32_t *cap) {
    uint64_t need = (uint64_t)kk + 4ull * c->wg;
    if (need > c->smem_cap) return false;
    uint64_t want = (uint64_t)c->kl * c->wg, occ = 16ull * c->wg;
    if (want > occ) want = occ;
    uint32_t cp = stvk_pow2_floor(want < c->smem_cap ? want : c->smem_cap);
    if (cp < need) cp = stvk_pow2_ceil(need);
    *cap = cp;
    return true;
}

/* Sample size for segments of m columns (0 = no sample). */
static uint32_t rk_samp(uint32_t m, uint32_t cap) {
    uint32_t s = stvk_pow2_floor(m / 16 ? m / 16 : 1);
    if (s > RK_SAMPLE) s = RK_SAMPLE;
    if (s > cap) s = cap;
    return s >= 64 ? s : 0;
}

/* One rk_filter dispatch: `input` "f32"/"i32"/"pair", keeping kk per segment; *sampled
 * (may be NULL): its threshold starts at a sample's estimate. */
static st_status rk_go(const rk_ctx *c, const char *input, uint32_t kk, uint32_t mode, bool est, rk_pc *pc,
                       bool *sampled) {
    uint32_t cap;
    if (!rk_cap(c, kk, &cap)) return st_err(ST_E_INTERNAL, "vulkan rank-K: kk=%u does not fit", kk);
    char name[40];
    bool raw = strcmp(input, "pair") != 0;
    bool pre = c->sg && kk <= c->sgsize && c->wg % c->sgsize == 0; /* full subgroups, kk lanes */
    /* raw inputs without PRETHR take the shared-atomic append even where subgroups exist:
     * H100, 1024x65536: k=64 0.198 against 0.208 ms, k=256 0.2406 against 0.253 */
    snprintf(name, sizeof name, "rk_filter_%s_%s", input, c->sg && (pre || !raw) ? "sg" : "sh");
    /* a sample threshold only where a shortfall is detected: raw inputs (the level-1
     * bounds or the final check) and final passes (fewer than k passed: flagged) */
    uint32_t samp = est && (raw || (mode & RK_FINAL)) ? rk_samp(pc->seg, cap) : 0;
    if (sampled) *sampled = samp > 0;
    if (pre) mode |= RK_PRETHR;
    stvk_kernel k = {.shader = name,
                     .spec = {c->wg, cap, c->v, mode | (raw && c->vec4 ? RK_VEC4 : 0), samp},
                     .nspec = 5,
                     .full_subgroups = pre};
    return stvk_dispatch_linear(c->dev, &k, pc->ngroups, pc, sizeof *pc);
}

static void rk_free(int dev, void **h, size_t n) {
    if (*h) stvk_buf_free(dev, *h, n);
    *h = NULL;
}

/* u2 = 1: level 1 into candidates, merge levels, final pass. *flagging: rows may be
 * flagged (estimates in use). */
static st_status rk_levels(const rk_ctx *c, uint32_t k, uint64_t ch, bool est, uint64_t vals, uint64_t idx,
                           uint64_t flags, bool *flagging) {
    int dev = c->dev;
    uint32_t segs = (uint32_t)((c->n + ch - 1) / ch);
    uint32_t kk1 = (uint32_t)(k < ch ? k : ch);
    if (est && segs > 1) {
        double e = (double)k * (double)ch / (double)c->n;
        double kk = ceil(e + 6.0 * sqrt(e) + 6.0);
        if (kk < kk1) kk1 = (uint32_t)kk;
    }
    uint32_t cap1, capk;
    bool samp1 = false, sampf = false;
    bool bounded = est && segs > 1; /* level 1 may drop what it should not: verify */
    if (!rk_cap(c, kk1, &cap1) || !rk_cap(c, k, &capk)) return ST_E_UNSUPPORTED;
    uint64_t total = (uint64_t)c->rows * segs * kk1;
    if (total >= STVK_MAX_ELEMS) return ST_E_UNSUPPORTED;
    void *cand = NULL, *bnd = NULL, *next = NULL;
    size_t cand_n = (size_t)total * 8, bnd_n = (size_t)c->rows * segs * 8;
    st_status s = stvk_buf_alloc(dev, cand_n, &cand);
    if (s == ST_OK && bounded) s = stvk_buf_alloc(dev, bnd_n, &bnd);
    if (s == ST_OK) {
        rk_pc pc = {.src = c->x, .dst = stvk_addr(cand, 0), .oidx = bnd ? stvk_addr(bnd, 0) : 0, .rs = c->rs,
                    .n = c->n, .seg = (uint32_t)ch, .nseg = segs, .kk = kk1, .ngroups = c->rows * segs};
        s = rk_go(c, c->in, kk1, c->mode, est, &pc, &samp1);
    }
    uint64_t N = (uint64_t)segs * kk1;
    /* the final pass starts at a sample's estimate when est is on and its input is long
     * enough for one: then it sorts ~k candidates whatever N is, and merge levels only pay
     * while streaming N pairs in one workgroup would cost more (N > 16 capk) */
    while (s == ST_OK && N > 2ull * capk) { /* merge levels: segments of capk pairs keep k */
        if (est && N <= 16ull * capk && rk_samp((uint32_t)N, capk) > 0) break;
        uint32_t nseg = (uint32_t)((N + capk - 1) / capk);
        uint64_t N2 = (uint64_t)nseg * k;
        if (2 * N2 > N) break;
        size_t next_n = (size_t)c->rows * N2 * 8;
        if ((s = stvk_buf_alloc(dev, next_n, &next)) != ST_OK) break;
        rk_pc pc = {.src = stvk_addr(cand, 0), .dst = stvk_addr(next, 0), .rs = (uint32_t)N, .n = (uint32_t)N,
                    .seg = capk, .nseg = nseg, .kk = k, .ngroups = c->rows * nseg};
        s = rk_go(c, "pair", k, c->mode & ~(uint32_t)RK_IDX64, false, &pc, NULL);
        rk_free(dev, &cand, cand_n);
        cand = next, cand_n = next_n, next = NULL;
        N = N2;
    }
    if (s == ST_OK) {
        rk_pc pc = {.src = stvk_addr(cand, 0), .xv = c->x, .dst = vals, .oidx = idx, .flags = flags,
                    .bounds = bnd ? stvk_addr(bnd, 0) : 0, .rs = (uint32_t)N, .n = (uint32_t)N, .seg = (uint32_t)N,
                    .nseg = 1, .kk = k, .xrs = c->rs, .nb = bnd ? segs : 0, .ngroups = c->rows};
        s = rk_go(c, "pair", k, c->mode | RK_FINAL, est, &pc, &sampf);
    }
    *flagging = bounded || samp1 || sampf;
    rk_free(dev, &cand, cand_n);
    rk_free(dev, &bnd, bnd_n);
    return s;
}

static atomic_bool g_count_flags;
static atomic_uint_fast64_t g_flagged;
void stvk_rankk_count_flags(bool on) { atomic_store(&g_count_flags, on); }
uint64_t stvk_rankk_flagged_rows(void) { return atomic_load(&g_flagged); }

/* The fast path; ST_E_UNSUPPORTED (no error message) when k does not fit: the caller
 * then takes the exact path. */
static st_status rk_fast(rk_ctx *c, const st_kview *vals, const st_kview *idx, const st_kview *xr, st_rank_mode mode,
                         uint32_t k, const st_rankk_params *p) {
    uint32_t cap;
    if (!rk_cap(c, k, &cap)) return ST_E_UNSUPPORTED;
    int dev = c->dev;
    bool est = p->est, flagging = false;
    void *flags = NULL;
    size_t flags_n = ((size_t)c->rows + 1) * 4; /* a flag per row, then "some row is flagged" */
    st_status s = ST_OK;
    if (est) { /* rows may be flagged: a zeroed flag per row */
        s = stvk_buf_alloc(dev, flags_n, &flags);
        if (s == ST_OK) s = stvk_fill_u32(dev, flags, 0, flags_n, 0);
        if (s != ST_OK) return s;
    }
    uint64_t fa = flags ? stvk_addr(flags, 0) : 0;
    uint64_t va = stvk_view_addr(vals), ia = stvk_view_addr(idx);
    if (p->u2) {
        uint64_t ch = p->ch <= 0 || (uint64_t)p->ch >= c->n ? c->n : ((uint64_t)p->ch + 15) / 16 * 16;
        s = rk_levels(c, k, ch, est, va, ia, fa, &flagging);
    } else {
        rk_pc pc = {.src = c->x, .xv = c->x, .dst = va, .oidx = ia, .flags = fa, .rs = c->rs, .n = c->n,
                    .seg = c->n, .nseg = 1, .kk = k, .xrs = c->rs, .ngroups = c->rows};
        s = rk_go(c, c->in, k, c->mode | RK_FINAL, est, &pc, &flagging);
    }
    if (s == ST_OK && flagging) { /* exact redo of the flagged rows, behind the gate word */
        s = stvk_gate_begin(dev, flags, (size_t)c->rows * 4);
        if (s == ST_OK) {
            s = c->n > RK_REDO_MAX_COLS ? stvk_rankk_exact(dev, mode, vals, idx, xr, k, p, fa) : ST_E_UNSUPPORTED;
            if (s == ST_E_UNSUPPORTED) {
                rk_pc pc = {.src = c->x, .xv = c->x, .dst = va, .oidx = ia, .flags = fa, .rs = c->rs, .n = c->n,
                            .seg = c->n, .nseg = 1, .kk = k, .xrs = c->rs, .ngroups = c->rows};
                s = rk_go(c, c->in, k, c->mode | RK_FINAL | RK_REDO, false, &pc, NULL);
            }
            stvk_gate_end(dev);
        }
    }
    if (s == ST_OK && flags && atomic_load(&g_count_flags)) {
        uint32_t *f = malloc(flags_n);
        if (f && stvk_read(dev, flags, 0, f, flags_n) == ST_OK)
            for (uint32_t r = 0; r < c->rows; r++) atomic_fetch_add(&g_flagged, f[r] != 0);
        free(f);
    }
    rk_free(dev, &flags, flags_n);
    return s;
}

/* Row stride of x when its last dim is contiguous and the leading dims merge into one
 * stride; false otherwise (then a contiguous copy is made). */
static bool rows_stride(const st_kview *x, int64_t *rs) {
    int nd = x->ndim;
    int64_t n = x->shape[nd - 1], st = -1, span = 0;
    if (n > 1 && x->strides[nd - 1] != 1) return false;
    for (int d = nd - 2; d >= 0; d--) {
        if (x->shape[d] == 1) continue;
        if (st < 0) {
            st = x->strides[d];
            span = st * x->shape[d];
        } else if (x->strides[d] != span) {
            return false;
        } else {
            span *= x->shape[d];
        }
    }
    *rs = st < 0 ? n : st;
    return *rs >= 0;
}

/* algo = 2: one subgroup per row, k rounds of subgroup argmax (shaders/rk_sgsel.comp);
 * rows of at most 32 subgroup-widths, f32/i32, on devices with subgroup arithmetic and
 * full subgroups. wg (a multiple of the subgroup size) sets the rows per workgroup.
 * ST_E_UNSUPPORTED (no message) where it cannot run: the caller takes the filter. */
static st_status rk_sgsel(const rk_ctx *c, const stvk_caps *caps, const st_kview *vals, const st_kview *idx,
                          uint32_t k, int wg) {
    uint32_t S = caps->subgroup_size;
    const uint32_t need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    if (!c->sg || S == 0 || (caps->subgroup_ops & need) != need || !caps->full_subgroups || c->n > 32u * S)
        return ST_E_UNSUPPORTED;
    uint32_t E = 4;
    while (E * S < c->n) E *= 2;
    uint32_t wmax = stvk_max_wg(caps);
    uint32_t w = wg < 1 ? S : (uint32_t)wg > wmax ? wmax : (uint32_t)wg;
    w = w / S * S;
    if (w < S) w = S;
    uint32_t per = w / S;
    struct {
        uint64_t src, dst, oidx;
        uint32_t rs, n, k, rows;
    } pc = {c->x, stvk_view_addr(vals), stvk_view_addr(idx), c->rs, c->n, k, c->rows};
    char name[32];
    snprintf(name, sizeof name, "rk_sgsel_%s", c->in);
    stvk_kernel kern = {.shader = name, .spec = {w, E, c->mode | (c->vec4 ? RK_VEC4 : 0)}, .nspec = 3,
                        .full_subgroups = true};
    return stvk_dispatch_linear(c->dev, &kern, (c->rows + per - 1) / per, &pc, sizeof pc);
}

static bool use_subgroups(const stvk_caps *caps) {
    const uint32_t need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_VOTE_BIT |
                          VK_SUBGROUP_FEATURE_BALLOT_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT |
                          VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
    if (st_env_on("ST_VULKAN_RANKK_SHARED")) return false;
    return caps->subgroup_size > 0 && (caps->subgroup_ops & need) == need;
}

static st_status rankk_rows(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx,
                            const st_kview *xr, int dc, int64_t k, const st_rankk_params *p) {
    const stvk_caps *caps = stvk_caps_of(dev);
    if (!caps) return st_last_status();
    if (mode != ST_RANK_MID && p->algo != ST_RANKK_ALGO_RADIX && dc != STVK_DT_I64) {
        uint32_t wmax = stvk_max_wg(caps);
        rk_ctx c = {.dev = dev,
                    .in = dc == STVK_DT_F32 ? "f32" : "i32",
                    .sg = use_subgroups(caps),
                    .sgsize = caps->subgroup_size,
                    .wg = p->wg < 1 ? 1 : (uint32_t)p->wg > wmax ? wmax : (uint32_t)p->wg,
                    .kl = p->kl < 1 ? 1 : (uint32_t)p->kl,
                    .smem_cap = stvk_pow2_floor((caps->shared_mem - 64 - 4 * RK_SAMPLE) / 8),
                    .mode = (idx->dtype == ST_I64 ? RK_IDX64 : 0) | (mode == ST_RANK_BOTTOM ? RK_BOTTOM : 0),
                    .x = stvk_view_addr(xr),
                    .rs = (uint32_t)xr->strides[0],
                    .n = (uint32_t)xr->shape[1],
                    .rows = (uint32_t)xr->shape[0]};
        c.vec4 = c.x % 16 == 0 && (c.rows == 1 || c.rs % 4 == 0);
        c.v = RK_V;
        const char *ev = st_env("ST_VULKAN_RANKK_V"); /* benchmarks: 4, 8 or 16 */
        if (ev && (!strcmp(ev, "4") || !strcmp(ev, "8") || !strcmp(ev, "16"))) c.v = (uint32_t)atoi(ev);
        /* a row of n columns keeps at most n/4 lanes busy (vec4): no larger groups */
        uint32_t lanes = stvk_pow2_ceil((c.n + 3) / 4), floor_wg = caps->subgroup_size > 32 ? caps->subgroup_size : 32;
        if (lanes < floor_wg) lanes = floor_wg;
        st_status s = ST_E_UNSUPPORTED;
        if (p->algo == ST_RANKK_ALGO_SUBGROUP) s = rk_sgsel(&c, caps, vals, idx, (uint32_t)k, p->wg);
        if (c.wg > lanes) c.wg = lanes;
        /* a workgroup size whose candidate buffer (k + 4 wg) does not fit the device's
         * shared memory is halved rather than leaving the fast path (lavapipe's 32 KiB
         * leave room for 2048 composites: with wg 512 no k > 0 would fit) */
        while (c.wg / 2 >= floor_wg && (uint64_t)k + 4ull * c.wg > c.smem_cap) c.wg /= 2;
        if (s == ST_E_UNSUPPORTED) s = rk_fast(&c, vals, idx, xr, mode, (uint32_t)k, p);
        if (s != ST_E_UNSUPPORTED) return s;
    }
    return stvk_rankk_exact(dev, mode, vals, idx, xr, k, p, 0);
}

st_status stvk_rankk(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx, const st_kview *x,
                     int64_t k, const st_rankk_params *p) {
    int nd = x->ndim;
    if (nd < 1) return st_err(ST_E_SHAPE, "rank-K: input must have at least one dim");
    int64_t n = x->shape[nd - 1], rows = st_shape_numel(nd - 1, x->shape);
    if (k == 0 || rows == 0 || n == 0) return ST_OK;
    int dc = stvk_dtype_code(dev, x->dtype, "rank-K");
    if (dc < 0) return st_last_status();
    int64_t rs = 0;
    bool direct = rows_stride(x, &rs);
    if (!direct) rs = n;
    if ((rows - 1) * rs + n > STVK_MAX_ELEMS || rows * n > STVK_MAX_ELEMS)
        return st_err(ST_E_UNSUPPORTED, "rank-K: a tensor of more than 2^31 elements is beyond the vulkan backend's "
                                        "32-bit indexing");
    st_kview xr = {.handle = x->handle, .offset = x->offset, .dtype = x->dtype, .ndim = 2,
                   .shape = {rows, n}, .strides = {rs, 1}};
    void *tmp = NULL;
    size_t tmp_n = (size_t)(rows * n) * st_dtype_size(x->dtype);
    if (!direct) { /* contiguous copy */
        st_status s = stvk_buf_alloc(dev, tmp_n, &tmp);
        if (s != ST_OK) return s;
        st_kview t = {.handle = tmp, .offset = 0, .dtype = x->dtype, .ndim = nd};
        int64_t st = 1;
        for (int d = nd - 1; d >= 0; d--) {
            t.shape[d] = x->shape[d];
            t.strides[d] = st;
            st *= x->shape[d];
        }
        if ((s = stvk_copy(dev, &t, x)) != ST_OK) {
            stvk_buf_free(dev, tmp, tmp_n);
            return s;
        }
        xr.handle = tmp;
        xr.offset = 0;
    }
    st_status s = rankk_rows(dev, mode, vals, idx, &xr, dc, k, p);
    if (tmp) stvk_buf_free(dev, tmp, tmp_n);
    return s;
}
