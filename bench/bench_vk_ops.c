/* bench_vk_ops.c — times Vulkan-backend kernels on one device: f32 add of 2^26 elements
 * (GB/s over 3 arrays), f32 matmul 4096^3 (TFLOP/s) for each matmul tile variant, and a
 * correctness check of a strided 1024^3 and a 300x517x211 matmul against the CPU.
 *
 * Usage: bench_vk_ops [--device vulkan[:N]] [--reps N] [--n LOG2] [--mm SIZE]
 * Timing: warm-up, then the median of N runs, each bracketed by st_device_sync.
 */
#include <spiraltorch.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef st_tensor *(*binop)(st_tensor *, st_tensor *);

/* Median ms of reps runs of op(a, b) on dev (3 warm-ups); -1 on error. */
static double time_op(st_device dev, binop op, st_tensor *a, st_tensor *b, int reps) {
    double t[64];
    if (reps > 64) reps = 64;
    for (int i = 0; i < 3 + reps; i++) {
        st_device_sync(dev);
        double t0 = now_ms();
        st_tensor *r = op(a, b);
        if (!r) {
            fprintf(stderr, "bench_vk_ops: %s\n", st_last_error());
            return -1;
        }
        st_device_sync(dev);
        if (i >= 3) t[i - 3] = now_ms() - t0;
        st_release(r);
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_d);
    return t[reps / 2];
}

/* max |got - want| / max |want| of two tensors (any devices). */
static double rel_err(st_tensor *got, st_tensor *want) {
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_tensor *g = st_to_device(got, cpu), *w = st_to_device(want, cpu);
    st_tensor *d = st_abs(st_sub(g, w)), *md = st_max(d, NULL, 0, false), *mw = st_max(st_abs(w), NULL, 0, false);
    double a = NAN, b = NAN;
    if (md && mw) {
        st_item(md, &a);
        st_item(mw, &b);
    }
    return a / b;
}

/* C = A @ B on dev vs the CPU, A given as the transpose of a [K,M] (strided operand). */
static void check_mm(st_device dev, int64_t M, int64_t K, int64_t N, bool trans_a) {
    st_device cpu = {ST_BACKEND_CPU, 0};
    int64_t sa[2] = {trans_a ? K : M, trans_a ? M : K}, sb[2] = {K, N};
    st_tensor *a0 = st_to_device(st_randn(2, sa, ST_F32), cpu), *b = st_to_device(st_randn(2, sb, ST_F32), cpu);
    st_tensor *a = trans_a ? st_transpose(a0, 0, 1) : a0;
    st_tensor *want = st_matmul(a, b); /* on the CPU */
    st_tensor *av = st_to_device(a0, dev);
    if (trans_a) av = st_transpose(av, 0, 1);
    st_tensor *got = st_matmul(av, st_to_device(b, dev));
    printf("check matmul %lldx%lldx%lld%s: max rel err %.3g\n", (long long)M, (long long)K, (long long)N,
           trans_a ? " (a transposed)" : "", got && want ? rel_err(got, want) : NAN);
}

int main(int argc, char **argv) {
    const char *dname = "vulkan";
    int reps = 10, lg = 26;
    int64_t S = 4096;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--device")) dname = argv[i + 1];
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--n")) lg = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mm")) S = atoll(argv[i + 1]);
    }
    st_device dev;
    if (st_device_parse(dname, &dev) != ST_OK || st_set_default_device(dev) != ST_OK) {
        fprintf(stderr, "bench_vk_ops: %s\n", st_last_error());
        return 1;
    }
    char desc[256] = "";
    st_device_describe(dev, desc, sizeof desc);
    printf("device: %s\n", desc);
    int64_t n = (int64_t)1 << lg;
    st_tensor *x = st_randn(1, &n, ST_F32), *y = st_randn(1, &n, ST_F32);
    double ms = time_op(dev, st_add, x, y, reps);
    printf("add f32 2^%d: %.3f ms, %.1f GB/s\n", lg, ms, 3.0 * 4.0 * (double)n / (ms * 1e6));
    st_release(x);
    st_release(y);
    int64_t sh[2] = {S, S};
    st_tensor *a = st_randn(2, sh, ST_F32), *b = st_randn(2, sh, ST_F32);
    static const char *const tiles[] = {"rm_mm_128x128", "rm_mm_128x128_k16", "rm_mm_128x64", "rm_mm_64x64", NULL};
    for (int t = -1; t < 0 || tiles[t]; t++) {
        if (t >= 0) setenv("ST_VULKAN_MM_TILE", tiles[t], 1);
        ms = time_op(dev, st_matmul, a, b, reps);
        printf("matmul f32 %lld^3 [%s]: %.3f ms, %.2f TFLOP/s\n", (long long)S, t < 0 ? "auto" : tiles[t], ms,
               2.0 * (double)S * (double)S * (double)S / (ms * 1e9));
    }
    unsetenv("ST_VULKAN_MM_TILE");
    check_mm(dev, 1024, 1024, 1024, true);
    check_mm(dev, 300, 517, 211, false);
    return 0;
}
