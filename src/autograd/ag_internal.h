/* ag_internal.h — private definitions of the autograd engine (src/autograd) shared
 * with the nn layer (src/nn).
 *
 * The tape is a DAG of nodes. A node is created by st_autograd_record() when an op
 * runs on inputs that require grad; the output tensor owns one reference to it
 * (tensor.grad_fn). A node owns:
 *   - one reference to the node of each input that has one (edges[i].fn), or one
 *     reference to the input tensor itself when it is a leaf that requires grad
 *     (edges[i].leaf; leaves have no grad_fn, so this cannot form a cycle);
 *   - detached views (fresh headers sharing storage, no grad_fn) of the tensors its
 *     backward rule reads (saved[i], saved_out). Saving the output as a detached view
 *     instead of the output itself is what keeps out -> node -> out from being a cycle.
 * Nodes are freed iteratively (no recursion) when their last reference goes.
 */
#ifndef ST_AG_INTERNAL_H
#define ST_AG_INTERNAL_H

#include "../ops/op_common.h"

#define AG_MAX_IN 4

typedef struct ag_edge {
    struct st_autograd_node *fn; /* owned reference, or NULL */
    st_tensor *leaf;             /* owned reference to a leaf, or NULL */
} ag_edge;

/* What backward needs to know of an input without keeping it alive. */
typedef struct ag_meta {
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    st_dtype dtype;
    st_device dev;
} ag_meta;

typedef struct st_autograd_node {
    int refcount;
    st_op op;
    int n_inputs;
    ag_edge edges[AG_MAX_IN];
    ag_meta meta[AG_MAX_IN];
    ag_meta out_meta;
    st_tensor *saved[AG_MAX_IN]; /* detached views or NULL */
    st_tensor *saved_out;        /* detached view or NULL */
    bool has_saved;
    bool freed; /* saved tensors released after a backward without retain_graph */
    int64_t iargs[ST_MAX_DIMS + 4];
    double dargs[2];
    /* traversal state of the backward in progress */
    uint64_t epoch;
    int deps;
    st_tensor *gsum; /* gradient w.r.t. this node's output, accumulated */
    struct st_autograd_node *next_free;
} ag_node;

/* Hooks whose weak defaults live in src/core/tensor.c; engine.c defines them. */
void st_autograd_release_node(struct st_autograd_node *n);
st_tensor *st_autograd_copy(st_tensor *t, st_tensor *out);

/* Backward rule: from the gradient g of the output (out-shaped), compute gin[i] for
 * every i with need[i] (new references; left NULL when no gradient flows). gin[i] may
 * have the output's (broadcast) shape: the engine reduces it to the input's shape.
 * Runs with grad mode off. */
st_status st_ag_rule(ag_node *n, st_tensor *g, const bool *need, st_tensor **gin);

/* Which tensors a rule reads: bit i = input i, bit 8 = the output. */
unsigned st_ag_saves(st_op op, int n_inputs);

/* Sum g over broadcast dims so it has `meta`'s shape, then convert to its dtype and
 * device. New reference or NULL. */
st_tensor *st_ag_fit(st_tensor *g, const ag_meta *meta);

/* dst[...] = src (broadcast to dst's shape, converted to dst's dtype). Same device.
 * In place on dst's storage; no autograd. */
st_status st_ag_assign(st_tensor *dst, st_tensor *src);

/* A 0-d tensor of value v with t's dtype and device (new reference). */
st_tensor *st_ag_scalar_like(const st_tensor *t, double v);
/* Zeros of `meta`'s shape, dtype and device (new reference). */
st_tensor *st_ag_zeros_meta(const ag_meta *m);

/* Optimizers: use the fused CPU loops when possible (default true). For tests that
 * check the generic forward-op path too. (src/nn/optim.c) */
void st_optim_set_fused(bool on);

#endif
