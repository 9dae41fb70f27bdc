/* layers.c — activations, parameter initialisers, Linear and the MLP helper.
 *
 * Layers own their parameter tensors (one reference each) and an st_params list that
 * names them; forward passes are plain public ops, so autograd records them like any
 * other computation. Initialisers write in place under no_grad.
 */
#include "../autograd/ag_internal.h"

#include <math.h>

st_tensor *st_activation(st_tensor *x, st_act act) {
    if (!x) {
        st_err(ST_E_INVALID_ARG, "activation: tensor is NULL");
        return NULL;
    }
    switch (act) {
    case ST_ACT_NONE: return st_retain(x);
    case ST_ACT_RELU: return st_relu(x);
    case ST_ACT_GELU: return st_gelu(x);
    case ST_ACT_TANH: return st_tanh(x);
    case ST_ACT_SIGMOID: return st_sigmoid(x);
    }
    st_err(ST_E_INVALID_ARG, "activation: unknown kind %d", (int)act);
    return NULL;
}

/* ---------------------------------------------------------------- init */

/* t = rand*scale + shift (uniform) or randn*scale + shift (normal), in place. */
static st_status init_affine(st_tensor *t, bool normal, double scale, double shift, st_rng *rng, const char *who) {
    if (!t) return st_err(ST_E_INVALID_ARG, "%s: tensor is NULL", who);
    if (!st_dtype_is_float(t->dtype)) return st_err(ST_E_DTYPE, "%s: needs a float tensor, got %s", who, st_tdesc(t));
    if (!isfinite(scale) || !isfinite(shift)) return st_err(ST_E_INVALID_ARG, "%s: non-finite parameters", who);
    bool prev = st_set_grad_enabled(false);
    st_tensor *r = normal ? st_randn_gen(rng, t->ndim, t->shape, t->dtype) : st_rand_gen(rng, t->ndim, t->shape, t->dtype);
    st_tensor *d = r ? st_to_device(r, st_tensor_device(t)) : NULL;
    st_tensor *s = d ? st_mul_scalar(d, scale) : NULL;
    st_tensor *v = s ? st_add_scalar(s, shift) : NULL;
    st_status st = v ? st_ag_assign(t, v) : st_last_status();
    st_release(v);
    st_release(s);
    st_release(d);
    st_release(r);
    st_set_grad_enabled(prev);
    return st == ST_OK ? ST_OK : st_err_prefix("%s", who);
}

st_status st_init_uniform_(st_tensor *t, double lo, double hi, st_rng *rng) {
    return init_affine(t, false, hi - lo, lo, rng, "init_uniform");
}
st_status st_init_normal_(st_tensor *t, double mean, double std, st_rng *rng) {
    return init_affine(t, true, std, mean, rng, "init_normal");
}

static st_status fan_check(int64_t a, int64_t b, const char *who) {
    if (a <= 0 || b <= 0) return st_err(ST_E_INVALID_ARG, "%s: fans must be positive (%lld, %lld)", who, (long long)a, (long long)b);
    return ST_OK;
}

st_status st_init_kaiming_uniform_(st_tensor *t, int64_t fan_in, st_rng *rng) {
    if (fan_check(fan_in, 1, "init_kaiming_uniform") != ST_OK) return st_last_status();
    double b = sqrt(6.0 / (double)fan_in);
    return init_affine(t, false, 2 * b, -b, rng, "init_kaiming_uniform");
}
st_status st_init_kaiming_normal_(st_tensor *t, int64_t fan_in, st_rng *rng) {
    if (fan_check(fan_in, 1, "init_kaiming_normal") != ST_OK) return st_last_status();
    return init_affine(t, true, sqrt(2.0 / (double)fan_in), 0.0, rng, "init_kaiming_normal");
}
st_status st_init_xavier_uniform_(st_tensor *t, int64_t fan_in, int64_t fan_out, st_rng *rng) {
    if (fan_check(fan_in, fan_out, "init_xavier_uniform") != ST_OK) return st_last_status();
    double b = sqrt(6.0 / (double)(fan_in + fan_out));
    return init_affine(t, false, 2 * b, -b, rng, "init_xavier_uniform");
}
st_status st_init_xavier_normal_(st_tensor *t, int64_t fan_in, int64_t fan_out, st_rng *rng) {
    if (fan_check(fan_in, fan_out, "init_xavier_normal") != ST_OK) return st_last_status();
    return init_affine(t, true, sqrt(2.0 / (double)(fan_in + fan_out)), 0.0, rng, "init_xavier_normal");
}

/* ---------------------------------------------------------------- Linear */

struct st_linear {
    st_tensor *w; /* [out, in] */
    st_tensor *b; /* [out] or NULL */
};

void st_linear_free(st_linear *l) {
    if (!l) return;
    st_release(l->w);
    st_release(l->b);
    st_free(l);
}

