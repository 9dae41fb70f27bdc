// rm_matmul.comp — register-blocked tiled SGEMM: c[b] = a[b] @ b[b], f32.
//
// a [M,K], b [K,N], c [M,N] per batch (gl_WorkGroupID.z), any row/column strides of
// which one is 1 per operand (spec constants A_T / B_T pick the loader; the host packs
// other layouts first). Tile sizes come from the manifest (-DBM -DBN -DBK -DTM -DTN):
// a workgroup of (BM/TM)*(BN/TN) threads computes a BM x BN tile of c; each thread a
// TM x TN micro-tile whose rows are TM/4 quads spaced BM/(TM/4) apart (likewise the
// columns), so its shared-memory reads are vec4 and conflict-free. K advances BK at a
// time through two shared buffers: the next tile is fetched into registers while the
// current one is multiplied, then stored into the other buffer (one barrier per step).
// Edges (M, N, K not multiples of the tile) load zeros and skip stores.
#version 460
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint A_T = 0; // 0: a's k stride is 1; 1: a's m stride is 1
layout(constant_id = 2) const uint B_T = 0; // 0: b's n stride is 1; 1: b's k stride is 1

layout(push_constant) uniform PC {
    uint64_t a, b, c;
    uint M, N, K, pad0;
    uint sam, sak, sbk, sbn, scm, scn;
    uint sab, sbb, scb; // batch strides (may be 0)
} pc;

#define NT ((BM / TM) * (BN / TN))
#define LA (BM * BK / NT) // a elements each thread loads per step
#define LB (BN * BK / NT)
#define AW (BM / 4 + 1)   // vec4s per shared row of a (padded)
#define BW (BN / 4 + 1)
shared vec4 As[2 * BK * AW];
shared vec4 Bs[2 * BK * BW];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint bz = gl_WorkGroupID.z;
    F32Buf A = F32Buf(pc.a + uint64_t(bz) * uint64_t(pc.sab) * 4ul);
    F32Buf B = F32Buf(pc.b + uint64_t(bz) * uint64_t(pc.sbb) * 4ul);
    F32Buf C = F32Buf(pc.c + uint64_t(bz) * uint64_t(pc.scb) * 4ul);
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    uint M = pc.M, N = pc.N, K = pc.K;
    uint tx = t % (BN / TN), ty = t / (BN / TN);

    // Loader coordinates of this thread's elements within a tile (fixed per thread).
    uint am[LA], ak[LA], bk[LB], bn[LB];
    [[unroll]] for (uint i = 0; i < LA; i++) {
        uint e = t + i * NT;
        if (A_T == 0) { ak[i] = e % BK; am[i] = e / BK; }
        else { am[i] = e % BM; ak[i] = e / BM; }
    }
    [[unroll]] for (uint i = 0; i < LB; i++) {
        uint e = t + i * NT;
        if (B_T == 0) { bn[i] = e % BN; bk[i] = e / BN; }
        else { bk[i] = e % BK; bn[i] = e / BK; }
    }
    float ra[LA], rb[LB];
    vec4 acc[TM][TN / 4];
    [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN / 4; j++) acc[i][j] = vec4(0.0);

    uint ntiles = (K + BK - 1) / BK;
    // fetch tile 0
    [[unroll]] for (uint i = 0; i < LA; i++) {
        uint m = m0 + am[i], k = ak[i];
        ra[i] = (m < M && k < K) ? A.v[m * pc.sam + k * pc.sak] : 0.0;
    }
    [[unroll]] for (uint i = 0; i < LB; i++) {
        uint n = n0 + bn[i], k = bk[i];
        rb[i] = (n < N && k < K) ? B.v[k * pc.sbk + n * pc.sbn] : 0.0;
    }
    [[unroll]] for (uint i = 0; i < LA; i++) As[ak[i] * AW + am[i] / 4][am[i] % 4] = ra[i];
    [[unroll]] for (uint i = 0; i < LB; i++) Bs[bk[i] * BW + bn[i] / 4][bn[i] % 4] = rb[i];
    barrier();

    uint cur = 0;
    for (uint tile = 0; tile < ntiles; tile++) {
        bool more = tile + 1 < ntiles;
        if (more) {
            uint k0 = (tile + 1) * BK;
            [[unroll]] for (uint i = 0; i < LA; i++) {
                uint m = m0 + am[i], k = k0 + ak[i];
                ra[i] = (m < M && k < K) ? A.v[m * pc.sam + k * pc.sak] : 0.0;
            }
            [[unroll]] for (uint i = 0; i < LB; i++) {
                uint n = n0 + bn[i], k = k0 + bk[i];
                rb[i] = (n < N && k < K) ? B.v[k * pc.sbk + n * pc.sbn] : 0.0;
            }
        }
        uint abase = cur * BK * AW, bbase = cur * BK * BW;
        [[unroll]] for (uint k = 0; k < BK; k++) {
            vec4 va[TM / 4], vb[TN / 4];
            [[unroll]] for (uint q = 0; q < TM / 4; q++) va[q] = As[abase + k * AW + q * (BM / TM) + ty];
            [[unroll]] for (uint q = 0; q < TN / 4; q++) vb[q] = Bs[bbase + k * BW + q * (BN / TN) + tx];
            [[unroll]] for (uint i = 0; i < TM; i++) {
                float x = va[i / 4][i % 4];
                [[unroll]] for (uint j = 0; j < TN / 4; j++) acc[i][j] = fma(vec4(x), vb[j], acc[i][j]);
            }
        }
        if (more) {
            uint nb = cur ^ 1u;
            [[unroll]] for (uint i = 0; i < LA; i++) As[nb * BK * AW + ak[i] * AW + am[i] / 4][am[i] % 4] = ra[i];
            [[unroll]] for (uint i = 0; i < LB; i++) Bs[nb * BK * BW + bk[i] * BW + bn[i] / 4][bn[i] % 4] = rb[i];
            cur = nb;
        }
        barrier();
    }

    [[unroll]] for (uint i = 0; i < TM; i++) {
        uint m = m0 + (i / 4) * (BM / (TM / 4)) + ty * 4 + (i % 4);
        if (m >= M) continue;
        [[unroll]] for (uint j = 0; j < TN / 4; j++) {
            uint nb = n0 + j * (BN / (TN / 4)) + tx * 4;
            [[unroll]] for (uint c = 0; c < 4; c++)
                if (nb + c < N) C.v[m * pc.scm + (nb + c) * pc.scn] = acc[i][j][c];
        }
    }
}
