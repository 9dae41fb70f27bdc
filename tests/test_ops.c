/* test_ops.c — `test-ops`: every op of the op table, on every compiled-in backend that
 * has a device, on random inputs.
 *
 * The CPU is checked against a float64 reference computed here with plain C loops (the
 * library is never asked to compute the reference). Any other backend is checked against
 * the CPU result of the same case on the same inputs. Inputs are created on the CPU,
 * moved to the backend with st_to_device, turned into views there when the case asks for
 * a non-contiguous layout, and results come back with st_to_host: nothing here is
 * specific to a backend, so a new backend is tested as soon as it is compiled in.
 *
 * Invariants: every op named by st_op_name() has at least one case (or is listed in
 * COVERED_ELSEWHERE); tolerances live in one table (TOLS) and are printed per case; the
 * inputs of a case depend only on (seed, case number), so `--seed S --op X` replays a
 * failure exactly. Uses only the public header.
 *
 * Usage: test-ops [--op NAME[,NAME]] [--backend NAME] [--seed S] [--verbose]
 */
#include <spiraltorch.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXIN 4
#define MAXCASES 1024
#define MAXSET 8
#define BIG 131075 /* above the CPU's threading threshold, not a multiple of any vector width */
#define EXPECT_ANY (-1)

/* ================================================================ small utilities */

static bool g_verbose;

static void *xmalloc(size_t n) {
    void *p = calloc(n ? n : 1, 1);
    if (!p) {
        fprintf(stderr, "test-ops: out of memory\n");
        exit(2);
    }
    return p;
}

static int64_t numel_of(int nd, const int64_t *sh) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= sh[i];
    return n;
}

