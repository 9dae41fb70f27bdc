// rx_sort.comp — TopK/BottomK: sorts runs of ST (spec 1, a power of two) selected
// (score, column) pairs of a row in shared memory (bitonic), best first. Groups:
// rows * nchunk (nchunk = ceil(k / ST)); pairs at pc.buf/pc.buf2 ([rows][k]).
// OPT_FINAL (k <= ST): writes the outputs; else the sorted run back in place.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ST = 2048u;

shared KT sk[ST];
shared uint sc[ST];

void main() {
    uint g = group_linear();
    if (g >= pc.rows * pc.nchunk) return;
    uint row = g / pc.nchunk, c = g - row * pc.nchunk;
    if (!row_on(row)) return;
    uint t = gl_LocalInvocationID.x, j0 = c * ST, m = min(ST, pc.k - j0);
    uint64_t base = uint64_t(row) * pc.k + j0;
    uint P = 1u; // the bitonic network spans the next power of two >= m
    while (P < m) P <<= 1;
    for (uint i = t; i < P; i += gl_WorkGroupSize.x) {
        sk[i] = i < m ? pair_key(pc.buf, base + i) : KT(0);
        sc[i] = i < m ? pair_col(pc.buf2, base + i) : 0xFFFFFFFFu; // padding sorts last
    }
    barrier();
    for (uint size = 2u; size <= P; size <<= 1) {
        for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
            for (uint i = t; i < P / 2u; i += gl_WorkGroupSize.x) {
                uint lo = 2u * i - (i & (stride - 1u)), hi = lo + stride;
                bool up = (lo & size) == 0u; // this block ends best-first
                KT ka = sk[lo], kb = sk[hi];
                uint ca = sc[lo], cb = sc[hi];
                if (before(kb, cb, ka, ca) == up) {
                    sk[lo] = kb;
                    sk[hi] = ka;
                    sc[lo] = cb;
                    sc[hi] = ca;
                }
            }
            barrier();
        }
    }
    bool fin = (pc.opts & OPT_FINAL) != 0u;
    for (uint i = t; i < m; i += gl_WorkGroupSize.x) {
        if (fin)
            emit(row, j0 + i, sc[i]);
        else
            pair_store(pc.buf, pc.buf2, base + i, sk[i], sc[i]);
    }
}
