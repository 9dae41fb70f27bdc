/* rules.c — backward rules of every differentiable op, written only with public
 * forward ops (st_mul, st_where, st_sum, st_matmul, st_scatter, ...), so any backend
 * that runs the forward set can train (the tinygrad/kann idea).
 *
 * Each rule receives the output gradient g (output-shaped, output dtype) and fills
 * gin[i] for the inputs that need one; the engine then reduces gin[i] to the input's
 * shape (broadcasting), dtype and device (st_ag_fit). Rules run with grad mode off.
 * Temporaries live in a small arena released at the end; the first failing op's
 * error is kept and reported with the op's name.
 *
 * Saved tensors (st_ag_saves): only what a rule reads, as detached views.
 */
#include "ag_internal.h"

#include <math.h>

#define AR_CAP 48

typedef struct ar {
    ag_node *n;
    st_tensor *g;
    const bool *need;
    st_tensor **gin;
    st_tensor *tmp[AR_CAP];
    int ntmp;
    st_status err;
    char msg[512];
} ar;

/* Keep t as a temporary of the rule (NULL-safe: records the first error). */
static st_tensor *K(ar *c, st_tensor *t) {
    if (!t) {
        if (c->err == ST_OK) {
            c->err = st_last_status() != ST_OK ? st_last_status() : ST_E_INTERNAL;
            snprintf(c->msg, sizeof c->msg, "%s", st_last_error());
        }
        return NULL;
    }
    if (c->ntmp == AR_CAP) {
        ST_ASSERT(c->ntmp < AR_CAP);
        st_release(t);
        if (c->err == ST_OK) {
            c->err = ST_E_INTERNAL;
            snprintf(c->msg, sizeof c->msg, "rule arena is full");
        }
        return NULL;
    }
    c->tmp[c->ntmp++] = t;
    return t;
}

/* Set gin[i] (when needed) to t. */
static void OUT(ar *c, int i, st_tensor *t) {
    if (c->need[i] && t) c->gin[i] = st_retain(t);
}

#define IN(i) (c->n->saved[i])
#define OUTV (c->n->saved_out)
#define G (c->g)
#define NEED(i) (c->need[i])

static st_tensor *S(ar *c, const st_tensor *like, double v) { return K(c, st_ag_scalar_like(like, v)); }

/* ---------------------------------------------------------------- helpers */

st_tensor *st_ag_scalar_like(const st_tensor *t, double v) {
    st_tensor *s = st_empty_on(st_tensor_device(t), 0, NULL, t->dtype);
    if (s && st_fill_(s, v) != ST_OK) {
        st_release(s);
        return NULL;
    }
    return s;
}

st_tensor *st_ag_zeros_meta(const ag_meta *m) {
    st_tensor *z = st_empty_on(m->dev, m->ndim, m->shape, m->dtype);
    if (z && st_fill_(z, 0.0) != ST_OK) {
        st_release(z);
        return NULL;
    }
    return z;
}

st_status st_ag_assign(st_tensor *dst, st_tensor *src) {
    if (!dst || !src) return st_err(ST_E_INVALID_ARG, "assign: NULL tensor");
    st_status s = st_check_same_device("assign", dst, src);
    if (s != ST_OK) return s;
    int nd;
    int64_t bs[ST_MAX_DIMS];
    s = st_broadcast_shapes("assign", src->ndim, src->shape, dst->ndim, dst->shape, &nd, bs);
    if (s != ST_OK) return s;
    if (nd != dst->ndim || memcmp(bs, dst->shape, (size_t)nd * sizeof(int64_t)) != 0)
        return st_err(ST_E_SHAPE, "assign: %s does not broadcast to %s", st_tdesc(src), st_tdesc2(dst));
    if (st_numel(dst) == 0) return ST_OK;
    st_kview d = st_kview_of(dst), x = st_kview_broadcast(src, dst->ndim, dst->shape);
    return st_tensor_backend(dst)->copy(st_tensor_device(dst).index, &d, &x);
}

