/* engine.c — the autograd engine: grad mode, recording nodes, freeing the tape,
 * backward in reverse topological order, leaf gradient accumulation, detach.
 *
 * Invariants (see ag_internal.h for the node layout and ownership):
 * - A tensor requires grad when it is a leaf marked with st_set_requires_grad, or the
 *   output of an op recorded while grad mode was on and some input required grad.
 * - Leaves have no grad_fn; recorded outputs always have one.
 * - Backward runs with grad mode off, so rules (written with public forward ops) never
 *   record. Without retain_graph, the saved tensors of every visited node are released
 *   afterwards; a later backward through a node that needs them is ST_E_STATE.
 * - Leaf .grad is accumulated in place once it exists, so a pointer from st_grad()
 *   stays valid until st_grad_clear() or the leaf's release.
 * Not thread-safe for one graph; grad mode is per thread.
 */
#include "ag_internal.h"

/* ---------------------------------------------------------------- grad mode */

static _Thread_local bool g_disabled;       /* current state: grad mode off */
static _Thread_local uint64_t g_nograd_bits; /* saved states of st_no_grad_enter */
static _Thread_local int g_nograd_depth;

bool st_is_grad_enabled(void) { return !g_disabled; }

bool st_set_grad_enabled(bool enabled) {
    bool prev = !g_disabled;
    g_disabled = !enabled;
    return prev;
}

void st_no_grad_enter(void) {
    if (g_nograd_depth < 64) {
        uint64_t bit = UINT64_C(1) << g_nograd_depth;
        g_nograd_bits = g_disabled ? (g_nograd_bits | bit) : (g_nograd_bits & ~bit);
    }
    g_nograd_depth++;
    g_disabled = true;
}

void st_no_grad_exit(void) {
    if (g_nograd_depth <= 0) {
        st_logf(ST_LOG_WARN, "st_no_grad_exit without a matching st_no_grad_enter; ignored");
        return;
    }
    g_nograd_depth--;
    if (g_nograd_depth < 64) g_disabled = (g_nograd_bits >> g_nograd_depth) & 1u;
    else g_disabled = true;
}

/* ---------------------------------------------------------------- requires_grad */

bool st_grad_needed(st_tensor *const *ts, int n) {
    if (g_disabled || !ts) return false;
    for (int i = 0; i < n; i++)
        if (ts[i] && ts[i]->requires_grad) return true;
    return false;
}

st_status st_set_requires_grad(st_tensor *t, bool requires_grad) {
    if (!t) return st_err(ST_E_INVALID_ARG, "set_requires_grad: tensor is NULL");
    if (t->grad_fn) {
        if (requires_grad) return ST_OK;
        return st_err(ST_E_INVALID_ARG,
                      "set_requires_grad: %s is the output of an op (not a leaf); use st_detach to cut it off",
                      st_tdesc(t));
    }
    if (requires_grad && !st_dtype_is_float(t->dtype))
        return st_err(ST_E_DTYPE, "set_requires_grad: only float tensors can require grad, not %s", st_tdesc(t));
    t->requires_grad = requires_grad;
    return ST_OK;
}

bool st_requires_grad(const st_tensor *t) { return t && t->requires_grad; }
bool st_is_leaf(const st_tensor *t) { return t && !t->grad_fn; }

st_tensor *st_grad(st_tensor *t) { return t ? t->grad : NULL; }

void st_grad_clear(st_tensor *t) {
    if (!t) return;
    st_release(t->grad);
    t->grad = NULL;
}

st_status st_zero_grad(st_tensor *t) {
    if (!t) return st_err(ST_E_INVALID_ARG, "zero_grad: tensor is NULL");
    return t->grad ? st_fill_(t->grad, 0.0) : ST_OK;
}

st_tensor *st_detach(st_tensor *t) {
    if (!t) {
        st_err(ST_E_INVALID_ARG, "detach: tensor is NULL");
        return NULL;
    }
    return st_tensor_view(t, t->ndim, t->shape, t->strides, t->offset);
}

/* ---------------------------------------------------------------- node lifetime */

