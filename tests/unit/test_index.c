/* test_index.c — concat, index_select, gather and scatter against brute-force
 * references on random shapes, dims, dtypes and strided layouts; index validation
 * and shape errors; 0-d and empty cases; allocation failures. */
#include "testlib.h"

static uint64_t g_rs;
static uint64_t rnd(void) {
    uint64_t z = (g_rs += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rint_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }
static void seed_rng(uint64_t salt) { g_rs = tl_seed() * 0x2545F4914F6CDD1Dull + salt; }

static const st_dtype k_dtypes[4] = {ST_F32, ST_F64, ST_I32, ST_I64};

static void unravel(int64_t f, int nd, const int64_t *sh, int64_t *ix) {
    for (int d = nd - 1; d >= 0; d--) {
        ix[d] = sh[d] ? f % sh[d] : 0;
        f = sh[d] ? f / sh[d] : 0;
    }
}
static int64_t ravel(const int64_t *ix, int nd, const int64_t *sh) {
    int64_t f = 0;
    for (int d = 0; d < nd; d++) f = f * sh[d] + ix[d];
    return f;
}
static int64_t numel_of(int nd, const int64_t *sh) {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= sh[d];
    return n;
}

/* Host buffer of dtype dt from doubles. */
static void *to_dt(const double *v, int64_t n, st_dtype dt) {
    void *b = malloc((size_t)(n ? n : 1) * 8);
    for (int64_t i = 0; i < n; i++) {
        switch (dt) {
        case ST_F32: ((float *)b)[i] = (float)v[i]; break;
        case ST_F64: ((double *)b)[i] = v[i]; break;
        case ST_I32: ((int32_t *)b)[i] = (int32_t)v[i]; break;
        case ST_I64: ((int64_t *)b)[i] = (int64_t)v[i]; break;
        }
    }
    return b;
}

/* Tensor of logical shape `sh` with integer values in [lo, hi]; layout by mode:
 * 0 contiguous, 1 every other element of a larger tensor (offset 1), 2 permuted. */
static st_tensor *mk(int nd, const int64_t *sh, st_dtype dt, int mode, int64_t lo, int64_t hi) {
    int64_t bs[ST_MAX_DIMS];
    if (nd == 0) mode = 0;
    for (int d = 0; d < nd; d++) bs[d] = mode == 1 ? 2 * sh[d] + 1 : mode == 2 ? sh[nd - 1 - d] : sh[d];
    int64_t n = numel_of(nd, bs);
    double *v = malloc((size_t)(n ? n : 1) * sizeof(double));
    for (int64_t i = 0; i < n; i++) v[i] = (double)rint_in(lo, hi);
    void *b = to_dt(v, n, dt);
    st_tensor *t = st_from_data(b, nd, bs, dt);
    free(b);
    free(v);
    if (mode == 1) {
        for (int d = 0; d < nd; d++) {
            st_tensor *s = st_slice(t, d, 1, bs[d], 2);
            st_release(t);
            t = s;
        }
    } else if (mode == 2) {
        int perm[ST_MAX_DIMS];
        for (int d = 0; d < nd; d++) perm[d] = nd - 1 - d;
        st_tensor *p = st_permute(t, perm);
        st_release(t);
        t = p;
    }
    return t;
}

static double *host(st_tensor *t) {
    int64_t n = st_numel(t);
    double *v = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (st_to_host(t, ST_F64, v, (size_t)n * sizeof(double)) != ST_OK) memset(v, 0, (size_t)n * sizeof(double));
    return v;
}

/* Value as stored in dtype dt (the conversion the ops apply). */
static double as_dt(double v, st_dtype dt) {
    switch (dt) {
    case ST_F32: return (float)v;
    case ST_I32: return (int32_t)v;
    case ST_I64: return (double)(int64_t)v;
    default: return v;
    }
}

static int check_equal(st_tensor *out, const double *exp, int nd, const int64_t *sh, st_dtype dt, const char *what) {
    int bad = 0;
    if (!out) {
        CHECK_MSG(0, "%s: NULL result: %s", what, st_last_error());
        return 1;
    }
    CHECK_MSG(st_get_dtype(out) == dt, "%s: dtype %s, want %s", what, st_dtype_name(st_get_dtype(out)),
              st_dtype_name(dt));
    CHECK_MSG(st_ndim(out) == nd, "%s: ndim %d, want %d", what, st_ndim(out), nd);
    for (int d = 0; d < nd && st_ndim(out) == nd; d++)
        if (st_shape(out)[d] != sh[d]) bad = 1;
    CHECK_MSG(!bad, "%s: shape differs", what);
    if (bad || st_ndim(out) != nd) return 1;
    double *got = host(out);
    for (int64_t i = 0; i < numel_of(nd, sh); i++)
        if (got[i] != exp[i]) {
            CHECK_MSG(0, "%s: element %lld = %g, expected %g", what, (long long)i, got[i], exp[i]);
            bad = 1;
            break;
        }
    free(got);
    return bad;
}

/* Random shape: nd dims of size [lo, hi]. */
static void rand_shape(int nd, int64_t *sh, int64_t lo, int64_t hi) {
    for (int d = 0; d < nd; d++) sh[d] = rint_in(lo, hi);
}

/* ---------------------------------------------------------------- gather */

static void ref_gather(const double *xv, int nd, const int64_t *xs, int dim, const double *iv, const int64_t *is,
                       double *out) {
    int64_t ix[ST_MAX_DIMS] = {0};
    for (int64_t f = 0; f < numel_of(nd, is); f++) {
        unravel(f, nd, is, ix);
        ix[dim] = (int64_t)iv[f];
        out[f] = xv[ravel(ix, nd, xs)];
    }
}

static void gather_case(int nd, int64_t lo, int64_t hi, int mode_x, int mode_i) {
    int64_t xs[ST_MAX_DIMS], is[ST_MAX_DIMS];
    rand_shape(nd, xs, lo, hi);
    int dim = nd ? (int)rint_in(0, nd - 1) : 0;
    if (nd) xs[dim] = xs[dim] ? xs[dim] : 1; /* a bound of 0 only fits an empty index */
    for (int d = 0; d < nd; d++) is[d] = d == dim ? rint_in(0, hi + 2) : rint_in(0, xs[d]);
    st_dtype dt = k_dtypes[rnd() % 4], it = rnd() % 2 ? ST_I32 : ST_I64;
    st_tensor *x = mk(nd, xs, dt, mode_x, -30, 30);
    st_tensor *idx = mk(nd, is, it, mode_i, 0, nd ? xs[dim] - 1 : 0);
    int pass_dim = (nd && rnd() % 2) ? dim - nd : dim; /* negative dims too */
    st_tensor *out = st_gather(x, pass_dim, idx);
    double *xv = host(x), *iv = host(idx);
    double *exp = malloc((size_t)(numel_of(nd, is) + 1) * sizeof(double));
    ref_gather(xv, nd, xs, dim, iv, is, exp);
    char what[64];
    snprintf(what, sizeof what, "gather nd=%d dim=%d %s", nd, pass_dim, st_dtype_name(dt));
    check_equal(out, exp, nd, is, dt, what);
    free(exp);
    free(iv);
    free(xv);
    st_release(out);
    st_release(idx);
    st_release(x);
}

TEST(gather_random) {
    seed_rng(1);
    for (int rep = 0; rep < 300; rep++) gather_case((int)rint_in(0, 5), 0, 5, (int)(rnd() % 3), (int)(rnd() % 3));
}

TEST(gather_large_parallel) {
    seed_rng(2);
    for (int rep = 0; rep < 4; rep++) gather_case(2 + rep % 2, 40, 90, rep % 3, (rep + 1) % 3);
}

/* ---------------------------------------------------------------- scatter */

static void ref_scatter(double *out, int nd, const int64_t *xs, int dim, const double *iv, const int64_t *is,
                        const double *sv, const int64_t *ss, bool add, st_dtype dt) {
    int64_t ix[ST_MAX_DIMS] = {0};
    for (int64_t f = 0; f < numel_of(nd, is); f++) {
        unravel(f, nd, is, ix);
        double v = as_dt(sv[ravel(ix, nd, ss)], dt);
        ix[dim] = (int64_t)iv[f];
        int64_t p = ravel(ix, nd, xs);
        out[p] = add ? as_dt(out[p] + v, dt) : v;
    }
}

static void scatter_case(int nd, int64_t lo, int64_t hi, bool add) {
    int64_t xs[ST_MAX_DIMS], is[ST_MAX_DIMS], ss[ST_MAX_DIMS];
    rand_shape(nd, xs, lo, hi);
    int dim = nd ? (int)rint_in(0, nd - 1) : 0;
    if (nd) xs[dim] = xs[dim] ? xs[dim] : 1;
    for (int d = 0; d < nd; d++) {
        is[d] = d == dim ? rint_in(0, hi + 3) : rint_in(0, xs[d]);
        ss[d] = is[d] + rint_in(0, 2);
    }
    st_dtype dt = k_dtypes[rnd() % 4], sdt = rnd() % 4 ? dt : k_dtypes[rnd() % 4];
    st_dtype it = rnd() % 2 ? ST_I32 : ST_I64;
    st_tensor *x = mk(nd, xs, dt, (int)(rnd() % 3), -30, 30);
    st_tensor *idx = mk(nd, is, it, (int)(rnd() % 3), 0, nd ? xs[dim] - 1 : 0);
    st_tensor *src = mk(nd, ss, sdt, (int)(rnd() % 3), -30, 30);
    int pass_dim = (nd && rnd() % 2) ? dim - nd : dim;
    double *xv = host(x);
    st_tensor *out = st_scatter(x, pass_dim, idx, src, add);
    double *exp = host(x), *iv = host(idx), *sv = host(src);
    ref_scatter(exp, nd, xs, dim, iv, is, sv, ss, add, dt);
    char what[80];
    snprintf(what, sizeof what, "scatter%s nd=%d dim=%d %s<-%s", add ? "_add" : "", nd, pass_dim, st_dtype_name(dt),
             st_dtype_name(sdt));
    check_equal(out, exp, nd, xs, dt, what);
    /* x itself is untouched (out-of-place). */
    double *x2 = host(x);
    CHECK(memcmp(xv, x2, (size_t)numel_of(nd, xs) * sizeof(double)) == 0);
    free(x2);
    free(xv);
    free(sv);
    free(iv);
    free(exp);
    st_release(out);
    st_release(src);
    st_release(idx);
    st_release(x);
}

TEST(scatter_random) {
    seed_rng(3);
    for (int rep = 0; rep < 300; rep++) scatter_case((int)rint_in(0, 5), 0, 5, rep % 2);
}

TEST(scatter_large_collisions) {
    seed_rng(4);
    /* Many indices per target line, big enough for the parallel path. */
    for (int rep = 0; rep < 4; rep++) scatter_case(2 + rep % 2, 30, 70, rep % 2);
    /* x [8, 3000], index [600, 3000] along dim 0: every target is hit ~75 times. */
    int64_t xs[2] = {8, 3000}, is[2] = {600, 3000};
    for (int add = 0; add < 2; add++) {
        st_tensor *x = mk(2, xs, ST_F64, 0, -5, 5), *idx = mk(2, is, ST_I64, 1, 0, 7),
                  *src = mk(2, is, ST_F64, 2, -9, 9);
        st_tensor *out = st_scatter(x, 0, idx, src, add);
        double *exp = host(x), *iv = host(idx), *sv = host(src);
        ref_scatter(exp, 2, xs, 0, iv, is, sv, is, add, ST_F64);
        check_equal(out, exp, 2, xs, ST_F64, add ? "big scatter_add" : "big scatter (later wins)");
        free(exp);
        free(iv);
        free(sv);
        st_release(out);
        st_release(x);
        st_release(idx);
        st_release(src);
    }
}

TEST(scatter_later_write_wins) {
    float xv[3] = {0, 0, 0}, sv[4] = {1, 2, 3, 4};
    int64_t iv[4] = {1, 1, 2, 1};
    st_tensor *x = st_from_data(xv, 1, (int64_t[]){3}, ST_F32);
    st_tensor *s = st_from_data(sv, 1, (int64_t[]){4}, ST_F32);
    st_tensor *i = st_from_data(iv, 1, (int64_t[]){4}, ST_I64);
    st_tensor *o = st_scatter(x, 0, i, s, false), *a = st_scatter(x, 0, i, s, true);
    float got[3];
    CHECK_STATUS(st_to_host(o, ST_F32, got, sizeof got), ST_OK);
    CHECK(got[0] == 0 && got[1] == 4 && got[2] == 3);
    CHECK_STATUS(st_to_host(a, ST_F32, got, sizeof got), ST_OK);
    CHECK(got[0] == 0 && got[1] == 7 && got[2] == 3);
    st_release(a);
    st_release(o);
    st_release(i);
    st_release(s);
    st_release(x);
}

/* ---------------------------------------------------------------- index_select */

static void index_select_case(int nd, int64_t lo, int64_t hi) {
    int64_t xs[ST_MAX_DIMS], os[ST_MAX_DIMS];
    rand_shape(nd, xs, lo, hi);
    int dim = (int)rint_in(0, nd - 1);
    xs[dim] = xs[dim] ? xs[dim] : 1;
    int64_t n = rint_in(0, hi + 3);
    memcpy(os, xs, sizeof xs);
    os[dim] = n;
    st_dtype dt = k_dtypes[rnd() % 4], it = rnd() % 2 ? ST_I32 : ST_I64;
    st_tensor *x = mk(nd, xs, dt, (int)(rnd() % 3), -30, 30);
    st_tensor *idx = mk(1, &n, it, (int)(rnd() % 2), 0, xs[dim] - 1);
    int pass_dim = rnd() % 2 ? dim - nd : dim;
    st_tensor *out = st_index_select(x, pass_dim, idx);
    double *xv = host(x), *iv = host(idx);
    double *exp = malloc((size_t)(numel_of(nd, os) + 1) * sizeof(double));
    int64_t ix[ST_MAX_DIMS];
    for (int64_t f = 0; f < numel_of(nd, os); f++) {
        unravel(f, nd, os, ix);
        ix[dim] = (int64_t)iv[ix[dim]];
        exp[f] = xv[ravel(ix, nd, xs)];
    }
    char what[64];
    snprintf(what, sizeof what, "index_select nd=%d dim=%d %s", nd, pass_dim, st_dtype_name(dt));
    check_equal(out, exp, nd, os, dt, what);
    free(exp);
    free(iv);
    free(xv);
    st_release(out);
    st_release(idx);
    st_release(x);
}

TEST(index_select_random) {
    seed_rng(5);
    for (int rep = 0; rep < 300; rep++) index_select_case((int)rint_in(1, 5), 0, 5);
    for (int rep = 0; rep < 4; rep++) index_select_case(2 + rep % 2, 40, 90);
    /* Many small slices (embedding lookup): the parallel-over-indices path. */
    int64_t xs[2] = {50, 3}, n = 40000;
    st_tensor *x = mk(2, xs, ST_F32, 0, -9, 9), *idx = mk(1, &n, ST_I32, 0, 0, 49);
    st_tensor *out = st_index_select(x, 0, idx);
    double *xv = host(x), *iv = host(idx), *exp = malloc((size_t)n * 3 * sizeof(double));
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++) exp[i * 3 + j] = xv[(int64_t)iv[i] * 3 + j];
    check_equal(out, exp, 2, (int64_t[]){n, 3}, ST_F32, "embedding lookup");
    free(exp);
    free(iv);
    free(xv);
    st_release(out);
    st_release(idx);
    st_release(x);
}

