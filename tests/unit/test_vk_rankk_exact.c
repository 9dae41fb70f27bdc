/* test_vk_rankk_exact.c — the Vulkan backend's exact rank-K path (stvk_rankk_exact,
 * src/vulkan/vk_rankk_exact.c) against a brute-force host oracle: sort every row by the
 * total order of SPEC §3 (NaN above +inf, -0 == +0, ties by lower column) and take
 * ranks [0, k) (TopK/BottomK, in order) or [(n-k)/2, (n-k)/2+k) (MidK, in column order).
 * Values and indices must match exactly. Skips (passes) when no Vulkan device exists.
 */
#include "testlib.h"

#ifdef ST_HAVE_VULKAN
#include "vulkan/vk_internal.h"

static st_device g_vk;

static bool vk_ready(void) {
    if (!tl_have_device(ST_BACKEND_VULKAN) || st_device_parse("vulkan", &g_vk) != ST_OK) return false;
    static bool said;
    const stvk_caps *caps = stvk_caps_of(g_vk.index);
    if (!said && caps) /* the tiles and packed counts follow it: the log says which one ran */
        printf("  vulkan subgroup size %u\n", caps->subgroup_size);
    said = true;
    return true;
}

/* ---------------------------------------------------------------- oracle */

typedef struct okey {
    uint64_t s; /* larger ranks first */
    int64_t col;
} okey;

static uint64_t score_of(st_dtype dt, const void *x, int64_t i, st_rank_mode mode) {
    uint64_t key;
    if (dt == ST_F32) {
        float f = ((const float *)x)[i];
        uint32_t u;
        if (isnan(f)) {
            key = 0xFFFFFFFFu;
        } else {
            if (f == 0.0f) f = 0.0f;
            memcpy(&u, &f, 4);
            key = (u & 0x80000000u) ? (uint32_t)~u : (u | 0x80000000u);
        }
        return mode == ST_RANK_TOP ? key : (~key & 0xFFFFFFFFu);
    }
    if (dt == ST_I32) {
        key = (uint32_t)((const int32_t *)x)[i] ^ 0x80000000u;
        return mode == ST_RANK_TOP ? key : (~key & 0xFFFFFFFFu);
    }
    key = (uint64_t)((const int64_t *)x)[i] ^ 0x8000000000000000ull;
    return mode == ST_RANK_TOP ? key : ~key;
}

static int okey_cmp(const void *a, const void *b) {
    const okey *p = a, *q = b;
    if (p->s != q->s) return p->s > q->s ? -1 : 1;
    return p->col < q->col ? -1 : p->col > q->col;
}
static int col_cmp(const void *a, const void *b) {
    const okey *p = a, *q = b;
    return p->col < q->col ? -1 : p->col > q->col;
}

/* Expected columns of one row (k of them) into out. */
static void oracle_row(st_dtype dt, const void *row, int64_t n, int64_t k, st_rank_mode mode, int64_t *out,
                       okey *tmp) {
    for (int64_t i = 0; i < n; i++) tmp[i] = (okey){score_of(dt, row, i, mode), i};
    qsort(tmp, (size_t)n, sizeof *tmp, okey_cmp);
    int64_t a = mode == ST_RANK_MID ? (n - k) / 2 : 0;
    if (mode == ST_RANK_MID) qsort(tmp + a, (size_t)k, sizeof *tmp, col_cmp);
    for (int64_t j = 0; j < k; j++) out[j] = tmp[a + j].col;
}

/* ---------------------------------------------------------------- runner */

static size_t esz(st_dtype dt) { return dt == ST_I64 ? 8 : 4; }

typedef struct rcase {
    st_dtype dt, idt;
    st_rank_mode mode;
    int64_t rows, n, k;
    int64_t pad;         /* extra columns per row in x's storage (row stride n + pad) */
    st_rankk_params p;
    const uint32_t *flags; /* NULL: every row */
} rcase;

static const char *mode_name(st_rank_mode m) { return m == ST_RANK_TOP ? "top" : m == ST_RANK_BOTTOM ? "bottom" : "mid"; }

/* Runs stvk_rankk_exact on host data x ([rows][n + pad]) and checks every row; outputs
 * start as a sentinel, which rows not flagged must keep. Returns the failures. */
