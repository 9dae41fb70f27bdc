// copy.comp — dst = convert(src) over a strided geometry (operand 0 dst, 1 src).
// Variants: SRC_{F32,I32,I64} x DST_{F32,I32,I64} (shaders/core.list).
#version 460
#include "common.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform PC {
    uint64_t dst;
    uint64_t src;
    uint64_t geom; // Geom, or 0 when both are contiguous
    int64_t n;
} pc;

#if defined(SRC_F32)
#define SBuf F32Buf
#elif defined(SRC_I32)
#define SBuf I32Buf
#else
#define SBuf I64Buf
#endif
#if defined(DST_F32)
#define DBuf F32Buf
#define DT float
#elif defined(DST_I32)
#define DBuf I32Buf
#define DT int
#else
#define DBuf I64Buf
#define DT int64_t
#endif

void main() {
    SBuf s = SBuf(pc.src);
    DBuf d = DBuf(pc.dst);
    uint step = grid_threads(), n = uint(pc.n);
    if (pc.geom == 0) {
        for (uint i = global_linear(); i < n; i += step) d.v[i] = DT(s.v[i]);
    } else {
        Geom g = Geom(pc.geom);
        for (uint i = global_linear(); i < n; i += step) {
            d.v[geom_offset(g, 0, i)] = DT(s.v[geom_offset(g, 1, i)]);
        }
    }
}
