/* vk_reduce.c — reductions (sum/mean/max/min over a mask of axes), argmax and
 * softmax/log_softmax on the Vulkan backend (shaders/rm_reduce.comp, rm_softmax.comp).
 *
 * Invariants and structure:
 * - A reduction is planned like the CPU's: kept dims (x and dst strides) x reduced dims
 *   (size-1 dims dropped, reduced dims by falling stride, neighbours merged), uploaded
 *   as an `rgeom`; every output reduces its n_red elements.
 * - Row mode: one workgroup per output with a tree (subgroup arithmetic when the device
 *   has it, else shared memory; ST_VULKAN_REDUCE_SHARED=1 forces shared memory). Column
 *   mode (short reductions, or the kept inner dim is the faster one in memory): one
 *   thread per output, reading sequentially. When there are too few outputs to fill the
 *   device, each output's range is cut into P chunks: pass 1 writes raw partials into
 *   pool scratch, pass 2 reduces them (two dispatches, no atomics: deterministic).
 * - Float max/min reduce order-preserving u32 keys (NaN wins as on the CPU); f32 sums
 *   accumulate in f32 per thread (<= a few thousand terms) then pairwise in the tree.
 *   Integer sums accumulate in i64 (wrapping). argmax reduces (key, index) pairs: the
 *   first maximum, the first NaN.
 * - Softmax: one workgroup per line (or one thread per line when lines are short or
 *   many and strided), max (NaN-propagating) then sum of exp then the write, with the
 *   CPU's formulas.
 * - 32-bit indexing: x, dst and n_out * n_red must stay below 2^31 elements.
 */
#include "vk_fns.h"

#include <math.h>

typedef struct rgeom {
    int32_t nk, nr, pad0, pad1;
    int64_t ks[ST_MAX_DIMS], kx[ST_MAX_DIMS], kd[ST_MAX_DIMS];
    int64_t rs[ST_MAX_DIMS], rx[ST_MAX_DIMS], rd[ST_MAX_DIMS];
} rgeom;

typedef struct rplan {
    rgeom g;
    int64_t n_out, n_red;
    bool colish; /* the innermost kept dim is faster in memory than the reduced one */
} rplan;

typedef struct rpc {
    uint64_t x, dst, geom;
    uint32_t n_out, n_red, chunk, P;
    float denom;
    uint32_t pad;
} rpc;

/* Plan of x reduced over mask into dst (dst_red: dst strides of the reduced dims are
 * kept too, for softmax, where dst has x's shape). */
