/* cpu_rankk.c — TopK / BottomK / MidK along the last axis on the CPU.
 *
 * Order (SPEC §3): every element maps to an unsigned score where a larger score ranks
 * better (TopK: larger value; BottomK and MidK: smaller value); among equal scores the
 * lower column ranks first. Scores canonicalise -0.0 to +0.0 and every NaN to one NaN
 * above +inf, so results are exact and identical on every backend.
 *
 * Two algorithms, chosen by the heuristics (st_rankk_params.algo; algo 2, the GPUs'
 * subgroup select, runs the filter here: the CPU has no subgroups):
 *  FILTER (f32 TopK/BottomK): one streaming pass with a running threshold. Candidates
 *    go to a buffer of k + 16*kl composites (score << 32 | ~column); a full buffer is
 *    shrunk to k by quickselect, which raises the threshold. With u2 the row is cut in
 *    ch-column chunks whose candidates are found independently (in parallel when there
 *    are fewer rows than threads) and merged in a second step.
 *  RADIX (every dtype): radix select of the k-th score (11-bit digits, the first one
 *    taken from a window fitted to a sample of the row; after it, a small bucket is
 *    gathered and refined in a buffer, a large one by re-reading the row), then one
 *    pass that collects the winners in column order and a stable LSD radix sort.
 *  MidK always uses radix select, for ranks lo and lo+k-1, then compacts the row in
 *    column order tile by tile (tile columns); with u2 the compaction is two passes
 *    (count per tile, then write), so the tiles of one row can go to different threads.
 * wg sets the rows per scheduling task: ceil(wg / 32) (a workgroup of wg lanes is taken
 * as wg/32 rows of SIMD work). Extra memory is
 * O(threads * (k + 16*kl + tile)), never a copy of the input.
 */
#include "cpu.h"

#define SCH 2048          /* scores converted per block (fits L1) */
#define GATHER_CAP 8192   /* a radix bucket up to this size is refined in a buffer */
#define EST_S 1024        /* sample size of the filter's threshold estimate */
#define DIGIT 11

typedef struct rk_row {
    st_dtype dt;
    const char *base; /* first element of the row */
    int64_t stride;   /* elements */
    int64_t n;
    uint64_t flip; /* XOR applied to the ascending key: 0 for TopK, all-ones (width) otherwise */
    int width;     /* 32 or 64 */
} rk_row;

typedef struct rk_scratch {
    uint64_t *sc;  /* SCH scores */
    uint64_t *buf; /* filter: row accumulator (cap) | radix: out scores (k) */
    uint64_t *buf2; /* filter: chunk accumulator (cap) | radix: tmp scores (k) */
    int64_t *col;  /* radix: out columns (k) */
    int64_t *col2; /* radix: tmp columns (k) */
    uint64_t *gs;  /* radix: gathered bucket scores (GATHER_CAP) */
    int64_t *gc;   /* radix: gathered bucket columns (GATHER_CAP) */
    uint32_t *hist; /* 2048 */
    float *fv, *fv2;    /* filter: candidate values (cap + FBLK) */
    uint64_t *stmp;     /* filter: sort scratch (cap + FBLK) */
    bool prev_ok;       /* filter with est: prev_t is a threshold from this thread's last row */
    float prev_t;
    uint32_t *fc, *fc2; /* filter: candidate columns (cap + FBLK) */
    struct mid_cnt *tiles; /* MidK u2: counts per tile (ntiles) */
    int64_t *tstart;       /* MidK u2: 3 starts per tile */
    st_cpu_rankk_stats st;
} rk_scratch;

static _Thread_local st_cpu_rankk_stats tl_last;
void st_cpu_rankk_last_stats(st_cpu_rankk_stats *out) { *out = tl_last; }

/* ---------------------------------------------------------------- scores */

static inline uint32_t key_f32(uint32_t u) {
    uint32_t a = u & 0x7FFFFFFFu;
    u = a == 0 ? 0 : u;
    u = a > 0x7F800000u ? 0x7FC00000u : u;
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
static inline uint64_t key_f64(uint64_t u) {
    uint64_t a = u & 0x7FFFFFFFFFFFFFFFull;
    u = a == 0 ? 0 : u;
    u = a > 0x7FF0000000000000ull ? 0x7FF8000000000000ull : u;
    return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}

/* Scores of row elements [c0, c0+m) into out. */
static void scores(const rk_row *r, int64_t c0, int64_t m, uint64_t *out) {
    const int64_t s = r->stride;
    const uint64_t f = r->flip;
    switch (r->dt) {
    case ST_F32: {
        const uint32_t *p = (const uint32_t *)(const void *)r->base + c0 * s;
        if (s == 1)
            for (int64_t i = 0; i < m; i++) out[i] = (uint64_t)key_f32(p[i]) ^ f;
        else
            for (int64_t i = 0; i < m; i++) out[i] = (uint64_t)key_f32(p[i * s]) ^ f;
        break;
    }
    case ST_I32: {
        const uint32_t *p = (const uint32_t *)(const void *)r->base + c0 * s;
        for (int64_t i = 0; i < m; i++) out[i] = (uint64_t)(p[i * s] ^ 0x80000000u) ^ f;
        break;
    }
    case ST_F64: {
        const uint64_t *p = (const uint64_t *)(const void *)r->base + c0 * s;
        for (int64_t i = 0; i < m; i++) out[i] = key_f64(p[i * s]) ^ f;
        break;
    }
    case ST_I64: {
        const uint64_t *p = (const uint64_t *)(const void *)r->base + c0 * s;
        for (int64_t i = 0; i < m; i++) out[i] = (p[i * s] ^ 0x8000000000000000ull) ^ f;
        break;
    }
    }
}

/* Copy element `col` of the row to vals[j] and write the index. */
static inline void emit(const rk_row *r, const st_kview *vals, const st_kview *idx, int64_t row, int64_t k, int64_t j,
                        int64_t col) {
    if (r->width == 32)
        ((uint32_t *)(void *)st_cpu_base(vals))[row * k + j] = ((const uint32_t *)(const void *)r->base)[col * r->stride];
    else
        ((uint64_t *)(void *)st_cpu_base(vals))[row * k + j] = ((const uint64_t *)(const void *)r->base)[col * r->stride];
    if (idx->dtype == ST_I32)
        ((int32_t *)(void *)st_cpu_base(idx))[row * k + j] = (int32_t)col;
    else
        ((int64_t *)(void *)st_cpu_base(idx))[row * k + j] = col;
}

/* ---------------------------------------------------------------- selection helpers */

static inline void swap64(uint64_t *a, uint64_t *b) {
    uint64_t t = *a;
    *a = *b;
    *b = t;
}

/* Rearrange v[0..n) (unique values) so that v[0..k) holds the k largest and v[k-1] is
 * the k-th largest. Quickselect with a median-of-three pivot and a branch-free Lomuto
 * partition: on random candidates a branchy partition mispredicts half its compares. */
static void select_top(uint64_t *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1, want = k - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        /* median of v[lo], v[mid], v[hi] to v[hi] */
        if (v[mid] > v[lo]) swap64(&v[mid], &v[lo]);
        if (v[hi] > v[lo]) swap64(&v[hi], &v[lo]);
        if (v[mid] > v[hi]) swap64(&v[mid], &v[hi]);
        uint64_t piv = v[hi];
        int64_t store = lo;
        for (int64_t i = lo; i < hi; i++) {
            uint64_t x = v[i];
            v[i] = v[store];
            v[store] = x;
            store += x > piv;
        }
        swap64(&v[store], &v[hi]);
        if (want == store) return;
        if (want < store)
            hi = store - 1;
        else
            lo = store + 1;
    }
}