st_tensor *st_ag_fit(st_tensor *g, const ag_meta *m) {
    st_tensor *cur = st_retain(g);
    bool same = cur->ndim == m->ndim && memcmp(cur->shape, m->shape, (size_t)m->ndim * sizeof(int64_t)) == 0;
    if (!same) {
        int axes[ST_MAX_DIMS], na = 0, lead = cur->ndim - m->ndim;
        if (lead < 0) {
            st_release(cur);
            st_err(ST_E_INTERNAL, "autograd: gradient %s has fewer dims than its input (%d)", st_tdesc(g), m->ndim);
            return NULL;
        }
        for (int i = 0; i < cur->ndim; i++)
            if (i < lead || (m->shape[i - lead] == 1 && cur->shape[i] != 1)) axes[na++] = i;
        st_tensor *r = cur;
        if (na) {
            r = st_sum(cur, axes, na, true);
            st_release(cur);
        }
        cur = r ? st_reshape(r, m->ndim, m->shape) : NULL;
        st_release(r);
        if (!cur) return NULL;
    }
    if (cur->dtype != m->dtype) {
        st_tensor *r = st_to_dtype(cur, m->dtype);
        st_release(cur);
        if (!(cur = r)) return NULL;
    }
    st_device d = st_tensor_device(cur);
    if (d.kind != m->dev.kind || d.index != m->dev.index) {
        st_tensor *r = st_to_device(cur, m->dev);
        st_release(cur);
        cur = r;
    }
    return cur;
}

unsigned st_ag_saves(st_op op, int n_inputs) {
    const unsigned A = 1u, B = 2u, OUTB = 0x100u;
    switch (op) {
    case ST_OP_MUL: case ST_OP_DIV: case ST_OP_MAXIMUM: case ST_OP_MINIMUM:
        return n_inputs == 2 ? A | B : A;
    case ST_OP_POW: return n_inputs == 2 ? A | B | OUTB : A;
    case ST_OP_WHERE: return A;
    case ST_OP_LOG: case ST_OP_ABS: case ST_OP_RELU: case ST_OP_GELU: return A;
    case ST_OP_EXP: case ST_OP_SQRT: case ST_OP_TANH: case ST_OP_SIGMOID: return OUTB;
    case ST_OP_MAX: case ST_OP_MIN: return A | OUTB;
    case ST_OP_MATMUL: return A | B;
    case ST_OP_SOFTMAX: case ST_OP_LOG_SOFTMAX: return OUTB;
    case ST_OP_CROSS_ENTROPY: return A | B;
    case ST_OP_INDEX_SELECT: case ST_OP_GATHER: case ST_OP_SCATTER: return B;
    case ST_OP_TOPK: case ST_OP_BOTTOMK: case ST_OP_MIDK: return B; /* the indices output */
    default: return 0;
    }
}

/* ---------------------------------------------------------------- elementwise */

static void r_binary(ar *c) {
    st_op op = c->n->op;
    bool two = c->n->n_inputs == 2;
    st_tensor *a = IN(0), *b = two ? IN(1) : NULL;
    double s = c->n->dargs[0]; /* the scalar operand of the one-input (scalar) forms */
    switch (op) {
    case ST_OP_ADD: OUT(c, 0, G); if (two) OUT(c, 1, G); break;
    case ST_OP_SUB: OUT(c, 0, G); if (two && NEED(1)) OUT(c, 1, K(c, st_neg(G))); break;
    case ST_OP_MUL:
        if (!two) { OUT(c, 0, K(c, st_mul_scalar(G, s))); break; }
        if (NEED(0)) OUT(c, 0, K(c, st_mul(G, b)));
        if (NEED(1)) OUT(c, 1, K(c, st_mul(G, a)));
        break;
    case ST_OP_DIV: {
        if (!two) { OUT(c, 0, K(c, st_mul_scalar(G, 1.0 / s))); break; }
        st_tensor *q = K(c, st_div(G, b));
        OUT(c, 0, q);
        if (NEED(1)) OUT(c, 1, K(c, st_neg(K(c, st_mul(q, K(c, st_div(a, b)))))));
        break;
    }
    default: break;
    }
}

