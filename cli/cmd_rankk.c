/* cmd_rankk.c — `spiral topk|bottomk|midk --k K [--device D] IN.npy VALUES.npy
 * INDICES.npy` (rank-K along the last axis of a .npy array) and `spiral bench
 * topk|bottomk|midk --rows R --cols C --k K [--device D] [--reps N]` (warm-up, then N
 * timed runs on random data; `device_ms=<number>`: the median device time of the op
 * between two device timestamps (st_device_timer_start/stop), last line
 * `median_ms=<number>`: the median host wall time from a synchronised device to the
 * results being there). Public API only. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int kind_of(const char *s, st_rankk_kind *out) {
    if (!strcmp(s, "topk")) *out = ST_TOPK;
    else if (!strcmp(s, "bottomk")) *out = ST_BOTTOMK;
    else if (!strcmp(s, "midk")) *out = ST_MIDK;
    else return -1;
    return 0;
}

static int run_file(const char *cmd, st_rankk_kind kind, int argc, char **argv) {
    long long k = -1;
    const char *dev = "auto", *files[3];
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--k")) {
            if (i + 1 >= argc || cli_parse_i64(argv[i + 1], &k)) return cli_usage(cmd, "--k needs a non-negative integer");
            i++;
        } else if (!strcmp(argv[i], "--device")) {
            if (i + 1 >= argc) return cli_usage(cmd, "--device needs a value");
            dev = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage(cmd, "unknown option '%s'", argv[i]);
        } else if (nf < 3) {
            files[nf++] = argv[i];
        } else {
            return cli_usage(cmd, "too many arguments");
        }
    }
    if (k < 0) return cli_usage(cmd, "--k is required");
    if (nf != 3) return cli_usage(cmd, "expected IN.npy VALUES.npy INDICES.npy");
    st_device d;
    {
        int rc_ = cli_device(cmd, dev, &d);
        if (rc_) return rc_;
    }
    st_tensor *x = st_npy_load(files[0]);
    if (!x) return cli_fail(cmd);
    st_tensor *xd = st_to_device(x, d), *v = NULL, *ix = NULL, *vh = NULL, *ih = NULL;
    int rc = CLI_ERR;
    if (xd && st_rankk_ex(xd, kind, k, ST_I32, &v, &ix) == ST_OK) {
        st_device cpu = {ST_BACKEND_CPU, 0};
        vh = st_to_device(v, cpu);
        ih = vh ? st_to_device(ix, cpu) : NULL;
        if (ih && st_npy_save(files[1], vh) == ST_OK && st_npy_save(files[2], ih) == ST_OK) rc = CLI_OK;
    }
    if (rc != CLI_OK) cli_fail(cmd);
    st_release(ih);
    st_release(vh);
    st_release(ix);
    st_release(v);
    st_release(xd);
    st_release(x);
    return rc;
}

int cmd_topk(int argc, char **argv) { return run_file("topk", ST_TOPK, argc, argv); }
int cmd_bottomk(int argc, char **argv) { return run_file("bottomk", ST_BOTTOMK, argc, argv); }
int cmd_midk(int argc, char **argv) { return run_file("midk", ST_MIDK, argc, argv); }

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int cmd_bench(int argc, char **argv) {
    st_rankk_kind kind;
    if (argc < 2 || kind_of(argv[1], &kind)) return cli_usage("bench", "first argument must be topk, bottomk or midk");
    long long rows = -1, cols = -1, k = -1, reps = 10;
    const char *dev = "auto";
    for (int i = 2; i < argc; i++) {
        long long *dst = !strcmp(argv[i], "--rows")   ? &rows
                         : !strcmp(argv[i], "--cols") ? &cols
                         : !strcmp(argv[i], "--k")    ? &k
                         : !strcmp(argv[i], "--reps") ? &reps
                                                      : NULL;
        if (dst) {
            if (i + 1 >= argc || cli_parse_i64(argv[i + 1], dst))
                return cli_usage("bench", "%s needs a non-negative integer", argv[i]);
            i++;
        } else if (!strcmp(argv[i], "--device")) {
            if (i + 1 >= argc) return cli_usage("bench", "--device needs a value");
            dev = argv[++i];
        } else {
            return cli_usage("bench", "unknown option '%s'", argv[i]);
        }
    }
    if (rows < 1 || cols < 1 || k < 0) return cli_usage("bench", "--rows, --cols (>= 1) and --k are required");
    if (reps < 1 || reps > 100000) return cli_usage("bench", "--reps must be in [1, 100000]");
    if (k > cols) return cli_usage("bench", "--k %lld is larger than --cols %lld", k, cols);
    st_device d;
    {
        int rc_ = cli_device("bench", dev, &d);
        if (rc_) return rc_;
    }
    char desc[256] = "";
    st_device_describe(d, desc, sizeof desc);
    int64_t shape[2] = {rows, cols};
    st_tensor *xh = st_rand(2, shape, ST_F32);
    st_tensor *x = xh ? st_to_device(xh, d) : NULL;
    st_release(xh);
    if (!x) return cli_fail("bench");
    st_heur_explanation ex;
    st_device_info di;
    bool sg = st_device_get_info(d, &di) == ST_OK && di.subgroup; /* what rank-K on d asks the chain */
    st_heur_set_device(d);
    if (st_heur_explain(kind == ST_MIDK ? ST_HEUR_MIDK : ST_HEUR_TOPK, rows, cols, k, sg, &ex) == ST_OK) {
        printf("choice:");
        for (int i = 0; i < ex.nfields; i++) printf(" %s=%d(%s)", ex.fields[i].name, (int)ex.fields[i].value, ex.fields[i].where);
        printf("\n");
    }
    double *t = malloc(sizeof(double) * 2 * (size_t)reps), *g = t ? t + reps : NULL;
    if (!t) {
        st_release(x);
        fprintf(stderr, "spiral bench: out of memory\n");
        return CLI_ERR;
    }
    int rc = CLI_OK;
    for (long long r = -2; r < reps && rc == CLI_OK; r++) { /* 2 warm-up runs */
        st_tensor *v = NULL, *ix = NULL;
        double gpu = 0;
        st_device_sync(d);
        double t0 = now_ms();
        if (st_device_timer_start(d) != ST_OK || st_rankk_ex(x, kind, k, ST_I32, &v, &ix) != ST_OK ||
            st_device_timer_stop(d, &gpu) != ST_OK)
            rc = cli_fail("bench");
        double dt = now_ms() - t0;
        if (r >= 0) t[r] = dt, g[r] = gpu;
        st_release(v);
        st_release(ix);
    }
    if (rc == CLI_OK) {
        qsort(t, (size_t)reps, sizeof *t, cmp_d);
        qsort(g, (size_t)reps, sizeof *g, cmp_d);
        double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
        double gmed = reps % 2 ? g[reps / 2] : 0.5 * (g[reps / 2 - 1] + g[reps / 2]);
        printf("%s rows=%lld cols=%lld k=%lld device=%s reps=%lld min_ms=%.4f device_min_ms=%.4f\n", argv[1], rows, cols,
               k, desc, reps, t[0], g[0]);
        printf("device_ms=%.4f\n", gmed);
        printf("median_ms=%.4f\n", med);
    }
    free(t);
    st_release(x);
    return rc;
}
