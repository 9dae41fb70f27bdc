// arange.comp — dst[i] = start + i*step (dst 1-D contiguous, T_F32 / T_I32 / T_I64),
// computed exactly as the CPU does: in double (no contraction into an fma), then one
// conversion to T (round to nearest for f32, truncation for integers). Needs
// shaderFloat64; vk_elementwise.c computes on the host where the device lacks it.
#version 460
#include "common.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC {
    uint64_t dst;
    double start;
    double step;
    uint n;
} pc;

void main() {
    TBuf d = TBuf(pc.dst);
    uint stride = grid_threads(), n = pc.n;
    for (uint i = global_linear(); i < n; i += stride) {
        precise double v = pc.start + double(i) * pc.step;
        d.v[i] = T(v);
    }
}
