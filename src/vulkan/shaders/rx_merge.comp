// rx_merge.comp — TopK/BottomK: one merge level of sorted runs of L = pc.chunk pairs
// (per row, pairs at pc.buf/pc.buf2 [rows][k], best first): run 2r and run 2r+1 merge
// into one run of 2L. Writes to pc.out0/pc.out1, or the outputs (OPT_FINAL).
// Merge path: a workgroup makes TM = wg * IPT consecutive outputs of a row (TM divides
// L: both are powers of two, TM <= 2048 <= L, so a tile never spans two merges).
// 1. The tile's two ends are points on the merge path; each is found by a search of
//    its diagonal in global memory, wg/2 probes a round (a k-ary search: log_{wg/2} L
//    rounds, one load latency each, where a binary search per element pays log2 L).
// 2. The tile's inputs (na pairs of run A, nb of run B, na + nb = TM) are loaded into
//    shared memory, coalesced.
// 3. Each thread finds its own diagonal (thread t: outputs t*IPT ..) by a binary search in
//    shared memory and merges IPT outputs sequentially into registers (rx_mpath.glsl).
// 4. The results go back through shared memory and out, coalesced.
// (score, column) composites are unique, so no tie rule is needed: before() is total.
// Groups: rows * ceil(k / TM).
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint IPT = 8u;    // outputs a thread merges
layout(constant_id = 2) const uint TM = 2048u;  // outputs a workgroup makes: wg * IPT

shared KT sk[TM + TM / 32u];
shared uint sc[TM + TM / 32u];
shared uint s_lo[2], s_hi[2], s_cnt[2];
#include "rx_mpath.glsl"

void main() {
    uint W = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
    uint tpr = (pc.k + TM - 1u) / TM; // tiles a row
    uint g = group_linear();
    if (g >= pc.rows * tpr) return;
    uint row = g / tpr, p0 = (g - row * tpr) * TM, p1 = min(p0 + TM, pc.k);
    if (!row_on(row)) return;
    uint L = pc.chunk, pb = p0 - p0 % (2u * L); // the merge's first output
    uint lenA = min(L, pc.k - pb), lenB = pc.k - pb > L ? min(L, pc.k - pb - L) : 0u;
    uint64_t rb = uint64_t(row) * pc.k, ea = rb + pb, eb = rb + pb + L;
    uint d0 = p0 - pb, d1 = p1 - pb, n_t = p1 - p0;

    // 1. The path's points on diagonals d0 (threads [0, W/2)) and d1 (the others): the
    //    number i of A's pairs among the first d outputs is the first i in
    //    [max(0, d - lenB), min(d, lenA)) where A[i] is not before B[d - 1 - i].
    uint H = W / 2u, h = t >= H ? 1u : 0u, lt = t - h * H;
    if (t < 2u) {
        uint d = t == 0u ? d0 : d1;
        s_lo[t] = d > lenB ? d - lenB : 0u;
        s_hi[t] = min(d, lenA);
        s_cnt[t] = 0u;
    }
    barrier();
    uint d = h == 0u ? d0 : d1;
    for (;;) {
        uint lo = s_lo[h], hi = s_hi[h];
        bool done = s_lo[0] == s_hi[0] && s_lo[1] == s_hi[1]; // the same for every thread
        if (done) break;
        uint step = (hi - lo + H - 1u) / H, i = lo + lt * step;
        if (i < hi && // i >= lo, so an empty range probes nothing
            before(pair_key(pc.buf, ea + i), pair_col(pc.buf2, ea + i), pair_key(pc.buf, eb + d - 1u - i),
                   pair_col(pc.buf2, eb + d - 1u - i)))
            atomicAdd(s_cnt[h], 1u);
        barrier();
        if (lt == 0u && hi > lo) { // probes [0, m) held: the point is in (lo + (m-1)step, lo + m step]
            uint m = s_cnt[h];
            s_lo[h] = m > 0u ? lo + (m - 1u) * step + 1u : lo;
            s_hi[h] = min(lo + m * step, hi);
            s_cnt[h] = 0u;
        }
        barrier();
    }
    uint a0 = s_lo[0], a1 = s_lo[1], na = a1 - a0, nb = n_t - na, b0 = d0 - a0;

    // 2. The tile's inputs: A[a0, a1) then B[b0, b0 + nb).
    for (uint i = t; i < n_t; i += W) {
        uint64_t e = i < na ? ea + a0 + i : eb + b0 + (i - na);
        sk[sx(i)] = pair_key(pc.buf, e);
        sc[sx(i)] = pair_col(pc.buf2, e);
    }
    barrier();

    // 3. This thread's outputs [q, q + IPT) of the tile (q + IPT <= TM).
    uint q = t * IPT;
    if (q < n_t) merge_run(0u, na, na, n_t, q);
    barrier();
    if (q < n_t) put_run(q);
    barrier();

    // 4. Out, coalesced.
    bool fin = (pc.opts & OPT_FINAL) != 0u;
    for (uint i = t; i < n_t; i += W) {
        if (fin)
            emit_score(row, p0 + i, sc[sx(i)], sk[sx(i)]);
        else
            pair_store(pc.out0, pc.out1, rb + p0 + i, sk[sx(i)], sc[sx(i)]);
    }
}
