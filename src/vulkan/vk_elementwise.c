/* vk_elementwise.c — elementwise kernels of the Vulkan backend: unary, binary, where,
 * arange and random (shaders/elementwise.list).
 *
 * One shader per kind with a variant per dtype; the op (spec constant 1) and the
 * operand layout (spec constant 2) are specialisation constants rather than defines:
 * a pipeline is built (and cached) only for the (op, dtype, layout) triples a program
 * uses, the dead branches fold away at pipeline creation, and the manifest stays at 19
 * variants instead of ~200.
 *
 * Layouts (shaders/ew_common.glsl): every operand contiguous and 16-byte aligned ->
 * L_VEC (vec4/ivec4/i64vec2 grid-stride loop, the bandwidth path); one dim after
 * merging (e.g. a contiguous tensor with a broadcast scalar, a strided slice) -> L_LINE
 * with the strides in push constants; anything else -> L_GEOM with an uploaded
 * stvk_geom. The 32-bit indexing limit is checked here as in stvk_geom_prepare.
 *
 * Semantics are the CPU backend's (cpu_elementwise.c, cpu_backend.c): same dtype
 * tables, integer wrap/division rules, NaN rules, arange in double, Philox stream.
 * Invariants: dst never aliases an input; views have dst's shape.
 */
#include "vk_fns.h"

enum { L_GEOM = 0, L_LINE = 1, L_VEC = 2 };

/* Op codes of the shaders (unary.comp U_*, binary.comp B_*); -1: not an op of the kind. */
static int unary_code(st_op op) {
    switch (op) {
    case ST_OP_NEG: return 0;
    case ST_OP_EXP: return 1;
    case ST_OP_LOG: return 2;
    case ST_OP_SQRT: return 3;
    case ST_OP_ABS: return 4;
    case ST_OP_RELU: return 5;
    case ST_OP_GELU: return 6;
    case ST_OP_TANH: return 7;
    case ST_OP_SIGMOID: return 8;
    default: return -1;
    }
}
static int binary_code(st_op op) {
    static const st_op order[] = {ST_OP_ADD,     ST_OP_SUB,     ST_OP_MUL, ST_OP_DIV, ST_OP_POW, ST_OP_MAXIMUM, ST_OP_MINIMUM,
                                  ST_OP_EQ,      ST_OP_NE,      ST_OP_LT,  ST_OP_LE,  ST_OP_GT,  ST_OP_GE};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (order[i] == op) return i;
    return -1;
}

/* How a kernel walks its operands. */
typedef struct ew_plan {
    int layout;
    uint32_t n;
    uint64_t geom;      /* L_GEOM: device address of the stvk_geom */
    int32_t stride[4];  /* L_LINE */
    uint32_t vw;        /* elements per vector in L_VEC */
} ew_plan;

/* vec_ops: operands that move as 16-byte vectors in L_VEC (where's cond does not). */
static st_status ew_plan_make(int dev, const char *op, int nops, const st_kview *const *vs, uint32_t vec_ops,
                              ew_plan *p) {
    memset(p, 0, sizeof *p);
    int64_t numel = st_shape_numel(vs[0]->ndim, vs[0]->shape);
    for (int o = 0; o < nops; o++)
        if (numel > STVK_MAX_ELEMS || stvk_view_reach(vs[o]) > STVK_MAX_ELEMS)
            return st_err(ST_E_UNSUPPORTED, "%s: a tensor of more than 2^31 elements is beyond the vulkan backend's "
                                            "32-bit indexing", op);
    p->n = (uint32_t)numel;
    stvk_geom g;
    bool contig = stvk_geom_make(&g, nops, vs);
    if (contig) {
        bool aligned = true;
        for (int o = 0; o < nops; o++)
            if (vec_ops & (1u << o)) aligned = aligned && stvk_view_addr(vs[o]) % 16 == 0;
        if (aligned) {
            p->layout = L_VEC;
            p->vw = (uint32_t)(16 / st_dtype_size(vs[0]->dtype));
            return ST_OK;
        }
    }
    if (g.ndim == 1) {
        p->layout = L_LINE;
        for (int o = 0; o < nops; o++) p->stride[o] = (int32_t)g.strides[o][0];
        return ST_OK;
    }
    p->layout = L_GEOM;
    return stvk_upload_small(dev, &g, sizeof g, &p->geom);
}

