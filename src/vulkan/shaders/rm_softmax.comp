// rm_softmax.comp — softmax / log_softmax along one dim (f32), the CPU's formulas:
// m = max (NaN-propagating), s = sum exp(x - m); softmax exp(x - m) * (1 / s),
// log_softmax (x - m) - log(s).
// Geometry: RGeom (rm_reduce.glsl) with one reduced dim (the line: x stride rx[0], dst
// stride rd[0]); kept dims enumerate the lines. Spec constants: 0 workgroup size (a
// power of two), 1 LOG, 2 COL (1: one thread per line; 0: one workgroup per line).
// SG: subgroup arithmetic for the workgroup trees.
#version 460
#include "common.glsl"
#ifdef SG
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint LOG = 0;
layout(constant_id = 2) const uint COL = 0;

layout(push_constant) uniform PC {
    uint64_t x, dst, geom;
    uint n_out, n_red, chunk, P;
    float denom;
} pc;

#include "rm_reduce.glsl"

shared uint shu[256]; // fixed size: see rm_reduce.comp (host: workgroups <= 256)
shared float shf[256];
shared uint resu;
shared float resf;

// Workgroup max of uint keys / sum of floats (every invocation gets the result).
#ifdef SG
uint wg_max(uint a) {
    a = subgroupMax(a);
    if (subgroupElect()) shu[gl_SubgroupID] = a;
    barrier();
    if (gl_SubgroupID == 0u) {
        uint v = 0u;
        for (uint i = gl_SubgroupInvocationID; i < gl_NumSubgroups; i += gl_SubgroupSize) v = max(v, shu[i]);
        v = subgroupMax(v);
        if (subgroupElect()) resu = v;
    }
    barrier();
    uint r = resu;
    barrier();
    return r;
}
float wg_sum(float a) {
    a = subgroupAdd(a);
    if (subgroupElect()) shf[gl_SubgroupID] = a;
    barrier();
    if (gl_SubgroupID == 0u) {
        float v = 0.0;
        for (uint i = gl_SubgroupInvocationID; i < gl_NumSubgroups; i += gl_SubgroupSize) v += shf[i];
        v = subgroupAdd(v);
        if (subgroupElect()) resf = v;
    }
    barrier();
    float r = resf;
    barrier();
    return r;
}
#else
uint wg_max(uint a) {
    uint t = gl_LocalInvocationID.x;
    shu[t] = a;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (t < s) shu[t] = max(shu[t], shu[t + s]);
        barrier();
    }
    uint r = shu[0];
    barrier();
    return r;
}
float wg_sum(float a) {
    uint t = gl_LocalInvocationID.x;
    shf[t] = a;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (t < s) shf[t] += shf[t + s];
        barrier();
    }
    float r = shf[0];
    barrier();
    return r;
}
#endif

void write_line(F32Buf X, F32Buf D, uint xo, uint dof, uint xs, uint ds, uint n, uint first, uint step, float m,
                float s) {
    if (LOG == 1) {
        float lse = log(s);
        for (uint r = first; r < n; r += step) D.v[dof + r * ds] = (X.v[xo + r * xs] - m) - lse;
    } else {
        float inv = 1.0 / s;
        for (uint r = first; r < n; r += step) D.v[dof + r * ds] = exp(X.v[xo + r * xs] - m) * inv;
    }
}

void main() {
    RGeom g = RGeom(pc.geom);
    F32Buf X = F32Buf(pc.x), D = F32Buf(pc.dst);
    uint n = pc.n_red, xs = uint(g.rx[0]), ds = uint(g.rd[0]);
    if (COL == 1) {
        for (uint o = global_linear(); o < pc.n_out; o += grid_threads()) {
            uint xo, dof;
            out_offsets(g, o, xo, dof);
            uint k = 0u;
            for (uint r = 0u; r < n; r++) k = max(k, key_max(X.v[xo + r * xs]));
            float m = key_decode(k, true), s = 0.0;
            for (uint r = 0u; r < n; r++) s += exp(X.v[xo + r * xs] - m);
            write_line(X, D, xo, dof, xs, ds, n, 0u, 1u, m, s);
        }
        return;
    }
    uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint step = gl_NumWorkGroups.x * gl_NumWorkGroups.y;
    for (uint o = group_linear(); o < pc.n_out; o += step) {
        uint xo, dof;
        out_offsets(g, o, xo, dof);
        uint k = 0u;
        for (uint r = t; r < n; r += wg) k = max(k, key_max(X.v[xo + r * xs]));
        float m = key_decode(wg_max(k), true), s = 0.0;
        for (uint r = t; r < n; r += wg) s += exp(X.v[xo + r * xs] - m);
        s = wg_sum(s);
        write_line(X, D, xo, dof, xs, ds, n, t, wg, m, s);
    }
}