static int run_case(const rcase *c, const void *x) {
    int64_t rs = c->n + c->pad, k = c->k, rows = c->rows;
    int64_t xs[2] = {rows, rs}, os[2] = {rows, k};
    st_tensor *xt = st_from_data_on(g_vk, x, 2, xs, c->dt);
    st_tensor *vt = st_empty_on(g_vk, 2, os, c->dt), *it = st_empty_on(g_vk, 2, os, c->idt);
    int fails = 0;
    CHECK(xt && vt && it);
    if (!xt || !vt || !it) goto out;
    if (k > 0 && rows > 0) {
        CHECK(st_fill_(vt, -7) == ST_OK);
        CHECK(st_fill_(it, -3) == ST_OK);
    }
    st_kview xv = st_kview_of(xt), vv = st_kview_of(vt), iv = st_kview_of(it);
    xv.shape[1] = c->n; /* a view of the first n columns: row stride n + pad */
    st_tensor *ft = NULL;
    uint64_t fa = 0;
    if (c->flags) {
        int64_t fs[1] = {rows};
        ft = st_from_data_on(g_vk, c->flags, 1, fs, ST_I32);
        CHECK(ft != NULL);
        st_kview fv = st_kview_of(ft);
        fa = stvk_view_addr(&fv);
    }
    st_status s = stvk_rankk_exact(g_vk.index, c->mode, &vv, &iv, &xv, k, &c->p, fa);
    CHECK_MSG(s == ST_OK, "stvk_rankk_exact: %s", st_last_error());
    size_t nv = (size_t)(rows * k);
    char *gv = calloc(nv + 1, esz(c->dt));
    int64_t *gi = calloc(nv + 1, sizeof *gi), *want = calloc((size_t)k + 1, sizeof *want);
    okey *tmp = calloc((size_t)c->n + 1, sizeof *tmp);
    if (nv) {
        CHECK(st_to_host(vt, c->dt, gv, nv * esz(c->dt)) == ST_OK);
        CHECK(st_to_host(it, ST_I64, gi, nv * 8) == ST_OK);
    }
    for (int64_t r = 0; r < rows && fails < 5; r++) {
        const char *xr = (const char *)x + (size_t)(r * rs) * esz(c->dt);
        bool on = !c->flags || c->flags[r];
        if (on) oracle_row(c->dt, xr, c->n, k, c->mode, want, tmp);
        for (int64_t j = 0; j < k; j++) {
            int64_t got = gi[r * k + j];
            int64_t w = on ? want[j] : -3;
            bool vok;
            const char *gvp = gv + (size_t)(r * k + j) * esz(c->dt);
            if (on) {
                vok = memcmp(gvp, xr + (size_t)w * esz(c->dt), esz(c->dt)) == 0;
            } else if (c->dt == ST_F32) {
                float f;
                memcpy(&f, gvp, 4);
                vok = f == -7.0f;
            } else if (c->dt == ST_I32) {
                int32_t v;
                memcpy(&v, gvp, 4);
                vok = v == -7;
            } else {
                int64_t v;
                memcpy(&v, gvp, 8);
                vok = v == -7;
            }
            if (got != w || !vok) {
                CHECK_MSG(0, "%s %s rows=%lld n=%lld k=%lld wg=%d tile=%lld u2=%d: row %lld slot %lld: index %lld "
                             "want %lld%s", mode_name(c->mode), st_dtype_name(c->dt), (long long)rows, (long long)c->n,
                          (long long)k, c->p.wg, (long long)c->p.tile, c->p.u2, (long long)r, (long long)j,
                          (long long)got, (long long)w, vok ? "" : " (value differs)");
                fails++;
                break;
            }
        }
    }
    free(gv);
    free(gi);
    free(want);
    free(tmp);
    st_release(ft);
out:
    st_release(xt);
    st_release(vt);
    st_release(it);
    return fails;
}

/* ---------------------------------------------------------------- data */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static double gauss(void) {
    double u = unif() + 1e-12, v = unif();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

enum { D_RANDN, D_TIES, D_SPECIAL, D_CONST, D_UNIF };

/* rows x (n + pad) elements of dt, filled by kind. */
static void *make(st_dtype dt, int64_t rows, int64_t rs, int kind) {
    size_t m = (size_t)(rows * rs);
    void *p = malloc(m * esz(dt) + 8);
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.0f, -1.0f, 1e-40f, -1e-40f, 3.5f};
    for (size_t i = 0; i < m; i++) {
        double v;
        switch (kind) {
        case D_TIES: v = (double)(rnd() % 3); break;
        case D_CONST: v = 2.0; break;
        case D_UNIF: v = unif(); break;
        case D_SPECIAL: v = 0; break;
        default: v = gauss() * 100; break;
        }
        if (dt == ST_F32) {
            float f = (float)v;
            if (kind == D_SPECIAL) f = sp[rnd() % 10];
            if (kind == D_SPECIAL && (rnd() & 1)) f = -f; /* -NaN too */
            ((float *)p)[i] = f;
        } else if (dt == ST_I32) {
            int32_t iv = kind == D_SPECIAL ? (int32_t[]){INT32_MIN, INT32_MAX, 0, -1, 1}[rnd() % 5] : (int32_t)floor(v);
            ((int32_t *)p)[i] = iv;
        } else {
            int64_t iv = kind == D_SPECIAL ? (int64_t[]){INT64_MIN, INT64_MAX, 0, -1, 1, (int64_t)1 << 40}[rnd() % 6]
                                           : (int64_t)floor(v * 1e6) * ((kind == D_RANDN) ? 1000003 : 1);
            ((int64_t *)p)[i] = iv;
        }
    }
    return p;
}

static st_rankk_params prm(int wg, int64_t tile, bool u2) {
    st_rankk_params p;
    memset(&p, 0, sizeof p);
    p.wg = wg;
    p.tile = tile;
    p.u2 = u2;
    p.algo = ST_RANKK_ALGO_RADIX;
    return p;
}

/* Every mode, a list of k, on one data set. */
static void sweep(st_dtype dt, st_dtype idt, int64_t rows, int64_t n, int kind, const int64_t *ks, int nk,
                  st_rankk_params p) {
    void *x = make(dt, rows, n, kind);
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < nk; i++) {
            rcase c = {.dt = dt, .idt = idt, .mode = (st_rank_mode)m, .rows = rows, .n = n, .k = ks[i], .p = p};
            run_case(&c, x);
        }
    free(x);
}

/* ---------------------------------------------------------------- tests */

TEST(small_rows_every_k) {
    if (!vk_ready()) return;
    /* n - k odd and even for MidK; n not a multiple of anything */
    for (int64_t n = 1; n <= 13; n += 3) {
        int64_t ks[] = {0, 1, n / 2, n - 1, n};
        sweep(ST_F32, ST_I32, 5, n, D_RANDN, ks, 5, prm(64, 64, false));
        sweep(ST_F32, ST_I32, 5, n, D_TIES, ks, 5, prm(64, 64, true));
    }
}