static void fmt_shape(char *buf, size_t cap, int nd, const int64_t *sh) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < nd && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, i ? ",%lld" : "%lld", (long long)sh[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* Host generator for inputs (splitmix64): independent of the library's Philox. */
typedef struct hrng {
    uint64_t s;
} hrng;
static uint64_t hr_next(hrng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double hr_unif(hrng *r) { return (double)(hr_next(r) >> 11) * 0x1p-53; }
static double hr_normal(hrng *r) {
    double u1 = 1.0 - hr_unif(r), u2 = hr_unif(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ================================================================ dense f64 arrays */

typedef struct arr {
    int nd;
    int64_t sh[ST_MAX_DIMS];
    double *v;
} arr;

static arr arr_new(int nd, const int64_t *sh) {
    arr a;
    memset(&a, 0, sizeof a);
    a.nd = nd;
    for (int i = 0; i < nd; i++) a.sh[i] = sh[i];
    a.v = xmalloc((size_t)numel_of(nd, sh) * sizeof(double));
    return a;
}
static int64_t arr_numel(const arr *a) { return numel_of(a->nd, a->sh); }
static void arr_free(arr *a) {
    free(a->v);
    a->v = NULL;
}

/* Row-major coordinates of linear index i. */
static void unravel(int64_t i, int nd, const int64_t *sh, int64_t *co) {
    for (int d = nd - 1; d >= 0; d--) {
        co[d] = sh[d] ? i % sh[d] : 0;
        i = sh[d] ? i / sh[d] : 0;
    }
}
/* Value of `a` broadcast (right-aligned) to a shape of nd dims, at coordinates co. */
static double bget(const arr *a, int nd, const int64_t *co) {
    int64_t off = 0;
    for (int d = 0; d < a->nd; d++) {
        int64_t c = co[nd - a->nd + d];
        off = off * a->sh[d] + (a->sh[d] == 1 ? 0 : c);
    }
    return a->v[off];
}
/* NumPy broadcast of shapes; false when incompatible. */
static bool bshape(int na, const int64_t *sa, int nb, const int64_t *sb, int *no, int64_t *so) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t x = i < n - na ? 1 : sa[i - (n - na)];
        int64_t y = i < n - nb ? 1 : sb[i - (n - nb)];
        if (x != y && x != 1 && y != 1) return false;
        so[i] = x == 1 ? y : x;
    }
    *no = n;
    return true;
}

static double round_to(st_dtype dt, double v) {
    switch (dt) {
    case ST_F32: return (double)(float)v;
    case ST_F64: return v;
    default: return isfinite(v) ? (double)(int64_t)llround(v) : v;
    }
}
static double unit_roundoff(st_dtype dt) { return dt == ST_F32 ? 0x1p-24 : dt == ST_F64 ? 0x1p-53 : 0.0; }

/* ================================================================ input specification */

enum dist {
    D_NORMAL, /* N(0, p^2), p defaults to 1 */
    D_UNIT,   /* U[-1, 1) */
    D_POS,    /* U[0.05, 4) */
    D_NONZERO, /* +-U[0.5, 2) */
    D_SMALLINT, /* integers in [-4, 4] (ties and equalities) */
    D_BOOL,     /* 0 or 1 */
    D_INDEX,    /* integers in [0, p) */
};
enum vkind { V_NONE, V_T, V_SLICE, V_PERMUTE, V_EXPAND };

typedef struct view {
    int kind;
    int n;                     /* number of args */
    int64_t a[ST_MAX_DIMS];    /* T: d0,d1; SLICE: dim,start,end,step; PERMUTE: perm; EXPAND: shape */
} view;

typedef struct inspec {
    st_dtype dt;
    int nd;
    int64_t sh[ST_MAX_DIMS]; /* shape as created (before the view) */
    int dist;
    double p;
    view v;       /* applied on the device after the upload */
    int nset; /* injected values (NaN, an out-of-range index): base[set_at[i]] = set_val[i] */
    int64_t set_at[MAXSET];
    double set_val[MAXSET];
} inspec;

/* Reference view: a strided walk over the dense base, materialised. Python slice rules. */
static arr view_ref(const arr *b, const view *v) {
    int nd = b->nd;
    int64_t sh[ST_MAX_DIMS], st[ST_MAX_DIMS], off = 0, s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        sh[d] = b->sh[d];
        st[d] = s;
        s *= b->sh[d];
    }
    switch (v->kind) {
    case V_T: {
        int d0 = (int)v->a[0], d1 = (int)v->a[1];
        int64_t t = sh[d0];
        sh[d0] = sh[d1];
        sh[d1] = t;
        t = st[d0];
        st[d0] = st[d1];
        st[d1] = t;
        break;
    }
    case V_SLICE: {
        int d = (int)v->a[0];
        if (d < 0) d += nd;
        int64_t n = sh[d], lo = v->a[1], hi = v->a[2], step = v->a[3];
        if (lo < 0) lo += n;
        if (hi < 0) hi += n;
        lo = lo < 0 ? 0 : lo > n ? n : lo;
        hi = hi < 0 ? 0 : hi > n ? n : hi;
        int64_t len = hi > lo ? (hi - lo + step - 1) / step : 0;
        off += lo * st[d];
        sh[d] = len;
        st[d] *= step;
        break;
    }
    case V_PERMUTE: {
        int64_t sh2[ST_MAX_DIMS], st2[ST_MAX_DIMS];
        for (int d = 0; d < nd; d++) {
            sh2[d] = sh[v->a[d]];
            st2[d] = st[v->a[d]];
        }
        memcpy(sh, sh2, sizeof sh);
        memcpy(st, st2, sizeof st);
        break;
    }
    case V_EXPAND: {
        int n2 = v->n;
        int64_t sh2[ST_MAX_DIMS], st2[ST_MAX_DIMS];
        for (int d = 0; d < n2; d++) {
            int sd = d - (n2 - nd);
            int64_t want = v->a[d];
            if (sd < 0) {
                sh2[d] = want;
                st2[d] = 0;
            } else if (want == -1 || want == sh[sd]) {
                sh2[d] = sh[sd];
                st2[d] = st[sd];
            } else {
                sh2[d] = want;
                st2[d] = 0;
            }
        }
        nd = n2;
        memcpy(sh, sh2, sizeof sh);
        memcpy(st, st2, sizeof st);
        break;
    }
    default: break;
    }
    arr o = arr_new(nd, sh);
    int64_t n = arr_numel(&o), co[ST_MAX_DIMS];
    for (int64_t i = 0; i < n; i++) {
        unravel(i, nd, sh, co);
        int64_t p = off;
        for (int d = 0; d < nd; d++) p += co[d] * st[d];
        o.v[i] = b->v[p];
    }
    return o;
}

/* The same view through the library, on whatever device t lives. Consumes t. */
static st_tensor *view_lib(st_tensor *t, const view *v) {
    st_tensor *o = t;
    switch (v->kind) {
    case V_T: o = st_transpose(t, (int)v->a[0], (int)v->a[1]); break;
    case V_SLICE: o = st_slice(t, (int)v->a[0], v->a[1], v->a[2], v->a[3]); break;
    case V_PERMUTE: {
        int p[ST_MAX_DIMS];
        for (int i = 0; i < v->n; i++) p[i] = (int)v->a[i];
        o = st_permute(t, p);
        break;
    }
    case V_EXPAND: o = st_expand(t, v->n, v->a); break;
    default: return t;
    }
    st_release(t);
    return o;
}

static void fmt_view(char *buf, size_t cap, const view *v) {
    switch (v->kind) {
    case V_T: snprintf(buf, cap, ".t(%lld,%lld)", (long long)v->a[0], (long long)v->a[1]); break;
    case V_SLICE:
        snprintf(buf, cap, ".s(%lld,%lld:%lld:%lld)", (long long)v->a[0], (long long)v->a[1], (long long)v->a[2],
                 (long long)v->a[3]);
        break;
    case V_PERMUTE: {
        size_t k = (size_t)snprintf(buf, cap, ".p(");
        for (int i = 0; i < v->n && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, i ? ",%lld" : "%lld", (long long)v->a[i]);
        if (k < cap) snprintf(buf + k, cap - k, ")");
        break;
    }
    case V_EXPAND: {
        char s[64];
        fmt_shape(s, sizeof s, v->n, v->a);
        snprintf(buf, cap, ".x%s", s);
        break;
    }
    default: buf[0] = 0;
    }
}

/* ================================================================ cases */

typedef struct tcase tcase;

/* Reference result of a case. scale (optional) is the per-element magnitude the
 * K-scaled part of the tolerance multiplies (e.g. sum |a_ik b_kj| for matmul). */
typedef struct refres {
    arr out;
    st_dtype dt;
    arr scale;
    double K;
} refres;

typedef st_tensor *(*run_fn)(const tcase *c, st_tensor **in);
typedef void (*ref_fn)(const tcase *c, const arr *in, refres *r);
/* Custom cases check themselves; they fill detail, err and tol. */
typedef bool (*custom_fn)(const tcase *c, st_device dev, uint64_t seed, char *detail, size_t cap, double *err,
                          double *tol);

struct tcase {
    const char *op; /* name in the op table */
    char label[80];
    int nin;
    inspec in[MAXIN];
    run_fn run;
    ref_fn ref;
    custom_fn custom;
    int expect; /* ST_OK, an expected failure status, or EXPECT_ANY (any failure) */
    /* parameters */
    st_tensor *(*lu)(st_tensor *);
    st_tensor *(*lb)(st_tensor *, st_tensor *);
    st_tensor *(*ls)(st_tensor *, double);
    double (*f1)(double);
    double (*f2)(double, double);
    int axes[ST_MAX_DIMS];
    int naxes;
    bool keepdim;
    int dim;
    double s, s2, s3;
    bool flag;
    int shn;
    int64_t shp[ST_MAX_DIMS];
    st_dtype odt;
    view ov; /* the view under test for view ops */
};

static tcase g_cases[MAXCASES];
static int g_ncases;

static tcase *newc(const char *op, run_fn run, ref_fn ref) {
    if (g_ncases >= MAXCASES) {
        fprintf(stderr, "test-ops: too many cases (raise MAXCASES)\n");
        exit(2);
    }
    tcase *c = &g_cases[g_ncases++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->run = run;
    c->ref = ref;
    c->expect = ST_OK;
    return c;
}
static void lbl(tcase *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->label, sizeof c->label, fmt, ap);
    va_end(ap);
}
/* addin(c, dtype, dist, ndim, d0, d1, ...) */
static inspec *addin(tcase *c, st_dtype dt, int dist, int nd, ...) {
    inspec *s = &c->in[c->nin++];
    memset(s, 0, sizeof *s);
    s->dt = dt;
    s->dist = dist;
    s->p = dist == D_NORMAL ? 1.0 : 0.0;
    s->nd = nd;
    va_list ap;
    va_start(ap, nd);
    for (int i = 0; i < nd; i++) s->sh[i] = va_arg(ap, int);
    va_end(ap);
    return s;
}
static inspec *pp(inspec *s, double p) {
    s->p = p;
    return s;
}
static void mkview(view *v, int kind, int n, va_list ap) {
    v->kind = kind;
    v->n = n;
    for (int i = 0; i < n; i++) v->a[i] = va_arg(ap, int);
}
static inspec *vw(inspec *s, int kind, int n, ...) {
    va_list ap;
    va_start(ap, n);
    mkview(&s->v, kind, n, ap);
    va_end(ap);
    return s;
}
static void ovw(tcase *c, int kind, int n, ...) {
    va_list ap;
    va_start(ap, n);
    mkview(&c->ov, kind, n, ap);
    va_end(ap);
}
static void setv(inspec *s, int64_t at, double v) {
    if (s->nset < MAXSET) {
        s->set_at[s->nset] = at;
        s->set_val[s->nset++] = v;
    }
}
static void axes(tcase *c, int n, ...) {
    va_list ap;
    va_start(ap, n);
    c->naxes = n;
    for (int i = 0; i < n; i++) c->axes[i] = va_arg(ap, int);
    va_end(ap);
}
static void shp(tcase *c, int n, ...) {
    va_list ap;
    va_start(ap, n);
    c->shn = n;
    for (int i = 0; i < n; i++) c->shp[i] = va_arg(ap, int);
    va_end(ap);
}

/* Base (pre-view) input values, rounded to the input's dtype. */
static arr gen_input(const inspec *s, hrng *r) {
    arr a = arr_new(s->nd, s->sh);
    int64_t n = arr_numel(&a);
    for (int64_t i = 0; i < n; i++) {
        double v;
        switch (s->dist) {
        case D_UNIT: v = 2.0 * hr_unif(r) - 1.0; break;
        case D_POS: v = 0.05 + 3.95 * hr_unif(r); break;
        case D_NONZERO: v = (hr_next(r) & 1 ? 1.0 : -1.0) * (0.5 + 1.5 * hr_unif(r)); break;
        case D_SMALLINT: v = (double)(int)(hr_next(r) % 9) - 4.0; break;
        case D_BOOL: v = (double)(hr_next(r) & 1); break;
        case D_INDEX: v = (double)(hr_next(r) % (uint64_t)(s->p > 0 ? s->p : 1)); break;
        default: v = s->p * hr_normal(r); break;
        }
        if (!st_dtype_is_float(s->dt) && s->dist != D_INDEX && s->dist != D_BOOL && s->dist != D_SMALLINT)
            v = floor(v * 8.0); /* integers with some spread */
        a.v[i] = round_to(s->dt, v);
    }
    for (int i = 0; i < s->nset; i++)
        if (s->set_at[i] < n) a.v[s->set_at[i]] = s->set_val[i];
    return a;
}

/* Upload base values as dtype, move to dev, apply the view there. */
static st_tensor *make_input(const inspec *s, const arr *base, st_device dev) {
    int64_t n = arr_numel(base);
    size_t es = st_dtype_size(s->dt);
    void *buf = xmalloc((size_t)n * es);
    for (int64_t i = 0; i < n; i++) {
        double v = base->v[i];
        switch (s->dt) {
        case ST_F32: ((float *)buf)[i] = (float)v; break;
        case ST_F64: ((double *)buf)[i] = v; break;
        case ST_I32: ((int32_t *)buf)[i] = (int32_t)v; break;
        case ST_I64: ((int64_t *)buf)[i] = (int64_t)v; break;
        }
    }
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_tensor *h = st_from_data_on(cpu, buf, s->nd, s->sh, s->dt);
    free(buf);
    if (!h) return NULL;
    st_tensor *d = st_to_device(h, dev);
    st_release(h);
    if (!d) return NULL;
    return view_lib(d, &s->v);
}

/* ================================================================ tolerances */

/* |got - ref| <= abs + rel * |ref| + kfac * u * K * scale, per element; u is the unit
 * roundoff of the output dtype and K the length of the inner sum (K-scaled ops only).
 * Integer outputs are always compared exactly. */
typedef struct tolent {
    const char *op;
    double r32, a32, r64, a64, kfac;
} tolent;
static const tolent TOLS[] = {
    /* one rounding of the exact result */
    {"add", 1e-6, 0, 1e-15, 0, 0},
    {"sub", 1e-6, 0, 1e-15, 0, 0},
    {"mul", 1e-6, 0, 1e-15, 0, 0},
    {"div", 1e-6, 0, 1e-15, 0, 0},
    {"sqrt", 1e-6, 0, 1e-15, 0, 0},
    /* transcendental: a few ulp, plus a small absolute part near zero crossings */
    {"pow", 4e-6, 0, 1e-14, 0, 0},
    {"exp", 2e-6, 0, 1e-14, 0, 0},
    {"log", 2e-6, 1e-7, 1e-14, 1e-15, 0},
    {"tanh", 2e-6, 1e-7, 1e-14, 1e-15, 0},
    {"sigmoid", 2e-6, 1e-7, 1e-14, 1e-15, 0},
    {"gelu", 2e-6, 1e-6, 1e-14, 1e-14, 0},
    /* exact */
    {"neg", 0, 0, 0, 0, 0},
    {"abs", 0, 0, 0, 0, 0},
    {"relu", 0, 0, 0, 0, 0},
    {"maximum", 0, 0, 0, 0, 0},
    {"minimum", 0, 0, 0, 0, 0},
    {"eq", 0, 0, 0, 0, 0},
    {"ne", 0, 0, 0, 0, 0},
    {"lt", 0, 0, 0, 0, 0},
    {"le", 0, 0, 0, 0, 0},
    {"gt", 0, 0, 0, 0, 0},
    {"ge", 0, 0, 0, 0, 0},
    {"where", 0, 0, 0, 0, 0},
    {"max", 0, 0, 0, 0, 0},
    {"min", 0, 0, 0, 0, 0},
    {"argmax", 0, 0, 0, 0, 0},
    {"reshape", 0, 0, 0, 0, 0},
    {"permute", 0, 0, 0, 0, 0},
    {"slice", 0, 0, 0, 0, 0},
    {"expand", 0, 0, 0, 0, 0},
    {"concat", 0, 0, 0, 0, 0},
    {"index_select", 0, 0, 0, 0, 0},
    {"gather", 0, 0, 0, 0, 0},
    {"fill", 0, 0, 0, 0, 0},
    {"topk", 0, 0, 0, 0, 0},
    {"bottomk", 0, 0, 0, 0, 0},
    {"midk", 0, 0, 0, 0, 0},
    /* copy may convert f64 -> f32: one rounding */
    {"copy", 1e-7, 0, 0, 0, 0},
    /* length-scaled: any summation order is within 2 u K sum|x| */
    {"sum", 1e-6, 0, 1e-15, 0, 2},
    {"mean", 1e-6, 0, 1e-15, 0, 2},
    {"matmul", 1e-6, 0, 1e-15, 0, 2},
    {"scatter", 1e-6, 0, 1e-15, 0, 2},
    /* exp + a K-term sum + a division (or log) */
    {"softmax", 1e-5, 1e-8, 1e-13, 1e-16, 2},
    {"log_softmax", 1e-5, 1e-5, 1e-13, 1e-13, 2},
    {"cross_entropy", 1e-5, 1e-5, 1e-13, 1e-13, 2},
    {"arange", 1e-6, 1e-6, 1e-14, 1e-14, 0},
    /* rand/randn are statistical checks; their bounds are printed by the case */
};

typedef struct tol {
    double rel, abs, kfac;
} tol;
static tol tol_for(const char *op, st_dtype dt) {
    tol t = {0, 0, 0};
    if (!st_dtype_is_float(dt)) return t;
    for (size_t i = 0; i < sizeof TOLS / sizeof TOLS[0]; i++)
        if (!strcmp(TOLS[i].op, op)) {
            t.rel = dt == ST_F32 ? TOLS[i].r32 : TOLS[i].r64;
            t.abs = dt == ST_F32 ? TOLS[i].a32 : TOLS[i].a64;
            t.kfac = TOLS[i].kfac;
            return t;
        }
    t.rel = -1; /* no entry: reported as a failure */
    return t;
}
static void fmt_tol(char *buf, size_t cap, tol t, double K) {
    if (t.rel == 0 && t.abs == 0 && t.kfac == 0)
        snprintf(buf, cap, "exact");
    else if (t.kfac > 0)
        snprintf(buf, cap, "rel:%g,abs:%g,+%gu*K*sum|.|(K=%g)", t.rel, t.abs, t.kfac, K);
    else
        snprintf(buf, cap, "rel:%g,abs:%g", t.rel, t.abs);
}

/* ================================================================ reference ops */

static double r_neg(double x) { return -x; }
static double r_relu(double x) { return x > 0 ? x : 0.0; }
static double r_gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double r_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double r_add(double a, double b) { return a + b; }
static double r_sub(double a, double b) { return a - b; }
static double r_mul(double a, double b) { return a * b; }
static double r_div(double a, double b) { return a / b; }
static double r_max(double a, double b) { return isnan(a) || isnan(b) ? NAN : a > b ? a : b; }
static double r_min(double a, double b) { return isnan(a) || isnan(b) ? NAN : a < b ? a : b; }
static double r_eq(double a, double b) { return a == b; }
static double r_ne(double a, double b) { return a != b; }
static double r_lt(double a, double b) { return a < b; }
static double r_le(double a, double b) { return a <= b; }
static double r_gt(double a, double b) { return a > b; }
static double r_ge(double a, double b) { return a >= b; }

static st_dtype promote(st_dtype a, st_dtype b) {
    static const int rank[] = {[ST_I32] = 0, [ST_I64] = 1, [ST_F32] = 2, [ST_F64] = 3};
    return rank[a] >= rank[b] ? a : b;
}

/* ---- unary / binary / scalar / where */
static st_tensor *run_unary(const tcase *c, st_tensor **in) { return c->lu(in[0]); }
static void ref_unary(const tcase *c, const arr *in, refres *r) {
    r->dt = c->in[0].dt;
    r->out = arr_new(in[0].nd, in[0].sh);
    for (int64_t i = 0; i < arr_numel(&in[0]); i++) r->out.v[i] = round_to(r->dt, c->f1(in[0].v[i]));
}
static st_tensor *run_binary(const tcase *c, st_tensor **in) { return c->lb(in[0], in[1]); }
static void ref_binary(const tcase *c, const arr *in, refres *r) {
    int nd;
    int64_t sh[ST_MAX_DIMS], co[ST_MAX_DIMS];
    if (!bshape(in[0].nd, in[0].sh, in[1].nd, in[1].sh, &nd, sh)) return;
    r->dt = promote(c->in[0].dt, c->in[1].dt);
    r->out = arr_new(nd, sh);
    for (int64_t i = 0; i < arr_numel(&r->out); i++) {
        unravel(i, nd, sh, co);
        double x = bget(&in[0], nd, co), y = bget(&in[1], nd, co);
        double v = c->f2(x, y);
        if (!st_dtype_is_float(r->dt) && c->f2 == r_div) v = y == 0 ? 0 : trunc(x / y); /* C division */
        r->out.v[i] = st_dtype_is_float(r->dt) ? v : round_to(r->dt, v);
    }
}
static st_tensor *run_scalar(const tcase *c, st_tensor **in) { return c->ls(in[0], c->s); }
static void ref_scalar(const tcase *c, const arr *in, refres *r) {
    r->dt = c->in[0].dt;
    double s = round_to(r->dt, c->s);
    r->out = arr_new(in[0].nd, in[0].sh);
    for (int64_t i = 0; i < arr_numel(&in[0]); i++) r->out.v[i] = round_to(r->dt, c->f2(in[0].v[i], s));
}
static st_tensor *run_where(const tcase *c, st_tensor **in) {
    (void)c;
    return st_where(in[0], in[1], in[2]);
}
static void ref_where(const tcase *c, const arr *in, refres *r) {
    int n1, nd;
    int64_t s1[ST_MAX_DIMS], sh[ST_MAX_DIMS], co[ST_MAX_DIMS];
    if (!bshape(in[0].nd, in[0].sh, in[1].nd, in[1].sh, &n1, s1) || !bshape(n1, s1, in[2].nd, in[2].sh, &nd, sh))
        return;
    r->dt = promote(c->in[1].dt, c->in[2].dt);
    r->out = arr_new(nd, sh);
    for (int64_t i = 0; i < arr_numel(&r->out); i++) {
        unravel(i, nd, sh, co);
        r->out.v[i] = bget(&in[0], nd, co) != 0 ? bget(&in[1], nd, co) : bget(&in[2], nd, co);
    }
}

/* ---- reductions */
static st_tensor *run_reduce(const tcase *c, st_tensor **in) {
    const int *ax = c->naxes ? c->axes : NULL;
    if (!strcmp(c->op, "sum")) return st_sum(in[0], ax, c->naxes, c->keepdim);
    if (!strcmp(c->op, "mean")) return st_mean(in[0], ax, c->naxes, c->keepdim);
    if (!strcmp(c->op, "max")) return st_max(in[0], ax, c->naxes, c->keepdim);
    if (!strcmp(c->op, "min")) return st_min(in[0], ax, c->naxes, c->keepdim);
    return st_argmax(in[0], c->dim, c->keepdim);
}
static void ref_reduce(const tcase *c, const arr *in, refres *r) {
    const arr *x = &in[0];
    bool red[ST_MAX_DIMS] = {false};
    bool is_arg = !strcmp(c->op, "argmax");
    if (is_arg) {
        red[c->dim < 0 ? c->dim + x->nd : c->dim] = true;
    } else if (c->naxes == 0) {
        for (int d = 0; d < x->nd; d++) red[d] = true;
    } else {
        for (int i = 0; i < c->naxes; i++) red[c->axes[i] < 0 ? c->axes[i] + x->nd : c->axes[i]] = true;
    }
    int ond = 0;
    int64_t osh[ST_MAX_DIMS], K = 1;
    for (int d = 0; d < x->nd; d++) {
        if (red[d]) K *= x->sh[d];
        if (!red[d]) osh[ond++] = x->sh[d];
        else if (c->keepdim) osh[ond++] = 1;
    }
    st_dtype in_dt = c->in[0].dt;
    int kind = !strcmp(c->op, "sum") ? 0 : !strcmp(c->op, "mean") ? 1 : !strcmp(c->op, "max") ? 2 : !strcmp(c->op, "min") ? 3 : 4;
    r->dt = kind == 0 ? (st_dtype_is_float(in_dt) ? in_dt : ST_I64) : kind == 4 ? ST_I64 : in_dt;
    r->out = arr_new(ond, osh);
    r->scale = arr_new(ond, osh);
    r->K = (double)K;
    int64_t on = arr_numel(&r->out);
    bool *seen = xmalloc((size_t)on * sizeof(bool));
    double *best = xmalloc((size_t)on * sizeof(double));
    int64_t co[ST_MAX_DIMS];
    for (int64_t i = 0; i < arr_numel(x); i++) {
        unravel(i, x->nd, x->sh, co);
        int64_t o = 0, rpos = 0;
        for (int d = 0; d < x->nd; d++) {
            if (!red[d]) o = o * x->sh[d] + co[d];
            else rpos = rpos * x->sh[d] + co[d];
        }
        double v = x->v[i];
        switch (kind) {
        case 0:
        case 1:
            r->out.v[o] += v;
            r->scale.v[o] += fabs(v);
            break;
        case 2:
        case 3:
            if (!seen[o]) best[o] = v;
            else if (isnan(best[o])) { /* NaN sticks */
            } else if (isnan(v) || (kind == 2 ? v > best[o] : v < best[o]))
                best[o] = v;
            r->out.v[o] = best[o];
            break;
        default: /* first maximum; NaN counts as the maximum (its first occurrence) */
            if (!seen[o] || (!isnan(best[o]) && (isnan(v) || v > best[o]))) {
                best[o] = v;
                r->out.v[o] = (double)rpos;
            }
            break;
        }
        seen[o] = true;
    }
    if (kind == 1)
        for (int64_t o = 0; o < on; o++) {
            r->out.v[o] /= (double)K;
            r->scale.v[o] /= (double)K;
        }
    free(seen);
    free(best);
}

/* ---- matmul (numpy.matmul rules) */
static st_tensor *run_matmul(const tcase *c, st_tensor **in) {
    (void)c;
    return st_matmul(in[0], in[1]);
}
static void ref_matmul(const tcase *c, const arr *in, refres *r) {
    const arr *a = &in[0], *b = &in[1];
    bool av = a->nd == 1, bv = b->nd == 1;
    int64_t M = av ? 1 : a->sh[a->nd - 2], K = a->sh[a->nd - 1];
    int64_t N = bv ? 1 : b->sh[b->nd - 1], Kb = bv ? b->sh[0] : b->sh[b->nd - 2];
    if (K != Kb) return;
    int nba = av ? 0 : a->nd - 2, nbb = bv ? 0 : b->nd - 2, nbo;
    int64_t bsh[ST_MAX_DIMS], co[ST_MAX_DIMS];
    if (!bshape(nba, a->sh, nbb, b->sh, &nbo, bsh)) return;
    int64_t osh[ST_MAX_DIMS];
    int ond = 0;
    for (int i = 0; i < nbo; i++) osh[ond++] = bsh[i];
    if (!av) osh[ond++] = M;
    if (!bv) osh[ond++] = N;
    r->dt = promote(c->in[0].dt, c->in[1].dt);
    r->out = arr_new(ond, osh);
    r->scale = arr_new(ond, osh);
    r->K = (double)K;
    int64_t nbatch = numel_of(nbo, bsh);
    for (int64_t bi = 0; bi < nbatch; bi++) {
        unravel(bi, nbo, bsh, co);
        int64_t ao = 0, bo = 0;
        for (int d = 0; d < nba; d++) ao = ao * a->sh[d] + (a->sh[d] == 1 ? 0 : co[nbo - nba + d]);
        for (int d = 0; d < nbb; d++) bo = bo * b->sh[d] + (b->sh[d] == 1 ? 0 : co[nbo - nbb + d]);
        const double *A = a->v + ao * M * K, *B = b->v + bo * K * N;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0, m = 0;
                for (int64_t k = 0; k < K; k++) {
                    s += A[i * K + k] * B[k * N + j];
                    m += fabs(A[i * K + k] * B[k * N + j]);
                }
                r->out.v[(bi * M + i) * N + j] = s;
                r->scale.v[(bi * M + i) * N + j] = m;
            }
    }
}

