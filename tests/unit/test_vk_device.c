/* test_vk_device.c — the Vulkan device layer: discovery and clean fall-through, the
 * stream-ordered buffer pool, command batching (the host waits only on reads), transfers
 * of every size class, tensors beyond lavapipe's 128 MiB storage-buffer range, dispatches
 * of more than 65535 workgroups, dtype support and the pipeline cache.
 * Skips (passing) with a message when the build has no Vulkan backend or no device.
 */
#include "testlib.h"

#include <unistd.h>

#ifdef ST_HAVE_VULKAN
#include "vulkan/vk_internal.h"

static const st_device VK = {ST_BACKEND_VULKAN, 0};

static bool have_vk(void) {
    bool have = tl_have_device(ST_BACKEND_VULKAN);
    if (have) st_set_default_device(VK); /* every tensor of this file lives there */
    return have;
}

TEST(no_loader_falls_through_to_cpu) {
    char out[4096];
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ST_VULKAN_LOADER=/nonexistent/libvulkan.so.1 %s/spiral info 2>&1", ST_BINARY_DIR);
    int rc = tl_run_cmd(cmd, out, sizeof out);
    CHECK(rc == 0);
    CHECK_MSG(strstr(out, "no Vulkan loader") != NULL, "%s", out);
    CHECK_MSG(strstr(out, "auto device: cpu") != NULL, "%s", out);
    /* An ICD list naming nothing: the loader is there, no driver. */
    snprintf(cmd, sizeof cmd, "VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json %s/spiral info 2>&1",
             ST_BINARY_DIR);
    rc = tl_run_cmd(cmd, out, sizeof out);
    CHECK(rc == 0);
    CHECK_MSG(strstr(out, "auto device: cpu") != NULL, "%s", out);
    /* Asking for the device explicitly is an error that says why, not a crash. */
    snprintf(cmd, sizeof cmd, "ST_VULKAN_LOADER=/nonexistent/libvulkan.so.1 %s/spiral train --device vulkan --epochs 1 2>&1",
             ST_BINARY_DIR);
    rc = tl_run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc == 1, "rc=%d: %s", rc, out);
    CHECK_MSG(strstr(out, "no Vulkan loader") != NULL, "%s", out);
}

TEST(auto_skips_software_device_unless_allowed) {
    if (!have_vk()) return;
    const stvk_caps *c = stvk_caps_of(0);
    CHECK(c != NULL);
    if (!c || c->type != VK_PHYSICAL_DEVICE_TYPE_CPU) return;
    char out[4096], cmd[512];
    snprintf(cmd, sizeof cmd, "%s/spiral info 2>&1", ST_BINARY_DIR);
    CHECK(tl_run_cmd(cmd, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "auto device: cpu") && strstr(out, "software (CPU) implementation"), "%s", out);
    snprintf(cmd, sizeof cmd, "ST_VULKAN_ALLOW_CPU=1 ST_DEVICE_AUTO_PRIORITIES=wgpu,cpu %s/spiral info 2>&1", ST_BINARY_DIR);
    CHECK(tl_run_cmd(cmd, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "auto device: vulkan:0") != NULL, "%s", out);
}

TEST(caps_are_sane) {
    if (!have_vk()) return;
    const stvk_caps *c = stvk_caps_of(0);
    CHECK(c && c->max_groups[0] >= 65535 && c->max_wg_invocations >= 128 && c->shared_mem >= 16384);
    CHECK(c && c->int64);
    char buf[512];
    CHECK_STATUS(st_device_describe(VK, buf, sizeof buf), ST_OK);
    CHECK(strstr(buf, "subgroup") != NULL);
    CHECK(!st_device_supports_dtype(VK, ST_F64));
    CHECK(st_device_supports_dtype(VK, ST_F32) && st_device_supports_dtype(VK, ST_I64));
    int64_t sh[1] = {4};
    CHECK(st_empty_on(VK, 1, sh, ST_F64) == NULL);
    CHECK_ERR_HAS("f64");
}

