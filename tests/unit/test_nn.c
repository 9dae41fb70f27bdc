/* test_nn.c — Linear (against a host computation), MLP parameter naming, activations,
 * initialiser bounds and moments, parameter save/load round trips and their errors,
 * a small end-to-end training run, and the memory test: 10,000 training steps with
 * the live-allocation count back at its starting value after every step. */
#include "testlib.h"

#include <unistd.h>

static int64_t live(void) {
    st_alloc_stats s;
    st_get_alloc_stats(&s);
    return s.live_allocs;
}

static void host(st_tensor *t, double *buf, size_t cap) { st_to_host(t, ST_F64, buf, cap); }

TEST(linear_matches_host) {
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_linear *l = st_linear_new(3, 2, true, ST_F64, cpu, NULL);
    CHECK(l != NULL);
    double w[6], b[2], x[12], y[8];
    st_tensor *xt = st_randn(2, (int64_t[]){4, 3}, ST_F64);
    host(st_linear_weight(l), w, sizeof w);
    host(st_linear_bias(l), b, sizeof b);
    host(xt, x, sizeof x);
    for (int i = 0; i < 6; i++) CHECK(fabs(w[i]) <= sqrt(6.0 / 3));
    for (int i = 0; i < 2; i++) CHECK(fabs(b[i]) <= 1 / sqrt(3.0));
    st_tensor *yt = st_linear_forward(l, xt);
    CHECK(yt && st_shape(yt)[0] == 4 && st_shape(yt)[1] == 2 && st_requires_grad(yt));
    host(yt, y, sizeof y);
    for (int n = 0; n < 4; n++)
        for (int o = 0; o < 2; o++) {
            double r = b[o];
            for (int k = 0; k < 3; k++) r += x[n * 3 + k] * w[o * 3 + k];
            CHECK_NEAR(y[n * 2 + o], r, 1e-12);
        }
    /* gradients reach weight and bias: d sum(y) / db = N */
    st_tensor *s = st_sum(yt, NULL, 0, false);
    CHECK_STATUS(st_backward(s, NULL), ST_OK);
    double gb[2];
    host(st_grad(st_linear_bias(l)), gb, sizeof gb);
    CHECK(gb[0] == 4 && gb[1] == 4);
    CHECK(st_grad(st_linear_weight(l)) != NULL);
    CHECK(st_linear_new(0, 2, true, ST_F32, cpu, NULL) == NULL);
    CHECK(st_linear_new(2, 2, true, ST_I32, cpu, NULL) == NULL);
    st_release(s);
    st_release(yt);
    st_release(xt);
    st_linear_free(l);
}

TEST(mlp_params_and_activations) {
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_mlp *m = st_mlp_new(3, (int64_t[]){5, 7, 2}, ST_ACT_TANH, ST_F32, cpu, NULL);
    CHECK(m != NULL);
    st_params *p = st_mlp_params(m);
    CHECK(st_params_count(p) == 4);
    CHECK(!strcmp(st_params_name(p, 0), "0.weight") && !strcmp(st_params_name(p, 3), "1.bias"));
    CHECK(st_params_numel(p) == 5 * 7 + 7 + 7 * 2 + 2);
    CHECK(st_requires_grad(st_params_at(p, 2)));
    st_tensor *x = st_randn(2, (int64_t[]){3, 5}, ST_F32), *y = st_mlp_forward(m, x);
    CHECK(y && st_shape(y)[1] == 2);
    CHECK(st_mlp_new(1, (int64_t[]){5}, ST_ACT_RELU, ST_F32, cpu, NULL) == NULL);
    double v[3] = {-1, 0.5, 2};
    int64_t n = 3;
    st_tensor *t = st_from_data(v, 1, &n, ST_F64);
    st_tensor *r = st_activation(t, ST_ACT_RELU), *s = st_activation(t, ST_ACT_SIGMOID), *i = st_activation(t, ST_ACT_NONE);
    double out[3];
    host(r, out, sizeof out);
    CHECK(out[0] == 0 && out[2] == 2);
    host(s, out, sizeof out);
    CHECK_NEAR(out[1], 1 / (1 + exp(-0.5)), 1e-12);
    CHECK(i == t);
    CHECK(st_activation(t, (st_act)99) == NULL);
    st_release(i);
    st_release(s);
    st_release(r);
    st_release(t);
    st_release(y);
    st_release(x);
    st_mlp_free(m);
}

