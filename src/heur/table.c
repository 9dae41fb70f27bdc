/* table.c — the generated tables (source 5 of the chain): THE bucket function shared
 * with gen_heuristics_table, and the nearest-bucket lookup.
 *
 * Bucket of a shape: (subgroup flag, ceil log2 cols, ceil log2 k). A lookup takes the
 * exact bucket, else the nearest one at distance 1 (|dlc| + |dlk|, same subgroup flag),
 * trying lk-1, lk+1, lc-1, lc+1 in that order; else the table has nothing.
 * Invariants: rows are read-only; columns are mapped by name through the table's
 * `fields` list, so a table written before a field existed still works.
 */
#include "heur/heur.h"

uint8_t st_heur_ceil_log2(int64_t x) {
    uint8_t l = 0;
    while (l < 63 && ((int64_t)1 << l) < x) l++;
    return l;
}

st_heur_bucket st_heur_bucket_of(bool subgroup, int64_t cols, int64_t k) {
    st_heur_bucket b = {subgroup ? 1 : 0, st_heur_ceil_log2(cols), st_heur_ceil_log2(k)};
    return b;
}

static const st_heur_table_row *find_exact(const st_heur_table *t, int sg, int lc, int lk) {
    if (lc < 0 || lk < 0) return NULL;
    for (int i = 0; i < t->n; i++) {
        const st_heur_table_row *r = &t->rows[i];
        if (r->sg == sg && r->lc == lc && r->lk == lk) return r;
    }
    return NULL;
}

const st_heur_table_row *st_heur_table_find(const st_heur_table *t, st_heur_bucket b) {
    if (!t || t->n <= 0 || !t->rows) return NULL;
    static const int d[5][2] = {{0, 0}, {0, -1}, {0, 1}, {-1, 0}, {1, 0}};
    for (int i = 0; i < 5; i++) {
        const st_heur_table_row *r = find_exact(t, b.sg, b.lc + d[i][0], b.lk + d[i][1]);
        if (r) return r;
    }
    return NULL;
}

int st_heur_table_column(const st_heur_table *t, const char *field) {
    if (!t || !t->fields) return -1;
    size_t n = strlen(field);
    int col = 0;
    for (const char *s = t->fields; *s; col++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len && *s == ' ') s++, len--;
        if (len == n && !memcmp(s, field, n)) return col < ST_HEUR_MAX_FIELDS ? col : -1;
        if (!e) break;
        s = e + 1;
    }
    return -1;
}
