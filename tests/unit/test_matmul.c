/* test_matmul.c — st_matmul against a double-precision numpy.matmul reference written
 * here: 1-D promotion/removal, batch broadcasting, strided and expanded views, dtypes,
 * empty and K == 0 products, and error messages. */
#include "testlib.h"

#include "cpu/cpu.h" /* kernel-level checks of layouts the op layer never passes */

static int64_t numel_of(int nd, const int64_t *sh) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= sh[i];
    return n;
}

static double *host(const st_tensor *t) {
    int64_t n = st_numel(t);
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    if (st_to_host(t, ST_F64, v, sizeof(double) * (size_t)n) != ST_OK) {
        free(v);
        return NULL;
    }
    return v;
}

/* Reference numpy.matmul in double. Writes the result shape into osh/ond; returns a
 * malloc'd contiguous result. */
static double *ref_matmul(const double *a, int na, const int64_t *sa, const double *b, int nb, const int64_t *sb,
                          int *ond, int64_t *osh) {
    int64_t A[10], B[10]; /* promoted shapes */
    int pa = na, pb = nb;
    if (na == 1) {
        A[0] = 1, A[1] = sa[0], pa = 2;
    } else {
        memcpy(A, sa, sizeof(int64_t) * (size_t)na);
    }
    if (nb == 1) {
        B[0] = sb[0], B[1] = 1, pb = 2;
    } else {
        memcpy(B, sb, sizeof(int64_t) * (size_t)nb);
    }
    int64_t M = A[pa - 2], K = A[pa - 1], N = B[pb - 1];
    int nbat = (pa > pb ? pa : pb) - 2;
    int64_t bat[8];
    for (int d = 0; d < nbat; d++) {
        int ia = pa - 2 - nbat + d, ib = pb - 2 - nbat + d;
        int64_t x = ia >= 0 ? A[ia] : 1, y = ib >= 0 ? B[ib] : 1;
        bat[d] = x == 1 ? y : x;
    }
    *ond = 0;
    for (int d = 0; d < nbat; d++) osh[(*ond)++] = bat[d];
    if (na > 1) osh[(*ond)++] = M;
    if (nb > 1) osh[(*ond)++] = N;
    int64_t nbt = numel_of(nbat, bat);
    double *c = calloc((size_t)(nbt * M * N + 1), sizeof(double));
    for (int64_t t = 0; t < nbt; t++) {
        /* batch offsets of a and b (broadcast dims use index 0) */
        int64_t r = t, oa = 0, ob = 0, stra = M * K, strb = K * N;
        for (int d = nbat - 1; d >= 0; d--) {
            int64_t i = r % bat[d];
            r /= bat[d];
            int ia = pa - 2 - nbat + d, ib = pb - 2 - nbat + d;
            if (ia >= 0) {
                oa += (A[ia] == 1 ? 0 : i) * stra;
                stra *= A[ia];
            }
            if (ib >= 0) {
                ob += (B[ib] == 1 ? 0 : i) * strb;
                strb *= B[ib];
            }
        }
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++) s += a[oa + m * K + k] * b[ob + k * N + n];
                c[t * M * N + m * N + n] = s;
            }
    }
    return c;
}

/* Checks st_matmul(a, b) against the reference (shape, dtype, values). */
static void check_mm(st_tensor *a, st_tensor *b) {
    st_tensor *c = st_matmul(a, b);
    CHECK_MSG(c != NULL, "matmul failed: %s", st_last_error());
    if (!c) return;
    double *av = host(a), *bv = host(b);
    int ond;
    int64_t osh[10];
    double *want = ref_matmul(av, st_ndim(a), st_shape(a), bv, st_ndim(b), st_shape(b), &ond, osh);
    CHECK_MSG(st_ndim(c) == ond, "ndim %d want %d", st_ndim(c), ond);
    for (int d = 0; d < ond && d < st_ndim(c); d++) CHECK_MSG(st_shape(c)[d] == osh[d], "dim %d", d);
    st_dtype dt = st_get_dtype(a) == ST_F64 || st_get_dtype(b) == ST_F64 ? ST_F64 : ST_F32;
    CHECK(st_get_dtype(c) == dt);
    int64_t K = st_shape(a)[st_ndim(a) - 1];
    double tol = dt == ST_F32 ? 2e-6 * sqrt((double)K + 1) * 4 : 1e-12;
    double *got = host(c);
    int bad = 0;
    for (int64_t i = 0; i < st_numel(c) && bad < 3; i++)
        if (!(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i])))) {
            CHECK_MSG(0, "[%lld]: got %.9g want %.9g", (long long)i, got[i], want[i]);
            bad++;
        }
    free(got);
    free(want);
    free(av);
    free(bv);
    st_release(c);
}

