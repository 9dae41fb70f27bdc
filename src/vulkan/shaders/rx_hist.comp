// rx_hist.comp — one radix-select level (pc.level) over the full input: the histogram of
// the next digit of the elements that carry a target's prefix.
// Groups: rows * nchunk (group g: row g / nchunk, columns [c*chunk, (c+1)*chunk)).
// FUSED (spec 1) = 1 (nchunk == 1, the workgroup owns its row): pick the digits at once
// and store the row state. FUSED = 0: add the shared histograms into the row's global
// ones (pc.buf: u32 [rows][2][2048], zero before) for rx_pick.
// FUSED, level 0, 32-bit scores, rows of >= 16*WBLK columns: the level's digit comes
// from a window fitted to a sample of the row (rx_common.glsl geo_*): WBLK blocks of
// scores at hashed offsets, sorted; the window spans the sample's ranks a few sigma either side of
// the targets' expected ones, 2048 bins of 2^sh scores. Elements above it are counted,
// those below dropped. Float scores crowd into a few plain digits (U(0,1): half a row
// in the 4 bins of one exponent), so a plain level 0 leaves big buckets to gather and
// resolve and contends on a few shared counters; a window leaves a few dozen elements a
// bucket. A target whose rank falls outside the window (a sample that misled) redoes
// level 0 with the plain digit in the same workgroup (one more read of that row).
// Sampled filter (subgroup variants, window level 0, 32-bit, a gather buffer; not with
// OPT_NOSF): the sample also brackets each target's score, +-4 sigma of its sample rank,
// in window bins [f_lo, f_hi]. The pass then appends every element of those bins to the
// row's gather buffer (as rx_gather would, pc.buf / pc.buf2) and counts, per compaction
// tile, the elements between the brackets (MidK; TopK: above its bracket), which are
// selected whatever the exact scores of the targets. If each picked target bucket lies
// in its bracket and the gathered ones fit the buffer, the row is F_GATHER | F_PRE:
// rx_gather leaves it alone (its gate word stays closed when no row needs it) and
// rx_resolve finishes it from the buffer. Else the row goes on as without the filter.
// Rows that are done (or not flagged) return at once.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FUSED = 1u;
#include "rx_scan.glsl"
#include "rx_radix.glsl"
#include "rx_tiles.glsl"

// The window's sample: WBLK blocks of contiguous scores at hashed offsets, one block per
// stride of the row; nsamp() scores in all (a power of two in [WBLK, 4096]: it is sorted
// in h, flat). The window's width assumes WBLK independent draws (a block may hold
// correlated scores); the filter's brackets use all of them.
const uint WBLK = 512u;
uint nsamp() { return min(4096u, max(WBLK, 1u << findMSB(max(pc.n / 16u, 1u)))); }
uint hs(uint i) { return h[i >> 11u][i & 2047u]; }

#if defined(RX_SG) && !defined(T_I64)
#define RX_SF // the sampled filter (32-bit scores, subgroup variants)
shared uint f_lo[2], f_hi[2]; // filter brackets: window bins of each slot's target
shared uint s_sf;             // 1: this row's level-0 pass runs the sampled filter
#endif

// Window level 0 only: counts s into h[0] by its window digit, or into *above; returns
// the digit (0xFFFFFFFF: outside the window).
uint win_add(KT s, KT base, uint sh, inout uint above) {
    KT d = s - base;
    bool in_w = s >= base && (d >> sh) < KT(2048u);
    uint b = in_w ? uint(d >> sh) : 0xFFFFFFFFu;
    above += (!in_w && s > base) ? 1u : 0u;
#ifdef RX_SG
    if (subgroupAllEqual(b)) { // ties, constant rows: one add for the subgroup
        uint lanes = subgroupBallotBitCount(subgroupBallot(true));
        if (b != 0xFFFFFFFFu && subgroupElect()) atomicAdd(h[0][b], lanes);
        return b;
    }
#endif
    if (b != 0xFFFFFFFFu) atomicAdd(h[0][b], 1u);
    return b;
}

void add_one(KT s, bool win, KT pm, KT p0, KT p1, bool two, uint L, KT base, uint sh, inout uint above) {
    if (win)
        win_add(s, base, sh, above);
    else
        hist_add(s, pm, p0, p1, two, L);
}

