// rm_reduce.glsl — geometry and group-reduction helpers of the reduction kernels
// (rm_reduce.comp, rm_softmax.comp). Include after common.glsl and after defining the
// accumulator type A, its identity IDENT and comb(A, A).
//
// RGeom (vk_reduce.c: rgeom): an output o runs over the kept dims ks (row-major), with x
// offset sum(i_d * kx_d) and dst offset sum(i_d * kd_d); reduced element r runs over the
// reduced dims rs (row-major) with x offset sum(j_d * rx_d) (dst offset rd_d: softmax).
layout(buffer_reference, std430, buffer_reference_align = 8) readonly buffer RGeom {
    int nk;
    int nr;
    int pad0;
    int pad1;
    int64_t ks[ST_MAX_DIMS];
    int64_t kx[ST_MAX_DIMS];
    int64_t kd[ST_MAX_DIMS];
    int64_t rs[ST_MAX_DIMS];
    int64_t rx[ST_MAX_DIMS];
    int64_t rd[ST_MAX_DIMS];
};

// x and dst offsets of output o.
void out_offsets(RGeom g, uint o, out uint xo, out uint dof) {
    xo = 0u;
    dof = 0u;
    for (int d = g.nk - 1; d >= 0; d--) {
        uint s = uint(g.ks[d]);
        uint q = o / s, i = o - q * s;
        xo += i * uint(g.kx[d]);
        dof += i * uint(g.kd[d]);
        o = q;
    }
}

// x offset of reduced element r.
uint red_offset(RGeom g, uint r) {
    uint off = 0u;
    for (int d = g.nr - 1; d >= 0; d--) {
        uint s = uint(g.rs[d]);
        uint q = r / s;
        off += (r - q * s) * uint(g.rx[d]);
        r = q;
    }
    return off;
}

// Total-order keys of floats for max/min: a larger key is a larger value; -0 == +0.
// Max keys put NaN on top, min keys at the bottom, so NaN always wins like the CPU's
// NaN-sticking max/min.
uint key_max(float f) { return float_key(f); }
uint key_min(float f) { return isnan(f) ? 0u : float_key(f); }
float key_decode(uint k, bool is_max) {
    if (is_max ? k == 0xFFFFFFFFu : k == 0u) return uintBitsToFloat(0x7FC00000u);
    return (k & 0x80000000u) != 0u ? uintBitsToFloat(k & 0x7FFFFFFFu) : uintBitsToFloat(~k);
}