/* ---- softmax, log_softmax, cross_entropy */
static st_tensor *run_softmax(const tcase *c, st_tensor **in) {
    return !strcmp(c->op, "softmax") ? st_softmax(in[0], c->dim) : st_log_softmax(in[0], c->dim);
}
static void ref_softmax(const tcase *c, const arr *in, refres *r) {
    const arr *x = &in[0];
    int d = c->dim < 0 ? c->dim + x->nd : c->dim;
    bool lg = !strcmp(c->op, "log_softmax");
    int64_t L = x->sh[d], inner = 1, outer = 1;
    for (int i = d + 1; i < x->nd; i++) inner *= x->sh[i];
    for (int i = 0; i < d; i++) outer *= x->sh[i];
    r->dt = c->in[0].dt;
    r->out = arr_new(x->nd, x->sh);
    r->scale = arr_new(x->nd, x->sh);
    r->K = (double)L;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in2 = 0; in2 < inner; in2++) {
            const double *p = x->v + o * L * inner + in2;
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < L; k++) m = p[k * inner] > m ? p[k * inner] : m;
            for (int64_t k = 0; k < L; k++) s += exp(p[k * inner] - m);
            for (int64_t k = 0; k < L; k++) {
                int64_t idx = o * L * inner + in2 + k * inner;
                double y = p[k * inner] - m;
                r->out.v[idx] = lg ? y - log(s) : exp(y) / s;
                r->scale.v[idx] = lg ? 1.0 + fabs(y) : exp(y) / s;
            }
        }
}
static st_tensor *run_ce(const tcase *c, st_tensor **in) {
    (void)c;
    return st_cross_entropy(in[0], in[1]);
}
static void ref_ce(const tcase *c, const arr *in, refres *r) {
    const arr *x = &in[0], *t = &in[1];
    int64_t N = x->sh[0], C = x->sh[1];
    r->dt = c->in[0].dt;
    r->out = arr_new(0, NULL);
    r->scale = arr_new(0, NULL);
    r->K = (double)C;
    double acc = 0, mag = 0;
    for (int64_t i = 0; i < N; i++) {
        const double *p = x->v + i * C;
        double m = -INFINITY, s = 0;
        for (int64_t k = 0; k < C; k++) m = p[k] > m ? p[k] : m;
        for (int64_t k = 0; k < C; k++) s += exp(p[k] - m);
        double l = m + log(s) - p[(int64_t)t->v[i]];
        acc += l;
        mag += fabs(m) + fabs(log(s)) + fabs(p[(int64_t)t->v[i]]);
    }
    r->out.v[0] = acc / (double)N;
    r->scale.v[0] = mag / (double)N;
}

/* ---- views */
static st_tensor *run_view(const tcase *c, st_tensor **in) {
    if (!strcmp(c->op, "reshape")) {
        if (c->flag) return c->s > 0 ? st_unsqueeze(in[0], c->dim) : st_squeeze(in[0], c->dim);
        return st_reshape(in[0], c->shn, c->shp);
    }
    return view_lib(st_retain(in[0]), &c->ov);
}
static void ref_view(const tcase *c, const arr *in, refres *r) {
    r->dt = c->in[0].dt;
    if (!strcmp(c->op, "reshape")) {
        int64_t sh[ST_MAX_DIMS];
        int nd = 0;
        if (c->flag) { /* squeeze/unsqueeze */
            int d = c->dim;
            if (c->s > 0) {
                if (d < 0) d += in[0].nd + 1;
                for (int i = 0, j = 0; i <= in[0].nd; i++) sh[nd++] = i == d ? 1 : in[0].sh[j++];
            } else {
                if (d < 0) d += in[0].nd;
                for (int i = 0; i < in[0].nd; i++)
                    if (i != d || in[0].sh[i] != 1) sh[nd++] = in[0].sh[i];
            }
        } else {
            int64_t known = 1;
            int inf = -1;
            for (int i = 0; i < c->shn; i++) {
                sh[nd++] = c->shp[i];
                if (c->shp[i] == -1) inf = i;
                else known *= c->shp[i];
            }
            if (inf >= 0) sh[inf] = arr_numel(&in[0]) / known;
        }
        r->out = arr_new(nd, sh);
        memcpy(r->out.v, in[0].v, (size_t)arr_numel(&in[0]) * sizeof(double));
        return;
    }
    r->out = view_ref(&in[0], &c->ov);
}

/* ---- copy: clone / contiguous / to_dtype */
static st_tensor *run_copy(const tcase *c, st_tensor **in) {
    if (c->dim == 1) return st_contiguous(in[0]);
    if (c->dim == 2) return st_to_dtype(in[0], c->odt);
    return st_clone(in[0]);
}
static void ref_copy(const tcase *c, const arr *in, refres *r) {
    r->dt = c->dim == 2 ? c->odt : c->in[0].dt;
    r->out = arr_new(in[0].nd, in[0].sh);
    for (int64_t i = 0; i < arr_numel(&in[0]); i++) r->out.v[i] = round_to(r->dt, in[0].v[i]);
}

/* ---- concat, index_select, gather, scatter */
static st_tensor *run_concat(const tcase *c, st_tensor **in) { return st_concat(in, c->nin, c->dim); }
static void ref_concat(const tcase *c, const arr *in, refres *r) {
    int nd = in[0].nd, d = c->dim < 0 ? c->dim + nd : c->dim;
    int64_t sh[ST_MAX_DIMS], co[ST_MAX_DIMS];
    memcpy(sh, in[0].sh, sizeof sh);
    sh[d] = 0;
    for (int i = 0; i < c->nin; i++) sh[d] += in[i].sh[d];
    r->dt = c->in[0].dt;
    for (int i = 1; i < c->nin; i++) r->dt = promote(r->dt, c->in[i].dt);
    r->out = arr_new(nd, sh);
    for (int64_t o = 0; o < arr_numel(&r->out); o++) {
        unravel(o, nd, sh, co);
        int k = 0;
        while (co[d] >= in[k].sh[d]) co[d] -= in[k++].sh[d];
        int64_t p = 0;
        for (int j = 0; j < nd; j++) p = p * in[k].sh[j] + co[j];
        r->out.v[o] = in[k].v[p];
    }
}
static st_tensor *run_index(const tcase *c, st_tensor **in) {
    if (!strcmp(c->op, "index_select")) return st_index_select(in[0], c->dim, in[1]);
    if (!strcmp(c->op, "gather")) return st_gather(in[0], c->dim, in[1]);
    return st_scatter(in[0], c->dim, in[1], in[2], c->flag);
}
static int64_t lin(int nd, const int64_t *sh, const int64_t *co) {
    int64_t p = 0;
    for (int j = 0; j < nd; j++) p = p * sh[j] + co[j];
    return p;
}
static void ref_index(const tcase *c, const arr *in, refres *r) {
    const arr *x = &in[0], *ix = &in[1];
    int nd = x->nd, d = c->dim < 0 ? c->dim + nd : c->dim;
    int64_t co[ST_MAX_DIMS], sh[ST_MAX_DIMS];
    r->dt = c->in[0].dt;
    if (!strcmp(c->op, "index_select")) {
        memcpy(sh, x->sh, sizeof sh);
        sh[d] = ix->sh[0];
        r->out = arr_new(nd, sh);
        for (int64_t o = 0; o < arr_numel(&r->out); o++) {
            unravel(o, nd, sh, co);
            co[d] = (int64_t)ix->v[co[d]];
            r->out.v[o] = x->v[lin(nd, x->sh, co)];
        }
    } else if (!strcmp(c->op, "gather")) {
        r->out = arr_new(ix->nd, ix->sh);
        for (int64_t o = 0; o < arr_numel(ix); o++) {
            unravel(o, nd, ix->sh, co);
            co[d] = (int64_t)ix->v[o];
            r->out.v[o] = x->v[lin(nd, x->sh, co)];
        }
    } else { /* scatter: row-major order over index, later writes win */
        const arr *src = &in[2];
        r->out = arr_new(nd, x->sh);
        r->scale = arr_new(nd, x->sh);
        memcpy(r->out.v, x->v, (size_t)arr_numel(x) * sizeof(double));
        int64_t maxk = 1;
        int64_t *cnt = xmalloc((size_t)arr_numel(x) * sizeof(int64_t));
        for (int64_t i = 0; i < arr_numel(x); i++) r->scale.v[i] = fabs(x->v[i]);
        for (int64_t o = 0; o < arr_numel(ix); o++) {
            unravel(o, nd, ix->sh, co);
            double sv = src->v[lin(nd, src->sh, co)];
            co[d] = (int64_t)ix->v[o];
            int64_t p = lin(nd, x->sh, co);
            r->out.v[p] = c->flag ? r->out.v[p] + sv : sv;
            r->scale.v[p] += fabs(sv);
            if (++cnt[p] + 1 > maxk) maxk = cnt[p] + 1;
        }
        if (!c->flag)
            for (int64_t i = 0; i < arr_numel(x); i++) r->scale.v[i] = 0;
        r->K = (double)maxk;
        free(cnt);
    }
}