// The histogram pass over [c0, c1) of `row`. 32-bit elements of a 16-byte aligned range:
// 4 16-byte loads a thread in flight (16 elements) before their adds; else 8 4-byte
// loads (one at a time left a thread latency-bound far below bandwidth).
void stream(uint row, uint c0, uint c1, uint L) {
    const uint WG = gl_WorkGroupSize.x;
    uint t = gl_LocalInvocationID.x;
    bool win = L == 0u && s_wsh != 0u;
    KT pm = mask_from(geo_hi(s_wsh, L));
    bool two = two_hists();
    KT p0 = s_pre[first_slot()], p1 = s_pre[1], base = s_wbase;
    uint sh = win ? s_wsh - 1u : 0u, above = 0u;
    uint from = c0;
#if !defined(T_I64)
    uint64_t ra = pc.x + uint64_t(row) * pc.xrs * 4ul + uint64_t(c0) * 4ul;
    if ((ra & 15ul) == 0ul) {
        uint nblk = (c1 - c0) / (16u * WG); // blocks of 16 columns a thread
        for (uint bk = 0u; bk < nblk; bk++) {
            uvec4 v[4];
            [[unroll]] for (uint q = 0u; q < 4u; q++) v[q] = RawV4(ra).v[(bk * 4u + q) * WG + t];
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                [[unroll]] for (uint l = 0u; l < 4u; l++) add_one(score_bits(v[q][l]), win, pm, p0, p1, two, L, base, sh, above);
        }
        from = c0 + nblk * 16u * WG;
    }
#endif
    TBuf xb = row_x(row);
    uint i = from + t;
    for (; i + 7u * WG < c1; i += 8u * WG) {
        T v[8];
        [[unroll]] for (uint q = 0u; q < 8u; q++) v[q] = xb.v[i + q * WG];
        [[unroll]] for (uint q = 0u; q < 8u; q++) add_one(score_of(v[q]), win, pm, p0, p1, two, L, base, sh, above);
    }
    for (; i < c1; i += WG) add_one(score_of(xb.v[i]), win, pm, p0, p1, two, L, base, sh, above);
    if (win && above != 0u) atomicAdd(s_above, above);
}

#ifdef RX_SF
// The sampled filter's pass over the row (32-bit, the workgroup owns it: c0 = 0): the
// window histogram as stream() makes it, plus the appends of the bracketed elements and
// the strict counts per tile (in g_tc when counting). Bins of an element: f = 1 in a
// bracket (gathered), 2 strict, 0 neither.
uint sf_class(uint b, bool up, uint alo, uint ahi, uint blo, uint bhi, bool mid) {
    bool in_w = b != 0xFFFFFFFFu;
    if (in_w && ((b >= blo && b <= bhi) || (mid && b >= alo && b <= ahi))) return 1u;
    bool strict = mid ? (in_w && b > bhi && b < alo) : (up || (in_w && b > bhi));
    return strict ? 2u : 0u;
}

