/* test_elementwise.c — elementwise unary/binary/where ops against double-precision
 * references written here: every op and dtype, broadcasting, non-contiguous views,
 * 0-d and empty tensors, promotion, special values, a dense sweep of the f32
 * transcendental approximations (max ulp / relative error printed), large
 * multi-threaded inputs, error cases and allocation failures.
 * Different devices cannot be tested with only the CPU backend. */
#include "testlib.h"

#include <float.h>

/* ---------------------------------------------------------------- helpers */

static uint64_t g_rng;
static uint64_t rnd_u64(void) { /* splitmix64 */
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rnd_unit(void) { return (double)(rnd_u64() >> 11) * (1.0 / 9007199254740992.0); }
static double rnd_range(double lo, double hi) { return lo + (hi - lo) * rnd_unit(); }
static void seed_rng(uint64_t salt) { g_rng = tl_seed() ^ (salt * 0x2545f4914f6cdd1dull); }

static bool is_int(st_dtype dt) { return dt == ST_I32 || dt == ST_I64; }

/* Value as the dtype stores it. */
static double as_dtype(double v, st_dtype dt) {
    switch (dt) {
    case ST_F32: return (double)(float)v;
    case ST_I32:
    case ST_I64: return trunc(v);
    default: return v;
    }
}

static int64_t numel_of(int nd, const int64_t *sh) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= sh[i];
    return n;
}

/* Random tensor in [lo, hi); *host receives the values as stored (malloc'd). */
static st_tensor *rand_t(st_dtype dt, int nd, const int64_t *sh, double lo, double hi, double **host) {
    int64_t n = numel_of(nd, sh);
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) v[i] = as_dtype(rnd_range(lo, hi), dt);
    st_tensor *d = st_from_data(v, nd, sh, ST_F64);
    st_tensor *t = st_to_dtype(d, dt);
    st_release(d);
    *host = v;
    return t;
}

static st_tensor *from_doubles(const double *v, int nd, const int64_t *sh, st_dtype dt) {
    st_tensor *d = st_from_data(v, nd, sh, ST_F64);
    st_tensor *t = st_to_dtype(d, dt);
    st_release(d);
    return t;
}

static double *host_of(st_tensor *t) {
    int64_t n = st_numel(t);
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    CHECK_STATUS(st_to_host(t, ST_F64, v, sizeof(double) * (size_t)(n ? n : 1)), ST_OK);
    return v;
}

/* Flat index into a contiguous input of shape ish for output element `flat` of the
 * broadcast shape osh (right-aligned, size-1 dims repeat). */
static int64_t bidx(int ond, const int64_t *osh, int ind, const int64_t *ish, int64_t flat) {
    int64_t idx = 0, mul = 1;
    for (int d = ond - 1; d >= 0; d--) {
        int64_t i = flat % osh[d];
        flat /= osh[d];
        int j = ind - ond + d;
        if (j >= 0) {
            if (ish[j] != 1) idx += i * mul;
            mul *= ish[j];
        }
    }
    return idx;
}

/* got matches want: NaN with NaN, infinities exactly, else within rtol relative
 * (plus atol absolute). */
static bool close_to(double got, double want, double rtol, double atol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    return fabs(got - want) <= rtol * fabs(want) + atol;
}

/* ---------------------------------------------------------------- binary reference */

enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAX, B_MIN, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE, B_N };
typedef st_tensor *(*bin_fn)(st_tensor *, st_tensor *);
static const struct {
    const char *name;
    bin_fn fn;
} BIN[B_N] = {{"add", st_add}, {"sub", st_sub}, {"mul", st_mul},     {"div", st_div},     {"pow", st_pow},
              {"maximum", st_maximum}, {"minimum", st_minimum}, {"eq", st_eq}, {"ne", st_ne},
              {"lt", st_lt},   {"le", st_le},   {"gt", st_gt},       {"ge", st_ge}};

static double wrap_int(double v, st_dtype dt) { /* two's complement wrap of an integer value */
    if (dt == ST_I32) return (double)(int32_t)(uint32_t)(uint64_t)(int64_t)v;
    return v;
}

static double ref_binary(int op, double x, double y, st_dtype dt) {
    double r;
    switch (op) {
    case B_ADD: r = x + y; break;
    case B_SUB: r = x - y; break;
    case B_MUL: r = x * y; break;
    case B_DIV:
        if (is_int(dt)) return y == 0 ? 0 : wrap_int(trunc(x / y), dt);
        r = x / y;
        break;
    case B_POW: r = pow(x, y); break;
    case B_MAX: r = (isnan(x) || isnan(y)) ? NAN : (x > y ? x : y); break;
    case B_MIN: r = (isnan(x) || isnan(y)) ? NAN : (x < y ? x : y); break;
    case B_EQ: return x == y;
    case B_NE: return x != y;
    case B_LT: return x < y;
    case B_LE: return x <= y;
    case B_GT: return x > y;
    default: return x >= y;
    }
    return is_int(dt) ? wrap_int(r, dt) : as_dtype(r, dt);
}

/* Elementwise-exact for + - * / max min cmp (one rounding from double, which is exact
 * for those); pow gets a few ulp. */
