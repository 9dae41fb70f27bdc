// unary.comp — dst = op(x) elementwise (operands: 0 dst, 1 x; same dtype).
// Variants: T_F32 / T_I32 / T_I64 (shaders/elementwise.list). Spec constants: id 0
// local size, id 1 the op (U_* below, mirrored in vk_elementwise.c), id 2 the layout
// (ew_common.glsl). Integer variants hold neg/abs/relu only (the host refuses others).
#version 460
#include "common.glsl"
#include "ew_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int OP = 0;
#define U_NEG 0
#define U_EXP 1
#define U_LOG 2
#define U_SQRT 3
#define U_ABS 4
#define U_RELU 5
#define U_GELU 6
#define U_TANH 7
#define U_SIGMOID 8

layout(push_constant) uniform PC {
    uint64_t dst;
    uint64_t x;
    uint64_t geom; // Geom (L_GEOM) or 0
    uint n;
    int sd, sx;    // L_LINE strides
} pc;

T op1(T x) {
#if T_IS_FLOAT
    if (OP == U_NEG) return -x;
    if (OP == U_ABS) return abs(x);
    if (OP == U_RELU) return (x > 0.0 || nan_bits(x)) ? x : 0.0;
    if (OP == U_EXP) return ew_exp(x);
    if (OP == U_LOG) return ew_log(x);
    if (OP == U_SQRT) return ew_sqrt(x);
    if (OP == U_TANH) return ew_tanh(x);
    if (OP == U_SIGMOID) return ew_sigmoid(x);
    return ew_gelu(x);
#else
    if (OP == U_NEG) return T(0) - x; // wraps
    if (OP == U_ABS) return x < T(0) ? T(0) - x : x;
    return x < T(0) ? T(0) : x; // relu
#endif
}

void main() {
    TBuf d = TBuf(pc.dst), a = TBuf(pc.x);
    uint step = grid_threads(), n = pc.n, i0 = global_linear();
    if (LAYOUT == L_VEC) {
        VBuf dv = VBuf(pc.dst), av = VBuf(pc.x);
        uint nv = n / VW;
        for (uint i = i0; i < nv; i += step) {
            VT x = av.v[i], r;
            // Components spelled out (see binary.comp).
            r.x = op1(x.x);
            r.y = op1(x.y);
#if VW == 4
            r.z = op1(x.z);
            r.w = op1(x.w);
#endif
            dv.v[i] = r;
        }
        for (uint i = nv * VW + i0; i < n; i += step) d.v[i] = op1(a.v[i]);
    } else if (LAYOUT == L_LINE) {
        uint sd = uint(pc.sd), sx = uint(pc.sx);
        for (uint i = i0; i < n; i += step) d.v[i * sd] = op1(a.v[i * sx]);
    } else {
        Geom g = Geom(pc.geom);
        uint off[4];
        for (uint i = i0; i < n; i += step) {
            geom_offsets(g, 2, i, off);
            d.v[off[0]] = op1(a.v[off[1]]);
        }
    }
}
