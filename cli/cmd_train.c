/* cmd_train.c — `spiral train [--device D] [--seed S] [--epochs N]`: the main job.
 *
 * Generates the classic spirals data set (3 interleaved arms, 300 points each, seeded
 * Gaussian angle noise), trains an MLP 2 -> 64 -> 64 -> 3 (ReLU) with Adam on the
 * device (default `auto`), full batch, and prints progress lines (epoch, loss,
 * training accuracy, elapsed time) while it runs. The last line is `accuracy=<number>`.
 * CPU threads: 1 unless --threads says otherwise (the model is too small to gain).
 * Public API only; every tensor is released each epoch, so memory stays flat.
 */
#include "cli.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLASSES 3
#define PER_CLASS 300
#define NOISE 0.2

typedef struct train_opts {
    const char *device;
    long long seed, epochs, hidden, threads;
    double lr;
} train_opts;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Spirals: class j, point i: r = i/(P-1), angle = 4j + 4r + NOISE*N(0,1);
 * x = (r sin angle, r cos angle). xs [N,2] f32, ys [N] i64 on dev. */
static int make_data(st_rng *rng, st_device dev, st_tensor **xs, st_tensor **ys) {
    const int64_t n = CLASSES * PER_CLASS;
    int64_t nshape = n;
    st_tensor *noise = st_randn_gen(rng, 1, &nshape, ST_F64);
    double *z = malloc((size_t)n * sizeof *z);
    float *x = malloc((size_t)n * 2 * sizeof *x);
    int64_t *y = malloc((size_t)n * sizeof *y);
    int rc = noise && z && x && y && st_to_host(noise, ST_F64, z, (size_t)n * sizeof *z) == ST_OK ? 0 : -1;
    for (int64_t k = 0; rc == 0 && k < n; k++) {
        int64_t j = k / PER_CLASS, i = k % PER_CLASS;
        double r = (double)i / (PER_CLASS - 1), a = 4.0 * (double)j + 4.0 * r + NOISE * z[k];
        x[2 * k] = (float)(r * sin(a));
        x[2 * k + 1] = (float)(r * cos(a));
        y[k] = j;
    }
    if (rc == 0) {
        *xs = st_from_data_on(dev, x, 2, (int64_t[]){n, 2}, ST_F32);
        *ys = st_from_data_on(dev, y, 1, &nshape, ST_I64);
        if (!*xs || !*ys) rc = -1;
    }
    free(z);
    free(x);
    free(y);
    st_release(noise);
    return rc;
}

/* Fraction of rows of logits whose argmax equals ys. */
static int accuracy(st_tensor *logits, st_tensor *ys, double *acc) {
    st_tensor *am = st_argmax(logits, 1, false);
    st_tensor *eq = am ? st_eq(am, ys) : NULL;
    st_tensor *s = eq ? st_sum(eq, NULL, 0, false) : NULL;
    double hits = 0;
    int rc = s && st_item(s, &hits) == ST_OK ? 0 : -1;
    *acc = hits / (double)st_shape(ys)[0];
    st_release(s);
    st_release(eq);
    st_release(am);
    return rc;
}

/* One full-batch Adam step; loss and accuracy of the logits it trained on. */
static int train_step(st_mlp *m, st_optim *o, st_tensor *xs, st_tensor *ys, double *loss, double *acc) {
    st_optim_zero_grad(o);
    st_tensor *logits = st_mlp_forward(m, xs);
    st_tensor *l = logits ? st_cross_entropy(logits, ys) : NULL;
    int rc = l && st_backward(l, NULL) == ST_OK && st_optim_step(o) == ST_OK ? 0 : -1;
    if (rc == 0 && (st_item(l, loss) != ST_OK || accuracy(logits, ys, acc) != 0)) rc = -1;
    st_release(l);
    st_release(logits);
    return rc;
}

