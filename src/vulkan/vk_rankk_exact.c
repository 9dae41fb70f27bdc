/* vk_rankk_exact.c — the exact rank-K path of the Vulkan backend (stvk_rankk_exact):
 * every k in [0, n], every input, TopK/BottomK (sorted) and MidK (column order).
 *
 * Order (SPEC §3): each element gets an unsigned score s (shaders/rx_common.glsl:
 * float_key / sign-flipped integers, XOR all-ones for BottomK and MidK) so that the
 * order is (s descending, column ascending). TopK/BottomK take ranks [0, k), MidK ranks
 * [a, a+k) with a = (n-k)/2. Per row the path is:
 *
 * 1. Radix select (MSB first, 11-bit digits: 3 levels for 32-bit scores, 6 for i64) of
 *    the target ranks: rank k-1, and for MidK also rank a, both in the same passes (one
 *    shared histogram while the two share a prefix, two after). rx_hist reads the row
 *    and builds shared-memory histograms (subgroup-aggregated increments where the
 *    device has ballot/vote). With one workgroup per row (many rows) it picks the digit
 *    itself (FUSED); a few long rows are spread over nchunk workgroups per row that add
 *    into global histograms, and rx_pick picks. FUSED rows of 32-bit scores and >= 8192
 *    columns take level 0's digit from a window fitted to a sample of the row (2048 bins
 *    of 2^sh scores around the targets, sh <= 21, then 11-bit digits below sh; a target
 *    outside the window redoes level 0 plainly): float scores crowd into a few plain
 *    digits, the window leaves a few dozen elements a bucket. Result per row: the exact
 *    score S of each target and its occurrence index o among equal scores (in column order).
 * 2. Zoom: after a level's pick, a row whose target buckets hold <= cap elements in all
 *    (the usual case after one 11-bit digit of a long row) copies just those elements
 *    (score, column) into a gather buffer (rx_gather), and rx_resolve finishes the
 *    remaining digits from there, so later levels skip the row without reading it. A
 *    random f32 row then costs two reads of the input for the select, not three; with
 *    the compaction's write, a MidK of such rows reads the input three times in all.
 *    Level gates: each pick sets a word when some row needs the next step (level L's
 *    gather, level L+1's histogram); those steps are recorded behind their word
 *    (stvk_gate_begin, conditional rendering), so the GPU skips the levels no row reaches.
 * 3. Ordered compaction in column order (rx_write): the output slot of an element is a
 *    pure function of the counts (strict, ==S_a, ==S_b) of the elements before it:
 *    every strict one (s strictly between the thresholds) plus the ties whose
 *    occurrence index falls in the window. Per step each thread holds IPT consecutive
 *    columns and one workgroup exclusive scan places them. Two shapes (MidK field u2):
 *    u2 = 1: per tile of `tile` columns (many workgroups per row) the counts, then
 *    rx_offsets scans them and rx_write writes each tile at its offset. The counts of a
 *    gathered row come from the select itself (rx_gather adds the elements strictly
 *    inside the window by prefix, rx_resolve the gathered ones once the thresholds are
 *    exact), so rx_count only reads the rows that were not gathered;
 *    u2 = 0: one rx_write workgroup per row walks the row carrying the counts (one read),
 *    stopping once k elements are out.
 *    With the subgroup variants a tile is a power of two >= 4 x the largest subgroup
 *    (rx_gather adds a subgroup's strict counts to at most two tiles), and 32-bit rows
 *    are written a subgroup a tile (seg): the heuristics' tile is the workgroup's
 *    columns, split over its subgroups, so rx_write reads each element once and never
 *    waits at a workgroup barrier; rows keep <= 8192 tiles (rx_offsets scans a row in
 *    one workgroup).
 * 4. TopK/BottomK only: the k pairs (compacted in column order) are sorted best first:
 *    runs of 2048 sorted in shared memory (rx_sort: 128 threads each sort 16 pairs in
 *    registers, then merge levels in shared memory, rx_mpath.glsl), then merge levels
 *    (rx_merge, merge path: a workgroup finds the two ends of its output tile on the
 *    merge path by a k-ary search in global memory, merges the tile in shared memory,
 *    and writes it coalesced); the sort (k <= 2048) or the last level writes the
 *    outputs, their values taken from the scores (x is read only for f32 NaN and +-0).
 *    The kernels need about 25 KiB of shared memory (rx_hist's histograms; i64 sort
 *    runs): every desktop Vulkan device has 32 KiB or more.
 *
 * Parameters: p->wg is the workgroup size of every kernel (rounded down to a power of
 * two the device accepts; subgroup variants need a multiple of the subgroup size);
 * MidK: p->tile = columns per compaction workgroup (u2) / elements per thread per step
 * (tile/wg, clamped to [1,16]); p->u2 = two-pass compaction. TopK/BottomK use the same
 * kernels with tile = 8*wg and u2 when there are fewer rows than 64.
 *
 * Invariants: x's last dim is contiguous and rows are at a constant stride; columns
 * < 2^31 (32-bit indexing in the shaders); temporaries are freed right after their
 * last use is recorded (the pool is stream-ordered). row_flags (u32 per row, device
 * address) restricts every kernel to the flagged rows: other rows' outputs are
 * untouched.
 */