TEST(random_rows) {
    if (!vk_ready()) return;
    int64_t n = 1237, ks[] = {0, 1, 2, 617, 618, 1236, 1237};
    sweep(ST_F32, ST_I32, 7, n, D_RANDN, ks, 7, prm(128, 512, true));
    sweep(ST_F32, ST_I64, 7, n, D_UNIF, ks, 7, prm(256, 2048, false));
}

TEST(heavy_ties_and_specials) {
    if (!vk_ready()) return;
    int64_t n = 2001, ks[] = {1, 2, 1000, 1001, 2000};
    sweep(ST_F32, ST_I32, 4, n, D_TIES, ks, 5, prm(128, 256, true));
    sweep(ST_F32, ST_I32, 4, n, D_SPECIAL, ks, 5, prm(64, 1024, false));
    sweep(ST_F32, ST_I64, 3, n, D_CONST, ks, 5, prm(256, 4096, true));
}

TEST(constant_rows_beyond_gather) {
    if (!vk_ready()) return;
    /* one bucket of 20000 > the gather cap (16384): every radix level reads the row */
    int64_t ks[] = {1, 9999, 10000, 20000};
    sweep(ST_F32, ST_I32, 2, 20000, D_CONST, ks, 4, prm(256, 2048, true));
    sweep(ST_I32, ST_I32, 2, 20000, D_TIES, ks, 4, prm(128, 1024, false));
}

TEST(int_inputs) {
    if (!vk_ready()) return;
    int64_t n = 999, ks[] = {0, 1, 2, 499, 500, 998, 999};
    sweep(ST_I32, ST_I32, 3, n, D_RANDN, ks, 7, prm(128, 2048, true));
    sweep(ST_I32, ST_I64, 3, n, D_SPECIAL, ks, 7, prm(64, 128, false));
    sweep(ST_I64, ST_I64, 3, n, D_RANDN, ks, 7, prm(128, 2048, true));
    sweep(ST_I64, ST_I32, 3, n, D_TIES, ks, 7, prm(256, 512, false));
    sweep(ST_I64, ST_I64, 3, n, D_SPECIAL, ks, 7, prm(64, 4096, true));
}

TEST(many_rows_one_workgroup_each) {
    if (!vk_ready()) return;
    /* short rows: one workgroup per row, digits picked in the same kernel */
    int64_t ks[] = {1, 37, 100};
    sweep(ST_F32, ST_I32, 150, 101, D_RANDN, ks, 3, prm(64, 32, false));
    sweep(ST_I64, ST_I64, 100, 64, D_TIES, ks, 1, prm(128, 64, true));
}

TEST(window_level_zero) {
    if (!vk_ready()) return;
    /* >= 512 rows of >= 16 * 512 columns: one workgroup a row, level 0 from a sampled
     * window (rx_hist.comp); the sample positions taken over by huge or tiny values make
     * the window miss the targets, so those rows redo level 0 with the plain digit */
    const int64_t rows = 512, n = 8192, ks[] = {1, 2500, 4096};
    sweep(ST_F32, ST_I64, rows, n, D_UNIF, ks, 3, prm(256, 4096, true));
    sweep(ST_F32, ST_I32, rows, n, D_RANDN, ks, 3, prm(128, 2048, true));
    int64_t kt[] = {4096};
    sweep(ST_I32, ST_I32, rows, n, D_TIES, kt, 1, prm(256, 4096, true));
    { /* one bucket beyond the gather cap: rx_count (a workgroup a row) counts the tiles of
       * MidK's two-pass compaction (TopK/BottomK of this many rows compact in one pass) */
        void *x = make(ST_F32, rows, 20000, D_CONST);
        rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = ST_RANK_MID, .rows = rows, .n = 20000, .k = 10000,
                   .p = prm(256, 4096, true)};
        run_case(&c, x);
        free(x);
    }
    { /* runs of equal values longer than a block (16 wg columns): a subgroup's adds fall in
       * one bin (its one-add path) for whole blocks, in others not */
        float *x = malloc(sizeof(float) * (size_t)(rows * n));
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < n; c++) x[r * n + c] = (float)(((c + r * 37) / 5000) % 5);
        for (int m = 0; m < 3; m++)
            for (int64_t k = 1500; k <= 4096; k += 2596) {
                rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)m, .rows = rows, .n = n, .k = k,
                           .p = prm(256, 4096, true)};
                run_case(&c, x);
            }
        free(x);
    }
    for (int side = 0; side < 2; side++) {
        float *x = make(ST_F32, rows, n, D_UNIF);
        uint32_t step = (uint32_t)(n / 512); /* rx_hist.comp's WSAMP = 512 samples */
        for (int64_t r = 0; r < rows; r++)
            for (uint32_t i = 0; i < 512; i++)
                x[r * n + i * step + ((uint32_t)(i * 2654435761u) >> 7) % step] = side ? 1e30f : -1e30f;
        for (int m = 0; m < 3; m++) {
            rcase c = {.dt = ST_F32, .idt = ST_I64, .mode = (st_rank_mode)m, .rows = rows, .n = n, .k = 2500,
                       .p = prm(256, 4096, true)};
            run_case(&c, x);
        }
        free(x);
    }
}

