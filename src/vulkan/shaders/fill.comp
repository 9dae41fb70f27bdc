// fill.comp — dst[...] = value over a strided geometry (operand 0). The value comes as
// the raw bits of dst's type in `bits` (the host converts).
#version 460
#include "common.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC {
    uint64_t dst;
    uint64_t geom; // 0 when contiguous
    int64_t n;
    uint64_t bits;
} pc;

void main() {
#if defined(T_F32)
    T val = uintBitsToFloat(uint(pc.bits));
#else
    T val = T(pc.bits);
#endif
    TBuf d = TBuf(pc.dst);
    uint step = grid_threads(), n = uint(pc.n);
    if (pc.geom == 0) {
        for (uint i = global_linear(); i < n; i += step) d.v[i] = val;
    } else {
        Geom g = Geom(pc.geom);
        for (uint i = global_linear(); i < n; i += step) d.v[geom_offset(g, 0, i)] = val;
    }
}