#include "vk_fns.h"

#include <stdlib.h>

#define RX_BINS 2048
#define RX_CAP 16384                     /* gathered elements a row may hold */
#define RX_GATHER_MAX ((size_t)256 << 20) /* bytes for all rows' gather buffers */
#define RX_ST 2048                       /* sort run in shared memory */
#define RX_SORT_WG 128                   /* its threads (every device allows 128) */
#define RX_STATE 48                      /* sizeof RowState */
#define RX_TARGET_GROUPS 1024            /* spread a few rows over about this many groups */
#define RX_GATE_UNCOUNTED 12             /* after the 2 a level: "a row left the select uncounted" (rx_common.glsl) */
#define RX_GATE_OFFS 13                  /* "a row finished the select without its prefix offsets" (ROFF) */
#define RX_GATE_BYTES (14 * 4)
#define RX_WTILES 4                      /* ST_VULKAN_RANKK_WTILES unset */

#define OPT_IDX64 1u
#define OPT_MID 2u
#define OPT_PAIRS 4u
#define OPT_FINAL 8u
#define OPT_ROFF 32u

/* Mirrors the push-constant block of shaders/rx_common.glsl. */
typedef struct rx_pc {
    uint64_t x, st, buf, buf2, out0, out1, flags, flip, xrs, gate;
    uint32_t rows, n, k, nchunk, chunk, level, opts, cap, tile, ntiles;
} rx_pc;
_Static_assert(sizeof(rx_pc) == 120 && sizeof(rx_pc) <= STVK_PUSH_MAX, "rx_pc must match the shaders' push constants");

typedef struct rx_ctx {
    int dev;
    const char *dt;  /* "f32", "i32", "i64" */
    bool sg;         /* subgroup variants */
    uint32_t wg;
    int nlev;
    uint32_t ksz;    /* bytes per score: 4 or 8 */
    bool fused;      /* one workgroup a row in the select (nchunk == 1) */
    uint32_t nchunk, chunk; /* workgroups a row in the select, columns each */
    bool seg;        /* rx_write a subgroup a tile (32-bit, subgroup variants, u2) */
    uint32_t nsg;    /* subgroups a workgroup (subgroup variants) */
    uint32_t nq;     /* rx_hist window pass: 16-byte loads a thread a block (4; 2: fewer registers) */
    uint32_t wtiles; /* seg rx_write: tiles a subgroup (> 1: the next one's loads in flight) */
    uint32_t w8;     /* seg rx_write: 8*S-column steps (one staging round for two 4*S halves) */
    bool gres;       /* rx_gather resolves its rows itself (rx_gres: no rx_resolve dispatch) */
    uint32_t hpre;   /* rx_hist's window pass: the next block's loads in flight */
    uint32_t gpre;   /* rx_gather's block loop: the next block's loads in flight */
    rx_pc pc;        /* the fields common to every kernel */
} rx_ctx;

static st_status rx_go(rx_ctx *c, const char *kern, bool sg_variant, const uint32_t *spec, int nspec, uint64_t groups,
                       const rx_pc *pc) {
    char name[48];
    const char *dt = strcmp(kern, "offsets") == 0 ? "f32" : c->dt;
    snprintf(name, sizeof name, "rx_%s_%s%s", kern, dt, sg_variant && c->sg ? "_sg" : "");
    stvk_kernel k = {.shader = name, .nspec = nspec, .full_subgroups = sg_variant && c->sg};
    for (int i = 0; i < nspec; i++) k.spec[i] = spec[i];
    return stvk_dispatch_linear(c->dev, &k, groups, pc, sizeof *pc);
}