st_linear *st_linear_new(int64_t in, int64_t out, bool bias, st_dtype dt, st_device dev, st_rng *rng) {
    if (in <= 0 || out <= 0) {
        st_err(ST_E_INVALID_ARG, "linear: sizes must be positive (in %lld, out %lld)", (long long)in, (long long)out);
        return NULL;
    }
    if (!st_dtype_is_float(dt)) {
        st_err(ST_E_DTYPE, "linear: needs a float dtype, got %s", st_dtype_name(dt));
        return NULL;
    }
    st_linear *l = st_calloc(1, sizeof *l);
    if (!l) return NULL;
    l->w = st_empty_on(dev, 2, (int64_t[]){out, in}, dt);
    st_status s = l->w ? st_init_kaiming_uniform_(l->w, in, rng) : st_last_status();
    if (s == ST_OK) s = st_set_requires_grad(l->w, true);
    if (s == ST_OK && bias) {
        double bd = 1.0 / sqrt((double)in);
        l->b = st_empty_on(dev, 1, &out, dt);
        s = l->b ? st_init_uniform_(l->b, -bd, bd, rng) : st_last_status();
        if (s == ST_OK) s = st_set_requires_grad(l->b, true);
    }
    if (s != ST_OK) {
        st_err_prefix("linear %lld -> %lld", (long long)in, (long long)out);
        st_linear_free(l);
        return NULL;
    }
    return l;
}

st_tensor *st_linear_forward(st_linear *l, st_tensor *x) {
    if (!l || !x) {
        st_err(ST_E_INVALID_ARG, "linear_forward: NULL argument");
        return NULL;
    }
    st_tensor *wt = st_transpose(l->w, 0, 1);
    st_tensor *y = wt ? st_matmul(x, wt) : NULL;
    st_release(wt);
    if (!y || !l->b) return y;
    st_tensor *z = st_add(y, l->b);
    st_release(y);
    return z;
}

st_tensor *st_linear_weight(st_linear *l) { return l ? l->w : NULL; }
st_tensor *st_linear_bias(st_linear *l) { return l ? l->b : NULL; }

st_status st_linear_params(st_linear *l, st_params *p, const char *prefix) {
    if (!l || !p) return st_err(ST_E_INVALID_ARG, "linear_params: NULL argument");
    char name[256];
    snprintf(name, sizeof name, "%sweight", prefix ? prefix : "");
    st_status s = st_params_add(p, name, l->w);
    if (s == ST_OK && l->b) {
        snprintf(name, sizeof name, "%sbias", prefix ? prefix : "");
        s = st_params_add(p, name, l->b);
    }
    return s;
}

/* ---------------------------------------------------------------- MLP */

struct st_mlp {
    int nlayers;
    st_linear **layers;
    st_act act;
    st_params *params;
};

void st_mlp_free(st_mlp *m) {
    if (!m) return;
    for (int i = 0; m->layers && i < m->nlayers; i++) st_linear_free(m->layers[i]);
    st_free(m->layers);
    st_params_free(m->params);
    st_free(m);
}

st_mlp *st_mlp_new(int n, const int64_t *sizes, st_act act, st_dtype dt, st_device dev, st_rng *rng) {
    if (n < 2 || !sizes) {
        st_err(ST_E_INVALID_ARG, "mlp: needs at least 2 sizes (got %d)", n);
        return NULL;
    }
    if ((unsigned)act > ST_ACT_SIGMOID) {
        st_err(ST_E_INVALID_ARG, "mlp: unknown activation %d", (int)act);
        return NULL;
    }
    st_mlp *m = st_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->act = act;
    m->layers = st_calloc((size_t)(n - 1), sizeof *m->layers);
    m->params = st_params_new();
    if (!m->layers || !m->params) {
        st_mlp_free(m);
        return NULL;
    }
    m->nlayers = n - 1;
    for (int i = 0; i < n - 1; i++) {
        char pre[32];
        snprintf(pre, sizeof pre, "%d.", i);
        m->layers[i] = st_linear_new(sizes[i], sizes[i + 1], true, dt, dev, rng);
        if (!m->layers[i] || st_linear_params(m->layers[i], m->params, pre) != ST_OK) {
            st_err_prefix("mlp layer %d", i);
            st_mlp_free(m);
            return NULL;
        }
    }
    return m;
}

st_tensor *st_mlp_forward(st_mlp *m, st_tensor *x) {
    if (!m || !x) {
        st_err(ST_E_INVALID_ARG, "mlp_forward: NULL argument");
        return NULL;
    }
    st_tensor *h = st_retain(x);
    for (int i = 0; h && i < m->nlayers; i++) {
        st_tensor *y = st_linear_forward(m->layers[i], h);
        st_release(h);
        h = y;
        if (h && i + 1 < m->nlayers && m->act != ST_ACT_NONE) {
            y = st_activation(h, m->act);
            st_release(h);
            h = y;
        }
    }
    return h;
}

st_params *st_mlp_params(st_mlp *m) { return m ? m->params : NULL; }