/* ---- rank-K (SPEC §3): one case compares the values, its twin the indices (c->flag).
 * Total order (value, column): NaN above +inf, -0.0 == +0.0, equal values: the lower
 * column ranks first. c->odt is the index dtype (st_rankk_ex). */
static st_rankk_kind rk_kind(const char *op) {
    return !strcmp(op, "topk") ? ST_TOPK : !strcmp(op, "bottomk") ? ST_BOTTOMK : ST_MIDK;
}
static st_tensor *run_rankk(const tcase *c, st_tensor **in) {
    st_tensor *v = NULL, *ix = NULL;
    if (st_rankk_ex(in[0], rk_kind(c->op), (int64_t)c->s, c->odt, &v, &ix) != ST_OK) return NULL;
    if (c->flag) {
        st_release(v);
        return ix;
    }
    st_release(ix);
    return v;
}
/* ascending rank: -1 when (a, ia) ranks below (b, ib) */
static int rank_cmp(double a, int64_t ia, double b, int64_t ib) {
    bool na = isnan(a), nb = isnan(b);
    if (na != nb) return na ? 1 : -1;
    if (!na && a != b) return a < b ? -1 : 1;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
}
static const double *g_row; /* row being sorted by the qsort comparators */
static int cmp_up(const void *x, const void *y) {
    int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
    return rank_cmp(g_row[i], i, g_row[j], j);
}
static int cmp_down(const void *x, const void *y) { /* largest first, ties: lower column first */
    int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
    bool ni = isnan(g_row[i]), nj = isnan(g_row[j]);
    if (ni != nj) return ni ? -1 : 1;
    if (!ni && g_row[i] != g_row[j]) return g_row[i] > g_row[j] ? -1 : 1;
    return i < j ? -1 : i > j ? 1 : 0;
}
static int cmp_i64(const void *x, const void *y) {
    int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
    return (i > j) - (i < j);
}
static void ref_rankk(const tcase *c, const arr *in, refres *r) {
    const arr *x = &in[0];
    int64_t n = x->sh[x->nd - 1], k = (int64_t)c->s, rows = n ? arr_numel(x) / n : 0;
    int64_t sh[ST_MAX_DIMS];
    memcpy(sh, x->sh, sizeof sh);
    sh[x->nd - 1] = k;
    r->dt = c->flag ? c->odt : c->in[0].dt;
    r->out = arr_new(x->nd, sh);
    int64_t *ord = xmalloc((size_t)(n ? n : 1) * sizeof(int64_t));
    st_rankk_kind kind = rk_kind(c->op);
    for (int64_t row = 0; row < rows; row++) {
        g_row = x->v + row * n;
        for (int64_t i = 0; i < n; i++) ord[i] = i;
        qsort(ord, (size_t)n, sizeof *ord, kind == ST_TOPK ? cmp_down : cmp_up);
        int64_t *sel = ord;
        if (kind == ST_MIDK) { /* ranks [(n-k)/2, +k), back in column order */
            sel = ord + (n - k) / 2;
            qsort(sel, (size_t)k, sizeof *sel, cmp_i64);
        }
        for (int64_t j = 0; j < k; j++) r->out.v[row * k + j] = c->flag ? (double)sel[j] : g_row[sel[j]];
    }
    free(ord);
}

/* ---- creation: fill (zeros, ones, full, scalar, fill_ on a view), arange.
 * These make their tensors on the device under test (through the default device). */
static st_tensor *run_fill(const tcase *c, st_tensor **in) {
    (void)in;
    switch (c->dim) {
    case 0: return st_zeros(c->shn, c->shp, c->odt);
    case 1: return st_ones(c->shn, c->shp, c->odt);
    case 2: return st_full(c->shn, c->shp, c->odt, c->s);
    case 3: return st_scalar(c->s, c->odt);
    default: { /* fill_ through a strided view: only the view's elements change */
        st_tensor *base = st_zeros(c->shn, c->shp, c->odt);
        if (!base) return NULL;
        st_tensor *v = view_lib(st_retain(base), &c->ov);
        st_status s = v ? st_fill_(v, c->s) : st_last_status();
        st_release(v);
        if (s != ST_OK) {
            st_release(base);
            return NULL;
        }
        return base;
    }
    }
}
static void ref_fill(const tcase *c, const arr *in, refres *r) {
    (void)in;
    r->dt = c->odt;
    double v = c->dim == 0 ? 0.0 : c->dim == 1 ? 1.0 : round_to(c->odt, c->s);
    r->out = c->dim == 3 ? arr_new(0, NULL) : arr_new(c->shn, c->shp);
    int64_t n = arr_numel(&r->out);
    if (c->dim <= 3) {
        for (int64_t i = 0; i < n; i++) r->out.v[i] = v;
        return;
    }
    /* mark positions: fill a base of indices, take the view, set those */
    arr idx = arr_new(c->shn, c->shp);
    for (int64_t i = 0; i < n; i++) idx.v[i] = (double)i;
    arr sel = view_ref(&idx, &c->ov);
    for (int64_t i = 0; i < arr_numel(&sel); i++) r->out.v[(int64_t)sel.v[i]] = v;
    arr_free(&idx);
    arr_free(&sel);
}
static st_tensor *run_arange(const tcase *c, st_tensor **in) {
    (void)in;
    return st_arange(c->s, c->s2, c->s3, c->odt);
}
static void ref_arange(const tcase *c, const arr *in, refres *r) {
    (void)in;
    double cnt = ceil((c->s2 - c->s) / c->s3);
    int64_t n = cnt > 0 ? (int64_t)cnt : 0;
    r->dt = c->odt;
    r->out = arr_new(1, &n);
    for (int64_t i = 0; i < n; i++) r->out.v[i] = round_to(c->odt, c->s + (double)i * c->s3);
}

/* ---- expected errors: the op must fail with the stated status */
static st_tensor *run_err_rand(const tcase *c, st_tensor **in) {
    (void)in;
    return st_rand(c->shn, c->shp, c->odt);
}

/* ---- rand / randn: statistics, range, determinism under a fixed seed, and (on other
 * backends) the same stream as the CPU. */
static st_tensor *make_random(const tcase *c, st_rng *g, bool normal) {
    return normal ? (g ? st_randn_gen(g, c->shn, c->shp, c->odt) : st_randn(c->shn, c->shp, c->odt))
                  : (g ? st_rand_gen(g, c->shn, c->shp, c->odt) : st_rand(c->shn, c->shp, c->odt));
}
static double *host_f64(st_tensor *t) {
    if (!t) return NULL;
    double *v = xmalloc((size_t)st_numel(t) * sizeof(double));
    if (st_to_host(t, ST_F64, v, (size_t)st_numel(t) * sizeof(double)) != ST_OK) {
        free(v);
        return NULL;
    }
    return v;
}
static bool custom_random(const tcase *c, st_device dev, uint64_t seed, char *detail, size_t cap, double *err,
                          double *tolv) {
    bool normal = !strcmp(c->op, "randn");
    int64_t n = numel_of(c->shn, c->shp);
    st_device prev = st_get_default_device();
    st_set_default_device(dev);
    st_manual_seed(seed);
    st_tensor *t1 = make_random(c, NULL, normal);
    st_tensor *t4 = make_random(c, NULL, normal); /* the stream moved on */
    st_manual_seed(seed);
    st_tensor *t2 = make_random(c, NULL, normal);
    st_rng *g = st_rng_new(seed);
    st_tensor *t3 = g ? make_random(c, g, normal) : NULL;
    if (g) st_rng_seed(g, seed + 1);
    st_tensor *t5 = g ? make_random(c, g, normal) : NULL;
    st_set_default_device(prev);
    st_device cpu = {ST_BACKEND_CPU, 0};
    st_tensor *tc = NULL;
    if (dev.kind != ST_BACKEND_CPU) {
        st_manual_seed(seed);
        st_set_default_device(cpu);
        tc = make_random(c, NULL, normal);
        st_set_default_device(prev);
    }
    double *v1 = host_f64(t1), *v2 = host_f64(t2), *v3 = host_f64(t3), *v4 = host_f64(t4), *v5 = host_f64(t5),
           *vc = host_f64(tc);
    bool ok = v1 && v2 && v3 && v4 && v5 && (dev.kind == ST_BACKEND_CPU || vc);
    if (!ok) {
        snprintf(detail, cap, "error: %s", st_last_error());
        *err = INFINITY;
        *tolv = 0;
    } else {
        double s = 0, ss = 0, lo = INFINITY, hi = -INFINITY, dev_err = 0;
        int64_t same4 = 0, same5 = 0, diff2 = 0, diff3 = 0;
        for (int64_t i = 0; i < n; i++) {
            double x = v1[i];
            s += x;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
            same4 += v4[i] == x;
            same5 += v5[i] == x;
            diff2 += v2[i] != x;
            diff3 += v3[i] != x;
            if (vc) {
                double e = fabs(vc[i] - x);
                dev_err = e > dev_err ? e : dev_err;
            }
        }
        double mean = s / (double)n;
        for (int64_t i = 0; i < n; i++) ss += (v1[i] - mean) * (v1[i] - mean);
        double var = ss / (double)(n - 1);
        double emean = normal ? 0.0 : 0.5, evar = normal ? 1.0 : 1.0 / 12.0;
        /* 6 sigma of the sample mean; the variance within 6 sigma of its estimate */
        double mtol = 6.0 * sqrt(evar / (double)n);
        double vtol = 6.0 * evar * sqrt((normal ? 2.0 : 0.8) / (double)n);
        *err = fabs(mean - emean);
        *tolv = mtol;
        bool range_ok = normal ? (isfinite(lo) && isfinite(hi) && lo > -8 && hi < 8) : (lo >= 0.0 && hi < 1.0);
        bool det_ok = diff2 == 0 && diff3 == 0;
        bool fresh_ok = same4 < n / 100 + 2 && same5 < n / 100 + 2;
        double dtol = normal ? 1e-5 : 0.0;
        bool dev_ok = !vc || dev_err <= dtol;
        ok = *err <= mtol && fabs(var - evar) <= vtol && range_ok && det_ok && fresh_ok && dev_ok;
        snprintf(detail, cap, "mean=%.4f var=%.4f(+-%.1e) range=[%.3g,%.3g] reseed_diff=%lld gen_diff=%lld "
                 "next_same=%lld seed+1_same=%lld%s",
                 mean, var, vtol, lo, hi, (long long)diff2, (long long)diff3, (long long)same4, (long long)same5,
                 vc ? (dev_ok ? " vs_cpu=ok" : " vs_cpu=DIFF") : "");
    }
    free(v1);
    free(v2);
    free(v3);
    free(v4);
    free(v5);
    free(vc);
    st_release(t1);
    st_release(t2);
    st_release(t3);
    st_release(t4);
    st_release(t5);
    st_release(tc);
    st_rng_free(g);
    return ok;
}

/* ================================================================ the case list */

typedef struct unop {
    const char *name;
    st_tensor *(*fn)(st_tensor *);
    double (*ref)(double);
    int dist;
    double p;
    bool ints; /* defined on integer dtypes */
} unop;
static const unop UNOPS[] = {
    {"neg", st_neg, r_neg, D_NORMAL, 1, true},     {"exp", st_exp, exp, D_NORMAL, 3, false},
    {"log", st_log, log, D_POS, 0, false},         {"sqrt", st_sqrt, sqrt, D_POS, 0, false},
    {"abs", st_abs, fabs, D_NORMAL, 1, true},      {"relu", st_relu, r_relu, D_NORMAL, 1, true},
    {"gelu", st_gelu, r_gelu, D_NORMAL, 2, false}, {"tanh", st_tanh, tanh, D_NORMAL, 2, false},
    {"sigmoid", st_sigmoid, r_sigmoid, D_NORMAL, 4, false},
};