static st_status ew_launch(int dev, const char *shader, int opcode, const ew_plan *p, const void *pc, uint32_t pcsize) {
    stvk_kernel k = {.shader = shader, .spec = {STVK_EW_WG, (uint32_t)opcode, (uint32_t)p->layout}, .nspec = 3};
    uint64_t items = p->layout == L_VEC ? (p->n + p->vw - 1) / p->vw : p->n;
    return stvk_dispatch_linear(dev, &k, stvk_groups_for(items, STVK_EW_WG, STVK_EW_MAX_GROUPS), pc, pcsize);
}

st_status stvk_unary(int dev, st_op op, const st_kview *dst, const st_kview *x) {
    const char *name = st_op_table[op].name;
    int dc = stvk_dtype_code(dev, dst->dtype, name);
    if (dc < 0) return st_last_status();
    int code = unary_code(op);
    bool int_ok = op == ST_OP_NEG || op == ST_OP_ABS || op == ST_OP_RELU;
    if (code < 0 || x->dtype != dst->dtype || (dc != STVK_DT_F32 && !int_ok))
        return st_err(ST_E_UNSUPPORTED, "vulkan: unary op %s is not available for %s", name, st_dtype_name(x->dtype));
    const st_kview *vs[2] = {dst, x};
    ew_plan p;
    st_status s = ew_plan_make(dev, name, 2, vs, 3u, &p);
    if (s != ST_OK || p.n == 0) return s;
    struct {
        uint64_t dst, x, geom;
        uint32_t n;
        int32_t sd, sx, pad;
    } pc = {stvk_view_addr(dst), stvk_view_addr(x), p.geom, p.n, p.stride[0], p.stride[1], 0};
    char shader[32];
    snprintf(shader, sizeof shader, "unary_%s", stvk_dt_suffix(dc));
    return ew_launch(dev, shader, code, &p, &pc, sizeof pc);
}

st_status stvk_binary(int dev, st_op op, const st_kview *dst, const st_kview *a, const st_kview *b) {
    const char *name = st_op_table[op].name;
    int dc = stvk_dtype_code(dev, dst->dtype, name);
    if (dc < 0) return st_last_status();
    int code = binary_code(op);
    if (code < 0 || a->dtype != dst->dtype || b->dtype != dst->dtype || (op == ST_OP_POW && dc != STVK_DT_F32))
        return st_err(ST_E_UNSUPPORTED, "vulkan: binary op %s is not available for %s", name,
                      st_dtype_name(dst->dtype));
    const st_kview *vs[3] = {dst, a, b};
    ew_plan p;
    st_status s = ew_plan_make(dev, name, 3, vs, 7u, &p);
    if (s != ST_OK || p.n == 0) return s;
    struct {
        uint64_t dst, a, b, geom;
        uint32_t n;
        int32_t sd, sa, sb;
    } pc = {stvk_view_addr(dst), stvk_view_addr(a), stvk_view_addr(b), p.geom, p.n, p.stride[0], p.stride[1],
            p.stride[2]};
    char shader[32];
    snprintf(shader, sizeof shader, "binary_%s", stvk_dt_suffix(dc));
    return ew_launch(dev, shader, code, &p, &pc, sizeof pc);
}

st_status stvk_where(int dev, const st_kview *dst, const st_kview *cond, const st_kview *a, const st_kview *b) {
    int dc = stvk_dtype_code(dev, dst->dtype, "where");
    int cc = dc < 0 ? -1 : stvk_dtype_code(dev, cond->dtype, "where");
    if (dc < 0 || cc < 0) return st_last_status();
    if (a->dtype != dst->dtype || b->dtype != dst->dtype)
        return st_err(ST_E_UNSUPPORTED, "vulkan: where: mismatched dtypes");
    const st_kview *vs[4] = {dst, cond, a, b};
    ew_plan p;
    st_status s = ew_plan_make(dev, "where", 4, vs, 0xdu, &p); /* dst, a, b as vectors */
    if (s != ST_OK || p.n == 0) return s;
    struct {
        uint64_t dst, cond, a, b, geom;
        uint32_t n;
        int32_t sd, sc, sa, sb, pad;
    } pc = {stvk_view_addr(dst), stvk_view_addr(cond), stvk_view_addr(a), stvk_view_addr(b), p.geom, p.n,
            p.stride[0],         p.stride[1],          p.stride[2],       p.stride[3],       0};
    char shader[32];
    snprintf(shader, sizeof shader, "where_%s_%s", stvk_dt_suffix(dc), stvk_dt_suffix(cc));
    return ew_launch(dev, shader, 0, &p, &pc, sizeof pc);
}