void sf_stream(uint row, uint c1, bool counting) {
    const uint WG = gl_WorkGroupSize.x;
    uint t = gl_LocalInvocationID.x;
    KT base = s_wbase;
    uint sh = s_wsh - 1u, above = 0u, ts = findLSB(max(pc.tile, 1u));
    uint alo = f_lo[0], ahi = f_hi[0], blo = f_lo[1], bhi = f_hi[1];
    bool mid = first_slot() == 0u;
    KBuf gk = KBuf(pc.buf + uint64_t(row) * pc.cap * 4ul);
    U32Buf gc = U32Buf(pc.buf2 + uint64_t(row) * pc.cap * 4ul);
    uint from = 0u;
    uint64_t ra = pc.x + uint64_t(row) * pc.xrs * 4ul;
    if ((ra & 15ul) == 0ul) { // 4 16-byte loads a lane (16 columns) in flight
        uint nblk = c1 / (16u * WG);
        for (uint bk = 0u; bk < nblk; bk++) {
            uvec4 v[4];
            [[unroll]] for (uint q = 0u; q < 4u; q++) v[q] = RawV4(ra).v[(bk * 4u + q) * WG + t];
            uint mbits = 0u;
            [[unroll]] for (uint q = 0u; q < 4u; q++) {
                uint st = 0u;
                [[unroll]] for (uint l = 0u; l < 4u; l++) {
                    KT s = score_bits(v[q][l]);
                    uint b = win_add(s, base, sh, above);
                    uint f = sf_class(b, b == 0xFFFFFFFFu && s > base, alo, ahi, blo, bhi, mid);
                    if (f == 1u) mbits |= 1u << (4u * q + l);
                    st += f >> 1u;
                }
                if (counting) count_strict(row, (4u * ((bk * 4u + q) * WG + t)) >> ts, st, true);
            }
            uint np = bitCount(mbits);
            if (!subgroupAny(np != 0u)) continue;
            uint slot = take_slots(np, true, row);
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                [[unroll]] for (uint l = 0u; l < 4u; l++)
                    if ((mbits & (1u << (4u * q + l))) != 0u) {
                        if (slot < pc.cap) {
                            gk.v[slot] = score_bits(v[q][l]);
                            gc.v[slot] = 4u * ((bk * 4u + q) * WG + t) + l;
                        }
                        slot++;
                    }
        }
        from = nblk * 16u * WG;
    }
    TBuf xb = row_x(row);
    uint steps = (c1 - from + WG - 1u) / WG; // whole subgroups iterate together
    for (uint it = 0u; it < steps; it += 8u) {
        T v[8];
        [[unroll]] for (uint q = 0u; q < 8u; q++) {
            uint i = from + (it + q) * WG + t;
            if (i < c1) v[q] = xb.v[i];
        }
        uint mbits = 0u;
        [[unroll]] for (uint q = 0u; q < 8u; q++) {
            if (it + q >= steps) break; // subgroup-uniform
            uint i = from + (it + q) * WG + t, st = 0u;
            if (i < c1) {
                KT s = score_of(v[q]);
                uint b = win_add(s, base, sh, above);
                uint f = sf_class(b, b == 0xFFFFFFFFu && s > base, alo, ahi, blo, bhi, mid);
                if (f == 1u) mbits |= 1u << q;
                st = f >> 1u;
            }
            if (counting) count_strict(row, i >> ts, st, true);
        }
        uint np = bitCount(mbits);
        if (!subgroupAny(np != 0u)) continue;
        uint slot = take_slots(np, true, row);
        [[unroll]] for (uint q = 0u; q < 8u; q++)
            if ((mbits & (1u << q)) != 0u) {
                if (slot < pc.cap) {
                    gk.v[slot] = score_of(v[q]);
                    gc.v[slot] = from + (it + q) * WG + t;
                }
                slot++;
            }
    }
    if (above != 0u) atomicAdd(s_above, above);
}
#endif

// The window bin of score s (0 below it, 2047 above).
uint win_bin(KT s, KT base, uint sh) { return s < base ? 0u : uint(min((s - base) >> sh, KT(2047u))); }

// Thread 0 of a level-0 row: the window from the sorted sample in h (descending), or
// none (s_wsh = 0) when the targets' span needs bins wider than 2^21; with subgroups,
// the sampled filter's brackets (s_sf = 1 when it runs).
void choose_window() {
    uint t0 = first_slot();
    uint ns = nsamp();
    float S = float(ns), n = float(pc.n), B = S / float(WBLK);
    float ja = float(s_rank[t0]) * S / n, jb = float(s_rank[1]) * S / n;
    // 4 sigma of a sample rank (binomial, WBLK draws of ns / WBLK scores), plus 2
    float da = 4.0 * sqrt(B * max(ja * (1.0 - ja / S), 1.0)) + 2.0;
    float db = 4.0 * sqrt(B * max(jb * (1.0 - jb / S), 1.0)) + 2.0;
    int ia = int(floor(ja - da)), ib = int(ceil(jb + db));
    KT hi = ia < 0 ? ~KT(0) : KT(hs(uint(ia)));
    KT lo = ib >= int(ns) ? KT(0) : KT(hs(uint(ib)));
    s_wsh = 0u;
    for (uint sh = 0u; sh <= 21u; sh++) {
        KT base = lo & ~((KT(1) << sh) - KT(1));
        if (((hi - base) >> sh) < KT(2048u)) {
            s_wsh = sh + 1u;
            s_wbase = base;
            break;
        }
    }
#ifdef RX_SF
    s_sf = 0u;
    if (s_wsh == 0u || KW != 32u || pc.cap == 0u || (pc.opts & OPT_NOSF) != 0u ||
        (pc.out0 != 0ul && pc.ntiles > GT_MAX))
        return;
    for (uint tt = t0; tt < 2u; tt++) { // +-4 sigma of ns draws, plus 2
        float j = tt == 0u ? ja : jb;
        float d = 4.0 * sqrt(max(j * (1.0 - j / S), 1.0)) + 2.0;
        int iu = int(floor(j - d)), il = int(ceil(j + d));
        KT su = iu < 0 ? ~KT(0) : KT(hs(uint(iu)));
        KT sl = il >= int(ns) ? KT(0) : KT(hs(uint(il)));
        f_hi[tt] = win_bin(su, s_wbase, s_wsh - 1u);
        f_lo[tt] = win_bin(sl, s_wbase, s_wsh - 1u);
    }
    if (t0 == 1u) { // TopK: no bracket A
        f_lo[0] = 1u;
        f_hi[0] = 0u;
    }
    s_sf = 1u;
#endif
}