static void moments(st_tensor *t, double *mean, double *var, double *amax) {
    int64_t n = st_numel(t);
    double *v = malloc((size_t)n * sizeof *v), s = 0, s2 = 0, mx = 0;
    host(t, v, (size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        s += v[i];
        s2 += v[i] * v[i];
        if (fabs(v[i]) > mx) mx = fabs(v[i]);
    }
    *mean = s / (double)n;
    *var = s2 / (double)n - *mean * *mean;
    *amax = mx;
    free(v);
}

TEST(initialisers) {
    st_tensor *t = st_empty(2, (int64_t[]){200, 100}, ST_F64);
    double mean, var, mx;
    CHECK_STATUS(st_init_kaiming_uniform_(t, 100, NULL), ST_OK);
    moments(t, &mean, &var, &mx);
    double b = sqrt(6.0 / 100);
    CHECK(mx <= b && mx > 0.95 * b && fabs(mean) < 0.01 && fabs(var - b * b / 3) < 0.05 * b * b / 3);
    CHECK_STATUS(st_init_kaiming_normal_(t, 100, NULL), ST_OK);
    moments(t, &mean, &var, &mx);
    CHECK(fabs(var - 0.02) < 0.002 && fabs(mean) < 0.01);
    CHECK_STATUS(st_init_xavier_uniform_(t, 100, 200, NULL), ST_OK);
    moments(t, &mean, &var, &mx);
    CHECK(mx <= sqrt(6.0 / 300) && fabs(var - 2.0 / 300) < 0.0007); /* U(-b, b): var b^2/3 */
    CHECK_STATUS(st_init_xavier_normal_(t, 100, 200, NULL), ST_OK);
    moments(t, &mean, &var, &mx);
    CHECK(fabs(var - 2.0 / 300) < 0.0007);
    CHECK_STATUS(st_init_uniform_(t, 2, 3, NULL), ST_OK);
    moments(t, &mean, &var, &mx);
    CHECK(fabs(mean - 2.5) < 0.01 && mx <= 3);
    st_rng *g1 = st_rng_new(9), *g2 = st_rng_new(9);
    st_tensor *u = st_empty(1, (int64_t[]){10}, ST_F32), *w = st_empty(1, (int64_t[]){10}, ST_F32);
    st_init_normal_(u, 0, 1, g1);
    st_init_normal_(w, 0, 1, g2);
    float fu[10], fw[10];
    st_to_host(u, ST_F32, fu, sizeof fu);
    st_to_host(w, ST_F32, fw, sizeof fw);
    CHECK(memcmp(fu, fw, sizeof fu) == 0);
    CHECK_STATUS(st_init_kaiming_uniform_(t, 0, NULL), ST_E_INVALID_ARG);
    st_tensor *it = st_zeros(1, (int64_t[]){3}, ST_I32);
    CHECK_STATUS(st_init_normal_(it, 0, 1, NULL), ST_E_DTYPE);
    st_release(it);
    st_release(w);
    st_release(u);
    st_rng_free(g2);
    st_rng_free(g1);
    st_release(t);
}

TEST(params_save_load_round_trip) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/st_params_test_%d", ST_BINARY_DIR, (int)getpid());
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_mlp *a = st_mlp_new(3, (int64_t[]){4, 6, 3}, ST_ACT_RELU, ST_F32, cpu, NULL);
    st_mlp *b = st_mlp_new(3, (int64_t[]){4, 6, 3}, ST_ACT_RELU, ST_F32, cpu, NULL);
    CHECK_STATUS(st_params_save(st_mlp_params(a), dir), ST_OK);
    CHECK_STATUS(st_params_load(st_mlp_params(b), dir), ST_OK);
    for (int i = 0; i < 4; i++) {
        float x[64], y[64];
        st_to_host(st_params_at(st_mlp_params(a), i), ST_F32, x, sizeof x);
        st_to_host(st_params_at(st_mlp_params(b), i), ST_F32, y, sizeof y);
        CHECK(memcmp(x, y, (size_t)st_numel(st_params_at(st_mlp_params(a), i)) * sizeof(float)) == 0);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/0.weight.npy", dir);
    st_tensor *w = st_npy_load(path);
    CHECK(w && st_ndim(w) == 2 && st_shape(w)[0] == 6 && st_shape(w)[1] == 4);
    st_release(w);
    /* a model of another shape cannot load these files */
    st_mlp *c = st_mlp_new(3, (int64_t[]){4, 5, 3}, ST_ACT_RELU, ST_F32, cpu, NULL);
    CHECK_STATUS(st_params_load(st_mlp_params(c), dir), ST_E_SHAPE);
    CHECK_ERR_HAS("0.weight");
    CHECK(st_params_load(st_mlp_params(c), "/nonexistent/dir") != ST_OK);
    st_params *p = st_params_new();
    st_tensor *t = st_zeros(1, (int64_t[]){2}, ST_F32);
    CHECK_STATUS(st_params_add(p, "../evil", t), ST_E_INVALID_ARG);
    CHECK_STATUS(st_params_add(p, "", t), ST_E_INVALID_ARG);
    CHECK_STATUS(st_params_add(p, "ok", t), ST_OK);
    CHECK_STATUS(st_params_add(p, "ok", t), ST_E_INVALID_ARG);
    st_params_free(p);
    st_release(t);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s.npy", dir, st_params_name(st_mlp_params(a), i));
        unlink(path);
    }
    rmdir(dir);
    st_mlp_free(c);
    st_mlp_free(b);
    st_mlp_free(a);
}

