/* test_core.c — tensors, views, dtypes, errors, RNG, allocation hook, devices. */
#include "testlib.h"

TEST(create_and_read) {
    int64_t sh[2] = {2, 3};
    st_tensor *t = st_full(2, sh, ST_F32, 2.5);
    CHECK(t);
    CHECK(st_numel(t) == 6);
    float buf[6];
    CHECK_STATUS(st_to_host(t, ST_F32, buf, sizeof buf), ST_OK);
    for (int i = 0; i < 6; i++) CHECK(buf[i] == 2.5f);
    double d[6];
    CHECK_STATUS(st_to_host(t, ST_F64, d, sizeof d), ST_OK);
    CHECK(d[5] == 2.5);
    CHECK_STATUS(st_to_host(t, ST_F64, d, 8), ST_E_INVALID_ARG);
    CHECK_ERR_HAS("too small");
    st_release(t);
}

TEST(bad_shapes_are_errors) {
    int64_t neg[2] = {2, -1};
    CHECK(st_zeros(2, neg, ST_F32) == NULL);
    CHECK(st_last_status() == ST_E_SHAPE);
    CHECK_ERR_HAS("negative");
    CHECK(st_zeros(9, neg, ST_F32) == NULL);
    CHECK(st_zeros(1, (int64_t[]){3}, (st_dtype)9) == NULL);
    CHECK(st_last_status() == ST_E_DTYPE);
    int64_t huge[3] = {1 << 20, 1 << 20, 1 << 20};
    CHECK(st_zeros(3, huge, ST_F32) == NULL);
}

TEST(views_share_storage) {
    float data[12];
    for (int i = 0; i < 12; i++) data[i] = (float)i;
    int64_t sh[2] = {3, 4};
    st_tensor *t = st_from_data(data, 2, sh, ST_F32);
    st_tensor *tt = st_transpose(t, 0, 1);
    CHECK(st_shape(tt)[0] == 4 && st_shape(tt)[1] == 3);
    CHECK(!st_is_contiguous(tt));
    float out[12];
    CHECK_STATUS(st_to_host(tt, ST_F32, out, sizeof out), ST_OK);
    CHECK(out[1] == 4.0f && out[3] == 1.0f); /* tt[0][1] = t[1][0] = 4; tt[1][0] = t[0][1] = 1 */
    st_tensor *s = st_slice(t, 1, 1, 4, 2);  /* columns 1, 3 */
    CHECK(st_shape(s)[1] == 2);
    CHECK_STATUS(st_to_host(s, ST_F32, out, sizeof out), ST_OK);
    CHECK(out[0] == 1 && out[1] == 3 && out[2] == 5 && out[5] == 11);
    st_tensor *r = st_reshape(t, 1, (int64_t[]){-1});
    CHECK(r && st_shape(r)[0] == 12 && st_data_ptr(r) == st_data_ptr(t));
    st_tensor *r2 = st_reshape(tt, 1, (int64_t[]){12}); /* needs a copy */
    CHECK(r2 && st_data_ptr(r2) != st_data_ptr(t));
    CHECK_STATUS(st_to_host(r2, ST_F32, out, sizeof out), ST_OK);
    CHECK(out[1] == 4.0f);
    CHECK(st_reshape(t, 1, (int64_t[]){5}) == NULL);
    CHECK_ERR_HAS("12 elements");
    st_tensor *row = st_slice(t, 0, 0, 1, 1);
    st_tensor *e = st_expand(row, 2, (int64_t[]){5, 4});
    CHECK(e && st_shape(e)[0] == 5 && st_strides(e)[0] == 0);
    float big[20];
    CHECK_STATUS(st_to_host(e, ST_F32, big, sizeof big), ST_OK);
    CHECK(big[4] == 0.0f && big[7] == 3.0f && big[19] == 3.0f);
    CHECK(st_expand(t, 2, (int64_t[]){3, 8}) == NULL);
    CHECK_ERR_HAS("cannot expand");
    st_release(e);
    st_release(row);
    st_release(r2);
    st_release(r);
    st_release(s);
    st_release(tt);
    st_release(t);
}

TEST(rng_is_deterministic) {
    int64_t n = 1001;
    st_rng *g1 = st_rng_new(7), *g2 = st_rng_new(7);
    st_tensor *a = st_rand_gen(g1, 1, &n, ST_F32), *b = st_rand_gen(g2, 1, &n, ST_F32);
    float fa[1001], fb[1001];
    st_to_host(a, ST_F32, fa, sizeof fa);
    st_to_host(b, ST_F32, fb, sizeof fb);
    CHECK(memcmp(fa, fb, sizeof fa) == 0);
    double mean = 0;
    for (int i = 0; i < 1001; i++) {
        CHECK(fa[i] >= 0.0f && fa[i] < 1.0f);
        mean += fa[i];
    }
    CHECK(fabs(mean / 1001 - 0.5) < 0.05);
    st_release(a);
    st_release(b);
    int64_t m = 20000;
    st_tensor *z = st_randn_gen(g1, 1, &m, ST_F64);
    double *zd = malloc(sizeof(double) * 20000);
    st_to_host(z, ST_F64, zd, sizeof(double) * 20000);
    double s = 0, s2 = 0;
    for (int i = 0; i < 20000; i++) {
        s += zd[i];
        s2 += zd[i] * zd[i];
    }
    CHECK(fabs(s / 20000) < 0.05);
    CHECK(fabs(s2 / 20000 - 1.0) < 0.05);
    free(zd);
    st_release(z);
    st_rng_free(g1);
    st_rng_free(g2);
}

