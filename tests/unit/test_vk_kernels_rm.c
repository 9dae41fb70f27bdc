/* test_vk_kernels_rm.c — Vulkan reductions, argmax, softmax, scatter and matmul against
 * the CPU backend beyond test-ops' sizes: a 2^24-element f32 sum (two-pass split, error
 * vs a double reference no worse than the CPU's), both tree variants (subgroup
 * arithmetic and shared memory, forced by ST_VULKAN_REDUCE_SHARED=1) with NaN, a
 * deterministic scatter-add bit-identical to the CPU, and matmuls of odd sizes with
 * transposed, sliced and broadcast operands (300x517x211, 1024^3).
 * Skips (passing) with a message when the build has no Vulkan backend or no device.
 */
#include "testlib.h"

#include <math.h>
#include <stdlib.h>

#ifdef ST_HAVE_VULKAN
#include "vulkan/vk_internal.h"

static const st_device VK = {ST_BACKEND_VULKAN, 0};
static const st_device CPU = {ST_BACKEND_CPU, 0};

static bool have_vk(void) { return tl_have_device(ST_BACKEND_VULKAN); }

/* Host copy (contiguous f32/f64/i64 as double) of t; caller frees. */
static double *host(st_tensor *t, int64_t *n) {
    st_tensor *h = st_to_device(t, CPU), *c = st_contiguous(h);
    *n = st_numel(c);
    double *out = malloc(sizeof(double) * (size_t)(*n ? *n : 1));
    const void *p = st_data_ptr(c);
    for (int64_t i = 0; i < *n; i++) {
        switch (st_get_dtype(c)) {
        case ST_F32: out[i] = ((const float *)p)[i]; break;
        case ST_F64: out[i] = ((const double *)p)[i]; break;
        case ST_I64: out[i] = (double)((const int64_t *)p)[i]; break;
        default: out[i] = ((const int32_t *)p)[i]; break;
        }
    }
    st_release(c);
    st_release(h);
    return out;
}

/* Shaders dispatched while tracing (names joined by spaces). */
static char g_trace[4096];
static void on_dispatch(void *ud, const stvk_kernel *k, const uint32_t groups[3]) {
    (void)ud, (void)groups;
    size_t l = strlen(g_trace);
    if (l + strlen(k->shader) + 2 < sizeof g_trace) snprintf(g_trace + l, sizeof g_trace - l, "%s ", k->shader);
}

static st_tensor *randn_on(st_device dev, int nd, const int64_t *shape, uint64_t seed) {
    st_manual_seed(seed);
    st_tensor *c = st_randn(nd, shape, ST_F32); /* default device: the CPU */
    st_tensor *r = st_to_device(c, dev);
    st_release(c);
    return r;
}

TEST(sum_2p24_two_pass_accuracy) {
    if (!have_vk()) return;
    int64_t n = (int64_t)1 << 24, m;
    st_tensor *xc = randn_on(CPU, 1, &n, 11);
    st_tensor *xa = st_add_scalar(xc, 0.25); /* a non-zero mean: the sum grows with n */
    st_tensor *xv = st_to_device(xa, VK);
    double *x = host(xa, &m), ref = 0, mag = 0;
    for (int64_t i = 0; i < n; i++) ref += x[i], mag += fabs(x[i]);
    g_trace[0] = 0;
    stvk_trace(0, on_dispatch, NULL);
    st_tensor *sv = st_sum(xv, NULL, 0, false), *sc = st_sum(xa, NULL, 0, false);
    stvk_trace(0, NULL, NULL);
    double gv = NAN, cv = NAN;
    st_item(sv, &gv);
    st_item(sc, &cv);
    double eg = fabs(gv - ref), ec = fabs(cv - ref), u = ldexp(1.0, -24);
    printf("  sum of 2^24: ref %.6f vulkan err %.3g cpu err %.3g (u*sum|x| = %.3g); kernels: %s\n", ref, eg, ec,
           u * mag, g_trace);
    /* two dispatches of the reduction (pass 1 partials, pass 2) */
    CHECK_MSG(strstr(g_trace, "rm_red_f32_f32") && strchr(strchr(g_trace, ' ') + 1, 'r'), "%s", g_trace);
    CHECK_MSG(eg <= 64 * u * mag && eg <= ec + 16 * u * mag, "vulkan err %g, cpu err %g", eg, ec);
    free(x);
    st_release(xc), st_release(xa), st_release(xv), st_release(sv), st_release(sc);
}

