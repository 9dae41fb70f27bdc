// rx_count.comp — MidK/TopK compaction, two-pass form, pass 1: per tile (pc.chunk
// columns; groups rows * nchunk) the counts (strict, ==A, ==B) against the row's final
// thresholds, to pc.buf as uvec4 [rows][nchunk].
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
#include "rx_scan.glsl"

void main() {
    uint g = group_linear();
    if (g >= pc.rows * pc.nchunk) return;
    uint row = g / pc.nchunk, c = g - row * pc.nchunk;
    if (!row_on(row) || (States(pc.st).r[row].flags & F_COUNTED) != 0u) return; // counted in the select
    Thr th = load_thr(row);
    TBuf xb = row_x(row);
    uint c0 = c * pc.chunk, c1 = min(pc.n, c0 + pc.chunk);
    uvec3 cnt = uvec3(0u);
    const uint WG = gl_WorkGroupSize.x;
    uint i = c0 + gl_LocalInvocationID.x;
    for (; i + 7u * WG < c1; i += 8u * WG) { // 8 loads in flight per thread
        T v[8];
        [[unroll]] for (uint q = 0u; q < 8u; q++) v[q] = xb.v[i + q * WG];
        [[unroll]] for (uint q = 0u; q < 8u; q++) cnt += classify(th, score_of(v[q]));
    }
    for (; i < c1; i += WG) cnt += classify(th, score_of(xb.v[i]));
    uvec3 tot;
    scan_u3(cnt, tot);
    if (gl_LocalInvocationID.x == 0u) U4Buf(pc.buf).v[g] = uvec4(tot, 0u);
}