static void plan_init(rplan *P, const st_kview *dst, const st_kview *x, uint32_t mask, bool dst_red) {
    memset(P, 0, sizeof *P);
    rgeom *g = &P->g;
    P->n_out = P->n_red = 1;
    int order[ST_MAX_DIMS], no = 0;
    int64_t *kstr[2] = {g->kx, g->kd}, *rstr[2] = {g->rx, g->rd};
    for (int d = 0; d < x->ndim; d++) {
        bool red = (mask >> d) & 1u;
        if (red) P->n_red *= x->shape[d];
        else P->n_out *= x->shape[d];
        if (x->shape[d] == 1) continue;
        if (!red) {
            int64_t s[2] = {x->strides[d], dst->strides[d]};
            g->nk = st_dims_push(g->nk, g->ks, kstr, 2, x->shape[d], s);
            continue;
        }
        int j = no++;
        while (j > 0 && x->strides[order[j - 1]] < x->strides[d]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = d;
    }
    for (int k = 0; k < no; k++) {
        int64_t s[2] = {x->strides[order[k]], dst_red ? dst->strides[order[k]] : 0};
        g->nr = st_dims_push(g->nr, g->rs, rstr, dst_red ? 2 : 1, x->shape[order[k]], s);
    }
    if (g->nr == 0) { /* reducing size-1 dims only: one element */
        g->nr = 1;
        g->rs[0] = 1;
        g->rx[0] = g->rd[0] = 1;
    }
    P->colish = g->nk > 0 && g->kx[g->nk - 1] < g->rx[g->nr - 1];
}

static st_status check32(const char *op, const st_kview *a, const st_kview *b, const rplan *P) {
    if (stvk_view_reach(a) > STVK_MAX_ELEMS || stvk_view_reach(b) > STVK_MAX_ELEMS || P->n_out * P->n_red > STVK_MAX_ELEMS)
        return st_err(ST_E_UNSUPPORTED, "%s: a tensor of more than 2^31 elements is beyond the vulkan backend's "
                                        "32-bit indexing", op);
    return ST_OK;
}

/* Whether the tree may use subgroup arithmetic on this device. */
static bool use_subgroups(int dev) {
    const stvk_caps *c = stvk_caps_of(dev);
    if (st_env_on("ST_VULKAN_REDUCE_SHARED")) return false;
    return c && c->subgroup_size > 0 && (c->subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
}

/* ---------------------------------------------------------------- launching */

/* One reduction pass: kind = the shader's base name; sg: it has a subgroup variant. */
typedef struct rpass {
    const char *kind;
    bool sg;
    uint32_t op;
    bool final, mean;
} rpass;

#define ROW_TARGET_GROUPS 1024   /* workgroups that keep a large GPU busy */
#define COL_TARGET_THREADS 65536 /* threads, likewise */
#define COL_WG 128

/* Chunking of n_red into P pieces (P = 1 when split is false). */
static void chunking(int64_t n_out, int64_t n_red, bool col, bool split, uint32_t *P, uint32_t *chunk) {
    int64_t p = 1;
    if (split && col && n_out < COL_TARGET_THREADS && n_red > 256) {
        p = (n_red + 63) / 64;
        int64_t want = (COL_TARGET_THREADS + n_out - 1) / n_out;
        if (p > want) p = want;
    } else if (split && !col && n_out < ROW_TARGET_GROUPS && n_red >= 8192) {
        p = (n_red + 4095) / 4096;
        int64_t want = (ROW_TARGET_GROUPS + n_out - 1) / n_out;
        if (p > want) p = want;
    }
    int64_t c = (n_red + p - 1) / p;
    if (c < 1) c = 1;
    *chunk = (uint32_t)c;
    *P = (uint32_t)((n_red + c - 1) / c);
}

static st_status launch(int dev, const rpass *rp, bool col, uint32_t wg, const rpc *pc) {
    char name[48];
    snprintf(name, sizeof name, "%s%s", rp->kind, (!col && rp->sg && use_subgroups(dev)) ? "_sg" : "");
    stvk_kernel k = {.shader = name,
                     .spec = {wg, rp->op, rp->final ? 1u : 0u, rp->mean ? 1u : 0u, col ? 1u : 0u},
                     .nspec = 5};
    uint64_t total = (uint64_t)pc->n_out * pc->P;
    uint64_t groups = col ? stvk_groups_for(total, wg, 1u << 20) : (total < (1u << 22) ? total : (1u << 22));
    return stvk_dispatch_linear(dev, &k, groups, pc, sizeof *pc);
}

static uint32_t row_wg(uint32_t chunk) { return chunk >= 4096 ? 256 : chunk >= 1024 ? 128 : 64; }

/* Runs pass 1 (x -> dst, or x -> partials -> dst when split). part_kind/part_size:
 * the variant and bytes per partial of pass 2. */
static st_status run_reduce(int dev, rplan *P, const st_kview *dst, const st_kview *x, const rpass *p1,
                            const rpass *p2, size_t part_size) {
    bool col = P->n_red <= 16 || (P->colish && P->n_out >= 256);
    uint32_t np, chunk;
    chunking(P->n_out, P->n_red, col, p2 != NULL, &np, &chunk);
    uint64_t geom;
    st_status s = stvk_upload_small(dev, &P->g, sizeof P->g, &geom);
    if (s != ST_OK) return s;
    rpc pc = {stvk_view_addr(x), stvk_view_addr(dst), geom, (uint32_t)P->n_out, (uint32_t)P->n_red, chunk, np,
              (float)P->n_red, 0};
    uint32_t wg = col ? COL_WG : row_wg(chunk);
    if (np == 1) return launch(dev, p1, col, wg, &pc);
    /* two passes: partials [n_out, P] (row) or [P, n_out] (column) */
    size_t bytes = (size_t)P->n_out * np * part_size;
    void *h;
    if ((s = stvk_buf_alloc(dev, bytes, &h)) != ST_OK) return s;
    rpass q = *p1;
    q.final = false;
    q.mean = false;
    pc.dst = stvk_addr(h, 0);
    s = launch(dev, &q, col, wg, &pc);
    if (s == ST_OK) {
        rplan P2 = *P;
        rgeom *g = &P2.g;
        int64_t st = col ? 1 : np;
        for (int d = g->nk - 1; d >= 0; d--) {
            g->kx[d] = st;
            st *= g->ks[d];
        }
        g->nr = 1;
        g->rs[0] = np;
        g->rx[0] = col ? P->n_out : 1;
        P2.n_red = np;
        bool col2 = np <= 16 || col;
        s = stvk_upload_small(dev, g, sizeof *g, &geom);
        rpc pc2 = {stvk_addr(h, 0), stvk_view_addr(dst), geom, (uint32_t)P->n_out, np, np, 1, (float)P->n_red, 0};
        if (s == ST_OK) s = launch(dev, p2, col2, col2 ? COL_WG : row_wg(np), &pc2);
    }
    stvk_buf_free(dev, h, bytes);
    return s;
}

/* ---------------------------------------------------------------- entries */

st_status stvk_reduce(int dev, st_op op, const st_kview *dst, const st_kview *x, uint32_t mask) {
    if (op != ST_OP_SUM && op != ST_OP_MEAN && op != ST_OP_MAX && op != ST_OP_MIN)
        return st_err(ST_E_INVALID_ARG, "vulkan reduce: op %s is not a reduction", st_op_table[op].name);
    int xc = stvk_dtype_code(dev, x->dtype, st_op_table[op].name);
    if (xc < 0 || stvk_dtype_code(dev, dst->dtype, st_op_table[op].name) < 0) return st_last_status();
    rplan P;
    plan_init(&P, dst, x, mask, false);
    if (P.n_out == 0) return ST_OK;
    if (P.n_red == 0) {
        if (op == ST_OP_MAX || op == ST_OP_MIN)
            return st_err(ST_E_SHAPE, "%s: cannot reduce over an empty axis", st_op_table[op].name);
        return stvk_fill(dev, dst, op == ST_OP_MEAN ? NAN : 0.0);
    }
    st_status s = check32(st_op_table[op].name, x, dst, &P);
    if (s != ST_OK) return s;
    bool sum = op == ST_OP_SUM || op == ST_OP_MEAN;
    uint32_t opc = sum ? 0 : op == ST_OP_MAX ? 1 : 2;
    rpass p1 = {.op = opc, .final = true, .mean = op == ST_OP_MEAN}, p2 = p1;
    size_t psz = 4;
    if (xc == STVK_DT_F32 && sum) {
        p1.kind = p2.kind = "rm_red_f32_f32";
        p1.sg = p2.sg = true;
    } else if (xc == STVK_DT_F32) {
        p1.kind = "rm_red_f32_key";
        p2.kind = "rm_red_key_key";
        p1.sg = p2.sg = true;
    } else if (xc == STVK_DT_I32 && sum) {
        p1.kind = "rm_red_i32_i64";
        p2.kind = "rm_red_i64_i64";
        psz = 8;
    } else if (xc == STVK_DT_I32) {
        p1.kind = p2.kind = "rm_red_i32_i32";
        p1.sg = p2.sg = true;
    } else {
        p1.kind = p2.kind = "rm_red_i64_i64";
        psz = 8;
    }
    p2.mean = p1.mean;
    return run_reduce(dev, &P, dst, x, &p1, &p2, psz);
}

st_status stvk_argmax(int dev, const st_kview *dst, const st_kview *x, int axis) {
    if (axis < 0 || axis >= x->ndim || dst->dtype != ST_I64)
        return st_err(ST_E_INVALID_ARG, "vulkan argmax: axis %d / dtype %s invalid", axis,
                      st_dtype_name(dst->dtype));
    int xc = stvk_dtype_code(dev, x->dtype, "argmax");
    if (xc < 0) return st_last_status();
    rplan P;
    plan_init(&P, dst, x, 1u << axis, false);
    if (P.n_out == 0) return ST_OK;
    if (P.n_red == 0) return st_err(ST_E_SHAPE, "argmax: cannot reduce over an empty axis");
    st_status s = check32("argmax", x, dst, &P);
    if (s != ST_OK) return s;
    rpass p1 = {.kind = xc == STVK_DT_F32 ? "rm_arg_f32" : xc == STVK_DT_I32 ? "rm_arg_i32" : "rm_arg_i64",
                .final = true};
    rpass p2 = {.kind = "rm_arg_pair", .final = true};
    return run_reduce(dev, &P, dst, x, &p1, &p2, 16);
}

st_status stvk_softmax(int dev, st_op op, const st_kview *dst, const st_kview *x, int dim) {
    if (dim < 0 || dim >= x->ndim || dst->dtype != x->dtype)
        return st_err(ST_E_INVALID_ARG, "vulkan %s: dim %d invalid", st_op_table[op].name, dim);
    if (x->dtype != ST_F32)
        return st_err(ST_E_DTYPE, "%s: the vulkan backend needs f32 (got %s)", st_op_table[op].name,
                      st_dtype_name(x->dtype));
    rplan P;
    plan_init(&P, dst, x, 1u << dim, true);
    if (P.n_out == 0 || P.n_red == 0) return ST_OK;
    st_status s = check32(st_op_table[op].name, x, dst, &P);
    if (s != ST_OK) return s;
    uint64_t geom;
    if ((s = stvk_upload_small(dev, &P.g, sizeof P.g, &geom)) != ST_OK) return s;
    bool col = P.n_red <= 32 || (P.colish && P.n_out >= 1024);
    uint32_t wg = col ? COL_WG : row_wg((uint32_t)P.n_red);
    char name[32];
    snprintf(name, sizeof name, "rm_softmax%s", (!col && use_subgroups(dev)) ? "_sg" : "");
    stvk_kernel k = {.shader = name,
                     .spec = {wg, op == ST_OP_LOG_SOFTMAX ? 1u : 0u, col ? 1u : 0u},
                     .nspec = 3};
    rpc pc = {stvk_view_addr(x), stvk_view_addr(dst), geom, (uint32_t)P.n_out, (uint32_t)P.n_red, 0, 1, 0, 0};
    uint64_t groups = col ? stvk_groups_for((uint64_t)P.n_out, wg, 1u << 20)
                          : ((uint64_t)P.n_out < (1u << 22) ? (uint64_t)P.n_out : (1u << 22));
    return stvk_dispatch_linear(dev, &k, groups, &pc, sizeof pc);
}
