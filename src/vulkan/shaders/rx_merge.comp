// rx_merge.comp — TopK/BottomK: one merge level of sorted runs of pc.chunk pairs (per
// row, pairs at pc.buf/pc.buf2 [rows][k]): run r and run r^1 merge into one. Each
// element finds its slot as its index in its run plus the number of partner-run
// elements ranked before it (binary search; (score, column) composites are unique, so
// no tie rule is needed). Writes to pc.out0/pc.out1, or the outputs (OPT_FINAL).
// Threads: one per element, rows * k of them (linear groups).
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;

void main() {
    uint64_t e = uint64_t(group_linear()) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (e >= uint64_t(pc.rows) * pc.k) return;
    uint row = uint(e / pc.k), j = uint(e - uint64_t(row) * pc.k);
    if (!row_on(row)) return;
    uint L = pc.chunk, r = j / L, base = r * L, pb = (r ^ 1u) * L;
    uint64_t rb = uint64_t(row) * pc.k;
    KT s = pair_key(pc.buf, e);
    uint col = pair_col(pc.buf2, e);
    uint pos = j;
    if (pb < pc.k) {
        uint lo = 0u, hi = min(L, pc.k - pb); // count of partner elements before (s, col)
        while (lo < hi) {
            uint mid = (lo + hi) >> 1;
            if (before(pair_key(pc.buf, rb + pb + mid), pair_col(pc.buf2, rb + pb + mid), s, col))
                lo = mid + 1u;
            else
                hi = mid;
        }
        pos = min(base, pb) + (j - base) + lo;
    }
    if ((pc.opts & OPT_FINAL) != 0u)
        emit(row, pos, col);
    else
        pair_store(pc.out0, pc.out1, rb + pos, s, col);
}