/* Round trips of sizes around the inline-update and size-class boundaries. */
TEST(transfers_every_size) {
    if (!have_vk()) return;
    const int64_t sizes[] = {1, 3, 4, 1023, 1024, 16383, 16384, 16385, 100000, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t n = sizes[i];
        float *h = malloc((size_t)n * sizeof *h), *b = malloc((size_t)n * sizeof *b);
        for (int64_t j = 0; j < n; j++) h[j] = (float)(j * 7 % 1000) - 0.5f;
        st_tensor *t = st_from_data_on(VK, h, 1, &n, ST_F32);
        CHECK(t != NULL);
        memset(b, 0, (size_t)n * sizeof *b);
        CHECK_STATUS(st_to_host(t, ST_F32, b, (size_t)n * sizeof *b), ST_OK);
        CHECK_MSG(!memcmp(h, b, (size_t)n * sizeof *b), "n=%lld", (long long)n);
        st_release(t);
        free(h);
        free(b);
    }
}

/* A freed buffer is handed to the next allocation of its size class at once. */
TEST(pool_reuses_freed_buffers) {
    if (!have_vk()) return;
    void *a = NULL, *b = NULL;
    CHECK_STATUS(stvk_buf_alloc(0, 1000000, &a), ST_OK);
    stvk_buf_free(0, a, 1000000);
    CHECK_STATUS(stvk_buf_alloc(0, 1000001, &b), ST_OK);
    CHECK(a == b);
    stvk_buf_free(0, b, 1000001);
}

/* Many small ops are recorded without waiting; one read waits once. Also checks the
 * results of a chain whose temporaries are freed and reused while still queued. */
TEST(batching_waits_only_on_read) {
    if (!have_vk()) return;
    int64_t n = 4096;
    st_tensor *x = st_zeros(1, &n, ST_F32);
    CHECK(x != NULL);
    stvk_stats s0, s1;
    CHECK_STATUS(st_device_sync(VK), ST_OK);
    stvk_get_stats(0, &s0);
    for (int i = 0; i < 300; i++) { /* each step: a new tensor from a copy, the old one freed */
        st_tensor *v = st_slice(x, 0, i % 7, i % 7 + 1, 1);
        CHECK_STATUS(st_fill_(v, (double)i), ST_OK);
        st_release(v);
        st_tensor *y = st_clone(x);
        st_release(x);
        x = y;
    }
    stvk_get_stats(0, &s1);
    CHECK_MSG(s1.waits == s0.waits, "%llu waits while recording", (unsigned long long)(s1.waits - s0.waits));
    float *h = malloc((size_t)n * sizeof *h);
    CHECK_STATUS(st_to_host(x, ST_F32, h, (size_t)n * sizeof *h), ST_OK);
    for (int j = 0; j < 7; j++) {
        int last = -1;
        for (int i = 0; i < 300; i++)
            if (i % 7 == j) last = i;
        CHECK_MSG(h[j] == (float)last, "h[%d]=%g want %d", j, h[j], last);
    }
    CHECK(h[100] == 0.0f);
    stvk_stats s2;
    stvk_get_stats(0, &s2);
    CHECK(s2.waits > s1.waits);
    free(h);
    st_release(x);
}

/* st_device_timer_start/stop: GPU timestamps around recorded work; the device time is
 * positive, within the host's wall time, longer for more work; stop needs a start. */
