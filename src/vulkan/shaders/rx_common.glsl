// rx_common.glsl — shared by the exact rank-K kernels (rx_*.comp, vk_rankk_exact.c).
//
// Scores: every element maps to an unsigned score s (KT: uint for f32/i32, uint64_t for
// i64) where a LARGER score ranks first: s = key ^ flip, key = float_key(x) (f32),
// x ^ 0x80000000 (i32), x ^ 2^63 (i64); flip = 0 for TopK, all ones for BottomK/MidK.
// The total order is (s descending, column ascending); ranks count from 0 in it.
// MidK's window is ranks [a, b] = [(n-k)/2, (n-k)/2+k-1]: ascending (value, column).
//
// Row state (RowState, 48 bytes a row): the radix select of up to two target ranks
// (slot 0: rank a, MidK only; slot 1: rank b = the last selected rank). pre[t] holds the
// score bits fixed so far, rank[t] the rank left inside the bucket of elements sharing
// that prefix (at the end: the occurrence index of the target among equal scores, in
// column order), cnt[t] that bucket's size. wsh: the row's level geometry (geo_*, below).
#extension GL_EXT_shader_explicit_arithmetic_types_int32 : require

#if defined(T_I64)
#define KT uint64_t
#define KBuf U64Buf
#define KW 64u
#define RawBuf U64Buf
#define ESZ 8u
#else
#define KT uint
#define KBuf U32Buf
#define KW 32u
#define RawBuf U32Buf
#define ESZ 4u
#endif

// One push-constant block for every rx kernel (mirrors rx_pc in vk_rankk_exact.c).
layout(push_constant) uniform PC {
    uint64_t x;     // input, row r at x + r*xrs elements, columns contiguous
    uint64_t st;    // RowState[rows]
    uint64_t buf;   // global histograms | gathered scores | tile counts | pair scores (src)
    uint64_t buf2;  // gathered columns | pair columns (src)
    uint64_t out0;  // values | pair scores (dst)
    uint64_t out1;  // indices | pair columns (dst)
    uint64_t flags; // u32 per row: 0 = leave the row alone; address 0 = every row
    uint64_t flip;  // XOR turning the ascending key into the score
    uint64_t xrs;   // row stride of x in elements
    uint64_t gate;  // select: u32 level gate words (rx_radix.glsl after_pick); 0: none
    uint rows;
    uint n;         // columns
    uint k;
    uint nchunk;    // workgroups per row (hist, gather, count, write)
    uint chunk;     // columns per workgroup | merge run length
    uint level;     // radix level just done / to do
    uint opts;      // OPT_*
    uint cap;       // gathered elements a row may hold
    uint tile;      // compaction tile (columns) when out0 holds tile counts during the select
    uint ntiles;    // tiles per row
} pc;

#define OPT_IDX64 1u  // indices are i64
#define OPT_MID 2u    // two targets (MidK): slots 0 and 1; else slot 1 only
#define OPT_PAIRS 4u  // compaction writes (score, column) pairs (TopK/BottomK: sorted later)
#define OPT_FINAL 8u  // sort/merge: write the outputs
#define OPT_ROFF 32u  // rx_resolve: rows it counts in shared memory get their prefix offsets there

#define F_DONE 1u    // every digit known: pre = exact score, rank = occurrence index
#define F_GATHER 2u  // the buckets were small enough: gathered, resolved from the buffer
#define F_COUNTED 4u // the tile counts of the two-pass compaction are complete (gather + resolve)
#define F_OFFSETS 8u // the row's tile counts are already its prefix offsets (rx_resolve, OPT_ROFF)

// Gate words after the level words (pc.gate; vk_rankk_exact.c RX_GATE_*): "some row left
// the select uncounted" (rx_count runs behind it), "some row finished the select without
// its prefix offsets" (with OPT_ROFF, rx_offsets runs behind it).
#define GATE_UNCOUNTED 12u
#define GATE_OFFS 13u

struct RowState {
    uint64_t pre[2];
    uint rank[2];
    uint cnt[2];
    uint flags;
    uint gcount;
    uint wsh;   // 0: plain 11-bit digits; else level 0 was a sampled window, shift wsh - 1
    uint pad1;
};
layout(buffer_reference, std430, buffer_reference_align = 8) buffer States { RowState r[]; };