TEST(long_row_spread) {
    if (!vk_ready()) return;
    /* one row over many workgroups (global histograms), gathered and not */
    int64_t n = 120011, ks[] = {1, 60005, 120010};
    sweep(ST_F32, ST_I32, 1, n, D_RANDN, ks, 3, prm(256, 4096, true));
    int64_t kt[] = {60000};
    sweep(ST_F32, ST_I64, 1, n, D_TIES, kt, 1, prm(128, 8192, true));
}

TEST(large_k_sort_merges) {
    if (!vk_ready()) return;
    /* k > 2048: shared-memory runs, then merge levels */
    int64_t n = 9000, ks[] = {2049, 4096, 6000, 9000};
    void *x = make(ST_F32, 3, n, D_RANDN);
    void *y = make(ST_F32, 3, n, D_TIES);
    for (int i = 0; i < 4; i++)
        for (int m = 0; m < 2; m++) {
            rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)m, .rows = 3, .n = n, .k = ks[i],
                       .p = prm(256, 0, false)};
            run_case(&c, x);
            c.idt = ST_I64;
            run_case(&c, y);
        }
    free(x);
    free(y);
}

/* The merge path (rx_merge): tiles of wg * min(8, 2048 / wg) outputs at every workgroup
 * size (64: 512-output tiles, 4 a run; 1024: 2 outputs a thread), i32 and i64 scores
 * (8-byte shared keys), a last run with no partner (k = 4097: runs 2048, 2048, 1) or a
 * short one, runs of equal values (the column decides every comparison), and a row whose
 * k takes five merge levels (2048 -> 65536). */
TEST(merge_path_tiles) {
    if (!vk_ready()) return;
    int64_t n = 10007, ks[] = {2049, 4097, 6143, 8192, 10007};
    int wgs[] = {64, 128, 1024};
    st_dtype dts[] = {ST_I32, ST_I64};
    for (int d = 0; d < 2; d++) {
        void *x = make(dts[d], 2, n, d ? D_TIES : D_RANDN);
        for (int w = 0; w < 3; w++)
            for (int i = 0; i < 5; i++)
                for (int m = 0; m < 2; m++) {
                    rcase c = {.dt = dts[d], .idt = d ? ST_I64 : ST_I32, .mode = (st_rank_mode)m, .rows = 2,
                               .n = n, .k = ks[i], .p = prm(wgs[w], 0, false)};
                    run_case(&c, x);
                }
        free(x);
    }
    int64_t nl = 70001, kl[] = {65537};
    sweep(ST_F32, ST_I32, 1, nl, D_TIES, kl, 1, prm(256, 0, false));
    /* f32 specials: the sort's and the last merge level's outputs take their bits from the
     * score except for NaN (payload, sign) and +-0, which are read from x; with every
     * sort width (ST_VULKAN_RANKK_SORTWG: 16 .. 2 pairs a thread) */
    const char *sws[] = {NULL, "256", "1024"};
    int64_t nsp = 5000, ksp[] = {100, 2048, 4999};
    for (int w = 0; w < 3; w++) {
        if (sws[w])
            setenv("ST_VULKAN_RANKK_SORTWG", sws[w], 1);
        else
            unsetenv("ST_VULKAN_RANKK_SORTWG");
        sweep(ST_F32, ST_I32, 2, nsp, D_SPECIAL, ksp, 3, prm(256, 0, false));
    }
    unsetenv("ST_VULKAN_RANKK_SORTWG");
}

TEST(strided_rows) {
    if (!vk_ready()) return;
    int64_t n = 777;
    void *x = make(ST_F32, 9, n + 13, D_RANDN);
    for (int m = 0; m < 3; m++) {
        rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)m, .rows = 9, .n = n, .k = 300, .pad = 13,
                   .p = prm(128, 256, m == 2)};
        run_case(&c, x);
    }
    free(x);
}

TEST(row_flags) {
    if (!vk_ready()) return;
    int64_t rows = 11, n = 3001;
    uint32_t flags[11] = {1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1};
    void *x = make(ST_F32, rows, n, D_RANDN);
    int64_t ks[] = {1, 1500, 3001};
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < 3; i++) {
            rcase c = {.dt = ST_F32, .idt = ST_I64, .mode = (st_rank_mode)m, .rows = rows, .n = n, .k = ks[i],
                       .p = prm(128, 1024, i & 1), .flags = flags};
            run_case(&c, x);
        }
    free(x);
}

/* Rows of n > the gather cap (16384), odd rows random, even ones with scores that share
 * their top bits down to bit b (f32: floats in [1, 2) with b low mantissa bits random).
 * With k = 1 or MidK's k = n - 2 the targets' bucket in such a row is the whole row at
 * every level above bit b: the row goes on to the level whose digit holds bit b-1 (and is
 * gathered there; b = 9: the last level's histogram), while random rows are gathered at
 * level 0. b = 0: the even rows take every b in turn (i64 53, 42, 31, 20, 9; 32-bit 20, 9);
 * b = 64: every row random. */
static void *make_deep(st_dtype dt, int64_t rows, int64_t n, int b) {
    static const int b64[] = {53, 42, 31, 20, 9}, b32[] = {20, 9};
    void *p = malloc((size_t)(rows * n) * esz(dt));
    for (int64_t r = 0; r < rows; r++) {
        int rb = r & 1 ? 64 : b ? b : dt == ST_I64 ? b64[r / 2 % 5] : b32[r / 2 % 2];
        for (int64_t c = 0; c < n; c++) {
            size_t i = (size_t)(r * n + c);
            uint64_t v = rnd() & (rb == 64 ? ~0ull : (1ull << rb) - 1);
            if (dt == ST_I64) {
                ((int64_t *)p)[i] = (int64_t)v;
            } else if (dt == ST_I32) {
                ((int32_t *)p)[i] = (int32_t)(uint32_t)v;
            } else {
                float f = (float)(gauss() * 100);
                uint32_t u = 0x3F800000u | (uint32_t)v;
                if (rb != 64) memcpy(&f, &u, 4);
                ((float *)p)[i] = f;
            }
        }
    }
    return p;
}

