/* test_rankk.c — TopK / BottomK / MidK through the public API against a brute-force
 * oracle (a full sort by the total order of SPEC §3), with heavy ties, NaN, ±inf, ±0,
 * constant rows, k in {0, 1, n-1, n}, odd and even n-k, batch shapes and strided
 * views; every heuristic field visibly changes what runs; errors; memory. */
#include "testlib.h"

#include "cpu/cpu.h"

typedef struct {
    double v;
    int64_t i;
    int nan;
} el;
static int cmp_asc(const void *a, const void *b) {
    const el *x = a, *y = b;
    if (x->nan != y->nan) return x->nan ? 1 : -1;
    if (!x->nan && x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}
static int cmp_top(const void *a, const void *b) {
    const el *x = a, *y = b;
    if (x->nan != y->nan) return x->nan ? -1 : 1;
    if (!x->nan && x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}
static int cmp_col(const void *a, const void *b) {
    const el *x = a, *y = b;
    return (x->i > y->i) - (x->i < y->i);
}

static uint64_t g_rs;
static uint64_t rnd(void) {
    g_rs ^= g_rs << 13;
    g_rs ^= g_rs >> 7;
    g_rs ^= g_rs << 17;
    return g_rs;
}
/* kind 0: spread values, 1: heavy ties, 2: specials (NaN, ±inf, ±0), 3: constant */
static double gen(int kind) {
    switch (kind) {
    case 0: return (double)(rnd() % 2000001) / 1000.0 - 1000.0;
    case 1: return (double)(rnd() % 4);
    case 2: {
        int r = (int)(rnd() % 10);
        if (r == 0) return NAN;
        if (r == 1) return INFINITY;
        if (r == 2) return -INFINITY;
        if (r == 3) return 0.0;
        if (r == 4) return -0.0;
        return (double)(rnd() % 5) - 2.0;
    }
    default: return 1.5;
    }
}

/* Check values/indices of x ([rows, n] as a host f64 copy) against the oracle. */
static int check(st_rankk_kind kind, const double *x, int64_t rows, int64_t n, int64_t k, st_tensor *v, st_tensor *ix,
                 const char *what) {
    double *got_v = malloc(sizeof(double) * (size_t)(rows * k + 1));
    int64_t *got_i = malloc(sizeof(int64_t) * (size_t)(rows * k + 1));
    el *ref = malloc(sizeof(el) * (size_t)(n + 1));
    int bad = 0;
    if (st_to_host(v, ST_F64, got_v, sizeof(double) * (size_t)(rows * k + 1)) != ST_OK ||
        st_to_host(ix, ST_I64, got_i, sizeof(int64_t) * (size_t)(rows * k + 1)) != ST_OK)
        bad = 1;
    for (int64_t r = 0; r < rows && !bad; r++) {
        for (int64_t c = 0; c < n; c++) {
            double e = x[r * n + c];
            ref[c].v = e == 0 ? 0.0 : e;
            ref[c].i = c;
            ref[c].nan = isnan(e);
        }
        el *sel = ref;
        if (kind == ST_TOPK) {
            qsort(ref, (size_t)n, sizeof(el), cmp_top);
        } else {
            qsort(ref, (size_t)n, sizeof(el), cmp_asc);
            if (kind == ST_MIDK) {
                sel = ref + (n - k) / 2;
                qsort(sel, (size_t)k, sizeof(el), cmp_col);
            }
        }
        for (int64_t j = 0; j < k; j++) {
            int64_t gi = got_i[r * k + j];
            double gv = got_v[r * k + j], want = x[r * n + sel[j].i];
            bool same_v = (isnan(gv) && isnan(want)) || (gv == want && signbit(gv) == signbit(want));
            if (gi != sel[j].i || !same_v) {
                CHECK_MSG(0, "%s kind=%d rows=%lld n=%lld k=%lld: row %lld pos %lld got (%g,%lld) want (%g,%lld)", what,
                          (int)kind, (long long)rows, (long long)n, (long long)k, (long long)r, (long long)j, gv,
                          (long long)gi, want, (long long)sel[j].i);
                bad = 1;
                break;
            }
        }
    }
    free(got_v);
    free(got_i);
    free(ref);
    return bad;
}

TEST(oracle_random) {
    g_rs = tl_seed() | 1;
    const st_dtype dts[4] = {ST_F32, ST_F64, ST_I32, ST_I64};
    for (int it = 0; it < 300; it++) {
        int64_t rows = 1 + (int64_t)(rnd() % 3), n = 1 + (int64_t)(rnd() % (it % 4 == 0 ? 3000 : 150));
        int kind = (int)(rnd() % 4);
        st_dtype dt = dts[rnd() % 4];
        int64_t ks[5] = {0, 1, n - 1, n, (int64_t)(rnd() % (uint64_t)(n + 1))};
        int64_t k = ks[rnd() % 5];
        if (k < 0) k = 0;
        double *x = malloc(sizeof(double) * (size_t)(rows * n));
        for (int64_t i = 0; i < rows * n; i++) {
            double e = gen(kind);
            if (dt == ST_I32 || dt == ST_I64) e = (isfinite(e) ? floor(e) : 9.0) + 0.0;
            if (dt == ST_F32) e = (double)(float)e;
            x[i] = e;
        }
        int64_t shape[2] = {rows, n};
        st_tensor *t64 = st_from_data(x, 2, shape, ST_F64);
        st_tensor *t = st_to_dtype(t64, dt);
        for (int m = 0; m < 3; m++) {
            st_tensor *v = NULL, *ix = NULL;
            CHECK_STATUS(st_rankk_ex(t, (st_rankk_kind)m, k, (rnd() & 1) ? ST_I64 : ST_I32, &v, &ix), ST_OK);
            if (v && ix) CHECK(st_get_dtype(v) == dt && st_shape(v)[1] == k);
            if (v && ix && check((st_rankk_kind)m, x, rows, n, k, v, ix, st_dtype_name(dt))) it = 1 << 20;
            st_release(v);
            st_release(ix);
        }
        st_release(t);
        st_release(t64);
        free(x);
    }
}

/* Batch shapes and strided views: [2,3,n] and a transposed input. */
TEST(batch_and_views) {
    g_rs = tl_seed() | 1;
    int64_t n = 37;
    int64_t shape[3] = {2, 3, n};
    st_tensor *t = st_randn(3, shape, ST_F32);
    double x[2 * 3 * 37];
    st_to_host(t, ST_F64, x, sizeof x);
    for (int m = 0; m < 3; m++) {
        for (int64_t k = 0; k <= n; k += 6) {
            st_tensor *v = NULL, *ix = NULL;
            CHECK_STATUS(st_rankk_ex(t, (st_rankk_kind)m, k, ST_I32, &v, &ix), ST_OK);
            CHECK(v && st_ndim(v) == 3 && st_shape(v)[0] == 2 && st_shape(v)[2] == k);
            if (v && ix) check((st_rankk_kind)m, x, 6, n, k, v, ix, "batch");
            st_release(v);
            st_release(ix);
        }
    }
    /* strided: select along columns of a transposed [n, 5] matrix */
    int64_t s2[2] = {n, 5};
    st_tensor *base = st_randn(2, s2, ST_F32);
    st_tensor *tt = st_transpose(base, 0, 1); /* [5, n], last-dim stride 5 */
    st_tensor *cont = st_contiguous(tt);
    double y[5 * 37];
    st_to_host(cont, ST_F64, y, sizeof y);
    for (int m = 0; m < 3; m++) {
        st_tensor *v = NULL, *ix = NULL;
        CHECK_STATUS(st_rankk_ex(tt, (st_rankk_kind)m, 9, ST_I64, &v, &ix), ST_OK);
        if (v && ix) check((st_rankk_kind)m, y, 5, n, 9, v, ix, "transposed");
        st_release(v);
        st_release(ix);
    }
    /* a sliced view (every other column) */
    st_tensor *sl = st_slice(cont, 1, 1, n, 2);
    st_tensor *slc = st_contiguous(sl);
    int64_t ns = st_shape(sl)[1];
    double *z = malloc(sizeof(double) * (size_t)(5 * ns));
    st_to_host(slc, ST_F64, z, sizeof(double) * (size_t)(5 * ns));
    st_tensor *v = NULL, *ix = NULL;
    CHECK_STATUS(st_topk(sl, 4, &v, &ix), ST_OK);
    if (v && ix) check(ST_TOPK, z, 5, ns, 4, v, ix, "sliced");
    st_release(v);
    st_release(ix);
    free(z);
    st_release(slc);
    st_release(sl);
    st_release(cont);
    st_release(tt);
    st_release(base);
    st_release(t);
}

/* Every parameter combination the kernels accept gives the same exact answer. */
st_status st_rankk_with_params(st_tensor *x, st_rankk_kind kind, int64_t k, st_dtype index_dtype,
                               const st_rankk_params *params, st_tensor **values, st_tensor **indices);
TEST(all_params_agree) {
    g_rs = tl_seed() | 1;
    int64_t shape[2] = {3, 5000};
    double *x = malloc(sizeof(double) * 15000);
    for (int i = 0; i < 15000; i++) x[i] = (double)(float)gen(i % 3 == 0 ? 1 : 2);
    st_tensor *t64 = st_from_data(x, 2, shape, ST_F64), *t = st_to_dtype(t64, ST_F32);
    const int64_t ks[4] = {1, 17, 700, 4999};
    for (int m = 0; m < 3; m++)
        for (int ki = 0; ki < 4; ki++)
            for (int combo = 0; combo < 24; combo++) {
                st_rankk_params p = {.u2 = combo & 1, .wg = 1 + (combo % 3), .kl = (combo & 2) ? 1 : 64,
                                     .ch = (combo & 4) ? 333 : 0, .algo = (combo >> 3) % 2, .tile = (combo & 4) ? 97 : 2048};
                st_tensor *v = NULL, *ix = NULL;
                CHECK_STATUS(st_rankk_with_params(t, (st_rankk_kind)m, ks[ki], ST_I32, &p, &v, &ix), ST_OK);
                if (v && ix && check((st_rankk_kind)m, x, 3, 5000, ks[ki], v, ix, "params")) combo = 99, ki = 9;
                st_release(v);
                st_release(ix);
            }
    st_release(t);
    st_release(t64);
    free(x);
}

/* No dead knobs: each field the CPU path reads changes what runs (kernel stats). */
static st_cpu_rankk_stats run_with(const char *rule, st_rankk_kind kind, int64_t rows, int64_t n, int64_t k) {
    if (kind == ST_MIDK)
        setenv("SPIRAL_HEUR_MIDK", rule, 1);
    else
        setenv("SPIRAL_HEUR_K", rule, 1);
    st_heur_reload();
    int64_t shape[2] = {rows, n};
    st_tensor *t = st_rand(2, shape, ST_F32), *v = NULL, *ix = NULL;
    st_rankk_ex(t, kind, k, ST_I32, &v, &ix);
    st_cpu_rankk_stats st;
    st_cpu_rankk_last_stats(&st);
    st_release(v);
    st_release(ix);
    st_release(t);
    unsetenv("SPIRAL_HEUR_K");
    unsetenv("SPIRAL_HEUR_MIDK");
    st_heur_reload();
    return st;
}
TEST(every_field_changes_the_path) {
    st_cpu_rankk_stats a, b;
    a = run_with("algo:0", ST_TOPK, 4, 20000, 50);
    b = run_with("algo:1", ST_TOPK, 4, 20000, 50);
    CHECK(a.algo == ST_RANKK_ALGO_FILTER && b.algo == ST_RANKK_ALGO_RADIX);
    a = run_with("algo:0; u2:0; ch:1000", ST_TOPK, 4, 20000, 50);
    b = run_with("algo:0; u2:1; ch:1000", ST_TOPK, 4, 20000, 50);
    CHECK_MSG(a.chunks == 1 && b.chunks == 20, "u2: chunks %lld vs %lld", (long long)a.chunks, (long long)b.chunks);
    a = run_with("algo:0; u2:1; ch:1000", ST_TOPK, 4, 20000, 50);
    b = run_with("algo:0; u2:1; ch:4000", ST_TOPK, 4, 20000, 50);
    CHECK_MSG(a.chunks != b.chunks, "ch: chunks %lld vs %lld", (long long)a.chunks, (long long)b.chunks);
    a = run_with("algo:0; u2:0; est:0; kl:1", ST_TOPK, 4, 20000, 50);
    b = run_with("algo:0; u2:0; est:0; kl:64", ST_TOPK, 4, 20000, 50);
    CHECK_MSG(a.shrinks > b.shrinks, "kl: shrinks %lld vs %lld", (long long)a.shrinks, (long long)b.shrinks);
    a = run_with("algo:0; est:0", ST_TOPK, 4, 20000, 50);
    b = run_with("algo:0; est:1", ST_TOPK, 4, 20000, 50);
    CHECK_MSG(a.estimates == 0 && b.estimates == 4 && a.candidates > b.candidates, "est: estimates %lld vs %lld",
              (long long)a.estimates, (long long)b.estimates);
    a = run_with("wg:32", ST_TOPK, 64, 2000, 5);
    b = run_with("wg:512", ST_TOPK, 64, 2000, 5);
    CHECK_MSG(a.tasks == 64 && b.tasks == 4, "wg: tasks %lld vs %lld", (long long)a.tasks, (long long)b.tasks);
    a = run_with("u2:0", ST_MIDK, 4, 20000, 5000);
    b = run_with("u2:1", ST_MIDK, 4, 20000, 5000);
    CHECK_MSG(a.row_passes < b.row_passes, "midk u2: passes %lld vs %lld", (long long)a.row_passes, (long long)b.row_passes);
    a = run_with("tile:1024", ST_MIDK, 4, 20000, 5000);
    b = run_with("tile:4096", ST_MIDK, 4, 20000, 5000);
    CHECK_MSG(a.tiles != b.tiles, "tile: tiles %lld vs %lld", (long long)a.tiles, (long long)b.tiles);
    a = run_with("wg:32", ST_MIDK, 64, 2000, 500);
    b = run_with("wg:256", ST_MIDK, 64, 2000, 500);
    CHECK_MSG(a.tasks == 64 && b.tasks == 8, "midk wg: tasks %lld vs %lld", (long long)a.tasks, (long long)b.tasks);
}

TEST(errors) {
    int64_t shape[2] = {2, 5};
    st_tensor *t = st_zeros(2, shape, ST_F32), *v = (st_tensor *)1, *ix = NULL;
    CHECK_STATUS(st_topk(t, 6, &v, &ix), ST_E_INVALID_ARG);
    CHECK_ERR_HAS("k=6");
    CHECK_ERR_HAS("[0, 5]");
    CHECK(v == NULL);
    CHECK_STATUS(st_bottomk(t, -1, &v, &ix), ST_E_INVALID_ARG);
    CHECK_STATUS(st_midk(NULL, 1, &v, &ix), ST_E_INVALID_ARG);
    CHECK_STATUS(st_topk(t, 1, NULL, &ix), ST_E_INVALID_ARG);
    CHECK_STATUS(st_rankk_ex(t, ST_TOPK, 1, ST_F32, &v, &ix), ST_E_DTYPE);
    st_tensor *s = st_scalar(1.0, ST_F32);
    CHECK_STATUS(st_topk(s, 0, &v, &ix), ST_E_SHAPE);
    st_release(s);
    /* empty rows and zero rows are fine */
    int64_t e[2] = {0, 5};
    st_tensor *z = st_zeros(2, e, ST_F32);
    CHECK_STATUS(st_topk(z, 3, &v, &ix), ST_OK);
    CHECK(v && st_numel(v) == 0);
    st_release(v);
    st_release(ix);
    st_release(z);
    st_release(t);
}

TEST(gradient_flows_to_selected) {
    double x[6] = {0.5, -1.0, 2.0, 3.0, -0.5, 1.0};
    int64_t shape[2] = {2, 3};
    st_tensor *t = st_from_data(x, 2, shape, ST_F64);
    st_set_requires_grad(t, true);
    st_tensor *v = NULL, *ix = NULL;
    CHECK_STATUS(st_topk(t, 2, &v, &ix), ST_OK);
    st_tensor *s = st_sum(v, NULL, 0, false);
    CHECK_STATUS(st_backward(s, NULL), ST_OK);
    double g[6];
    CHECK_STATUS(st_to_host(st_grad(t), ST_F64, g, sizeof g), ST_OK);
    const double want[6] = {1, 0, 1, 1, 0, 1};
    for (int i = 0; i < 6; i++) CHECK(g[i] == want[i]);
    st_release(s);
    st_release(v);
    st_release(ix);
    st_release(t);
}

TEST(no_leaks_and_oom) {
    st_heur_reset();
    st_alloc_stats s0, s1;
    st_get_alloc_stats(&s0);
    int64_t shape[2] = {3, 300};
    tl_install_fault_allocator();
    for (int n = 1; n < 200; n++) {
        tl_fail_alloc_at(n);
        st_tensor *t = st_ones(2, shape, ST_F32), *v = NULL, *ix = NULL;
        st_status s = t ? st_midk(t, 100, &v, &ix) : ST_E_OOM;
        if (s != ST_OK) CHECK(v == NULL && ix == NULL);
        st_release(v);
        st_release(ix);
        st_release(t);
        st_heur_reset();
        st_get_alloc_stats(&s1);
        CHECK_MSG(s1.live_allocs == s0.live_allocs, "leak after failing allocation %d", n);
        if (s == ST_OK && tl_alloc_count() < n) break;
    }
    tl_fail_alloc_at(0);
    st_set_allocator(NULL);
}

/* Extra memory beyond the outputs stays O(threads * (k + chunk)): never a copy of the
 * input, for every kind and algorithm. */
void st_alloc_reset_peak(void);
TEST(extra_memory_is_bounded) {
    int64_t shape[2] = {64, 65536};
    st_tensor *t = st_rand(2, shape, ST_F32);
    const int64_t ks[3] = {16, 1024, 32768};
    for (int m = 0; m < 3; m++)
        for (int ki = 0; ki < 3; ki++) {
            st_tensor *v = NULL, *ix = NULL;
            st_heur_choice ch;
            st_heur_choose(64, 65536, ks[ki], false, &ch);
            st_alloc_stats a, b;
            st_get_alloc_stats(&a);
            st_alloc_reset_peak();
            CHECK_STATUS(st_rankk_ex(t, (st_rankk_kind)m, ks[ki], ST_I32, &v, &ix), ST_OK);
            st_get_alloc_stats(&b);
            int64_t outputs = 64 * ks[ki] * 8; /* values f32 + indices i32 */
            int64_t extra = b.peak_bytes - a.live_bytes - outputs;
            int64_t bound = (int64_t)st_get_num_threads() * (64 * (ks[ki] + 16 * ch.kl + 64) + (512 << 10));
            CHECK_MSG(extra <= bound, "kind %d k=%lld: %lld extra bytes > bound %lld (input is %lld bytes)", m,
                      (long long)ks[ki], (long long)extra, (long long)bound, (long long)(64 * 65536 * 4));
            st_release(v);
            st_release(ix);
        }
    st_release(t);
}

/* The sampled threshold can be too high (the sample holds the largest values): the row
 * is redone exactly. */
st_status st_rankk_with_params(st_tensor *x, st_rankk_kind kind, int64_t k, st_dtype index_dtype,
                               const st_rankk_params *params, st_tensor **values, st_tensor **indices);
TEST(estimate_too_high_is_redone) {
    int64_t n = 65536, step = n / 1024;
    double *x = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) x[i] = (i % step == 0) ? 1000.0 + (double)i : (double)(i % 977) / 977.0;
    int64_t shape[2] = {1, n};
    st_tensor *t64 = st_from_data(x, 2, shape, ST_F64), *t = st_to_dtype(t64, ST_F32);
    double *xf = malloc(sizeof(double) * (size_t)n);
    st_to_host(t, ST_F64, xf, sizeof(double) * (size_t)n);
    for (int u2 = 0; u2 < 2; u2++) {
        st_rankk_params p = {.algo = ST_RANKK_ALGO_FILTER, .est = true, .kl = 8, .wg = 1, .u2 = u2, .ch = 8192};
        st_tensor *v = NULL, *ix = NULL;
        CHECK_STATUS(st_rankk_with_params(t, ST_TOPK, 2000, ST_I32, &p, &v, &ix), ST_OK);
        st_cpu_rankk_stats st;
        st_cpu_rankk_last_stats(&st);
        CHECK_MSG(st.redone == 1, "u2=%d: redone %lld", u2, (long long)st.redone);
        if (v && ix) check(ST_TOPK, xf, 1, n, 2000, v, ix, "redone");
        st_release(v);
        st_release(ix);
    }
    free(x);
    free(xf);
    st_release(t);
    st_release(t64);
}

/* The radix path fits its first digit to a sample of the row; ranks that fall outside
 * that window (outliers the sample missed) take the plain path and stay exact. */
TEST(zoom_window_misses) {
    int64_t n = 65536, step = n / 256;
    double *x = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        bool outlier = (i % step) != 0 && (i % 31) == 7; /* never sampled */
        x[i] = outlier ? 1.0e6 + (double)(i % 5000) : 1.0 + (double)(i % 1000) / 1000.0;
    }
    int64_t shape[2] = {1, n};
    st_tensor *t64 = st_from_data(x, 2, shape, ST_F64), *t = st_to_dtype(t64, ST_F32);
    double *xf = malloc(sizeof(double) * (size_t)n);
    st_to_host(t, ST_F64, xf, sizeof(double) * (size_t)n);
    const int64_t ks[3] = {1500, 30000, 60000};
    for (int m = 0; m < 3; m++)
        for (int ki = 0; ki < 3; ki++) {
            st_rankk_params p = {.algo = ST_RANKK_ALGO_RADIX, .wg = 32, .u2 = m == 2, .tile = 4096};
            st_tensor *v = NULL, *ix = NULL;
            CHECK_STATUS(st_rankk_with_params(t, (st_rankk_kind)m, ks[ki], ST_I32, &p, &v, &ix), ST_OK);
            if (v && ix) check((st_rankk_kind)m, xf, 1, n, ks[ki], v, ix, "zoom");
            st_release(v);
            st_release(ix);
        }
    free(x);
    free(xf);
    st_release(t);
    st_release(t64);
}

