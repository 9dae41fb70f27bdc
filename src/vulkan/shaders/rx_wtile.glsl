// rx_wtile.glsl — the ordered compaction of one tile by one subgroup (32-bit inputs,
// subgroup variants): rx_write's two-pass form (the includer defines STG_* and TILE_BASE).
// Needs rx_common.glsl and the subgroup extensions first.
#if !defined(T_I64) && defined(RX_SG)
// Two-pass form (SEQ = 0), 32-bit inputs, subgroup variant: a tile (pc.tile columns, a
// power of two >= 4 * S) belongs to one subgroup, a workgroup takes pc.chunk consecutive
// tiles of a row (its subgroups round-robin). The tile's starting counts come from
// rx_offsets, so the subgroup writes while it reads: no counting pass, no workgroup
// barrier. Lane l holds columns 4l..4l+3 of each 4*S-column step (one 16-byte load where
// the row is aligned; 4 steps' loads in flight); a step without ties places its strict
// elements from one ballot per element slot, a step with ties by a subgroup exclusive
// scan of the packed (strict, ==A, ==B) counts.
// Staging: a step's selected elements take the consecutive slots [taken_of(base),
// taken_of(base + step counts)), so each lane puts (value bits | score, column) of its
// selected ones into the subgroup's part of stg at slot - first, and after a subgroup
// barrier lane j writes entries j, j+S, ...: coalesced stores instead of 4 scattered
// ones a lane (on the H100 the scattered form made rx_write 274 -> 377 us). stg holds
// 4*WG entries (8 bytes: 8 KiB at WG 256, 16 KiB at 512), 2*WG at WG 1024 (16 KiB,
// lavapipe has 32 KiB in all): C = 4*S or 2*S a subgroup, a step goes out in rounds of
// C slots.
// The including shader defines the staging store: STG_LEN entries (uvec2), STG_SET(j, v),
// STG_GET(j); and TILE_BASE(row, i), the starting counts (uvec3) of tile i of the row.

// Columns i..i+3 of the row at `ra` (those >= s1: 0, not valid).
uvec4 load4(uint64_t ra, uint i, uint s1, bool v4, out bvec4 ok) {
    if (v4 && i + 4u <= s1) {
        ok = bvec4(true);
        return RawV4(ra + uint64_t(i) * 4ul).v[0];
    }
    uvec4 x = uvec4(0u);
    [[unroll]] for (uint l = 0u; l < 4u; l++) {
        ok[l] = i + l < s1;
        if (ok[l]) x[l] = U32Buf(ra).v[i + l];
    }
    return x;
}

// WT_W8 (the includer's, default off): a step is 8*S columns, this lane's x at i and y at
// i + 4*S, with one staging round for both halves (half the rounds, barriers and window
// checks of 4*S-column steps).
#ifndef WT_W8
#define WT_W8 false
#endif

// A tie-free 4*S-column piece (e: this lane's four elements, 1 = strict, else 0): their
// slots from the first free slot p (~0u: not selected) and the piece's count `tot`.
uvec4 ballot_slots(uvec4 e, uint p, out uint tot) {
    uvec4 b0 = subgroupBallot(e.x != 0u), b1 = subgroupBallot(e.y != 0u);
    uvec4 b2 = subgroupBallot(e.z != 0u), b3 = subgroupBallot(e.w != 0u);
    p += subgroupBallotExclusiveBitCount(b0) + subgroupBallotExclusiveBitCount(b1) +
         subgroupBallotExclusiveBitCount(b2) + subgroupBallotExclusiveBitCount(b3);
    tot = subgroupBallotBitCount(b0) + subgroupBallotBitCount(b1) + subgroupBallotBitCount(b2) +
          subgroupBallotBitCount(b3);
    uvec4 ps;
    [[unroll]] for (uint l = 0u; l < 4u; l++) {
        ps[l] = e[l] != 0u ? p : 0xFFFFFFFFu;
        p += e[l];
    }
    return ps;
}

// A 4*S-column piece with ties (e: this lane's four packed (strict, ==A, ==B), loc their
// sum): their slots by one subgroup scan from the counts `base` before the piece, which
// it advances past the piece.
uvec4 scan_slots(Thr th, uvec4 e, uint loc, inout uvec3 base) {
    uint ex = subgroupExclusiveAdd(loc), tot = subgroupAdd(loc);
    uvec3 u = base + unpack3(ex);
    base += unpack3(tot);
    uvec4 ps;
    [[unroll]] for (uint l = 0u; l < 4u; l++) {
        uvec3 el = unpack3(e[l]);
        uint p = taken_of(th, u), q = taken_of(th, u + el);
        u += el;
        ps[l] = q == p ? 0xFFFFFFFFu : p;
    }
    return ps;
}