static double bin_tol(int op, st_dtype dt) {
    if (op != B_POW) return 0;
    return dt == ST_F32 ? 4e-7 : 1e-15;
}

/* Run op on (a, b) and compare every element against the reference. */
static void check_binary(int op, st_tensor *a, const double *ha, st_tensor *b, const double *hb, st_dtype want_dt) {
    st_tensor *out = BIN[op].fn(a, b);
    CHECK_MSG(out != NULL, "%s(%s, %s) failed: %s", BIN[op].name, st_dtype_name(st_get_dtype(a)),
              st_dtype_name(st_get_dtype(b)), st_last_error());
    if (!out) return;
    CHECK(st_get_dtype(out) == want_dt);
    int ond = st_ndim(out);
    const int64_t *osh = st_shape(out);
    double *ho = host_of(out);
    int bad = 0;
    for (int64_t i = 0; i < st_numel(out) && bad < 5; i++) {
        double x = ha[bidx(ond, osh, st_ndim(a), st_shape(a), i)];
        double y = hb[bidx(ond, osh, st_ndim(b), st_shape(b), i)];
        double want = ref_binary(op, x, y, want_dt);
        if (!close_to(ho[i], want, bin_tol(op, want_dt), 0)) {
            CHECK_MSG(0, "%s %s: [%lld] %.9g op %.9g = %.9g, want %.9g", BIN[op].name, st_dtype_name(want_dt),
                      (long long)i, x, y, ho[i], want);
            bad++;
        }
    }
    free(ho);
    st_release(out);
}

static void value_range(int op, st_dtype dt, double *lo, double *hi) {
    *lo = is_int(dt) ? -20 : -4;
    *hi = is_int(dt) ? 20 : 4;
    if (op == B_POW) *lo = 0.05; /* float pow: positive bases */
}

/* ---------------------------------------------------------------- binary tests */

TEST(binary_all_ops_all_dtypes_broadcast) {
    seed_rng(1);
    const st_dtype dts[4] = {ST_F32, ST_F64, ST_I32, ST_I64};
    int64_t sa[3] = {3, 1, 5}, sb[2] = {4, 1};
    for (int di = 0; di < 4; di++) {
        st_dtype dt = dts[di];
        for (int op = 0; op < B_N; op++) {
            if (op == B_POW && is_int(dt)) continue;
            double lo, hi, *ha, *hb;
            value_range(op, dt, &lo, &hi);
            st_tensor *a = rand_t(dt, 3, sa, lo, hi, &ha);
            st_tensor *b = rand_t(dt, 2, sb, op == B_POW ? -2 : lo, op == B_POW ? 2 : hi, &hb);
            if (op >= B_EQ) hb[0] = ha[0]; /* an equal pair for the comparisons */
            st_release(b);
            b = from_doubles(hb, 2, sb, dt);
            check_binary(op, a, ha, b, hb, dt);
            check_binary(op, b, hb, a, ha, dt); /* and the other way round */
            const int64_t *oshape = NULL;
            st_tensor *o = BIN[op].fn(a, b);
            if (o) oshape = st_shape(o);
            CHECK(o && st_ndim(o) == 3 && oshape[0] == 3 && oshape[1] == 4 && oshape[2] == 5);
            st_release(o);
            st_release(a);
            st_release(b);
            free(ha);
            free(hb);
        }
    }
}

TEST(binary_noncontiguous_views) {
    seed_rng(2);
    const st_dtype dts[4] = {ST_F32, ST_F64, ST_I32, ST_I64};
    for (int di = 0; di < 4; di++) {
        st_dtype dt = dts[di];
        for (int op = 0; op < B_N; op++) {
            if (op == B_POW && is_int(dt)) continue;
            double lo, hi, *hbase_a, *hbase_b;
            value_range(op, dt, &lo, &hi);
            st_tensor *base_a = rand_t(dt, 2, (int64_t[]){5, 7}, lo, hi, &hbase_a);
            st_tensor *base_b = rand_t(dt, 2, (int64_t[]){7, 10}, 0.5, 3, &hbase_b);
            st_tensor *a = st_transpose(base_a, 0, 1);     /* [7,5], strides (1,7) */
            st_tensor *b = st_slice(base_b, 1, 1, 10, 2); /* [7,5], strides (10,2) */
            CHECK(a && b && !st_is_contiguous(a) && !st_is_contiguous(b));
            double *ha = host_of(a), *hb = host_of(b);
            check_binary(op, a, ha, b, hb, dt);
            /* a broadcast row (stride 0 view made by expand) */
            st_tensor *row = st_slice(b, 0, 2, 3, 1);
            st_tensor *e = st_expand(row, 2, (int64_t[]){7, 5});
            double *he = host_of(e);
            check_binary(op, a, ha, e, he, dt);
            free(he);
            st_release(e);
            st_release(row);
            free(ha);
            free(hb);
            free(hbase_a);
            free(hbase_b);
            st_release(a);
            st_release(b);
            st_release(base_a);
            st_release(base_b);
        }
    }
}

