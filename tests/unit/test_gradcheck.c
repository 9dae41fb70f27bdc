/* test_gradcheck.c — float64 central-difference gradient checks of every
 * differentiable op (ops.def entries with ST_OPF_DIFF), several shapes each, with
 * broadcasting and views. Inputs are fresh random values each run (the harness prints
 * the seed), drawn away from kinks (relu/abs/max at 0, log/sqrt near 0, ties).
 *
 * Each case builds f64 CPU leaf tensors, runs f, back-propagates a random cotangent w
 * (st_backward with a non-scalar gradient) and compares every input's .grad with
 * (L(x+h e) - L(x-h e)) / 2h where L(x) = sum(f(x) * w), evaluated on the host.
 * A coverage test fails when a differentiable op has no case.
 */
#include "core/internal.h"
#include "testlib.h"

#define GC_MAX_IN 4
#define GC_H 1e-6
#define GC_ATOL 1e-6
#define GC_RTOL 1e-5

typedef struct gcase gcase;
typedef st_tensor *(*gc_fn)(st_tensor **x, const gcase *c);

/* Input spec: float in +-[lo,hi] (sgn) or [lo,hi]; or an i64 index in [0, bound). */
typedef struct gin {
    int nd;
    int64_t sh[4];
    double lo, hi;
    bool sgn;
    int64_t bound; /* > 0: index input */
} gin;

struct gcase {
    const char *op; /* the ops.def name this case covers */
    const char *label;
    int nin;
    gin in[GC_MAX_IN];
    gc_fn f;
    int a[4];                   /* op arguments (dims, axes) */
    void (*fix)(st_tensor **x); /* optional: adjust inputs after drawing (uniqueness etc.) */
};

/* ---------------------------------------------------------------- input drawing */