// One step (columns b .. b + 4*S - 1, this lane's four at i = b + 4*lane in x/ok; with
// WT_W8 also b + 4*S .. b + 8*S - 1, this lane's at i + 4*S in y/oky) from the counts
// `base` of the elements before it; returns false once the window is full.
bool write_step(Thr th, uint64_t obase, uint so, uint C, uint i, uvec4 x, bvec4 ok, uvec4 y, bvec4 oky,
                inout uvec3 base) {
    uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    bool pairs = (pc.opts & OPT_PAIRS) != 0u;
    uint pf = taken_of(th, base);
    if (pf >= pc.k) return false; // the rest of the tile is past the window
    // (strict, ==A, ==B) packed 10 bits each (a half-step holds <= 4*S <= 1020 of a kind)
    uvec4 e, f = uvec4(0u);
    uint loc = 0u, locy = 0u;
    bool tie = false;
    [[unroll]] for (uint l = 0u; l < 4u; l++) {
        e[l] = ok[l] ? pack3(classify(th, score_bits(x[l]))) : 0u;
        loc += e[l];
        tie = tie || e[l] > 1u;
        if (pairs) x[l] = score_bits(x[l]);
        if (WT_W8) {
            f[l] = oky[l] ? pack3(classify(th, score_bits(y[l]))) : 0u;
            locy += f[l];
            tie = tie || f[l] > 1u;
            if (pairs) y[l] = score_bits(y[l]);
        }
    }
    uvec4 ps, qs = uvec4(0xFFFFFFFFu); // slot of each element of x / y; ~0u: not selected
    uint pe;                            // the step's slots: [pf, pe)
    if (!subgroupAny(tie)) {
        // no ties in the step (the usual case): the ties taken before it stay as they
        // are, every strict element is selected at pf + the strict ones before it,
        // counted from one ballot per element slot (no dependent scan chain)
        uint tot, toty = 0u;
        ps = ballot_slots(e, pf, tot);
        if (WT_W8) qs = ballot_slots(f, pf + tot, toty);
        base.x += tot + toty;
        pe = pf + tot + toty;
    } else {
        // ties: one scan of the packed counts a half-step
        ps = scan_slots(th, e, loc, base);
        if (WT_W8) qs = scan_slots(th, f, locy, base);
        pe = min(taken_of(th, base), pc.k);
    }
    for (uint r = pf; r < pe; r += C) { // subgroup-uniform
        [[unroll]] for (uint l = 0u; l < 4u; l++) {
            if (ps[l] - r < C) STG_SET(so + ps[l] - r, uvec2(x[l], i + l)); // slots >= pe: not written out
            if (WT_W8 && qs[l] - r < C) STG_SET(so + qs[l] - r, uvec2(y[l], i + 4u * S + l));
        }
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        uint m = min(C, pe - r);
        for (uint j = lane; j < m; j += S) {
            uvec2 v = STG_GET(so + j);
            uint64_t o = obase + r + j;
            if (pairs) {
                pair_store(pc.out0, pc.out1, o, v.x, v.y);
            } else {
                U32Buf(pc.out0 + o * 4ul).v[0] = v.x;
                if ((pc.opts & OPT_IDX64) != 0u)
                    I64Buf(pc.out1 + o * 8ul).v[0] = int64_t(v.y);
                else
                    I32Buf(pc.out1 + o * 4ul).v[0] = int(v.y);
            }
        }
        subgroupMemoryBarrierShared();
        subgroupBarrier();
    }
    return true;
}

// The block of columns b .. b + 16*S - 1 (< c1) whose loads this lane holds: x0 at
// b + 4*lane, x1..x3 4*S columns on each. False when the tile ends: past c1 or a full window.
bool write_block(Thr th, uint64_t obase, uint so, uint C, uint b, uint c1, uvec4 x0, uvec4 x1, uvec4 x2, uvec4 x3,
                 bvec4 k0, bvec4 k1, bvec4 k2, bvec4 k3, inout uvec3 base) {
    uint i0 = b + 4u * gl_SubgroupInvocationID, S4 = 4u * gl_SubgroupSize;
    if (WT_W8) { // two steps of 8*S columns
        if (!write_step(th, obase, so, C, i0, x0, k0, x1, k1, base)) return false;
        return b + 2u * S4 < c1 && write_step(th, obase, so, C, i0 + 2u * S4, x2, k2, x3, k3, base);
    }
    bvec4 no = bvec4(false);
    if (!write_step(th, obase, so, C, i0, x0, k0, x0, no, base)) return false;
    if (b + S4 >= c1 || !write_step(th, obase, so, C, i0 + S4, x1, k1, x1, no, base)) return false;
    if (b + 2u * S4 >= c1 || !write_step(th, obase, so, C, i0 + 2u * S4, x2, k2, x2, no, base)) return false;
    if (b + 3u * S4 >= c1 || !write_step(th, obase, so, C, i0 + 3u * S4, x3, k3, x3, no, base)) return false;
    return true;
}

