// rm_reduce.comp — sum/mean/max/min and argmax over a reduced set of elements per output.
//
// Geometry: RGeom (rm_reduce.glsl). The reduced range of each output may be cut into P
// chunks of `chunk` elements (two-pass: pass 1 writes one raw accumulator per chunk into
// a scratch array, pass 2 reduces those with a plain geometry).
// Spec constants: 0 workgroup size (a power of two), 1 OP (0 sum, 1 max, 2 min; argmax
// variants ignore it), 2 FINAL (1: write the result into dst; 0: raw partials), 3 MEAN
// (divide by pc.denom), 4 COL (1: one thread per (output, chunk), reading along the
// reduced range sequentially; 0: one workgroup per (output, chunk) with a tree).
// Variants (defines): input IN_F32 / IN_U32 (max/min keys) / IN_I32 / IN_I64 / IN_PAIR
// (argmax partials); accumulator ACC_F32 / ACC_U32 (keys of floats) / ACC_I32 / ACC_I64 /
// ARGMAX; SG: subgroup arithmetic for the tree (float/uint/int accumulators only).
// Partial layout: row mode part[o * P + p], column mode part[p * n_out + o]; argmax
// partials are (key, index) pairs of u64.
#version 460
#include "common.glsl"
#ifdef SG
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;
layout(constant_id = 2) const uint FINAL = 1;
layout(constant_id = 3) const uint MEAN = 0;
layout(constant_id = 4) const uint COL = 0;

layout(push_constant) uniform PC {
    uint64_t x, dst, geom;
    uint n_out, n_red, chunk, P;
    float denom;
} pc;

#if defined(ARGMAX)
struct A { uint64_t key; uint idx; };
const A IDENT = A(0ul, 0xFFFFFFFFu);
A comb(A a, A b) { return (b.key > a.key || (b.key == a.key && b.idx < a.idx)) ? b : a; }
#elif defined(ACC_F32)
#define A float
const A IDENT = 0.0;
A comb(A a, A b) { return a + b; }
#elif defined(ACC_U32)
#define A uint
const A IDENT = OP == 1 ? 0u : 0xFFFFFFFFu;
A comb(A a, A b) { return OP == 1 ? max(a, b) : min(a, b); }
#elif defined(ACC_I32)
#define A int
const A IDENT = OP == 1 ? int(0x80000000u) : 0x7FFFFFFF;
A comb(A a, A b) { return OP == 0 ? a + b : OP == 1 ? max(a, b) : min(a, b); }
#elif defined(ACC_I64)
#define A int64_t
const A IDENT = OP == 0 ? 0l : OP == 1 ? int64_t(0x8000000000000000ul) : int64_t(0x7FFFFFFFFFFFFFFFul);
A comb(A a, A b) { return OP == 0 ? a + b : OP == 1 ? max(a, b) : min(a, b); }
#endif

#include "rm_reduce.glsl"

// Element at x offset `off`, reduced index r (argmax: its position along the line).
A load(uint off, uint r) {
#if defined(ARGMAX) && defined(IN_PAIR)
    U64Buf b = U64Buf(pc.x);
    return A(b.v[2u * off], uint(b.v[2u * off + 1u]));
#elif defined(ARGMAX) && defined(IN_F32)
    return A(uint64_t(float_key(F32Buf(pc.x).v[off])), r);
#elif defined(ARGMAX) && defined(IN_I32)
    return A(uint64_t(uint(I32Buf(pc.x).v[off]) ^ 0x80000000u), r);
#elif defined(ARGMAX) && defined(IN_I64)
    return A(uint64_t(I64Buf(pc.x).v[off]) ^ 0x8000000000000000ul, r);
#elif defined(ACC_U32) && defined(IN_F32)
    float f = F32Buf(pc.x).v[off];
    return OP == 1 ? key_max(f) : key_min(f);
#elif defined(IN_U32)
    return U32Buf(pc.x).v[off];
#elif defined(IN_F32)
    return F32Buf(pc.x).v[off];
#elif defined(IN_I32)
    return A(I32Buf(pc.x).v[off]);
#else
    return A(I64Buf(pc.x).v[off]);
#endif
}