/* Row stride of x (elements) when its leading dims collapse to one constant stride. */
static bool row_stride(const st_kview *x, int64_t *rs) {
    int nd = x->ndim;
    *rs = x->shape[nd - 1];
    int64_t want = -1;
    for (int d = nd - 2; d >= 0; d--) {
        if (x->shape[d] == 1) continue;
        if (want < 0)
            *rs = x->strides[d];
        else if (x->strides[d] != want)
            return false;
        want = x->strides[d] * x->shape[d];
    }
    return *rs >= 0;
}

/* The workgroup size: p->wg as a power of two within the device's limit, and whether the
 * subgroup variants can run with it. */
static uint32_t pick_wg(const stvk_caps *caps, int wg, bool *sg) {
    uint32_t w = wg > 0 ? (uint32_t)wg : 256;
    uint32_t mx = stvk_max_wg(caps);
    if (w > mx) w = mx;
    if (w > 1024) w = 1024;
    w = stvk_pow2_floor(w);
    const uint32_t need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_VOTE_BIT |
                          VK_SUBGROUP_FEATURE_ARITHMETIC_BIT | VK_SUBGROUP_FEATURE_BALLOT_BIT;
    uint32_t ss = caps->subgroup_size;
    *sg = ss >= 4 && (caps->subgroup_ops & need) == need && w % ss == 0 && caps->full_subgroups &&
          !st_env_on("ST_VULKAN_RANKK_SHARED"); /* tests: the shared-memory variants */
    return w;
}

/* Workgroups per row for the kernels that read the input: 1 for many rows, else enough
 * to give about RX_TARGET_GROUPS groups, each with at least 8 columns per thread. */
static uint32_t chunks_per_row(uint64_t rows, uint32_t n, uint32_t wg) {
    if (rows >= RX_TARGET_GROUPS / 2) return 1;
    uint64_t want = (RX_TARGET_GROUPS + rows - 1) / rows;
    uint64_t most = ((uint64_t)n + 8ull * wg - 1) / (8ull * wg);
    uint64_t c = want < most ? want : most;
    return c < 1 ? 1 : (uint32_t)c;
}

/* 1-2: the radix select; leaves every row's RowState F_DONE. `gate` (RX_GATE_BYTES,
 * zeroed) holds the level gate words the picks set (rx_radix.glsl after_pick): word 2L+1
 * for level L's gather + resolve, word 2L+2 for level L+1's histogram + pick. Usually every
 * row is done after level 0, and the later levels' dispatches (each launching the whole
 * grid to find no row) are skipped by the GPU. Level 0's histogram + pick run under the
 * caller's gate (this may run inside a gated region); every later step is gated by its
 * word alone, which replaces the caller's: a word is set only by kernels that ran, so
 * under a closed outer gate it stays zero. The caller's gate is put back at the end. */
static st_status rx_select(rx_ctx *c, uint64_t hist, uint64_t gk, uint64_t gc, uint64_t tiles, void *gate) {
    rx_pc pc = c->pc;
    pc.out0 = tiles; /* with gather: the two-pass compaction's tile counts, begun here */
    pc.gate = stvk_addr(gate, 0);
    uint64_t rows = pc.rows;
    uint32_t nchunk = c->nchunk;
    pc.nchunk = nchunk;
    pc.chunk = c->chunk;
    stvk_gate_state outer = stvk_gate_save();
    st_status s = ST_OK;
    for (int L = 0; L < c->nlev && s == ST_OK; L++) {
        pc.level = (uint32_t)L;
        pc.buf = hist;
        uint32_t spec[4] = {c->wg, nchunk == 1, c->nq, c->hpre};
        uint32_t gspec[2] = {c->wg, c->gpre};
        if (L > 0) s = stvk_gate_begin(c->dev, gate, (size_t)(2 * L) * 4);
        if (s == ST_OK) s = rx_go(c, "hist", true, spec, 4, rows * nchunk, &pc);
        if (s == ST_OK && nchunk > 1) s = rx_go(c, "pick", true, spec, 1, rows, &pc);
        if (s != ST_OK || L + 1 == c->nlev || pc.cap == 0) continue;
        pc.buf = gk;
        pc.buf2 = gc;
        s = stvk_gate_begin(c->dev, gate, (size_t)(2 * L + 1) * 4);
        if (s == ST_OK) s = rx_go(c, c->gres ? "gres" : "gather", true, gspec, 2, rows * nchunk, &pc);
        if (s == ST_OK && !c->gres) s = rx_go(c, "resolve", true, spec, 1, rows, &pc);
    }
    stvk_gate_restore(outer);
    return s;
}

