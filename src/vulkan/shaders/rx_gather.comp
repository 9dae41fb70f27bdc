// rx_gather.comp — after the pick of level pc.level, rows flagged F_GATHER (their target
// buckets hold <= cap elements in all) copy those elements' (score, column) into their
// slice of the gather buffer (pc.buf scores, pc.buf2 columns; row r at r*cap), in no
// particular order; RowState.gcount counts them (a shared counter when one workgroup
// owns the row: no global atomic per subgroup step). Groups: rows * nchunk.
// With pc.out0 != 0 (two-pass compaction ahead) it also adds, per compaction tile of
// pc.tile columns, the elements that are strictly inside the window already by their
// prefix (between the two buckets) to the tile counts (u32 x4 [rows][ntiles]): with
// rx_resolve's counts of the gathered elements, rx_count can skip the row.
// RX_GRES (subgroup variants, one workgroup a row): the workgroup then resolves the row
// itself (rx_resolve.glsl resolve_row) from what it gathered, with its strict tile counts
// still in shared memory: no rx_resolve dispatch, and one row's serial resolve overlaps
// the other workgroups' reads.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
// GPRE (spec 1): the 16-byte block loop keeps the next block's loads in flight while it
// classifies one (ST_VULKAN_RANKK_GPRE)
layout(constant_id = 1) const uint GPRE = 0u;
#ifdef RX_SG
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_vote : require
#endif

shared KT g_pre[2];
shared uint g_on, g_sum, g_wsh;
shared uint g_cnt; // one workgroup per row (nchunk == 1): the row's count, kept here

#ifdef RX_GRES
// the gather buffer is read back by this workgroup: coherent
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer GU32Buf { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) coherent buffer GU64Buf { uint64_t v[]; };
#ifdef T_I64
#define GKBuf GU64Buf
#else
#define GKBuf GU32Buf
#endif
#define GCBuf GU32Buf
#else
#define GKBuf KBuf
#define GCBuf U32Buf
#endif

// Prefix sq lies strictly between the two target buckets (MidK) or above the one: the
// element is selected whatever the later digits say.
bool strictly_in(KT sq, KT p0, KT p1, bool mid) { return mid ? (sq < p0 && sq > p1) : sq > p1; }

#ifdef RX_SG
const uint GT_MAX = 512u; // rows of at most this many tiles count in shared memory first
shared uint g_tc[GT_MAX];

// Adds this lane's strict count st (of columns in tile ti) to the tile counts: a subgroup's
// columns span at most two tiles (tf and tf + 1), one subgroup sum carries both, 16 bits
// each (a piece holds at most 4 * S of them).
void count_strict(uint row, uint ti, uint st, bool local) {
    uint tf = subgroupBroadcastFirst(ti);
    uint v = subgroupAdd(ti == tf ? st : st << 16u);
    if (!subgroupElect()) return;
    for (uint h = 0u; h < 2u; h++) {
        uint n = h == 0u ? v & 0xFFFFu : v >> 16u;
        if (n == 0u) continue;
        if (local)
            atomicAdd(g_tc[tf + h], n);
        else
            atomicAdd(U32Buf(pc.out0 + (uint64_t(row) * pc.ntiles + tf + h) * 16ul).v[0], n);
    }
}

// The first of this lane's np slots in the row's gather buffer: one subgroup scan and one
// atomic (on the shared counter when the workgroup owns the row).
uint take_slots(uint np, bool own, uint row) {
    uint off = subgroupExclusiveAdd(np), tot = subgroupAdd(np), base = 0u;
    if (subgroupElect()) base = own ? atomicAdd(g_cnt, tot) : atomicAdd(States(pc.st).r[row].gcount, tot);
    return subgroupBroadcastFirst(base) + off;
}
#endif

#ifdef RX_GRES
#include "rx_scan.glsl"
#include "rx_radix.glsl"
#define RES_KBUF GKBuf
#define RES_UBUF GCBuf
#define RES_STRICT(i) g_tc[i] // called only where the gather counted in g_tc (local)
#include "rx_resolve.glsl"
#endif

