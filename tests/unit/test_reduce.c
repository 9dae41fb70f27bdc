/* test_reduce.c — sum/mean/max/min, argmax, softmax/log_softmax and cross-entropy
 * against double-precision reference loops written here, on random inputs. */
#include "testlib.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t g_state;
static double urand(void) { /* xorshift64*, seeded per test from tl_seed() */
    g_state ^= g_state >> 12;
    g_state ^= g_state << 25;
    g_state ^= g_state >> 27;
    return (double)((g_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}
static void seed_here(uint64_t salt) { g_state = (tl_seed() ^ (salt * 0x9E3779B97F4A7C15ull)) | 1; }

static int64_t numel_of(int nd, const int64_t *sh) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= sh[i];
    return n;
}

/* Random tensor: normal floats, or integers in [-50, 50). */
static st_tensor *rnd(int nd, const int64_t *sh, st_dtype dt) {
    if (st_dtype_is_float(dt)) return st_randn(nd, sh, dt);
    int64_t n = numel_of(nd, sh);
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) v[i] = floor(urand() * 100) - 50;
    st_tensor *d = st_from_data(v, nd, sh, ST_F64);
    st_tensor *t = st_to_dtype(d, dt);
    st_release(d);
    free(v);
    return t;
}

/* Logical values of any tensor (strided views included) as doubles; caller frees. */
static double *host(const st_tensor *t) {
    int64_t n = st_numel(t);
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    if (st_to_host(t, ST_F64, v, sizeof(double) * (size_t)n) != ST_OK) {
        free(v);
        return NULL;
    }
    return v;
}

static bool same(double got, double want, double tol) {
    if (isnan(want)) return isnan(got);
    return fabs(got - want) <= tol * (1.0 + fabs(want));
}

typedef enum { R_SUM, R_MEAN, R_MAX, R_MIN } rop;

/* Reference reduction into a keepdim-shaped contiguous out[]. */
static void ref_reduce(rop op, const double *x, int nd, const int64_t *sh, uint32_t mask, double *out) {
    int64_t osh[8], n = numel_of(nd, sh), cnt = 1;
    for (int d = 0; d < nd; d++) {
        osh[d] = (mask >> d) & 1 ? 1 : sh[d];
        if ((mask >> d) & 1) cnt *= sh[d];
    }
    int64_t no = numel_of(nd, osh);
    char *seen = calloc((size_t)(no ? no : 1), 1);
    for (int64_t o = 0; o < no; o++) out[o] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = i, oi = 0, ostride = 1;
        for (int d = nd - 1; d >= 0; d--) {
            int64_t c = r % sh[d];
            r /= sh[d];
            if (!((mask >> d) & 1)) oi += c * ostride;
            ostride *= osh[d];
        }
        double v = x[i];
        if (op == R_SUM || op == R_MEAN) out[oi] += v;
        else if (!seen[oi] || isnan(v)) out[oi] = v;
        else if (!isnan(out[oi])) out[oi] = op == R_MAX ? fmax(out[oi], v) : fmin(out[oi], v);
        seen[oi] = 1;
    }
    if (op == R_MEAN)
        for (int64_t o = 0; o < no; o++) out[o] = cnt ? out[o] / (double)cnt : NAN;
    free(seen);
}

static st_tensor *call_reduce(rop op, st_tensor *x, const int *axes, int naxes, bool keep) {
    switch (op) {
    case R_SUM: return st_sum(x, axes, naxes, keep);
    case R_MEAN: return st_mean(x, axes, naxes, keep);
    case R_MAX: return st_max(x, axes, naxes, keep);
    default: return st_min(x, axes, naxes, keep);
    }
}

static uint32_t mask_of(const int *axes, int naxes, int nd) {
    if (!axes || naxes == 0) return nd ? (1u << nd) - 1 : 0;
    uint32_t m = 0;
    for (int i = 0; i < naxes; i++) m |= 1u << (axes[i] < 0 ? axes[i] + nd : axes[i]);
    return m;
}

