// rk_sgsel.comp — TopK/BottomK of short rows by one subgroup per row (vk_rankk.c, algo
// = 2): no shared memory and no barriers. Each lane holds E elements of the row in
// registers (16-byte loads: lane l holds columns (j*S + l)*4 .. +3 for j < E/4, S the
// subgroup size; scalar loads when rows are not 16-byte aligned), so a row has at most
// S*E columns. k rounds pick the best remaining element of the row: each lane's best
// (largest key, then lowest column), the subgroup's largest key (subgroupMax), the
// lowest column among the lanes holding it (subgroupMin); the lane that holds it writes
// the value (bits re-read from x) and index of rank r and drops it. Exact: the order is
// (key descending, column ascending) of SPEC §3, ties included.
#version 460
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint E = 8u;     // elements per lane (4, 8, 16 or 32)
layout(constant_id = 2) const uint MODE = 0u;  // RK_* bits of vk_rankk.c: IDX64 2, BOTTOM 4, VEC4 8
const bool IDX64 = (MODE & 2u) != 0u;
const bool BOTTOM = (MODE & 4u) != 0u;
const bool VEC4 = (MODE & 8u) != 0u;

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer U32x4Buf { uvec4 v[]; };

layout(push_constant) uniform PC {
    uint64_t src;  // x
    uint64_t dst;  // values [rows][k]
    uint64_t oidx; // indices [rows][k]
    uint rs;       // row stride of x (elements)
    uint n;        // columns (<= S*E)
    uint k;        // 1..n
    uint rows;
} pc;

uint key_of(uint bits) {
#ifdef IN_F32
    uint kf = float_key(uintBitsToFloat(bits));
#else
    uint kf = bits ^ 0x80000000u;
#endif
    return BOTTOM ? ~kf : kf;
}

void main() {
    uint row = group_linear() * gl_NumSubgroups + gl_SubgroupID;
    if (row >= pc.rows) return; // the whole subgroup: nothing below waits for others
    uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    uint rowoff = row * pc.rs;
    uint key[E];
    uint live = 0u; // bit j: element j is in the row and not yet taken
    for (uint j4 = 0u; j4 < E / 4u; j4++) {
        uint c = (j4 * S + lane) * 4u;
        uvec4 x = uvec4(0u);
        if (VEC4 && c + 4u <= pc.n) {
            x = U32x4Buf(pc.src).v[(rowoff + c) >> 2];
            live |= 15u << (4u * j4);
        } else {
            for (uint q = 0u; q < 4u; q++)
                if (c + q < pc.n) {
                    x[q] = U32Buf(pc.src).v[rowoff + c + q];
                    live |= 1u << (4u * j4 + q);
                }
        }
        for (uint q = 0u; q < 4u; q++) key[4u * j4 + q] = key_of(x[q]);
    }
    // this lane's best: columns grow with j, so the first largest key has the lowest column
    uint bk = 0u, bj = E;
    for (uint j = 0u; j < E; j++)
        if ((live & (1u << j)) != 0u && (bj == E || key[j] > bk)) bk = key[j], bj = j;
    uint ob = row * pc.k;
    for (uint r = 0u; r < pc.k; r++) {
        bool has = bj < E;
        uint K = subgroupMax(has ? bk : 0u);
        uint mycol = has ? ((bj >> 2) * S + lane) * 4u + (bj & 3u) : 0xFFFFFFFFu;
        uint C = subgroupMin(has && bk == K ? mycol : 0xFFFFFFFFu);
        if (has && bk == K && mycol == C) {
            U32Buf(pc.dst).v[ob + r] = U32Buf(pc.src).v[rowoff + C];
            if (IDX64)
                I64Buf(pc.oidx).v[ob + r] = int64_t(C);
            else
                I32Buf(pc.oidx).v[ob + r] = int(C);
            live &= ~(1u << bj);
            bk = 0u;
            bj = E;
            for (uint j = 0u; j < E; j++)
                if ((live & (1u << j)) != 0u && (bj == E || key[j] > bk)) bk = key[j], bj = j;
        }
    }
}
