/* test_rankk_cli.c — drives the built `spiral` binary: `spiral topk|bottomk|midk` on
 * .npy files (results checked against a brute-force oracle), `spiral bench` (last line
 * median_ms=<number>), and exit codes (1 runtime error, 2 usage). Skips when the
 * binary is not built. Files live in a temporary folder. */
#include "testlib.h"

#include <unistd.h>

static char g_dir[128];

static int run(const char *args, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && ST_HOME='%s' '%s/spiral' %s 2>&1", g_dir, g_dir, ST_BINARY_DIR, args);
    return tl_run_cmd(cmd, out, cap);
}

static bool setup(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/spiral", ST_BINARY_DIR);
    if (access(path, X_OK) != 0) {
        printf("  (skipped: %s not built)\n", path);
        return false;
    }
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/st-rankk-cli-XXXXXX");
        if (!mkdtemp(g_dir)) return false;
    }
    return true;
}

TEST(files_round_trip) {
    if (!setup()) return;
    /* 2 rows x 6 columns with ties, -0.0 and NaN */
    float x[12] = {3, 1, 3, -0.0f, 2, NAN, 5, 5, -1, 0, 7, -2};
    int64_t shape[2] = {2, 6};
    st_tensor *t = st_from_data(x, 2, shape, ST_F32);
    char in[256];
    snprintf(in, sizeof in, "%s/in.npy", g_dir);
    CHECK_STATUS(st_npy_save(in, t), ST_OK);
    st_release(t);
    char out[4096];
    const char *kinds[3] = {"topk", "bottomk", "midk"};
    /* topk row0: NaN(5), 3(0), 3(2); row1: 7(4), 5(0), 5(1)
     * bottomk row0: -0(3), 1(1), 2(4); row1: -2(5), -1(2), 0(3)
     * midk (n=6, k=3: ascending ranks 1..3), column order:
     *   row0 ascending: -0(3) 1(1) 2(4) 3(0) 3(2) NaN(5) -> ranks 1..3 = 1(1) 2(4) 3(0) -> cols 0,1,4
     *   row1 ascending: -2(5) -1(2) 0(3) 5(0) 5(1) 7(4) -> ranks 1..3 = -1(2) 0(3) 5(0) -> cols 0,2,3 */
    const int32_t idx[3][6] = {{5, 0, 2, 4, 0, 1}, {3, 1, 4, 5, 2, 3}, {0, 1, 4, 0, 2, 3}};
    for (int i = 0; i < 3; i++) {
        char args[512];
        snprintf(args, sizeof args, "%s --k 3 --device cpu in.npy v.npy i.npy", kinds[i]);
        CHECK_MSG(run(args, out, sizeof out) == 0, "%s: %s", kinds[i], out);
        char vp[256], ip[256];
        snprintf(vp, sizeof vp, "%s/v.npy", g_dir);
        snprintf(ip, sizeof ip, "%s/i.npy", g_dir);
        st_tensor *v = st_npy_load(vp), *ix = st_npy_load(ip);
        CHECK(v && ix);
        if (v && ix) {
            CHECK(st_get_dtype(ix) == ST_I32 && st_shape(ix)[0] == 2 && st_shape(ix)[1] == 3);
            int32_t got[6];
            float vals[6];
            st_to_host(ix, ST_I32, got, sizeof got);
            st_to_host(v, ST_F32, vals, sizeof vals);
            for (int j = 0; j < 6; j++) {
                CHECK_MSG(got[j] == idx[i][j], "%s index %d: got %d want %d", kinds[i], j, got[j], idx[i][j]);
                float e = x[(j / 3) * 6 + idx[i][j]];
                CHECK_MSG(memcmp(&vals[j], &e, 4) == 0, "%s value %d", kinds[i], j);
            }
        }
        st_release(v);
        st_release(ix);
    }
}

TEST(errors_and_usage) {
    if (!setup()) return;
    char out[4096];
    CHECK(run("topk --k 99 in.npy v.npy i.npy", out, sizeof out) == 1);
    CHECK_MSG(strstr(out, "k=99") != NULL, "%s", out);
    CHECK(run("topk --k 1 missing.npy v.npy i.npy", out, sizeof out) == 1);
    CHECK_MSG(strstr(out, "missing.npy") != NULL, "%s", out);
    CHECK(run("topk in.npy v.npy i.npy", out, sizeof out) == 2);
    CHECK(run("midk --k 1 in.npy", out, sizeof out) == 2);
    CHECK(run("topk --k 1 --device tpu in.npy v.npy i.npy", out, sizeof out) == 2);
    CHECK(run("bench topk --rows 2 --cols 10 --k 11", out, sizeof out) == 2);
    CHECK(run("bench sortk --rows 2 --cols 10 --k 1", out, sizeof out) == 2);
}

TEST(bench_last_line) {
    if (!setup()) return;
    char out[4096];
    CHECK(run("bench midk --rows 4 --cols 5000 --k 100 --reps 3 --device cpu", out, sizeof out) == 0);
    char *last = strstr(out, "median_ms=");
    CHECK_MSG(last && strchr(last, '\n') == last + strlen(last) - 1, "%s", out);
    CHECK(strstr(out, "choice:") != NULL);
    double dev = -1, wall = -1;
    char *d = strstr(out, "device_ms=");
    CHECK_MSG(d && sscanf(d, "device_ms=%lf", &dev) == 1 && sscanf(last, "median_ms=%lf", &wall) == 1, "%s", out);
    CHECK_MSG(dev > 0 && dev <= wall * 1.05 + 0.05, "device_ms=%g median_ms=%g", dev, wall); /* cpu: host clock */
}
