/* eval.c — evaluation of SpiralK programs for one shape.
 *
 * Semantics (docs/spiralk.md): numbers are doubles; comparisons, !, && and || give
 * exactly 0 or 1; && and || and sel() evaluate lazily; / is real division; % is fmod
 * (sign of the dividend); division or % by zero, log2 of a value <= 0 and pow2 of a
 * value above 2^62 are runtime errors. A field's value from one program is its last
 * hard assignment, else the soft-rule vote.
 *
 * Invariants: recursion depth and work are bounded by the parser's static checks
 * (node height and cost), so evaluation terminates quickly for every program.
 */
#include "heur/heur.h"

#include <math.h>
#include <stdlib.h>

typedef struct ev {
    const hk_prog *p;
    const double *vars; /* NULL: constant evaluation */
    bool failed, nonconst;
    uint32_t err_pos;
    const char *err;
} ev;

static double fail(ev *e, uint32_t pos, const char *msg) {
    if (!e->failed) {
        e->failed = true;
        e->err_pos = pos;
        e->err = msg;
    }
    return 0;
}

static double eval(ev *e, uint32_t n, const double *frame);

static double builtin(ev *e, const hk_node *nd, const double *frame) {
    const uint32_t *args = &e->p->args[nd->a];
    if (nd->aux == HK_B_SEL) {
        double c = eval(e, args[0], frame);
        return e->failed ? 0 : eval(e, args[c != 0 ? 1 : 2], frame);
    }
    double x[3] = {0, 0, 0};
    for (uint32_t i = 0; i < nd->b && i < 3; i++) {
        x[i] = eval(e, args[i], frame);
        if (e->failed) return 0;
    }
    switch (nd->aux) {
    case HK_B_MIN: return x[1] < x[0] ? x[1] : x[0];
    case HK_B_MAX: return x[1] > x[0] ? x[1] : x[0];
    case HK_B_CLAMP: return x[0] < x[1] ? x[1] : x[0] > x[2] ? x[2] : x[0];
    case HK_B_LOG2: return x[0] > 0 ? log2(x[0]) : fail(e, nd->pos, "log2 of a value <= 0");
    case HK_B_POW2: {
        if (!(x[0] <= 4611686018427387904.0)) return fail(e, nd->pos, "pow2 of a value above 2^62");
        double p = 1;
        while (p < x[0]) p *= 2;
        return p;
    }
    case HK_B_FLOOR: return floor(x[0]);
    case HK_B_CEIL: return ceil(x[0]);
    case HK_B_ROUND: return round(x[0]);
    default: return fail(e, nd->pos, "internal error: unknown built-in");
    }
}

static double call_def(ev *e, const hk_node *nd, const double *frame) {
    double a[HK_MAX_PARAMS];
    for (uint32_t i = 0; i < nd->b; i++) {
        a[i] = eval(e, e->p->args[nd->a + i], frame);
        if (e->failed) return 0;
    }
    return eval(e, e->p->defs[nd->def].body, a);
}

static double binary(ev *e, const hk_node *nd, const double *frame) {
    double x = eval(e, nd->a, frame);
    if (e->failed) return 0;
    if (nd->op == HK_AND && x == 0) return 0;
    if (nd->op == HK_OR && x != 0) return 1;
    double y = eval(e, nd->b, frame);
    if (e->failed) return 0;
    switch (nd->op) {
    case HK_OR:
    case HK_AND: return y != 0;
    case HK_EQ: return x == y;
    case HK_NE: return x != y;
    case HK_LT: return x < y;
    case HK_LE: return x <= y;
    case HK_GT: return x > y;
    case HK_GE: return x >= y;
    case HK_ADD: return x + y;
    case HK_SUB: return x - y;
    case HK_MUL: return x * y;
    case HK_DIV: return y == 0 ? fail(e, nd->pos, "division by zero") : x / y;
    case HK_MOD: return y == 0 ? fail(e, nd->pos, "modulo by zero") : fmod(x, y);
    default: return fail(e, nd->pos, "internal error: unknown operator");
    }
}

static double eval(ev *e, uint32_t n, const double *frame) {
    const hk_node *nd = &e->p->nodes[n];
    switch (nd->op) {
    case HK_NUM: return nd->num;
    case HK_VAR:
        if (!e->vars) {
            e->nonconst = true;
            return fail(e, nd->pos, "not constant");
        }
        return e->vars[nd->aux];
    case HK_PARAM: return frame[nd->aux];
    case HK_NEG: {
        double x = eval(e, nd->a, frame);
        return e->failed ? 0 : -x;
    }
    case HK_NOT: {
        double x = eval(e, nd->a, frame);
        return e->failed ? 0 : (double)(x == 0);
    }
    case HK_BUILTIN: return builtin(e, nd, frame);
    case HK_CALL: return call_def(e, nd, frame);
    default: return binary(e, nd, frame);
    }
}

