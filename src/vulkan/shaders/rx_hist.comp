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
// FULL (spec 2; FUSED, level 0, 32-bit, subgroup variants, MidK's two-pass compaction
// with <= FT_MAX tiles a row): a row whose buckets are gathered at level 0 (the usual
// case) is finished in the same workgroup instead of by rx_gather, rx_resolve, rx_count
// and rx_offsets: the gather pass (pc.buf: the gather buffer, scores of row r at r*cap,
// columns after all rows' scores), the remaining digits from the gathered elements, the
// tile counts and their prefix offsets in shared memory; FULL = 1 stores the offsets in
// the tile buffer (pc.buf2) for rx_write, FULL = 2 also writes the row's outputs (pc.out0,
// pc.out1) a subgroup a tile, staging in h (FULL = 3: with the next tile's loads in
// flight). One kernel then reads the row two or three times, with no dependent
// dispatches between: a workgroup's serial parts (the resolve, the scan) overlap the
// other workgroups' streaming. Other rows zero their tile counts and go on in the
// separate kernels behind the gate word GATE_REST. On the H100 the fused kernel takes 97
// registers (two workgroups a multiprocessor) and loses to the separate kernels
// (docs/benchmarks.md), so it is opt-in (ST_VULKAN_RANKK_FULL).
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FUSED = 1u;
layout(constant_id = 2) const uint FULL = 0u;
// NQ (spec 3): 16-byte loads a thread a block of the window pass: 4, or 2 (half the
// registers for the loads and bins, half the loads in flight; ST_VULKAN_RANKK_NQ)
layout(constant_id = 3) const uint NQ = 4u;
// HPRE (spec 4): the window pass keeps the next block's loads in flight while it bins one
// (twice the bytes in flight a thread; ST_VULKAN_RANKK_HPRE)
layout(constant_id = 4) const uint HPRE = 0u;
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

#if !defined(T_I64) && defined(RX_SG)
#define RX_FULL 1
const uint FT_MAX = 512u; // tiles a row for FULL (the host checks)
shared uint tc[3u * FT_MAX]; // per tile (strict, ==A, ==B), then their exclusive prefix sums

// The gather buffer is written and read back by this workgroup: coherent.
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CU32Buf { uint v[]; };

// Adds this lane's strict count st (columns in tile ti) to tc: a subgroup's columns span
// at most two tiles (tf, tf + 1), one subgroup sum carries both, 16 bits each.
void full_count_strict(uint ti, uint st) {
    uint tf = subgroupBroadcastFirst(ti);
    uint v = subgroupAdd(ti == tf ? st : st << 16u);
    if (!subgroupElect()) return;
    if ((v & 0xFFFFu) != 0u) atomicAdd(tc[3u * tf], v & 0xFFFFu);
    if ((v >> 16u) != 0u) atomicAdd(tc[3u * (tf + 1u)], v >> 16u);
}

// Level 0's gather pass over [c0, c1) (rx_gather's subgroup form): the elements carrying
// a target's prefix to the gather buffer (s_gcount of them), the strict ones (inside the
// window by their prefix) counted a tile in tc.
void full_gather(uint row, uint c0, uint c1, CU32Buf gk, CU32Buf gc) {
    const uint WG = gl_WorkGroupSize.x;
    uint t = gl_LocalInvocationID.x, S = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
    KT pm = mask_from(geo_shift(s_wsh, 0u)), p0 = s_pre[first_slot()], p1 = s_pre[1];
    bool mid = first_slot() == 0u;
    uint ts = findLSB(pc.tile);
    uint64_t ra = pc.x + uint64_t(row) * pc.xrs * 4ul + uint64_t(c0) * 4ul;
    uint nblk = (ra & 15ul) == 0ul ? (c1 - c0) / (16u * WG) : 0u;
    bool whole = pc.tile >= 16u * S;
    for (uint bk = 0u; bk < nblk; bk++) { // a subgroup takes 16 * S consecutive columns a block
        uint e0 = bk * 4u * WG + gl_SubgroupID * 4u * S;
        uvec4 v[4];
        [[unroll]] for (uint q = 0u; q < 4u; q++) v[q] = RawV4(ra).v[e0 + q * S + lane];
        uint mbits = 0u, sall = 0u;
        [[unroll]] for (uint q = 0u; q < 4u; q++) {
            uint st = 0u;
            [[unroll]] for (uint l = 0u; l < 4u; l++) {
                KT sq = score_bits(v[q][l]) & pm;
                if (sq == p0 || sq == p1) mbits |= 1u << (4u * q + l);
                st += (mid ? (sq < p0 && sq > p1) : sq > p1) ? 1u : 0u;
            }
            if (!whole) full_count_strict((c0 + 4u * (e0 + q * S + lane)) >> ts, st);
            sall += st;
        }
        if (whole) full_count_strict((c0 + 4u * e0) >> ts, sall);
        uint np = bitCount(mbits);
        if (!subgroupAny(np != 0u)) continue;
        uint off = subgroupExclusiveAdd(np), tot = subgroupAdd(np), b0 = 0u;
        if (subgroupElect()) b0 = atomicAdd(s_gcount, tot);
        uint slot = subgroupBroadcastFirst(b0) + off;
        [[unroll]] for (uint q = 0u; q < 4u; q++)
            [[unroll]] for (uint l = 0u; l < 4u; l++)
                if ((mbits & (1u << (4u * q + l))) != 0u) {
                    if (slot < pc.cap) {
                        gk.v[slot] = score_bits(v[q][l]);
                        gc.v[slot] = c0 + 4u * (e0 + q * S + lane) + l;
                    }
                    slot++;
                }
    }
    TBuf xb = row_x(row);
    for (uint i = c0 + nblk * 16u * WG + t; i < c1; i += WG) { // the rest: an element at a time
        KT s = score_of(xb.v[i]), sq = s & pm;
        if (mid ? (sq < p0 && sq > p1) : sq > p1) atomicAdd(tc[3u * (i >> ts)], 1u);
        if (sq == p0 || sq == p1) {
            uint slot = atomicAdd(s_gcount, 1u);
            if (slot < pc.cap) {
                gk.v[slot] = s;
                gc.v[slot] = i;
            }
        }
    }
}