static void deep_case(st_dtype dt, int64_t rows, int b, bool u2) {
    const int64_t n = 17000;
    void *x = make_deep(dt, rows, n, b);
    for (int m = 0; m < 3; m++) {
        rcase c = {.dt = dt, .idt = rows > 64 ? ST_I64 : ST_I32, .mode = (st_rank_mode)m, .rows = rows, .n = n,
                   .k = m == ST_RANK_MID ? n - 2 : 1, .p = prm(rows > 64 ? 256 : 128, 4096, u2)};
        run_case(&c, x);
    }
    free(x);
}

TEST(level_gates) {
    if (!vk_ready()) return;
    /* Each radix step after level 0 (level L's gather + resolve, level L+1's histogram) is
     * recorded behind a gate word that only a row needing it sets (rx_radix.glsl
     * after_pick); a step skipped wrongly leaves such rows' thresholds unfinished. Rows
     * that need later levels share the call with rows done at level 0. One depth b a call
     * too (64: every row random, gathered at level 0): a row whose gather were skipped
     * would still finish by the next level's histogram if a deeper row opened that. Few
     * rows (several workgroups a row, rx_pick) and 512 (one a row, fused pick; f32:
     * level 0 from the sampled window). */
    for (int b = 0; b <= 64; b = b ? b + 11 : 9) { /* 0 (all), 9, 20, 31, 42, 53, 64 (all random) */
        for (int u2 = 0; u2 < 2; u2++) {
            deep_case(ST_I64, 10, b, u2);
            if (b <= 20 || b == 64) deep_case(ST_F32, 10, b, u2);
            if (b <= 20 || b == 64) deep_case(ST_I32, 10, b, u2);
        }
    }
    deep_case(ST_F32, 512, 20, true);
    deep_case(ST_F32, 512, 9, true);
    deep_case(ST_I64, 512, 0, true);
}

/* ---------------------------------------------------------------- no dead knobs */

typedef struct trace_rec {
    char sig[4096];
    size_t len;
} trace_rec;

static void on_dispatch(void *ud, const stvk_kernel *k, const uint32_t groups[3]) {
    trace_rec *t = ud;
    int m = snprintf(t->sig + t->len, sizeof t->sig - t->len, "%s[", k->shader);
    if (m > 0 && t->len + (size_t)m < sizeof t->sig) t->len += (size_t)m;
    for (int i = 0; i < k->nspec; i++) {
        m = snprintf(t->sig + t->len, sizeof t->sig - t->len, "%u,", k->spec[i]);
        if (m > 0 && t->len + (size_t)m < sizeof t->sig) t->len += (size_t)m;
    }
    m = snprintf(t->sig + t->len, sizeof t->sig - t->len, "]%ux%u;", groups[0], groups[1]);
    if (m > 0 && t->len + (size_t)m < sizeof t->sig) t->len += (size_t)m;
}

static void midk_signature(const void *x, int64_t rows, int64_t n, st_rankk_params p, trace_rec *t) {
    memset(t, 0, sizeof *t);
    rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = ST_RANK_MID, .rows = rows, .n = n, .k = n / 2, .p = p};
    stvk_trace(g_vk.index, on_dispatch, t);
    run_case(&c, x);
    stvk_trace(g_vk.index, NULL, NULL);
}

TEST(midk_no_dead_knobs) {
    if (!vk_ready()) return;
    int64_t rows = 4, n = 5000;
    void *x = make(ST_F32, rows, n, D_RANDN);
    trace_rec *base = calloc(1, sizeof *base), *other = calloc(1, sizeof *other);
    st_rankk_params p0 = prm(128, 1024, true);
    midk_signature(x, rows, n, p0, base);
    CHECK(base->len > 0);
    st_rankk_params var[3] = {prm(256, 1024, true), prm(128, 2048, true), prm(128, 1024, false)};
    const char *what[3] = {"wg", "tile", "u2"};
    for (int i = 0; i < 3; i++) {
        midk_signature(x, rows, n, var[i], other);
        CHECK_MSG(strcmp(base->sig, other->sig) != 0, "changing MidK '%s' changed no dispatch", what[i]);
    }
    /* tile also matters without u2 */
    midk_signature(x, rows, n, prm(128, 512, false), base);
    midk_signature(x, rows, n, prm(128, 1024, false), other);
    CHECK_MSG(strcmp(base->sig, other->sig) != 0, "changing MidK 'tile' with u2 off changed no dispatch");
    free(base);
    free(other);
    free(x);
}

/* rows x n (n > the gather cap, 16384) of three kinds: random (gathered and resolved at
 * level 0), constant (done at level 0 without a gather: rx_count), and values in
 * [1, 1.25) whose window sample positions hold 1e30 (the window misses; the plain digit
 * leaves one bucket > cap, so level 1 reads the row and gathers it). */