bool row_on(uint row) { return pc.flags == 0ul || U32Buf(pc.flags).v[row] != 0u; }

TBuf row_x(uint row) { return TBuf(pc.x + uint64_t(row) * pc.xrs * ESZ); }
RawBuf row_raw(uint row) { return RawBuf(pc.x + uint64_t(row) * pc.xrs * ESZ); }

KT score_of(T v) {
#if defined(T_F32)
    return float_key(v) ^ uint(pc.flip);
#elif defined(T_I32)
    return (uint(v) ^ 0x80000000u) ^ uint(pc.flip);
#else
    return (uint64_t(v) ^ 0x8000000000000000ul) ^ pc.flip;
#endif
}

// Radix levels: 11-bit digits from the top; the last one is narrower (32: 11+11+10,
// 64: 5*11+9).
const uint NLEV = (KW + 10u) / 11u;
uint lvl_hi(uint L) { return KW - 11u * L; }
uint lvl_bits(uint L) { return min(11u, lvl_hi(L)); }
uint lvl_shift(uint L) { return lvl_hi(L) - lvl_bits(L); }
KT mask_from(uint b) { return b >= KW ? KT(0) : (~KT(0)) << b; } // bits >= b
uint digit_of(KT s, uint L) { return uint(s >> lvl_shift(L)) & ((1u << lvl_bits(L)) - 1u); }

// Level geometry of a row (RowState.wsh = w). Plain (w = 0): the fixed digits above.
// Window (w = sh + 1, 32-bit scores, sh <= 21; rx_hist level 0 with one workgroup per
// row): level 0's digit is (s - base) >> sh for the scores in [base, base + 2048 << sh),
// a window fitted to a sample of the row around the target ranks (base a multiple of
// 2^sh, so a level-0 bucket is still a prefix: the bits >= sh); then 11-bit digits
// below sh (level L >= 1: bits [sh - 11L, sh - 11(L-1)), clipped at 0; no bits left:
// the row is done).
uint geo_hi(uint w, uint L) {
    if (w == 0u) return lvl_hi(L);
    if (L == 0u) return KW;
    int h = int(w) - 1 - 11 * (int(L) - 1);
    return h > 0 ? uint(h) : 0u;
}
uint geo_bits(uint w, uint L) { return w == 0u ? lvl_bits(L) : L == 0u ? 11u : min(11u, geo_hi(w, L)); }
// The lowest bit fixed once level L is picked.
uint geo_shift(uint w, uint L) { return w != 0u && L == 0u ? w - 1u : geo_hi(w, L) - geo_bits(w, L); }
uint geo_digit(uint w, KT s, uint L) { return uint(s >> geo_shift(w, L)) & ((1u << geo_bits(w, L)) - 1u); }

// Initial target ranks of slot t.
uint first_rank(uint t) {
    uint a = (pc.opts & OPT_MID) != 0u ? (pc.n - pc.k) / 2u : 0u;
    return t == 0u ? a : a + pc.k - 1u;
}