/* Checks op(x, axes, keep) against the reference: values, shape, dtype. */
static void check_reduce(rop op, st_tensor *x, const int *axes, int naxes, bool keep) {
    static const char *names[] = {"sum", "mean", "max", "min"};
    int nd = st_ndim(x);
    uint32_t mask = mask_of(axes, naxes, nd);
    st_tensor *r = call_reduce(op, x, axes, naxes, keep);
    CHECK_MSG(r != NULL, "%s failed: %s", names[op], st_last_error());
    if (!r) return;
    int want_nd = 0;
    for (int d = 0; d < nd; d++) {
        bool red = (mask >> d) & 1;
        if (red && !keep) continue;
        int64_t want = red ? 1 : st_shape(x)[d];
        CHECK_MSG(want_nd < st_ndim(r) && st_shape(r)[want_nd] == want, "%s: dim %d of result", names[op], want_nd);
        want_nd++;
    }
    CHECK_MSG(st_ndim(r) == want_nd, "%s: result ndim %d, want %d", names[op], st_ndim(r), want_nd);
    st_dtype xd = st_get_dtype(x), want_dt = (op == R_SUM && !st_dtype_is_float(xd)) ? ST_I64 : xd;
    CHECK_MSG(st_get_dtype(r) == want_dt, "%s: dtype %s", names[op], st_dtype_name(st_get_dtype(r)));
    double *xv = host(x), *got = host(r);
    int64_t no = st_numel(r);
    double *want = malloc(sizeof(double) * (size_t)(no ? no : 1));
    ref_reduce(op, xv, nd, st_shape(x), mask, want);
    double tol = xd == ST_F32 ? 2e-5 : xd == ST_F64 ? 1e-12 : 0;
    /* Sums with cancellation: the f32 rounding error scales with the sum of |x|, not
     * with the result, so the bound is tol * (1 + the same reduction of |x|). */
    double *mag = NULL;
    if (op == R_SUM || op == R_MEAN) {
        int64_t nx = st_numel(x);
        double *ax = malloc(sizeof(double) * (size_t)(nx ? nx : 1));
        for (int64_t i = 0; i < nx; i++) ax[i] = fabs(xv[i]);
        mag = malloc(sizeof(double) * (size_t)(no ? no : 1));
        ref_reduce(op, ax, nd, st_shape(x), mask, mag);
        free(ax);
    }
    int bad = 0;
    for (int64_t i = 0; i < no && bad < 3; i++)
        if (!same(got[i], want[i], tol * (mag && !isnan(mag[i]) ? 1.0 + mag[i] / (1.0 + fabs(want[i])) : 1.0))) {
            CHECK_MSG(0, "%s mask=%#x keep=%d [%lld]: got %.9g want %.9g", names[op], mask, keep, (long long)i, got[i],
                      want[i]);
            bad++;
        }
    free(mag);
    free(want);
    free(xv);
    free(got);
    st_release(r);
}

static void check_all_ops(st_tensor *x, const int *axes, int naxes) {
    for (int op = 0; op < 4; op++)
        for (int keep = 0; keep < 2; keep++) {
            if (op == R_MEAN && !st_dtype_is_float(st_get_dtype(x))) continue;
            check_reduce((rop)op, x, axes, naxes, keep);
        }
}

/* ---------------------------------------------------------------- reductions */

TEST(reduce_axis_combinations) {
    seed_here(1);
    int64_t sh[3] = {3, 4, 5};
    static const int combos[][3] = {{0}, {1}, {2}, {-1}, {0, 2}, {-3, -1}, {1, 2}, {2, 0, 1}};
    static const int ncombo[] = {1, 1, 1, 1, 2, 2, 2, 3};
    for (int dt = 0; dt < 4; dt++) {
        st_tensor *x = rnd(3, sh, (st_dtype)dt);
        check_all_ops(x, NULL, 0);
        for (int c = 0; c < 8; c++) check_all_ops(x, combos[c], ncombo[c]);
        st_release(x);
    }
}

