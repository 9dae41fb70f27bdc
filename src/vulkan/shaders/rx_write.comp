// rx_write.comp — ordered compaction: writes the selected elements of a row in column
// order. An element's output slot is taken_of(counts of (strict, ==A, ==B) before it):
// every strict one, and the ties whose occurrence index falls in the window.
// SEQ (spec 3) = 0: groups rows * nchunk, starting from the prefix counts rx_offsets left
//   in pc.buf ([rows][ntiles] uvec4): one tile of pc.chunk columns each, or (32-bit
//   subgroup variant, below) pc.chunk tiles of pc.tile columns, a subgroup a tile.
// SEQ = 1: groups rows; the workgroup walks its row carrying the counts (one pass).
// Either way the range is taken in steps of WG*IPT columns (IPT spec 2 = TILE/WG
// clamped to [1,16]; TILE spec 1 = the heuristics' tile): thread t holds IPT
// consecutive columns, one exclusive scan per step.
// Output: the values/indices (MidK) or (score, column) pairs (OPT_PAIRS, pc.out0/out1).
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TILE = 2048u;
layout(constant_id = 2) const uint IPT = 8u;
layout(constant_id = 3) const uint SEQ = 0u;
// PRE (spec 4; SEQ = 0, 32-bit subgroup variant): a subgroup writes pc.chunk / nsg tiles
// with the next one's loads in flight (rx_wtile.glsl write_tiles).
layout(constant_id = 4) const uint PRE = 0u;
// W8 (spec 5; the same variant): steps of 8*S columns, one staging round for two 4*S
// halves (rx_wtile.glsl WT_W8); staging then holds 8 entries a thread (16 KiB at most).
layout(constant_id = 5) const uint W8 = 0u;
#include "rx_scan.glsl"

#if !defined(T_I64) && defined(RX_SG)
shared uvec2 stg[(gl_WorkGroupSize.x * (4u + 4u * W8)) >> (gl_WorkGroupSize.x >> (10u - W8))];
#define WT_W8 (W8 != 0u)
#define STG_LEN uint(stg.length())
#define STG_SET(j, v) stg[j] = (v)
#define STG_GET(j) stg[j]
#define TILE_BASE(row, i) U4Buf(pc.buf + (uint64_t(row) * pc.ntiles + (i)) * 16ul).v[0].xyz
#include "rx_wtile.glsl"
#endif

void main() {
    uint g = group_linear();
    uint per_row = SEQ != 0u ? 1u : pc.nchunk;
    if (g >= pc.rows * per_row) return;
    uint row = g / per_row, c = g - row * per_row;
    if (!row_on(row)) return;
    Thr th = load_thr(row);
    TBuf xb = row_x(row);
    uint c0 = 0u, c1 = pc.n;
    uvec3 carry = uvec3(0u);
    if (SEQ == 0u) {
#if !defined(T_I64) && defined(RX_SG)
        // the c-th group of the row takes tiles [c * pc.chunk, (c + 1) * pc.chunk)
        uint t1 = min(pc.ntiles, (c + 1u) * pc.chunk);
        write_tiles(row, c * pc.chunk + gl_SubgroupID, t1, th, PRE != 0u);
        return;
#endif
        c0 = c * pc.chunk;
        c1 = min(pc.n, c0 + pc.chunk);
        carry = U4Buf(pc.buf).v[g].xyz;
    }
    bool pairs = (pc.opts & OPT_PAIRS) != 0u;
    uint64_t obase = uint64_t(row) * pc.k;
    const uint step = gl_WorkGroupSize.x * IPT;
    uint t = gl_LocalInvocationID.x;
    for (uint b = c0; b < c1; b += step) {
        if (taken_of(th, carry) >= pc.k) break; // the rest of the row is not selected
        uint i0 = b + t * IPT;
        KT ks[16];
        uvec3 loc = uvec3(0u);
        for (uint j = 0u; j < IPT; j++) {
            uint i = i0 + j;
            ks[j] = i < c1 ? score_of(xb.v[i]) : KT(0);
            if (i < c1) loc += classify(th, ks[j]);
        }
        uvec3 tot;
        uvec3 u = carry + scan_u3(loc, tot);
        for (uint j = 0u; j < IPT; j++) {
            uint i = i0 + j;
            if (i >= c1) break;
            uvec3 e = classify(th, ks[j]);
            uint p = taken_of(th, u), q = taken_of(th, u + e);
            u += e;
            if (q == p) continue;
            if (pairs) {
                pair_store(pc.out0, pc.out1, obase + p, ks[j], i);
            } else {
                emit(row, p, i);
            }
        }
        carry += tot;
    }
}
