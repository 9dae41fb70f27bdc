// rx_mpath.glsl — merging sorted runs of (score, column) pairs in shared memory (rx_sort,
// rx_merge). The including shader declares the spec constant IPT (outputs a thread
// merges) and the arrays `shared KT sk[]; shared uint sc[];` of at least sx(n) + 1
// entries for n pairs; element i lives at sx(i) (a skew of one slot every 32: threads
// that touch elements IPT apart, IPT a power of two <= 32, hit distinct banks).
// (score, column) composites are unique, so before() is a total order.

uint sx(uint i) { return i + (i >> 5u); }
bool before_at(uint i, uint j) { return before(sk[sx(i)], sc[sx(i)], sk[sx(j)], sc[sx(j)]); }

// A thread's merged outputs, best first.
KT rk[IPT];
uint rc[IPT];

// The merge of runs A = [a, ea) and B = [b, eb) (elements, adjacent or not): its first d
// outputs hold A's first path_split(...) elements (the first i where A[i] is not before
// B[d - 1 - i]; 0 <= d <= (ea - a) + (eb - b)).
uint path_split(uint a, uint ea, uint b, uint eb, uint d) {
    uint nb = eb - b, lo = d > nb ? d - nb : 0u, hi = min(d, ea - a);
    while (lo < hi) {
        uint mid = (lo + hi) >> 1;
        if (before_at(a + mid, b + d - 1u - mid))
            lo = mid + 1u;
        else
            hi = mid;
    }
    return lo;
}

// The merge's outputs [d, d + IPT) into rk/rc (outputs past the end repeat B's last). The
// two runs' next elements stay in registers: one shared load an output.
void merge_run(uint a, uint ea, uint b, uint eb, uint d) {
    uint i = path_split(a, ea, b, eb, d), ia = a + i, ib = b + d - i;
    uint la = sx(min(ia, ea - 1u)), lb = sx(min(ib, eb - 1u));
    KT ka = sk[la], kb = sk[lb];
    uint ca = sc[la], cb = sc[lb];
    [[unroll]] for (uint it = 0u; it < IPT; it++) {
        bool fromA = ia < ea && (ib >= eb || before(ka, ca, kb, cb));
        rk[it] = fromA ? ka : kb;
        rc[it] = fromA ? ca : cb;
        if (fromA) {
            ia++;
            uint l = sx(min(ia, ea - 1u));
            ka = sk[l];
            ca = sc[l];
        } else {
            ib = min(ib + 1u, eb);
            uint l = sx(min(ib, eb - 1u));
            kb = sk[l];
            cb = sc[l];
        }
    }
}

// rk/rc to elements [q, q + IPT).
void put_run(uint q) {
    [[unroll]] for (uint it = 0u; it < IPT; it++) {
        sk[sx(q + it)] = rk[it];
        sc[sx(q + it)] = rc[it];
    }
}
