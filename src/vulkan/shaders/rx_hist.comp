// rx_hist.comp — one radix-select level (pc.level) over the full input: the histogram of
// the next digit of the elements that carry a target's prefix.
// Groups: rows * nchunk (group g: row g / nchunk, columns [c*chunk, (c+1)*chunk)).
// FUSED (spec 1) = 1 (nchunk == 1, the workgroup owns its row): pick the digits at once
// and store the row state. FUSED = 0: add the shared histograms into the row's global
// ones (pc.buf: u32 [rows][2][2048], zero before) for rx_pick.
// Rows that are done (or not flagged) return at once.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint FUSED = 1u;
#include "rx_scan.glsl"
#include "rx_radix.glsl"

void main() {
    uint g = group_linear();
    if (g >= pc.rows * pc.nchunk) return;
    uint row = g / pc.nchunk, c = g - row * pc.nchunk;
    if (!row_on(row)) return;
    uint L = pc.level, t = gl_LocalInvocationID.x;
    if (t == 0u) state_load(row, L);
    hist_clear();
    barrier();
    if ((s_flags & F_DONE) != 0u) return;
    KT pm = mask_from(lvl_hi(L));
    bool two = two_hists();
    KT p0 = s_pre[first_slot()], p1 = s_pre[1];
    TBuf xb = row_x(row);
    uint c0 = c * pc.chunk, c1 = min(pc.n, c0 + pc.chunk);
    // 8 loads per thread in flight before their histogram adds (one per step left a
    // thread with a single 4-byte load outstanding: latency-bound far below bandwidth)
    const uint WG = gl_WorkGroupSize.x;
    uint i = c0 + t;
    for (; i + 7u * WG < c1; i += 8u * WG) {
        T v[8];
        [[unroll]] for (uint q = 0u; q < 8u; q++) v[q] = xb.v[i + q * WG];
        [[unroll]] for (uint q = 0u; q < 8u; q++) hist_add(score_of(v[q]), pm, p0, p1, two, L);
    }
    for (; i < c1; i += WG) hist_add(score_of(xb.v[i]), pm, p0, p1, two, L);
    barrier();
    if (FUSED != 0u) {
        pick(L);
        if (t == 0u) {
            after_pick(L);
            state_store(row);
        }
        return;
    }
    U32Buf G = U32Buf(pc.buf + uint64_t(row) * (2u * 2048u * 4u));
    for (uint j = 0u; j < (two ? 2u : 1u); j++)
        for (uint i = t; i < 2048u; i += gl_WorkGroupSize.x) {
            uint v = h[j][i];
            if (v != 0u) atomicAdd(G.v[j * 2048u + i], v);
        }
}