typedef struct binop {
    const char *name;
    st_tensor *(*fn)(st_tensor *, st_tensor *);
    double (*ref)(double, double);
    int da, db; /* input distributions */
    bool ints;
} binop;
static const binop BINOPS[] = {
    {"add", st_add, r_add, D_NORMAL, D_NORMAL, true},
    {"sub", st_sub, r_sub, D_NORMAL, D_NORMAL, true},
    {"mul", st_mul, r_mul, D_NORMAL, D_NORMAL, true},
    {"div", st_div, r_div, D_NORMAL, D_NONZERO, true},
    {"pow", st_pow, pow, D_POS, D_UNIT, false},
    {"maximum", st_maximum, r_max, D_SMALLINT, D_SMALLINT, true},
    {"minimum", st_minimum, r_min, D_SMALLINT, D_SMALLINT, true},
    {"eq", st_eq, r_eq, D_SMALLINT, D_SMALLINT, true},
    {"ne", st_ne, r_ne, D_SMALLINT, D_SMALLINT, true},
    {"lt", st_lt, r_lt, D_SMALLINT, D_SMALLINT, true},
    {"le", st_le, r_le, D_SMALLINT, D_SMALLINT, true},
    {"gt", st_gt, r_gt, D_SMALLINT, D_SMALLINT, true},
    {"ge", st_ge, r_ge, D_SMALLINT, D_SMALLINT, true},
};

static void elementwise_cases(void) {
    for (size_t i = 0; i < sizeof UNOPS / sizeof UNOPS[0]; i++) {
        const unop *u = &UNOPS[i];
        tcase *c;
#define UN(...)                                    \
    c = newc(u->name, run_unary, ref_unary);       \
    c->lu = u->fn;                                 \
    c->f1 = u->ref;                                \
    pp(addin(c, __VA_ARGS__), u->p)
        UN(ST_F32, u->dist, 1, 1000);
        UN(ST_F32, u->dist, 1, BIG);
        UN(ST_F32, u->dist, 0);
        UN(ST_F32, u->dist, 2, 13, 7);
        vw(&c->in[0], V_T, 2, 0, 1);
        UN(ST_F64, u->dist, 2, 33, 9);
        UN(ST_F64, u->dist, 3, 4, 6, 5);
        vw(&c->in[0], V_SLICE, 4, 1, 1, 6, 2);
        if (u->ints) {
            UN(ST_I32, D_SMALLINT, 1, 77);
            UN(ST_I64, D_NORMAL, 2, 5, 6);
        } else { /* integer input: a dtype error */
            UN(ST_I32, D_SMALLINT, 1, 7);
            c->expect = ST_E_DTYPE;
        }
#undef UN
    }
    for (size_t i = 0; i < sizeof BINOPS / sizeof BINOPS[0]; i++) {
        const binop *b = &BINOPS[i];
        tcase *c;
#define BI(dta, sha, dtb, shb)                 \
    c = newc(b->name, run_binary, ref_binary); \
    c->lb = b->fn;                             \
    c->f2 = b->ref;                            \
    addin(c, dta, b->da, sha);                 \
    addin(c, dtb, b->db, shb)
#define S(...) __VA_ARGS__
        BI(ST_F32, S(1, 37), ST_F32, S(1, 37));
        BI(ST_F32, S(1, BIG), ST_F32, S(1, BIG));
        BI(ST_F32, S(2, 4, 5), ST_F32, S(1, 5));
        BI(ST_F32, S(2, 4, 1), ST_F32, S(2, 1, 5));
        BI(ST_F32, S(3, 2, 3, 4), ST_F32, S(2, 3, 1));
        BI(ST_F32, S(0), ST_F32, S(2, 3, 4));
        BI(ST_F32, S(0), ST_F32, S(0));
        BI(ST_F32, S(2, 256, 300), ST_F32, S(1, 300));
        BI(ST_F32, S(2, 6, 5), ST_F32, S(2, 5, 6));
        vw(&c->in[0], V_T, 2, 0, 1);
        BI(ST_F32, S(2, 8, 12), ST_F32, S(1, 5));
        vw(&c->in[0], V_SLICE, 4, 1, 1, 11, 2);
        BI(ST_F64, S(2, 17, 19), ST_F64, S(2, 17, 19));
        BI(ST_F64, S(3, 3, 1, 7), ST_F64, S(2, 5, 1));
        if (b->ints) {
            BI(ST_I32, S(2, 9, 11), ST_I32, S(1, 11));
            BI(ST_I64, S(1, 50), ST_I64, S(1, 50));
            BI(ST_I32, S(2, 3, 4), ST_F32, S(2, 3, 4)); /* promotion i32 + f32 -> f32 */
        }
        if (b->ref == r_max || b->ref == r_min) { /* NaN propagates */
            BI(ST_F32, S(2, 4, 5), ST_F32, S(1, 5));
            setv(&c->in[0], 3, NAN);
            setv(&c->in[1], 1, NAN);
            lbl(c, "with NaN");
        }
        BI(ST_F32, S(2, 3, 4), ST_F32, S(1, 5)); /* incompatible shapes */
        c->expect = ST_E_SHAPE;
#undef BI
    }
    /* scalar forms */
    struct {
        const char *op;
        st_tensor *(*fn)(st_tensor *, double);
        double (*ref)(double, double);
        int dist;
        double s;
        st_dtype dt;
    } const SC[] = {
        {"add", st_add_scalar, r_add, D_NORMAL, 2.5, ST_F32}, {"add", st_add_scalar, r_add, D_NORMAL, -3, ST_I32},
        {"add", st_add_scalar, r_add, D_NORMAL, 0.1, ST_F64}, {"mul", st_mul_scalar, r_mul, D_NORMAL, -1.5, ST_F32},
        {"mul", st_mul_scalar, r_mul, D_NORMAL, 3, ST_I64},   {"pow", st_pow_scalar, pow, D_POS, 2, ST_F32},
        {"pow", st_pow_scalar, pow, D_POS, 0.5, ST_F32},      {"pow", st_pow_scalar, pow, D_POS, -1.5, ST_F64},
        {"pow", st_pow_scalar, pow, D_NORMAL, 3, ST_F32},
    };
    for (size_t i = 0; i < sizeof SC / sizeof SC[0]; i++) {
        tcase *c = newc(SC[i].op, run_scalar, ref_scalar);
        c->ls = SC[i].fn;
        c->f2 = SC[i].ref;
        c->s = SC[i].s;
        lbl(c, "scalar=%g", SC[i].s);
        addin(c, SC[i].dt, SC[i].dist, 2, 21, 13);
    }
    /* where */
    tcase *c;
    c = newc("where", run_where, ref_where);
    addin(c, ST_I32, D_BOOL, 2, 4, 1);
    addin(c, ST_F32, D_NORMAL, 2, 4, 5);
    addin(c, ST_F32, D_NORMAL, 1, 5);
    c = newc("where", run_where, ref_where);
    addin(c, ST_F32, D_BOOL, 2, 3, 4);
    addin(c, ST_F64, D_NORMAL, 0);
    addin(c, ST_F64, D_NORMAL, 2, 3, 4);
    c = newc("where", run_where, ref_where);
    addin(c, ST_I64, D_BOOL, 1, 60);
    addin(c, ST_I32, D_SMALLINT, 1, 60);
    addin(c, ST_I32, D_SMALLINT, 1, 60);
    c = newc("where", run_where, ref_where);
    addin(c, ST_F32, D_BOOL, 1, BIG);
    addin(c, ST_F32, D_NORMAL, 1, BIG);
    addin(c, ST_F32, D_NORMAL, 1, BIG);
    c = newc("where", run_where, ref_where);
    vw(addin(c, ST_I32, D_BOOL, 2, 6, 7), V_T, 2, 0, 1);
    addin(c, ST_F32, D_NORMAL, 2, 7, 6);
    vw(addin(c, ST_F32, D_NORMAL, 2, 7, 12), V_SLICE, 4, 1, 0, 12, 2);
}

static void reduce_cases(void) {
    static const char *const R[] = {"sum", "mean", "max", "min"};
    tcase *c;
    for (int r = 0; r < 4; r++) {
        const char *op = R[r];
        bool ints = r != 1;
#define RC(...)                          \
    c = newc(op, run_reduce, ref_reduce); \
    addin(c, __VA_ARGS__)
        RC(ST_F32, D_NORMAL, 3, 5, 6, 7);
        lbl(c, "axes=all");
        RC(ST_F32, D_NORMAL, 3, 5, 6, 7);
        axes(c, 1, 1);
        lbl(c, "axes=(1)");
        RC(ST_F32, D_NORMAL, 3, 5, 6, 7);
        axes(c, 2, 0, 2);
        c->keepdim = true;
        lbl(c, "axes=(0,2) keepdim");
        RC(ST_F32, D_NORMAL, 3, 5, 6, 7);
        axes(c, 1, -1);
        lbl(c, "axes=(-1)");
        RC(ST_F64, D_NORMAL, 2, 4, 1000);
        axes(c, 1, 1);
        lbl(c, "axes=(1)");
        RC(ST_F32, D_NORMAL, 2, 300, 256);
        axes(c, 1, 0);
        lbl(c, "axes=(0)");
        RC(ST_F32, D_NORMAL, 2, 300, 256);
        axes(c, 1, 1);
        c->keepdim = true;
        lbl(c, "axes=(1) keepdim");
        RC(ST_F32, D_NORMAL, 1, BIG);
        lbl(c, "axes=all");
        RC(ST_F32, D_NORMAL, 0);
        lbl(c, "axes=all");
        RC(ST_F32, D_NORMAL, 2, 9, 14);
        vw(&c->in[0], V_T, 2, 0, 1);
        axes(c, 1, 0);
        lbl(c, "axes=(0)");
        RC(ST_F64, D_NORMAL, 3, 6, 10, 3);
        vw(&c->in[0], V_SLICE, 4, 1, 1, 10, 3);
        axes(c, 2, 1, 2);
        lbl(c, "axes=(1,2)");
        if (ints) {
            RC(ST_I32, D_SMALLINT, 2, 40, 30);
            lbl(c, "axes=all");
            RC(ST_I64, D_NORMAL, 3, 3, 4, 5);
            axes(c, 1, 1);
            c->keepdim = true;
            lbl(c, "axes=(1) keepdim");
        } else {
            RC(ST_I32, D_SMALLINT, 1, 5);
            c->expect = ST_E_DTYPE;
        }
        RC(ST_F32, D_NORMAL, 2, 3, 4);
        axes(c, 1, 2);
        c->expect = EXPECT_ANY;
        lbl(c, "axes=(2) out of range");
    }
    /* NaN propagates through max/min */
    c = newc("max", run_reduce, ref_reduce);
    setv(addin(c, ST_F32, D_NORMAL, 2, 6, 9), 13, NAN);
    axes(c, 1, 1);
    lbl(c, "axes=(1) with NaN");
    c = newc("min", run_reduce, ref_reduce);
    setv(addin(c, ST_F64, D_NORMAL, 2, 6, 9), 40, NAN);
    lbl(c, "axes=all with NaN");
    /* argmax: first maximum, NaN counts as the maximum */
    struct {
        st_dtype dt;
        int dist, dim;
        bool keep;
    } const AM[] = {{ST_F32, D_NORMAL, 0, false}, {ST_F32, D_NORMAL, 1, false}, {ST_F32, D_NORMAL, -1, true},
                    {ST_F64, D_NORMAL, 2, false}, {ST_I32, D_SMALLINT, 1, false}, {ST_I64, D_SMALLINT, 0, true},
                    {ST_F32, D_SMALLINT, 2, false}};
    for (size_t i = 0; i < sizeof AM / sizeof AM[0]; i++) {
        c = newc("argmax", run_reduce, ref_reduce);
        addin(c, AM[i].dt, AM[i].dist, 3, 7, 11, 13);
        c->dim = AM[i].dim;
        c->keepdim = AM[i].keep;
        lbl(c, "dim=%d%s", c->dim, c->keepdim ? " keepdim" : "");
    }
    c = newc("argmax", run_reduce, ref_reduce);
    addin(c, ST_F32, D_NORMAL, 1, BIG);
    lbl(c, "dim=0");
    c = newc("argmax", run_reduce, ref_reduce);
    vw(addin(c, ST_F32, D_SMALLINT, 2, 40, 30), V_T, 2, 0, 1);
    c->dim = 1;
    lbl(c, "dim=1");
    c = newc("argmax", run_reduce, ref_reduce);
    setv(addin(c, ST_F32, D_NORMAL, 2, 5, 8), 11, NAN);
    c->dim = 1;
    lbl(c, "dim=1 with NaN");
    c = newc("argmax", run_reduce, ref_reduce);
    addin(c, ST_F32, D_NORMAL, 2, 5, 8);
    c->dim = 2;
    c->expect = EXPECT_ANY;
    lbl(c, "dim=2 out of range");
#undef RC
}