TEST(arange_and_dtypes) {
    st_tensor *a = st_arange(0, 5, 1, ST_I64);
    CHECK(a && st_numel(a) == 5);
    int64_t v[5];
    st_to_host(a, ST_I64, v, sizeof v);
    CHECK(v[4] == 4);
    st_release(a);
    a = st_arange(1, 0, 0.25, ST_F32);
    CHECK(a && st_numel(a) == 0);
    st_release(a);
    CHECK(st_arange(0, 1, 0, ST_F32) == NULL);
    CHECK_ERR_HAS("step");
    CHECK(st_rand(1, (int64_t[]){3}, ST_I32) == NULL);
    CHECK_ERR_HAS("float");
}

TEST(device_priorities) {
    st_device d;
    setenv("ST_DEVICE_AUTO_PRIORITIES", "bogus,cpu", 1);
    CHECK_STATUS(st_device_auto(&d), ST_E_INVALID_ARG);
    CHECK_ERR_HAS("bogus");
    CHECK_ERR_HAS("valid");
    setenv("ST_DEVICE_AUTO_PRIORITIES", "wgpu, cpu", 1);
    CHECK_STATUS(st_device_auto(&d), ST_OK);
    char rep[2048];
    st_device_auto_report(rep, sizeof rep);
    CHECK(strstr(rep, "cpu") != NULL);
    setenv("ST_DEVICE_AUTO_PRIORITIES", "cuda", 1);
    CHECK_STATUS(st_device_auto(&d), ST_OK);
    CHECK(d.kind == ST_BACKEND_CPU || st_backend_compiled(ST_BACKEND_CUDA));
    unsetenv("ST_DEVICE_AUTO_PRIORITIES");
    CHECK_STATUS(st_device_parse("cpu", &d), ST_OK);
    CHECK_STATUS(st_device_parse("tpu", &d), ST_E_INVALID_ARG);
    CHECK_ERR_HAS("tpu");
    CHECK_STATUS(st_device_parse("cpu:3", &d), ST_E_DEVICE);
}

static void *count_log_user;
static void log_cb(st_log_level l, const char *m, void *u) {
    (void)l;
    (void)m;
    count_log_user = u;
}
TEST(log_callback) {
    int tag;
    st_set_log_callback(log_cb, &tag);
    st_set_log_level(ST_LOG_DEBUG);
    setenv("ST_DEVICE_AUTO_PRIORITIES", "hip,cpu", 1);
    st_device d;
    st_device_auto(&d);
    unsetenv("ST_DEVICE_AUTO_PRIORITIES");
    CHECK(count_log_user == &tag);
    st_set_log_callback(NULL, NULL);
    st_set_log_level(ST_LOG_WARN);
}

TEST(alloc_failure_no_leak) {
    st_alloc_stats s0, s1;
    st_get_alloc_stats(&s0);
    CHECK(s0.live_allocs == 0);
    tl_install_fault_allocator();
    /* Fail each allocation of a small program in turn: every failure is reported and
     * nothing leaks. */
    for (int n = 1; n < 40; n++) {
        tl_fail_alloc_at(n);
        int64_t sh[2] = {4, 5};
        st_tensor *a = st_ones(2, sh, ST_F32);
        st_tensor *b = a ? st_transpose(a, 0, 1) : NULL;
        st_tensor *c = b ? st_contiguous(b) : NULL;
        bool ok = c != NULL;
        if (!ok) CHECK(st_last_status() == ST_E_OOM);
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

/* Large freed blocks are cached and reused; they count as freed, and installing an
 * allocator returns them first. */
TEST(large_block_cache) {
    st_alloc_stats s0, s1;
    st_get_alloc_stats(&s0);
    int64_t sh[2] = {1024, 4096}; /* 16 MiB of f32 */
    st_tensor *a = st_empty(2, sh, ST_F32);
    void *pa = st_data_ptr(a);
    st_release(a);
    st_get_alloc_stats(&s1);
    CHECK(s1.live_allocs == s0.live_allocs && s1.live_bytes == s0.live_bytes);
    int64_t sh2[2] = {1000, 4096}; /* within 25%: reuses the block */
    st_tensor *b = st_empty(2, sh2, ST_F32);
    CHECK(st_data_ptr(b) == pa);
    int64_t sh3[2] = {100, 4096}; /* much smaller: below the cache threshold, fresh */
    st_tensor *c = st_empty(2, sh3, ST_F32);
    CHECK(st_data_ptr(c) != pa);
    st_release(c);
    st_release(b);
    CHECK_STATUS(st_set_allocator(NULL), ST_OK);
}