static int parse(int argc, char **argv, train_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--device") && v) o->device = v;
        else if (!strcmp(a, "--seed") && v) {
            if (cli_parse_i64(v, &o->seed)) return cli_usage("train", "--seed needs a non-negative integer, got '%s'", v);
        } else if (!strcmp(a, "--epochs") && v) {
            if (cli_parse_i64(v, &o->epochs) || o->epochs < 1)
                return cli_usage("train", "--epochs needs a positive integer, got '%s'", v);
        } else if (!strcmp(a, "--hidden") && v) {
            if (cli_parse_i64(v, &o->hidden) || o->hidden < 1 || o->hidden > 65536)
                return cli_usage("train", "--hidden needs an integer in [1, 65536], got '%s'", v);
        } else if (!strcmp(a, "--threads") && v) {
            if (cli_parse_i64(v, &o->threads) || o->threads < 1 || o->threads > 4096)
                return cli_usage("train", "--threads needs a positive integer, got '%s'", v);
        } else if (!strcmp(a, "--lr") && v) {
            char *end;
            o->lr = strtod(v, &end);
            if (*end || !(o->lr > 0) || !isfinite(o->lr)) return cli_usage("train", "--lr needs a positive number, got '%s'", v);
        } else {
            return cli_usage("train", "unknown or incomplete option '%s'", a);
        }
        i++;
    }
    return 0;
}

static int run(const train_opts *opt, st_device dev) {
    st_rng *rng = st_rng_new((uint64_t)opt->seed);
    st_tensor *xs = NULL, *ys = NULL;
    int64_t sizes[4] = {2, opt->hidden, opt->hidden, CLASSES};
    st_mlp *m = NULL;
    st_optim *o = NULL;
    int rc = rng && make_data(rng, dev, &xs, &ys) == 0 ? 0 : -1;
    if (rc == 0 && !(m = st_mlp_new(4, sizes, ST_ACT_RELU, ST_F32, dev, rng))) rc = -1;
    st_optim_config cfg = st_optim_defaults(ST_OPTIM_ADAM, opt->lr);
    if (rc == 0 && !(o = st_optim_new(st_mlp_params(m), &cfg))) rc = -1;
    double t0 = now_s(), loss = 0, acc = 0;
    long long every = opt->epochs >= 10 ? opt->epochs / 10 : 1;
    for (long long e = 1; rc == 0 && e <= opt->epochs; e++) {
        /* step decay: lr/10 for the last fifth, to settle */
        if (e == opt->epochs - opt->epochs / 5 + 1) st_optim_set_lr(o, opt->lr * 0.1);
        rc = train_step(m, o, xs, ys, &loss, &acc);
        if (rc == 0 && (e % every == 0 || e == 1 || e == opt->epochs)) {
            printf("epoch %5lld/%lld  loss %.4f  accuracy %.4f  %.2fs\n", e, opt->epochs, loss, acc, now_s() - t0);
            fflush(stdout);
        }
    }
    if (rc == 0) {
        /* final accuracy of the trained model on the whole training set */
        st_no_grad_enter();
        st_tensor *logits = st_mlp_forward(m, xs);
        rc = logits && accuracy(logits, ys, &acc) == 0 ? 0 : -1;
        st_release(logits);
        st_no_grad_exit();
    }
    if (rc == 0) printf("accuracy=%.4f\n", acc);
    else fprintf(stderr, "spiral train: %s\n", st_last_error());
    st_optim_free(o);
    st_mlp_free(m);
    st_release(ys);
    st_release(xs);
    st_rng_free(rng);
    return rc == 0 ? CLI_OK : CLI_ERR;
}

int cmd_train(int argc, char **argv) {
    train_opts opt = {"auto", 42, 300, 64, 1, 0.02};
#ifdef M_MMAP_THRESHOLD
    /* Process policy (glibc): keep freed tensor buffers in the heap instead of
     * returning them to the kernel, so each step does not page-fault its temporaries
     * in again (10x on a loaded VM). Like running PyTorch with a caching malloc. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
    int u = parse(argc, argv, &opt);
    if (u) return u;
    /* The spirals MLP has ~4k parameters and 900 rows: on the CPU, worker threads cost
     * more in hand-offs than they save, so one thread is the default (--threads N). */
    st_set_num_threads((int)opt.threads);
    st_device dev;
    {
        int rc_ = cli_device("train", opt.device, &dev);
        if (rc_) return rc_;
    }
    char desc[256] = "";
    st_device_describe(dev, desc, sizeof desc);
    printf("spiral train: %d classes x %d points, MLP 2-%lld-%lld-%d relu, Adam lr %g, %lld epochs, seed %lld\n",
           CLASSES, PER_CLASS, opt.hidden, opt.hidden, CLASSES, opt.lr, opt.epochs, opt.seed);
    printf("device: %s:%d (%s)\n", st_backend_name(dev.kind), dev.index, desc);
    fflush(stdout);
    return run(&opt, dev);
}