// Compaction: class of a score against the final thresholds (strict, ==A, ==B).
struct Thr {
    KT sa, sb;   // scores of ranks a and b (sa only with has_a)
    uint oa, ob; // their occurrence indices
    bool has_a, same;
};
Thr load_thr(uint row) {
    States S = States(pc.st);
    Thr h;
    h.has_a = (pc.opts & OPT_MID) != 0u;
    h.sa = KT(S.r[row].pre[0]);
    h.sb = KT(S.r[row].pre[1]);
    h.oa = S.r[row].rank[0];
    h.ob = S.r[row].rank[1];
    h.same = h.has_a && h.sa == h.sb;
    return h;
}
uvec3 classify(Thr h, KT s) {
    if (h.has_a) {
        if (h.same) return uvec3(0u, s == h.sa ? 1u : 0u, 0u);
        return uvec3((s < h.sa && s > h.sb) ? 1u : 0u, s == h.sa ? 1u : 0u, s == h.sb ? 1u : 0u);
    }
    return uvec3(s > h.sb ? 1u : 0u, 0u, s == h.sb ? 1u : 0u);
}
// (strict, ==A, ==B) counts of at most 1023 each in one word, 10 bits a field.
uint pack3(uvec3 c) { return c.x | (c.y << 10u) | (c.z << 20u); }
uvec3 unpack3(uint p) { return uvec3(p & 1023u, (p >> 10u) & 1023u, p >> 20u); }
// |{o in [0, c) : lo <= o < hi_ex}|
uint span0(uint c, uint lo, uint hi_ex) {
    uint e = min(c, hi_ex);
    return e > lo ? e - lo : 0u;
}
// Selected elements among those whose (strict, ==A, ==B) counts from the row start are u:
// the output position of the next element.
uint taken_of(Thr h, uvec3 u) {
    uint ties;
    if (!h.has_a) ties = span0(u.z, 0u, h.ob + 1u);
    else if (h.same) ties = span0(u.y, h.oa, h.ob + 1u);
    else ties = span0(u.y, h.oa, 0xFFFFFFFFu) + span0(u.z, 0u, h.ob + 1u);
    return u.x + ties;
}

// Composite order of (score, column) pairs: a before b.
bool before(KT ka, uint ca, KT kb, uint cb) { return ka > kb || (ka == kb && ca < cb); }

// Outputs of row `row`, slot j: value (raw bits of x[row, col]) and index col.
bool emit_ok(uint row, uint j, uint col) { return j < pc.k && row < pc.rows && col < pc.n; }
void emit_bits(uint row, uint j, uint col, KT bits) {
    uint64_t o = uint64_t(row) * pc.k + j;
    RawBuf(pc.out0 + o * ESZ).v[0] = bits;
    if ((pc.opts & OPT_IDX64) != 0u)
        I64Buf(pc.out1 + o * 8ul).v[0] = int64_t(col);
    else
        I32Buf(pc.out1 + o * 4ul).v[0] = int(col);
}
void emit(uint row, uint j, uint col) {
    if (emit_ok(row, j, col)) emit_bits(row, j, col, row_raw(row).v[col]);
}
// The same where the element's score s is known: its bits follow from s (the score is a
// bijection of the bits) except for f32 NaN and +-0, whose keys merge payloads and signs:
// those are read from x. Spares the merge's last level a read of x at random columns.
void emit_score(uint row, uint j, uint col, KT s) {
    if (!emit_ok(row, j, col)) return;
#if defined(T_F32)
    uint key = s ^ uint(pc.flip);
    bool own = key == 0xFFFFFFFFu || key == 0x80000000u; // NaN, +-0
    emit_bits(row, j, col, own ? row_raw(row).v[col] : (key & 0x80000000u) != 0u ? key & 0x7FFFFFFFu : ~key);
#elif defined(T_I32)
    emit_bits(row, j, col, s ^ uint(pc.flip) ^ 0x80000000u);
#else
    emit_bits(row, j, col, s ^ pc.flip ^ 0x8000000000000000ul);
#endif
}

layout(buffer_reference, std430, buffer_reference_align = 16) buffer U4Buf { uvec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer RawV4 { uvec4 v[]; };

#if !defined(T_I64)
// The score of raw 32-bit element bits (16-byte loads of a row: RawV4).
KT score_bits(uint b) {
#if defined(T_F32)
    return score_of(uintBitsToFloat(b));
#else
    return score_of(int(b));
#endif
}
#endif

// (score, column) pair buffers: scores at ka, columns at ca, element e (64-bit).
void pair_store(uint64_t ka, uint64_t ca, uint64_t e, KT s, uint col) {
    if (e >= uint64_t(pc.rows) * pc.k) return;
    KBuf(ka + e * (KW / 8u)).v[0] = s;
    U32Buf(ca + e * 4ul).v[0] = col;
}
KT pair_key(uint64_t ka, uint64_t e) { return KBuf(ka + e * (KW / 8u)).v[0]; }
uint pair_col(uint64_t ca, uint64_t e) { return U32Buf(ca + e * 4ul).v[0]; }