/* 3: the ordered compaction to `out0/out1` (values/indices, or pairs). With u2, `tiles`
 * holds the tile counts (rows * ntiles uvec4), complete for the rows the select counted. */
static st_status rx_compact(rx_ctx *c, bool u2, uint64_t tiles, uint64_t out0, uint64_t out1, uint32_t opts,
                            void *gate) {
    rx_pc pc = c->pc;
    uint64_t rows = pc.rows;
    pc.out0 = out0;
    pc.out1 = out1;
    pc.opts |= opts;
    uint32_t tile = pc.tile, ipt = tile / c->wg;
    ipt = ipt < 1 ? 1 : ipt > 16 ? 16 : ipt;
    uint32_t spec[6] = {c->wg, tile, ipt, !u2, c->wtiles > 1, c->w8};
    if (!u2) {
        pc.nchunk = 1;
        return rx_go(c, "write", true, spec, 4, rows, &pc);
    }
    pc.buf = tiles;
    pc.nchunk = pc.ntiles;
    pc.chunk = tile;
    /* one workgroup a row when every row has its own (FUSED select): such rows were
     * usually counted by the select, and a tile's workgroup would only look and exit */
    bool perrow = c->fused;
    uint32_t cspec[2] = {c->wg, perrow};
    /* each step only where some row needs it (gate words; a word is set only by kernels
     * that ran, so this also holds under a closed outer gate): rx_count where a row left
     * the select uncounted; with OPT_ROFF, rx_offsets where a row finished the select
     * without its prefix offsets */
    stvk_gate_state outer = stvk_gate_save();
    st_status s = stvk_gate_begin(c->dev, gate, (size_t)RX_GATE_UNCOUNTED * 4);
    if (s == ST_OK) s = rx_go(c, "count", true, cspec, 2, perrow ? rows : rows * pc.ntiles, &pc);
    stvk_gate_restore(outer);
    if (s == ST_OK && (pc.opts & OPT_ROFF)) s = stvk_gate_begin(c->dev, gate, (size_t)RX_GATE_OFFS * 4);
    if (s == ST_OK) s = rx_go(c, "offsets", true, spec, 1, rows, &pc);
    stvk_gate_restore(outer);
    if (c->seg) { /* a subgroup a tile (wtiles of them, the next one's loads in flight): nsg * wtiles tiles a workgroup */
        pc.chunk = c->nsg * c->wtiles;
        pc.nchunk = (pc.ntiles + pc.chunk - 1) / pc.chunk;
    }
    if (s == ST_OK) s = rx_go(c, "write", true, spec, c->seg ? 6 : 4, (uint64_t)rows * pc.nchunk, &pc);
    return s;
}

