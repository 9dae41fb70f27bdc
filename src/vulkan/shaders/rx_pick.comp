// rx_pick.comp — the pick of a radix level when a row's histogram was built by several
// workgroups (rx_hist with FUSED = 0): reads and clears the row's global histograms,
// picks each target's digit, stores the row state. Groups: rows.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
#include "rx_scan.glsl"
#include "rx_radix.glsl"

void main() {
    uint row = group_linear();
    if (row >= pc.rows || !row_on(row)) return;
    uint L = pc.level, t = gl_LocalInvocationID.x;
    if (t == 0u) state_load(row, L);
    barrier();
    if ((s_flags & F_DONE) != 0u) return;
    bool two = two_hists();
    U32Buf G = U32Buf(pc.buf + uint64_t(row) * (2u * 2048u * 4u));
    for (uint i = t; i < 2048u; i += gl_WorkGroupSize.x) {
        h[0][i] = G.v[i];
        G.v[i] = 0u;
        h[1][i] = two ? G.v[2048u + i] : 0u;
        if (two) G.v[2048u + i] = 0u;
    }
    barrier();
    pick(L);
    if (t == 0u) {
        after_pick(L);
        state_store(row);
    }
}