TEST(binary_promotion) {
    seed_rng(3);
    const st_dtype dts[4] = {ST_F32, ST_F64, ST_I32, ST_I64};
    /* result dtype of every pair: the larger of i32 < i64 < f32 < f64 */
    const int rank[4] = {[ST_I32] = 0, [ST_I64] = 1, [ST_F32] = 2, [ST_F64] = 3};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            st_dtype want = rank[dts[i]] >= rank[dts[j]] ? dts[i] : dts[j];
            double *ha, *hb;
            st_tensor *a = rand_t(dts[i], 2, (int64_t[]){2, 3}, -9, 9, &ha);
            st_tensor *b = rand_t(dts[j], 1, (int64_t[]){3}, 1, 9, &hb);
            check_binary(B_ADD, a, ha, b, hb, want);
            check_binary(B_DIV, a, ha, b, hb, want);
            check_binary(B_LT, a, ha, b, hb, want);
            check_binary(B_MAX, a, ha, b, hb, want);
            free(ha);
            free(hb);
            st_release(a);
            st_release(b);
        }
}

TEST(integer_semantics) {
    int32_t av[6] = {INT32_MAX, INT32_MIN, 7, -7, 7, INT32_MIN};
    int32_t bv[6] = {1, -1, 0, 2, -2, 1};
    st_tensor *a = st_from_data(av, 1, (int64_t[]){6}, ST_I32);
    st_tensor *b = st_from_data(bv, 1, (int64_t[]){6}, ST_I32);
    st_tensor *s = st_add(a, b), *d = st_div(a, b), *m = st_mul(a, b), *n = st_neg(a), *ab = st_abs(a);
    CHECK(s && d && m && n && ab);
    int32_t o[6];
    st_to_host(s, ST_I32, o, sizeof o);
    CHECK(o[0] == INT32_MIN && o[2] == 7); /* wraps */
    st_to_host(d, ST_I32, o, sizeof o);
    CHECK(o[1] == INT32_MIN); /* MIN / -1 wraps */
    CHECK(o[2] == 0);         /* x / 0 = 0 */
    CHECK(o[3] == -3 && o[4] == -3 && o[5] == INT32_MIN); /* truncation toward zero */
    st_to_host(m, ST_I32, o, sizeof o);
    CHECK(o[1] == INT32_MIN && o[3] == -14);
    st_to_host(n, ST_I32, o, sizeof o);
    CHECK(o[0] == -INT32_MAX && o[1] == INT32_MIN && o[3] == 7);
    st_to_host(ab, ST_I32, o, sizeof o);
    CHECK(o[1] == INT32_MIN && o[3] == 7);
    st_release(s);
    st_release(d);
    st_release(m);
    st_release(n);
    st_release(ab);
    st_release(a);
    st_release(b);
    int64_t lv[2] = {INT64_MIN, 5}, lz[2] = {-1, 0};
    a = st_from_data(lv, 1, (int64_t[]){2}, ST_I64);
    b = st_from_data(lz, 1, (int64_t[]){2}, ST_I64);
    d = st_div(a, b);
    int64_t lo[2];
    CHECK(d && st_to_host(d, ST_I64, lo, sizeof lo) == ST_OK && lo[0] == INT64_MIN && lo[1] == 0);
    st_release(d);
    st_release(a);
    st_release(b);
}

TEST(float_special_values_binary) {
    float av[8] = {NAN, 1.0f, NAN, INFINITY, -0.0f, 0.0f, -INFINITY, 2.0f};
    float bv[8] = {1.0f, NAN, NAN, 1.0f, 0.0f, 0.0f, INFINITY, 0.0f};
    st_tensor *a = st_from_data(av, 1, (int64_t[]){8}, ST_F32);
    st_tensor *b = st_from_data(bv, 1, (int64_t[]){8}, ST_F32);
    st_tensor *mx = st_maximum(a, b), *mn = st_minimum(a, b), *eq = st_eq(a, b), *ne = st_ne(a, b);
    st_tensor *dv = st_div(a, b);
    float o[8];
    st_to_host(mx, ST_F32, o, sizeof o);
    CHECK(isnan(o[0]) && isnan(o[1]) && isnan(o[2]) && o[3] == INFINITY && o[6] == INFINITY);
    st_to_host(mn, ST_F32, o, sizeof o);
    CHECK(isnan(o[0]) && isnan(o[1]) && isnan(o[2]) && o[3] == 1.0f && o[6] == -INFINITY);
    st_to_host(eq, ST_F32, o, sizeof o);
    CHECK(o[0] == 0 && o[2] == 0 && o[4] == 1 && o[5] == 1); /* NaN != NaN; -0 == 0 */
    st_to_host(ne, ST_F32, o, sizeof o);
    CHECK(o[0] == 1 && o[2] == 1 && o[4] == 0);
    st_to_host(dv, ST_F32, o, sizeof o);
    CHECK(isnan(o[4]) && o[7] == INFINITY && isnan(o[6]));
    st_release(mx);
    st_release(mn);
    st_release(eq);
    st_release(ne);
    st_release(dv);
    st_release(a);
    st_release(b);
}

