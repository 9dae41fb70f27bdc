/* optim.c — SGD (momentum, Nesterov, weight decay), Adam and AdamW.
 *
 * The update math is written with public forward ops (so it runs on any backend);
 * results are written back into the parameter and state tensors in place
 * (st_ag_assign), under no_grad. State tensors are allocated on a parameter's first
 * step with a gradient, in the parameter's dtype and on its device.
 * CPU fast path: when a parameter, its gradient and its state are contiguous CPU
 * tensors of one dtype, the update is one fused loop over the elements (read p, g, m,
 * v once; write them once), like torch's fused optimizers; otherwise the generic
 * forward-op path runs. Both compute the same rule (test_optim checks both).
 * Ownership: the optimizer holds one reference to each parameter and owns its state.
 */
#include "../autograd/ag_internal.h"

#include <math.h>

typedef struct opt_slot {
    st_tensor *p;
    st_tensor *m; /* SGD momentum buffer / Adam first moment */
    st_tensor *v; /* Adam second moment */
    int64_t step;
} opt_slot;

struct st_optim {
    st_optim_config cfg;
    int n;
    opt_slot *s;
};

st_optim_config st_optim_defaults(st_optim_kind kind, double lr) {
    st_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.lr = lr;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = kind == ST_OPTIM_ADAMW ? 0.01 : 0.0;
    return c;
}

static st_status check_cfg(const st_optim_config *c) {
    if ((unsigned)c->kind > ST_OPTIM_ADAMW) return st_err(ST_E_INVALID_ARG, "optim: unknown kind %d", (int)c->kind);
    if (!(c->lr >= 0) || !isfinite(c->lr)) return st_err(ST_E_INVALID_ARG, "optim: lr %g must be >= 0", c->lr);
    if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
        return st_err(ST_E_INVALID_ARG, "optim: weight_decay %g must be >= 0", c->weight_decay);
    if (c->kind == ST_OPTIM_SGD) {
        if (!(c->momentum >= 0) || !isfinite(c->momentum))
            return st_err(ST_E_INVALID_ARG, "sgd: momentum %g must be >= 0", c->momentum);
        if (c->nesterov && (c->momentum <= 0 || c->dampening != 0))
            return st_err(ST_E_INVALID_ARG, "sgd: nesterov needs momentum > 0 and dampening 0");
        return ST_OK;
    }
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return st_err(ST_E_INVALID_ARG, "adam: betas (%g, %g) must be in [0, 1)", c->beta1, c->beta2);
    if (!(c->eps >= 0) || !isfinite(c->eps)) return st_err(ST_E_INVALID_ARG, "adam: eps %g must be >= 0", c->eps);
    return ST_OK;
}

st_optim *st_optim_new(const st_params *p, const st_optim_config *cfg) {
    if (!p || !cfg) {
        st_err(ST_E_INVALID_ARG, "optim_new: NULL argument");
        return NULL;
    }
    if (check_cfg(cfg) != ST_OK) return NULL;
    st_optim *o = st_calloc(1, sizeof *o);
    if (!o) return NULL;
    o->cfg = *cfg;
    o->n = st_params_count(p);
    if (o->n && !(o->s = st_calloc((size_t)o->n, sizeof *o->s))) {
        st_free(o);
        return NULL;
    }
    for (int i = 0; i < o->n; i++) {
        st_tensor *t = st_params_at(p, i);
        if (!st_dtype_is_float(t->dtype)) {
            st_err(ST_E_DTYPE, "optim_new: parameter '%s' is %s, not float", st_params_name(p, i), st_tdesc(t));
            o->n = i;
            st_optim_free(o);
            return NULL;
        }
        o->s[i].p = st_retain(t);
    }
    return o;
}

void st_optim_free(st_optim *o) {
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        st_release(o->s[i].p);
        st_release(o->s[i].m);
        st_release(o->s[i].v);
    }
    st_free(o->s);
    st_free(o);
}

void st_optim_set_lr(st_optim *o, double lr) {
    if (o && lr >= 0 && isfinite(lr)) o->cfg.lr = lr;
}

void st_optim_zero_grad(st_optim *o) {
    for (int i = 0; o && i < o->n; i++) st_grad_clear(o->s[i].p);
}

/* Temporaries of one update; the first failure is kept. */
typedef struct tmp {
    st_tensor *v[16];
    int n;
    bool bad;
} tmp;

static st_tensor *T(tmp *k, st_tensor *t) {
    if (!t || k->n == 16) {
        if (t) st_release(t);
        k->bad = true;
        return NULL;
    }
    k->v[k->n++] = t;
    return t;
}

