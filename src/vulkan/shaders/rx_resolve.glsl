// rx_resolve.glsl — a row gathered at level pc.level finishes its radix select over the
// gathered elements (levels pc.level+1 ...) in one workgroup: every digit of each
// target's score, and its occurrence index. Sets F_DONE. With pc.out0 != 0 it then adds
// the gathered elements' (strict, ==A, ==B) to the tile counts rx_gather began (summed
// per tile in shared memory first where the row has at most RES_TILES tiles: one global
// atomic per tile and class instead of one per element), and sets F_COUNTED. With
// OPT_ROFF such a row's counts are complete here (rx_gather's strict counts came in an
// earlier dispatch, or in RES_STRICT), so the workgroup adds them to the global ones and
// writes the row's exclusive prefix offsets itself (F_OFFSETS: rx_offsets skips it); a
// row counted with global atomics sets GATE_OFFS instead.
// Used by rx_resolve.comp and by rx_gather.comp's RX_GRES form right after its gather.
// Needs rx_common.glsl, rx_scan.glsl and rx_radix.glsl first, and from the includer:
// RES_KBUF / RES_UBUF, the buffer types the gathered scores / columns are read through
// (coherent where this workgroup has just written them), and RES_STRICT(i): this
// workgroup's strict count of tile i not yet in the global tile counts (0u if none).

const uint RES_TILES = 512u;  // rows of at most this many compaction tiles count in shared memory
shared uint tcnt[3u * RES_TILES];

// Adds an element of class e (strict, ==A, ==B) to tile `tile`'s counts: in shared
// memory (local) or the row's global tile counts.
void count_tile(uint row, uvec3 e, uint tile, bool local) {
    if (local) {
        if (e.x != 0u) atomicAdd(tcnt[3u * tile], 1u);
        if (e.y != 0u) atomicAdd(tcnt[3u * tile + 1u], 1u);
        if (e.z != 0u) atomicAdd(tcnt[3u * tile + 2u], 1u);
        return;
    }
    U32Buf tc = U32Buf(pc.out0 + (uint64_t(row) * pc.ntiles + tile) * 16ul);
    if (e.x != 0u) atomicAdd(tc.v[0], 1u);
    if (e.y != 0u) atomicAdd(tc.v[1], 1u);
    if (e.z != 0u) atomicAdd(tc.v[2], 1u);
}

// Every thread (uniform), with the row's state in shared memory (state_load: F_GATHER,
// s_gcount elements at gk / gc); stores the state at the end.
void resolve_row(uint row, RES_KBUF gk, RES_UBUF gc) {
    uint t = gl_LocalInvocationID.x;
    const uint WG = gl_WorkGroupSize.x;
    uint cnt = s_gcount;
    for (uint L = pc.level + 1u; L < NLEV && geo_bits(s_wsh, L) != 0u; L++) {
        hist_clear();
        barrier();
        KT pm = mask_from(geo_hi(s_wsh, L));
        bool two = two_hists();
        KT p0 = s_pre[first_slot()], p1 = s_pre[1];
        // 8 loads in flight per thread (one at a time left this latency-bound)
        uint i = t;
        for (; i + 7u * WG < cnt; i += 8u * WG) {
            KT v[8];
            [[unroll]] for (uint q = 0u; q < 8u; q++) v[q] = gk.v[i + q * WG];
            [[unroll]] for (uint q = 0u; q < 8u; q++) hist_add(v[q], pm, p0, p1, two, L);
        }
        for (; i < cnt; i += WG) hist_add(gk.v[i], pm, p0, p1, two, L);
        barrier();
        pick(L);
    }
    bool offs = false; // the row's prefix offsets written here (OPT_ROFF)
    if (pc.out0 != 0ul) { // the gathered elements' share of the tile counts
        Thr th = state_thr();
        bool local = pc.ntiles <= RES_TILES; // counts gathered in shared memory first
        if (local) {
            for (uint i = t; i < 3u * pc.ntiles; i += WG) tcnt[i] = i % 3u == 0u ? RES_STRICT(i / 3u) : 0u;
            barrier();
        }
        for (uint i0 = t; i0 < cnt; i0 += 4u * WG) {
            KT kv[4];
            uint cv[4];
            [[unroll]] for (uint q = 0u; q < 4u; q++) // 4 elements' loads in flight
                if (i0 + q * WG < cnt) {
                    kv[q] = gk.v[i0 + q * WG];
                    cv[q] = gc.v[i0 + q * WG];
                }
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                if (i0 + q * WG < cnt) count_tile(row, classify(th, kv[q]), cv[q] / pc.tile, local);
        }
        if (local && (pc.opts & OPT_ROFF) != 0u) {
            barrier();
            U4Buf B = U4Buf(pc.out0 + uint64_t(row) * pc.ntiles * 16ul);
            uvec3 carry = uvec3(0u);
            for (uint b = 0u; b < pc.ntiles; b += WG) { // workgroup-uniform
                uint i = b + t;
                uvec3 v = uvec3(0u);
                if (i < pc.ntiles) v = B.v[i].xyz + uvec3(tcnt[3u * i], tcnt[3u * i + 1u], tcnt[3u * i + 2u]);
                uvec3 tot;
                uvec3 ex = scan_u3(v, tot);
                if (i < pc.ntiles) B.v[i] = uvec4(carry + ex, 0u);
                carry += tot;
            }
            offs = true;
        } else if (local) {
            barrier();
            for (uint i = t; i < 3u * pc.ntiles; i += WG) {
                uint v = tcnt[i];
                if (v != 0u) atomicAdd(U32Buf(pc.out0 + (uint64_t(row) * pc.ntiles + i / 3u) * 16ul).v[i % 3u], v);
            }
        }
        if (!offs && t == 0u && pc.gate != 0ul) U32Buf(pc.gate).v[GATE_OFFS] = 1u;
    }
    if (t == 0u) {
        s_flags = F_DONE | (pc.out0 != 0ul ? F_COUNTED : 0u) | (offs ? F_OFFSETS : 0u);
        state_store(row);
    }
}