static void matmul_cases(void) {
    tcase *c;
#define MM(dta, sha, dtb, shb)                \
    c = newc("matmul", run_matmul, ref_matmul); \
    addin(c, dta, D_NORMAL, sha);              \
    addin(c, dtb, D_NORMAL, shb)
    MM(ST_F32, S(2, 16, 32), ST_F32, S(2, 32, 24));
    MM(ST_F32, S(2, 96, 128), ST_F32, S(2, 128, 80));
    MM(ST_F32, S(1, 32), ST_F32, S(2, 32, 24));
    MM(ST_F32, S(2, 16, 32), ST_F32, S(1, 32));
    MM(ST_F32, S(1, 50), ST_F32, S(1, 50));
    MM(ST_F32, S(2, 8, 1), ST_F32, S(2, 1, 9));
    MM(ST_F32, S(3, 3, 16, 32), ST_F32, S(3, 3, 32, 8));
    MM(ST_F32, S(4, 2, 1, 8, 16), ST_F32, S(3, 3, 16, 4));
    MM(ST_F32, S(3, 4, 8, 16), ST_F32, S(2, 16, 5));
    MM(ST_F32, S(2, 32, 16), ST_F32, S(2, 32, 24));
    vw(&c->in[0], V_T, 2, 0, 1);
    MM(ST_F32, S(2, 16, 32), ST_F32, S(2, 24, 32));
    vw(&c->in[1], V_T, 2, 0, 1);
    MM(ST_F32, S(2, 16, 64), ST_F32, S(2, 32, 24));
    vw(&c->in[0], V_SLICE, 4, 1, 0, 64, 2);
    MM(ST_F64, S(2, 33, 65), ST_F64, S(2, 65, 17));
    MM(ST_F64, S(3, 2, 5, 7), ST_F64, S(3, 2, 7, 3));
    MM(ST_F32, S(2, 3, 4), ST_F32, S(2, 5, 6));
    c->expect = ST_E_SHAPE;
    MM(ST_I32, S(2, 3, 4), ST_I32, S(2, 4, 5));
    c->expect = EXPECT_ANY; /* float dtypes only */
#undef MM
}

static void softmax_cases(void) {
    static const char *const OPS[] = {"softmax", "log_softmax"};
    tcase *c;
    for (int k = 0; k < 2; k++) {
        struct {
            st_dtype dt;
            int nd;
            int sh[3];
            int dim;
            double p;
            int view;
        } const SM[] = {{ST_F32, 2, {6, 10}, 1, 1, 0},  {ST_F32, 2, {6, 10}, 0, 1, 0},  {ST_F32, 3, {2, 3, 7}, -1, 1, 0},
                        {ST_F32, 3, {2, 3, 7}, 1, 1, 0}, {ST_F64, 2, {5, 40}, 1, 1, 0}, {ST_F32, 2, {4, 33}, 1, 30, 0},
                        {ST_F32, 2, {9, 5}, 1, 1, 1},   {ST_F32, 2, {64, 1000}, 1, 1, 0}};
        for (size_t i = 0; i < sizeof SM / sizeof SM[0]; i++) {
            c = newc(OPS[k], run_softmax, ref_softmax);
            inspec *s = pp(addin(c, SM[i].dt, D_NORMAL, SM[i].nd, SM[i].sh[0], SM[i].sh[1], SM[i].sh[2]), SM[i].p);
            if (SM[i].view) vw(s, V_T, 2, 0, 1);
            c->dim = SM[i].dim;
            lbl(c, "dim=%d%s", c->dim, SM[i].p > 1 ? " large logits" : "");
        }
        c = newc(OPS[k], run_softmax, ref_softmax);
        addin(c, ST_I32, D_SMALLINT, 2, 3, 4);
        c->dim = 1;
        c->expect = ST_E_DTYPE;
    }
    struct {
        st_dtype dt, tdt;
        int n, C;
        bool view;
        double p;
    } const CE[] = {{ST_F32, ST_I64, 8, 10, false, 1}, {ST_F32, ST_I32, 33, 7, false, 3}, {ST_F64, ST_I64, 16, 100, false, 1},
                    {ST_F32, ST_I64, 6, 12, true, 1},  {ST_F32, ST_I32, 256, 1000, false, 1}};
    for (size_t i = 0; i < sizeof CE / sizeof CE[0]; i++) {
        c = newc("cross_entropy", run_ce, ref_ce);
        if (CE[i].view)
            vw(pp(addin(c, CE[i].dt, D_NORMAL, 2, CE[i].C, CE[i].n), CE[i].p), V_T, 2, 0, 1);
        else
            pp(addin(c, CE[i].dt, D_NORMAL, 2, CE[i].n, CE[i].C), CE[i].p);
        pp(addin(c, CE[i].tdt, D_INDEX, 1, CE[i].n), CE[i].C);
    }
    c = newc("cross_entropy", run_ce, ref_ce);
    addin(c, ST_F32, D_NORMAL, 2, 4, 5);
    setv(pp(addin(c, ST_I64, D_INDEX, 1, 4), 5), 2, 5);
    c->expect = ST_E_INDEX;
    lbl(c, "target out of range");
}

static void view_cases(void) {
    tcase *c;
    c = newc("reshape", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 2, 4, 6);
    shp(c, 3, 2, 3, 4);
    lbl(c, "to [2,3,4]");
    c = newc("reshape", run_view, ref_view);
    addin(c, ST_I64, D_NORMAL, 1, 24);
    shp(c, 2, -1, 6);
    lbl(c, "to [-1,6]");
    c = newc("reshape", run_view, ref_view);
    vw(addin(c, ST_F32, D_NORMAL, 2, 4, 6), V_T, 2, 0, 1);
    shp(c, 1, 24);
    lbl(c, "to [24] (copy)");
    c = newc("reshape", run_view, ref_view);
    addin(c, ST_F64, D_NORMAL, 0);
    shp(c, 2, 1, 1);
    lbl(c, "to [1,1]");
    c = newc("reshape", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 2, 4, 6);
    shp(c, 2, 5, 5);
    c->expect = ST_E_SHAPE;
    lbl(c, "to [5,5]");
    c = newc("reshape", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 3, 3, 1, 4);
    c->flag = true;
    c->dim = 1;
    c->s = -1;
    lbl(c, "squeeze(1)");
    c = newc("reshape", run_view, ref_view);
    addin(c, ST_I32, D_SMALLINT, 2, 3, 4);
    c->flag = true;
    c->dim = -1;
    c->s = 1;
    lbl(c, "unsqueeze(-1)");
    c = newc("permute", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 3, 2, 3, 4);
    ovw(c, V_PERMUTE, 3, 2, 0, 1);
    c = newc("permute", run_view, ref_view);
    addin(c, ST_F64, D_NORMAL, 4, 2, 3, 4, 5);
    ovw(c, V_PERMUTE, 4, 3, 1, 2, 0);
    c = newc("permute", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 3, 2, 3, 4);
    ovw(c, V_T, 2, 0, 2);
    lbl(c, "transpose");
    c = newc("permute", run_view, ref_view);
    vw(addin(c, ST_I32, D_SMALLINT, 2, 5, 6), V_SLICE, 4, 0, 1, 5, 2);
    ovw(c, V_T, 2, 1, 0);
    lbl(c, "transpose of a slice");
    c = newc("slice", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 2, 8, 10);
    ovw(c, V_SLICE, 4, 1, 1, -1, 2);
    c = newc("slice", run_view, ref_view);
    addin(c, ST_F64, D_NORMAL, 3, 4, 5, 6);
    ovw(c, V_SLICE, 4, 0, -3, 100, 1);
    c = newc("slice", run_view, ref_view);
    addin(c, ST_I64, D_NORMAL, 1, 10);
    ovw(c, V_SLICE, 4, 0, 7, 3, 1);
    lbl(c, "empty");
    c = newc("slice", run_view, ref_view);
    vw(addin(c, ST_F32, D_NORMAL, 2, 6, 9), V_T, 2, 0, 1);
    ovw(c, V_SLICE, 4, 1, 0, 6, 4);
    c = newc("expand", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 2, 3, 1);
    ovw(c, V_EXPAND, 2, 3, 4);
    c = newc("expand", run_view, ref_view);
    addin(c, ST_I32, D_SMALLINT, 1, 4);
    ovw(c, V_EXPAND, 3, 2, 3, 4);
    c = newc("expand", run_view, ref_view);
    addin(c, ST_F64, D_NORMAL, 3, 2, 1, 3);
    ovw(c, V_EXPAND, 3, -1, 5, -1);
    c = newc("expand", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 0);
    ovw(c, V_EXPAND, 2, 2, 2);
    c = newc("expand", run_view, ref_view);
    addin(c, ST_F32, D_NORMAL, 2, 3, 2);
    ovw(c, V_EXPAND, 2, 3, 4);
    c->expect = EXPECT_ANY;
    /* copy */
    c = newc("copy", run_copy, ref_copy);
    addin(c, ST_F32, D_NORMAL, 2, 5, 7);
    lbl(c, "clone");
    c = newc("copy", run_copy, ref_copy);
    vw(addin(c, ST_F32, D_NORMAL, 3, 4, 5, 6), V_PERMUTE, 3, 2, 0, 1);
    c->dim = 1;
    lbl(c, "contiguous");
    c = newc("copy", run_copy, ref_copy);
    vw(addin(c, ST_F64, D_NORMAL, 2, 6, 8), V_SLICE, 4, 1, 1, 8, 3);
    c->dim = 1;
    lbl(c, "contiguous");
    struct {
        st_dtype from, to;
        int dist;
    } const CV[] = {{ST_F32, ST_F64, D_NORMAL},   {ST_F64, ST_F32, D_NORMAL},  {ST_I32, ST_F32, D_SMALLINT},
                    {ST_F32, ST_I64, D_SMALLINT}, {ST_I64, ST_I32, D_NORMAL}, {ST_F64, ST_I32, D_SMALLINT}};
    for (size_t i = 0; i < sizeof CV / sizeof CV[0]; i++) {
        c = newc("copy", run_copy, ref_copy);
        addin(c, CV[i].from, CV[i].dist, 2, 7, 9);
        c->dim = 2;
        c->odt = CV[i].to;
        lbl(c, "to_dtype(%s)", st_dtype_name(CV[i].to));
    }
}