static st_tensor *draw(const gin *g) {
    int64_t n = 1;
    for (int i = 0; i < g->nd; i++) n *= g->sh[i];
    if (g->bound > 0) {
        st_tensor *r = st_rand(g->nd, g->sh, ST_F64);
        int64_t *v = malloc((size_t)(n ? n : 1) * sizeof *v);
        double *d = malloc((size_t)(n ? n : 1) * sizeof *d);
        st_to_host(r, ST_F64, d, (size_t)n * sizeof *d);
        for (int64_t i = 0; i < n; i++) v[i] = (int64_t)(d[i] * (double)g->bound) % g->bound;
        st_tensor *t = st_from_data(v, g->nd, g->sh, ST_I64);
        free(v);
        free(d);
        st_release(r);
        return t;
    }
    st_tensor *u = st_rand(g->nd, g->sh, ST_F64), *s = st_rand(g->nd, g->sh, ST_F64);
    double *du = malloc((size_t)(n ? n : 1) * sizeof(double)), *ds = malloc((size_t)(n ? n : 1) * sizeof(double));
    st_to_host(u, ST_F64, du, (size_t)n * sizeof(double));
    st_to_host(s, ST_F64, ds, (size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        du[i] = g->lo + (g->hi - g->lo) * du[i];
        if (g->sgn && ds[i] < 0.5) du[i] = -du[i];
    }
    st_tensor *t = st_from_data(du, g->nd, g->sh, ST_F64);
    free(du);
    free(ds);
    st_release(u);
    st_release(s);
    return t;
}

/* sum(out * w) on the host. */
static double dot_host(st_tensor *out, const double *w) {
    int64_t n = st_numel(out);
    double *o = malloc((size_t)(n ? n : 1) * sizeof(double)), acc = 0;
    st_to_host(out, ST_F64, o, (size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) acc += o[i] * w[i];
    free(o);
    return acc;
}

static double eval_loss(const gcase *c, st_tensor **x, const double *w) {
    st_no_grad_enter();
    st_tensor *o = c->f(x, c);
    st_no_grad_exit();
    double v = o ? dot_host(o, w) : NAN;
    st_release(o);
    return v;
}

/* Numerical vs analytic gradient of input i. Returns the number of mismatches. */
static int check_input(const gcase *c, st_tensor **x, int i, const double *w) {
    int64_t n = st_numel(x[i]);
    double *p = st_data_ptr(x[i]);
    double *ga = calloc((size_t)(n ? n : 1), sizeof(double));
    st_tensor *g = st_grad(x[i]);
    if (g) st_to_host(g, ST_F64, ga, (size_t)n * sizeof(double));
    int bad = 0;
    for (int64_t j = 0; j < n; j++) {
        double x0 = p[j];
        p[j] = x0 + GC_H;
        double lp = eval_loss(c, x, w);
        p[j] = x0 - GC_H;
        double lm = eval_loss(c, x, w);
        p[j] = x0;
        double num = (lp - lm) / (2 * GC_H);
        if (!(fabs(num - ga[j]) <= GC_ATOL + GC_RTOL * fabs(num))) {
            if (bad < 3)
                fprintf(stderr, "  %s [%s] input %d elem %lld: analytic %.10g numeric %.10g\n", c->op, c->label, i,
                        (long long)j, ga[j], num);
            bad++;
        }
    }
    free(ga);
    return bad;
}

static void run_case(const gcase *c) {
    st_tensor *x[GC_MAX_IN] = {NULL};
    for (int i = 0; i < c->nin; i++) {
        x[i] = draw(&c->in[i]);
        CHECK(x[i] != NULL);
    }
    if (c->fix) c->fix(x);
    for (int i = 0; i < c->nin; i++)
        if (!c->in[i].bound) st_set_requires_grad(x[i], true);
    st_tensor *out = c->f(x, c);
    CHECK_MSG(out != NULL, "%s [%s]: forward failed: %s", c->op, c->label, st_last_error());
    if (!out) goto done;
    CHECK_MSG(st_requires_grad(out), "%s [%s]: output does not require grad", c->op, c->label);
    int64_t n = st_numel(out);
    st_tensor *wt = st_randn(st_ndim(out), st_shape(out), ST_F64);
    double *w = malloc((size_t)(n ? n : 1) * sizeof(double));
    st_to_host(wt, ST_F64, w, (size_t)n * sizeof(double));
    st_status s = st_backward(out, wt);
    CHECK_MSG(s == ST_OK, "%s [%s]: backward failed: %s", c->op, c->label, st_last_error());
    st_release(out);
    if (s == ST_OK)
        for (int i = 0; i < c->nin; i++)
            if (!c->in[i].bound) CHECK_MSG(check_input(c, x, i, w) == 0, "%s [%s]: gradient of input %d", c->op, c->label, i);
    free(w);
    st_release(wt);
done:
    for (int i = 0; i < c->nin; i++) st_release(x[i]);
}

/* ---------------------------------------------------------------- op wrappers */

#define F1(name, expr) \
    static st_tensor *name(st_tensor **x, const gcase *c) { (void)c; return (expr); }

F1(f_add, st_add(x[0], x[1]))
F1(f_add_s, st_add_scalar(x[0], 1.5))
F1(f_sub, st_sub(x[0], x[1]))
F1(f_mul, st_mul(x[0], x[1]))
F1(f_mul_self, st_mul(x[0], x[0]))
F1(f_mul_s, st_mul_scalar(x[0], -2.5))
F1(f_div, st_div(x[0], x[1]))
F1(f_pow, st_pow(x[0], x[1]))
F1(f_pow_s, st_pow_scalar(x[0], 2.5))
F1(f_maximum, st_maximum(x[0], x[1]))
F1(f_minimum, st_minimum(x[0], x[1]))
F1(f_where, st_where(x[0], x[1], x[2]))
F1(f_neg, st_neg(x[0]))
F1(f_exp, st_exp(x[0]))
F1(f_log, st_log(x[0]))
F1(f_sqrt, st_sqrt(x[0]))
F1(f_abs, st_abs(x[0]))
F1(f_relu, st_relu(x[0]))
F1(f_gelu, st_gelu(x[0]))
F1(f_tanh, st_tanh(x[0]))
F1(f_sigmoid, st_sigmoid(x[0]))
F1(f_matmul, st_matmul(x[0], x[1]))
F1(f_ce, st_cross_entropy(x[0], x[1]))
F1(f_clone, st_clone(x[0]))
F1(f_index_select, st_index_select(x[0], c->a[0], x[1]))
F1(f_gather, st_gather(x[0], c->a[0], x[1]))
F1(f_scatter, st_scatter(x[0], c->a[0], x[1], x[2], c->a[1] != 0))
F1(f_softmax, st_softmax(x[0], c->a[0]))
F1(f_log_softmax, st_log_softmax(x[0], c->a[0]))
F1(f_slice, st_slice(x[0], c->a[0], c->a[1], c->a[2], c->a[3]))
F1(f_permute, st_permute(x[0], c->a))

/* Rank-K: the values output (a[0] = k); the indices are not differentiable. */
static st_tensor *rankk(st_status (*op)(st_tensor *, int64_t, st_tensor **, st_tensor **), st_tensor **x,
                        const gcase *c) {
    st_tensor *v = NULL, *i = NULL;
    if (op(x[0], c->a[0], &v, &i) != ST_OK) return NULL;
    st_release(i);
    return v;
}
F1(f_topk, rankk(st_topk, x, c))
F1(f_bottomk, rankk(st_bottomk, x, c))
F1(f_midk, rankk(st_midk, x, c))

/* Reductions: a[0] = number of axes (0 = all), a[1..] axes; keepdim when a[3]. */
static st_tensor *reduce(st_tensor *(*op)(st_tensor *, const int *, int, bool), st_tensor **x, const gcase *c) {
    int axes[2] = {c->a[1], c->a[2]};
    return op(x[0], c->a[0] ? axes : NULL, c->a[0], c->a[3] != 0);
}
F1(f_sum, reduce(st_sum, x, c))
F1(f_mean, reduce(st_mean, x, c))
F1(f_max, reduce(st_max, x, c))
F1(f_min, reduce(st_min, x, c))

/* Compositions with views. */
static st_tensor *f_mm_t(st_tensor **x, const gcase *c) { /* x0^T @ x1, a transposed (strided) operand */
    (void)c;
    st_tensor *t = st_transpose(x[0], 0, 1), *o = st_matmul(t, x[1]);
    st_release(t);
    return o;
}
static st_tensor *f_reshape(st_tensor **x, const gcase *c) {
    (void)c;
    return st_reshape(x[0], 2, (int64_t[]){2, -1});
}
static st_tensor *f_reshape_copy(st_tensor **x, const gcase *c) { /* non-viewable: reshape copies */
    (void)c;
    st_tensor *t = st_transpose(x[0], 0, 1), *o = st_reshape(t, 1, (int64_t[]){-1});
    st_release(t);
    return o;
}
static st_tensor *f_expand(st_tensor **x, const gcase *c) {
    (void)c;
    return st_expand(x[0], 3, (int64_t[]){2, 3, 4});
}
static st_tensor *f_expand_mul(st_tensor **x, const gcase *c) { /* expanded view feeding an op */
    (void)c;
    st_tensor *e = st_expand(x[0], 2, (int64_t[]){3, 4}), *o = st_mul(e, x[1]);
    st_release(e);
    return o;
}
static st_tensor *f_concat(st_tensor **x, const gcase *c) {
    return st_concat(x, 3, c->a[0]);
}
static st_tensor *f_slice_mul(st_tensor **x, const gcase *c) { /* slice of a permuted tensor, then an op */
    (void)c;
    st_tensor *p = st_permute(x[0], (int[]){1, 0}), *s = st_slice(p, 0, 1, 4, 2), *o = st_mul(s, s);
    st_release(p);
    st_release(s);
    return o;
}

/* ---------------------------------------------------------------- input fixes */

/* maximum/minimum: b = a + (+-)[0.1, 1): no ties within h. */
static void fix_apart(st_tensor **x) {
    double *a = st_data_ptr(x[0]), *b = st_data_ptr(x[1]);
    int64_t n = st_numel(x[1]);
    for (int64_t i = 0; i < n; i++) b[i] = a[i % st_numel(x[0])] + b[i];
}

/* where: the condition as 0/1 (drawn as an index in [0, 2)) is already fine. */

/* scatter without add: distinct indices per column of dim 0 (x rows = 5, index rows = 3). */
static void fix_unique(st_tensor **x) {
    int64_t *ix = st_data_ptr(x[1]);
    int64_t rows = st_shape(x[1])[0], cols = st_shape(x[1])[1];
    for (int64_t j = 0; j < cols; j++) {
        int64_t start = ix[j];
        for (int64_t i = 0; i < rows; i++) ix[i * cols + j] = (start + i) % 5;
    }
}

/* ---------------------------------------------------------------- the cases */

#define U(n, ...) {n, {__VA_ARGS__}, 0.5, 2.0, false, 0}   /* [0.5, 2] */
#define SG(n, ...) {n, {__VA_ARGS__}, 0.1, 2.0, true, 0}   /* +-[0.1, 2] */
#define SM(n, ...) {n, {__VA_ARGS__}, -1.0, 1.0, false, 0} /* [-1, 1] */
#define IX(b, n, ...) {n, {__VA_ARGS__}, 0, 0, false, b}

static const gcase g_cases[] = {
    {"add", "same shape", 2, {SM(2, 3, 4), SM(2, 3, 4)}, f_add, {0}, NULL},
    {"add", "broadcast [2,3,4]+[4]", 2, {SM(3, 2, 3, 4), SM(1, 4)}, f_add, {0}, NULL},
    {"add", "broadcast [3,1]+[1,4]", 2, {SM(2, 3, 1), SM(2, 1, 4)}, f_add, {0}, NULL},
    {"add", "scalar form", 1, {SM(2, 3, 4)}, f_add_s, {0}, NULL},
    {"sub", "broadcast [3,4]-[1,4]", 2, {SM(2, 3, 4), SM(2, 1, 4)}, f_sub, {0}, NULL},
    {"sub", "broadcast [4]-[2,4]", 2, {SM(1, 4), SM(2, 2, 4)}, f_sub, {0}, NULL},
    {"mul", "same shape", 2, {SM(2, 3, 4), SM(2, 3, 4)}, f_mul, {0}, NULL},
    {"mul", "broadcast [2,1,4]*[3,1]", 2, {SM(3, 2, 1, 4), SM(2, 3, 1)}, f_mul, {0}, NULL},
    {"mul", "x*x (one input twice)", 1, {SM(2, 3, 4)}, f_mul_self, {0}, NULL},
    {"mul", "scalar form", 1, {SM(2, 3, 4)}, f_mul_s, {0}, NULL},
    {"div", "same shape", 2, {SM(2, 3, 4), SG(2, 3, 4)}, f_div, {0}, NULL},
    {"div", "broadcast [3,4]/[4]", 2, {SM(2, 3, 4), SG(1, 4)}, f_div, {0}, NULL},
    {"pow", "tensor exponent", 2, {U(2, 3, 4), {2, {3, 4}, -1.5, 1.5, false, 0}}, f_pow, {0}, NULL},
    {"pow", "broadcast exponent [4]", 2, {U(2, 3, 4), {1, {4}, -1.5, 1.5, false, 0}}, f_pow, {0}, NULL},
    {"pow", "scalar exponent", 1, {U(2, 3, 4)}, f_pow_s, {0}, NULL},
    {"maximum", "same shape", 2, {SM(2, 3, 4), SG(2, 3, 4)}, f_maximum, {0}, fix_apart},
    {"minimum", "same shape", 2, {SM(2, 3, 4), SG(2, 3, 4)}, f_minimum, {0}, fix_apart},
    {"where", "broadcast cond/a/b", 3, {IX(2, 2, 3, 4), SM(2, 3, 4), SM(2, 1, 4)}, f_where, {0}, NULL},
    {"neg", "[3,4]", 1, {SM(2, 3, 4)}, f_neg, {0}, NULL},
    {"exp", "[3,4]", 1, {SM(2, 3, 4)}, f_exp, {0}, NULL},
    {"log", "[3,4] in [0.5,2]", 1, {U(2, 3, 4)}, f_log, {0}, NULL},
    {"sqrt", "[3,4] in [0.5,2]", 1, {U(2, 3, 4)}, f_sqrt, {0}, NULL},
    {"abs", "away from 0", 1, {SG(2, 3, 4)}, f_abs, {0}, NULL},
    {"relu", "away from 0", 1, {SG(2, 3, 4)}, f_relu, {0}, NULL},
    {"gelu", "[-3,3]", 1, {{2, {3, 4}, -3.0, 3.0, false, 0}}, f_gelu, {0}, NULL},
    {"tanh", "[3,4]", 1, {SG(2, 3, 4)}, f_tanh, {0}, NULL},
    {"sigmoid", "[3,4]", 1, {SG(2, 3, 4)}, f_sigmoid, {0}, NULL},
    {"sum", "all axes", 1, {SM(2, 3, 4)}, f_sum, {0, 0, 0, 0}, NULL},
    {"sum", "axis 1 keepdim", 1, {SM(2, 3, 4)}, f_sum, {1, 1, 0, 1}, NULL},
    {"sum", "axes 0,2 of 3-D", 1, {SM(3, 2, 3, 4)}, f_sum, {2, 0, 2, 0}, NULL},
    {"mean", "all axes", 1, {SM(2, 3, 4)}, f_mean, {0, 0, 0, 0}, NULL},
    {"mean", "axis -1", 1, {SM(3, 2, 3, 4)}, f_mean, {1, -1, 0, 0}, NULL},
    {"max", "axis 1", 1, {SM(2, 3, 5)}, f_max, {1, 1, 0, 0}, NULL},
    {"max", "all axes keepdim", 1, {SM(2, 3, 4)}, f_max, {0, 0, 0, 1}, NULL},
    {"min", "axis 0", 1, {SM(2, 4, 3)}, f_min, {1, 0, 0, 0}, NULL},
    {"min", "axes 0,2 of 3-D", 1, {SM(3, 2, 3, 4)}, f_min, {2, 0, 2, 1}, NULL},
    {"matmul", "[3,4]@[4,5]", 2, {SM(2, 3, 4), SM(2, 4, 5)}, f_matmul, {0}, NULL},
    {"matmul", "batch broadcast [2,3,4]@[4,5]", 2, {SM(3, 2, 3, 4), SM(2, 4, 5)}, f_matmul, {0}, NULL},
    {"matmul", "batch broadcast [2,1,3,4]@[3,4,2]", 2, {SM(4, 2, 1, 3, 4), SM(3, 3, 4, 2)}, f_matmul, {0}, NULL},
    {"matmul", "vector-matrix [4]@[4,5]", 2, {SM(1, 4), SM(2, 4, 5)}, f_matmul, {0}, NULL},
    {"matmul", "matrix-vector [2,3,4]@[4]", 2, {SM(3, 2, 3, 4), SM(1, 4)}, f_matmul, {0}, NULL},
    {"matmul", "dot [4]@[4]", 2, {SM(1, 4), SM(1, 4)}, f_matmul, {0}, NULL},
    {"matmul", "transposed operand", 2, {SM(2, 4, 3), SM(2, 4, 5)}, f_mm_t, {0}, NULL},
    {"softmax", "[3,5] dim 1", 1, {SG(2, 3, 5)}, f_softmax, {1}, NULL},
    {"softmax", "[2,3,4] dim 1", 1, {SG(3, 2, 3, 4)}, f_softmax, {1}, NULL},
    {"log_softmax", "[3,5] dim -1", 1, {SG(2, 3, 5)}, f_log_softmax, {-1}, NULL},
    {"log_softmax", "[4,3] dim 0", 1, {SG(2, 4, 3)}, f_log_softmax, {0}, NULL},
    {"cross_entropy", "[4,5] logits", 2, {SG(2, 4, 5), IX(5, 1, 4)}, f_ce, {0}, NULL},
    {"reshape", "view [3,4]->[2,6]", 1, {SM(2, 3, 4)}, f_reshape, {0}, NULL},
    {"reshape", "copy of a transpose", 1, {SM(2, 3, 4)}, f_reshape_copy, {0}, NULL},
    {"permute", "[2,3,4] (2,0,1)", 1, {SM(3, 2, 3, 4)}, f_permute, {2, 0, 1}, NULL},
    {"slice", "dim 0 1:5:2", 1, {SM(2, 6, 3)}, f_slice, {0, 1, 5, 2}, NULL},
    {"slice", "dim -1 from -3", 1, {SM(2, 3, 5)}, f_slice, {-1, -3, 5, 1}, NULL},
    {"slice", "of a permute, then mul", 1, {SM(2, 3, 5)}, f_slice_mul, {0}, NULL},
    {"expand", "[3,1]->[2,3,4]", 1, {SM(2, 3, 1)}, f_expand, {0}, NULL},
    {"expand", "[4] feeding mul", 2, {SM(1, 4), SM(2, 3, 4)}, f_expand_mul, {0}, NULL},
    {"concat", "three inputs dim 1", 3, {SM(2, 3, 2), SM(2, 3, 1), SM(2, 3, 3)}, f_concat, {1}, NULL},
    {"concat", "three inputs dim 0", 3, {SM(2, 1, 4), SM(2, 2, 4), SM(2, 3, 4)}, f_concat, {0}, NULL},
    {"index_select", "dim 0 with repeats", 2, {SM(2, 4, 3), IX(4, 1, 6)}, f_index_select, {0}, NULL},
    {"index_select", "dim 1", 2, {SM(2, 4, 3), IX(3, 1, 5)}, f_index_select, {1}, NULL},
    {"gather", "dim 0", 2, {SM(2, 4, 3), IX(4, 2, 2, 3)}, f_gather, {0}, NULL},
    {"gather", "dim 1, smaller index", 2, {SM(2, 4, 3), IX(3, 2, 3, 5)}, f_gather, {1}, NULL},
    {"scatter", "add, repeats", 3, {SM(2, 5, 3), IX(5, 2, 4, 3), SM(2, 4, 3)}, f_scatter, {0, 1}, NULL},
    {"scatter", "overwrite, unique, src larger", 3, {SM(2, 5, 3), IX(5, 2, 3, 3), SM(2, 4, 4)}, f_scatter, {0, 0},
     fix_unique},
    {"copy", "clone", 1, {SM(2, 3, 4)}, f_clone, {0}, NULL},
    {"topk", "[3,7] k 3", 1, {SM(2, 3, 7)}, f_topk, {3}, NULL},
    {"topk", "1-D k 2", 1, {SM(1, 9)}, f_topk, {2}, NULL},
    {"bottomk", "[2,3,6] k 2", 1, {SM(3, 2, 3, 6)}, f_bottomk, {2}, NULL},
    {"midk", "[3,8] k 4", 1, {SM(2, 3, 8)}, f_midk, {4}, NULL},
    {"midk", "[2,5] k 5 (all)", 1, {SM(2, 2, 5)}, f_midk, {5}, NULL},
};
#define N_CASES ((int)(sizeof g_cases / sizeof g_cases[0]))

TEST(gradcheck_all_cases) {
    for (int i = 0; i < N_CASES; i++) {
        int before = tl_failures_in_test;
        run_case(&g_cases[i]);
        if (tl_failures_in_test != before) fprintf(stderr, "  case %s [%s] failed\n", g_cases[i].op, g_cases[i].label);
    }
}

TEST(gradcheck_covers_every_differentiable_op) {
    for (int op = 0; op < st_op_count(); op++) {
        if (!(st_op_table[op].flags & ST_OPF_DIFF)) continue;
        int n = 0;
        for (int i = 0; i < N_CASES; i++) n += strcmp(g_cases[i].op, st_op_name(op)) == 0;
        CHECK_MSG(n > 0, "differentiable op '%s' has no gradcheck case", st_op_name(op));
    }
}

TEST(gradcheck_leaves_no_allocations) {
    st_alloc_stats a, b;
    st_get_alloc_stats(&a);
    for (int i = 0; i < N_CASES; i += 7) run_case(&g_cases[i]);
    st_get_alloc_stats(&b);
    CHECK_MSG(a.live_allocs == b.live_allocs, "live allocations %lld -> %lld", (long long)a.live_allocs,
              (long long)b.live_allocs);
}

