// binary.comp — dst = op(a, b) elementwise (operands: 0 dst, 1 a, 2 b; one dtype).
// Variants: T_F32 / T_I32 / T_I64 (shaders/elementwise.list). Spec constants: id 0
// local size, id 1 the op (B_* below, mirrored in vk_elementwise.c), id 2 the layout
// (ew_common.glsl). Semantics of cpu_elementwise.c: integer add/sub/mul wrap; integer
// div truncates, x/0 = 0, MIN/-1 = MIN (no division by 0 or -1 is ever executed);
// maximum/minimum propagate NaN; comparisons write 0/1 in the dtype; pow is f32 only.
#version 460
#include "common.glsl"
#include "ew_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int OP = 0;
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_POW 4
#define B_MAXIMUM 5
#define B_MINIMUM 6
#define B_EQ 7
#define B_NE 8
#define B_LT 9
#define B_LE 10
#define B_GT 11
#define B_GE 12

layout(push_constant) uniform PC {
    uint64_t dst;
    uint64_t a;
    uint64_t b;
    uint64_t geom; // Geom (L_GEOM) or 0
    uint n;
    int sd, sa, sb; // L_LINE strides
} pc;

T op2(T x, T y) {
    if (OP == B_EQ) return T(x == y);
    if (OP == B_NE) return T(!(x == y)); // NaN != NaN
    if (OP == B_LT) return T(x < y);
    if (OP == B_LE) return T(x <= y);
    if (OP == B_GT) return T(x > y);
    if (OP == B_GE) return T(x >= y);
#if T_IS_FLOAT
    if (OP == B_ADD) { precise T r = x + y; return r; }
    if (OP == B_SUB) { precise T r = x - y; return r; }
    if (OP == B_MUL) { precise T r = x * y; return r; }
    if (OP == B_DIV) { precise T r = x / y; return r; }
    if (OP == B_MAXIMUM) return (x > y || nan_bits(x)) ? x : y;
    if (OP == B_MINIMUM) return (x < y || nan_bits(x)) ? x : y;
    return ew_pow(x, y);
#else
    if (OP == B_ADD) return x + y; // two's complement: wraps
    if (OP == B_SUB) return x - y;
    if (OP == B_MUL) return x * y;
    if (OP == B_DIV) {
        bool special = y == T(0) || y == T(-1);
        T q = x / (special ? T(1) : y);
        return y == T(0) ? T(0) : (y == T(-1) ? T(0) - x : q);
    }
    if (OP == B_MAXIMUM) return x > y ? x : y;
    return x < y ? x : y; // minimum (pow: refused by the host)
#endif
}

void main() {
    TBuf d = TBuf(pc.dst), a = TBuf(pc.a), b = TBuf(pc.b);
    uint step = grid_threads(), n = pc.n, i0 = global_linear();
    if (LAYOUT == L_VEC) {
        VBuf dv = VBuf(pc.dst), av = VBuf(pc.a), bv = VBuf(pc.b);
        uint nv = n / VW;
        for (uint i = i0; i < nv; i += step) {
            VT x = av.v[i], y = bv.v[i], r;
            // Components spelled out: a loop indexing a vector dynamically can force the
            // vector into local memory on some compilers (a slow path we must not risk).
            r.x = op2(x.x, y.x);
            r.y = op2(x.y, y.y);
#if VW == 4
            r.z = op2(x.z, y.z);
            r.w = op2(x.w, y.w);
#endif
            dv.v[i] = r;
        }
        for (uint i = nv * VW + i0; i < n; i += step) d.v[i] = op2(a.v[i], b.v[i]);
    } else if (LAYOUT == L_LINE) {
        uint sd = uint(pc.sd), sa = uint(pc.sa), sb = uint(pc.sb);
        for (uint i = i0; i < n; i += step) d.v[i * sd] = op2(a.v[i * sa], b.v[i * sb]);
    } else {
        Geom g = Geom(pc.geom);
        uint off[4];
        for (uint i = i0; i < n; i += step) {
            geom_offsets(g, 3, i, off);
            d.v[off[0]] = op2(a.v[off[1]], b.v[off[2]]);
        }
    }
}