static void index_cases(void) {
    tcase *c;
    /* concat */
    c = newc("concat", run_concat, ref_concat);
    addin(c, ST_F32, D_NORMAL, 2, 2, 3);
    addin(c, ST_F32, D_NORMAL, 2, 4, 3);
    addin(c, ST_F32, D_NORMAL, 2, 1, 3);
    lbl(c, "dim=0");
    c = newc("concat", run_concat, ref_concat);
    addin(c, ST_F64, D_NORMAL, 2, 3, 2);
    vw(addin(c, ST_F64, D_NORMAL, 2, 5, 3), V_T, 2, 0, 1);
    c->dim = 1;
    lbl(c, "dim=1");
    c = newc("concat", run_concat, ref_concat);
    addin(c, ST_I32, D_SMALLINT, 3, 2, 3, 4);
    addin(c, ST_I32, D_SMALLINT, 3, 2, 3, 1);
    c->dim = 2;
    lbl(c, "dim=2");
    c = newc("concat", run_concat, ref_concat);
    addin(c, ST_I64, D_NORMAL, 1, 5);
    lbl(c, "dim=0 single");
    c = newc("concat", run_concat, ref_concat);
    addin(c, ST_F32, D_NORMAL, 2, 300, 200);
    addin(c, ST_F32, D_NORMAL, 2, 300, 100);
    c->dim = 1;
    lbl(c, "dim=1");
    c = newc("concat", run_concat, ref_concat);
    addin(c, ST_F32, D_NORMAL, 2, 2, 3);
    addin(c, ST_F32, D_NORMAL, 2, 2, 4);
    c->expect = ST_E_SHAPE;
    lbl(c, "dim=0 mismatched");
    /* index_select */
    struct {
        st_dtype dt, it;
        int r, k, dim, n;
        bool view;
    } const IS[] = {{ST_F32, ST_I64, 6, 5, 0, 4, false},  {ST_F32, ST_I32, 6, 5, 1, 7, false},
                    {ST_F64, ST_I64, 9, 4, 0, 20, true},  {ST_I32, ST_I32, 3, 8, 1, 3, false},
                    {ST_F32, ST_I64, 512, 64, 0, 300, false}};
    for (size_t i = 0; i < sizeof IS / sizeof IS[0]; i++) {
        c = newc("index_select", run_index, ref_index);
        inspec *x = addin(c, IS[i].dt, D_NORMAL, 2, IS[i].r, IS[i].k);
        int64_t lim = IS[i].dim == 0 ? IS[i].r : IS[i].k;
        if (IS[i].view) {
            vw(x, V_T, 2, 0, 1);
            lim = IS[i].dim == 0 ? IS[i].k : IS[i].r;
        }
        pp(addin(c, IS[i].it, D_INDEX, 1, IS[i].n), (double)lim);
        c->dim = IS[i].dim;
        lbl(c, "dim=%d", c->dim);
    }
    c = newc("index_select", run_index, ref_index);
    addin(c, ST_F32, D_NORMAL, 2, 4, 3);
    setv(pp(addin(c, ST_I64, D_INDEX, 1, 3), 4), 1, 4);
    c->expect = ST_E_INDEX;
    lbl(c, "index out of range");
    /* gather */
    struct {
        st_dtype dt, it;
        int nd, xs[3], is[3], dim;
    } const GA[] = {{ST_F32, ST_I64, 2, {5, 4}, {3, 4}, 0},     {ST_F32, ST_I32, 2, {5, 4}, {5, 6}, 1},
                    {ST_F64, ST_I64, 2, {5, 4}, {7, 2}, 0},     {ST_I32, ST_I64, 3, {3, 4, 5}, {3, 4, 2}, 2},
                    {ST_F32, ST_I64, 3, {3, 4, 5}, {3, 9, 5}, 1}};
    for (size_t i = 0; i < sizeof GA / sizeof GA[0]; i++) {
        c = newc("gather", run_index, ref_index);
        addin(c, GA[i].dt, D_NORMAL, GA[i].nd, GA[i].xs[0], GA[i].xs[1], GA[i].xs[2]);
        pp(addin(c, GA[i].it, D_INDEX, GA[i].nd, GA[i].is[0], GA[i].is[1], GA[i].is[2]), GA[i].xs[GA[i].dim]);
        c->dim = GA[i].dim;
        lbl(c, "dim=%d", c->dim);
    }
    c = newc("gather", run_index, ref_index);
    vw(addin(c, ST_F32, D_NORMAL, 2, 4, 6), V_T, 2, 0, 1);
    pp(addin(c, ST_I64, D_INDEX, 2, 6, 3), 4);
    c->dim = 1;
    lbl(c, "dim=1");
    c = newc("gather", run_index, ref_index);
    addin(c, ST_F32, D_NORMAL, 2, 4, 3);
    setv(pp(addin(c, ST_I64, D_INDEX, 2, 2, 3), 4), 4, -1);
    c->expect = ST_E_INDEX;
    lbl(c, "negative index");
    /* scatter (duplicates on purpose: later writes win / values add up) */
    struct {
        st_dtype dt, it;
        int xs[2], is[2], dim;
        bool add;
    } const SC[] = {{ST_F32, ST_I64, {5, 4}, {3, 4}, 0, false}, {ST_F32, ST_I64, {5, 4}, {8, 4}, 0, true},
                    {ST_F64, ST_I32, {4, 6}, {4, 3}, 1, true},  {ST_I32, ST_I64, {4, 6}, {4, 9}, 1, true},
                    {ST_F32, ST_I32, {6, 3}, {6, 2}, 1, false}};
    for (size_t i = 0; i < sizeof SC / sizeof SC[0]; i++) {
        c = newc("scatter", run_index, ref_index);
        addin(c, SC[i].dt, D_NORMAL, 2, SC[i].xs[0], SC[i].xs[1]);
        pp(addin(c, SC[i].it, D_INDEX, 2, SC[i].is[0], SC[i].is[1]), SC[i].xs[SC[i].dim]);
        addin(c, SC[i].dt, D_NORMAL, 2, SC[i].is[0], SC[i].is[1]);
        c->dim = SC[i].dim;
        c->flag = SC[i].add;
        lbl(c, "dim=%d%s", c->dim, c->flag ? " add" : "");
    }
    c = newc("scatter", run_index, ref_index);
    addin(c, ST_F32, D_NORMAL, 2, 3, 3);
    setv(pp(addin(c, ST_I64, D_INDEX, 2, 2, 3), 3), 0, 3);
    addin(c, ST_F32, D_NORMAL, 2, 2, 3);
    c->expect = ST_E_INDEX;
    lbl(c, "index out of range");
}

static void rankk_cases(void) {
    static const char *const OPS[] = {"topk", "bottomk", "midk"};
    struct {
        st_dtype dt;
        int dist, nd, sh[3], k;
        st_dtype it;
        int view;     /* 1: transposed input */
        bool special; /* NaN, +-inf, -0.0 injected */
    } const RK[] = {
        {ST_F32, D_NORMAL, 2, {8, 100}, 10, ST_I32, 0, false},  {ST_F32, D_SMALLINT, 2, {6, 64}, 20, ST_I32, 0, false},
        {ST_F64, D_NORMAL, 3, {2, 3, 50}, 7, ST_I64, 0, false}, {ST_F32, D_NORMAL, 1, {33}, 33, ST_I32, 0, false},
        {ST_F32, D_NORMAL, 2, {5, 17}, 0, ST_I32, 0, false},    {ST_F32, D_SMALLINT, 2, {40, 9}, 4, ST_I64, 1, false},
        {ST_F32, D_NORMAL, 2, {4, 64}, 9, ST_I32, 0, true},     {ST_F32, D_NORMAL, 2, {3, 40000}, 200, ST_I32, 0, false},
        {ST_F32, D_NORMAL, 2, {64, 4096}, 32, ST_I32, 0, false},
    };
    tcase *c;
    for (int o = 0; o < 3; o++)
        for (size_t i = 0; i < sizeof RK / sizeof RK[0]; i++)
            for (int want_idx = 0; want_idx < 2; want_idx++) {
                c = newc(OPS[o], run_rankk, ref_rankk);
                inspec *x = addin(c, RK[i].dt, RK[i].dist, RK[i].nd, RK[i].sh[0], RK[i].sh[1], RK[i].sh[2]);
                if (RK[i].view) { /* base [cols, rows] transposed to [rows, cols] */
                    x->sh[0] = RK[i].sh[1];
                    x->sh[1] = RK[i].sh[0];
                    vw(x, V_T, 2, 0, 1);
                }
                if (RK[i].special) { /* NaN, tied infinities, -0.0 beside +0.0 */
                    static const double SV[MAXSET] = {NAN, INFINITY, INFINITY, -INFINITY, -0.0, 0.0, NAN, -0.0};
                    static const int AT[MAXSET] = {3, 10, 50, 7, 64 + 2, 64 + 9, 128 + 60, 192 + 1};
                    for (int j = 0; j < MAXSET; j++) setv(x, AT[j], SV[j]);
                }
                c->s = RK[i].k;
                c->odt = RK[i].it;
                c->flag = want_idx;
                lbl(c, "k=%d %s%s%s", RK[i].k, want_idx ? "indices " : "values", want_idx ? st_dtype_name(RK[i].it) : "",
                    RK[i].special ? " NaN/inf/-0" : "");
            }
    c = newc("topk", run_rankk, ref_rankk);
    addin(c, ST_F32, D_NORMAL, 2, 3, 5);
    c->s = 6;
    c->odt = ST_I32;
    c->expect = EXPECT_ANY;
    lbl(c, "k=6 > n");
}

static void creation_cases(void) {
    tcase *c;
    struct {
        int kind;
        st_dtype dt;
        double v;
    } const FL[] = {{0, ST_F32, 0}, {1, ST_F64, 0}, {2, ST_I32, 7}, {2, ST_I64, -3}, {2, ST_F32, 0.1}, {3, ST_F64, 2.5},
                    {3, ST_I32, -9}, {0, ST_I64, 0}, {1, ST_F32, 0}};
    for (size_t i = 0; i < sizeof FL / sizeof FL[0]; i++) {
        c = newc("fill", run_fill, ref_fill);
        c->dim = FL[i].kind;
        c->odt = FL[i].dt;
        c->s = FL[i].v;
        if (i == 8) shp(c, 1, BIG);
        else if (c->dim != 3) shp(c, 2, 3, 5);
        static const char *const names[] = {"zeros", "ones", "full", "scalar"};
        if (c->dim >= 2) lbl(c, "%s(%g)", names[c->dim], c->s);
        else lbl(c, "%s", names[c->dim]);
    }
    c = newc("fill", run_fill, ref_fill);
    c->odt = ST_F32;
    shp(c, 2, 0, 3);
    lbl(c, "zeros [0,3]");
    c = newc("fill", run_fill, ref_fill);
    c->dim = 4;
    c->odt = ST_F32;
    c->s = -2.5;
    shp(c, 2, 6, 8);
    ovw(c, V_SLICE, 4, 1, 1, 7, 2);
    lbl(c, "fill_ on a slice of zeros[6,8]");
    c = newc("fill", run_fill, ref_fill);
    c->dim = 4;
    c->odt = ST_I64;
    c->s = 5;
    shp(c, 2, 4, 6);
    ovw(c, V_T, 2, 0, 1);
    lbl(c, "fill_ on a transpose");
    struct {
        double a, b, s;
        st_dtype dt;
    } const AR[] = {{0, 10, 1, ST_F32},  {0, 1, 0.1, ST_F64}, {5, -3, -0.5, ST_F32}, {0, 7, 2, ST_I32},
                    {-5, 5, 3, ST_I64},   {3, 3, 1, ST_F32},   {0, 100000, 1, ST_F32}, {0.5, 2.5, 0.25, ST_F32}};
    for (size_t i = 0; i < sizeof AR / sizeof AR[0]; i++) {
        c = newc("arange", run_arange, ref_arange);
        c->s = AR[i].a;
        c->s2 = AR[i].b;
        c->s3 = AR[i].s;
        c->odt = AR[i].dt;
        lbl(c, "(%g,%g,%g) %s", c->s, c->s2, c->s3, st_dtype_name(c->odt));
    }
    c = newc("arange", run_arange, ref_arange);
    c->s3 = 0;
    c->s2 = 3;
    c->odt = ST_F32;
    c->expect = ST_E_INVALID_ARG;
    lbl(c, "(0,3,0)");
    /* rand / randn */
    struct {
        const char *op;
        st_dtype dt;
        int n;
    } const RN[] = {{"rand", ST_F32, 100000}, {"rand", ST_F64, 30001}, {"randn", ST_F32, 100000}, {"randn", ST_F64, 30001}};
    for (size_t i = 0; i < sizeof RN / sizeof RN[0]; i++) {
        c = newc(RN[i].op, NULL, NULL);
        c->custom = custom_random;
        c->odt = RN[i].dt;
        shp(c, 1, RN[i].n);
    }
    c = newc("rand", run_err_rand, NULL);
    c->odt = ST_I32;
    shp(c, 1, 4);
    c->expect = ST_E_DTYPE;
    lbl(c, "i32");
}

/* Ops that are tested by another program rather than here: none today. Add an entry
 * {"op", "where"} only with the name of the test that covers it. */
static const char *const COVERED_ELSEWHERE[][2] = {{NULL, NULL}};

static void build_cases(void) {
    elementwise_cases();
    reduce_cases();
    matmul_cases();
    softmax_cases();
    view_cases();
    index_cases();
    rankk_cases();
    creation_cases();
}

/* ================================================================ running */

typedef struct got {
    int nd;
    int64_t sh[ST_MAX_DIMS];
    st_dtype dt;
    double *v;
    st_status status;
    char err[256];
    bool wrong_device;
} got;

/* Run case c on dev with the given base inputs. false when the op failed (g->status). */
static bool exec_case(const tcase *c, st_device dev, const arr *base, got *g) {
    memset(g, 0, sizeof *g);
    st_tensor *tin[MAXIN] = {NULL};
    st_device prev = st_get_default_device();
    bool ok = true;
    for (int i = 0; i < c->nin && ok; i++) {
        tin[i] = make_input(&c->in[i], &base[i], dev);
        if (!tin[i]) {
            g->status = st_last_status();
            snprintf(g->err, sizeof g->err, "input %d: %s", i, st_last_error());
            ok = false;
        }
    }
    st_tensor *out = NULL;
    if (ok) {
        st_set_default_device(dev);
        st_clear_error();
        out = c->run(c, tin);
        st_set_default_device(prev);
        if (!out) {
            g->status = st_last_status();
            if (g->status == ST_OK) g->status = ST_E_INTERNAL;
            snprintf(g->err, sizeof g->err, "%s", st_last_error());
            ok = false;
        }
    }
    for (int i = 0; i < c->nin; i++) st_release(tin[i]);
    if (!ok) return false;
    g->nd = st_ndim(out);
    memcpy(g->sh, st_shape(out), (size_t)g->nd * sizeof(int64_t));
    g->dt = st_get_dtype(out);
    st_device od = st_get_device(out);
    g->wrong_device = od.kind != dev.kind || od.index != dev.index;
    int64_t n = st_numel(out);
    g->v = xmalloc((size_t)n * sizeof(double));
    if (st_to_host(out, ST_F64, g->v, (size_t)n * sizeof(double)) != ST_OK) {
        g->status = st_last_status();
        snprintf(g->err, sizeof g->err, "st_to_host: %s", st_last_error());
        st_release(out);
        return false;
    }
    st_release(out);
    return true;
}

