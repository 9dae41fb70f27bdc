// rm_index.comp — index_select / gather (GATHER) and scatter / scatter-add (SCATTER).
//
// GATHER: one invocation per dst element over a 3-operand Geom (0 dst, 1 index seen with
// dst's shape, 2 x seen with dst's shape and stride 0 along dim): dst = x[off + v * xd]
// with v the index element (index_select: the 1-D index broadcast along every other dim).
// Elements move as raw bits (E32 / E64).
// SCATTER: one invocation per slice position (Geom of the index, src and dst slices with
// dim dropped: 0 index, 1 src, 2 dst); it walks the nj index elements along dim in order,
// so duplicates resolve like the CPU (later writes win; additions in index order) and no
// two invocations touch the same dst element: deterministic, no atomics.
// Spec constants: 0 workgroup size; 1 ADD (scatter: 1 adds, 0 assigns).
#version 460
#include "common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ADD = 0;

layout(push_constant) uniform PC {
    uint64_t dst, x, idx, geom;
    uint n, nj, xd;     // elements (slices); index length along dim; x/dst stride along dim
    uint is_d, ss_d, pad;
} pc;

#if defined(IDX64)
int load_idx(uint off) { return int(I64Buf(pc.idx).v[off]); }
#else
int load_idx(uint off) { return I32Buf(pc.idx).v[off]; }
#endif

uint off_of(Geom g, int op, uint i) { return pc.geom == 0 ? i : geom_offset(g, op, i); }

void main() {
    Geom g = Geom(pc.geom);
    uint step = grid_threads();
#ifdef GATHER
#if defined(E64)
    U64Buf D = U64Buf(pc.dst), X = U64Buf(pc.x);
#else
    U32Buf D = U32Buf(pc.dst), X = U32Buf(pc.x);
#endif
    for (uint i = global_linear(); i < pc.n; i += step) {
        int v = load_idx(off_of(g, 1, i));
        D.v[off_of(g, 0, i)] = X.v[off_of(g, 2, i) + uint(v) * pc.xd];
    }
#else
    // One slice position per invocation, no grid-stride loop: Mesa 22 lavapipe repeats
    // this loop's read-modify-writes once per lower lane inside a grid-stride loop.
    TBuf D = TBuf(pc.dst), S = TBuf(pc.x);
    uint i = global_linear();
    if (i < pc.n) {
        uint oi = off_of(g, 0, i), os = off_of(g, 1, i), od = off_of(g, 2, i);
        for (uint j = 0u; j < pc.nj; j++) {
            uint at = od + uint(load_idx(oi + j * pc.is_d)) * pc.xd;
            T s = S.v[os + j * pc.ss_d];
            if (ADD == 1) s += D.v[at];
            D.v[at] = s;
        }
    }
#endif
}
