// rx_count.comp — MidK/TopK compaction, two-pass form, pass 1: per tile (pc.chunk
// columns; groups rows * nchunk) the counts (strict, ==A, ==B) against the row's final
// thresholds, to pc.buf as uvec4 [rows][nchunk].
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
// PERROW (spec 1) = 1: groups = rows, each walks its row's tiles (many rows: the rows the
// select already counted -- all of them, usually -- cost one workgroup each, not ntiles)
layout(constant_id = 1) const uint PERROW = 0u;
#include "rx_scan.glsl"

// This thread's counts of columns i, i + stride, ... < c1 of the row at xb (8 loads in
// flight).
uvec3 count_strided(TBuf xb, uint i, uint c1, uint stride, Thr th) {
    uvec3 cnt = uvec3(0u);
    for (; i + 7u * stride < c1; i += 8u * stride) {
        T v[8];
        [[unroll]] for (uint q = 0u; q < 8u; q++) v[q] = xb.v[i + q * stride];
        [[unroll]] for (uint q = 0u; q < 8u; q++) cnt += classify(th, score_of(v[q]));
    }
    for (; i < c1; i += stride) cnt += classify(th, score_of(xb.v[i]));
    return cnt;
}

// The counts of tile c of `row` to pc.buf.
void count_tile(uint row, uint c, Thr th) {
    uint c0 = c * pc.chunk, c1 = min(pc.n, c0 + pc.chunk);
    uvec3 tot;
    scan_u3(count_strided(row_x(row), c0 + gl_LocalInvocationID.x, c1, gl_WorkGroupSize.x, th), tot);
    if (gl_LocalInvocationID.x == 0u) U4Buf(pc.buf).v[row * pc.nchunk + c] = uvec4(tot, 0u);
}

#ifdef RX_SG
// PERROW: the row's tiles a subgroup each (round-robin), no workgroup barrier.
void count_row_sg(uint row, Thr th) {
    for (uint c = gl_SubgroupID; c < pc.nchunk; c += gl_NumSubgroups) {
        uint c0 = c * pc.chunk, c1 = min(pc.n, c0 + pc.chunk);
        uvec3 cnt = subgroupAdd(count_strided(row_x(row), c0 + gl_SubgroupInvocationID, c1, gl_SubgroupSize, th));
        if (subgroupElect()) U4Buf(pc.buf).v[row * pc.nchunk + c] = uvec4(cnt, 0u);
    }
}
#endif

void main() {
    uint g = group_linear();
    uint per_row = PERROW != 0u ? 1u : pc.nchunk;
    if (g >= pc.rows * per_row) return;
    uint row = g / per_row, c = g - row * per_row;
    if (!row_on(row) || (States(pc.st).r[row].flags & F_COUNTED) != 0u) return; // counted in the select
    Thr th = load_thr(row);
    if (PERROW == 0u) {
        count_tile(row, c, th);
        return;
    }
#ifdef RX_SG
    count_row_sg(row, th);
#else
    for (c = 0u; c < pc.nchunk; c++) count_tile(row, c, th);
#endif
}