static float *mixed_rows(int64_t rows, int64_t n) {
    float *x = make(ST_F32, rows, n, D_RANDN);
    uint32_t step = (uint32_t)(n / 512); /* rx_hist.comp's WSAMP = 512 samples */
    for (int64_t r = 0; r < rows; r++) {
        if (r % 3 == 0)
            for (int64_t c = 0; c < n; c++) x[r * n + c] = 2.0f;
        if (r % 3 != 2) continue;
        for (int64_t c = 0; c < n; c++) x[r * n + c] = 1.0f + 0.25f * (float)unif();
        for (uint32_t i = 0; i < 512; i++) x[r * n + i * step + ((uint32_t)(i * 2654435761u) >> 7) % step] = 1e30f;
    }
    return x;
}

/* rx_resolve writing the prefix offsets of the rows it counts in shared memory
 * (ST_VULKAN_RANKK_ROFF=1): rx_offsets then runs only behind GATE_OFFS, for the rows
 * done without a gather (rx_count's) and those counted with global atomics (more than
 * 512 tiles). Mixed rows one workgroup a row; few rows (several workgroups a row: the
 * pick kernel, TopK/BottomK's two-pass compaction); a row of 625 tiles; without gates. */
TEST(resolve_offsets) {
    if (!vk_ready()) return;
    const int64_t rows = 512, n = 17000;
    float *x = mixed_rows(rows, n);
    float *f = mixed_rows(6, n);
    void *c20 = make(ST_F32, 3, 20000, D_RANDN);
    setenv("ST_VULKAN_RANKK_ROFF", "1", 1);
    setenv("ST_VULKAN_RANKK_GRES", "0", 1); /* rx_resolve.comp's offsets (gather_resolves: rx_gres') */
    for (int gate = 0; gate < 2; gate++) {
        if (gate) setenv("ST_VULKAN_NO_GATE", "1", 1);
        rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = ST_RANK_MID, .rows = rows, .n = n, .k = n / 2,
                   .p = prm(256, 4096, true)};
        run_case(&c, x);
        for (int md = 0; md < 3; md++) {
            rcase d = {.dt = ST_F32, .idt = ST_I64, .mode = (st_rank_mode)md, .rows = 6, .n = n, .k = 7001,
                       .p = prm(256, 4096, true)};
            run_case(&d, f);
            rcase e = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)md, .rows = 3, .n = 20000, .k = 9000,
                       .p = prm(256, 64, true)};
            run_case(&e, c20);
        }
        unsetenv("ST_VULKAN_NO_GATE");
    }
    unsetenv("ST_VULKAN_RANKK_ROFF");
    unsetenv("ST_VULKAN_RANKK_GRES");
    free(x);
    free(f);
    free(c20);
}

/* rx_gather resolving the rows it gathered in the same workgroup (ST_VULKAN_RANKK_GRES=1:
 * one workgroup a row, subgroup variants), its strict tile counts taken from shared
 * memory; alone and with ROFF (offsets there too), with and without gates. Mixed rows
 * (level-0 gathers, rx_count's constant rows, level-1 gathers), rows off alignment, i64
 * rows (six levels), TopK/BottomK of many rows (no tile counts), rows of 625 tiles (the
 * counts through global atomics). The trace shows rx_gres ran and rx_resolve did not. */
static void gres_case(rcase *c, const void *x) {
    trace_rec *t = calloc(1, sizeof *t);
    stvk_trace(g_vk.index, on_dispatch, t);
    run_case(c, x);
    stvk_trace(g_vk.index, NULL, NULL);
    const stvk_caps *caps = stvk_caps_of(g_vk.index);
    if (caps && caps->subgroup_size >= 4 && caps->full_subgroups) { /* else the shared-memory variants ran */
        CHECK_MSG(strstr(t->sig, "rx_gres_") != NULL, "no rx_gres dispatch in %.200s", t->sig);
        CHECK_MSG(strstr(t->sig, "rx_resolve_") == NULL, "rx_resolve dispatched with GRES: %.200s", t->sig);
    }
    free(t);
}

TEST(gather_resolves) {
    if (!vk_ready()) return;
    const int64_t rows = 512, n = 17000, m = 9001;
    float *x = mixed_rows(rows, n);
    void *y = make(ST_F32, rows, m + 1, D_RANDN);
    void *z = make(ST_I64, 520, 20000, D_RANDN);
    void *w = make(ST_F32, 520, 20000, D_RANDN);
    setenv("ST_VULKAN_RANKK_GRES", "1", 1);
    for (int v = 0; v < 3; v++) {
        setenv("ST_VULKAN_RANKK_ROFF", v >= 1 ? "1" : "0", 1); /* alone, then with ROFF (the default) */
        if (v == 2) setenv("ST_VULKAN_NO_GATE", "1", 1);
        rcase a = {.dt = ST_F32, .idt = ST_I32, .mode = ST_RANK_MID, .rows = rows, .n = n, .k = n / 2,
                   .p = prm(256, 4096, true)};
        gres_case(&a, x);
        for (int md = 0; md < 2 && v == 0; md++) { /* the kernels' other shapes: once */
            rcase b = {.dt = ST_F32, .idt = ST_I64, .mode = ST_RANK_MID, .rows = rows, .n = m, .k = m / 2 + 1,
                       .pad = 1, .p = prm(256, 4096, true)};
            if (md == 0) gres_case(&b, y);
            rcase c = {.dt = ST_I64, .idt = ST_I64, .mode = md ? ST_RANK_TOP : ST_RANK_MID, .rows = 520, .n = 20000,
                       .k = 777, .p = prm(256, 4096, true)};
            gres_case(&c, z);
        }
        rcase d = {.dt = ST_F32, .idt = ST_I32, .mode = ST_RANK_MID, .rows = 520, .n = 20000, .k = 9000,
                   .p = prm(256, 64, true)};
        gres_case(&d, w);
        unsetenv("ST_VULKAN_NO_GATE");
        unsetenv("ST_VULKAN_RANKK_ROFF");
    }
    unsetenv("ST_VULKAN_RANKK_GRES");
    free(x);
    free(y);
    free(z);
    free(w);
}