static void r_pow(ar *c) {
    st_tensor *a = IN(0);
    if (c->n->n_inputs == 1) { /* a ** s */
        double s = c->n->dargs[0];
        if (s == 0.0) OUT(c, 0, K(c, st_mul_scalar(G, 0.0)));
        else OUT(c, 0, K(c, st_mul(G, K(c, st_mul_scalar(K(c, st_pow_scalar(a, s - 1.0)), s)))));
        return;
    }
    st_tensor *b = IN(1);
    if (NEED(0)) {
        st_tensor *p = K(c, st_pow(a, K(c, st_add_scalar(b, -1.0))));
        OUT(c, 0, K(c, st_mul(G, K(c, st_mul(b, p)))));
    }
    if (NEED(1)) { /* g * a^b * log(a), and 0 where a == 0 (like torch) */
        st_tensor *z = S(c, a, 0.0);
        st_tensor *l = K(c, st_where(K(c, st_eq(a, z)), z, K(c, st_log(a))));
        OUT(c, 1, K(c, st_mul(G, K(c, st_mul(OUTV, l)))));
    }
}

/* maximum/minimum: ties split the gradient evenly, like torch. */
static void r_minmax2(ar *c) {
    st_tensor *a = IN(0), *b = c->n->n_inputs == 2 ? IN(1) : NULL;
    st_tensor *bb = b ? b : S(c, a, c->n->dargs[0]);
    st_tensor *win = K(c, c->n->op == ST_OP_MAXIMUM ? st_gt(a, bb) : st_lt(a, bb));
    st_tensor *tie = K(c, st_mul_scalar(K(c, st_eq(a, bb)), 0.5));
    st_tensor *ga = K(c, st_mul(G, K(c, st_add(win, tie))));
    OUT(c, 0, ga);
    if (b && NEED(1)) OUT(c, 1, K(c, st_sub(G, ga)));
}

static void r_where(ar *c) {
    st_tensor *cond = IN(0), *z = S(c, G, 0.0);
    if (NEED(1)) OUT(c, 1, K(c, st_where(cond, G, z)));
    if (NEED(2)) OUT(c, 2, K(c, st_where(cond, z, G)));
}

/* gelu'(x) = Phi(x) + x phi(x); Phi(x) = gelu(x)/x away from 0 (no erf op needed). */
static st_tensor *gelu_grad(ar *c, st_tensor *x) {
    st_tensor *small = K(c, st_lt(K(c, st_abs(x)), S(c, x, 1e-20)));
    st_tensor *Phi = K(c, st_where(small, S(c, x, 0.5), K(c, st_div(K(c, st_gelu(x)), x))));
    st_tensor *phi = K(c, st_mul_scalar(K(c, st_exp(K(c, st_mul_scalar(K(c, st_mul(x, x)), -0.5)))),
                                        1.0 / sqrt(2.0 * M_PI)));
    return K(c, st_add(Phi, K(c, st_mul(x, phi))));
}

static void r_unary(ar *c) {
    st_tensor *x = IN(0), *y = OUTV, *d = NULL;
    switch (c->n->op) {
    case ST_OP_NEG: OUT(c, 0, K(c, st_neg(G))); return;
    case ST_OP_EXP: d = y; break;
    case ST_OP_LOG: OUT(c, 0, K(c, st_div(G, x))); return;
    case ST_OP_SQRT: OUT(c, 0, K(c, st_mul_scalar(K(c, st_div(G, y)), 0.5))); return;
    case ST_OP_ABS: {
        st_tensor *z = S(c, x, 0.0);
        d = K(c, st_sub(K(c, st_gt(x, z)), K(c, st_lt(x, z))));
        break;
    }
    case ST_OP_RELU: d = K(c, st_gt(x, S(c, x, 0.0))); break;
    case ST_OP_GELU: d = gelu_grad(c, x); break;
    case ST_OP_TANH: d = K(c, st_add_scalar(K(c, st_mul_scalar(K(c, st_mul(y, y)), -1.0)), 1.0)); break;
    case ST_OP_SIGMOID: d = K(c, st_mul(y, K(c, st_add_scalar(K(c, st_mul_scalar(y, -1.0)), 1.0)))); break;
    default: return;
    }
    OUT(c, 0, K(c, st_mul(G, d)));
}

/* ---------------------------------------------------------------- reductions */

/* iargs[0] = axes mask over the input's dims, iargs[1] = keepdim. g reshaped to the
 * keepdim shape. */
static st_tensor *keepdim_grad(ar *c, st_tensor *g) {
    const ag_meta *m = &c->n->meta[0];
    uint32_t mask = (uint32_t)c->n->iargs[0];
    int64_t ks[ST_MAX_DIMS];
    for (int i = 0; i < m->ndim; i++) ks[i] = (mask >> i) & 1u ? 1 : m->shape[i];
    return K(c, st_reshape(g, m->ndim, ks));
}