TEST(device_timer) {
    if (!have_vk()) return;
    double ms = -1, empty = -1;
    CHECK_STATUS(st_device_timer_stop(VK, &ms), ST_E_INVALID_ARG);
    CHECK(strstr(st_last_error(), "not started") != NULL);
    int64_t n = 1 << 20;
    st_tensor *x = st_ones(1, &n, ST_F32);
    CHECK(x != NULL);
    CHECK_STATUS(st_device_sync(VK), ST_OK);
    CHECK_STATUS(st_device_timer_start(VK), ST_OK);
    CHECK_STATUS(st_device_timer_stop(VK, &empty), ST_OK);
    double t0 = st_mono_ms();
    CHECK_STATUS(st_device_timer_start(VK), ST_OK);
    for (int i = 0; i < 20; i++) {
        st_tensor *y = st_add(x, x);
        CHECK(y != NULL);
        st_release(y);
    }
    CHECK_STATUS(st_device_timer_stop(VK, &ms), ST_OK);
    double wall = st_mono_ms() - t0;
    CHECK_MSG(ms > 0 && ms <= wall + 0.01, "device %.4f ms, wall %.4f ms", ms, wall);
    CHECK_MSG(empty >= 0 && empty < ms, "empty interval %.4f ms vs %.4f ms of work", empty, ms);
    st_release(x);
}

/* ST_VULKAN_PROFILE=1: the GPU time per kernel is printed at exit. */
TEST(profile_report) {
    if (!have_vk()) return;
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd,
             "ST_VULKAN_PROFILE=1 '%s/spiral' bench topk --device vulkan --rows 4 --cols 3000 --k 5 --reps 2 2>&1",
             ST_BINARY_DIR);
    CHECK(tl_run_cmd(cmd, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "# ST_VULKAN_PROFILE") && strstr(out, "rk_filter") && strstr(out, "device_ms="), "%s", out);
}

/* A 136 MiB tensor is beyond lavapipe's maxStorageBufferRange (128 MiB): buffers are
 * reached by device address, so kernels working past 128 MiB still work. Only the far
 * end is touched (lavapipe is slow): a strided fill (shader) and a conversion of the tail
 * (shader), both at offsets beyond 128 MiB. */
TEST(tensor_beyond_storage_buffer_range) {
    if (!have_vk()) return;
    const int64_t n = 34 << 20;
    st_tensor *big = st_empty_on(VK, 1, &n, ST_I32);
    st_tensor *tail = big ? st_slice(big, 0, n - 3000, n, 1) : NULL;
    st_tensor *odd = big ? st_slice(big, 0, n - 2999, n, 2) : NULL;
    CHECK(tail && odd);
    if (tail && odd) {
        CHECK_STATUS(st_fill_(tail, 5.0), ST_OK);
        CHECK_STATUS(st_fill_(odd, -7.0), ST_OK); /* strided: the fill shader */
        st_tensor *f = st_to_dtype(tail, ST_F32);  /* the conversion shader */
        float h[3000];
        CHECK_STATUS(st_to_host(f, ST_F32, h, sizeof h), ST_OK);
        int64_t bad = 0;
        for (int i = 0; i < 3000; i++) bad += h[i] != (i % 2 ? -7.0f : 5.0f);
        CHECK_MSG(bad == 0, "%lld wrong", (long long)bad);
        st_release(f);
    }
    st_release(odd);
    st_release(tail);
    st_release(big);
}

/* More workgroups than one dimension allows (65535 on lavapipe): spread over y. */
TEST(dispatch_beyond_group_limit) {
    if (!have_vk()) return;
    const stvk_caps *cap = stvk_caps_of(0);
    uint64_t groups = (uint64_t)cap->max_groups[0] + 1000;
    int64_t n = (int64_t)groups * 64;
    if (n > 40000000) return; /* a device with a huge x limit: nothing to prove */
    st_tensor *src = st_arange(0, (double)n, 1, ST_I32);
    st_tensor *dst = st_empty_on(VK, 1, &n, ST_F32);
    CHECK(src && dst);
    if (src && dst) {
        st_kview d = st_kview_of(dst), s = st_kview_of(src);
        stvk_kernel k = {.shader = "copy_i32_f32", .spec = {64}, .nspec = 1};
        struct {
            uint64_t dst, src, geom;
            int64_t n;
        } pc = {stvk_view_addr(&d), stvk_view_addr(&s), 0, n};
        CHECK_STATUS(stvk_dispatch_linear(0, &k, groups, &pc, sizeof pc), ST_OK);
        stvk_stats st;
        stvk_get_stats(0, &st);
        CHECK(st.last_groups[1] == 2);
        float *h = malloc((size_t)n * sizeof *h);
        CHECK_STATUS(st_to_host(dst, ST_F32, h, (size_t)n * sizeof *h), ST_OK);
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++) bad += h[i] != (float)i;
        CHECK_MSG(bad == 0, "%lld wrong of %lld", (long long)bad, (long long)n);
        free(h);
    }
    st_release(src);
    st_release(dst);
}