/* 4: sort the k pairs of each row (at ka/ca, [rows][k]) best first and write the outputs. */
static st_status rx_sort_pairs(rx_ctx *c, uint64_t vals, uint64_t idx, uint64_t ka, uint64_t ca, uint64_t kb,
                               uint64_t cb) {
    rx_pc pc = c->pc;
    uint64_t rows = pc.rows;
    uint32_t runs = (pc.k + RX_ST - 1) / RX_ST;
    pc.buf = ka;
    pc.buf2 = ca;
    pc.out0 = vals;
    pc.out1 = idx;
    pc.nchunk = runs;
    if (runs == 1) pc.opts |= OPT_FINAL;
    /* the sort: RX_ST / swg elements a thread (16: sorted in registers, then 7 merge levels
     * in shared memory, which bounds it); ST_VULKAN_RANKK_SORTWG 128..1024 (benchmarks) */
    const char *sw = st_env("ST_VULKAN_RANKK_SORTWG");
    uint32_t swg = RX_SORT_WG;
    if (sw && (!strcmp(sw, "256") || !strcmp(sw, "512") || !strcmp(sw, "1024"))) swg = (uint32_t)strtoul(sw, NULL, 10);
    if (swg > stvk_max_wg(stvk_caps_of(c->dev))) swg = RX_SORT_WG;
    uint32_t spec[3] = {swg, RX_ST, RX_ST / swg};
    st_status s = rx_go(c, "sort", false, spec, 3, rows * runs, &pc);
    /* merge path: a workgroup of mwg threads makes tm = mwg * ipt outputs (tm <= RX_ST, a
     * power of two, so it divides every run length) */
    uint32_t mwg = c->wg < 64 ? 64 : c->wg, ipt = RX_ST / mwg < 8 ? RX_ST / mwg : 8, tm = mwg * ipt;
    uint32_t mspec[3] = {mwg, ipt, tm};
    uint64_t groups = rows * ((pc.k + tm - 1) / tm);
    for (uint64_t L = RX_ST; s == ST_OK && L < pc.k; L *= 2) {
        bool last = 2 * L >= pc.k;
        pc.chunk = (uint32_t)L;
        pc.opts = c->pc.opts | (last ? OPT_FINAL : 0);
        pc.out0 = last ? vals : kb;
        pc.out1 = last ? idx : cb;
        s = rx_go(c, "merge", false, mspec, 3, groups, &pc);
        uint64_t t = ka;
        ka = kb, kb = t, t = ca, ca = cb, cb = t;
        pc.buf = ka;
        pc.buf2 = ca;
    }
    return s;
}

typedef struct rx_tmp {
    void *h;
    size_t n;
} rx_tmp;

static st_status tmp_alloc(int dev, rx_tmp *t, size_t n, uint64_t *addr) {
    t->n = n ? n : 16;
    st_status s = stvk_buf_alloc(dev, t->n, &t->h);
    if (s != ST_OK) t->h = NULL;
    *addr = s == ST_OK ? stvk_addr(t->h, 0) : 0;
    return s;
}

