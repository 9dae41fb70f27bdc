/* bench_ops.c — CPU timings of the core ops, for the side-by-side table with PyTorch
 * (bench/torch_ops.py measures the same things; bench/run.sh prints both).
 *
 * Measured, on the CPU with 2 threads (or --threads N): elementwise add, mul and exp on
 * 16M f32 (out of place, a fresh output each call, as torch does), a full sum over 16M
 * f32, and a 1024x1024x1024 f32 matmul. Each op is warmed up (--warmup calls; matmul
 * 2), then timed --reps times;
 * the median is printed as one machine-readable line per op:
 *     op=<name> ms=<median> min_ms=<fastest call>
 *
 * Usage: bench_ops [--reps N] [--warmup N] [--threads N] [--op NAME[,NAME]]
 * Public API only. Timings never decide pass/fail: this is not a test.
 */
#include <spiraltorch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_ELEM (INT64_C(1) << 24) /* 16M */
#define MM_N 1024

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef enum { B_ADD, B_MUL, B_EXP, B_SUM, B_MATMUL } bench_kind;

/* One call of the op; returns the result (released by the caller) or NULL. */
static st_tensor *call(bench_kind k, st_tensor *a, st_tensor *b) {
    switch (k) {
    case B_ADD: return st_add(a, b);
    case B_MUL: return st_mul(a, b);
    case B_EXP: return st_exp(a);
    case B_SUM: return st_sum(a, NULL, 0, false);
    default: return st_matmul(a, b);
    }
}

/* Warm up, time `reps` calls, return the median in ms (negative on error) and the
 * fastest call in *best. */
static double bench(bench_kind k, st_tensor *a, st_tensor *b, int warm, int reps, double *best) {
    double *t = calloc((size_t)reps, sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < warm + reps; i++) {
        double t0 = now_ms();
        st_tensor *r = call(k, a, b);
        if (!r) {
            fprintf(stderr, "bench_ops: %s\n", st_last_error());
            free(t);
            return -1;
        }
        /* reading one element forces completion on a queued backend; cheap on the CPU */
        double v;
        if (st_numel(r) == 1) st_item(r, &v);
        double t1 = now_ms();
        st_release(r);
        if (i >= warm) t[i - warm] = t1 - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    *best = t[0];
    double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    free(t);
    return med;
}

static bool selected(const char *list, const char *name) {
    if (!list) return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}

int main(int argc, char **argv) {
    int reps = 20, threads = 2, warm = 3;
    const char *ops = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warm = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--op") && i + 1 < argc) ops = argv[++i];
        else {
            fprintf(stderr, "usage: bench_ops [--reps N] [--warmup N] [--threads N] [--op add,mul,exp,sum,matmul]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (warm < 1) warm = 1;
    st_set_num_threads(threads);
    st_manual_seed(1234);
    int64_t n = N_ELEM, mm[2] = {MM_N, MM_N};
    st_tensor *a = st_rand(1, &n, ST_F32), *b = st_rand(1, &n, ST_F32);
    st_tensor *ma = st_randn(2, mm, ST_F32), *mb = st_randn(2, mm, ST_F32);
    if (!a || !b || !ma || !mb) {
        fprintf(stderr, "bench_ops: %s\n", st_last_error());
        return 1;
    }
    printf("# bench_ops: spiraltorch %s, cpu, %d threads, %d reps (median)\n", st_version(), st_get_num_threads(), reps);
    static const struct {
        const char *name;
        bench_kind kind;
        int reps_div; /* matmul: fewer reps */
    } B[] = {{"add", B_ADD, 1}, {"mul", B_MUL, 1}, {"exp", B_EXP, 1}, {"sum", B_SUM, 1}, {"matmul", B_MATMUL, 2}};
    int rc = 0;
    for (size_t i = 0; i < sizeof B / sizeof B[0]; i++) {
        if (!selected(ops, B[i].name)) continue;
        int r = reps / B[i].reps_div > 3 ? reps / B[i].reps_div : 3;
        double best = 0;
        double ms = B[i].kind == B_MATMUL ? bench(B[i].kind, ma, mb, 2, r, &best) : bench(B[i].kind, a, b, warm, r, &best);
        if (ms < 0) {
            rc = 1;
            continue;
        }
        printf("op=%s ms=%.3f min_ms=%.3f\n", B[i].name, ms, best);
        fflush(stdout);
    }
    st_release(a);
    st_release(b);
    st_release(ma);
    st_release(mb);
    return rc;
}