static _Thread_local ag_node *g_free_list;
static _Thread_local bool g_draining;

static void node_drop_saved(ag_node *n) {
    for (int i = 0; i < n->n_inputs; i++) {
        st_release(n->saved[i]);
        n->saved[i] = NULL;
    }
    st_release(n->saved_out);
    n->saved_out = NULL;
}

static void node_destroy(ag_node *n) {
    node_drop_saved(n);
    st_release(n->gsum);
    for (int i = 0; i < n->n_inputs; i++) {
        if (n->edges[i].fn) st_autograd_release_node(n->edges[i].fn);
        st_release(n->edges[i].leaf);
    }
    st_free(n);
}

/* Strong definition of the hook in src/core/tensor.c. Iterative: a chain of a million
 * nodes frees without deep recursion (destroying a node only queues its inputs). */
void st_autograd_release_node(struct st_autograd_node *n) {
    if (!n || --n->refcount > 0) return;
    n->next_free = g_free_list;
    g_free_list = n;
    if (g_draining) return;
    g_draining = true;
    while (g_free_list) {
        ag_node *x = g_free_list;
        g_free_list = x->next_free;
        node_destroy(x);
    }
    g_draining = false;
}

static void meta_of(ag_meta *m, const st_tensor *t) {
    m->ndim = t->ndim;
    memcpy(m->shape, t->shape, sizeof m->shape);
    m->dtype = t->dtype;
    m->dev = st_tensor_device(t);
}

static st_tensor *detached(st_tensor *t) { return st_tensor_view(t, t->ndim, t->shape, t->strides, t->offset); }

static ag_node *node_new(st_tensor *out, const st_grad_ctx *ctx) {
    ag_node *n = st_calloc(1, sizeof *n);
    if (!n) return NULL;
    n->refcount = 1;
    n->op = ctx->op;
    n->n_inputs = ctx->n_inputs;
    memcpy(n->iargs, ctx->iargs, sizeof n->iargs);
    memcpy(n->dargs, ctx->dargs, sizeof n->dargs);
    meta_of(&n->out_meta, out);
    unsigned saves = st_ag_saves(ctx->op, ctx->n_inputs);
    for (int i = 0; i < ctx->n_inputs; i++) {
        st_tensor *in = ctx->inputs[i];
        if (!in) continue;
        meta_of(&n->meta[i], in);
        if (in->requires_grad && st_dtype_is_float(in->dtype)) {
            if (in->grad_fn) {
                n->edges[i].fn = in->grad_fn;
                in->grad_fn->refcount++;
            } else {
                n->edges[i].leaf = st_retain(in);
            }
        }
        if ((saves >> i) & 1u) {
            n->has_saved = true;
            if (!(n->saved[i] = detached(in))) goto fail;
        }
    }
    if (saves & 0x100u) {
        n->has_saved = true;
        if (!(n->saved_out = detached(out))) goto fail;
    }
    return n;
fail:
    node_destroy(n);
    return NULL;
}

/* Strong definition of the hook in src/ops/op_common.c. */
st_tensor *st_autograd_record(st_tensor *out, const st_grad_ctx *ctx) {
    if (!out || !ctx || g_disabled) return out;
    if (ctx->n_inputs < 0 || ctx->n_inputs > AG_MAX_IN || (unsigned)ctx->op >= ST_OP__COUNT) {
        st_err(ST_E_INTERNAL, "autograd: bad record context (op %d, %d inputs)", (int)ctx->op, ctx->n_inputs);
        st_release(out);
        return NULL;
    }
    if (!(st_op_table[ctx->op].flags & ST_OPF_DIFF) || !st_dtype_is_float(out->dtype)) return out;
    if (!st_grad_needed(ctx->inputs, ctx->n_inputs)) return out;
    for (int i = 0; i < ctx->n_inputs; i++)
        if (ctx->inputs[i] == out) return out; /* an op that returned its input: identity */
    ag_node *n = node_new(out, ctx);
    if (!n) {
        st_err_prefix("%s: recording for autograd", st_op_table[ctx->op].name);
        st_release(out);
        return NULL;
    }
    if (out->grad_fn) st_autograd_release_node(out->grad_fn); /* composed op: its own node wins */
    out->grad_fn = n;
    out->requires_grad = true;
    return out;
}