st_status stvk_rankk_exact(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx, const st_kview *x,
                           int64_t k, const st_rankk_params *p, uint64_t row_flags) {
    int dc = stvk_dtype_code(dev, x->dtype, "rank-K");
    if (dc < 0) return st_last_status();
    const stvk_caps *caps = stvk_caps_of(dev);
    if (!caps) return st_last_status();
    int nd = x->ndim;
    if (nd < 1) return st_err(ST_E_SHAPE, "rank-K: input must have at least one dim");
    int64_t n = x->shape[nd - 1];
    int64_t rows = n ? st_shape_numel(nd, x->shape) / n : st_shape_numel(nd - 1, x->shape);
    if (k == 0 || rows == 0) return ST_OK;
    if (k < 0 || k > n) return st_err(ST_E_INVALID_ARG, "rank-K: k=%lld is out of range [0, %lld]", (long long)k, (long long)n);
    int64_t rs;
    if (nd > 1 && x->strides[nd - 1] != 1 && n > 1)
        return st_err(ST_E_INTERNAL, "rank-K (vulkan exact): the last dim must be contiguous");
    if (!row_stride(x, &rs)) return st_err(ST_E_INTERNAL, "rank-K (vulkan exact): rows are not at a constant stride");
    if (n >= STVK_MAX_ELEMS || rows > UINT32_MAX || (uint64_t)rows * (uint64_t)k > ((uint64_t)1 << 40))
        return st_err(ST_E_UNSUPPORTED, "rank-K: %lld rows of %lld columns are beyond the vulkan backend's 32-bit "
                                        "indexing", (long long)rows, (long long)n);
    rx_ctx c = {.dev = dev, .dt = stvk_dt_suffix(dc), .nlev = dc == STVK_DT_I64 ? 6 : 3,
                .ksz = dc == STVK_DT_I64 ? 8 : 4};
    c.wg = pick_wg(caps, p ? p->wg : 0, &c.sg);
    bool top = mode == ST_RANK_TOP, mid = mode == ST_RANK_MID;
    uint32_t cap = n < RX_CAP ? (uint32_t)n : RX_CAP;
    if ((size_t)rows * cap * (c.ksz + 4) > RX_GATHER_MAX) cap = (uint32_t)(RX_GATHER_MAX / ((size_t)rows * (c.ksz + 4)));
    if (cap < 64 && cap < n) cap = 0;
    c.pc = (rx_pc){.x = stvk_view_addr(x), .flags = row_flags, .flip = top ? 0 : ~(uint64_t)0, .xrs = (uint64_t)rs,
                   .rows = (uint32_t)rows, .n = (uint32_t)n, .k = (uint32_t)k, .cap = cap,
                   .opts = (idx->dtype == ST_I64 ? OPT_IDX64 : 0) | (mid ? OPT_MID : 0)};
    if (dc != STVK_DT_I64) c.pc.flip &= 0xFFFFFFFFu;
    /* compaction shape: MidK from the heuristics; TopK/BottomK two-pass for few rows */
    bool u2 = mid ? (p ? p->u2 : true) : rows < 64;
    int64_t tile = mid && p && p->tile > 0 ? p->tile : mid ? 2048 : 8 * (int64_t)c.wg;
    if (c.sg && u2) {
        /* subgroup variants: rx_gather adds a subgroup's strict counts to at most two
         * tiles, so a tile is a power of two >= 4 * (largest subgroup); 32-bit rows are
         * written a subgroup a tile (seg): the workgroup's `tile` columns split over its
         * subgroups, at most 8192 tiles a row (rx_offsets scans a row in one workgroup) */
        uint32_t ss = caps->subgroup_size, smax = caps->max_subgroup_size > ss ? caps->max_subgroup_size : ss;
        c.nsg = c.wg / ss;
        c.seg = c.ksz == 4;
        if (c.seg) {
            int64_t per_sg = tile / c.nsg, least = (n + 8191) / 8192;
            tile = per_sg > least ? per_sg : least;
        }
        if (tile > n) tile = n; /* one tile a row */
        if (tile < 4 * (int64_t)smax) tile = 4 * (int64_t)smax;
        c.pc.tile = stvk_pow2_ceil((uint64_t)tile);
    } else {
        c.pc.tile = (uint32_t)(tile < n ? tile : n);
    }
    c.pc.ntiles = (uint32_t)((n + c.pc.tile - 1) / c.pc.tile);
    /* the select's chunks; with tile counts to add (u2) they start on a tile */
    c.nchunk = chunks_per_row((uint64_t)rows, (uint32_t)n, c.wg);
    c.chunk = (uint32_t)((n + c.nchunk - 1) / c.nchunk);
    if (u2 && c.nchunk > 1) {
        c.chunk = (c.chunk + c.pc.tile - 1) / c.pc.tile * c.pc.tile;
        c.nchunk = (uint32_t)((n + c.chunk - 1) / c.chunk);
    }
    c.fused = c.nchunk == 1;
    /* The defaults below are the forms timed fastest on an H100 (docs/notes/vulkan-rankk-h100.md,
     * eighth session: MidK 1024x65536 k=32768 0.582 ms against 0.641 for the earlier ones);
     * each ST_VULKAN_RANKK_* variable (docs/env.md) turns its part back for benchmarks and tests. */
    const char *nq = st_env("ST_VULKAN_RANKK_NQ"); /* 16-byte loads a block of rx_hist: 4, or 2 */
    c.nq = nq && !strcmp(nq, "2") ? 2 : 4;
    /* rx_write: tiles a subgroup (1, 2, 4 or 8; > 1: the next one's loads in flight) */
    const char *wt = c.seg ? st_env("ST_VULKAN_RANKK_WTILES") : NULL;
    c.wtiles = c.seg ? RX_WTILES : 1;
    if (wt && (!strcmp(wt, "1") || !strcmp(wt, "2") || !strcmp(wt, "4") || !strcmp(wt, "8"))) c.wtiles = (uint32_t)(wt[0] - '0');
    const char *ws = c.seg ? st_env("ST_VULKAN_RANKK_WSTEP") : NULL; /* columns a lane a step: 8, or 4 */
    c.w8 = c.seg && !(ws && !strcmp(ws, "4"));
    /* rx_resolve writes the prefix offsets of the rows it counts in shared memory, and
     * rx_offsets runs only where some row finished without them (GATE_OFFS);
     * ST_VULKAN_RANKK_ROFF=0 turns it off */
    if (u2 && st_env_flag("ST_VULKAN_RANKK_ROFF", true)) c.pc.opts |= OPT_ROFF;
    /* rx_gather goes on to resolve the rows it gathered in the same workgroup (one
     * workgroup a row, subgroup variants): rx_gres, no rx_resolve dispatch;
     * ST_VULKAN_RANKK_GRES=0 turns it off */
    c.gres = c.fused && c.sg && st_env_flag("ST_VULKAN_RANKK_GRES", true);
    /* the next block's 16-byte loads in flight while one is processed: rx_hist's window
     * pass (ST_VULKAN_RANKK_HPRE), rx_gather's block loop (ST_VULKAN_RANKK_GPRE); =0: off */
    c.hpre = st_env_flag("ST_VULKAN_RANKK_HPRE", true);
    c.gpre = st_env_flag("ST_VULKAN_RANKK_GPRE", true);

    enum { T_STATE, T_HIST, T_GK, T_GC, T_TILES, T_GATE, T_PK, T_PC, T_PK2, T_PC2, T_N };
    rx_tmp t[T_N];
    memset(t, 0, sizeof t);
    uint64_t a[T_N] = {0};
    st_status s = tmp_alloc(dev, &t[T_STATE], (size_t)rows * RX_STATE, &a[T_STATE]);
    if (s == ST_OK && c.nchunk > 1) {
        s = tmp_alloc(dev, &t[T_HIST], (size_t)rows * 2 * RX_BINS * 4, &a[T_HIST]);
        if (s == ST_OK) s = stvk_fill_u32(dev, t[T_HIST].h, 0, t[T_HIST].n, 0);
    }
    /* the gather buffer: every row's scores, then every row's columns */
    if (s == ST_OK && cap) s = tmp_alloc(dev, &t[T_GK], (size_t)rows * cap * (c.ksz + 4), &a[T_GK]);
    if (s == ST_OK && cap) a[T_GC] = a[T_GK] + (uint64_t)rows * cap * c.ksz;
    if (s == ST_OK && u2) {
        s = tmp_alloc(dev, &t[T_TILES], (size_t)rows * c.pc.ntiles * 16, &a[T_TILES]);
        if (s == ST_OK) s = stvk_fill_u32(dev, t[T_TILES].h, 0, t[T_TILES].n, 0);
    }
    if (s == ST_OK) { /* a fill is never gated: the words start at zero even under a closed gate */
        s = tmp_alloc(dev, &t[T_GATE], RX_GATE_BYTES, &a[T_GATE]);
        if (s == ST_OK) s = stvk_fill_u32(dev, t[T_GATE].h, 0, t[T_GATE].n, 0);
    }
    c.pc.st = a[T_STATE];
    uint64_t va = stvk_view_addr(vals), ia = stvk_view_addr(idx);
    if (s == ST_OK) s = rx_select(&c, a[T_HIST], a[T_GK], a[T_GC], a[T_TILES], t[T_GATE].h);

    if (s == ST_OK && mid) {
        s = rx_compact(&c, u2, a[T_TILES], va, ia, 0, t[T_GATE].h);
    } else if (s == ST_OK) {
        size_t np = (size_t)rows * (size_t)k;
        bool merge = k > RX_ST;
        s = tmp_alloc(dev, &t[T_PK], np * c.ksz, &a[T_PK]);
        if (s == ST_OK) s = tmp_alloc(dev, &t[T_PC], np * 4, &a[T_PC]);
        if (s == ST_OK && merge) s = tmp_alloc(dev, &t[T_PK2], np * c.ksz, &a[T_PK2]);
        if (s == ST_OK && merge) s = tmp_alloc(dev, &t[T_PC2], np * 4, &a[T_PC2]);
        if (s == ST_OK) s = rx_compact(&c, u2, a[T_TILES], a[T_PK], a[T_PC], OPT_PAIRS, t[T_GATE].h);
        if (s == ST_OK) s = rx_sort_pairs(&c, va, ia, a[T_PK], a[T_PC], a[T_PK2], a[T_PC2]);
    }
    for (int i = 0; i < T_N; i++)
        if (t[i].h) stvk_buf_free(dev, t[i].h, t[i].n);
    return s;
}