/* A 2-class problem (points inside/outside a circle) learned by a small MLP with Adam. */
static void circle_data(st_tensor **x, st_tensor **y, int64_t n) {
    st_tensor *r = st_rand(2, (int64_t[]){n, 2}, ST_F32);
    float *p = malloc((size_t)n * 2 * sizeof *p);
    int64_t *lab = malloc((size_t)n * sizeof *lab);
    st_to_host(r, ST_F32, p, (size_t)n * 2 * sizeof *p);
    for (int64_t i = 0; i < n; i++) {
        p[2 * i] = 2 * p[2 * i] - 1;
        p[2 * i + 1] = 2 * p[2 * i + 1] - 1;
        lab[i] = p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1] < 0.5;
    }
    *x = st_from_data(p, 2, (int64_t[]){n, 2}, ST_F32);
    *y = st_from_data(lab, 1, &n, ST_I64);
    free(p);
    free(lab);
    st_release(r);
}

static double step(st_mlp *m, st_optim *o, st_tensor *x, st_tensor *y) {
    st_optim_zero_grad(o);
    st_tensor *z = st_mlp_forward(m, x), *l = st_cross_entropy(z, y);
    double v = NAN;
    if (l && st_backward(l, NULL) == ST_OK && st_optim_step(o) == ST_OK) st_item(l, &v);
    st_release(l);
    st_release(z);
    return v;
}

TEST(mlp_learns_a_circle) {
    st_tensor *x, *y;
    circle_data(&x, &y, 256);
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_mlp *m = st_mlp_new(3, (int64_t[]){2, 32, 2}, ST_ACT_RELU, ST_F32, cpu, NULL);
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAM, 0.02);
    st_optim *o = st_optim_new(st_mlp_params(m), &c);
    double first = step(m, o, x, y), last = first;
    for (int i = 0; i < 300; i++) last = step(m, o, x, y);
    CHECK_MSG(last < 0.25 * first && last < 0.2, "loss %g -> %g", first, last);
    st_optim_free(o);
    st_mlp_free(m);
    st_release(y);
    st_release(x);
}

TEST(training_loop_memory_is_flat) {
    st_tensor *x, *y;
    circle_data(&x, &y, 16);
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_mlp *m = st_mlp_new(3, (int64_t[]){2, 8, 2}, ST_ACT_RELU, ST_F32, cpu, NULL);
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAM, 0.01);
    st_optim *o = st_optim_new(st_mlp_params(m), &c);
    step(m, o, x, y); /* the first step allocates the gradients and the Adam state */
    int64_t base = live();
    int drift = 0;
    for (int i = 0; i < 10000; i++) {
        double v = step(m, o, x, y);
        if (!(v == v) || live() != base) {
            if (drift++ < 3) CHECK_MSG(0, "step %d: loss %g, live allocations %lld (start %lld)", i, v, (long long)live(), (long long)base);
        }
    }
    CHECK(drift == 0);
    st_optim_free(o);
    st_mlp_free(m);
    st_release(y);
    st_release(x);
}