TEST(pipelines_are_cached) {
    if (!have_vk()) return;
    int64_t n = 1000;
    st_tensor *a = st_arange(0, (double)n, 1, ST_I32);
    st_tensor *b = a ? st_to_dtype(a, ST_I64) : NULL;
    st_release(b);
    stvk_stats s0, s1;
    stvk_get_stats(0, &s0);
    for (int i = 0; i < 5; i++) st_release(st_to_dtype(a, ST_I64));
    stvk_get_stats(0, &s1);
    CHECK(s1.pipelines == s0.pipelines);
    CHECK(s1.dispatches >= s0.dispatches + 5);
    st_release(a);
}

/* The main job on the Vulkan device: every op forward and backward, Adam, on lavapipe
 * here (about 7 s). Run under the validation layer in make test: its messages in the
 * child's output fail the test too. */
TEST(train_on_vulkan) {
    if (!have_vk()) return;
    static char out[1 << 16];
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/spiral train --device vulkan --epochs 300 2>&1", ST_BINARY_DIR);
    int rc = tl_run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "rc=%d: %s", rc, out);
    const char *a = strstr(out, "accuracy=");
    double acc = a ? atof(a + 9) : 0;
    CHECK_MSG(acc >= 0.98, "accuracy %.4f: %s", acc, out);
    CHECK_MSG(strstr(out, "validation error") == NULL, "%s", out);
}

/* Issue 7's small grid on lavapipe: spiral tune on the vulkan device, then
 * gen_heuristics_table keeps one winner per bucket and records the vulkan device. */
TEST(tune_small_grid_on_vulkan) {
    if (!have_vk()) return;
    static char out[1 << 16];
    char cmd[4096];
    const char *dir = "/tmp";
    char json[64], ct[64], cm[64];
    snprintf(json, sizeof json, "%s/st_vk_tune_%d.json", dir, (int)getpid());
    snprintf(ct, sizeof ct, "%s/st_vk_tune_%d_topk.c", dir, (int)getpid());
    snprintf(cm, sizeof cm, "%s/st_vk_tune_%d_midk.c", dir, (int)getpid());
    snprintf(cmd, sizeof cmd,
             "%s/spiral tune --device vulkan --grid topk:64x4096x16,topk:16x16384x256,midk:64x4096x1024 --reps 2 "
             "--warmup 1 --passes 1 -o %s 2>&1 && %s/gen_heuristics_table %s %s %s 2>&1",
             ST_BINARY_DIR, json, ST_BINARY_DIR, json, ct, cm);
    int rc = tl_run_cmd(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "rc=%d: %s", rc, out);
    CHECK_MSG(strstr(out, "topk 2 buckets") && strstr(out, "midk 1 bucket") && strstr(out, "(vulkan:"), "%s", out);
    CHECK_MSG(strstr(out, "validation error") == NULL, "%s", out);
    FILE *f = fopen(ct, "r");
    CHECK(f != NULL);
    if (f) {
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        CHECK_MSG(strstr(buf, "\"vulkan\"") != NULL, "the generated table does not name its backend");
        fclose(f);
    }
    remove(json);
    remove(ct);
    remove(cm);
}

#else
TEST(vulkan_not_built) { printf("  (built without the Vulkan backend: nothing to test)\n"); }
#endif

int main(int argc, char **argv) { return tl_main(argc, argv); }
