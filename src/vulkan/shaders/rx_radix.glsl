// rx_radix.glsl — the radix-select step shared by rx_hist, rx_pick and rx_resolve:
// shared-memory histograms of one 11-bit digit (two when MidK's targets sit in
// different buckets), the pick of the digit holding each target's rank, and the row
// state kept in shared memory while a workgroup works on a row.
// Needs rx_common.glsl and rx_scan.glsl first.

shared uint h[2][2048];
shared KT s_pre[2];
shared uint s_rank[2], s_cnt[2], s_flags, s_gcount;
shared uint s_wsh;     // the row's level geometry (RowState.wsh)
shared KT s_wbase;     // window levels: the window's base (level 0 only)
shared uint s_above;   // window levels: elements above the window (level 0 only)
shared uint s_miss;    // window levels: a target's rank fell outside the window

// Slots in use: [t0, 2).
uint first_slot() { return (pc.opts & OPT_MID) != 0u ? 0u : 1u; }

// Thread 0 only: the row's state at level L (level 0 starts from scratch).
void state_load(uint row, uint L) {
    if (L == 0u) {
        for (uint t = 0u; t < 2u; t++) {
            s_pre[t] = KT(0);
            s_rank[t] = first_rank(t);
            s_cnt[t] = pc.n;
        }
        s_flags = 0u;
        s_gcount = 0u;
        s_wsh = 0u;
        s_above = 0u;
        s_miss = 0u;
        return;
    }
    States S = States(pc.st);
    for (uint t = 0u; t < 2u; t++) {
        s_pre[t] = KT(S.r[row].pre[t]);
        s_rank[t] = S.r[row].rank[t];
        s_cnt[t] = S.r[row].cnt[t];
    }
    s_flags = S.r[row].flags;
    s_gcount = S.r[row].gcount;
    s_wsh = S.r[row].wsh;
    s_above = 0u;
    s_miss = 0u;
}

// Thread 0 only.
void state_store(uint row) {
    States S = States(pc.st);
    for (uint t = 0u; t < 2u; t++) {
        S.r[row].pre[t] = uint64_t(s_pre[t]);
        S.r[row].rank[t] = s_rank[t];
        S.r[row].cnt[t] = s_cnt[t];
    }
    S.r[row].flags = s_flags;
    S.r[row].gcount = s_gcount;
    S.r[row].wsh = s_wsh;
}

// The compaction's thresholds from the row state in shared memory (every digit known:
// rx_common.glsl load_thr reads the same from RowState).
Thr state_thr() {
    Thr th;
    th.has_a = first_slot() == 0u;
    th.sa = s_pre[0];
    th.sb = s_pre[1];
    th.oa = s_rank[0];
    th.ob = s_rank[1];
    th.same = th.has_a && th.sa == th.sb;
    return th;
}

// Whether the two targets need separate histograms at the current prefix.
bool two_hists() { return first_slot() == 0u && s_pre[0] != s_pre[1]; }

void hist_clear() {
    for (uint i = gl_LocalInvocationID.x; i < 2048u; i += gl_WorkGroupSize.x) {
        h[0][i] = 0u;
        h[1][i] = 0u;
    }
}

// Count score s into the histograms if it carries a target's prefix (mask pm). With
// subgroups, a subgroup whose active lanes all hit the same bin (ties, constant rows,
// crowded exponents) adds once.
void hist_add(KT s, KT pm, KT p0, KT p1, bool two, uint L) {
    KT m = s & pm;
    uint dg = geo_digit(s_wsh, s, L);
    uint d = m == p0 ? dg : (two && m == p1) ? 2048u + dg : 0xFFFFFFFFu;
#ifdef RX_SG
    if (subgroupAllEqual(d)) {
        uint lanes = subgroupBallotBitCount(subgroupBallot(true)); // before the elect: all active lanes
        if (d != 0xFFFFFFFFu && subgroupElect()) atomicAdd(h[d >> 11][d & 2047u], lanes);
        return;
    }
#endif
    if (d != 0xFFFFFFFFu) atomicAdd(h[d >> 11][d & 2047u], 1u);
}

// Every thread, after the histograms are complete (barrier done): find each target's
// digit at level L and update s_pre / s_rank / s_cnt. Ends with a barrier.
void pick(uint L) {
    const uint WG = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
    const uint per = 2048u / WG;
    uint t0 = first_slot();
    bool two = two_hists();
    uint r0 = s_rank[0], r1 = s_rank[1];
    uint sh = geo_shift(s_wsh, L);
    bool win = L == 0u && s_wsh != 0u; // ranks count the elements above the window first
    uint off = win ? s_above : 0u;
    bool miss = win && (r0 < off && t0 == 0u || r1 < off);
    r0 -= min(r0, off);
    r1 -= min(r1, off);
    KT wbase = s_wbase;
    barrier();
    for (uint j = 0u; j < (two ? 2u : 1u); j++) {
        uint top = 2047u - t * per; // this thread's bins: top, top-1, ..., top-per+1
        uint sum = 0u;
        for (uint i = 0u; i < per; i++) sum += h[j][top - i];
        uint tot;
        uint ex = scan_u(sum, tot);
        if (win && t == 0u && (miss || r1 >= tot || (t0 == 0u && r0 >= tot))) s_miss = 1u;
        for (uint tt = t0; tt < 2u; tt++) {
            if ((two && tt == 1u ? 1u : 0u) != j) continue;
            uint R = tt == 0u ? r0 : r1;
            if (R < ex || R >= ex + sum) continue;
            uint c = ex;
            for (uint i = 0u; i < per; i++) {
                uint b = h[j][top - i];
                if (R < c + b) {
                    s_pre[tt] = win ? wbase + (KT(top - i) << sh) : s_pre[tt] | (KT(top - i) << sh);
                    s_rank[tt] = R - c;
                    s_cnt[tt] = b;
                    break;
                }
                c += b;
            }
        }
    }
    barrier();
}

// Thread 0, after pick at level L: flags for what comes next, and the level gate word
// of that next step (pc.gate, zeroed before the select; vk_rankk_exact.c rx_select
// records the step behind it): word 2L+1 "some row gathers at level L" (rx_gather,
// rx_resolve), word 2L+2 "some row needs level L+1's histogram". Every writer stores 1.
// This is the only place a row leaves a level not done (rx_resolve always finishes).
void after_pick(uint L) {
    if (L + 1u >= NLEV || geo_bits(s_wsh, L + 1u) == 0u) {
        s_flags = F_DONE; // not gathered, so not counted: rx_count reads this row
        if (pc.gate != 0ul) {
            U32Buf(pc.gate).v[GATE_UNCOUNTED] = 1u;
            U32Buf(pc.gate).v[GATE_OFFS] = 1u;
        }
        return;
    }
    uint need;
    if (first_slot() == 1u) need = s_cnt[1];
    else if (s_pre[0] == s_pre[1]) need = s_cnt[0];
    else need = s_cnt[0] + s_cnt[1];
    bool gather = need <= pc.cap;
    if (gather) {
        s_flags = F_GATHER;
        s_gcount = 0u;
    }
    if (pc.gate != 0ul) U32Buf(pc.gate).v[2u * L + (gather ? 1u : 2u)] = 1u;
}