// The gathered elements' remaining digits (rx_resolve's levels), then their classes
// against the exact thresholds into tc.
Thr full_resolve(CU32Buf gk, CU32Buf gc) {
    const uint WG = gl_WorkGroupSize.x;
    uint t = gl_LocalInvocationID.x, cnt = s_gcount;
    for (uint L = 1u; L < NLEV && geo_bits(s_wsh, L) != 0u; L++) {
        hist_clear();
        barrier();
        KT pm = mask_from(geo_hi(s_wsh, L));
        bool two = two_hists();
        KT p0 = s_pre[first_slot()], p1 = s_pre[1];
        uint i = t;
        for (; i + 3u * WG < cnt; i += 4u * WG) {
            KT v[4];
            [[unroll]] for (uint q = 0u; q < 4u; q++) v[q] = gk.v[i + q * WG];
            [[unroll]] for (uint q = 0u; q < 4u; q++) hist_add(v[q], pm, p0, p1, two, L);
        }
        for (; i < cnt; i += WG) hist_add(gk.v[i], pm, p0, p1, two, L);
        barrier();
        pick(L);
    }
    Thr th = state_thr();
    uint ts = findLSB(pc.tile);
    for (uint i = t; i < cnt; i += WG) {
        uvec3 e = classify(th, gk.v[i]);
        uint ti = gc.v[i] >> ts;
        if (e.x != 0u) atomicAdd(tc[3u * ti], 1u);
        if (e.y != 0u) atomicAdd(tc[3u * ti + 1u], 1u);
        if (e.z != 0u) atomicAdd(tc[3u * ti + 2u], 1u);
    }
    barrier();
    return th;
}

// FULL >= 2: the compaction's staging lives in h (free by then): entry j's two words at
// h[0][j], h[1][j].
#define STG_LEN min(2048u, (gl_WorkGroupSize.x * 4u) >> (gl_WorkGroupSize.x >> 10u))
void stg_set(uint j, uvec2 v) {
    h[0][j] = v.x;
    h[1][j] = v.y;
}
uvec2 stg_get(uint j) { return uvec2(h[0][j], h[1][j]); }
#define STG_SET(j, v) stg_set(j, v)
#define STG_GET(j) stg_get(j)
#define TILE_BASE(row, i) uvec3(tc[3u * (i)], tc[3u * (i) + 1u], tc[3u * (i) + 2u])
#include "rx_wtile.glsl"

// FULL >= 2: the row's outputs, a subgroup a tile (tiles sg, sg + nsg, ...) from the
// offsets in tc; FULL 3 with the next tile's loads in flight (rx_wtile.glsl write_tiles).
void full_write(uint row, Thr th) {
    write_tiles(row, gl_SubgroupID, pc.ntiles, th, FULL == 3u);
}

// After level 0's pick (every thread, uniform): finish a row gathered at level 0, or leave
// it (tile counts zeroed) to the separate kernels.
void full_row(uint row, uint c0, uint c1) {
    const uint WG = gl_WorkGroupSize.x;
    uint t = gl_LocalInvocationID.x, nt = pc.ntiles;
    U4Buf tb = U4Buf(pc.buf2 + uint64_t(row) * nt * 16ul);
    if ((s_flags & F_GATHER) == 0u) {
        for (uint i = t; i < nt; i += WG) tb.v[i] = uvec4(0u);
        if (t == 0u) {
            if (pc.gate != 0ul) U32Buf(pc.gate).v[GATE_REST] = 1u;
            state_store(row);
        }
        return;
    }
    for (uint i = t; i < 3u * nt; i += WG) tc[i] = 0u;
    barrier();
    uint64_t gb = pc.buf + uint64_t(row) * pc.cap * 4ul;
    CU32Buf gk = CU32Buf(gb), gc = CU32Buf(gb + uint64_t(pc.rows) * pc.cap * 4ul);
    full_gather(row, c0, c1, gk, gc);
    memoryBarrierBuffer();
    barrier();
    Thr th = full_resolve(gk, gc);
    uvec3 carry = uvec3(0u); // the tile counts' exclusive prefix sums
    for (uint b = 0u; b < nt; b += WG) {
        uint i = b + t;
        uvec3 v = i < nt ? uvec3(tc[3u * i], tc[3u * i + 1u], tc[3u * i + 2u]) : uvec3(0u);
        uvec3 tot, ex = carry + scan_u3(v, tot);
        if (i < nt) {
            if (FULL == 1u) {
                tb.v[i] = uvec4(ex, 0u);
            } else {
                tc[3u * i] = ex.x;
                tc[3u * i + 1u] = ex.y;
                tc[3u * i + 2u] = ex.z;
            }
        }
        carry += tot;
    }
    barrier();
    if (FULL >= 2u) full_write(row, th);
    if (t == 0u) {
        s_flags = F_DONE | F_COUNTED | (FULL >= 2u ? F_WRITTEN : F_OFFSETS);
        state_store(row);
    }
}
#endif

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
        bool full = FULL != 0u && L == 0u;
#ifndef RX_FULL
        full = false;
#endif
        if (t == 0u) {
            after_pick(L, full);
            if (!full) state_store(row);
        }
#ifdef RX_FULL
        if (full) {
            barrier();
            full_row(row, c0, c1);
        }
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
