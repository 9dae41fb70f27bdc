/* bench_train.c — one training step (zero_grad, forward, cross-entropy, backward, Adam
 * step) of the spirals MLP 2-64-64-3 on a batch of 900 and of a wide MLP
 * 1024-1024-1024 on a batch of 256, f32 on the CPU; median over timed steps after a
 * warm-up. Prints `op=<name> ms=<median>` per case (the format of bench/run.sh).
 *
 * With --torch, it also runs bench/torch_train.py (Debian's /usr/bin/python3, same
 * thread count, same environment) and prints a table: ours, torch, ratio torch/ours
 * (> 1 = we are faster) and whether it meets the goal of 0.9.
 * Usage: bench_train [--reps N] [--warmup N] [--threads N] [--torch]
 */
#include <spiraltorch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NCASES 2

typedef struct bcase {
    const char *name;
    int64_t sizes[4];
    int nsizes;
    int64_t batch, classes;
    int rep_mul;
} bcase;

static const bcase g_cases[NCASES] = {
    {"spirals_mlp_2-64-64-3_b900", {2, 64, 64, 3}, 4, 900, 3, 3},
    {"mlp_1024-1024-1024_b256", {1024, 1024, 1024}, 3, 256, 1024, 1},
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int step(st_mlp *m, st_optim *o, st_tensor *x, st_tensor *y) {
    st_optim_zero_grad(o);
    st_tensor *z = st_mlp_forward(m, x), *l = z ? st_cross_entropy(z, y) : NULL;
    int rc = l && st_backward(l, NULL) == ST_OK && st_optim_step(o) == ST_OK ? 0 : -1;
    st_release(l);
    st_release(z);
    return rc;
}

static double run_case(const bcase *c, int warm, int reps) {
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_mlp *m = st_mlp_new(c->nsizes, c->sizes, ST_ACT_RELU, ST_F32, cpu, NULL);
    st_tensor *x = st_randn(2, (int64_t[]){c->batch, c->sizes[0]}, ST_F32);
    st_tensor *r = st_rand(1, &c->batch, ST_F64);
    st_tensor *rs = r ? st_mul_scalar(r, (double)c->classes - 1e-9) : NULL;
    st_tensor *y = rs ? st_to_dtype(rs, ST_I64) : NULL;
    st_optim_config cfg = st_optim_defaults(ST_OPTIM_ADAM, 1e-3);
    st_optim *o = m ? st_optim_new(st_mlp_params(m), &cfg) : NULL;
    double *t = malloc((size_t)reps * sizeof *t), med = -1;
    int rc = o && x && y && t ? 0 : -1;
    for (int i = 0; rc == 0 && i < warm + reps; i++) {
        double t0 = now_ms();
        rc = step(m, o, x, y);
        if (i >= warm) t[i - warm] = now_ms() - t0;
    }
    if (rc == 0) {
        qsort(t, (size_t)reps, sizeof *t, cmp_d);
        med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    } else {
        fprintf(stderr, "bench_train %s: %s\n", c->name, st_last_error());
    }
    free(t);
    st_optim_free(o);
    st_release(y);
    st_release(rs);
    st_release(r);
    st_release(x);
    st_mlp_free(m);
    return med;
}

/* Runs bench/torch_train.py; fills torch_ms per case (or -1). */
static void run_torch(int warm, int reps, int threads, double *torch_ms) {
    for (int i = 0; i < NCASES; i++) torch_ms[i] = -1;
    /* the script sits beside this source file (CMake compiles it by absolute path) */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, "bench");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/torch_train.py' --reps %d --warmup %d --threads %d", dir, reps, warm,
             threads);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    char line[512];
    while (fgets(line, sizeof line, p)) {
        char name[256];
        double ms;
        if (sscanf(line, "op=%255s ms=%lf", name, &ms) != 2) continue;
        for (int i = 0; i < NCASES; i++)
            if (!strcmp(name, g_cases[i].name)) torch_ms[i] = ms;
    }
    pclose(p);
}

int main(int argc, char **argv) {
    int reps = 30, warm = 5, threads = 2, torch = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warm = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--torch")) torch = 1;
        else {
            fprintf(stderr, "usage: bench_train [--reps N] [--warmup N] [--threads N] [--torch]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (warm < 1) warm = 1;
    st_set_num_threads(threads);
    st_manual_seed(1234);
    printf("# bench_train: spiraltorch %s, cpu, %d threads, %d reps (median)\n", st_version(), threads, reps);
    double ours[NCASES], tms[NCASES];
    for (int i = 0; i < NCASES; i++) {
        ours[i] = run_case(&g_cases[i], warm, reps * g_cases[i].rep_mul);
        printf("op=%s ms=%.4f\n", g_cases[i].name, ours[i]);
        fflush(stdout);
    }
    if (!torch) return 0;
    run_torch(warm, reps, threads, tms);
    printf("\n| train step (fwd+bwd+Adam) | ours ms | torch ms | ratio (torch/ours) | goal >= 0.9 |\n");
    printf("|---|---:|---:|---:|---|\n");
    for (int i = 0; i < NCASES; i++) {
        if (tms[i] <= 0 || ours[i] <= 0) {
            printf("| %s | %.3f | %s | - | missing |\n", g_cases[i].name, ours[i], tms[i] > 0 ? "?" : "n/a");
            continue;
        }
        double r = tms[i] / ours[i];
        printf("| %s | %.3f | %.3f | %.2f | %s |\n", g_cases[i].name, ours[i], tms[i], r, r >= 0.9 ? "ok" : "MISS");
    }
    return 0;
}