/* Sort unique u64 descending (insertion sort below 32, else quicksort). */
static void sort_desc(uint64_t *v, int64_t n) {
    while (n > 32) {
        int64_t mid = n / 2;
        if (v[mid] > v[0]) swap64(&v[mid], &v[0]);
        if (v[n - 1] > v[0]) swap64(&v[n - 1], &v[0]);
        if (v[n - 1] > v[mid]) swap64(&v[n - 1], &v[mid]);
        uint64_t piv = v[mid];
        int64_t i = 0, j = n - 1;
        while (i <= j) {
            while (v[i] > piv) i++;
            while (v[j] < piv) j--;
            if (i <= j) {
                swap64(&v[i], &v[j]);
                i++;
                j--;
            }
        }
        /* recurse into the smaller side, loop on the larger */
        if (j + 1 < n - i) {
            sort_desc(v, j + 1);
            v += i;
            n -= i;
        } else {
            sort_desc(v + i, n - i);
            n = j + 1;
        }
    }
    for (int64_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        int64_t j = i - 1;
        while (j >= 0 && v[j] < x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

/* Stable LSD radix sort of n u64 items by the digits in bits [lo_bit, hi_bit), largest
 * first; tmp has room for n. Returns the array holding the result (v or tmp). For
 * 32-bit dtypes an item is score << 32 | column (one 8-byte move per element). */
static uint64_t *lsd_desc_u64(uint64_t *v, uint64_t *tmp, int64_t n, int lo_bit, int hi_bit, uint32_t *hist) {
    for (int lo = lo_bit; lo < hi_bit; lo += DIGIT) {
        int bits = hi_bit - lo < DIGIT ? hi_bit - lo : DIGIT;
        uint64_t dmask = ((uint64_t)1 << bits) - 1;
        memset(hist, 0, sizeof(uint32_t) << DIGIT);
        for (int64_t i = 0; i < n; i++) hist[(v[i] >> lo) & dmask]++;
        if (hist[(v[0] >> lo) & dmask] == n) continue; /* one digit value: nothing moves */
        uint32_t run = 0;
        for (int64_t d = (int64_t)dmask; d >= 0; d--) {
            uint32_t h = hist[d];
            hist[d] = run;
            run += h;
        }
        for (int64_t i = 0; i < n; i++) tmp[hist[(v[i] >> lo) & dmask]++] = v[i];
        uint64_t *t = v;
        v = tmp;
        tmp = t;
    }
    return v;
}

/* ---------------------------------------------------------------- FILTER (f32) */

/* Candidates are (value, column) pairs appended by a compress step that keeps the
 * elements beating the threshold t (the k-th best so far). When the buffer is full it
 * is shrunk to the best k by quickselect on composites (score << 32 | ~column), which
 * raises t. */
typedef struct facc {
    float *v;      /* cap + FBLK values */
    uint32_t *c;   /* cap + FBLK columns */
    uint64_t *cmp; /* cap + FBLK composites (scratch) */
    uint64_t *tmp; /* cap + FBLK: radix-sort scratch */
    uint32_t *hist;
    int64_t n, cap, k;
    bool top;      /* TopK (else BottomK) */
    bool have_thr; /* t is the k-th best seen so far */
    uint64_t thr;  /* its composite */
    float t;
    bool t_nan;
    int64_t shrinks, pushed;
} facc;
#define FBLK 64

static inline uint64_t composite(uint32_t score, int64_t col) {
    return ((uint64_t)score << 32) | (uint64_t)(0xFFFFFFFFu - (uint32_t)col);
}
static inline int64_t comp_col(uint64_t c) { return (int64_t)(0xFFFFFFFFu - (uint32_t)c); }
static inline float comp_val(uint64_t c, bool top) {
    uint32_t key = (uint32_t)(c >> 32) ^ (top ? 0u : 0xFFFFFFFFu);
    uint32_t bits = (key & 0x80000000u) ? (key ^ 0x80000000u) : ~key;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void facc_reset(facc *a) {
    a->n = 0;
    a->have_thr = false;
}

/* Start a chunk accumulator with the row accumulator's threshold: a chunk's pass-1
 * candidates only need to beat what the row already holds. */
static void facc_inherit(facc *part, const facc *row) {
    facc_reset(part);
    part->have_thr = row->have_thr;
    part->thr = row->thr;
    part->t = row->t;
    part->t_nan = row->t_nan;
}

/* Composites of the n candidates, best k first (cmp[k-1] the k-th); n >= k. */
static void facc_select(facc *a, int64_t k) {
    uint32_t flip = a->top ? 0u : 0xFFFFFFFFu;
    for (int64_t i = 0; i < a->n; i++) {
        uint32_t u;
        memcpy(&u, &a->v[i], sizeof u);
        a->cmp[i] = composite(key_f32(u) ^ flip, a->c[i]);
    }
    if (a->n > k) select_top(a->cmp, a->n, k);
}

static void facc_shrink(facc *a) {
    facc_select(a, a->k);
    for (int64_t i = 0; i < a->k; i++) {
        a->v[i] = comp_val(a->cmp[i], a->top);
        a->c[i] = (uint32_t)comp_col(a->cmp[i]);
    }
    a->n = a->k;
    int64_t m = 0;
    for (int64_t i = 1; i < a->k; i++)
        if (a->cmp[i] < a->cmp[m]) m = i;
    a->thr = a->cmp[m];
    a->t = comp_val(a->thr, a->top);
    a->t_nan = a->t != a->t;
    a->have_thr = true;
    a->shrinks++;
}

/* Compare mode of the current threshold: 0 top (!(v <= t)), 1 bottom (v < t), 2 bottom
 * with a NaN threshold (v == v), 3 everything passes, -1 nothing can pass. */
static inline int facc_mode(const facc *a) {
    if (!a->have_thr) return 3;
    if (a->top) return a->t_nan ? -1 : 0;
    return a->t_nan ? 2 : 1;
}

static inline int pass1(float v, float t, int mode) {
    switch (mode) {
    case 0: return !(v <= t);
    case 1: return v < t;
    case 2: return v == v;
    default: return 1;
    }
}

/* Append the elements of p[0..m) (columns col0..) that pass; returns the new count.
 * Portable branch-free form. */
static int64_t compress_scalar(const float *p, int64_t stride, int64_t m, int64_t col0, float t, int mode, float *ov,
                               uint32_t *oc, int64_t n) {
    for (int64_t j = 0; j < m; j++) {
        float v = p[j * stride];
        ov[n] = v;
        oc[n] = (uint32_t)(col0 + j);
        n += pass1(v, t, mode);
    }
    return n;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ST_HAVE_AVX512_COMPRESS 1
/* Same for a contiguous block of FBLK floats with AVX-512 compress-stores. */
__attribute__((target("avx512f"))) static int64_t compress_avx512(const float *p, int64_t col0, float t, int mode,
                                                                   float *ov, uint32_t *oc, int64_t n) {
    const __m512 tv = _mm512_set1_ps(t);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int j = 0; j < FBLK; j += 16) {
        __m512 x = _mm512_loadu_ps(p + j);
        __mmask16 m;
        switch (mode) {
        case 0: m = _mm512_cmp_ps_mask(x, tv, _CMP_NLE_UQ); break;
        case 1: m = _mm512_cmp_ps_mask(x, tv, _CMP_LT_OQ); break;
        case 2: m = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q); break;
        default: m = 0xFFFF; break;
        }
        if (!m) continue;
        _mm512_mask_compressstoreu_ps(ov + n, m, x);
        __m512i col = _mm512_add_epi32(iota, _mm512_set1_epi32((int)(col0 + j)));
        _mm512_mask_compressstoreu_epi32(oc + n, m, col);
        n += __builtin_popcount((unsigned)m);
    }
    return n;
}
static int have_avx512(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return cached;
}
#endif

/* Feed columns [c0, c1) of an f32 row into the accumulator. */
static void filter_segment(facc *a, const float *row, int64_t stride, int64_t c0, int64_t c1) {
    int64_t c = c0;
    while (c < c1) {
        if (a->n + FBLK > a->cap) facc_shrink(a);
        int mode = facc_mode(a);
        if (mode < 0) return; /* a NaN threshold in TopK: nothing later can beat it */
        int64_t m = c1 - c < FBLK ? c1 - c : FBLK;
        int64_t before = a->n;
#ifdef ST_HAVE_AVX512_COMPRESS
        if (stride == 1 && m == FBLK && have_avx512())
            a->n = compress_avx512(row + c, c, a->t, mode, a->v, a->c, a->n);
        else
#endif
            a->n = compress_scalar(row + c * stride, stride, m, c, a->t, mode, a->v, a->c, a->n);
        a->pushed += a->n - before;
        c += m;
    }
}

/* Reduce to the best min(k, n), as composites sorted best first in a->cmp; returns
 * the count. */
static int64_t facc_final(facc *a) {
    int64_t m = a->n < a->k ? a->n : a->k;
    facc_select(a, m);
    if (m <= 64) {
        sort_desc(a->cmp, m);
    } else { /* composites are unique: an LSD radix sort over all 64 bits (constant digits skipped) */
        uint64_t *res = lsd_desc_u64(a->cmp, a->tmp, m, 0, 64, a->hist);
        if (res != a->cmp) memcpy(a->cmp, res, (size_t)m * sizeof *res);
    }
    return m;
}

/* The best min(k, n) as composites in a->cmp, in no particular order (a chunk's
 * pass-1 result: the merge does not need them sorted). */
static int64_t facc_final_unsorted(facc *a) {
    int64_t m = a->n < a->k ? a->n : a->k;
    facc_select(a, m);
    return m;
}

/* The same, keeping the best `keep` (>= k): a chunk passes on what the row's next
 * threshold is taken from. */
static int64_t facc_final_keep(facc *a, int64_t keep) {
    int64_t m = a->n < keep ? a->n : keep;
    facc_select(a, m);
    return m;
}

/* Merge composites (n of them) of a chunk into a: those above a's threshold. */
static void facc_merge(facc *a, const uint64_t *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (a->have_thr && src[i] <= a->thr) continue;
        if (a->n + 1 > a->cap) facc_shrink(a);
        if (a->have_thr && src[i] <= a->thr) continue;
        a->v[a->n] = comp_val(src[i], a->top);
        a->c[a->n++] = (uint32_t)comp_col(src[i]);
        a->pushed++;
    }
    /* establish a threshold as soon as k candidates exist, so later chunks inherit it */
    if (!a->have_thr && a->n >= a->k) facc_shrink(a);
}

/* ---------------------------------------------------------------- RADIX */

/* Histogram of digit (shift, bits) over row elements whose score matches prefix/pmask. */
#ifdef ST_HAVE_AVX512_COMPRESS
/* Scores of 16 contiguous f32 (flip: 0 for TopK, all ones otherwise), as scores(). */
__attribute__((target("avx512f"))) static inline __m512i scores16_f32(const float *p, uint32_t flip) {
    const __m512i zero = _mm512_setzero_si512(), ones = _mm512_set1_epi32(-1);
    __m512i u = _mm512_loadu_si512((const void *)p);
    __m512i a = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
    u = _mm512_mask_mov_epi32(u, _mm512_cmpeq_epi32_mask(a, zero), zero);
    u = _mm512_mask_mov_epi32(u, _mm512_cmpgt_epu32_mask(a, _mm512_set1_epi32(0x7F800000)), _mm512_set1_epi32(0x7FC00000));
    __mmask16 neg = _mm512_cmplt_epi32_mask(u, zero);
    __m512i key = _mm512_mask_xor_epi32(_mm512_or_si512(u, _mm512_set1_epi32((int)0x80000000u)), neg, u, ones);
    return _mm512_xor_si512(key, _mm512_set1_epi32((int)flip));
}

/* hist_row for contiguous f32 rows: digits computed 16 at a time. Returns the columns
 * done (a multiple of 16). */
__attribute__((target("avx512f"))) static int64_t hist_f32_avx512(const rk_row *r, uint32_t *hist, int shift,
                                                                   uint64_t dmask, uint64_t prefix, uint64_t pmask) {
    const float *x = (const float *)(const void *)r->base;
    const uint32_t flip = (uint32_t)r->flip;
    const __m512i pm = _mm512_set1_epi32((int)(uint32_t)pmask), pf = _mm512_set1_epi32((int)(uint32_t)prefix);
    const __m512i dm = _mm512_set1_epi32((int)(uint32_t)dmask);
    const __m128i sh = _mm_cvtsi32_si128(shift);
    uint32_t d[16];
    int64_t n16 = r->n & ~(int64_t)15;
    for (int64_t c = 0; c < n16; c += 16) {
        __m512i sc = scores16_f32(x + c, flip);
        __m512i dg = _mm512_and_si512(_mm512_srl_epi32(sc, sh), dm);
        if (pmask == 0) {
            _mm512_storeu_si512((void *)d, dg);
            for (int j = 0; j < 16; j++) hist[d[j]]++;
        } else {
            __mmask16 m = _mm512_cmpeq_epi32_mask(_mm512_and_si512(sc, pm), pf);
            if (!m) continue;
            _mm512_mask_compressstoreu_epi32((void *)d, m, dg);
            int cnt = __builtin_popcount((unsigned)m);
            for (int j = 0; j < cnt; j++) hist[d[j]]++;
        }
    }
    return n16;
}

/* gather_prefix for contiguous f32 rows; returns the columns done, adds to *ng. */
__attribute__((target("avx512f"))) static int64_t gather_f32_avx512(const rk_row *r, rk_scratch *w, uint64_t pmask,
                                                                     uint64_t prefix, uint64_t prefix2, int64_t *ng) {
    const float *x = (const float *)(const void *)r->base;
    const uint32_t flip = (uint32_t)r->flip;
    const __m512i pm = _mm512_set1_epi32((int)(uint32_t)pmask);
    const __m512i p1 = _mm512_set1_epi32((int)(uint32_t)prefix), p2 = _mm512_set1_epi32((int)(uint32_t)prefix2);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint32_t sv[16], cv[16];
    int64_t n16 = r->n & ~(int64_t)15, g = *ng;
    for (int64_t c = 0; c < n16; c += 16) {
        __m512i sc = scores16_f32(x + c, flip);
        __m512i t = _mm512_and_si512(sc, pm);
        __mmask16 m = _mm512_cmpeq_epi32_mask(t, p1) | _mm512_cmpeq_epi32_mask(t, p2);
        if (!m) continue;
        _mm512_mask_compressstoreu_epi32((void *)sv, m, sc);
        _mm512_mask_compressstoreu_epi32((void *)cv, m, _mm512_add_epi32(iota, _mm512_set1_epi32((int)c)));
        int cnt = __builtin_popcount((unsigned)m);
        for (int j = 0; j < cnt; j++) {
            w->gs[g] = sv[j];
            w->gc[g++] = cv[j];
        }
    }
    *ng = g;
    return n16;
}
#endif

static void hist_row(const rk_row *r, rk_scratch *w, int shift, uint64_t dmask, uint64_t prefix, uint64_t pmask) {
    memset(w->hist, 0, sizeof(uint32_t) << DIGIT);
    int64_t start = 0;
#ifdef ST_HAVE_AVX512_COMPRESS
    if (r->dt == ST_F32 && r->stride == 1 && r->n <= INT32_MAX && have_avx512())
        start = hist_f32_avx512(r, w->hist, shift, dmask, prefix, pmask);
#endif
    for (int64_t c0 = start; c0 < r->n; c0 += SCH) {
        int64_t m = r->n - c0 < SCH ? r->n - c0 : SCH;
        scores(r, c0, m, w->sc);
        if (pmask == 0)
            for (int64_t i = 0; i < m; i++) w->hist[(w->sc[i] >> shift) & dmask]++;
        else
            for (int64_t i = 0; i < m; i++)
                if ((w->sc[i] & pmask) == prefix) w->hist[(w->sc[i] >> shift) & dmask]++;
    }
    w->st.row_passes++;
}

/* Walk a histogram from the best digit down; returns the digit holding rank *rem and
 * leaves in *rem the rank inside it. */
static uint64_t hist_walk(const uint32_t *hist, uint64_t dmask, int64_t *rem, int64_t *count) {
    for (int64_t d = (int64_t)dmask; d >= 0; d--) {
        if (*rem < hist[d]) {
            *count = hist[d];
            return (uint64_t)d;
        }
        *rem -= hist[d];
    }
    *count = 0;
    return 0; /* unreachable for a valid rank */
}

/* Threshold of descending rank `rank`: score S and the occurrence (column order) of S. */
typedef struct rk_thr {
    uint64_t S;
    int64_t occ;
} rk_thr;

/* Gather, in column order, the elements whose score matches prefix/pmask or
 * prefix2/pmask (one pass); returns the count. */
static int64_t gather_prefix(const rk_row *r, rk_scratch *w, uint64_t pmask, uint64_t prefix, uint64_t prefix2) {
    int64_t ng = 0, start = 0;
#ifdef ST_HAVE_AVX512_COMPRESS
    if (r->dt == ST_F32 && r->stride == 1 && r->n <= INT32_MAX && have_avx512())
        start = gather_f32_avx512(r, w, pmask, prefix, prefix2, &ng);
#endif
    for (int64_t c0 = start; c0 < r->n; c0 += SCH) {
        int64_t m = r->n - c0 < SCH ? r->n - c0 : SCH;
        scores(r, c0, m, w->sc);
        for (int64_t i = 0; i < m; i++) {
            uint64_t t = w->sc[i] & pmask;
            if (t == prefix || t == prefix2) {
                w->gs[ng] = w->sc[i];
                w->gc[ng++] = c0 + i;
            }
        }
    }
    w->st.row_passes++;
    return ng;
}

/* Continue a radix select from a state (prefix/pmask known above bit `hi`; rem = rank
 * inside that prefix; count = elements with that prefix). When `ng` >= 0 the matching
 * elements are already gathered in w->gs (column order). */
static rk_thr radix_refine(const rk_row *r, rk_scratch *w, uint64_t prefix, uint64_t pmask, int hi, int64_t rem,
                           int64_t count, int64_t ng) {
    while (hi > 0) {
        int bits = hi >= DIGIT ? DIGIT : hi;
        int shift = hi - bits;
        uint64_t dmask = ((uint64_t)1 << bits) - 1;
        if (ng < 0 && pmask != 0 && count <= GATHER_CAP) ng = gather_prefix(r, w, pmask, prefix, prefix);
        if (ng >= 0) {
            memset(w->hist, 0, sizeof(uint32_t) << DIGIT);
            for (int64_t i = 0; i < ng; i++)
                if ((w->gs[i] & pmask) == prefix) w->hist[(w->gs[i] >> shift) & dmask]++;
        } else {
            hist_row(r, w, shift, dmask, prefix, pmask);
        }
        uint64_t d = hist_walk(w->hist, dmask, &rem, &count);
        prefix |= d << shift;
        pmask |= dmask << shift;
        hi = shift;
    }
    return (rk_thr){prefix, rem};
}

/* Zoomed first digit. Float scores crowd into few top-11-bit buckets (the exponent),
 * so the first digit is taken from a window [lo, hi] fitted to a strided sample of the
 * row: 2048 buckets of 2^shift scores each, lo aligned to 2^shift, so a bucket is a
 * prefix set and the usual refinement continues below `shift`. Elements above hi are
 * counted; a rank outside the window falls back to the plain first digit. */
typedef struct rk_zoom {
    uint64_t lo, hi;
    int shift;
    int64_t above;
} rk_zoom;

#define ZOOM_S 256
static bool zoom_fit(const rk_row *r, rk_zoom *z) {
    if (r->n < 16 * ZOOM_S) return false;
    int64_t step = r->n / ZOOM_S;
    uint64_t smin = UINT64_MAX, smax = 0;
    for (int64_t i = 0; i < ZOOM_S; i++) {
        uint64_t sc = 0;
        scores(r, i * step, 1, &sc);
        smin = sc < smin ? sc : smin;
        smax = sc > smax ? sc : smax;
    }
    uint64_t d = smax ^ smin;
    int hb = d ? 63 - __builtin_clzll(d) : 0;
    int shift = hb + 1 - DIGIT;
    if (shift < 0) shift = 0;
    if (shift + DIGIT >= r->width) return false; /* no narrower than the plain digit */
    z->shift = shift;
    z->lo = (smin >> shift) << shift;
    z->hi = z->lo + (((uint64_t)1 << DIGIT) << shift) - 1;
    uint64_t top = r->width == 32 ? 0xFFFFFFFFull : UINT64_MAX;
    if (z->hi < z->lo || z->hi > top) z->hi = top;
    z->above = 0;
    return true;
}

#ifdef ST_HAVE_AVX512_COMPRESS
__attribute__((target("avx512f"))) static int64_t zoom_hist_avx512(const rk_row *r, uint32_t *hist, rk_zoom *z) {
    const float *x = (const float *)(const void *)r->base;
    const __m512i lo = _mm512_set1_epi32((int)(uint32_t)z->lo), hi = _mm512_set1_epi32((int)(uint32_t)z->hi);
    const __m128i sh = _mm_cvtsi32_si128(z->shift);
    uint32_t d[16];
    int64_t n16 = r->n & ~(int64_t)15, above = 0;
    for (int64_t c = 0; c < n16; c += 16) {
        __m512i sc = scores16_f32(x + c, (uint32_t)r->flip);
        above += __builtin_popcount((unsigned)_mm512_cmpgt_epu32_mask(sc, hi));
        __mmask16 in = _mm512_cmpge_epu32_mask(sc, lo) & _mm512_cmple_epu32_mask(sc, hi);
        __m512i dg = _mm512_srl_epi32(_mm512_sub_epi32(sc, lo), sh);
        _mm512_mask_compressstoreu_epi32((void *)d, in, dg);
        int cnt = __builtin_popcount((unsigned)in);
        for (int j = 0; j < cnt; j++) hist[d[j]]++;
    }
    z->above += above;
    return n16;
}
#endif

static void zoom_hist(const rk_row *r, rk_scratch *w, rk_zoom *z) {
    memset(w->hist, 0, sizeof(uint32_t) << DIGIT);
    int64_t start = 0;
#ifdef ST_HAVE_AVX512_COMPRESS
    if (r->dt == ST_F32 && r->stride == 1 && r->n <= INT32_MAX && have_avx512()) start = zoom_hist_avx512(r, w->hist, z);
#endif
    for (int64_t c0 = start; c0 < r->n; c0 += SCH) {
        int64_t m = r->n - c0 < SCH ? r->n - c0 : SCH;
        scores(r, c0, m, w->sc);
        for (int64_t i = 0; i < m; i++) {
            uint64_t sc = w->sc[i];
            if (sc > z->hi)
                z->above++;
            else if (sc >= z->lo)
                w->hist[(sc - z->lo) >> z->shift]++;
        }
    }
    w->st.row_passes++;
}

/* The first-digit decision for a rank from the zoomed histogram; false when the rank
 * lies outside the window. */
static bool zoom_walk(const rk_scratch *w, const rk_zoom *z, int64_t rank, uint64_t *prefix, int64_t *rem,
                      int64_t *count) {
    if (rank < z->above) return false;
    int64_t rr = rank - z->above, inside = 0;
    for (int i = 0; i < (1 << DIGIT); i++) inside += w->hist[i];
    if (rr >= inside) return false;
    uint64_t d = hist_walk(w->hist, ((uint64_t)1 << DIGIT) - 1, &rr, count);
    *prefix = z->lo + (d << z->shift);
    *rem = rr;
    return true;
}

static uint64_t zoom_pmask(const rk_row *r, int shift) {
    uint64_t top = r->width == 32 ? 0xFFFFFFFFull : UINT64_MAX;
    return top & ~(((uint64_t)1 << shift) - 1);
}

static rk_thr radix_select(const rk_row *r, rk_scratch *w, int64_t rank) {
    rk_zoom z;
    if (zoom_fit(r, &z)) {
        zoom_hist(r, w, &z);
        uint64_t prefix;
        int64_t rem, count;
        if (zoom_walk(w, &z, rank, &prefix, &rem, &count))
            return radix_refine(r, w, prefix, zoom_pmask(r, z.shift), z.shift, rem, count, -1);
    }
    return radix_refine(r, w, 0, 0, r->width, rank, r->n, -1);
}

/* Two ranks at once: the first digit's histogram is shared, and both buckets are
 * gathered in one pass when they fit. */
static void radix_select2(const rk_row *r, rk_scratch *w, int64_t ra, int64_t rb, rk_thr *ta, rk_thr *tb) {
    rk_zoom z;
    if (zoom_fit(r, &z)) {
        zoom_hist(r, w, &z);
        uint64_t pa, pb;
        int64_t rema, remb, ca, cb;
        if (zoom_walk(w, &z, ra, &pa, &rema, &ca) && zoom_walk(w, &z, rb, &pb, &remb, &cb)) {
            uint64_t pmask = zoom_pmask(r, z.shift);
            int64_t ng = -1;
            if ((pa == pb ? ca : ca + cb) <= GATHER_CAP) ng = gather_prefix(r, w, pmask, pa, pb);
            *ta = radix_refine(r, w, pa, pmask, z.shift, rema, ca, ng);
            *tb = radix_refine(r, w, pb, pmask, z.shift, remb, cb, ng);
            return;
        }
    }
    int bits = r->width >= DIGIT ? DIGIT : r->width;
    int shift = r->width - bits;
    uint64_t dmask = ((uint64_t)1 << bits) - 1;
    hist_row(r, w, shift, dmask, 0, 0);
    int64_t rema = ra, remb = rb, ca, cb;
    uint64_t da = hist_walk(w->hist, dmask, &rema, &ca);
    uint64_t db = hist_walk(w->hist, dmask, &remb, &cb);
    uint64_t pmask = dmask << shift, pa = da << shift, pb = db << shift;
    int64_t ng = -1;
    if ((da == db ? ca : ca + cb) <= GATHER_CAP) ng = gather_prefix(r, w, pmask, pa, pb);
    *ta = radix_refine(r, w, pa, pmask, shift, rema, ca, ng);
    *tb = radix_refine(r, w, pb, pmask, shift, remb, cb, ng);
}

/* Same for 64-bit scores with a separate column array. */
static void lsd_desc_pairs(rk_scratch *w, int64_t n) {
    uint64_t *s = w->buf, *s2 = w->buf2;
    int64_t *c = w->col, *c2 = w->col2;
    for (int lo = 0; lo < 64; lo += DIGIT) {
        int bits = 64 - lo < DIGIT ? 64 - lo : DIGIT;
        uint64_t dmask = ((uint64_t)1 << bits) - 1;
        memset(w->hist, 0, sizeof(uint32_t) << DIGIT);
        for (int64_t i = 0; i < n; i++) w->hist[(s[i] >> lo) & dmask]++;
        if (w->hist[(s[0] >> lo) & dmask] == n) continue;
        uint32_t run = 0;
        for (int64_t d = (int64_t)dmask; d >= 0; d--) {
            uint32_t h = w->hist[d];
            w->hist[d] = run;
            run += h;
        }
        for (int64_t i = 0; i < n; i++) {
            uint32_t pos = w->hist[(s[i] >> lo) & dmask]++;
            s2[pos] = s[i];
            c2[pos] = c[i];
        }
        uint64_t *ts = s;
        s = s2;
        s2 = ts;
        int64_t *tc = c;
        c = c2;
        c2 = tc;
    }
    if (s != w->buf) {
        memcpy(w->buf, s, (size_t)n * sizeof *s);
        memcpy(w->col, c, (size_t)n * sizeof *c);
    }
}

/* Write m winners (columns) of a row: values copied from the input, then indices. */
static void emit_cols(const rk_row *r, const st_kview *vals, const st_kview *idx, int64_t row, int64_t k,
                      const uint64_t *packed, const int64_t *cols, int64_t m) {
    /* packed: columns in the low 32 bits (cols == NULL), else cols[] */
    char *vb = st_cpu_base(vals) + (size_t)(row * k) * st_dtype_size(r->dt);
    const int64_t s = r->stride;
#define COL(j) (cols ? cols[j] : (int64_t)(uint32_t)packed[j])
    if (st_dtype_size(r->dt) == 4) {
        const uint32_t *x = (const uint32_t *)(const void *)r->base;
        uint32_t *o = (uint32_t *)(void *)vb;
        for (int64_t j = 0; j < m; j++) o[j] = x[COL(j) * s];
    } else {
        const uint64_t *x = (const uint64_t *)(const void *)r->base;
        uint64_t *o = (uint64_t *)(void *)vb;
        for (int64_t j = 0; j < m; j++) o[j] = x[COL(j) * s];
    }
    if (idx->dtype == ST_I32) {
        int32_t *o = (int32_t *)(void *)st_cpu_base(idx) + row * k;
        for (int64_t j = 0; j < m; j++) o[j] = (int32_t)COL(j);
    } else {
        int64_t *o = (int64_t *)(void *)st_cpu_base(idx) + row * k;
        for (int64_t j = 0; j < m; j++) o[j] = COL(j);
    }
#undef COL
}

/* TopK/BottomK of one row by radix select. */
static void radix_topk_row(const rk_row *r, rk_scratch *w, const st_kview *vals, const st_kview *idx, int64_t row,
                           int64_t k) {
    rk_thr t = radix_select(r, w, k - 1);
    int64_t m = 0, occ = 0;
    const bool narrow = r->width == 32 && r->n <= 0xFFFFFFFFll;
    for (int64_t c0 = 0; c0 < r->n && m < k; c0 += SCH) {
        int64_t cnt = r->n - c0 < SCH ? r->n - c0 : SCH;
        scores(r, c0, cnt, w->sc);
        for (int64_t i = 0; i < cnt; i++) {
            uint64_t s = w->sc[i];
            bool take = s > t.S;
            if (s == t.S) take = occ++ <= t.occ;
            if (!take) continue;
            if (narrow) {
                w->buf[m++] = (s << 32) | (uint64_t)(c0 + i);
            } else {
                w->buf[m] = s;
                w->col[m++] = c0 + i;
            }
        }
    }
    w->st.row_passes++;
    if (narrow) {
        uint64_t *res = lsd_desc_u64(w->buf, w->buf2, m, 32, 64, w->hist);
        emit_cols(r, vals, idx, row, k, res, NULL, m);
    } else {
        lsd_desc_pairs(w, m);
        emit_cols(r, vals, idx, row, k, NULL, w->col, m);
    }
}

/* ---------------------------------------------------------------- MidK */

typedef struct mid_state {
    rk_thr lo, hi; /* descending ranks in "smaller is better" scores = ascending ranks */
} mid_state;

/* Count, over columns [c0,c1), the elements in the window and the occurrences of the
 * two threshold scores; or write them (out_pos = first output slot) when vals != NULL.
 * occ_lo/occ_hi are the occurrences seen before c0. Scalar form. */
static int64_t mid_range(const rk_row *r, rk_scratch *w, const mid_state *ms, int64_t c0, int64_t c1, int64_t *occ_lo,
                         int64_t *occ_hi, const st_kview *vals, const st_kview *idx, int64_t row, int64_t k,
                         int64_t out_pos) {
    int64_t taken = 0;
    const bool same = ms->lo.S == ms->hi.S;
    for (int64_t b = c0; b < c1; b += SCH) {
        int64_t cnt = c1 - b < SCH ? c1 - b : SCH;
        scores(r, b, cnt, w->sc);
        for (int64_t i = 0; i < cnt; i++) {
            uint64_t s = w->sc[i];
            /* In the window iff not better than lo (rank >= lo) and not worse than hi. */
            bool ge_lo, le_hi;
            if (same && s == ms->lo.S) {
                int64_t o = (*occ_lo)++;
                ge_lo = o >= ms->lo.occ;
                le_hi = o <= ms->hi.occ;
            } else {
                if (s == ms->lo.S)
                    ge_lo = (*occ_lo)++ >= ms->lo.occ;
                else
                    ge_lo = s < ms->lo.S;
                if (s == ms->hi.S)
                    le_hi = (*occ_hi)++ <= ms->hi.occ;
                else
                    le_hi = s > ms->hi.S;
            }
            if (ge_lo && le_hi) {
                if (vals) emit(r, vals, idx, row, k, out_pos + taken, b + i);
                taken++;
            }
        }
    }
    return taken;
}

#ifdef ST_HAVE_AVX512_COMPRESS
/* MidK scores of 16 f32 (smaller value = larger score). */
__attribute__((target("avx512f"))) static inline __m512i mid_scores16(const float *p) {
    const __m512i zero = _mm512_setzero_si512(), ones = _mm512_set1_epi32(-1);
    __m512i u = _mm512_loadu_si512((const void *)p);
    __m512i a = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
    u = _mm512_mask_mov_epi32(u, _mm512_cmpeq_epi32_mask(a, zero), zero);
    u = _mm512_mask_mov_epi32(u, _mm512_cmpgt_epu32_mask(a, _mm512_set1_epi32(0x7F800000)), _mm512_set1_epi32(0x7FC00000));
    __mmask16 neg = _mm512_cmplt_epi32_mask(u, zero);
    __m512i key = _mm512_mask_xor_epi32(_mm512_or_si512(u, _mm512_set1_epi32((int)0x80000000u)), neg, u, ones);
    return _mm512_xor_si512(key, ones);
}

/* Vector form for contiguous f32 rows: blocks without a threshold score are
 * compressed straight into the outputs; blocks with one go through mid_range. */
__attribute__((target("avx512f"))) static int64_t mid_tile_avx512(const rk_row *r, rk_scratch *w, const mid_state *ms,
                                                                   int64_t c0, int64_t c1, int64_t *occ_lo,
                                                                   int64_t *occ_hi, const st_kview *vals,
                                                                   const st_kview *idx, int64_t row, int64_t k,
                                                                   int64_t out_pos) {
    const float *x = (const float *)(const void *)r->base;
    const __m512i slo = _mm512_set1_epi32((int)(uint32_t)ms->lo.S), shi = _mm512_set1_epi32((int)(uint32_t)ms->hi.S);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    float *ov = vals ? (float *)(void *)st_cpu_base(vals) + row * k + out_pos : NULL;
    int32_t *oi32 = vals && idx->dtype == ST_I32 ? (int32_t *)(void *)st_cpu_base(idx) + row * k + out_pos : NULL;
    int64_t *oi64 = vals && idx->dtype == ST_I64 ? (int64_t *)(void *)st_cpu_base(idx) + row * k + out_pos : NULL;
    int64_t taken = 0, c = c0;
    for (; c + 16 <= c1; c += 16) {
        __m512i sc = mid_scores16(x + c);
        __mmask16 eq = _mm512_cmpeq_epi32_mask(sc, slo) | _mm512_cmpeq_epi32_mask(sc, shi);
        if (eq) {
            taken += mid_range(r, w, ms, c, c + 16, occ_lo, occ_hi, vals, idx, row, k, out_pos + taken);
            continue;
        }
        __mmask16 in = _mm512_cmplt_epu32_mask(sc, slo) & _mm512_cmpgt_epu32_mask(sc, shi);
        if (!in) continue;
        if (vals) {
            _mm512_mask_compressstoreu_ps(ov + taken, in, _mm512_loadu_ps(x + c));
            __m512i col = _mm512_add_epi32(iota, _mm512_set1_epi32((int)c));
            if (oi32) {
                _mm512_mask_compressstoreu_epi32(oi32 + taken, in, col);
            } else {
                __m512i packed = _mm512_maskz_compress_epi32(in, col);
                int cnt = __builtin_popcount((unsigned)in);
                int32_t tmp[16];
                _mm512_storeu_si512((void *)tmp, packed);
                for (int j = 0; j < cnt; j++) oi64[taken + j] = tmp[j];
            }
        }
        taken += __builtin_popcount((unsigned)in);
    }
    if (c < c1) taken += mid_range(r, w, ms, c, c1, occ_lo, occ_hi, vals, idx, row, k, out_pos + taken);
    return taken;
}
#endif

static int64_t mid_tile(const rk_row *r, rk_scratch *w, const mid_state *ms, int64_t c0, int64_t c1, int64_t *occ_lo,
                        int64_t *occ_hi, const st_kview *vals, const st_kview *idx, int64_t row, int64_t k,
                        int64_t out_pos) {
#ifdef ST_HAVE_AVX512_COMPRESS
    if (r->dt == ST_F32 && r->stride == 1 && r->n <= INT32_MAX && have_avx512())
        return mid_tile_avx512(r, w, ms, c0, c1, occ_lo, occ_hi, vals, idx, row, k, out_pos);
#endif
    return mid_range(r, w, ms, c0, c1, occ_lo, occ_hi, vals, idx, row, k, out_pos);
}

static mid_state mid_thresholds(const rk_row *r, rk_scratch *w, int64_t k) {
    int64_t lo = (r->n - k) / 2;
    mid_state ms;
    radix_select2(r, w, lo, lo + k - 1, &ms.lo, &ms.hi);
    return ms;
}

/* Per-tile counts for MidK's two-pass compaction. */
typedef struct mid_cnt {
    int64_t strict; /* strictly inside the window (score strictly between the thresholds) */
    int64_t c_lo;   /* occurrences of lo.S */
    int64_t c_hi;   /* occurrences of hi.S (0 when lo.S == hi.S) */
} mid_cnt;

#ifdef ST_HAVE_AVX512_COMPRESS
__attribute__((target("avx512f"))) static int64_t mid_count_avx512(const float *x, int64_t m16, const mid_state *ms,
                                                                    mid_cnt *m) {
    const __m512i slo = _mm512_set1_epi32((int)(uint32_t)ms->lo.S), shi = _mm512_set1_epi32((int)(uint32_t)ms->hi.S);
    const bool same = ms->lo.S == ms->hi.S;
    for (int64_t c = 0; c < m16; c += 16) {
        __m512i sc = mid_scores16(x + c);
        m->strict += __builtin_popcount((unsigned)(_mm512_cmplt_epu32_mask(sc, slo) & _mm512_cmpgt_epu32_mask(sc, shi)));
        m->c_lo += __builtin_popcount((unsigned)_mm512_cmpeq_epi32_mask(sc, slo));
        if (!same) m->c_hi += __builtin_popcount((unsigned)_mm512_cmpeq_epi32_mask(sc, shi));
    }
    return m16;
}
#endif

static mid_cnt mid_count(const rk_row *r, rk_scratch *w, const mid_state *ms, int64_t c0, int64_t c1) {
    mid_cnt m = {0, 0, 0};
    const bool same = ms->lo.S == ms->hi.S;
#ifdef ST_HAVE_AVX512_COMPRESS
    if (r->dt == ST_F32 && r->stride == 1 && have_avx512())
        c0 += mid_count_avx512((const float *)(const void *)r->base + c0, (c1 - c0) & ~(int64_t)15, ms, &m);
#endif
    for (int64_t b = c0; b < c1; b += SCH) {
        int64_t cnt = c1 - b < SCH ? c1 - b : SCH;
        scores(r, b, cnt, w->sc);
        for (int64_t i = 0; i < cnt; i++) {
            uint64_t s = w->sc[i];
            m.strict += s < ms->lo.S && s > ms->hi.S;
            m.c_lo += s == ms->lo.S;
            m.c_hi += !same && s == ms->hi.S;
        }
    }
    return m;
}

/* |{o in [start, start+n) : lo <= o <= hi}| */
static int64_t span(int64_t start, int64_t n, int64_t lo, int64_t hi) {
    int64_t a = start > lo ? start : lo, b = start + n - 1 < hi ? start + n - 1 : hi;
    return b >= a ? b - a + 1 : 0;
}

/* Taken count of a tile from its counts and starting occurrences. */
static int64_t mid_taken(const mid_state *ms, const mid_cnt *c, int64_t olo, int64_t ohi) {
    if (ms->lo.S == ms->hi.S) return span(olo, c->c_lo, ms->lo.occ, ms->hi.occ);
    return c->strict + span(olo, c->c_lo, ms->lo.occ, INT64_MAX) + span(ohi, c->c_hi, 0, ms->hi.occ);
}

/* One row of MidK. u2 off: one compaction pass, tile by tile. u2 on: pass 1 counts
 * every tile, pass 2 writes each tile at its prefix offset; when `par`, both passes
 * spread the tiles over the threads (scratch w[t] per thread). */
static void midk_row(const rk_row *r, rk_scratch *w, int nt, bool par, const st_kview *vals, const st_kview *idx,
                     int64_t row, int64_t k, const st_rankk_params *p) {
    mid_state ms = mid_thresholds(r, w, k);
    int64_t tile = p->tile > 0 ? p->tile : r->n;
    int64_t ntiles = (r->n + tile - 1) / tile;
    w->st.tiles += ntiles;
    int64_t olo = 0, ohi = 0;
    if (!p->u2) {
        int64_t pos = 0;
        for (int64_t c0 = 0; c0 < r->n; c0 += tile)
            pos += mid_tile(r, w, &ms, c0, c0 + tile < r->n ? c0 + tile : r->n, &olo, &ohi, vals, idx, row, k, pos);
        w->st.row_passes++;
        return;
    }
    mid_cnt *cnt = w->tiles;
    int64_t *start = w->tstart; /* 3 per tile: output position, olo, ohi */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (par)
    for (int64_t t = 0; t < ntiles; t++) {
        int64_t c0 = t * tile;
        cnt[t] = mid_count(r, &w[par ? st_cpu_tid() : 0], &ms, c0, c0 + tile < r->n ? c0 + tile : r->n);
    }
    int64_t pos = 0;
    for (int64_t t = 0; t < ntiles; t++) {
        start[3 * t] = pos;
        start[3 * t + 1] = olo;
        start[3 * t + 2] = ohi;
        pos += mid_taken(&ms, &cnt[t], olo, ohi);
        olo += cnt[t].c_lo;
        ohi += cnt[t].c_hi;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (par)
    for (int64_t t = 0; t < ntiles; t++) {
        int64_t c0 = t * tile, a = start[3 * t + 1], b = start[3 * t + 2];
        if (t + 1 < ntiles ? start[3 * t + 3] > start[3 * t] : pos > start[3 * t])
            mid_tile(r, &w[par ? st_cpu_tid() : 0], &ms, c0, c0 + tile < r->n ? c0 + tile : r->n, &a, &b, vals, idx,
                     row, k, start[3 * t]);
    }
    w->st.row_passes += 2;
}

/* ---------------------------------------------------------------- driver */

static void row_of(const st_kview *x, int64_t row, rk_row *r, st_rank_mode mode) {
    int nd = x->ndim;
    int64_t off = 0, rr = row;
    for (int d = nd - 2; d >= 0; d--) {
        int64_t i = rr % x->shape[d];
        rr /= x->shape[d];
        off += i * x->strides[d];
    }
    r->dt = x->dtype;
    r->width = st_dtype_size(x->dtype) == 4 ? 32 : 64;
    r->stride = x->strides[nd - 1];
    r->n = x->shape[nd - 1];
    r->base = st_cpu_base(x) + off * (int64_t)st_dtype_size(x->dtype);
    uint64_t ones = r->width == 32 ? 0xFFFFFFFFull : ~0ull;
    r->flip = mode == ST_RANK_TOP ? 0 : ones;
}

static void scratch_free(rk_scratch *w, int nt) {
    if (!w) return;
    for (int t = 0; t < nt; t++) {
        st_free(w[t].sc);
        st_free(w[t].buf);
        st_free(w[t].buf2);
        st_free(w[t].col);
        st_free(w[t].col2);
        st_free(w[t].gs);
        st_free(w[t].gc);
        st_free(w[t].hist);
        st_free(w[t].fv);
        st_free(w[t].stmp);
        st_free(w[t].fv2);
        st_free(w[t].fc);
        st_free(w[t].fc2);
        st_free(w[t].tiles);
        st_free(w[t].tstart);
    }
    st_free(w);
}

static rk_scratch *scratch_new(int nt, int64_t cap, bool radix, int64_t ntiles) {
    rk_scratch *w = st_calloc((size_t)nt, sizeof *w);
    if (!w) return NULL;
    for (int t = 0; t < nt; t++) {
        w[t].sc = st_malloc(SCH * sizeof(uint64_t));
        w[t].hist = st_malloc(sizeof(uint32_t) << DIGIT);
        size_t nb = (size_t)(cap + FBLK > EST_S ? cap + FBLK : EST_S); /* facc_estimate samples into buf */
        w[t].buf = st_malloc(nb * sizeof(uint64_t));
        w[t].buf2 = st_malloc(nb * sizeof(uint64_t));
        bool ok = w[t].sc && w[t].hist && w[t].buf && w[t].buf2;
        if (!radix) {
            w[t].fv = st_malloc((size_t)(cap + FBLK) * sizeof(float));
            w[t].fv2 = st_malloc((size_t)(cap + FBLK) * sizeof(float));
            w[t].fc = st_malloc((size_t)(cap + FBLK) * sizeof(uint32_t));
            w[t].fc2 = st_malloc((size_t)(cap + FBLK) * sizeof(uint32_t));
            w[t].stmp = st_malloc((size_t)(cap + FBLK) * sizeof(uint64_t));
            ok = ok && w[t].fv && w[t].fv2 && w[t].fc && w[t].fc2 && w[t].stmp;
        }
        if (radix) {
            w[t].col = st_malloc((size_t)cap * sizeof(int64_t));
            w[t].col2 = st_malloc((size_t)cap * sizeof(int64_t));
            w[t].gs = st_malloc(GATHER_CAP * sizeof(uint64_t));
            w[t].gc = st_malloc(GATHER_CAP * sizeof(int64_t));
            ok = ok && w[t].col && w[t].col2 && w[t].gs && w[t].gc;
        }
        if (ntiles > 0) {
            w[t].tiles = st_malloc((size_t)ntiles * 3 * sizeof(int64_t));
            w[t].tstart = st_malloc((size_t)ntiles * 3 * sizeof(int64_t));
            ok = ok && w[t].tiles && w[t].tstart;
        }
        if (!ok) {
            scratch_free(w, nt);
            return NULL;
        }
    }
    return w;
}

static void stats_sum(const rk_scratch *w, int nt, st_cpu_rankk_stats *st) {
    for (int t = 0; t < nt; t++) {
        st->shrinks += w[t].st.shrinks;
        st->candidates += w[t].st.candidates;
        st->row_passes += w[t].st.row_passes;
        st->tiles += w[t].st.tiles;
        st->estimates += w[t].st.estimates;
        st->redone += w[t].st.redone;
    }
}

/* Threshold estimate from a strided sample of EST_S elements: the j-th best of the
 * sample with j = kS/n + 4 sqrt(kS/n) + 2, so that a little more than k elements of
 * the row are expected to beat it. Seeds acc (have_thr) and returns true; false when
 * the row is too short or k too large for a sample to help. Exactness does not depend
 * on the estimate: a row where fewer than k elements beat it is redone without. */
static bool facc_estimate(facc *a, const rk_row *r, int64_t k) {
    int64_t n = r->n;
    if (n < 8 * EST_S) return false;
    double e = (double)k * EST_S / (double)n;
    int64_t j = (int64_t)(e + 4.0 * __builtin_sqrt(e) + 2.0);
    if (j >= EST_S / 2) return false;
    const float *x = (const float *)(const void *)r->base;
    int64_t step = n / EST_S;
    uint32_t flip = a->top ? 0u : 0xFFFFFFFFu;
    for (int64_t i = 0; i < EST_S; i++) {
        int64_t col = i * step;
        uint32_t u;
        memcpy(&u, &x[col * r->stride], sizeof u);
        a->cmp[i] = composite(key_f32(u) ^ flip, col);
    }
    select_top(a->cmp, EST_S, j);
    a->thr = a->cmp[j - 1];
    a->t = comp_val(a->thr, a->top);
    a->t_nan = a->t != a->t;
    a->have_thr = true;
    a->n = 0;
    return true;
}

/* FILTER: one row handled by one task (u2: chunk by chunk, merged into the row). */
static void filter_row(const rk_row *r, rk_scratch *w, bool top, int64_t k, const st_rankk_params *p, int64_t cap,
                       bool est, const st_kview *vals, const st_kview *idx, int64_t row) {
    facc acc = {.v = w->fv, .c = w->fc, .cmp = w->buf, .tmp = w->stmp, .hist = w->hist, .cap = cap, .k = k, .top = top};
    facc part = {.v = w->fv2, .c = w->fc2, .cmp = w->buf2, .tmp = w->stmp, .hist = w->hist, .cap = cap, .k = k, .top = top};
    const float *x = (const float *)(const void *)r->base;
    int64_t ch = p->ch, m = 0;
    /* With est, a row seeded by the sample fixes the threshold for the rows after it:
     * its kk-th best (6 sigma past the k-th). Later rows do not move it (a threshold
     * taken from candidates could only ever rise); a redo makes the next row sample. */
    const int64_t kk = k + (int64_t)(6.0 * __builtin_sqrt((double)k)) + 16;
    bool sampled = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        facc_reset(&acc);
        if (est && attempt == 0) {
            if (w->prev_ok && r->n >= 8 * EST_S) {
                /* rows of one call tend to be alike: start from a little below the last
                 * row's k-th best (a redo keeps any row exact) */
                uint32_t u, flip = top ? 0u : 0xFFFFFFFFu;
                memcpy(&u, &w->prev_t, sizeof u);
                acc.thr = composite(key_f32(u) ^ flip, 0);
                acc.t = w->prev_t;
                acc.t_nan = acc.t != acc.t;
                acc.have_thr = true;
                w->st.estimates++;
            } else if (facc_estimate(&acc, r, k)) {
                w->st.estimates++;
                sampled = true;
            }
        }
        if (!p->u2 || ch <= 0 || ch >= r->n) {
            filter_segment(&acc, x, r->stride, 0, r->n);
        } else {
            for (int64_t c0 = 0; c0 < r->n; c0 += ch) {
                facc_inherit(&part, &acc);
                filter_segment(&part, x, r->stride, c0, c0 + ch < r->n ? c0 + ch : r->n);
                int64_t pm = est ? facc_final_keep(&part, kk) : facc_final_unsorted(&part);
                facc_merge(&acc, part.cmp, pm);
            }
        }
        if (sampled && attempt == 0 && acc.shrinks == 0 && part.shrinks == 0 && acc.n >= kk) {
            facc_select(&acc, kk); /* every element above the sampled threshold is here */
            w->prev_t = comp_val(acc.cmp[kk - 1], top);
            w->prev_ok = true;
        }
        m = facc_final(&acc);
        if (m == (k < r->n ? k : r->n)) break;
        w->st.redone++; /* the estimate was too high: exact pass without it */
        w->prev_ok = false;
    }
    for (int64_t j = 0; j < m; j++) acc.cmp[j] = (uint64_t)comp_col(acc.cmp[j]);
    emit_cols(r, vals, idx, row, k, acc.cmp, NULL, m);
    w->st.shrinks += acc.shrinks + part.shrinks;
    w->st.candidates += acc.pushed + part.pushed;
}

/* FILTER for rows with many chunks and few rows: chunks spread over threads (handed
 * out in increasing order per thread), each thread keeps its own accumulator, merged
 * at the end. */
static void filter_row_split(const rk_row *r, rk_scratch *w, int nt, bool top, int64_t k, const st_rankk_params *p,
                             int64_t cap, bool est, const st_kview *vals, const st_kview *idx, int64_t row) {
    int64_t ch = p->ch;
    int64_t nch = (r->n + ch - 1) / ch;
    int64_t acc_n[64] = {0};
    int ntu = nt > 64 ? 64 : nt;
#pragma omp parallel num_threads(ntu)
    {
        int t = st_cpu_tid();
        facc acc = {.v = w[t].fv, .c = w[t].fc, .cmp = w[t].buf, .tmp = w[t].stmp, .hist = w[t].hist, .cap = cap, .k = k, .top = top};
        facc part = {.v = w[t].fv2, .c = w[t].fc2, .cmp = w[t].buf2, .tmp = w[t].stmp, .hist = w[t].hist, .cap = cap, .k = k, .top = top};
        facc_reset(&acc);
        if (est) facc_estimate(&acc, r, k);
#pragma omp for schedule(monotonic : dynamic, 1)
        for (int64_t c = 0; c < nch; c++) {
            int64_t c0 = c * ch, c1 = c0 + ch < r->n ? c0 + ch : r->n;
            facc_inherit(&part, &acc);
            filter_segment(&part, (const float *)(const void *)r->base, r->stride, c0, c1);
            int64_t m = facc_final_unsorted(&part);
            facc_merge(&acc, part.cmp, m);
        }
        acc_n[t] = facc_final_unsorted(&acc); /* composites in w[t].buf */
        w[t].st.shrinks += acc.shrinks + part.shrinks;
        w[t].st.candidates += acc.pushed + part.pushed;
    }
    /* Merge the per-thread winners (thread 0's second buffers). */
    facc fin = {.v = w[0].fv2, .c = w[0].fc2, .cmp = w[0].buf2, .tmp = w[0].stmp, .hist = w[0].hist, .cap = cap, .k = k, .top = top};
    facc_reset(&fin);
    for (int t = 0; t < ntu; t++) facc_merge(&fin, w[t].buf, acc_n[t]);
    int64_t m = facc_final(&fin);
    if (est) w[0].st.estimates++;
    if (m < (k < r->n ? k : r->n)) { /* the estimate was too high: exact, sequential */
        w[0].st.redone++;
        filter_row(r, &w[0], top, k, p, cap, false, vals, idx, row);
        return;
    }
    for (int64_t j = 0; j < m; j++) fin.cmp[j] = (uint64_t)comp_col(fin.cmp[j]);
    emit_cols(r, vals, idx, row, k, fin.cmp, NULL, m);
}

st_status st_cpu_rankk(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx, const st_kview *x,
                       int64_t k, const st_rankk_params *p) {
    (void)dev;
    memset(&tl_last, 0, sizeof tl_last);
    int nd = x->ndim;
    if (nd < 1) return st_err(ST_E_SHAPE, "rank-K: input must have at least one dim");
    int64_t n = x->shape[nd - 1];
    int64_t rows = n ? st_shape_numel(nd, x->shape) / n : st_shape_numel(nd - 1, x->shape);
    if (k == 0 || rows == 0) return ST_OK;
    bool filter = mode != ST_RANK_MID && x->dtype == ST_F32 && p->algo != ST_RANKK_ALGO_RADIX && n < 0xFFFFFFFFll;
    int nt = st_cpu_threads();
    /* wg lanes of a GPU workgroup ~ wg/32 rows of SIMD work per scheduling task */
    int64_t grain = p->wg > 32 ? (p->wg + 31) / 32 : 1;
    int64_t kl = p->kl > 0 ? p->kl : 8;
    int64_t cap = filter ? k + 16 * kl + FBLK : k;
    if (filter && p->est && n >= 8 * EST_S) {
        /* room for what the sampled threshold is expected to let through, so that a row
         * needs no shrink before its final selection */
        double e = (double)k * EST_S / (double)n;
        int64_t expect = (int64_t)((e + 4.0 * __builtin_sqrt(e) + 2.0) * (double)n / EST_S);
        if (expect + expect / 4 + FBLK > cap) cap = expect + expect / 4 + FBLK;
    }
    if (cap < 1) cap = 1;
    int64_t ntiles = 0;
    if (mode == ST_RANK_MID && p->u2) ntiles = (n + (p->tile > 0 ? p->tile : n) - 1) / (p->tile > 0 ? p->tile : n);
    rk_scratch *w = scratch_new(nt, cap, !filter, ntiles);
    if (!w) return st_err_prefix("rank-K scratch (%d threads, k=%lld)", nt, (long long)k);
    st_cpu_rankk_stats st = {.algo = filter ? ST_RANKK_ALGO_FILTER : ST_RANKK_ALGO_RADIX};
    int64_t ch = p->ch;
    bool split = filter && p->u2 && ch > 0 && ch < n && rows < nt;
    st.chunks = (filter && p->u2 && ch > 0 && ch < n) ? (n + ch - 1) / ch : 1;
    if (mode == ST_RANK_MID && p->u2 && rows < nt) {
        /* few rows: the tiles of each row go to the threads */
        for (int64_t row = 0; row < rows; row++) {
            rk_row r;
            row_of(x, row, &r, mode);
            midk_row(&r, w, nt, true, vals, idx, row, k, p);
        }
        st.tasks = rows * ntiles * 2;
    } else if (split) {
        for (int64_t row = 0; row < rows; row++) {
            rk_row r;
            row_of(x, row, &r, mode);
            filter_row_split(&r, w, nt, mode == ST_RANK_TOP, k, p, cap, p->est, vals, idx, row);
        }
        st.tasks = rows * st.chunks;
    } else {
        st.tasks = (rows + grain - 1) / grain;
#pragma omp parallel for schedule(dynamic, grain) num_threads(nt) if (rows > 1 && rows * n >= ST_CPU_PAR_MIN)
        for (int64_t row = 0; row < rows; row++) {
            rk_scratch *ws = &w[st_cpu_tid()];
            rk_row r;
            row_of(x, row, &r, mode);
            if (filter)
                filter_row(&r, ws, mode == ST_RANK_TOP, k, p, cap, p->est, vals, idx, row);
            else if (mode == ST_RANK_MID)
                midk_row(&r, ws, 1, false, vals, idx, row, k, p);
            else
                radix_topk_row(&r, ws, vals, idx, row, k);
        }
    }
    stats_sum(w, nt, &st);
    tl_last = st;
    scratch_free(w, nt);
    return ST_OK;
}
