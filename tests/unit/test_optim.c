/* test_optim.c — SGD (plain, momentum with dampening and weight decay, Nesterov), Adam
 * (with and without L2) and AdamW, each against a hand-written float64 reference of the
 * update rule over several steps. The loss sum(0.5*a*p^2 + c*p) has gradient a*p + c,
 * so the gradient changes with p and every step exercises the optimizer state. */
#include "autograd/ag_internal.h" /* st_optim_set_fused: check the generic path too */
#include "testlib.h"

#define NP 4
#define STEPS 6

typedef struct ref {
    double p[NP], m[NP], v[NP];
    int t;
} ref;

static const double A[NP] = {1.0, 2.0, 0.5, 3.0}, C[NP] = {0.3, -1.0, 2.0, 0.0};

static void ref_step(const st_optim_config *c, ref *r) {
    r->t++;
    for (int i = 0; i < NP; i++) {
        double g = A[i] * r->p[i] + C[i];
        if (c->kind == ST_OPTIM_SGD) {
            g += c->weight_decay * r->p[i];
            if (c->momentum != 0) {
                r->m[i] = r->t == 1 ? g : c->momentum * r->m[i] + (1 - c->dampening) * g;
                g = c->nesterov ? g + c->momentum * r->m[i] : r->m[i];
            }
            r->p[i] -= c->lr * g;
            continue;
        }
        if (c->kind == ST_OPTIM_ADAM) g += c->weight_decay * r->p[i];
        else r->p[i] *= 1 - c->lr * c->weight_decay;
        r->m[i] = c->beta1 * r->m[i] + (1 - c->beta1) * g;
        r->v[i] = c->beta2 * r->v[i] + (1 - c->beta2) * g * g;
        double mh = r->m[i] / (1 - pow(c->beta1, r->t)), vh = r->v[i] / (1 - pow(c->beta2, r->t));
        r->p[i] -= c->lr * mh / (sqrt(vh) + c->eps);
    }
}

/* Loss sum(0.5*a*p^2 + c*p), backward. */
static void loss_backward(st_tensor *p) {
    int64_t n = NP;
    st_tensor *a = st_from_data(A, 1, &n, ST_F64), *c = st_from_data(C, 1, &n, ST_F64);
    st_tensor *pp = st_mul(p, p), *q = st_mul(pp, a), *h = st_mul_scalar(q, 0.5), *cp = st_mul(c, p);
    st_tensor *s = st_add(h, cp), *l = st_sum(s, NULL, 0, false);
    CHECK_STATUS(st_backward(l, NULL), ST_OK);
    st_tensor *rel[] = {l, s, cp, h, q, pp, c, a};
    for (int i = 0; i < 8; i++) st_release(rel[i]);
}

static void run_one(const st_optim_config *cfg, const char *what) {
    double p0[NP] = {0.5, -1.5, 2.0, 0.1};
    int64_t n = NP;
    st_tensor *p = st_from_data(p0, 1, &n, ST_F64);
    st_params *ps = st_params_new();
    CHECK_STATUS(st_params_add(ps, "p", p), ST_OK);
    st_optim *o = st_optim_new(ps, cfg);
    CHECK(o != NULL);
    ref r;
    memset(&r, 0, sizeof r);
    memcpy(r.p, p0, sizeof p0);
    for (int s = 0; o && s < STEPS; s++) {
        st_optim_zero_grad(o);
        loss_backward(p);
        CHECK_STATUS(st_optim_step(o), ST_OK);
        ref_step(cfg, &r);
        double got[NP];
        st_to_host(p, ST_F64, got, sizeof got);
        for (int i = 0; i < NP; i++)
            CHECK_MSG(fabs(got[i] - r.p[i]) <= 1e-12 * (1 + fabs(r.p[i])), "%s step %d p[%d] = %.15g, want %.15g",
                      what, s + 1, i, got[i], r.p[i]);
    }
    st_optim_free(o);
    st_params_free(ps);
    st_release(p);
}

/* Both implementations: the fused CPU loop and the generic forward-op path. */
static void run(const st_optim_config *cfg, const char *what) {
    char label[128];
    for (int fused = 1; fused >= 0; fused--) {
        st_optim_set_fused(fused);
        snprintf(label, sizeof label, "%s (%s)", what, fused ? "fused" : "generic");
        run_one(cfg, label);
    }
    st_optim_set_fused(true);
}

TEST(sgd_plain) {
    st_optim_config c = st_optim_defaults(ST_OPTIM_SGD, 0.1);
    run(&c, "sgd");
}

TEST(sgd_momentum_dampening_weight_decay) {
    st_optim_config c = st_optim_defaults(ST_OPTIM_SGD, 0.05);
    c.momentum = 0.9;
    c.dampening = 0.1;
    c.weight_decay = 0.01;
    run(&c, "sgd momentum");
}

TEST(sgd_nesterov) {
    st_optim_config c = st_optim_defaults(ST_OPTIM_SGD, 0.05);
    c.momentum = 0.8;
    c.nesterov = true;
    c.weight_decay = 0.02;
    run(&c, "sgd nesterov");
}

TEST(adam) {
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAM, 0.05);
    run(&c, "adam");
}