/* The next block's 16-byte loads in flight while one is processed: rx_hist's window pass
 * (ST_VULKAN_RANKK_HPRE=1, with 4 and 2 loads a block) and rx_gather's block loop
 * (ST_VULKAN_RANKK_GPRE=1, also in rx_gres). Mixed rows (level-0 and level-1 gathers,
 * constant rows), runs of equal values (a block's one add, then the next block),
 * unaligned rows (no 16-byte path), rows of 4 whole blocks a workgroup. */
TEST(loads_prefetched) {
    if (!vk_ready()) return;
    const int64_t rows = 512, n = 17000, m = 16384;
    float *x = mixed_rows(rows, n);
    float *y = malloc(sizeof(float) * (size_t)(rows * m));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < m; c++) y[r * m + c] = (float)(((c + r * 37) / 3000) % 5) + (c % 7 == 0 ? 0.5f : 0.0f);
    void *u = make(ST_F32, rows, m + 1, D_RANDN);
    setenv("ST_VULKAN_RANKK_HPRE", "1", 1);
    setenv("ST_VULKAN_RANKK_GPRE", "1", 1);
    for (int v = 0; v < 3; v++) {
        if (v == 1) setenv("ST_VULKAN_RANKK_NQ", "2", 1);
        setenv("ST_VULKAN_RANKK_GRES", v == 2 ? "1" : "0", 1); /* rx_gather's loop, then rx_gres' */
        rcase a = {.dt = ST_F32, .idt = ST_I32, .mode = ST_RANK_MID, .rows = rows, .n = n, .k = n / 2,
                   .p = prm(256, 4096, true)};
        run_case(&a, x);
        for (int md = v == 0 ? 0 : 2; md < 3; md++) { /* TopK/BottomK and unaligned rows: once */
            rcase b = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)md, .rows = rows, .n = m, .k = 5000,
                       .p = prm(256, 4096, true)};
            run_case(&b, y);
        }
        rcase c = {.dt = ST_F32, .idt = ST_I64, .mode = ST_RANK_MID, .rows = rows, .n = m, .k = m / 2, .pad = 1,
                   .p = prm(256, 4096, true)};
        if (v == 0) run_case(&c, u);
        unsetenv("ST_VULKAN_RANKK_NQ");
        unsetenv("ST_VULKAN_RANKK_GRES");
    }
    unsetenv("ST_VULKAN_RANKK_HPRE");
    unsetenv("ST_VULKAN_RANKK_GPRE");
    free(x);
    free(y);
    free(u);
}

/* rx_write with several tiles a subgroup (ST_VULKAN_RANKK_WTILES), the next tile's loads
 * in flight where a tile is one 16-subgroup-width block (wg 256 and tile 4096 here: on
 * lavapipe's 8-wide subgroups, 128 columns); TopK/BottomK of few rows use the same
 * compaction (pairs). Whole and partial tiles, rows off alignment. */
TEST(write_tiles_prefetch) {
    if (!vk_ready()) return;
    const int64_t rows = 40, n = 17000, m = 9001;
    void *x = make(ST_F32, rows, n, D_RANDN);
    void *y = make(ST_F32, rows, m + 1, D_TIES);
    int64_t ks[] = {3, 8500};
    for (int w = 2; w <= 4; w += 2) {
        char v[2] = {(char)('0' + w), 0};
        setenv("ST_VULKAN_RANKK_WTILES", v, 1);
        setenv("ST_VULKAN_RANKK_WSTEP", "4", 1); /* 8-column steps: write_steps8 and the default */
        for (int md = 0; md < 3; md++)
            for (int i = 0; i < 2; i++) {
                rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)md, .rows = rows, .n = n, .k = ks[i],
                           .p = prm(256, 4096, true)};
                run_case(&c, x);
            }
        rcase c = {.dt = ST_F32, .idt = ST_I64, .mode = ST_RANK_MID, .rows = rows, .n = m, .k = m / 2, .pad = 1,
                   .p = prm(256, 4096, true)};
        run_case(&c, y);
        unsetenv("ST_VULKAN_RANKK_WTILES");
        unsetenv("ST_VULKAN_RANKK_WSTEP");
    }
    free(x);
    free(y);
}

/* rx_write with 8*S-column steps (ST_VULKAN_RANKK_WSTEP=8: two 4*S halves, one staging
 * round): random rows and rows of ties (the scan path of both halves), unaligned rows
 * (the per-element loads), tiles of 4*S columns a subgroup (the second half past the
 * tile) and of 16*S, alone and with WTILES' prefetch. */
