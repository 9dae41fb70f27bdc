/* cpu_iter.c — joint strided iteration: dimension collapsing and row offsets. */
#include "cpu.h"

void st_iter_init(st_iter *it, int nops, const st_kview *const *views) {
    memset(it, 0, sizeof *it);
    it->nops = nops;
    const st_kview *v0 = views[0];
    /* Keep dims of size != 1. */
    int nd = 0;
    int64_t shape[ST_MAX_DIMS];
    int64_t str[ST_MAX_ITER_OPS][ST_MAX_DIMS];
    it->numel = 1;
    for (int d = 0; d < v0->ndim; d++) {
        it->numel *= v0->shape[d];
        if (v0->shape[d] == 1) continue;
        shape[nd] = v0->shape[d];
        for (int o = 0; o < nops; o++) str[o][nd] = views[o]->strides[d];
        nd++;
    }
    /* Merge dim d into d+1 when stride[d] == stride[d+1] * shape[d+1] for all ops. */
    int m = 0;
    int64_t ms[ST_MAX_DIMS];
    int64_t mstr[ST_MAX_ITER_OPS][ST_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        if (m > 0) {
            bool ok = true;
            for (int o = 0; o < nops; o++)
                if (mstr[o][m - 1] != str[o][d] * shape[d]) ok = false;
            if (ok) {
                ms[m - 1] *= shape[d];
                for (int o = 0; o < nops; o++) mstr[o][m - 1] = str[o][d];
                continue;
            }
        }
        ms[m] = shape[d];
        for (int o = 0; o < nops; o++) mstr[o][m] = str[o][d];
        m++;
    }
    if (m == 0) {
        it->inner = it->numel; /* 1 (scalar) or 0 */
        for (int o = 0; o < nops; o++) it->istride[o] = 1;
        it->ndim = 0;
        it->outer = it->numel ? 1 : 0;
        if (it->numel == 0) it->inner = 0;
        return;
    }
    it->inner = ms[m - 1];
    for (int o = 0; o < nops; o++) it->istride[o] = mstr[o][m - 1];
    it->ndim = m - 1;
    it->outer = 1;
    for (int d = 0; d < m - 1; d++) {
        it->shape[d] = ms[d];
        it->outer *= ms[d];
        for (int o = 0; o < nops; o++) it->strides[o][d] = mstr[o][d];
    }
    if (it->numel == 0) it->outer = 0;
}

void st_iter_row(const st_iter *it, int64_t row, int64_t *offs) {
    for (int o = 0; o < it->nops; o++) offs[o] = 0;
    for (int d = it->ndim - 1; d >= 0; d--) {
        int64_t i = row % it->shape[d];
        row /= it->shape[d];
        for (int o = 0; o < it->nops; o++) offs[o] += i * it->strides[o][d];
    }
}