static int mask_axes(uint32_t mask, int ndim, int *axes) {
    int n = 0;
    for (int i = 0; i < ndim; i++)
        if ((mask >> i) & 1u) axes[n++] = i;
    return n;
}

static void r_reduce(ar *c) {
    const ag_meta *m = &c->n->meta[0];
    st_tensor *gk = keepdim_grad(c, G);
    if (c->n->op == ST_OP_SUM || c->n->op == ST_OP_MEAN) {
        if (c->n->op == ST_OP_MEAN) {
            int64_t cnt = 1;
            for (int i = 0; i < m->ndim; i++)
                if ((c->n->iargs[0] >> i) & 1) cnt *= m->shape[i];
            gk = K(c, st_mul_scalar(gk, cnt ? 1.0 / (double)cnt : 0.0));
        }
        OUT(c, 0, K(c, st_expand(gk, m->ndim, m->shape)));
        return;
    }
    /* max/min: the gradient goes to every extremal element, split evenly among ties. */
    st_tensor *x = IN(0), *yk = keepdim_grad(c, OUTV);
    int axes[ST_MAX_DIMS], na = mask_axes((uint32_t)c->n->iargs[0], m->ndim, axes);
    st_tensor *hit = K(c, st_eq(x, yk));
    st_tensor *cnt = K(c, st_sum(hit, axes, na, true));
    OUT(c, 0, K(c, st_mul(hit, K(c, st_div(gk, cnt)))));
}

/* ---------------------------------------------------------------- matmul */

static st_tensor *mT(ar *c, st_tensor *t) { return K(c, st_transpose(t, -1, -2)); }

/* A matrix (last two dims) laid out column-major: the transpose of a dense matrix. */
static bool col_major(const st_tensor *t) {
    if (!t || t->ndim < 2) return false;
    int64_t r = t->shape[t->ndim - 2], k = t->shape[t->ndim - 1];
    return r > 1 && k > 1 && t->strides[t->ndim - 2] == 1 && t->strides[t->ndim - 1] == r;
}

static void r_matmul(ar *c) {
    st_tensor *a = IN(0), *b = IN(1), *g = G;
    bool a1 = a->ndim == 1, b1 = b->ndim == 1;
    if (a1) a = K(c, st_unsqueeze(a, 0));
    if (b1) b = K(c, st_unsqueeze(b, 1));
    if (a1 && b1) g = K(c, st_reshape(g, 2, (int64_t[]){1, 1}));
    else if (a1) g = K(c, st_unsqueeze(g, -2));
    else if (b1) g = K(c, st_unsqueeze(g, -1));
    /* Batch dims are summed by the engine (st_ag_fit); the dims added for 1-D operands
     * are squeezed here first. */
    /* When an operand is stored transposed (e.g. W^T in a Linear layer), its gradient is
     * computed transposed as well, (X^T)^T, so that it comes out in the operand's memory
     * layout and the transpose's own backward hands the leaf a contiguous gradient
     * instead of forcing a strided copy. BLAS reads transposed operands for free. */
    if (NEED(0)) {
        st_tensor *ga = col_major(a) ? mT(c, K(c, st_matmul(b, mT(c, g)))) : K(c, st_matmul(g, mT(c, b)));
        OUT(c, 0, a1 ? K(c, st_squeeze(ga, -2)) : ga);
    }
    if (NEED(1)) {
        st_tensor *gb = col_major(b) ? mT(c, K(c, st_matmul(mT(c, g), a))) : K(c, st_matmul(mT(c, a), g));
        OUT(c, 1, b1 ? K(c, st_squeeze(gb, -1)) : gb);
    }
}

/* ---------------------------------------------------------------- softmax family */

static void r_softmax(ar *c) {
    int dim = (int)c->n->iargs[0];
    st_tensor *y = OUTV;
    if (c->n->op == ST_OP_SOFTMAX) {
        st_tensor *s = K(c, st_sum(K(c, st_mul(G, y)), &dim, 1, true));
        OUT(c, 0, K(c, st_mul(y, K(c, st_sub(G, s)))));
    } else {
        st_tensor *s = K(c, st_sum(G, &dim, 1, true));
        OUT(c, 0, K(c, st_sub(G, K(c, st_mul(K(c, st_exp(y)), s)))));
    }
}