TEST(adam_l2) {
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAM, 0.1);
    c.beta1 = 0.8;
    c.beta2 = 0.99;
    c.eps = 1e-6;
    c.weight_decay = 0.1;
    run(&c, "adam l2");
}

TEST(adamw) {
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAMW, 0.05);
    c.weight_decay = 0.1;
    run(&c, "adamw");
}

TEST(step_matches_torch_numbers) {
    /* One Adam step from p = 1 with grad 0.5 moves p by exactly lr (bias-corrected
     * m/sqrt(v) = sign(g)), like torch.optim.Adam: 1 - 0.01 = 0.99 (up to eps). */
    int64_t n = 1;
    double one = 1.0;
    st_tensor *p = st_from_data(&one, 1, &n, ST_F64);
    st_params *ps = st_params_new();
    st_params_add(ps, "p", p);
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAM, 0.01);
    st_optim *o = st_optim_new(ps, &c);
    st_tensor *g = st_full(1, &n, ST_F64, 0.5);
    CHECK_STATUS(st_backward(p, g), ST_OK);
    CHECK_STATUS(st_optim_step(o), ST_OK);
    double v;
    st_item(p, &v);
    CHECK_NEAR(v, 0.99, 1e-9);
    st_release(g);
    st_optim_free(o);
    st_params_free(ps);
    st_release(p);
}

TEST(parameters_without_grad_are_skipped) {
    int64_t n = 2;
    st_tensor *p = st_ones(1, &n, ST_F32), *q = st_ones(1, &n, ST_F32);
    st_params *ps = st_params_new();
    st_params_add(ps, "p", p);
    st_params_add(ps, "q", q);
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAMW, 0.1);
    st_optim *o = st_optim_new(ps, &c);
    st_tensor *s = st_sum(p, NULL, 0, false);
    CHECK_STATUS(st_backward(s, NULL), ST_OK);
    CHECK_STATUS(st_optim_step(o), ST_OK);
    double pv[2], qv[2];
    st_to_host(p, ST_F64, pv, sizeof pv);
    st_to_host(q, ST_F64, qv, sizeof qv);
    CHECK(pv[0] < 1.0 && qv[0] == 1.0 && qv[1] == 1.0);
    st_optim_set_lr(o, 0.0);
    double before = pv[0];
    CHECK_STATUS(st_optim_step(o), ST_OK);
    st_to_host(p, ST_F64, pv, sizeof pv);
    CHECK(pv[0] == before);
    st_release(s);
    st_optim_free(o);
    st_params_free(ps);
    st_release(q);
    st_release(p);
}

/* f32 parameters: the fused loop and the generic path agree over several steps. */
TEST(fused_and_generic_agree_in_f32) {
    st_optim_kind kinds[3] = {ST_OPTIM_SGD, ST_OPTIM_ADAM, ST_OPTIM_ADAMW};
    for (int k = 0; k < 3; k++) {
        float out[2][64];
        for (int fused = 0; fused < 2; fused++) {
            st_optim_set_fused(fused);
            st_manual_seed(tl_seed());
            st_tensor *p = st_randn(2, (int64_t[]){8, 8}, ST_F32);
            st_params *ps = st_params_new();
            st_params_add(ps, "p", p);
            st_optim_config c = st_optim_defaults(kinds[k], 0.05);
            c.weight_decay = 0.01;
            if (kinds[k] == ST_OPTIM_SGD) c.momentum = 0.9;
            st_optim *o = st_optim_new(ps, &c);
            for (int s = 0; s < 5; s++) {
                st_optim_zero_grad(o);
                st_tensor *q = st_mul(p, p), *t = st_tanh(q), *l = st_sum(t, NULL, 0, false);
                CHECK_STATUS(st_backward(l, NULL), ST_OK);
                CHECK_STATUS(st_optim_step(o), ST_OK);
                st_release(l);
                st_release(t);
                st_release(q);
            }
            st_to_host(p, ST_F32, out[fused], sizeof out[fused]);
            st_optim_free(o);
            st_params_free(ps);
            st_release(p);
        }
        for (int i = 0; i < 64; i++)
            CHECK_MSG(fabsf(out[0][i] - out[1][i]) <= 1e-5f * (1 + fabsf(out[0][i])), "kind %d elem %d: %g vs %g", k, i,
                      out[0][i], out[1][i]);
    }
    st_optim_set_fused(true);
}

TEST(bad_configs_are_errors) {
    st_params *ps = st_params_new();
    st_optim_config c = st_optim_defaults(ST_OPTIM_ADAM, -1);
    CHECK(st_optim_new(ps, &c) == NULL);
    CHECK_ERR_HAS("lr");
    c = st_optim_defaults(ST_OPTIM_ADAM, 0.1);
    c.beta1 = 1.0;
    CHECK(st_optim_new(ps, &c) == NULL);
    CHECK_ERR_HAS("betas");
    c = st_optim_defaults(ST_OPTIM_SGD, 0.1);
    c.nesterov = true;
    CHECK(st_optim_new(ps, &c) == NULL);
    CHECK_ERR_HAS("nesterov");
    c.kind = (st_optim_kind)7;
    CHECK(st_optim_new(ps, &c) == NULL);
    CHECK(st_optim_new(NULL, &c) == NULL);
    CHECK_STATUS(st_optim_step(NULL), ST_E_INVALID_ARG);
    st_params_free(ps);
}