static st_tensor *rn(int nd, const int64_t *sh, st_dtype dt) { return st_randn(nd, sh, dt); }

TEST(matmul_vector_forms) {
    st_tensor *v = rn(1, (int64_t[]){7}, ST_F32), *w = rn(1, (int64_t[]){7}, ST_F32);
    st_tensor *m = rn(2, (int64_t[]){7, 5}, ST_F32), *m2 = rn(2, (int64_t[]){3, 7}, ST_F32);
    check_mm(v, w);  /* -> 0-d */
    check_mm(v, m);  /* -> [5] */
    check_mm(m2, v); /* -> [3] */
    check_mm(m2, m); /* -> [3,5] */
    st_tensor *bt = rn(3, (int64_t[]){4, 7, 2}, ST_F32), *ba = rn(3, (int64_t[]){4, 3, 7}, ST_F32);
    check_mm(v, bt); /* -> [4,2] */
    check_mm(ba, v); /* -> [4,3] */
    st_tensor *v14 = rn(1, (int64_t[]){14}, ST_F32), *vs = st_slice(v14, 0, 0, 14, 2); /* strided vector */
    check_mm(vs, m);
    check_mm(m2, vs);
    check_mm(vs, vs);
    st_release(vs);
    st_release(v14);
    st_release(ba);
    st_release(bt);
    st_release(m2);
    st_release(m);
    st_release(w);
    st_release(v);
}

TEST(matmul_batched_broadcast) {
    st_tensor *a = rn(4, (int64_t[]){2, 1, 3, 4}, ST_F32), *b = rn(3, (int64_t[]){5, 4, 6}, ST_F32);
    check_mm(a, b); /* -> [2,5,3,6] */
    st_tensor *c = rn(2, (int64_t[]){3, 4}, ST_F64), *d = rn(3, (int64_t[]){2, 4, 5}, ST_F64);
    check_mm(c, d); /* a broadcast over b's batch */
    st_tensor *e = rn(3, (int64_t[]){6, 5, 4}, ST_F64), *f = rn(2, (int64_t[]){4, 3}, ST_F64);
    check_mm(e, f); /* b shared by every batch: folded into one call */
    st_tensor *g = rn(4, (int64_t[]){3, 2, 5, 4}, ST_F32), *h = rn(4, (int64_t[]){3, 2, 4, 6}, ST_F32);
    check_mm(g, h); /* dense batches merge */
    st_tensor *gp = st_permute(g, (int[]){1, 0, 2, 3}), *hp = rn(4, (int64_t[]){2, 3, 4, 6}, ST_F32);
    check_mm(gp, hp); /* permuted batch dims: not mergeable, one kernel call per outer index */
    st_release(hp);
    st_release(gp);
    st_release(h);
    st_release(g);
    st_release(f);
    st_release(e);
    st_release(d);
    st_release(c);
    st_release(b);
    st_release(a);
}

TEST(matmul_strided_views) {
    st_tensor *a = rn(2, (int64_t[]){40, 30}, ST_F32), *b = rn(2, (int64_t[]){50, 40}, ST_F32);
    st_tensor *at = st_transpose(a, 0, 1); /* [30,40] column-major */
    st_tensor *bt = st_transpose(b, 0, 1); /* [40,50] */
    check_mm(at, bt);
    check_mm(at, a);
    check_mm(b, a);
    st_tensor *as = st_slice(a, 1, 1, 30, 2);  /* [40,15] inner stride 2: packed */
    st_tensor *bs = st_slice(b, 0, 5, 20, 1);  /* [15,40] row slice, ld 40 */
    check_mm(as, bs);
    check_mm(bs, as);
    st_tensor *row = st_slice(a, 0, 0, 1, 1);
    st_tensor *ex = st_expand(row, 2, (int64_t[]){9, 30}); /* stride-0 rows: packed */
    check_mm(ex, at);
    st_tensor *col = st_slice(bt, 1, 3, 4, 1);                /* [40,1] */
    st_tensor *exc = st_expand(col, 2, (int64_t[]){40, 7}); /* stride-0 columns */
    check_mm(at, exc);
    st_tensor *b3 = rn(3, (int64_t[]){3, 30, 8}, ST_F32), *b3t = st_transpose(b3, 1, 2); /* [3,8,30] */
    check_mm(b3t, at); /* batched transposed a, shared b */
    st_release(b3t);
    st_release(b3);
    st_release(exc);
    st_release(col);
    st_release(ex);
    st_release(row);
    st_release(bs);
    st_release(as);
    st_release(bt);
    st_release(at);
    st_release(b);
    st_release(a);
}