/* Mean cross-entropy of logits [N, C] against targets [N] (only used if an op records
 * it as one node): (softmax(logits) - onehot(targets)) * g / N. */
static void r_cross_entropy(ar *c) {
    st_tensor *x = IN(0), *t = IN(1);
    int64_t n = x->shape[0];
    st_tensor *p = K(c, st_softmax(x, 1));
    st_tensor *ti = K(c, st_reshape(t, 2, (int64_t[]){n, 1}));
    st_tensor *one = K(c, st_expand(S(c, x, 1.0), 2, (int64_t[]){n, 1}));
    st_tensor *oh = K(c, st_scatter(K(c, st_mul_scalar(p, 0.0)), 1, ti, one, false));
    st_tensor *d = K(c, st_sub(p, oh));
    OUT(c, 0, K(c, st_mul(d, K(c, st_mul_scalar(G, n ? 1.0 / (double)n : 0.0)))));
}

/* ---------------------------------------------------------------- views and copies */

static void r_view(ar *c) {
    const ag_meta *m = &c->n->meta[0];
    switch (c->n->op) {
    case ST_OP_RESHAPE: OUT(c, 0, K(c, st_reshape(G, m->ndim, m->shape))); break;
    case ST_OP_PERMUTE: {
        int inv[ST_MAX_DIMS];
        for (int i = 0; i < m->ndim; i++) inv[c->n->iargs[i]] = i;
        OUT(c, 0, K(c, st_permute(G, inv)));
        break;
    }
    case ST_OP_EXPAND: /* the engine sums over the expanded dims */
    case ST_OP_COPY:   /* the engine converts dtype and device back */
        OUT(c, 0, G);
        break;
    case ST_OP_SLICE: { /* zeros of the input's shape, g scattered at start, start+step, ... */
        int d = (int)c->n->iargs[0];
        int64_t start = c->n->iargs[1], step = c->n->iargs[3], len = G->shape[d];
        int64_t ish[ST_MAX_DIMS];
        for (int i = 0; i < m->ndim; i++) ish[i] = i == d ? len : 1;
        st_tensor *idx = K(c, st_arange((double)start, (double)(start + len * step), (double)step, ST_I64));
        if (idx && st_tensor_device(idx).kind != m->dev.kind) idx = K(c, st_to_device(idx, m->dev));
        idx = K(c, st_reshape(idx, m->ndim, ish));
        idx = K(c, st_contiguous(K(c, st_expand(idx, G->ndim, G->shape))));
        ag_meta zm = *m;
        zm.dtype = G->dtype;
        OUT(c, 0, K(c, st_scatter(K(c, st_ag_zeros_meta(&zm)), d, idx, G, false)));
        break;
    }
    default: break;
    }
}

/* ---------------------------------------------------------------- joining, indexing */

/* t zero-padded at the end of each dim up to m's shape (t's dtype). */
static st_tensor *pad_to(ar *c, st_tensor *t, const ag_meta *m) {
    for (int d = 0; t && d < m->ndim; d++) {
        if (t->shape[d] >= m->shape[d]) continue;
        ag_meta zm = *m;
        zm.dtype = t->dtype;
        memcpy(zm.shape, t->shape, sizeof zm.shape);
        zm.shape[d] = m->shape[d] - t->shape[d];
        st_tensor *parts[2] = {t, K(c, st_ag_zeros_meta(&zm))};
        t = parts[1] ? K(c, st_concat(parts, 2, d)) : NULL;
    }
    return t;
}

