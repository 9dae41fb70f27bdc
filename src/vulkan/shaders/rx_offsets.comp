// rx_offsets.comp — two-pass compaction, between the passes: each row's tile counts
// (pc.buf, uvec4 [rows][nchunk]) become exclusive prefix counts from the row start, in
// place (rows whose offsets rx_resolve wrote, F_OFFSETS, are skipped). Groups: rows.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
#include "rx_scan.glsl"

void main() {
    uint row = group_linear();
    if (row >= pc.rows || !row_on(row)) return;
    if ((States(pc.st).r[row].flags & F_OFFSETS) != 0u) return; // done by rx_resolve (OPT_ROFF)
    U4Buf B = U4Buf(pc.buf + uint64_t(row) * pc.nchunk * 16u);
    uvec3 carry = uvec3(0u);
    for (uint b = 0u; b < pc.nchunk; b += gl_WorkGroupSize.x) {
        uint i = b + gl_LocalInvocationID.x;
        uvec3 v = i < pc.nchunk ? B.v[i].xyz : uvec3(0u);
        uvec3 tot;
        uvec3 ex = scan_u3(v, tot);
        if (i < pc.nchunk) B.v[i] = uvec4(carry + ex, 0u);
        carry += tot;
    }
}