TEST(scalar_forms) {
    seed_rng(4);
    double *h;
    st_tensor *x = rand_t(ST_F32, 2, (int64_t[]){4, 6}, 0.1, 3, &h);
    st_tensor *a = st_add_scalar(x, 1.5), *m = st_mul_scalar(x, -2.25), *p = st_pow_scalar(x, 2.0);
    st_tensor *p3 = st_pow_scalar(x, -1.3);
    CHECK(a && m && p && p3 && st_get_dtype(a) == ST_F32 && st_ndim(p) == 2);
    double *ha = host_of(a), *hm = host_of(m), *hp = host_of(p), *hp3 = host_of(p3);
    for (int i = 0; i < 24; i++) {
        CHECK(ha[i] == (double)(float)(h[i] + 1.5));
        CHECK(hm[i] == (double)(float)(h[i] * -2.25));
        CHECK(hp[i] == (double)(float)(h[i] * h[i]));
        CHECK_NEAR(hp3[i], pow(h[i], -1.3), 4e-7);
    }
    free(ha);
    free(hm);
    free(hp);
    free(hp3);
    st_release(a);
    st_release(m);
    st_release(p);
    st_release(p3);
    st_release(x);
    free(h);
    /* integer tensors: the scalar is converted to the tensor's dtype (truncation) */
    st_tensor *xi = st_arange(0, 5, 1, ST_I32);
    st_tensor *ai = st_add_scalar(xi, 2.7);
    CHECK(ai && st_get_dtype(ai) == ST_I32);
    int32_t oi[5];
    if (ai) st_to_host(ai, ST_I32, oi, sizeof oi);
    CHECK(ai && oi[0] == 2 && oi[4] == 6);
    st_tensor *mi = st_mul_scalar(xi, -3);
    if (mi) st_to_host(mi, ST_I32, oi, sizeof oi);
    CHECK(mi && oi[4] == -12);
    CHECK(st_pow_scalar(xi, 2) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    CHECK_ERR_HAS("pow_scalar");
    CHECK(st_add_scalar(xi, 1e12) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    CHECK(st_add_scalar(NULL, 1) == NULL);
    CHECK_ERR_HAS("add_scalar");
    st_release(ai);
    st_release(mi);
    st_release(xi);
    /* 0-d input */
    st_tensor *z = st_scalar(3.0, ST_F64);
    st_tensor *zs = st_mul_scalar(z, 0.5);
    double v = 0;
    CHECK(zs && st_ndim(zs) == 0 && st_item(zs, &v) == ST_OK && v == 1.5);
    st_release(zs);
    st_release(z);
}

/* ---------------------------------------------------------------- where */

/* where(c, a, b) against the reference; inputs may be any views (host copies are
 * read through st_to_host, so they are row-major whatever the strides). */
static void check_where(st_tensor *c, st_tensor *a, st_tensor *b, st_dtype want_dt) {
    st_tensor *w = st_where(c, a, b);
    CHECK_MSG(w != NULL, "where failed: %s", st_last_error());
    if (!w) return;
    CHECK(st_get_dtype(w) == want_dt);
    double *hc = host_of(c), *ha = host_of(a), *hb = host_of(b), *hw = host_of(w);
    int nd = st_ndim(w);
    const int64_t *osh = st_shape(w);
    int bad = 0;
    for (int64_t i = 0; i < st_numel(w) && bad < 5; i++) {
        double cv = hc[bidx(nd, osh, st_ndim(c), st_shape(c), i)];
        double want = cv != 0 ? ha[bidx(nd, osh, st_ndim(a), st_shape(a), i)] : hb[bidx(nd, osh, st_ndim(b), st_shape(b), i)];
        want = as_dtype(want, want_dt);
        if (!(hw[i] == want)) {
            CHECK_MSG(0, "where[%lld] = %g, want %g", (long long)i, hw[i], want);
            bad++;
        }
    }
    free(hc);
    free(ha);
    free(hb);
    free(hw);
    st_release(w);
}

TEST(where_broadcast_and_promotion) {
    seed_rng(5);
    double hc[15];
    for (int i = 0; i < 15; i++) hc[i] = (i % 3 == 0) ? 0.0 : (i % 3 == 1 ? -2.5 : NAN); /* NaN is true */
    int64_t sc[3] = {3, 1, 5}, sa[2] = {4, 1}, sb[1] = {5};
    const st_dtype cds[4] = {ST_F32, ST_F64, ST_I32, ST_I64};
    for (int ci = 0; ci < 4; ci++) {
        double hcc[15];
        for (int i = 0; i < 15; i++) hcc[i] = is_int(cds[ci]) && isnan(hc[i]) ? 7 : as_dtype(hc[i], cds[ci]);
        st_tensor *c = from_doubles(hcc, 3, sc, cds[ci]);
        double *ha, *hb, *hm;
        st_tensor *a = rand_t(ST_I32, 2, sa, -50, 50, &ha);
        st_tensor *b = rand_t(ST_F64, 1, sb, -1, 1, &hb);
        check_where(c, a, b, ST_F64);                 /* [3,1,5] x [4,1] x [5] -> [3,4,5] f64 */
        st_tensor *m = rand_t(ST_F32, 2, (int64_t[]){5, 4}, -9, 9, &hm);
        st_tensor *mt = st_transpose(m, 0, 1);        /* [4,5], non-contiguous */
        check_where(c, mt, a, ST_F32);
        st_tensor *cp = st_permute(c, (int[]){2, 1, 0}); /* [5,1,3] view */
        st_tensor *col = st_slice(m, 1, 1, 2, 1);        /* [5,1], strided */
        st_tensor *b3 = st_slice(b, 0, 0, 5, 2);         /* [3], stride 2 */
        check_where(cp, col, b3, ST_F64);             /* -> [5,5,3] */
        st_tensor *zero_d = st_scalar(0.5, ST_F32);
        check_where(zero_d, col, zero_d, ST_F32);
        st_release(zero_d);
        st_release(b3);
        st_release(cp);
        st_release(col);
        st_release(mt);
        st_release(m);
        st_release(a);
        st_release(b);
        st_release(c);
        free(ha);
        free(hb);
        free(hm);
    }
    st_tensor *x = st_ones(1, (int64_t[]){3}, ST_F32);
    CHECK(st_where(NULL, x, x) == NULL && st_last_status() == ST_E_INVALID_ARG);
    CHECK_ERR_HAS("where");
    st_tensor *y = st_ones(1, (int64_t[]){4}, ST_F32);
    CHECK(st_where(x, x, y) == NULL && st_last_status() == ST_E_SHAPE);
    st_release(x);
    st_release(y);
}

/* ---------------------------------------------------------------- unary */

enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_RELU, U_GELU, U_TANH, U_SIGMOID, U_N };
typedef st_tensor *(*un_fn)(st_tensor *);
static const struct {
    const char *name;
    un_fn fn;
    bool float_only;
    double lo, hi; /* random input range */
} UN[U_N] = {
    {"neg", st_neg, false, -50, 50},   {"exp", st_exp, true, -90, 90},       {"log", st_log, true, 1e-6, 1e6},
    {"sqrt", st_sqrt, true, 0, 1e4},   {"abs", st_abs, false, -50, 50},      {"relu", st_relu, false, -50, 50},
    {"gelu", st_gelu, true, -12, 12},  {"tanh", st_tanh, true, -12, 12},     {"sigmoid", st_sigmoid, true, -100, 40},
};

static double ref_unary(int op, double x) {
    switch (op) {
    case U_NEG: return -x;
    case U_EXP: return exp(x);
    case U_LOG: return log(x);
    case U_SQRT: return sqrt(x);
    case U_ABS: return fabs(x);
    case U_RELU: return isnan(x) ? x : (x > 0 ? x : 0);
    case U_GELU: return x == -INFINITY ? 0 : 0.5 * x * erfc(-x / sqrt(2.0));
    case U_TANH: return tanh(x);
    default: return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
    }
}

/* Tolerances: f32 approximations are a few ulp (gelu: 1e-6 absolute); exact ops 0. */
static void unary_tol(int op, st_dtype dt, double *rtol, double *atol) {
    *rtol = 0;
    *atol = 0;
    bool exact = op == U_NEG || op == U_ABS || op == U_RELU || op == U_SQRT;
    if (exact) return;
    if (dt == ST_F64) {
        *rtol = 1e-14;
        *atol = op == U_GELU ? 1e-15 : 0;
    } else {
        *rtol = 4.8e-7; /* 4 ulp */
        *atol = op == U_GELU ? 1e-6 : 1e-44;
    }
}

static void check_unary(int op, st_tensor *x, const double *hx) {
    st_tensor *out = UN[op].fn(x);
    CHECK_MSG(out != NULL, "%s(%s) failed: %s", UN[op].name, st_dtype_name(st_get_dtype(x)), st_last_error());
    if (!out) return;
    st_dtype dt = st_get_dtype(x);
    CHECK(st_get_dtype(out) == dt && st_ndim(out) == st_ndim(x) && st_numel(out) == st_numel(x));
    double rtol, atol;
    unary_tol(op, dt, &rtol, &atol);
    double *ho = host_of(out);
    int bad = 0;
    for (int64_t i = 0; i < st_numel(out) && bad < 5; i++) {
        double want = ref_unary(op, hx[i]);
        want = is_int(dt) ? wrap_int(want, dt) : as_dtype(want, dt);
        if (!close_to(ho[i], want, rtol, atol)) {
            CHECK_MSG(0, "%s %s: [%lld] f(%.9g) = %.9g, want %.9g", UN[op].name, st_dtype_name(dt), (long long)i,
                      hx[i], ho[i], want);
            bad++;
        }
    }
    free(ho);
    st_release(out);
}

TEST(unary_all_ops_dtypes_layouts) {
    seed_rng(6);
    const st_dtype dts[4] = {ST_F32, ST_F64, ST_I32, ST_I64};
    for (int di = 0; di < 4; di++)
        for (int op = 0; op < U_N; op++) {
            st_dtype dt = dts[di];
            double *h;
            st_tensor *x = rand_t(dt, 3, (int64_t[]){4, 5, 6}, UN[op].lo, UN[op].hi, &h);
            if (UN[op].float_only && is_int(dt)) {
                CHECK(UN[op].fn(x) == NULL);
                CHECK(st_last_status() == ST_E_DTYPE);
                CHECK_ERR_HAS(UN[op].name);
                CHECK_ERR_HAS(st_dtype_name(dt));
            } else {
                check_unary(op, x, h);
                st_tensor *p = st_permute(x, (int[]){2, 0, 1}); /* non-contiguous */
                st_tensor *s = st_slice(p, 1, 1, 4, 2);
                double *hp = host_of(p), *hs = host_of(s);
                check_unary(op, p, hp);
                check_unary(op, s, hs);
                free(hp);
                free(hs);
                st_release(s);
                st_release(p);
                /* 0-d and empty */
                st_tensor *z = st_scalar(h[0], dt);
                double hz = h[0];
                check_unary(op, z, &hz);
                st_tensor *e = st_empty(2, (int64_t[]){0, 3}, dt);
                st_tensor *eo = UN[op].fn(e);
                CHECK(eo && st_numel(eo) == 0 && st_ndim(eo) == 2 && st_shape(eo)[1] == 3);
                st_release(eo);
                st_release(e);
                st_release(z);
            }
            st_release(x);
            free(h);
        }
}

TEST(unary_special_values) {
    const double xs[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e-40, -1e-40, 1e-30, 88.7, 88.8, 89.5, -87.0,
                         -100.0, -103.5, -110.0, 1000.0, -1000.0, 9.5, -9.5, 20.0, -20.0, 0.625, -0.625,
                         1.41421356, -1.41421356, 5.9, -5.9, -14.0, 3e38, -3e38, 1.0, -1.0};
    int n = (int)(sizeof xs / sizeof xs[0]);
    for (int pass = 0; pass < 2; pass++) {
        st_dtype dt = pass ? ST_F64 : ST_F32;
        double h[64];
        for (int i = 0; i < n; i++) h[i] = as_dtype(xs[i], dt);
        st_tensor *x = from_doubles(h, 1, (int64_t[]){n}, dt);
        for (int op = 0; op < U_N; op++) check_unary(op, x, h);
        st_release(x);
    }
    /* a few exact expectations, stated directly */
    float v[6] = {-INFINITY, INFINITY, 0.0f, -1.0f, NAN, 100.0f};
    st_tensor *x = st_from_data(v, 1, (int64_t[]){6}, ST_F32);
    st_tensor *e = st_exp(x), *l = st_log(x), *t = st_tanh(x), *s = st_sigmoid(x), *r = st_relu(x);
    float o[6];
    st_to_host(e, ST_F32, o, sizeof o);
    CHECK(o[0] == 0.0f && o[1] == INFINITY && o[2] == 1.0f && isnan(o[4]) && o[5] == INFINITY);
    st_to_host(l, ST_F32, o, sizeof o);
    CHECK(isnan(o[0]) && o[1] == INFINITY && o[2] == -INFINITY && isnan(o[3]) && isnan(o[4]));
    st_to_host(t, ST_F32, o, sizeof o);
    CHECK(o[0] == -1.0f && o[1] == 1.0f && o[2] == 0.0f && o[5] == 1.0f && isnan(o[4]));
    st_to_host(s, ST_F32, o, sizeof o);
    CHECK(o[0] == 0.0f && o[1] == 1.0f && o[2] == 0.5f && o[5] == 1.0f && isnan(o[4]));
    st_to_host(r, ST_F32, o, sizeof o);
    CHECK(o[0] == 0.0f && o[1] == INFINITY && o[3] == 0.0f && isnan(o[4]));
    st_release(e);
    st_release(l);
    st_release(t);
    st_release(s);
    st_release(r);
    st_release(x);
}

/* ---------------------------------------------------------------- f32 approximation sweep */

static double ulp_f32(double v) { /* spacing of floats at |v| (denormal spacing near 0) */
    v = fabs(v);
    if (v < FLT_MIN) return ldexp(1.0, -149);
    int e;
    frexp(v, &e);
    return ldexp(1.0, e - 24);
}

/* Evaluate op through the public API on n inputs and record max ulp error (vs the
 * correctly rounded double result, so 0.5 is perfect) and max relative error. */
static void sweep(int op, const float *in, int64_t n, double *max_ulp, double *max_rel, double *max_abs) {
    st_tensor *x = st_from_data(in, 1, &n, ST_F32);
    st_tensor *y = UN[op].fn(x);
    CHECK(y != NULL);
    if (!y) {
        st_release(x);
        return;
    }
    const float *out = st_data_ptr(y);
    for (int64_t i = 0; i < n; i++) {
        double want = ref_unary(op, (double)in[i]);
        double got = out[i];
        if (isnan(want) || isinf(want) || isnan(got) || isinf(got)) {
            if (!((isnan(want) && isnan(got)) || got == want) && fabs(want) <= FLT_MAX) {
                CHECK_MSG(0, "%s(%.9g) = %.9g, want %.9g", UN[op].name, (double)in[i], got, want);
                return;
            }
            continue;
        }
        double err = fabs(got - want);
        double u = err / ulp_f32(want);
        if (u > *max_ulp) *max_ulp = u;
        if (want != 0 && fabs(want) >= FLT_MIN && err / fabs(want) > *max_rel) *max_rel = err / fabs(want);
        if (err > *max_abs) *max_abs = err;
    }
    st_release(y);
    st_release(x);
}

/* Inputs: every k-th float of one sign between lo and hi (bit stepping covers every
 * binade evenly), plus a uniform grid. */
static float *sweep_inputs(float lo, float hi, int64_t *n) {
    int64_t cap = 2200000, m = 0;
    float *v = malloc(sizeof(float) * (size_t)cap);
    for (int sgn = 0; sgn < 2; sgn++) {
        for (uint32_t u = 0; u < 0x7f800000u && m < cap / 2 * (sgn + 1); u += 1531) {
            uint32_t bits = u | (sgn ? 0x80000000u : 0);
            float f;
            memcpy(&f, &bits, sizeof f);
            if (f >= lo && f <= hi) v[m++] = f;
        }
    }
    for (int64_t i = 0; m < cap && i < 1000000; i++) v[m++] = lo + (hi - lo) * (float)i / 1000000.0f;
    *n = m;
    return v;
}

TEST(f32_transcendental_sweep) {
    const struct {
        int op;
        float lo, hi;
        double ulp_limit, rel_limit, abs_limit;
    } cases[] = {
        {U_EXP, -110.0f, 90.0f, 3.0, 3.0e-7, 0},      {U_LOG, 0.0f, FLT_MAX, 3.0, 2.5e-7, 0},
        {U_TANH, -30.0f, 30.0f, 3.0, 3.0e-7, 0},      {U_SIGMOID, -120.0f, 40.0f, 3.0, 3.0e-7, 0},
        {U_GELU, -30.0f, 30.0f, 1e9, 1e9, 1.0e-6},    {U_SQRT, 0.0f, FLT_MAX, 0.5, 6.0e-8, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t n;
        float *in = sweep_inputs(cases[c].lo, cases[c].hi, &n);
        double mu = 0, mr = 0, ma = 0;
        sweep(cases[c].op, in, n, &mu, &mr, &ma);
        printf("  f32 %-8s %8lld inputs in [%g, %g]: max %.3f ulp, max rel %.3g", UN[cases[c].op].name,
               (long long)n, (double)cases[c].lo, (double)cases[c].hi, mu, mr);
        if (cases[c].abs_limit > 0) printf(", max abs %.3g", ma);
        printf("\n");
        if (cases[c].abs_limit > 0) {
            CHECK_MSG(ma <= cases[c].abs_limit, "%s abs err %.3g", UN[cases[c].op].name, ma);
        } else {
            CHECK_MSG(mu <= cases[c].ulp_limit, "%s ulp err %.3f", UN[cases[c].op].name, mu);
            CHECK_MSG(mr <= cases[c].rel_limit, "%s rel err %.3g", UN[cases[c].op].name, mr);
        }
        free(in);
    }
    /* gelu keeps relative accuracy down the negative tail too */
    float g[2000];
    for (int i = 0; i < 2000; i++) g[i] = -12.0f + 11.0f * (float)i / 2000.0f;
    double mu = 0, mr = 0, ma = 0;
    sweep(U_GELU, g, 2000, &mu, &mr, &ma);
    printf("  f32 gelu on [-12, -1]: max rel %.3g\n", mr);
    CHECK(mr < 2e-5);
}

/* ---------------------------------------------------------------- large / threads */

TEST(large_tensors_multithreaded) {
    seed_rng(7);
    int64_t n = (1 << 20) + 3, sh2[2] = {1031, 1029};
    double *ha, *hb;
    st_tensor *a = rand_t(ST_F32, 1, &n, -5, 5, &ha);
    st_tensor *b = rand_t(ST_F32, 1, &n, -5, 5, &hb);
    check_binary(B_ADD, a, ha, b, hb, ST_F32);
    check_binary(B_MUL, a, ha, b, hb, ST_F32);
    check_unary(U_EXP, a, ha);
    check_unary(U_TANH, a, ha);
    /* broadcast against a column, and a transposed big matrix */
    double *hm, *hc;
    st_tensor *m = rand_t(ST_F32, 2, sh2, -3, 3, &hm);
    st_tensor *col = rand_t(ST_F32, 2, (int64_t[]){1031, 1}, -3, 3, &hc);
    check_binary(B_SUB, m, hm, col, hc, ST_F32);
    st_tensor *mt = st_transpose(m, 0, 1);
    double *hmt = host_of(mt);
    check_unary(U_SIGMOID, mt, hmt);
    /* results do not depend on the thread count */
    st_tensor *e1 = st_exp(a), *s1 = st_add(m, col);
    int saved = st_get_num_threads();
    st_set_num_threads(1);
    st_tensor *e2 = st_exp(a), *s2 = st_add(m, col);
    st_set_num_threads(3);
    st_tensor *e3 = st_exp(a);
    st_set_num_threads(saved);
    CHECK(e1 && e2 && e3 && s1 && s2);
    CHECK(memcmp(st_data_ptr(e1), st_data_ptr(e2), (size_t)n * 4) == 0);
    CHECK(memcmp(st_data_ptr(e1), st_data_ptr(e3), (size_t)n * 4) == 0);
    CHECK(memcmp(st_data_ptr(s1), st_data_ptr(s2), (size_t)(1031 * 1029) * 4) == 0);
    st_release(e1);
    st_release(e2);
    st_release(e3);
    st_release(s1);
    st_release(s2);
    free(hmt);
    st_release(mt);
    st_release(m);
    st_release(col);
    free(hm);
    free(hc);
    st_release(a);
    st_release(b);
    free(ha);
    free(hb);
}

/* ---------------------------------------------------------------- shapes and errors */

TEST(zero_dim_and_empty) {
    st_tensor *s = st_scalar(2.0, ST_F32), *t = st_scalar(3.0, ST_I64);
    st_tensor *r = st_mul(s, t);
    double v = 0;
    CHECK(r && st_ndim(r) == 0 && st_get_dtype(r) == ST_F32 && st_item(r, &v) == ST_OK && v == 6.0);
    st_tensor *vec = st_arange(0, 3, 1, ST_F32);
    st_tensor *r2 = st_sub(s, vec);
    float o[3];
    CHECK(r2 && st_ndim(r2) == 1 && st_to_host(r2, ST_F32, o, sizeof o) == ST_OK && o[0] == 2 && o[2] == 0);
    st_tensor *e = st_empty(2, (int64_t[]){0, 3}, ST_F32);
    st_tensor *r3 = st_add(e, vec);
    CHECK(r3 && st_ndim(r3) == 2 && st_shape(r3)[0] == 0 && st_shape(r3)[1] == 3);
    st_tensor *r4 = st_where(e, vec, s);
    CHECK(r4 && st_numel(r4) == 0);
    st_tensor *e1 = st_empty(2, (int64_t[]){4, 0}, ST_F64);
    st_tensor *col = st_ones(2, (int64_t[]){4, 1}, ST_F64);
    st_tensor *r5 = st_lt(col, e1);
    CHECK(r5 && st_shape(r5)[0] == 4 && st_shape(r5)[1] == 0);
    st_release(r);
    st_release(r2);
    st_release(r3);
    st_release(r4);
    st_release(r5);
    st_release(e);
    st_release(e1);
    st_release(col);
    st_release(vec);
    st_release(s);
    st_release(t);
}

TEST(error_cases) {
    st_tensor *a = st_ones(2, (int64_t[]){2, 3}, ST_F32);
    st_tensor *b = st_ones(1, (int64_t[]){4}, ST_F32);
    st_tensor *i = st_ones(1, (int64_t[]){3}, ST_I32);
    CHECK(st_add(a, b) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("add");
    CHECK_ERR_HAS("[2,3]");
    CHECK_ERR_HAS("[4]");
    CHECK(st_ge(b, a) == NULL);
    CHECK_ERR_HAS("ge");
    CHECK(st_pow(i, i) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    CHECK_ERR_HAS("pow");
    CHECK_ERR_HAS("i32");
    st_tensor *ok = st_pow(a, i); /* promoted to f32: fine */
    CHECK(ok != NULL);
    st_release(ok);
    CHECK(st_sqrt(i) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    CHECK_ERR_HAS("sqrt");
    CHECK(st_add(NULL, a) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    CHECK_ERR_HAS("add");
    CHECK(st_mul(a, NULL) == NULL);
    CHECK_ERR_HAS("mul");
    CHECK(st_exp(NULL) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    CHECK_ERR_HAS("exp");
    /* Different devices: only the CPU backend exists in this build; not testable. */
    st_release(a);
    st_release(b);
    st_release(i);
}

TEST(allocation_failures_do_not_leak) {
    st_alloc_stats s0, s1;
    st_get_alloc_stats(&s0);
    tl_install_fault_allocator();
    for (int n = 1; n < 30; n++) {
        st_tensor *a = st_ones(2, (int64_t[]){3, 4}, ST_I32);
        st_tensor *b = st_ones(1, (int64_t[]){4}, ST_F64);
        tl_fail_alloc_at(n);
        st_tensor *c = (a && b) ? st_add(a, b) : NULL;
        st_tensor *w = (a && b) ? st_where(a, b, a) : NULL;
        st_tensor *e = b ? st_exp(b) : NULL;
        st_tensor *k = a ? st_add_scalar(a, 2) : NULL;
        bool all = c && w && e && k;
        int64_t used = tl_alloc_count();
        tl_fail_alloc_at(0);
        st_release(c);
        st_release(w);
        st_release(e);
        st_release(k);
        st_release(a);
        st_release(b);
        st_get_alloc_stats(&s1);
        CHECK_MSG(s1.live_allocs == s0.live_allocs, "leak after failing allocation %d", n);
        if (all && used < n) break;
    }
    CHECK_STATUS(st_set_allocator(NULL), ST_OK);
}