// Final value into dst at dof, or the raw partial into slot `slot` of the scratch.
void store(uint slot, uint dof, A a) {
#if defined(ARGMAX)
    if (FINAL == 1) I64Buf(pc.dst).v[dof] = int64_t(a.idx);
    else {
        U64Buf b = U64Buf(pc.dst);
        b.v[2u * slot] = a.key;
        b.v[2u * slot + 1u] = uint64_t(a.idx);
    }
#elif defined(ACC_F32)
    if (FINAL == 1) F32Buf(pc.dst).v[dof] = MEAN == 1 ? a / pc.denom : a;
    else F32Buf(pc.dst).v[slot] = a;
#elif defined(ACC_U32)
    if (FINAL == 1) F32Buf(pc.dst).v[dof] = key_decode(a, OP == 1);
    else U32Buf(pc.dst).v[slot] = a;
#elif defined(ACC_I32)
    I32Buf(pc.dst).v[FINAL == 1 ? dof : slot] = a;
#else
    I64Buf(pc.dst).v[FINAL == 1 ? dof : slot] = a;
#endif
}

// Fixed size: arrays sized by the workgroup-size spec constant crash Mesa 22 lavapipe
// when a second pipeline of the module is specialised (host: workgroups <= 256).
shared A sh[256];
shared A sh_res;

// Reduce every invocation's `a`; the result is returned to every invocation.
A group_reduce(A a) {
    uint t = gl_LocalInvocationID.x;
#ifdef SG
    a = OP == 0 ? subgroupAdd(a) : OP == 1 ? subgroupMax(a) : subgroupMin(a);
    if (subgroupElect()) sh[gl_SubgroupID] = a;
    barrier();
    if (gl_SubgroupID == 0u) {
        A v = IDENT;
        for (uint i = gl_SubgroupInvocationID; i < gl_NumSubgroups; i += gl_SubgroupSize) v = comb(v, sh[i]);
        v = OP == 0 ? subgroupAdd(v) : OP == 1 ? subgroupMax(v) : subgroupMin(v);
        if (subgroupElect()) sh_res = v;
    }
#else
    sh[t] = a;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 1u; s >>= 1u) {
        if (t < s) sh[t] = comb(sh[t], sh[t + s]);
        barrier();
    }
    if (t == 0u) sh_res = comb(sh[0], sh[1]);
#endif
    barrier();
    A r = sh_res;
    barrier(); // sh and sh_res are reused by the next output
    return r;
}

void row_mode(RGeom g) {
    uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint total = pc.n_out * pc.P, step = gl_NumWorkGroups.x * gl_NumWorkGroups.y;
    uint rin = uint(g.rs[g.nr - 1]), rxi = uint(g.rx[g.nr - 1]);
    for (uint gi = group_linear(); gi < total; gi += step) {
        uint o = gi / pc.P, p = gi - o * pc.P;
        uint xo, dof;
        out_offsets(g, o, xo, dof);
        uint lo = p * pc.chunk, hi = min(lo + pc.chunk, pc.n_red);
        A a = IDENT;
        if (g.nr == 1)
            for (uint r = lo + t; r < hi; r += wg) a = comb(a, load(xo + r * rxi, r));
        else
            for (uint r = lo + t; r < hi; r += wg) a = comb(a, load(xo + red_offset(g, r), r));
        a = group_reduce(a);
        if (t == 0u) store(gi, dof, a);
    }
}

void col_mode(RGeom g) {
    uint total = pc.n_out * pc.P, step = grid_threads();
    uint rin = uint(g.rs[g.nr - 1]), rxi = uint(g.rx[g.nr - 1]);
    for (uint i = global_linear(); i < total; i += step) {
        uint p = i / pc.n_out, o = i - p * pc.n_out;
        uint xo, dof;
        out_offsets(g, o, xo, dof);
        uint lo = p * pc.chunk, hi = min(lo + pc.chunk, pc.n_red);
        A a = IDENT;
        for (uint r = lo; r < hi;) { // one run of the innermost reduced dim at a time
            uint q = r / rin, c = r - q * rin;
            uint base = xo + red_offset(g, q * rin), n = min(rin - c, hi - r);
            for (uint j = 0u; j < n; j++) a = comb(a, load(base + (c + j) * rxi, r + j));
            r += n;
        }
        store(p * pc.n_out + o, dof, a);
    }
}

void main() {
    RGeom g = RGeom(pc.geom);
    if (COL == 1) col_mode(g);
    else row_mode(g);
}
