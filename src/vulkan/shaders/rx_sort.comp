// rx_sort.comp — TopK/BottomK: sorts runs of up to ST (spec 1, a power of two) selected
// (score, column) pairs of a row in shared memory, best first. Groups: rows * nchunk
// (nchunk = ceil(k / ST)); pairs at pc.buf/pc.buf2 ([rows][k]).
// A run of m pairs is padded to P = the next power of two >= max(m, IPT) (padding sorts
// last). Thread t holds elements [t*IPT, (t+1)*IPT) (IPT = spec 2, ST / wg): it sorts
// them in registers (a bitonic network, unrolled), then merge levels double the sorted
// runs from IPT to P, each thread making IPT outputs of a merge (rx_mpath.glsl: a binary
// search of its diagonal, then a sequential merge). log2(P / IPT) levels with two
// barriers each, where a bitonic network over shared memory takes log2(P)(log2(P)+1)/2
// stages.
// OPT_FINAL (k <= ST): writes the outputs; else the sorted run back in place.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ST = 2048u;
layout(constant_id = 2) const uint IPT = 8u; // ST / wg

shared KT sk[ST + ST / 32u];
shared uint sc[ST + ST / 32u];
#include "rx_mpath.glsl"

void main() {
    uint g = group_linear();
    if (g >= pc.rows * pc.nchunk) return;
    uint row = g / pc.nchunk, c = g - row * pc.nchunk;
    if (!row_on(row)) return;
    uint W = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x, j0 = c * ST, m = min(ST, pc.k - j0);
    uint64_t base = uint64_t(row) * pc.k + j0;
    uint P = IPT;
    while (P < m) P <<= 1;
    for (uint i = t; i < P; i += W) {
        sk[sx(i)] = i < m ? pair_key(pc.buf, base + i) : KT(0);
        sc[sx(i)] = i < m ? pair_col(pc.buf2, base + i) : 0xFFFFFFFFu; // padding sorts last
    }
    barrier();
    uint q = t * IPT;
    bool on = q < P;
    if (on) {
        [[unroll]] for (uint it = 0u; it < IPT; it++) {
            rk[it] = sk[sx(q + it)];
            rc[it] = sc[sx(q + it)];
        }
        [[unroll]] for (uint size = 2u; size <= IPT; size <<= 1)
            [[unroll]] for (uint stride = size >> 1; stride > 0u; stride >>= 1)
                [[unroll]] for (uint i = 0u; i < IPT; i++) {
                    uint p = i ^ stride;
                    if (p > i && before(rk[p], rc[p], rk[i], rc[i]) == ((i & size) == 0u)) {
                        KT k0 = rk[i];
                        uint c0 = rc[i];
                        rk[i] = rk[p];
                        rc[i] = rc[p];
                        rk[p] = k0;
                        rc[p] = c0;
                    }
                }
        put_run(q); // only this thread's elements: no barrier before
    }
    barrier();
    for (uint R = IPT; R < P; R <<= 1) {
        if (on) {
            uint a = q & ~(2u * R - 1u); // the merge's first element
            merge_run(a, a + R, a + R, a + 2u * R, q - a);
        }
        barrier();
        if (on) put_run(q);
        barrier();
    }
    bool fin = (pc.opts & OPT_FINAL) != 0u;
    for (uint i = t; i < m; i += W) {
        if (fin)
            emit_score(row, j0 + i, sc[sx(i)], sk[sx(i)]);
        else
            pair_store(pc.buf, pc.buf2, base + i, sk[sx(i)], sc[sx(i)]);
    }
}