/* With est, rows after a sampled one start from a threshold fixed by it; rows unlike
 * that one (here: every other row is 1000x smaller, so nothing beats the threshold) are
 * redone, exactly. */
TEST(previous_row_threshold) {
    int64_t rows = 16, n = 16384;
    double *x = malloc(sizeof(double) * (size_t)(rows * n));
    g_rs = tl_seed() | 1;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < n; c++) x[r * n + c] = (double)(float)(gen(0) * ((r & 1) ? 1.0 : 1000.0));
    int64_t shape[2] = {rows, n};
    st_tensor *t64 = st_from_data(x, 2, shape, ST_F64), *t = st_to_dtype(t64, ST_F32);
    for (int m = 0; m < 2; m++) {
        st_rankk_params p = {.algo = ST_RANKK_ALGO_FILTER, .est = true, .kl = 8, .wg = 32 * 16, .u2 = false};
        st_tensor *v = NULL, *ix = NULL;
        CHECK_STATUS(st_rankk_with_params(t, (st_rankk_kind)m, 700, ST_I32, &p, &v, &ix), ST_OK);
        st_cpu_rankk_stats st;
        st_cpu_rankk_last_stats(&st);
        /* every row starts from an estimate; how many are redone depends on which rows
         * fixed a threshold (exactness below is what matters) */
        CHECK_MSG(st.estimates == rows, "kind %d: estimates %lld redone %lld", m, (long long)st.estimates,
                  (long long)st.redone);
        printf("  kind %d: %lld of %lld rows redone\n", m, (long long)st.redone, (long long)rows);
        if (v && ix) check((st_rankk_kind)m, x, rows, n, 700, v, ix, "prev-row");
        st_release(v);
        st_release(ix);
    }
    free(x);
    st_release(t);
    st_release(t64);
}