static void tmp_free(tmp *k) {
    for (int i = 0; i < k->n; i++) st_release(k->v[i]);
}

static st_tensor *zeros_like(st_tensor *t) {
    st_tensor *z = st_empty_on(st_tensor_device(t), t->ndim, t->shape, t->dtype);
    if (z && st_fill_(z, 0.0) != ST_OK) {
        st_release(z);
        return NULL;
    }
    return z;
}

/* ---------------------------------------------------------------- fused CPU path */

static bool g_fused = true;
void st_optim_set_fused(bool on) { g_fused = on; }

static bool cpu_dense(st_tensor *t, st_dtype dt) {
    return t && t->dtype == dt && st_tensor_device(t).kind == ST_BACKEND_CPU && st_is_contiguous(t);
}

/* p, its grad and the state the rule uses (m unless NULL is fine, v) all dense on the CPU. */
static bool fusable(opt_slot *s, bool need_m, bool need_v) {
    st_dtype dt = s->p->dtype;
    return g_fused && (dt == ST_F32 || dt == ST_F64) && cpu_dense(s->p, dt) && cpu_dense(s->p->grad, dt) &&
           (!need_m || cpu_dense(s->m, dt)) && (!need_v || cpu_dense(s->v, dt));
}

/* Constants of one Adam step, in double. */
typedef struct adam_k {
    double b1, b2, wd_l2, decay, rbc2, step, eps;
} adam_k;

#define ADAM_LOOP(T, SQRT)                                                                                \
    do {                                                                                                  \
        T *P = st_data_ptr(s->p), *G = st_data_ptr(s->p->grad), *M = st_data_ptr(s->m), *V = st_data_ptr(s->v); \
        const T b1 = (T)k->b1, ob1 = (T)(1 - k->b1), b2 = (T)k->b2, ob2 = (T)(1 - k->b2), l2 = (T)k->wd_l2; \
        const T decay = (T)k->decay, rbc2 = (T)k->rbc2, step = (T)k->step, eps = (T)k->eps;              \
        _Pragma("omp parallel for num_threads(nt) schedule(static) if (n >= 65536)")                     \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            T pi = P[i], gi = G[i] + l2 * pi;                                                             \
            T mi = b1 * M[i] + ob1 * gi, vi = b2 * V[i] + ob2 * gi * gi;                                  \
            M[i] = mi;                                                                                    \
            V[i] = vi;                                                                                    \
            P[i] = pi * decay - step * mi / (SQRT(vi) * rbc2 + eps);                                      \
        }                                                                                                 \
    } while (0)

static void adam_fused(opt_slot *s, const adam_k *k) {
    int64_t n = st_numel(s->p);
    int nt = st_get_num_threads();
    if (s->p->dtype == ST_F32) ADAM_LOOP(float, sqrtf);
    else ADAM_LOOP(double, sqrt);
}

/* SGD: g' = g + wd p; buf = mu buf + (1-damp) g' (buf = g' on the first step); p -= lr * dir. */
#define SGD_LOOP(T)                                                                                       \
    do {                                                                                                  \
        T *P = st_data_ptr(s->p), *G = st_data_ptr(s->p->grad), *B = s->m ? st_data_ptr(s->m) : NULL;    \
        const T wd = (T)c->weight_decay, mu = (T)c->momentum, od = (T)(1 - c->dampening), lr = (T)c->lr; \
        _Pragma("omp parallel for num_threads(nt) schedule(static) if (n >= 65536)")                     \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            T gi = G[i] + wd * P[i];                                                                      \
            if (B) {                                                                                      \
                T bi = first ? gi : mu * B[i] + od * gi;                                                  \
                B[i] = bi;                                                                                \
                gi = nesterov ? gi + mu * bi : bi;                                                        \
            }                                                                                             \
            P[i] -= lr * gi;                                                                              \
        }                                                                                                 \
    } while (0)

static void sgd_fused(const st_optim_config *c, opt_slot *s, bool first) {
    int64_t n = st_numel(s->p);
    int nt = st_get_num_threads();
    bool nesterov = c->nesterov;
    if (s->p->dtype == ST_F32) SGD_LOOP(float);
    else SGD_LOOP(double);
}

/* ---------------------------------------------------------------- generic path */

/* g with L2 weight decay added (SGD, Adam): g + wd*p. */
static st_tensor *grad_l2(tmp *k, st_tensor *g, st_tensor *p, double wd) {
    if (wd == 0) return g;
    return T(k, st_add(g, T(k, st_mul_scalar(p, wd))));
}

