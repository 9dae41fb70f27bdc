/* optim.c — SGD (momentum, Nesterov, weight decay), Adam and AdamW.
 *
 * The update math is written with public forward ops (so it runs on any backend);
 * results are written back into the parameter and state tensors in place
 * (st_ag_assign), under no_grad. State tensors are allocated on a parameter's first
 * step with a gradient, in the parameter's dtype and on its device.
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

/* g with L2 weight decay added (SGD, Adam): g + wd*p. */
static st_tensor *grad_l2(tmp *k, st_tensor *g, st_tensor *p, double wd) {
    if (wd == 0) return g;
    return T(k, st_add(g, T(k, st_mul_scalar(p, wd))));
}

static st_status sgd_slot(const st_optim_config *c, opt_slot *s, tmp *k) {
    st_tensor *g = grad_l2(k, s->p->grad, s->p, c->weight_decay);
    if (c->momentum != 0 && g) {
        if (!s->m) {
            s->m = st_clone(g); /* torch: buf = g on the first step */
            if (!s->m) return st_last_status();
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
    st_tensor *g = decoupled ? s->p->grad : grad_l2(k, s->p->grad, s->p, c->weight_decay);
    if (!s->m && !(s->m = zeros_like(s->p))) return st_last_status();
    if (!s->v && !(s->v = zeros_like(s->p))) return st_last_status();
    s->step++;
    double bc1 = 1 - pow(c->beta1, (double)s->step), bc2 = 1 - pow(c->beta2, (double)s->step);
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
