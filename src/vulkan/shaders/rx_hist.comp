// rx_hist.comp — one radix-select level (pc.level) over the full input: the histogram of
// the next digit of the elements that carry a target's prefix.
// Groups: rows * nchunk (group g: row g / nchunk, columns [c*chunk, (c+1)*chunk)).
// FUSED (spec 1) = 1 (nchunk == 1, the workgroup owns its row): pick the digits at once
// and store the row state. FUSED = 0: add the shared histograms into the row's global
// ones (pc.buf: u32 [rows][2][2048], zero before) for rx_pick.
// FUSED, level 0, 32-bit scores, rows of >= 16*WSAMP columns: the level's digit comes
// from a window fitted to a sample of the row (rx_common.glsl geo_*): WSAMP scores at
// hashed offsets, sorted; the window spans the sample's ranks a few sigma either side of
// the targets' expected ones, 2048 bins of 2^sh scores. Elements above it are counted,
// those below dropped. Float scores crowd into a few plain digits (U(0,1): half a row
// in the 4 bins of one exponent), so a plain level 0 leaves big buckets to gather and
// resolve and contends on a few shared counters; a window leaves a few dozen elements a
// bucket. A target whose rank falls outside the window (a sample that misled) redoes
// level 0 with the plain digit in the same workgroup (one more read of that row).
// Rows that are done (or not flagged) return at once.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FUSED = 1u;
// NQ (spec 2): 16-byte loads a thread a block of the window pass: 4, or 2 (half the
// registers for the loads and bins, half the loads in flight; ST_VULKAN_RANKK_NQ)
layout(constant_id = 2) const uint NQ = 4u;
// HPRE (spec 3): the window pass keeps the next block's loads in flight while it bins one
// (twice the bytes in flight a thread; ST_VULKAN_RANKK_HPRE)
layout(constant_id = 3) const uint HPRE = 0u;
#include "rx_scan.glsl"
#include "rx_radix.glsl"

const uint WSAMP = 512u; // window sample (power of two, <= 2048: it is sorted in h[1])

// Window level 0 only: counts s into h[0] by its window digit, or into *above.
void win_add(KT s, KT base, uint sh, inout uint above) {
    KT d = s - base;
    bool in_w = s >= base && (d >> sh) < KT(2048u);
    uint b = in_w ? uint(d >> sh) : 0xFFFFFFFFu;
    above += (!in_w && s > base) ? 1u : 0u;
#ifdef RX_SG
    if (subgroupAllEqual(b)) { // ties, constant rows: one add for the subgroup
        uint lanes = subgroupBallotBitCount(subgroupBallot(true));
        if (b != 0xFFFFFFFFu && subgroupElect()) atomicAdd(h[0][b], lanes);
        return;
    }
#endif
    if (b != 0xFFFFFFFFu) atomicAdd(h[0][b], 1u);
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
        uint nb = nblk * (4u / NQ);
        uvec4 nx[4]; // HPRE: the next block's loads
        if (win && HPRE != 0u && nb != 0u)
            [[unroll]] for (uint q = 0u; q < NQ; q++) nx[q] = RawV4(ra).v[q * WG + t];
        if (win) // a short body per element: its bin; one check per block for a subgroup in one bin
            for (uint bk = 0u; bk < nb; bk++) { // blocks of NQ 16-byte loads a thread
                uvec4 v[4];
                if (HPRE != 0u) {
                    [[unroll]] for (uint q = 0u; q < NQ; q++) v[q] = nx[q];
                    if (bk + 1u < nb)
                        [[unroll]] for (uint q = 0u; q < NQ; q++) nx[q] = RawV4(ra).v[((bk + 1u) * NQ + q) * WG + t];
                } else {
                    [[unroll]] for (uint q = 0u; q < NQ; q++) v[q] = RawV4(ra).v[(bk * NQ + q) * WG + t];
                }
                uint b[16];
                bool same = true;
                [[unroll]] for (uint e = 0u; e < 4u * NQ; e++) {
                    KT sc = score_bits(v[e >> 2u][e & 3u]), d = sc - base;
                    bool in_w = sc >= base && (d >> sh) < KT(2048u);
                    b[e] = in_w ? uint(d >> sh) : 0xFFFFFFFFu;
                    above += (!in_w && sc > base) ? 1u : 0u;
                    same = same && b[e] == b[0];
                }
#ifdef RX_SG
                if (subgroupAll(same) && subgroupAllEqual(b[0])) { // ties, constant rows
                    uint lanes = subgroupBallotBitCount(subgroupBallot(true));
                    if (b[0] != 0xFFFFFFFFu && subgroupElect()) atomicAdd(h[0][b[0]], 4u * NQ * lanes);
                    continue;
                }
#endif
                [[unroll]] for (uint e = 0u; e < 4u * NQ; e++)
                    if (b[e] != 0xFFFFFFFFu) atomicAdd(h[0][b[e]], 1u);
            }
        else
            for (uint bk = 0u; bk < nblk; bk++) {
                uvec4 v[4];
                [[unroll]] for (uint q = 0u; q < 4u; q++) v[q] = RawV4(ra).v[(bk * 4u + q) * WG + t];
                [[unroll]] for (uint q = 0u; q < 4u; q++)
                    [[unroll]] for (uint l = 0u; l < 4u; l++) hist_add(score_bits(v[q][l]), pm, p0, p1, two, L);
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

// Thread 0 of a level-0 row: the window from the sorted sample in h[1] (descending), or
// none (s_wsh = 0) when the targets' span needs bins wider than 2^21.
void choose_window() {
    uint t0 = first_slot();
    float S = float(WSAMP), n = float(pc.n);
    float ja = float(s_rank[t0]) * S / n, jb = float(s_rank[1]) * S / n;
    // 4 sigma of a sample rank (binomial), plus 2
    float da = 4.0 * sqrt(max(ja * (1.0 - ja / S), 1.0)) + 2.0;
    float db = 4.0 * sqrt(max(jb * (1.0 - jb / S), 1.0)) + 2.0;
    int ia = int(floor(ja - da)), ib = int(ceil(jb + db));
    KT hi = ia < 0 ? ~KT(0) : KT(h[1][ia]);
    KT lo = ib >= int(WSAMP) ? KT(0) : KT(h[1][ib]);
    s_wsh = 0u;
    for (uint sh = 0u; sh <= 21u; sh++) {
        KT base = lo & ~((KT(1) << sh) - KT(1));
        if (((hi - base) >> sh) < KT(2048u)) {
            s_wsh = sh + 1u;
            s_wbase = base;
            break;
        }
    }
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
    bool win = FUSED != 0u && L == 0u && KW == 32u && pc.n >= 16u * WSAMP;
    if (win) { // sample WSAMP scores at hashed offsets, one per stride window; sort them
        uint step = pc.n / WSAMP;
        for (uint i = t; i < WSAMP; i += WG) h[1][i] = uint(score_of(xb.v[i * step + ((i * 2654435761u) >> 7) % step]));
        barrier();
        for (uint size = 2u; size <= WSAMP; size <<= 1)
            for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
                for (uint q = t; q < WSAMP / 2u; q += WG) {
                    uint i = 2u * q - (q & (stride - 1u)), k = i + stride;
                    uint a = h[1][i], b = h[1][k];
                    if ((a < b) == ((i & size) == 0u)) {
                        h[1][i] = b;
                        h[1][k] = a;
                    }
                }
                barrier();
            }
        if (t == 0u) choose_window();
        barrier();
    }
    hist_clear();
    barrier();
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
        if (t == 0u) {
            after_pick(L);
            state_store(row);
        }
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