void main() {
    uint g = group_linear();
    if (g >= pc.rows * pc.nchunk) return;
    uint row = g / pc.nchunk, c = g - row * pc.nchunk;
    if (!row_on(row)) return;
    States S = States(pc.st);
    uint t = gl_LocalInvocationID.x;
    if (t == 0u) {
        g_on = S.r[row].flags & F_GATHER;
        g_pre[0] = KT(S.r[row].pre[(pc.opts & OPT_MID) != 0u ? 0u : 1u]);
        g_pre[1] = KT(S.r[row].pre[1]);
        g_wsh = S.r[row].wsh;
        g_sum = 0u;
        g_cnt = 0u;
    }
    barrier();
    if (g_on == 0u) return;
    bool own = pc.nchunk == 1u; // no other workgroup appends to this row: shared counter
    KT pm = mask_from(geo_shift(g_wsh, pc.level)), p0 = g_pre[0], p1 = g_pre[1];
    bool mid = (pc.opts & OPT_MID) != 0u;
    TBuf xb = row_x(row);
    GKBuf gk = GKBuf(pc.buf + uint64_t(row) * pc.cap * (KW / 8u));
    GCBuf gc = GCBuf(pc.buf2 + uint64_t(row) * pc.cap * 4u);
    uint c0 = c * pc.chunk, c1 = min(pc.n, c0 + pc.chunk);
    bool counting = pc.out0 != 0ul;
    const uint WG = gl_WorkGroupSize.x;
#ifdef RX_SG
    // The whole chunk in one sweep; the strict counts go to their tiles per subgroup piece
    // (count_strict: pc.tile is a power of two >= 4 * S here, chunks start on a tile).
    bool local = counting && own && pc.ntiles <= GT_MAX; // tile counts in shared memory first
    if (local) {
        for (uint i = t; i < pc.ntiles; i += WG) g_tc[i] = 0u;
        barrier();
    }
    uint ts = findLSB(pc.tile);
    uint from = c0;
#if !defined(T_I64)
    // 32-bit elements of a 16-byte aligned range: 4 16-byte loads a lane (16 columns) in
    // flight, one scan for all
    uint64_t ra = pc.x + uint64_t(row) * pc.xrs * 4ul + uint64_t(c0) * 4ul;
    if ((ra & 15ul) == 0ul) {
        uint nblk = (c1 - c0) / (16u * WG);
        // a block: each subgroup takes 16 * S consecutive columns (4 coalesced 16-byte
        // loads a lane); where a tile holds them all (pc.tile >= 16 * S), one strict
        // count for the block instead of one a load
        uint S = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
        bool whole = pc.tile >= 16u * S;
        uint eg = gl_SubgroupID * 4u * S + lane; // this lane's first 16-byte word of block 0
        uvec4 nx[4];                             // GPRE: the next block's loads
        if (GPRE != 0u && nblk != 0u)
            [[unroll]] for (uint q = 0u; q < 4u; q++) nx[q] = RawV4(ra).v[eg + q * S];
        for (uint bk = 0u; bk < nblk; bk++) {
            uint e0 = bk * 4u * WG + gl_SubgroupID * 4u * S; // the piece's first 16-byte word
            uvec4 v[4];
            if (GPRE != 0u) {
                [[unroll]] for (uint q = 0u; q < 4u; q++) v[q] = nx[q];
                if (bk + 1u < nblk)
                    [[unroll]] for (uint q = 0u; q < 4u; q++) nx[q] = RawV4(ra).v[eg + (bk + 1u) * 4u * WG + q * S];
            } else {
                [[unroll]] for (uint q = 0u; q < 4u; q++) v[q] = RawV4(ra).v[e0 + q * S + lane];
            }
            uint mbits = 0u, sall = 0u;
            [[unroll]] for (uint q = 0u; q < 4u; q++) {
                uint st = 0u;
                [[unroll]] for (uint l = 0u; l < 4u; l++) {
                    KT sq = score_bits(v[q][l]) & pm;
                    if (sq == p0 || sq == p1) mbits |= 1u << (4u * q + l);
                    st += strictly_in(sq, p0, p1, mid) ? 1u : 0u;
                }
                if (counting && !whole) count_strict(row, (c0 + 4u * (e0 + q * S + lane)) >> ts, st, local);
                sall += st;
            }
            if (counting && whole) count_strict(row, (c0 + 4u * e0) >> ts, sall, local);
            uint np = bitCount(mbits);
            if (!subgroupAny(np != 0u)) continue;
            uint slot = take_slots(np, own, row);
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                [[unroll]] for (uint l = 0u; l < 4u; l++)
                    if ((mbits & (1u << (4u * q + l))) != 0u) {
                        if (slot < pc.cap) {
                            gk.v[slot] = score_bits(v[q][l]);
                            gc.v[slot] = c0 + 4u * (e0 + q * S + lane) + l;
                        }
                        slot++;
                    }
        }
        from = c0 + nblk * 16u * WG;
    }
#endif
    // whole subgroups iterate together: the loads of 8 steps are in flight together, and
    // their appends take one subgroup scan and one atomic per subgroup
    uint steps = (c1 - from + WG - 1u) / WG;
    for (uint it = 0u; it < steps; it += 8u) {
        T v[8];
        [[unroll]] for (uint q = 0u; q < 8u; q++) {
            uint i = from + (it + q) * WG + t;
            if (i < c1) v[q] = xb.v[i];
        }
        // the 8 elements' matches, then one subgroup scan and one atomic for all
        uint mbits = 0u;
        KT sv[8];
        [[unroll]] for (uint q = 0u; q < 8u; q++) {
            uint i = from + (it + q) * WG + t;
            sv[q] = KT(0);
            if (it + q >= steps) break; // subgroup-uniform
            uint st = 0u;
            if (i < c1) {
                KT s = score_of(v[q]);
                KT sq = s & pm;
                sv[q] = s;
                if (sq == p0 || sq == p1) mbits |= 1u << q;
                st = strictly_in(sq, p0, p1, mid) ? 1u : 0u;
            }
            if (counting) count_strict(row, i >> ts, st, local);
        }
        uint np = bitCount(mbits);
        if (!subgroupAny(np != 0u)) continue;
        uint slot = take_slots(np, own, row);
        [[unroll]] for (uint q = 0u; q < 8u; q++)
            if ((mbits & (1u << q)) != 0u) {
                if (slot < pc.cap) {
                    gk.v[slot] = sv[q];
                    gc.v[slot] = from + (it + q) * WG + t;
                }
                slot++;
            }
    }
#ifndef RX_GRES // (with RX_GRES, resolve_row takes them from g_tc)
    if (local) { // the row's tile counts (no other workgroup adds to them yet)
        barrier();
        for (uint i = t; i < pc.ntiles; i += WG)
            if (g_tc[i] != 0u) U32Buf(pc.out0 + (uint64_t(row) * pc.ntiles + i) * 16ul).v[0] += g_tc[i];
    }
#endif
#else
    for (uint a = c0; a < c1;) {
        uint b = counting ? min(c1, (a / pc.tile + 1u) * pc.tile) : c1;
        uint strict = 0u; // elements strictly inside the window already at this prefix
        for (uint i0 = a + t; i0 < b; i0 += 4u * WG) {
            T v[4];
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                if (i0 + q * WG < b) v[q] = xb.v[i0 + q * WG];
            [[unroll]] for (uint q = 0u; q < 4u; q++) {
                uint i = i0 + q * WG;
                if (i >= b) break;
                KT s = score_of(v[q]);
                KT sq = s & pm;
                strict += strictly_in(sq, p0, p1, mid) ? 1u : 0u;
                if (sq == p0 || sq == p1) {
                    uint slot = own ? atomicAdd(g_cnt, 1u) : atomicAdd(S.r[row].gcount, 1u);
                    if (slot >= pc.cap) continue;
                    gk.v[slot] = s;
                    gc.v[slot] = i;
                }
            }
        }
        if (counting) { // this tile's strict count, added to the row's tile counts
            if (strict != 0u) atomicAdd(g_sum, strict);
            barrier();
            if (t == 0u) {
                if (g_sum != 0u) atomicAdd(U32Buf(pc.out0 + (uint64_t(row) * pc.ntiles + a / pc.tile) * 16ul).v[0], g_sum);
                g_sum = 0u;
            }
            barrier();
        }
        a = b;
    }
#endif
#ifdef RX_GRES
    // one workgroup a row here (the host checks): the gathered elements, visible to the
    // whole workgroup, then the row's remaining levels
    memoryBarrierBuffer();
    barrier();
    if (t == 0u) {
        state_load(row, 1u);
        s_gcount = g_cnt;
    }
    barrier();
    resolve_row(row, gk, gc);
#else
    if (own) {
        barrier();
        if (t == 0u) S.r[row].gcount = g_cnt;
    }
#endif
}