static st_status sgd_slot(const st_optim_config *c, opt_slot *s, tmp *k) {
    if (c->momentum != 0 && !s->m) {
        if (!(s->m = zeros_like(s->p))) return st_last_status();
        s->step = 0;
    }
    if (fusable(s, c->momentum != 0, false)) {
        sgd_fused(c, s, s->step++ == 0);
        return ST_OK;
    }
    bool first = s->step++ == 0;
    st_tensor *g = grad_l2(k, s->p->grad, s->p, c->weight_decay);
    if (c->momentum != 0 && g) {
        if (first) { /* torch: buf = g on the first step */
            if (st_ag_assign(s->m, g) != ST_OK) return st_last_status();
        } else {
            st_tensor *nb = T(k, st_add(T(k, st_mul_scalar(s->m, c->momentum)), T(k, st_mul_scalar(g, 1 - c->dampening))));
            if (!nb || st_ag_assign(s->m, nb) != ST_OK) return st_last_status();
        }
        g = c->nesterov ? T(k, st_add(g, T(k, st_mul_scalar(s->m, c->momentum)))) : s->m;
    }
    st_tensor *np = g ? T(k, st_sub(s->p, T(k, st_mul_scalar(g, c->lr)))) : NULL;
    if (!np || k->bad) return st_last_status() != ST_OK ? st_last_status() : ST_E_INTERNAL;
    return st_ag_assign(s->p, np);
}

static st_status adam_slot(const st_optim_config *c, opt_slot *s, tmp *k) {
    bool decoupled = c->kind == ST_OPTIM_ADAMW;
    if (!s->m && !(s->m = zeros_like(s->p))) return st_last_status();
    if (!s->v && !(s->v = zeros_like(s->p))) return st_last_status();
    s->step++;
    double bc1 = 1 - pow(c->beta1, (double)s->step), bc2 = 1 - pow(c->beta2, (double)s->step);
    if (fusable(s, true, true)) {
        adam_k kk = {c->beta1, c->beta2, decoupled ? 0.0 : c->weight_decay,
                     decoupled ? 1 - c->lr * c->weight_decay : 1.0, 1.0 / sqrt(bc2), c->lr / bc1, c->eps};
        adam_fused(s, &kk);
        return ST_OK;
    }
    st_tensor *g = decoupled ? s->p->grad : grad_l2(k, s->p->grad, s->p, c->weight_decay);
    st_tensor *m = T(k, st_add(T(k, st_mul_scalar(s->m, c->beta1)), T(k, st_mul_scalar(g, 1 - c->beta1))));
    st_tensor *v = T(k, st_add(T(k, st_mul_scalar(s->v, c->beta2)), T(k, st_mul_scalar(T(k, st_mul(g, g)), 1 - c->beta2))));
    st_tensor *den = T(k, st_add_scalar(T(k, st_mul_scalar(T(k, st_sqrt(v)), 1.0 / sqrt(bc2))), c->eps));
    st_tensor *upd = T(k, st_mul_scalar(T(k, st_div(m, den)), c->lr / bc1));
    st_tensor *p = s->p;
    if (decoupled && c->weight_decay != 0) p = T(k, st_mul_scalar(s->p, 1 - c->lr * c->weight_decay));
    st_tensor *np = T(k, st_sub(p, upd));
    if (!np || k->bad) return st_last_status() != ST_OK ? st_last_status() : ST_E_INTERNAL;
    st_status st = st_ag_assign(s->m, m);
    if (st == ST_OK) st = st_ag_assign(s->v, v);
    if (st == ST_OK) st = st_ag_assign(s->p, np);
    return st;
}

st_status st_optim_step(st_optim *o) {
    if (!o) return st_err(ST_E_INVALID_ARG, "optim_step: NULL optimizer");
    bool prev = st_set_grad_enabled(false);
    st_status st = ST_OK;
    for (int i = 0; st == ST_OK && i < o->n; i++) {
        opt_slot *s = &o->s[i];
        if (!s->p->grad) continue;
        tmp k = {.n = 0};
        st = o->cfg.kind == ST_OPTIM_SGD ? sgd_slot(&o->cfg, s, &k) : adam_slot(&o->cfg, s, &k);
        tmp_free(&k);
        if (st != ST_OK) st_err_prefix("optim_step (parameter %d, %s)", i, st_tdesc(s->p));
    }
    st_set_grad_enabled(prev);
    return st;
}