/* Strong definition of the hook in src/core/tensor.c (clone, to_dtype, to_device). */
st_tensor *st_autograd_copy(st_tensor *t, st_tensor *out) {
    if (!out || !t || !st_grad_needed(&t, 1)) return out;
    st_grad_ctx c;
    memset(&c, 0, sizeof c);
    c.op = ST_OP_COPY;
    c.n_inputs = 1;
    c.inputs[0] = t;
    return st_autograd_record(out, &c);
}

/* ---------------------------------------------------------------- accumulation */

/* g as an exclusively owned contiguous tensor (consumes the caller's reference). */
static st_tensor *own(st_tensor *g) {
    if (g->refcount == 1 && g->storage->refcount == 1 && !g->grad_fn && g->offset == 0 && st_is_contiguous(g))
        return g;
    st_tensor *c = st_clone(g);
    st_release(g);
    return c;
}

/* leaf.grad += g (g already fitted to the leaf; consumes the reference). */
static st_status accumulate(st_tensor *leaf, st_tensor *g) {
    if (!leaf->grad) {
        leaf->grad = own(g);
        return leaf->grad ? ST_OK : st_last_status();
    }
    st_tensor *s = st_add(leaf->grad, g);
    st_release(g);
    if (!s) return st_last_status();
    st_status st = st_ag_assign(leaf->grad, s);
    st_release(s);
    return st;
}

/* node.gsum += g (consumes the reference). */
static st_status add_to_node(ag_node *n, st_tensor *g) {
    if (!n->gsum) {
        n->gsum = g;
        return ST_OK;
    }
    st_tensor *s = st_add(n->gsum, g);
    st_release(g);
    if (!s) return st_last_status();
    st_release(n->gsum);
    n->gsum = s;
    return ST_OK;
}

/* ---------------------------------------------------------------- backward */

typedef struct ag_vec {
    ag_node **v;
    int n, cap;
} ag_vec;

static bool vec_push(ag_vec *a, ag_node *x) {
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 64;
        ag_node **nv = st_malloc((size_t)cap * sizeof *nv);
        if (!nv) return false;
        if (a->n) memcpy(nv, a->v, (size_t)a->n * sizeof *nv);
        st_free(a->v);
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return true;
}

static _Thread_local uint64_t g_epoch; /* per thread: one graph is never walked by two threads */

/* All nodes reachable from root into `all`, with deps = number of edges into each
 * from reachable nodes. */
static st_status collect(ag_node *root, ag_vec *all) {
    uint64_t e = ++g_epoch;
    ag_vec stack = {0};
    root->epoch = e;
    root->deps = 0;
    st_status s = ST_OK;
    if (!vec_push(all, root) || !vec_push(&stack, root)) s = st_last_status();
    while (s == ST_OK && stack.n) {
        ag_node *n = stack.v[--stack.n];
        for (int i = 0; i < n->n_inputs; i++) {
            ag_node *f = n->edges[i].fn;
            if (!f) continue;
            if (f->epoch != e) {
                f->epoch = e;
                f->deps = 0;
                if (!vec_push(all, f) || !vec_push(&stack, f)) {
                    s = st_last_status();
                    break;
                }
            }
            f->deps++;
        }
    }
    st_free(stack.v);
    return s;
}