/* Compare got against want (values in want_v, shape from r). Returns the worst
 * err/tol ratio (> 1 fails) and the largest absolute error. */
static double compare(const got *g, const double *want, const refres *r, tol t, double *max_abs, int64_t *worst) {
    int64_t n = arr_numel(&r->out);
    double u = unit_roundoff(r->dt), ratio = 0;
    *max_abs = 0;
    *worst = -1;
    for (int64_t i = 0; i < n; i++) {
        double a = g->v[i], b = want[i], e;
        if (isnan(a) || isnan(b)) e = isnan(a) && isnan(b) ? 0 : INFINITY;
        else if (isinf(a) || isinf(b)) e = a == b ? 0 : INFINITY;
        else e = fabs(a - b);
        double lim = t.abs + t.rel * fabs(b) + (t.kfac > 0 && r->scale.v ? t.kfac * u * r->K * r->scale.v[i] : 0);
        double q = e == 0 ? 0 : lim > 0 ? e / lim : INFINITY;
        if (e > *max_abs) *max_abs = e;
        if (q > ratio) {
            ratio = q;
            *worst = i;
        }
    }
    return ratio;
}

static const char *status_name(int s) {
    switch (s) {
#define ST_X_NAME(code, val, msg) \
    case val: return #code;
        ST_STATUS_LIST(ST_X_NAME)
#undef ST_X_NAME
    case EXPECT_ANY: return "any error";
    default: return "?";
    }
}

static void describe_inputs(const tcase *c, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < c->nin && k < cap; i++) {
        char s[96], v[96];
        fmt_shape(s, sizeof s, c->in[i].nd, c->in[i].sh);
        fmt_view(v, sizeof v, &c->in[i].v);
        const char *dn = i > 0 && c->in[i].dt != c->in[0].dt ? st_dtype_name(c->in[i].dt) : "";
        k += (size_t)snprintf(buf + k, cap - k, "%s%s%s%s%s", i ? " " : "", dn, *dn ? ":" : "", s, v);
    }
    if (c->nin == 0 && c->shn > 0 && k < cap) fmt_shape(buf, cap, c->shn, c->shp);
}

typedef struct totals {
    int passed, failed, skipped;
} totals;

static void report(totals *tt, bool ok, const char *be, const tcase *c, const char *dt, const char *shapes,
                   const char *tail) {
    if (ok) tt->passed++;
    else tt->failed++;
    printf("%-6s %-13s %-4s %-30s %-26s %s %s\n", be, c->op, dt, shapes, c->label, tail, ok ? "ok" : "FAIL");
    fflush(stdout);
}

static void run_case(totals *tt, int ci, st_device dev, uint64_t seed) {
    const tcase *c = &g_cases[ci];
    const char *be = st_backend_name(dev.kind);
    uint64_t cseed = seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(ci + 1));
    hrng rg = {cseed};
    (void)hr_next(&rg);
    char shapes[256], tail[512];
    describe_inputs(c, shapes, sizeof shapes);
    const char *dt = st_dtype_name(c->nin ? c->in[0].dt : c->odt);
    /* A backend need not hold every dtype (Vulkan: no f64): such cases (custom ones
     * too) are skipped and counted, never passed. odt is meaningful for creation,
     * conversion and rank-K cases; an unused odt is 0 (f32), which every backend holds. */
    for (int i = 0; i <= c->nin; i++) {
        st_dtype want_dt = i < c->nin ? c->in[i].dt : c->odt;
        if (!st_device_supports_dtype(dev, want_dt)) {
            tt->skipped++;
            printf("%-6s %-13s %-4s %-30s %-26s skipped: %s tensors are not supported on this device\n", be, c->op,
                   dt, shapes, c->label, st_dtype_name(want_dt));
            return;
        }
    }
    if (c->custom) {
        double err = 0, tl = 0;
        char detail[320];
        bool ok = c->custom(c, dev, cseed, detail, sizeof detail, &err, &tl);
        snprintf(tail, sizeof tail, "%s max_err=%.3g tol=%.3g", detail, err, tl);
        report(tt, ok, be, c, dt, shapes, tail);
        return;
    }
    arr base[MAXIN], in[MAXIN];
    for (int i = 0; i < c->nin; i++) {
        base[i] = gen_input(&c->in[i], &rg);
        in[i] = view_ref(&base[i], &c->in[i].v);
    }
    got g;
    bool ran = exec_case(c, dev, base, &g);
    if (c->expect != ST_OK) {
        bool ok = !ran && (c->expect == EXPECT_ANY || (int)g.status == c->expect);
        snprintf(tail, sizeof tail, "expect=%s got=%s max_err=0 tol=exact%s%s", status_name(c->expect),
                 ran ? "a result" : status_name((int)g.status), g_verbose && !ran ? " msg=" : "",
                 g_verbose && !ran ? g.err : "");
        report(tt, ok, be, c, dt, shapes, tail);
    } else {
        refres r;
        memset(&r, 0, sizeof r);
        r.K = 1;
        c->ref(c, in, &r);
        tol t = tol_for(c->op, r.dt);
        char ts[96];
        fmt_tol(ts, sizeof ts, t, r.K);
        bool ok = ran;
        const char *why = "";
        double max_abs = 0, ratio = 0;
        int64_t worst = -1;
        got cpu;
        memset(&cpu, 0, sizeof cpu);
        const double *want = r.out.v;
        if (!r.out.v) {
            ok = false;
            why = "reference: bad case";
        } else if (ok && dev.kind != ST_BACKEND_CPU) { /* other backends: against the CPU */
            st_device cd = {ST_BACKEND_CPU, 0};
            if (!exec_case(c, cd, base, &cpu)) {
                ok = false;
                why = "the CPU run failed";
            }
            want = cpu.v;
        }
        if (ok && t.rel < 0) {
            ok = false;
            why = "no tolerance entry for this op";
        } else if (ok) {
            bool shape_ok = g.nd == r.out.nd && !memcmp(g.sh, r.out.sh, (size_t)g.nd * sizeof(int64_t));
            if (!shape_ok) {
                char a[96], b[96];
                fmt_shape(a, sizeof a, g.nd, g.sh);
                fmt_shape(b, sizeof b, r.out.nd, r.out.sh);
                snprintf(g.err, sizeof g.err, "shape %s, expected %s", a, b);
                why = g.err;
                ok = false;
            } else if (g.dt != r.dt) {
                snprintf(g.err, sizeof g.err, "dtype %s, expected %s", st_dtype_name(g.dt), st_dtype_name(r.dt));
                why = g.err;
                ok = false;
            } else if (g.wrong_device) {
                why = "result on another device";
                ok = false;
            } else {
                ratio = compare(&g, want, &r, t, &max_abs, &worst);
                ok = ratio <= 1.0;
            }
        } else if (!ran) {
            why = g.err;
        }
        if (!ok && !*why) why = "values differ";
        snprintf(tail, sizeof tail, "max_err=%.3g err/tol=%.3g tol=%s%s%s", max_abs, ratio, ts, ok ? "" : " : ",
                 ok ? "" : why);
        report(tt, ok, be, c, dt, shapes, tail);
        if (!ok && g_verbose && worst >= 0) {
            int64_t co[ST_MAX_DIMS];
            unravel(worst, r.out.nd, r.out.sh, co);
            char s[128];
            fmt_shape(s, sizeof s, r.out.nd, co);
            printf("    worst at %s: got %.17g want %.17g (ref %.17g)\n", s, g.v[worst], want[worst], r.out.v[worst]);
        }
        arr_free(&r.out);
        arr_free(&r.scale);
        free(cpu.v);
    }
    free(g.v);
    for (int i = 0; i < c->nin; i++) {
        arr_free(&base[i]);
        arr_free(&in[i]);
    }
}

/* Every op of the table has a case (or is listed as covered elsewhere), and every case
 * names an op of the table. Returns the number of problems. */
static int check_coverage(void) {
    int bad = 0;
    for (int op = 0; op < st_op_count(); op++) {
        const char *name = st_op_name(op);
        bool found = false;
        for (int i = 0; i < g_ncases && !found; i++) found = !strcmp(g_cases[i].op, name);
        for (size_t i = 0; !found && COVERED_ELSEWHERE[i][0]; i++) found = !strcmp(COVERED_ELSEWHERE[i][0], name);
        if (!found) {
            printf("coverage: op '%s' of the op table has no test case in test-ops FAIL\n", name);
            bad++;
        }
    }
    for (int i = 0; i < g_ncases; i++) {
        bool found = false;
        for (int op = 0; op < st_op_count() && !found; op++) found = !strcmp(g_cases[i].op, st_op_name(op));
        if (!found) {
            printf("coverage: case %d names op '%s', which is not in the op table FAIL\n", i, g_cases[i].op);
            bad++;
        }
    }
    return bad;
}

static bool op_known(const char *name) {
    for (int op = 0; op < st_op_count(); op++)
        if (!strcmp(st_op_name(op), name)) return true;
    return false;
}
static bool op_selected(const char *list, const char *op) {
    if (!list) return true;
    size_t n = strlen(op);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, op, n)) return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}

static void usage(void) {
    fprintf(stderr, "usage: test-ops [--op NAME[,NAME]] [--backend NAME] [--seed S] [--verbose]\n"
                    "ops: ");
    for (int op = 0; op < st_op_count(); op++) fprintf(stderr, "%s%s", op ? "," : "", st_op_name(op));
    fprintf(stderr, "\n");
}

int main(int argc, char **argv) {
    const char *ops = NULL, *backend = NULL;
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16) ^ (uint64_t)clock();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--op") && i + 1 < argc) ops = argv[++i];
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc) backend = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            char *end;
            seed = strtoull(argv[++i], &end, 0);
            if (*end) {
                fprintf(stderr, "test-ops: --seed needs a number, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) g_verbose = true;
        else {
            usage();
            return !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ? 0 : 2;
        }
    }
    if (ops) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", ops);
        for (char *p = strtok(tmp, ","); p; p = strtok(NULL, ","))
            if (!op_known(p)) {
                fprintf(stderr, "test-ops: unknown op '%s'\n", p);
                usage();
                return 2;
            }
    }
    int want_kind = -1;
    if (backend) {
        st_device d;
        if (st_device_parse(backend, &d) != ST_OK) {
            fprintf(stderr, "test-ops: %s\n", st_last_error());
            return 2;
        }
        want_kind = (int)d.kind;
    }
    /* keep the library's own log quiet: failures are reported by the case lines */
    st_set_log_level(ST_LOG_ERROR);
    build_cases();
    printf("test-ops: seed=%llu (replay: test-ops --seed %llu), %d cases, %s\n", (unsigned long long)seed,
           (unsigned long long)seed, g_ncases, st_version());
    totals tt = {0, 0, 0};
    tt.failed += check_coverage();
    int nbe = 0;
    for (int k = 0; k < ST_NUM_BACKENDS; k++) {
        st_backend_kind kind = (st_backend_kind)k;
        if (want_kind >= 0 && k != want_kind) continue;
        char why[256] = "";
        if (!st_backend_compiled(kind)) {
            if (want_kind >= 0) printf("test-ops: backend %s is not compiled in\n", st_backend_name(kind));
            continue;
        }
        if (st_backend_device_count(kind, why, sizeof why) <= 0) {
            printf("test-ops: backend %s has no device (%s): skipped\n", st_backend_name(kind), why);
            continue;
        }
        st_device dev = {kind, 0};
        char desc[256] = "";
        st_device_describe(dev, desc, sizeof desc);
        printf("test-ops: backend %s: %s (reference: %s)\n", st_backend_name(kind), desc,
               kind == ST_BACKEND_CPU ? "float64 loops in test-ops" : "the cpu backend");
        nbe++;
        for (int i = 0; i < g_ncases; i++)
            if (op_selected(ops, g_cases[i].op)) run_case(&tt, i, dev, seed);
    }
    if (nbe == 0) {
        printf("test-ops: no backend with a device was selected\n");
        tt.failed++;
    }
    if (tt.failed) printf("test-ops: replay with: test-ops --seed %llu%s%s\n", (unsigned long long)seed, ops ? " --op " : "", ops ? ops : "");
    if (tt.skipped) printf("%d skipped (dtype not supported on the device)\n", tt.skipped);
    printf("%d passed, %d failed\n", tt.passed, tt.failed);
    return tt.failed ? 1 : 0;
}