/* ---------------------------------------------------------------- concat */

static void concat_case(int nd, int64_t lo, int64_t hi) {
    int n = (int)rint_in(1, 5);
    int64_t base[ST_MAX_DIMS], sh[6][ST_MAX_DIMS], os[ST_MAX_DIMS];
    rand_shape(nd, base, lo, hi);
    int dim = (int)rint_in(0, nd - 1);
    st_tensor *ts[6];
    double *vals[6];
    st_dtype dt = ST_I32;
    static const int rank[4] = {2, 3, 0, 1}; /* f32, f64, i32, i64 */
    memcpy(os, base, sizeof base);
    os[dim] = 0;
    for (int k = 0; k < n; k++) {
        memcpy(sh[k], base, sizeof base);
        sh[k][dim] = rint_in(0, hi);
        os[dim] += sh[k][dim];
        st_dtype kd = k_dtypes[rnd() % 4];
        if (rank[kd] > rank[dt]) dt = kd;
        ts[k] = mk(nd, sh[k], kd, (int)(rnd() % 3), -30, 30);
        vals[k] = host(ts[k]);
    }
    int pass_dim = rnd() % 2 ? dim - nd : dim;
    st_tensor *out = st_concat(ts, n, pass_dim);
    double *exp = malloc((size_t)(numel_of(nd, os) + 1) * sizeof(double));
    int64_t ix[ST_MAX_DIMS];
    for (int64_t f = 0; f < numel_of(nd, os); f++) {
        unravel(f, nd, os, ix);
        int k = 0;
        while (ix[dim] >= sh[k][dim]) ix[dim] -= sh[k++][dim];
        exp[f] = vals[k][ravel(ix, nd, sh[k])];
    }
    char what[64];
    snprintf(what, sizeof what, "concat n=%d nd=%d dim=%d", n, nd, pass_dim);
    check_equal(out, exp, nd, os, dt, what);
    free(exp);
    for (int k = 0; k < n; k++) {
        free(vals[k]);
        st_release(ts[k]);
    }
    st_release(out);
}