/* Run one node's rule and route the input gradients. */
static st_status run_node(ag_node *n, ag_vec *ready) {
    st_tensor *g = n->gsum;
    n->gsum = NULL;
    st_status s = ST_OK;
    if (g) {
        if (n->freed && n->has_saved) {
            st_release(g);
            return st_err(ST_E_STATE,
                          "backward: the graph through '%s' was already freed by an earlier backward; "
                          "pass retain_graph=true to st_backward_ex to backward twice",
                          st_op_table[n->op].name);
        }
        bool need[AG_MAX_IN];
        st_tensor *gin[AG_MAX_IN] = {NULL};
        for (int i = 0; i < n->n_inputs; i++) need[i] = n->edges[i].fn || n->edges[i].leaf;
        s = st_ag_rule(n, g, need, gin);
        st_release(g);
        for (int i = 0; i < n->n_inputs; i++) {
            if (!gin[i]) continue;
            st_tensor *f = s == ST_OK ? st_ag_fit(gin[i], &n->meta[i]) : NULL;
            st_release(gin[i]);
            if (s != ST_OK) continue;
            if (!f) {
                s = st_err_prefix("backward of '%s' (input %d)", st_op_table[n->op].name, i);
                continue;
            }
            if (n->edges[i].fn) s = add_to_node(n->edges[i].fn, f);
            else if (n->edges[i].leaf && n->edges[i].leaf->requires_grad) s = accumulate(n->edges[i].leaf, f);
            else st_release(f);
        }
        if (s != ST_OK) return s;
    }
    for (int i = 0; i < n->n_inputs; i++) {
        ag_node *f = n->edges[i].fn;
        if (f && --f->deps == 0 && !vec_push(ready, f)) return st_last_status();
    }
    return ST_OK;
}

static st_status check_root_grad(st_tensor *t, st_tensor *grad, st_tensor **g) {
    if (!grad) {
        if (st_numel(t) != 1)
            return st_err(ST_E_SHAPE,
                          "backward: a gradient is needed for the non-scalar output %s (only one-element outputs "
                          "can omit it)",
                          st_tdesc(t));
        *g = st_ag_scalar_like(t, 1.0);
        if (*g && t->ndim) {
            st_tensor *r = st_reshape(*g, t->ndim, t->shape);
            st_release(*g);
            *g = r;
        }
        return *g ? ST_OK : st_last_status();
    }
    if (grad->ndim != t->ndim || memcmp(grad->shape, t->shape, (size_t)t->ndim * sizeof(int64_t)) != 0)
        return st_err(ST_E_SHAPE, "backward: gradient %s does not match the output %s", st_tdesc(grad),
                      st_tdesc2(t));
    if (!st_dtype_is_float(grad->dtype))
        return st_err(ST_E_DTYPE, "backward: gradient %s must have a float dtype", st_tdesc(grad));
    st_status s = st_check_same_device("backward", t, grad);
    if (s != ST_OK) return s;
    *g = st_cast_to(grad, t->dtype);
    return *g ? ST_OK : st_last_status();
}

static st_status backward_graph(ag_node *root, st_tensor *g, bool retain) {
    ag_vec all = {0}, ready = {0};
    st_status s = collect(root, &all);
    if (s == ST_OK) {
        root->gsum = g;
        g = NULL;
        if (!vec_push(&ready, root)) s = st_last_status();
    }
    while (s == ST_OK && ready.n) {
        ag_node *n = ready.v[--ready.n];
        s = run_node(n, &ready);
    }
    st_release(g);
    for (int i = 0; i < all.n; i++) {
        st_release(all.v[i]->gsum);
        all.v[i]->gsum = NULL;
        if (s == ST_OK && !retain) {
            node_drop_saved(all.v[i]);
            all.v[i]->freed = true;
        }
    }
    st_free(all.v);
    st_free(ready.v);
    return s;
}

st_status st_backward_ex(st_tensor *t, st_tensor *grad, bool retain_graph) {
    if (!t) return st_err(ST_E_INVALID_ARG, "backward: tensor is NULL");
    if (!t->requires_grad)
        return st_err(ST_E_STATE,
                      "backward: %s does not require grad (no input of the ops that made it requires grad, or it "
                      "was made under no_grad)",
                      st_tdesc(t));
    bool prev = st_set_grad_enabled(false);
    st_tensor *g = NULL;
    st_status s = check_root_grad(t, grad, &g);
    if (s == ST_OK) {
        if (t->grad_fn) s = backward_graph(t->grad_fn, g, retain_graph);
        else s = accumulate(t, g);
    }
    st_set_grad_enabled(prev);
    return s;
}

st_status st_backward(st_tensor *t, st_tensor *grad) { return st_backward_ex(t, grad, false); }