void main() {
    uint g = group_linear();
    if (g >= pc.rows * pc.nchunk) return;
    uint row = g / pc.nchunk, c = g - row * pc.nchunk;
    if (!row_on(row)) return;
    uint L = pc.level, t = gl_LocalInvocationID.x;
    const uint WG = gl_WorkGroupSize.x;
    if (t == 0u) state_load(row, L);
    barrier();
    if ((s_flags & F_DONE) != 0u) return;
    TBuf xb = row_x(row);
    uint c0 = c * pc.chunk, c1 = min(pc.n, c0 + pc.chunk);
    bool win = FUSED != 0u && L == 0u && KW == 32u && pc.n >= 16u * WBLK;
    bool sf = false, counting = pc.out0 != 0ul;
    if (win) { // sample: WBLK blocks of ns / WBLK scores at hashed offsets, one per stride; sort
        uint ns = nsamp(), bl = ns / WBLK, step = pc.n / WBLK;
        for (uint i = t; i < ns; i += WG) {
            uint j = i / bl, off = ((j * 2654435761u) >> 7) % (step - bl + 1u);
            h[i >> 11u][i & 2047u] = uint(score_of(xb.v[j * step + (off & ~(bl - 1u)) + (i & (bl - 1u))]));
        }
        barrier();
        for (uint size = 2u; size <= ns; size <<= 1)
            for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
                for (uint q = t; q < ns / 2u; q += WG) {
                    uint i = 2u * q - (q & (stride - 1u)), k = i + stride;
                    uint a = hs(i), b = hs(k);
                    if ((a < b) == ((i & size) == 0u)) {
                        h[i >> 11u][i & 2047u] = b;
                        h[k >> 11u][k & 2047u] = a;
                    }
                }
                barrier();
            }
        if (t == 0u) choose_window();
        barrier();
#ifdef RX_SF
        sf = s_sf != 0u;
#endif
    }
    hist_clear();
#ifdef RX_SF
    if (sf) {
        if (counting)
            for (uint i = t; i < pc.ntiles; i += WG) g_tc[i] = 0u;
        if (t == 0u) g_cnt = 0u;
    }
#endif
    barrier();
#ifdef RX_SF
    if (sf)
        sf_stream(row, c1, counting);
    else
#endif
        stream(row, c0, c1, L);
    barrier();
    if (FUSED != 0u) {
        pick(L);
        bool missed = s_miss != 0u;
        barrier();
        if (missed) { // the window missed a target: plain level 0
            if (t == 0u) state_load(row, 0u);
            hist_clear();
            barrier();
            stream(row, c0, c1, L);
            barrier();
            pick(L);
        }
        bool pre = false;
#ifdef RX_SF
        if (t == 0u && sf && !missed && g_cnt <= pc.cap) { // each target bucket inside its bracket
            pre = true;
            uint sh = s_wsh - 1u;
            for (uint tt = first_slot(); tt < 2u; tt++) {
                uint b = uint((s_pre[tt] - s_wbase) >> sh);
                pre = pre && b >= f_lo[tt] && b <= f_hi[tt];
            }
        }
#endif
        if (t == 0u) {
            after_pick(L, pre);
            if (pre && s_flags == F_GATHER) {
                s_flags = F_GATHER | F_PRE;
                s_gcount = g_cnt;
            }
            state_store(row);
        }
#ifdef RX_SF
        barrier();
        if (counting && (s_flags & F_PRE) != 0u) // the row's strict counts; rx_resolve adds the gathered
            for (uint i = t; i < pc.ntiles; i += WG) U32Buf(pc.out0 + (uint64_t(row) * pc.ntiles + i) * 16ul).v[0] = g_tc[i];
#endif
        return;
    }
    U32Buf G = U32Buf(pc.buf + uint64_t(row) * (2u * 2048u * 4u));
    bool two = two_hists();
    for (uint j = 0u; j < (two ? 2u : 1u); j++)
        for (uint i = t; i < 2048u; i += gl_WorkGroupSize.x) {
            uint v = h[j][i];
            if (v != 0u) atomicAdd(G.v[j * 2048u + i], v);
        }
}
