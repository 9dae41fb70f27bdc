// rx_tiles.glsl — a workgroup's appends to its row's gather buffer and its strict counts
// per compaction tile: rx_gather, and rx_hist's sampled filter (level 0 gathering in the
// histogram pass). Needs rx_common.glsl (and, with RX_SG, the subgroup extensions) first.
shared uint g_cnt; // one workgroup per row (nchunk == 1): the row's gathered count, kept here
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
    for (uint j = 0u; j < 2u; j++) {
        uint n = j == 0u ? v & 0xFFFFu : v >> 16u;
        if (n == 0u) continue;
        if (local)
            atomicAdd(g_tc[tf + j], n);
        else
            atomicAdd(U32Buf(pc.out0 + (uint64_t(row) * pc.ntiles + tf + j) * 16ul).v[0], n);
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