TEST(write_steps8) {
    if (!vk_ready()) return;
    const int64_t rows = 40, n = 17000, m = 9001;
    void *x = make(ST_F32, rows, n, D_RANDN);
    void *y = make(ST_F32, rows, m + 1, D_TIES);
    int64_t ks[] = {3, 8500, n};
    int tiles[] = {1024, 4096}; /* a subgroup's tile: 4*S (the second half past it) and 16*S columns */
    setenv("ST_VULKAN_RANKK_WSTEP", "8", 1);
    for (int w = 1; w <= 2; w++) {
        char v[2] = {(char)('0' + w), 0};
        setenv("ST_VULKAN_RANKK_WTILES", v, 1);
        for (int ti = 0; ti < 2; ti++) {
            for (int md = 0; md < 3; md++)
                for (int i = 0; i < 3; i++) {
                    if (i == 2 && (md != 2 || w != 1)) continue; /* k = n: MidK, once a tile */
                    rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)md, .rows = rows, .n = n,
                               .k = ks[i], .p = prm(256, tiles[ti], true)};
                    run_case(&c, x);
                }
            for (int md = 0; md < 3; md++) {
                rcase c = {.dt = ST_F32, .idt = ST_I64, .mode = (st_rank_mode)md, .rows = rows, .n = m, .k = m / 2,
                           .pad = 1, .p = prm(256, tiles[ti], true)};
                run_case(&c, y);
            }
        }
        unsetenv("ST_VULKAN_RANKK_WTILES");
    }
    unsetenv("ST_VULKAN_RANKK_WSTEP");
    free(x);
    free(y);
}

/* rx_hist's window pass with blocks of 2 16-byte loads a thread (ST_VULKAN_RANKK_NQ=2)
 * instead of 4: random rows, and runs of equal values (a subgroup's one add for a whole
 * block, 4 * NQ elements a lane). */
TEST(window_half_blocks) {
    if (!vk_ready()) return;
    const int64_t rows = 512, n = 16384;
    float *x = make(ST_F32, rows, n, D_RANDN);
    float *y = malloc(sizeof(float) * (size_t)(rows * n));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < n; c++) y[r * n + c] = (float)(((c + r * 37) / 3000) % 5);
    setenv("ST_VULKAN_RANKK_NQ", "2", 1);
    for (int m = 0; m < 3; m++) {
        rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)m, .rows = rows, .n = n, .k = 5000,
                   .p = prm(256, 4096, true)};
        run_case(&c, x);
        run_case(&c, y);
    }
    unsetenv("ST_VULKAN_RANKK_NQ");
    free(x);
    free(y);
}

/* The forms that were the defaults before the eighth session's H100 timing, each turned
 * back by its variable (docs/env.md): all of them at once (rx_resolve dispatched, rx_offsets
 * for every row, one tile a subgroup in 4*S-column steps, no prefetch), and rx_resolve
 * alone (GRES=0) with the other defaults. Mixed rows one workgroup a row, TopK/BottomK of
 * many and of few rows, unaligned rows. */
static const char *const EARLIER[][2] = {{"ST_VULKAN_RANKK_ROFF", "0"}, {"ST_VULKAN_RANKK_GRES", "0"},
                                         {"ST_VULKAN_RANKK_HPRE", "0"}, {"ST_VULKAN_RANKK_GPRE", "0"},
                                         {"ST_VULKAN_RANKK_WTILES", "1"}, {"ST_VULKAN_RANKK_WSTEP", "4"}};
TEST(earlier_forms) {
    if (!vk_ready()) return;
    const int64_t rows = 512, n = 17000, m = 9001;
    float *x = mixed_rows(rows, n);
    void *y = make(ST_F32, rows, m + 1, D_RANDN);
    void *z = make(ST_F32, 6, n, D_TIES);
    for (int v = 0; v < 2; v++) {
        for (int e = 0; e < 6; e++)
            if (v == 0 || e == 1) setenv(EARLIER[e][0], EARLIER[e][1], 1);
        rcase a = {.dt = ST_F32, .idt = ST_I32, .mode = ST_RANK_MID, .rows = rows, .n = n, .k = n / 2,
                   .p = prm(256, 4096, true)};
        trace_rec *t = calloc(1, sizeof *t);
        stvk_trace(g_vk.index, on_dispatch, t);
        run_case(&a, x);
        stvk_trace(g_vk.index, NULL, NULL);
        const stvk_caps *caps = stvk_caps_of(g_vk.index);
        if (caps && caps->subgroup_size >= 4 && caps->full_subgroups) { /* the forms ran as asked */
            CHECK_MSG(strstr(t->sig, "rx_resolve_f32_sg[") && !strstr(t->sig, "rx_gres_"), "v=%d: %.300s", v, t->sig);
            /* rx_write's spec ends (wtiles > 1, w8); rx_hist's with hpre */
            CHECK_MSG(v == 1 || (strstr(t->sig, ",0,0,]") && strstr(t->sig, "rx_hist_f32_sg[256,1,4,0,]")),
                      "v=%d: %.300s", v, t->sig);
            CHECK_MSG(v == 0 || (strstr(t->sig, ",1,1,]") && strstr(t->sig, "rx_hist_f32_sg[256,1,4,1,]")),
                      "v=%d: %.300s", v, t->sig);
        }
        free(t);
        for (int md = 0; md < 3; md++) {
            rcase b = {.dt = ST_F32, .idt = ST_I64, .mode = (st_rank_mode)md, .rows = rows, .n = m, .k = 4000,
                       .pad = 1, .p = prm(256, 4096, true)};
            if (v == 0 || md == 2) run_case(&b, y);
            rcase c = {.dt = ST_F32, .idt = ST_I32, .mode = (st_rank_mode)md, .rows = 6, .n = n, .k = 7001,
                       .p = prm(256, 4096, true)};
            if (v == 0) run_case(&c, z);
        }
        for (int e = 0; e < 6; e++) unsetenv(EARLIER[e][0]);
    }
    free(x);
    free(y);
    free(z);
}

#else
TEST(skipped) { printf("  skip: built without the Vulkan backend\n"); }
#endif