// Tile `tile` of `row` by this subgroup, from its starting counts `base`.
void write_tile(uint row, uint tile, Thr th, uvec3 base) {
    if (taken_of(th, base) >= pc.k) return; // the whole tile is past the window
    uint lane = gl_SubgroupInvocationID, S = gl_SubgroupSize;
    uint c0 = tile * pc.tile, c1 = min(pc.n, c0 + pc.tile);
    uint64_t ra = pc.x + uint64_t(row) * pc.xrs * 4ul;
    bool v4 = ((ra + uint64_t(c0) * 4ul) & 15ul) == 0ul;
    uint64_t obase = uint64_t(row) * pc.k;
    uint C = STG_LEN / gl_NumSubgroups, so = gl_SubgroupID * C; // this subgroup's staging entries
    // four steps' loads in flight; named registers, not an array: a loop that indexes an
    // array by its (non-unrolled) counter puts it in local memory (the H100's driver
    // reported 128 bytes of it a thread for that form)
    for (uint b = c0; b < c1; b += 16u * S) {
        uint i0 = b + 4u * lane, i1 = i0 + 4u * S, i2 = i1 + 4u * S, i3 = i2 + 4u * S;
        bvec4 k0, k1, k2, k3;
        uvec4 x0 = load4(ra, i0, c1, v4, k0), x1 = load4(ra, i1, c1, v4, k1);
        uvec4 x2 = load4(ra, i2, c1, v4, k2), x3 = load4(ra, i3, c1, v4, k3);
        if (!write_block(th, obase, so, C, b, c1, x0, x1, x2, x3, k0, k1, k2, k3, base)) return;
    }
}

// Tiles t0, t0 + nsg, ... (< t1) of `row` by this subgroup. With `pre`, where the tiles are
// one block of 16*S columns of a 16-byte aligned row, the next tile's four loads are
// issued before this one is written: a tile's dependent steps (classify, ballots, staging)
// then overlap them, where tile by tile each tile first waits a whole load latency (on the
// H100, MidK 1024x65536 k=32768: rx_write 288 -> 254 us with 4 tiles a subgroup and
// 8*S-column steps).
void write_tiles(uint row, uint t0, uint t1, Thr th, bool pre) {
    uint S = gl_SubgroupSize, lane = gl_SubgroupInvocationID, ns = gl_NumSubgroups;
    uint64_t ra = pc.x + uint64_t(row) * pc.xrs * 4ul;
    pre = pre && pc.tile == 16u * S && (ra & 15ul) == 0ul;
    uint64_t obase = uint64_t(row) * pc.k;
    uint C = STG_LEN / ns, so = gl_SubgroupID * C;
    uvec4 y0 = uvec4(0u), y1 = uvec4(0u), y2 = uvec4(0u), y3 = uvec4(0u); // the next tile's loads
    uint i = t0;
    bool have = pre && i < t1 && (i + 1u) * pc.tile <= pc.n; // tile i is a whole block
    if (have) {
        uint e = i * 4u * S + lane; // 16-byte words
        y0 = RawV4(ra).v[e];
        y1 = RawV4(ra).v[e + S];
        y2 = RawV4(ra).v[e + 2u * S];
        y3 = RawV4(ra).v[e + 3u * S];
    }
    for (; i < t1; i += ns) {
        uvec3 base = TILE_BASE(row, i);
        if (!have) {
            write_tile(row, i, th, base);
            continue;
        }
        uvec4 x0 = y0, x1 = y1, x2 = y2, x3 = y3;
        uint j = i + ns;
        have = j < t1 && (j + 1u) * pc.tile <= pc.n;
        if (have) {
            uint e = j * 4u * S + lane;
            y0 = RawV4(ra).v[e];
            y1 = RawV4(ra).v[e + S];
            y2 = RawV4(ra).v[e + 2u * S];
            y3 = RawV4(ra).v[e + 3u * S];
        }
        if (taken_of(th, base) < pc.k)
            write_block(th, obase, so, C, i * pc.tile, (i + 1u) * pc.tile, x0, x1, x2, x3, bvec4(true), bvec4(true),
                        bvec4(true), bvec4(true), base);
    }
}
#endif