TEST(concat_random) {
    seed_rng(6);
    for (int rep = 0; rep < 300; rep++) concat_case((int)rint_in(1, 5), 0, 5);
    for (int rep = 0; rep < 4; rep++) concat_case(2, 60, 200);
}

/* ---------------------------------------------------------------- errors and edges */

TEST(index_errors) {
    int64_t xs[2] = {3, 5};
    st_tensor *x = st_zeros(2, xs, ST_F32);
    int64_t iv[4] = {0, 4, 5, 1};
    st_tensor *i5 = st_from_data(iv, 2, (int64_t[]){2, 2}, ST_I64); /* holds 5 */
    CHECK(st_gather(x, 1, i5) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    CHECK_ERR_HAS("gather: index 5 is out of range for dim 1 of size 5");
    int32_t nv[2] = {0, -1};
    st_tensor *neg = st_from_data(nv, 1, (int64_t[]){2}, ST_I32);
    CHECK(st_index_select(x, 0, neg) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    CHECK_ERR_HAS("index_select: index -1 is out of range for dim 0 of size 3");
    st_tensor *src = st_ones(2, (int64_t[]){2, 2}, ST_F32);
    CHECK(st_scatter(x, 0, i5, src, false) == NULL); /* 4 and 5 >= 3 */
    CHECK(st_last_status() == ST_E_INDEX);
    CHECK_ERR_HAS("scatter: index 4 is out of range for dim 0 of size 3");
    /* Wrong dtype, ndim, shapes. */
    st_tensor *fi = st_zeros(2, (int64_t[]){2, 2}, ST_F32);
    CHECK(st_gather(x, 0, fi) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    CHECK_ERR_HAS("i32 or i64");
    CHECK(st_gather(x, 0, neg) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    st_tensor *wide = st_zeros(2, (int64_t[]){2, 6}, ST_I64);
    CHECK(st_gather(x, 0, wide) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("dim 1 (6 > 5)");
    st_tensor *small_src = st_ones(2, (int64_t[]){1, 2}, ST_F32);
    st_tensor *zi = st_zeros(2, (int64_t[]){2, 2}, ST_I64);
    CHECK(st_scatter(x, 0, zi, small_src, true) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("src");
    CHECK(st_index_select(x, 0, zi) == NULL);
    CHECK_ERR_HAS("1-D");
    CHECK(st_gather(x, 2, zi) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    CHECK(st_gather(NULL, 0, zi) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    /* The output of a failed scatter is never produced; x is unchanged. */
    double xv[15];
    st_to_host(x, ST_F64, xv, sizeof xv);
    for (int k = 0; k < 15; k++) CHECK(xv[k] == 0);
    st_release(zi);
    st_release(small_src);
    st_release(wide);
    st_release(fi);
    st_release(src);
    st_release(neg);
    st_release(i5);
    st_release(x);
}

TEST(concat_errors) {
    st_tensor *a = st_zeros(2, (int64_t[]){2, 3}, ST_F32), *b = st_zeros(2, (int64_t[]){2, 4}, ST_F32);
    st_tensor *c = st_zeros(1, (int64_t[]){3}, ST_F32), *s = st_scalar(1, ST_F32);
    st_tensor *ab[2] = {a, b}, *ac[2] = {a, c}, *ss[2] = {s, s}, *an[2] = {a, NULL};
    st_tensor *ok = st_concat(ab, 2, 1);
    CHECK(ok && st_shape(ok)[1] == 7);
    st_release(ok);
    CHECK(st_concat(ab, 2, 0) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("differ in dim 1");
    CHECK(st_concat(ac, 2, 0) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK(st_concat(ss, 2, 0) == NULL);
    CHECK_ERR_HAS("0-d");
    CHECK(st_concat(an, 2, 0) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    CHECK(st_concat(ab, 0, 0) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    CHECK(st_concat(ab, 2, 2) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    st_release(s);
    st_release(c);
    st_release(b);
    st_release(a);
}

TEST(zero_d_and_empty) {
    st_tensor *x = st_scalar(7, ST_F64), *i = st_scalar(0, ST_I64), *src = st_scalar(3, ST_F64);
    st_tensor *g = st_gather(x, 0, i);
    double v = 0;
    CHECK(g && st_ndim(g) == 0 && st_item(g, &v) == ST_OK && v == 7);
    st_tensor *sc = st_scatter(x, -1, i, src, true);
    CHECK(sc && st_item(sc, &v) == ST_OK && v == 10);
    st_tensor *one = st_scalar(1, ST_I64);
    CHECK(st_gather(x, 0, one) == NULL);
    CHECK(st_last_status() == ST_E_INDEX);
    st_release(one);
    st_release(sc);
    st_release(g);
    /* Empty index and empty x. */
    st_tensor *m = st_ones(2, (int64_t[]){3, 4}, ST_F32);
    st_tensor *e = st_empty(2, (int64_t[]){0, 4}, ST_I64);
    st_tensor *ge = st_gather(m, 0, e);
    CHECK(ge && st_numel(ge) == 0 && st_shape(ge)[1] == 4);
    st_tensor *se = st_scatter(m, 0, e, m, false);
    CHECK(se && st_numel(se) == 12);
    st_tensor *e1 = st_empty(1, (int64_t[]){0}, ST_I32);
    st_tensor *ie = st_index_select(m, 1, e1);
    CHECK(ie && st_shape(ie)[0] == 3 && st_shape(ie)[1] == 0);
    st_tensor *z = st_empty(2, (int64_t[]){0, 4}, ST_F32);
    st_tensor *ie2 = st_index_select(z, 1, e1);
    CHECK(ie2 && st_numel(ie2) == 0);
    st_release(ie2);
    st_release(z);
    st_release(ie);
    st_release(e1);
    st_release(se);
    st_release(ge);
    st_release(e);
    st_release(m);
    st_release(src);
    st_release(i);
    st_release(x);
}

TEST(alloc_failure_no_leak) {
    st_alloc_stats s0, s1;
    st_get_alloc_stats(&s0);
    CHECK_MSG(s0.live_allocs == 0, "%lld allocations alive before the test", (long long)s0.live_allocs);
    CHECK_STATUS(st_set_allocator(NULL), ST_OK);
    tl_install_fault_allocator();
    for (int n = 1; n < 60; n++) {
        tl_fail_alloc_at(n);
        int64_t sh[2] = {4, 5};
        st_tensor *a = st_ones(2, sh, ST_F32), *b = st_zeros(2, sh, ST_I64);
        st_tensor *ab[2] = {a, b};
        st_tensor *c = a && b ? st_concat(ab, 2, 0) : NULL;
        st_tensor *g = c ? st_gather(a, 1, b) : NULL;
        st_tensor *s = g ? st_scatter(b, 0, b, a, true) : NULL; /* f32 src into i64: a conversion */
        st_tensor *t = s ? st_zeros(1, (int64_t[]){3}, ST_I32) : NULL;
        st_tensor *ix = t ? st_index_select(a, 0, t) : NULL;
        bool ok = ix != NULL;
        if (!ok) CHECK(st_last_status() == ST_E_OOM);
        st_release(ix);
        st_release(t);
        st_release(s);
        st_release(g);
        st_release(c);
        st_release(b);
        st_release(a);
        st_get_alloc_stats(&s1);
        CHECK_MSG(s1.live_allocs == 0, "leak after failing allocation %d", n);
        if (ok && tl_alloc_count() < n) break;
    }
    tl_fail_alloc_at(0);
    CHECK_STATUS(st_set_allocator(NULL), ST_OK);
}

/* The concat record: inputs that need grad get their slice of the output gradient
 * (through a dtype promotion too); more than 4 of them is a clear error. */
TEST(concat_autograd_record) {
    seed_rng(7);
    st_tensor *ts[6];
    int64_t widths[6] = {2, 1, 3, 2, 1, 2}, total = 11;
    bool need[6] = {false, true, false, false, true, false};
    for (int k = 0; k < 6; k++) {
        ts[k] = mk(2, (int64_t[]){2, widths[k]}, k == 4 ? ST_F32 : ST_F64, 0, -5, 5);
        if (need[k]) CHECK_STATUS(st_set_requires_grad(ts[k], true), ST_OK);
    }
    st_tensor *out = st_concat(ts, 6, 1);
    CHECK(out && st_requires_grad(out));
    double gv[22];
    for (int i = 0; i < 22; i++) gv[i] = i;
    st_tensor *g = st_from_data(gv, 2, (int64_t[]){2, total}, ST_F64);
    CHECK_STATUS(st_backward(out, g), ST_OK);
    int64_t off = 0;
    for (int k = 0; k < 6; k++) {
        st_tensor *gk = st_grad(ts[k]);
        CHECK_MSG((gk != NULL) == need[k], "input %d: grad %s", k, gk ? "present" : "absent");
        if (gk) {
            double *h = host(gk);
            for (int r = 0; r < 2; r++)
                for (int j = 0; j < widths[k]; j++) CHECK(h[r * widths[k] + j] == gv[r * total + off + j]);
            free(h);
        }
        off += widths[k];
    }
    st_release(g);
    st_release(out);
    for (int k = 0; k < 5; k++) CHECK_STATUS(st_set_requires_grad(ts[k], true), ST_OK);
    CHECK(st_concat(ts, 6, 1) == NULL);
    CHECK(st_last_status() == ST_E_UNSUPPORTED);
    CHECK_ERR_HAS("more than 4 of the 6 inputs require grad");
    for (int k = 0; k < 6; k++) st_release(ts[k]);
}