int hk_eval_const(const hk_prog *p, uint32_t n, double *v, char *err, size_t cap) {
    ev e = {.p = p};
    double x = eval(&e, n, NULL);
    if (e.nonconst) return 0;
    if (e.failed) {
        hk_format_at(p, e.err_pos, err, cap, "%s", e.err);
        return -1;
    }
    *v = x;
    return 1;
}

void hk_shape_make(hk_shape *s, int64_t rows, int64_t cols, int64_t k, bool sg, const st_heur_limits *lim) {
    s->var[HK_V_R] = (double)rows;
    s->var[HK_V_C] = (double)cols;
    s->var[HK_V_K] = (double)k;
    s->var[HK_V_SG] = sg ? 1 : 0;
    s->var[HK_V_SGSIZE] = sg ? (double)lim->subgroup_size : 0;
    s->var[HK_V_MAXWG] = (double)lim->max_workgroup;
    s->var[HK_V_SMEM] = (double)lim->shared_mem;
    s->sg = sg;
}

/* ---------------------------------------------------------------- soft rules */

typedef struct vote {
    double value, weight;
    uint32_t order; /* statement index */
} vote;

static int vote_cmp(const void *a, const void *b) {
    const vote *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Winner among the votes: largest total weight, ties to the earliest rule; needs > 0. */
static bool tally(vote *v, uint32_t n, double *value, uint32_t *order) {
    qsort(v, n, sizeof *v, vote_cmp);
    double best = 0;
    uint32_t best_order = UINT32_MAX;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i, first = v[i].order;
        double total = 0;
        for (; j < n && v[j].value == v[i].value; j++) total += v[j].weight;
        if (total > best || (total == best && total > 0 && first < best_order)) {
            best = total;
            best_order = first;
            *value = v[i].value;
        }
        i = j;
    }
    *order = best_order;
    return best > 0;
}

static hk_outcome soft_vote(const hk_prog *p, int kind, int field, ev *e, double *v, uint32_t *pos) {
    uint32_t lo = p->soft_start[kind][field], hi = p->soft_start[kind][field + 1];
    if (lo == hi) return HK_NONE;
    vote local[64], *votes = local;
    if (hi - lo > 64 && !(votes = st_malloc((size_t)(hi - lo) * sizeof(vote)))) {
        fail(e, p->stmts[p->soft_idx[lo]].pos, "out of memory");
        return HK_ERROR;
    }
    uint32_t n = 0;
    hk_outcome out = HK_NONE;
    for (uint32_t i = lo; i < hi && !e->failed; i++) {
        const hk_stmt *s = &p->stmts[p->soft_idx[i]];
        double cond = eval(e, s->e[2], NULL);
        if (e->failed || cond == 0) continue;
        double val = eval(e, s->e[0], NULL), w = e->failed ? 0 : eval(e, s->e[1], NULL);
        if (!e->failed && !isfinite(val)) fail(e, p->nodes[s->e[0]].pos, "the value is not a finite number");
        if (!e->failed && !isfinite(w)) fail(e, p->nodes[s->e[1]].pos, "the weight is not a finite number");
        votes[n++] = (vote){val, w, p->soft_idx[i]};
    }
    uint32_t order;
    if (e->failed) out = HK_ERROR;
    else if (n && tally(votes, n, v, &order)) {
        out = HK_VALUE;
        *pos = p->stmts[order].pos;
    }
    if (votes != local) st_free(votes);
    return out;
}

hk_outcome hk_eval_field(const hk_prog *p, int kind, int field, const hk_shape *s, double *v, uint32_t *pos_out,
                         char *err, size_t cap) {
    ev e = {.p = p, .vars = s->var};
    uint32_t h = p->hard[kind][field], pos = 0;
    hk_outcome out;
    if (h != UINT32_MAX) {
        *v = eval(&e, p->stmts[h].e[0], NULL);
        pos = p->stmts[h].pos;
        out = e.failed ? HK_ERROR : HK_VALUE;
    } else {
        out = soft_vote(p, kind, field, &e, v, &pos);
    }
    if (out == HK_ERROR)
        hk_format_at(p, e.err_pos, err, cap, "%s in the rule for '%s'", e.err, hk_kinds[kind].fields[field].name);
    else if (out == HK_VALUE)
        *pos_out = pos;
    return out;
}