static void r_index(ar *c) {
    int dim = (int)c->n->iargs[0];
    ag_meta xm = c->n->meta[0];
    xm.dtype = G->dtype;
    switch (c->n->op) {
    case ST_OP_CONCAT:
        for (int k = 0; k < c->n->n_inputs; k++) {
            int64_t off = c->n->iargs[2 + 2 * k], len = c->n->iargs[3 + 2 * k];
            if (NEED(k)) OUT(c, k, K(c, st_slice(G, dim, off, off + len, 1)));
        }
        break;
    case ST_OP_INDEX_SELECT: {
        st_tensor *idx = IN(1);
        int64_t sh[ST_MAX_DIMS];
        for (int i = 0; i < G->ndim; i++) sh[i] = i == dim ? idx->shape[0] : 1;
        st_tensor *ie = K(c, st_contiguous(K(c, st_expand(K(c, st_reshape(idx, G->ndim, sh)), G->ndim, G->shape))));
        OUT(c, 0, K(c, st_scatter(K(c, st_ag_zeros_meta(&xm)), dim, ie, G, true)));
        break;
    }
    case ST_OP_TOPK: case ST_OP_BOTTOMK: case ST_OP_MIDK: /* values = x gathered at indices (last axis) */
        OUT(c, 0, K(c, st_scatter(K(c, st_ag_zeros_meta(&xm)), xm.ndim ? xm.ndim - 1 : 0, IN(1), G, true)));
        break;
    case ST_OP_GATHER:
        if (xm.ndim == 0) OUT(c, 0, K(c, st_sum(G, NULL, 0, false)));
        else OUT(c, 0, K(c, st_scatter(K(c, st_ag_zeros_meta(&xm)), dim, IN(1), G, true)));
        break;
    case ST_OP_SCATTER: {
        st_tensor *idx = IN(1);
        bool add = c->n->iargs[1] != 0;
        if (NEED(0)) {
            if (add) OUT(c, 0, G);
            else OUT(c, 0, K(c, st_scatter(G, dim, idx, K(c, st_expand(S(c, G, 0.0), idx->ndim, idx->shape)), false)));
        }
        if (NEED(2)) { /* grad of src: g at the scattered positions (last write wins: exact for unique
                        * indices, like torch); zero outside index's corner of src */
            st_tensor *gs = K(c, st_gather(G, dim, idx));
            const ag_meta *sm = &c->n->meta[2];
            bool same = sm->ndim == idx->ndim && !memcmp(sm->shape, idx->shape, (size_t)idx->ndim * sizeof(int64_t));
            if (!same) gs = pad_to(c, gs, sm);
            OUT(c, 2, gs);
        }
        break;
    }
    default: break;
    }
}

st_status st_ag_rule(ag_node *n, st_tensor *g, const bool *need, st_tensor **gin) {
    ar c;
    memset(&c, 0, sizeof c);
    c.n = n;
    c.g = g;
    c.need = need;
    c.gin = gin;
    switch (n->op) {
    case ST_OP_ADD: case ST_OP_SUB: case ST_OP_MUL: case ST_OP_DIV: r_binary(&c); break;
    case ST_OP_POW: r_pow(&c); break;
    case ST_OP_MAXIMUM: case ST_OP_MINIMUM: r_minmax2(&c); break;
    case ST_OP_WHERE: r_where(&c); break;
    case ST_OP_NEG: case ST_OP_EXP: case ST_OP_LOG: case ST_OP_SQRT: case ST_OP_ABS: case ST_OP_RELU:
    case ST_OP_GELU: case ST_OP_TANH: case ST_OP_SIGMOID: r_unary(&c); break;
    case ST_OP_SUM: case ST_OP_MEAN: case ST_OP_MAX: case ST_OP_MIN: r_reduce(&c); break;
    case ST_OP_MATMUL: r_matmul(&c); break;
    case ST_OP_SOFTMAX: case ST_OP_LOG_SOFTMAX: r_softmax(&c); break;
    case ST_OP_CROSS_ENTROPY: r_cross_entropy(&c); break;
    case ST_OP_RESHAPE: case ST_OP_PERMUTE: case ST_OP_SLICE: case ST_OP_EXPAND: case ST_OP_COPY: r_view(&c); break;
    case ST_OP_CONCAT: case ST_OP_INDEX_SELECT: case ST_OP_GATHER: case ST_OP_SCATTER:
    case ST_OP_TOPK: case ST_OP_BOTTOMK: case ST_OP_MIDK: r_index(&c); break;
    default:
        c.err = ST_E_UNSUPPORTED;
        snprintf(c.msg, sizeof c.msg, "no backward rule for '%s'", st_op_table[n->op].name);
        break;
    }
    for (int i = 0; i < c.ntmp; i++) st_release(c.tmp[i]);
    if (c.err != ST_OK) {
        for (int i = 0; i < n->n_inputs; i++) {
            st_release(gin[i]);
            gin[i] = NULL;
        }
        return st_err(c.err, "backward of '%s': %s", st_op_table[n->op].name, c.msg);
    }
    return ST_OK;
}