/* max/min/argmax/sum/softmax on both tree variants agree with the CPU exactly (max, min,
 * argmax) or within rounding (sum, softmax). */
static void trees_once(bool shared) {
    if (shared) setenv("ST_VULKAN_REDUCE_SHARED", "1", 1);
    else unsetenv("ST_VULKAN_REDUCE_SHARED");
    int64_t sh[2] = {3, 100003}, m1, m2;
    st_tensor *xc = randn_on(CPU, 2, sh, 5);
    float *p = st_data_ptr(xc);
    p[77777] = NAN;           /* row 0: NaN wins max/min/argmax */
    p[100003 + 5] = 1e30f;    /* row 1: a unique maximum */
    p[2 * 100003 + 9] = 1e30f; /* row 2: two equal maxima: the first index */
    p[2 * 100003 + 90000] = 1e30f;
    st_tensor *xv = st_to_device(xc, VK);
    int ax = 1;
    g_trace[0] = 0;
    stvk_trace(0, on_dispatch, NULL);
    st_tensor *r[5][2];
    for (int d = 0; d < 2; d++) {
        st_tensor *x = d ? xv : xc;
        r[0][d] = st_max(x, &ax, 1, false);
        r[1][d] = st_min(x, &ax, 1, false);
        r[2][d] = st_argmax(x, 1, false);
        r[3][d] = st_sum(x, &ax, 1, false);
        r[4][d] = st_softmax(x, 1);
    }
    stvk_trace(0, NULL, NULL);
    const stvk_caps *c = stvk_caps_of(0);
    bool sg = c && c->subgroup_size && (c->subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    CHECK_MSG((strstr(g_trace, "_sg ") != NULL) == (sg && !shared), "shared=%d: %s", shared, g_trace);
    for (int k = 0; k < 5; k++) {
        double *a = host(r[k][0], &m1), *b = host(r[k][1], &m2);
        CHECK(m1 == m2);
        for (int64_t i = 0; i < m1 && i < m2; i++) {
            bool same = (isnan(a[i]) && isnan(b[i])) || a[i] == b[i];
            double tol = k == 3 ? 1e-5 * 400 : k == 4 ? 1e-6 + 1e-5 * fabs(a[i]) : 0;
            CHECK_MSG(same || fabs(a[i] - b[i]) <= tol, "op %d shared=%d [%lld]: cpu %g vulkan %g", k, shared,
                      (long long)i, a[i], b[i]);
            if (!same && fabs(a[i] - b[i]) > tol) break;
        }
        free(a), free(b);
        st_release(r[k][0]), st_release(r[k][1]);
    }
    st_release(xc), st_release(xv);
    unsetenv("ST_VULKAN_REDUCE_SHARED");
}

TEST(reduce_trees_subgroup_and_shared) {
    if (!have_vk()) return;
    trees_once(false);
    trees_once(true);
}

TEST(scatter_add_deterministic_bit_identical) {
    if (!have_vk()) return;
    int64_t xs[2] = {7, 50}, is[2] = {4000, 50}, m1, m2;
    int64_t *idx = malloc(sizeof(int64_t) * 4000 * 50);
    srand(3);
    for (int i = 0; i < 4000 * 50; i++) idx[i] = rand() % 7;
    st_tensor *ic = st_from_data_on(CPU, idx, 2, is, ST_I64), *iv = st_to_device(ic, VK);
    st_tensor *xc = randn_on(CPU, 2, xs, 8), *sc = randn_on(CPU, 2, is, 9);
    st_tensor *xv = st_to_device(xc, VK), *sv = st_to_device(sc, VK);
    st_tensor *want = st_scatter(xc, 0, ic, sc, true);
    st_tensor *g1 = st_scatter(xv, 0, iv, sv, true), *g2 = st_scatter(xv, 0, iv, sv, true);
    double *a = host(want, &m1), *b = host(g1, &m2), *b2 = host(g2, &m2);
    for (int64_t i = 0; i < m1; i++) {
        CHECK_MSG(a[i] == b[i] && b[i] == b2[i], "[%lld]: cpu %.9g vulkan %.9g / %.9g", (long long)i, a[i], b[i],
                  b2[i]);
        if (a[i] != b[i] || b[i] != b2[i]) break;
    }
    free(a), free(b), free(b2), free(idx);
    st_release(ic), st_release(iv), st_release(xc), st_release(sc), st_release(xv), st_release(sv);
    st_release(want), st_release(g1), st_release(g2);
}

/* a @ b on Vulkan vs the CPU; |err| <= 4 u K max|a| max|b| (randn: a generous bound). */
static void mm_case(const char *what, st_tensor *a, st_tensor *b) {
    st_tensor *ac = st_to_device(a, CPU), *bc = st_to_device(b, CPU);
    st_tensor *want = st_matmul(ac, bc);
    st_tensor *got = st_matmul(a, b);
    st_release(ac), st_release(bc);
    CHECK_MSG(got && want, "%s: %s", what, st_last_error());
    if (!got || !want) return;
    int64_t m1, m2, K = st_shape(a)[st_ndim(a) - 1];
    double *x = host(want, &m1), *y = host(got, &m2), worst = 0;
    CHECK(m1 == m2);
    for (int64_t i = 0; i < m1; i++) worst = fmax(worst, fabs(x[i] - y[i]));
    double tol = 4 * ldexp(1.0, -24) * (double)K * 25.0;
    printf("  matmul %s: max err %.3g (tol %.3g)\n", what, worst, tol);
    CHECK_MSG(worst <= tol, "%s: max err %g > %g", what, worst, tol);
    free(x), free(y);
    st_release(want), st_release(got);
}

TEST(matmul_odd_strided_broadcast_vs_cpu) {
    if (!have_vk()) return;
    int64_t a1[2] = {300, 517}, b1[2] = {517, 211};
    st_tensor *a = randn_on(VK, 2, a1, 1), *b = randn_on(VK, 2, b1, 2);
    mm_case("300x517x211", a, b);
    /* 1024^3 with a transposed a and a column-sliced b (inner stride 2: packed first) */
    int64_t s1[2] = {1024, 1024}, s2[2] = {1024, 2048};
    st_tensor *at = randn_on(VK, 2, s1, 3), *bw = randn_on(VK, 2, s2, 4);
    st_tensor *att = st_transpose(at, 0, 1);
    st_tensor *bs = st_slice(bw, 1, 0, 2048, 2);
    mm_case("1024^3 (a transposed, b sliced)", att, bs);
    /* batched a with a broadcast b (batch stride 0) */
    int64_t a3[3] = {3, 130, 70}, b3[2] = {70, 129};
    st_tensor *ab = randn_on(VK, 3, a3, 5), *bb = randn_on(VK, 2, b3, 6);
    mm_case("3x130x70 @ 70x129", ab, bb);
    st_release(a), st_release(b), st_release(at), st_release(bw), st_release(att), st_release(bs);
    st_release(ab), st_release(bb);
}

#else
TEST(no_vulkan_backend) { printf("  (built without the Vulkan backend; tests skipped)\n"); }
#endif

int main(int argc, char **argv) { return tl_main(argc, argv); }