TEST(matmul_dtypes_and_sizes) {
    st_tensor *a = rn(2, (int64_t[]){65, 129}, ST_F64), *b = rn(2, (int64_t[]){129, 33}, ST_F32);
    check_mm(a, b); /* mixed -> f64 */
    st_tensor *b2 = rn(2, (int64_t[]){33, 17}, ST_F32);
    check_mm(b, b2);
    st_release(b2);
    st_tensor *big_a = rn(2, (int64_t[]){200, 300}, ST_F32), *big_b = rn(2, (int64_t[]){300, 150}, ST_F32);
    check_mm(big_a, big_b);
    /* empty and K == 0 */
    st_tensor *e0 = st_zeros(2, (int64_t[]){0, 4}, ST_F32), *e1 = rn(2, (int64_t[]){4, 3}, ST_F32);
    st_tensor *r = st_matmul(e0, e1);
    CHECK(r && st_ndim(r) == 2 && st_shape(r)[0] == 0 && st_shape(r)[1] == 3);
    st_release(r);
    st_tensor *k0a = rn(2, (int64_t[]){3, 0}, ST_F32), *k0b = rn(2, (int64_t[]){0, 2}, ST_F32);
    r = st_matmul(k0a, k0b);
    double z[6] = {1, 1, 1, 1, 1, 1};
    CHECK(r && st_numel(r) == 6 && st_to_host(r, ST_F64, z, sizeof z) == ST_OK);
    for (int i = 0; i < 6; i++) CHECK(z[i] == 0.0);
    st_release(r);
    st_release(k0b);
    st_release(k0a);
    st_release(e1);
    st_release(e0);
    st_release(big_b);
    st_release(big_a);
    st_release(b);
    st_release(a);
}

TEST(matmul_errors) {
    st_tensor *a = st_zeros(2, (int64_t[]){2, 3}, ST_F32), *b = st_zeros(2, (int64_t[]){4, 5}, ST_F32);
    CHECK(st_matmul(a, b) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("matmul");
    CHECK_ERR_HAS("f32[2,3]");
    CHECK_ERR_HAS("f32[4,5]");
    st_tensor *i = st_zeros(2, (int64_t[]){3, 2}, ST_I32);
    CHECK(st_matmul(a, i) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    CHECK_ERR_HAS("i32[3,2]");
    st_tensor *s = st_scalar(1.0, ST_F32);
    CHECK(st_matmul(s, a) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    st_tensor *x = st_zeros(3, (int64_t[]){2, 2, 3}, ST_F32), *y = st_zeros(3, (int64_t[]){3, 3, 4}, ST_F32);
    CHECK(st_matmul(x, y) == NULL); /* batch 2 vs 3 */
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("f32[2,2,3]");
    CHECK(st_matmul(NULL, a) == NULL);
    CHECK(st_last_status() == ST_E_INVALID_ARG);
    st_release(y);
    st_release(x);
    st_release(s);
    st_release(i);
    st_release(b);
    st_release(a);
}

/* st_cpu_matmul directly: a column-major dst (written through scratch), a batch-shared
 * a with stride-0 rows (packed once), and b transposed per batch. */
TEST(matmul_kernel_layouts) {
    int64_t B = 3, M = 4, K = 5, N = 6;
    double a[4 * 5], b[3 * 6 * 5], c[3 * 6 * 4];
    for (int i = 0; i < 20; i++) a[i] = (double)(i % 7) - 3;
    for (int i = 0; i < 90; i++) b[i] = (double)((i * 5) % 11) - 5;
    st_kview av = {.handle = a, .dtype = ST_F64, .ndim = 3, .shape = {B, M, K}, .strides = {0, 0, 1}};
    st_kview bv = {.handle = b, .dtype = ST_F64, .ndim = 3, .shape = {B, K, N}, .strides = {30, 1, 5}};
    st_kview cv = {.handle = c, .dtype = ST_F64, .ndim = 3, .shape = {B, M, N}, .strides = {24, 1, 4}};
    CHECK_STATUS(st_cpu_matmul(0, &cv, &av, &bv), ST_OK);
    for (int64_t t = 0; t < B; t++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++) s += a[k] * b[t * 30 + n * 5 + k]; /* every row of a is row 0 */
                CHECK_NEAR(c[t * 24 + n * 4 + m], s, 1e-12);
            }
}