TEST(reduce_non_contiguous) {
    seed_here(2);
    int64_t sh[2] = {37, 50};
    for (int dt = 0; dt < 2; dt++) {
        st_tensor *x = rnd(2, sh, (st_dtype)dt);
        st_tensor *t = st_transpose(x, 0, 1);
        st_tensor *s = st_slice(x, 1, 3, 47, 3);
        for (int a = -1; a < 2; a++) {
            int ax[1] = {a};
            check_all_ops(t, ax, 1);
            check_all_ops(s, ax, 1);
        }
        check_all_ops(t, NULL, 0);
        check_all_ops(s, NULL, 0);
        st_release(s);
        st_release(t);
        st_release(x);
    }
    int64_t sh4[4] = {2, 3, 4, 5};
    st_tensor *x = rnd(4, sh4, ST_F32);
    st_tensor *p = st_permute(x, (int[]){3, 1, 0, 2});
    int ax[2] = {0, 2}, ax2[2] = {1, 3};
    check_all_ops(p, ax, 2);
    check_all_ops(p, ax2, 2);
    check_all_ops(p, NULL, 0);
    st_tensor *row = st_slice(x, 0, 0, 1, 1);
    st_tensor *e = st_expand(row, 4, (int64_t[]){6, 3, 4, 5}); /* stride-0 dim */
    check_all_ops(e, (int[]){0}, 1);
    check_all_ops(e, (int[]){1, 3}, 2);
    st_release(e);
    st_release(row);
    st_release(p);
    st_release(x);
}

TEST(reduce_larger_shapes_paths) {
    seed_here(3);
    /* column path (kept inner dim contiguous), row path with many outputs, and few
     * long outputs split over threads */
    int64_t shapes[][2] = {{300, 517}, {2, 100003}, {100003, 3}, {1000, 64}, {1, 70001}};
    for (int k = 0; k < 5; k++) {
        for (int dt = 0; dt < 4; dt++) {
            st_tensor *x = rnd(2, shapes[k], (st_dtype)dt);
            check_all_ops(x, (int[]){0}, 1);
            check_all_ops(x, (int[]){1}, 1);
            check_all_ops(x, NULL, 0);
            st_release(x);
        }
    }
    /* 3-D with the middle dim reduced and a contiguous kept inner dim */
    st_tensor *x = rnd(3, (int64_t[]){7, 300, 40}, ST_F32);
    check_all_ops(x, (int[]){1}, 1);
    check_all_ops(x, (int[]){0, 1}, 2);
    st_release(x);
}