/* arange without shaderFloat64: the CPU's arithmetic on the host, then one upload. */
static st_status arange_host(int dev, const st_kview *dst, int64_t n, double start, double step) {
    size_t es = st_dtype_size(dst->dtype);
    char *buf = st_malloc((size_t)n * es);
    if (!buf) return st_last_status();
    for (int64_t i = 0; i < n; i++) {
        double v = start + (double)i * step;
        if (dst->dtype == ST_F32) ((float *)(void *)buf)[i] = (float)v;
        else if (dst->dtype == ST_I32) ((int32_t *)(void *)buf)[i] = (int32_t)v;
        else ((int64_t *)(void *)buf)[i] = (int64_t)v;
    }
    st_status s = stvk_write(dev, dst->handle, (size_t)dst->offset * es, buf, (size_t)n * es);
    st_free(buf);
    return s;
}

st_status stvk_arange(int dev, const st_kview *dst, double start, double step) {
    int dc = stvk_dtype_code(dev, dst->dtype, "arange");
    if (dc < 0) return st_last_status();
    int64_t n = dst->ndim ? dst->shape[0] : 1;
    if (n > STVK_MAX_ELEMS)
        return st_err(ST_E_UNSUPPORTED, "arange: a tensor of more than 2^31 elements is beyond the vulkan backend's "
                                        "32-bit indexing");
    if (n <= 0) return ST_OK;
    const stvk_caps *caps = stvk_caps_of(dev);
    if (!caps) return st_last_status();
    if (!caps->float64) return arange_host(dev, dst, n, start, step);
    struct {
        uint64_t dst;
        double start, step;
        uint32_t n, pad;
    } pc = {stvk_view_addr(dst), start, step, (uint32_t)n, 0};
    char shader[32];
    snprintf(shader, sizeof shader, "arange_%s", stvk_dt_suffix(dc));
    stvk_kernel k = {.shader = shader, .spec = {STVK_EW_WG}, .nspec = 1};
    return stvk_dispatch_linear(dev, &k, stvk_groups_for((uint64_t)n, STVK_EW_WG, STVK_EW_MAX_GROUPS), &pc, sizeof pc);
}

st_status stvk_random(int dev, st_op op, const st_kview *dst, uint64_t seed, uint64_t offset) {
    const char *name = op == ST_OP_RANDN ? "randn" : "rand";
    int dc = stvk_dtype_code(dev, dst->dtype, name);
    if (dc < 0) return st_last_status();
    if ((op != ST_OP_RAND && op != ST_OP_RANDN) || dc != STVK_DT_F32 || !st_kview_contiguous(dst))
        return st_err(ST_E_UNSUPPORTED, "vulkan: %s needs a contiguous f32 destination", name);
    int64_t n = st_shape_numel(dst->ndim, dst->shape);
    if (n > STVK_MAX_ELEMS)
        return st_err(ST_E_UNSUPPORTED, "%s: a tensor of more than 2^31 elements is beyond the vulkan backend's "
                                        "32-bit indexing", name);
    if (n == 0) return ST_OK;
    struct {
        uint64_t dst, seed, offset;
        uint32_t n, pad;
    } pc = {stvk_view_addr(dst), seed, offset, (uint32_t)n, 0};
    stvk_kernel k = {.shader = "random_f32", .spec = {STVK_EW_WG, op == ST_OP_RANDN ? 1u : 0u}, .nspec = 2};
    uint64_t blocks = ((uint64_t)n + 3) / 4;
    return stvk_dispatch_linear(dev, &k, stvk_groups_for(blocks, STVK_EW_WG, STVK_EW_MAX_GROUPS), &pc, sizeof pc);
}
