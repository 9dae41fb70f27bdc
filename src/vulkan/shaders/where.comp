// where.comp — dst = cond != 0 ? a : b (operands: 0 dst, 1 cond, 2 a, 3 b). a, b and
// dst share the dtype T (T_F32 / T_I32 / T_I64); cond's is C_F32 / C_I32 / C_I64
// (a NaN cond is true, -0.0 false, as on the CPU). Spec constants: id 0 local size,
// id 2 the layout (ew_common.glsl); in L_VEC only a, b, dst move as vectors and cond
// is read as scalars (its element size may differ).
#version 460
#include "common.glsl"
#include "ew_common.glsl"
layout(local_size_x_id = 0) in;

#if defined(C_F32)
#define CBuf F32Buf
#define TRUE_OF(c) (!((c) == 0.0))
#elif defined(C_I32)
#define CBuf I32Buf
#define TRUE_OF(c) ((c) != 0)
#else
#define CBuf I64Buf
#define TRUE_OF(c) ((c) != 0l)
#endif

layout(push_constant) uniform PC {
    uint64_t dst;
    uint64_t cond;
    uint64_t a;
    uint64_t b;
    uint64_t geom; // Geom (L_GEOM) or 0
    uint n;
    int sd, sc, sa, sb; // L_LINE strides
    int pad;
} pc;

void main() {
    TBuf d = TBuf(pc.dst), a = TBuf(pc.a), b = TBuf(pc.b);
    CBuf c = CBuf(pc.cond);
    uint step = grid_threads(), n = pc.n, i0 = global_linear();
    if (LAYOUT == L_VEC) {
        VBuf dv = VBuf(pc.dst), av = VBuf(pc.a), bv = VBuf(pc.b);
        uint nv = n / VW;
        for (uint i = i0; i < nv; i += step) {
            VT x = av.v[i], y = bv.v[i], r;
            for (int k = 0; k < VW; k++) r[k] = TRUE_OF(c.v[i * VW + k]) ? x[k] : y[k];
            dv.v[i] = r;
        }
        for (uint i = nv * VW + i0; i < n; i += step) d.v[i] = TRUE_OF(c.v[i]) ? a.v[i] : b.v[i];
    } else if (LAYOUT == L_LINE) {
        uint sd = uint(pc.sd), sc = uint(pc.sc), sa = uint(pc.sa), sb = uint(pc.sb);
        for (uint i = i0; i < n; i += step) d.v[i * sd] = TRUE_OF(c.v[i * sc]) ? a.v[i * sa] : b.v[i * sb];
    } else {
        Geom g = Geom(pc.geom);
        uint off[4];
        for (uint i = i0; i < n; i += step) {
            geom_offsets(g, 4, i, off);
            d.v[off[0]] = TRUE_OF(c.v[off[1]]) ? a.v[off[2]] : b.v[off[3]];
        }
    }
}