TEST(reduce_integers) {
    seed_here(4);
    int32_t v[6] = {2000000000, 2000000000, -5, 7, 1, -3};
    st_tensor *x = st_from_data(v, 2, (int64_t[]){2, 3}, ST_I32);
    st_tensor *s = st_sum(x, NULL, 0, false);
    CHECK(s && st_get_dtype(s) == ST_I64 && st_ndim(s) == 0);
    int64_t got = 0;
    if (s) st_to_host(s, ST_I64, &got, sizeof got);
    CHECK(got == 4000000000ll);
    st_tensor *m = st_max(x, (int[]){1}, 1, false);
    CHECK(m && st_get_dtype(m) == ST_I32);
    int32_t mv[2] = {0, 0};
    if (m) st_to_host(m, ST_I32, mv, sizeof mv);
    CHECK(mv[0] == 2000000000 && mv[1] == 7);
    CHECK(st_mean(x, NULL, 0, false) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    CHECK_ERR_HAS("mean");
    CHECK_ERR_HAS("i32[2,3]");
    st_release(m);
    st_release(s);
    st_release(x);
}

TEST(reduce_zero_dim) {
    st_tensor *x = st_scalar(3.5, ST_F32);
    for (int op = 0; op < 4; op++) {
        st_tensor *r = call_reduce((rop)op, x, NULL, 0, false);
        double v = 0;
        CHECK(r && st_ndim(r) == 0 && st_item(r, &v) == ST_OK && v == 3.5);
        st_release(r);
        r = call_reduce((rop)op, x, (int[]){-1}, 1, true);
        CHECK(r && st_ndim(r) == 0 && st_item(r, &v) == ST_OK && v == 3.5);
        st_release(r);
    }
    CHECK(st_sum(x, (int[]){1}, 1, false) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    st_release(x);
}

TEST(reduce_empty) {
    st_tensor *x = st_zeros(2, (int64_t[]){0, 3}, ST_F32);
    st_tensor *s = st_sum(x, (int[]){0}, 1, false);
    CHECK(s && st_ndim(s) == 1 && st_shape(s)[0] == 3);
    double v[3] = {1, 1, 1};
    if (s) st_to_host(s, ST_F64, v, sizeof v);
    CHECK(v[0] == 0 && v[2] == 0);
    st_tensor *m = st_mean(x, NULL, 0, false);
    double mv = 0;
    CHECK(m && st_item(m, &mv) == ST_OK && isnan(mv));
    st_tensor *s1 = st_sum(x, (int[]){1}, 1, true);
    CHECK(s1 && st_ndim(s1) == 2 && st_shape(s1)[0] == 0 && st_shape(s1)[1] == 1);
    CHECK(st_max(x, (int[]){0}, 1, false) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("max");
    CHECK_ERR_HAS("f32[0,3]");
    CHECK(st_min(x, NULL, 0, false) == NULL);
    CHECK_ERR_HAS("min");
    st_tensor *mx = st_max(x, (int[]){1}, 1, false); /* reduces 3 elements per (no) row */
    CHECK(mx && st_numel(mx) == 0);
    CHECK(st_argmax(x, 0, false) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("argmax");
    st_tensor *ints = st_zeros(1, (int64_t[]){0}, ST_I32);
    st_tensor *is = st_sum(ints, NULL, 0, false);
    CHECK(is && st_get_dtype(is) == ST_I64 && st_item(is, &mv) == ST_OK && mv == 0);
    st_release(is);
    st_release(ints);
    st_release(mx);
    st_release(s1);
    st_release(m);
    st_release(s);
    st_release(x);
}

TEST(reduce_nan_propagates) {
    seed_here(5);
    for (int dt = 0; dt < 2; dt++) {
        int64_t sh[2] = {6, 300};
        st_tensor *x = rnd(2, sh, (st_dtype)dt);
        double *v = host(x);
        v[1 * 300 + 200] = NAN; /* row 1, in the lane path */
        v[4 * 300 + 299] = NAN; /* row 4, the tail */
        v[5 * 300 + 0] = NAN;   /* row 5, the first element */
        st_tensor *y = st_from_data(v, 2, sh, ST_F64), *yc = st_to_dtype(y, (st_dtype)dt);
        check_all_ops(yc, (int[]){1}, 1);
        check_all_ops(yc, (int[]){0}, 1);
        check_all_ops(yc, NULL, 0);
        st_tensor *t = st_transpose(yc, 0, 1);
        check_all_ops(t, (int[]){0}, 1);
        st_release(t);
        st_release(yc);
        st_release(y);
        st_release(x);
        free(v);
    }
    /* column path split over threads (few outputs, many reduced rows) */
    int64_t sh[2] = {2000, 40};
    st_tensor *x = rnd(2, sh, ST_F32);
    double *v = host(x);
    v[1500 * 40 + 7] = NAN;
    v[3 * 40 + 39] = NAN;
    st_tensor *y = st_from_data(v, 2, sh, ST_F64), *yc = st_to_dtype(y, ST_F32);
    check_all_ops(yc, (int[]){0}, 1);
    check_all_ops(y, (int[]){0}, 1);
    st_release(yc);
    st_release(y);
    st_release(x);
    free(v);
}

TEST(reduce_axis_errors) {
    st_tensor *x = st_zeros(2, (int64_t[]){2, 3}, ST_F32);
    CHECK(st_sum(x, (int[]){2}, 1, false) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    CHECK_ERR_HAS("sum");
    CHECK_ERR_HAS("axis 2");
    CHECK_ERR_HAS("f32[2,3]");
    CHECK(st_max(x, (int[]){-3}, 1, false) == NULL);
    CHECK_ERR_HAS("axis -3");
    CHECK(st_mean(x, (int[]){1, -1}, 2, false) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    CHECK_ERR_HAS("repeated");
    CHECK(st_sum(NULL, NULL, 0, false) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    CHECK(st_argmax(x, 2, false) == NULL);
    CHECK_ERR_HAS("argmax");
    st_release(x);
}

TEST(sum_16m_f32_accuracy) {
    int64_t n = 16 * 1024 * 1024 + 7;
    st_tensor *x = st_rand(1, &n, ST_F32);
    float *v = malloc(sizeof(float) * (size_t)n);
    CHECK(st_to_host(x, ST_F32, v, sizeof(float) * (size_t)n) == ST_OK);
    double ref = 0;
    for (int64_t i = 0; i < n; i++) ref += v[i];
    st_tensor *s = st_sum(x, NULL, 0, false), *m = st_mean(x, NULL, 0, false);
    double got = 0, mean = 0;
    CHECK(s && st_item(s, &got) == ST_OK);
    CHECK(m && st_item(m, &mean) == ST_OK);
    CHECK_MSG(fabs(got - ref) <= 1e-6 * fabs(ref), "sum %.10g vs %.10g (rel %.3g)", got, ref, fabs(got - ref) / ref);
    CHECK_MSG(fabs(mean - ref / (double)n) <= 1e-6 * fabs(ref / (double)n), "mean %.10g", mean);
    st_release(m);
    st_release(s);
    free(v);
    st_release(x);
}

/* ---------------------------------------------------------------- argmax */

static void check_argmax(st_tensor *x, int axis, bool keep) {
    int nd = st_ndim(x), a = axis < 0 ? axis + nd : axis;
    st_tensor *r = st_argmax(x, axis, keep);
    CHECK_MSG(r != NULL, "argmax failed: %s", st_last_error());
    if (!r) return;
    CHECK(st_get_dtype(r) == ST_I64);
    CHECK(st_ndim(r) == (keep ? nd : nd - 1));
    const int64_t *sh = st_shape(x);
    double *xv = host(x), *got = host(r);
    int64_t len = sh[a], inner = 1, outer = 1;
    for (int d = a + 1; d < nd; d++) inner *= sh[d];
    for (int d = 0; d < a; d++) outer *= sh[d];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t best = 0;
            for (int64_t k = 0; k < len; k++) {
                double v = xv[(o * len + k) * inner + i], b = xv[(o * len + best) * inner + i];
                if (isnan(b)) break;
                if (isnan(v) || v > b) best = k;
            }
            CHECK_MSG(got[o * inner + i] == (double)best, "argmax axis %d [%lld,%lld]: got %g want %lld", axis,
                      (long long)o, (long long)i, got[o * inner + i], (long long)best);
        }
    free(xv);
    free(got);
    st_release(r);
}

TEST(argmax_random_ties_nan) {
    seed_here(6);
    for (int dt = 0; dt < 4; dt++) {
        st_tensor *x = rnd(3, (int64_t[]){4, 9, 6}, (st_dtype)dt); /* ints in [-50,50): ties */
        for (int a = -3; a < 3; a++) {
            check_argmax(x, a, false);
            check_argmax(x, a, true);
        }
        st_tensor *t = st_transpose(x, 0, 2);
        check_argmax(t, 1, false);
        check_argmax(t, 0, true);
        st_release(t);
        st_release(x);
    }
    double v[12] = {1, 3, 3, 2, /* tie: first */ 1, NAN, 5, NAN, /* first NaN */ 7, 7, 7, 7};
    st_tensor *x = st_from_data(v, 2, (int64_t[]){3, 4}, ST_F64);
    st_tensor *r = st_argmax(x, 1, false);
    int64_t got[3] = {-1, -1, -1};
    if (r) st_to_host(r, ST_I64, got, sizeof got);
    CHECK(got[0] == 1 && got[1] == 1 && got[2] == 0);
    st_tensor *xf = st_to_dtype(x, ST_F32);
    check_argmax(xf, 1, false);
    check_argmax(xf, 0, false);
    st_tensor *s = st_scalar(2.0, ST_F32), *rs = st_argmax(s, 0, false);
    double z = -1;
    CHECK(rs && st_ndim(rs) == 0 && st_item(rs, &z) == ST_OK && z == 0);
    st_release(rs);
    st_release(s);
    st_release(xf);
    st_release(r);
    st_release(x);
}

/* ---------------------------------------------------------------- softmax */

/* Reference softmax / log_softmax of x along axis a (double). */
static void ref_softmax(const double *x, int nd, const int64_t *sh, int a, bool lg, double *out) {
    int64_t len = sh[a], inner = 1, outer = 1;
    for (int d = a + 1; d < nd; d++) inner *= sh[d];
    for (int d = 0; d < a; d++) outer *= sh[d];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < len; k++) m = fmax(m, x[(o * len + k) * inner + i]);
            for (int64_t k = 0; k < len; k++) s += exp(x[(o * len + k) * inner + i] - m);
            for (int64_t k = 0; k < len; k++) {
                double v = x[(o * len + k) * inner + i] - m;
                out[(o * len + k) * inner + i] = lg ? v - log(s) : exp(v) / s;
            }
        }
}

static void check_softmax(st_tensor *x, int dim, bool lg) {
    int nd = st_ndim(x), a = dim < 0 ? dim + nd : dim;
    st_tensor *r = lg ? st_log_softmax(x, dim) : st_softmax(x, dim);
    CHECK_MSG(r != NULL, "softmax failed: %s", st_last_error());
    if (!r) return;
    CHECK(st_get_dtype(r) == st_get_dtype(x) && st_ndim(r) == nd);
    int64_t n = st_numel(x);
    double *xv = host(x), *got = host(r), *want = malloc(sizeof(double) * (size_t)n);
    ref_softmax(xv, nd, st_shape(x), a, lg, want);
    double tol = st_get_dtype(x) == ST_F32 ? 1e-5 : 1e-12;
    int bad = 0;
    for (int64_t i = 0; i < n && bad < 3; i++)
        if (!same(got[i], want[i], tol)) {
            CHECK_MSG(0, "%s dim %d [%lld]: got %.9g want %.9g", lg ? "log_softmax" : "softmax", dim, (long long)i,
                      got[i], want[i]);
            bad++;
        }
    free(xv);
    free(got);
    free(want);
    st_release(r);
}

TEST(softmax_random_and_views) {
    seed_here(7);
    for (int dt = 0; dt < 2; dt++) {
        st_tensor *x = rnd(3, (int64_t[]){4, 7, 33}, (st_dtype)dt);
        for (int d = -3; d < 3; d++) {
            check_softmax(x, d, false);
            check_softmax(x, d, true);
        }
        st_tensor *t = st_transpose(x, 1, 2);
        check_softmax(t, 2, false);
        check_softmax(t, -1, true);
        st_release(t);
        st_release(x);
    }
    st_tensor *big = rnd(2, (int64_t[]){64, 1000}, ST_F32);
    check_softmax(big, 1, false);
    check_softmax(big, 0, true);
    /* rows sum to 1 */
    st_tensor *sm = st_softmax(big, 1), *rs = sm ? st_sum(sm, (int[]){1}, 1, false) : NULL;
    double *v = rs ? host(rs) : NULL;
    for (int i = 0; v && i < 64; i++) CHECK_NEAR(v[i], 1.0, 1e-5);
    free(v);
    st_release(rs);
    st_release(sm);
    st_release(big);
}

TEST(softmax_large_logits_and_edges) {
    double v[6] = {1000, 1001, 999, -1000, -1001, -1002};
    st_tensor *x = st_from_data(v, 2, (int64_t[]){2, 3}, ST_F64), *xf = st_to_dtype(x, ST_F32);
    check_softmax(xf, 1, false);
    check_softmax(xf, 1, true);
    check_softmax(x, 1, true);
    st_tensor *s = st_softmax(xf, 1);
    double *h = s ? host(s) : NULL;
    for (int i = 0; h && i < 6; i++) CHECK(isfinite(h[i]));
    free(h);
    st_release(s);
    /* 0-d: softmax 1, log_softmax 0 */
    st_tensor *z = st_scalar(5.0, ST_F32), *zs = st_softmax(z, 0), *zl = st_log_softmax(z, -1);
    double a = -1, b = -1;
    CHECK(zs && st_item(zs, &a) == ST_OK && a == 1.0);
    CHECK(zl && st_item(zl, &b) == ST_OK && b == 0.0);
    /* errors */
    st_tensor *i = st_zeros(1, (int64_t[]){3}, ST_I32);
    CHECK(st_softmax(i, 0) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    CHECK_ERR_HAS("softmax");
    CHECK(st_log_softmax(xf, 2) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    CHECK_ERR_HAS("log_softmax");
    /* empty */
    st_tensor *e = st_zeros(2, (int64_t[]){0, 4}, ST_F32), *es = st_softmax(e, 1);
    CHECK(es && st_numel(es) == 0);
    st_release(es);
    st_release(e);
    st_release(i);
    st_release(zl);
    st_release(zs);
    st_release(z);
    st_release(xf);
    st_release(x);
}

/* ---------------------------------------------------------------- cross-entropy */

TEST(cross_entropy_matches_reference) {
    seed_here(8);
    int64_t N = 9, C = 5;
    for (int dt = 0; dt < 2; dt++)
        for (int it = 0; it < 2; it++) {
            st_tensor *lg = rnd(2, (int64_t[]){N, C}, (st_dtype)dt);
            double tg[9];
            for (int i = 0; i < N; i++) tg[i] = floor(urand() * (double)C);
            st_tensor *t0 = st_from_data(tg, 1, &N, ST_F64), *t = st_to_dtype(t0, it ? ST_I64 : ST_I32);
            st_tensor *ce = st_cross_entropy(lg, t);
            CHECK_MSG(ce != NULL, "cross_entropy: %s", st_last_error());
            double *x = host(lg), want = 0, got = 0;
            for (int n = 0; n < N; n++) {
                double m = -INFINITY, s = 0;
                for (int c = 0; c < C; c++) m = fmax(m, x[n * C + c]);
                for (int c = 0; c < C; c++) s += exp(x[n * C + c] - m);
                want -= x[n * C + (int)tg[n]] - m - log(s);
            }
            want /= (double)N;
            CHECK(ce && st_ndim(ce) == 0 && st_item(ce, &got) == ST_OK);
            CHECK_NEAR(got, want, dt == 0 ? 1e-5 : 1e-12);
            free(x);
            st_release(ce);
            st_release(t);
            st_release(t0);
            st_release(lg);
        }
}

TEST(cross_entropy_errors) {
    st_tensor *lg = st_zeros(2, (int64_t[]){3, 4}, ST_F32);
    int64_t bad[3] = {0, 4, 1};
    st_tensor *t = st_from_data(bad, 1, (int64_t[]){3}, ST_I64);
    CHECK(st_cross_entropy(lg, t) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    CHECK_ERR_HAS("targets[1] = 4");
    int64_t neg[3] = {0, -1, 1};
    st_tensor *tn = st_from_data(neg, 1, (int64_t[]){3}, ST_I64);
    CHECK(st_cross_entropy(lg, tn) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    st_tensor *t2 = st_zeros(1, (int64_t[]){2}, ST_I64);
    CHECK(st_cross_entropy(lg, t2) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("f32[3,4]");
    CHECK_ERR_HAS("i64[2]");
    st_tensor *tf = st_zeros(1, (int64_t[]){3}, ST_F32);
    CHECK(st_cross_entropy(lg, tf) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    st_release(tf);
    st_release(t2);
    st_release(tn);
    st_release(t);
    st_release(lg);
}
