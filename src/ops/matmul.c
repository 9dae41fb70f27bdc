/* matmul.c — numpy.matmul semantics over the backend's batched [B,M,K]@[B,K,N] kernel.
 *
 * Rules: 1-D a is promoted to [1,K] and 1-D b to [K,1], and the added dim is removed
 * from the result; leading (batch) dims broadcast; 0-d operands are an error; float
 * dtypes only (integers are ST_E_DTYPE), f32 with f64 promotes to f64.
 * Batch dims are merged where a, b and the output all allow it; when more than one
 * batch dim remains, the kernel runs once per index of the outer ones.
 *
 * Autograd: ctx.op = ST_OP_MATMUL, n_inputs = 2, inputs = {a, b} as passed by the
 * caller (before any dtype promotion); no iargs.
 */
#include "op_common.h"

/* A dtype conversion that stays off the autograd tape (the op records itself). */
static st_tensor *raw_cast(st_tensor *t, st_dtype dt) {
    if (t->dtype == dt) return st_retain(t);
    st_tensor *out = st_new_like_dev(t, t->ndim, t->shape, dt);
    if (!out) return NULL;
    st_kview d = st_kview_of(out), s = st_kview_of(t);
    if (st_tensor_backend(t)->copy(st_tensor_device(t).index, &d, &s) != ST_OK) {
        st_release(out);
        return NULL;
    }
    return out;
}

static st_status check_args(st_tensor *a, st_tensor *b) {
    if (a->ndim == 0 || b->ndim == 0)
        return st_err(ST_E_SHAPE, "matmul: operands must have at least 1 dim, got %s and %s", st_tdesc(a),
                      st_tdesc2(b));
    if (!st_dtype_is_float(a->dtype) || !st_dtype_is_float(b->dtype))
        return st_err(ST_E_DTYPE, "matmul: needs float dtypes, got %s and %s", st_tdesc(a), st_tdesc2(b));
    if (st_check_same_device("matmul", a, b) != ST_OK) return st_last_status();
    int64_t ka = a->shape[a->ndim - 1], kb = b->shape[b->ndim == 1 ? 0 : b->ndim - 2];
    if (ka != kb)
        return st_err(ST_E_SHAPE, "matmul: shapes %s and %s are not aligned (inner dims %lld and %lld differ)",
                      st_tdesc(a), st_tdesc2(b), (long long)ka, (long long)kb);
    return ST_OK;
}

/* Geometry of one operand as (batch dims..., rows, cols) with strides. */
typedef struct mm_operand {
    int nb; /* batch dims */
    int64_t shape[ST_MAX_DIMS + 1], strides[ST_MAX_DIMS + 1];
} mm_operand;

static void operand_of(const st_tensor *t, bool is_b, mm_operand *o) {
    int n = t->ndim;
    if (n == 1) { /* [K] -> [1,K] for a, [K,1] for b */
        o->nb = 0;
        o->shape[0] = is_b ? t->shape[0] : 1;
        o->shape[1] = is_b ? 1 : t->shape[0];
        o->strides[0] = is_b ? t->strides[0] : 0;
        o->strides[1] = is_b ? 0 : t->strides[0];
        return;
    }
    o->nb = n - 2;
    for (int d = 0; d < n; d++) {
        o->shape[d] = t->shape[d];
        o->strides[d] = t->strides[d];
    }
}

/* Batch plan: broadcast batch dims, merged across a, b and the output. */
typedef struct mm_batch {
    int n;
    int64_t shape[ST_MAX_DIMS], sa[ST_MAX_DIMS], sb[ST_MAX_DIMS], sc[ST_MAX_DIMS];
} mm_batch;

static void batch_plan(const mm_operand *A, const mm_operand *B, int nb, const int64_t *bshape, int64_t MN,
                       mm_batch *P) {
    P->n = 0;
    int64_t sc = MN;
    int64_t sc_all[ST_MAX_DIMS];
    for (int d = nb - 1; d >= 0; d--) {
        sc_all[d] = sc;
        sc *= bshape[d];
    }
    for (int d = 0; d < nb; d++) {
        if (bshape[d] == 1) continue;
        int ia = A->nb - nb + d, ib = B->nb - nb + d;
        int64_t sa = (ia >= 0 && A->shape[ia] == bshape[d]) ? A->strides[ia] : 0;
        int64_t sb = (ib >= 0 && B->shape[ib] == bshape[d]) ? B->strides[ib] : 0;
        int k = P->n;
        if (k > 0 && P->sa[k - 1] == sa * bshape[d] && P->sb[k - 1] == sb * bshape[d] &&
            P->sc[k - 1] == sc_all[d] * bshape[d]) {
            P->shape[k - 1] *= bshape[d];
            P->sa[k - 1] = sa;
            P->sb[k - 1] = sb;
            P->sc[k - 1] = sc_all[d];
            continue;
        }
        P->shape[k] = bshape[d];
        P->sa[k] = sa;
        P->sb[k] = sb;
        P->sc[k] = sc_all[d];
        P->n++;
    }
}

/* Run the kernel once per index of the outer batch dims (all but the last merged one). */
static st_status run_kernel(st_tensor *a, st_tensor *b, st_tensor *out, const mm_operand *A, const mm_operand *B,
                            const mm_batch *P, int64_t M, int64_t K, int64_t N) {
    st_kview av = st_kview_of(a), bv = st_kview_of(b), cv = st_kview_of(out);
    int64_t ar = A->strides[A->nb], ac = A->strides[A->nb + 1], br = B->strides[B->nb], bc = B->strides[B->nb + 1];
    av.ndim = bv.ndim = cv.ndim = 3;
    int64_t bl = P->n ? P->shape[P->n - 1] : 1;
    int64_t av3[3] = {bl, M, K}, bv3[3] = {bl, K, N}, cv3[3] = {bl, M, N};
    int64_t as3[3] = {P->n ? P->sa[P->n - 1] : 0, ar, ac}, bs3[3] = {P->n ? P->sb[P->n - 1] : 0, br, bc},
            cs3[3] = {P->n ? P->sc[P->n - 1] : M * N, N, 1};
    memcpy(av.shape, av3, sizeof av3);
    memcpy(bv.shape, bv3, sizeof bv3);
    memcpy(cv.shape, cv3, sizeof cv3);
    memcpy(av.strides, as3, sizeof as3);
    memcpy(bv.strides, bs3, sizeof bs3);
    memcpy(cv.strides, cs3, sizeof cs3);
    int64_t outer = 1;
    for (int d = 0; d + 1 < P->n; d++) outer *= P->shape[d];
    int64_t a0 = av.offset, b0 = bv.offset, c0 = cv.offset;
    const st_backend *be = st_tensor_backend(out);
    int dev = st_tensor_device(out).index;
    for (int64_t o = 0; o < outer; o++) {
        int64_t r = o;
        av.offset = a0, bv.offset = b0, cv.offset = c0;
        for (int d = P->n - 2; d >= 0; d--) {
            int64_t i = r % P->shape[d];
            r /= P->shape[d];
            av.offset += i * P->sa[d];
            bv.offset += i * P->sb[d];
            cv.offset += i * P->sc[d];
        }
        st_status s = be->matmul(dev, &cv, &av, &bv);
        if (s != ST_OK) return s;
    }
    return ST_OK;
}

/* Output shape: batch + [M] (unless a was 1-D) + [N] (unless b was 1-D). */
static int out_shape(const st_tensor *a, const st_tensor *b, int nb, const int64_t *bshape, int64_t M, int64_t N,
                     int64_t *shape) {
    int n = 0;
    for (int d = 0; d < nb; d++) shape[n++] = bshape[d];
    if (a->ndim > 1) shape[n++] = M;
    if (b->ndim > 1) shape[n++] = N;
    return n;
}

static st_tensor *matmul_compute(st_tensor *a, st_tensor *b) {
    mm_operand A, B;
    operand_of(a, false, &A);
    operand_of(b, true, &B);
    int64_t M = A.shape[A.nb], K = A.shape[A.nb + 1], N = B.shape[B.nb + 1];
    int nb;
    int64_t bshape[ST_MAX_DIMS], oshape[ST_MAX_DIMS + 2];
    if (st_broadcast_shapes("matmul (batch dims)", A.nb, A.shape, B.nb, B.shape, &nb, bshape) != ST_OK) {
        st_err_prefix("matmul of %s and %s", st_tdesc(a), st_tdesc2(b));
        return NULL;
    }
    int ond = out_shape(a, b, nb, bshape, M, N, oshape);
    st_tensor *out = st_new_like_dev(a, ond, oshape, a->dtype);
    if (!out) return NULL;
    if (st_numel(out) == 0) return out;
    mm_batch P;
    batch_plan(&A, &B, nb, bshape, M * N, &P);
    if (run_kernel(a, b, out, &A, &B, &P, M, K, N) != ST_OK) {
        st_err_prefix("matmul of %s and %s", st_tdesc(a), st_tdesc2(b));
        st_release(out);
        return NULL;
    }
    return out;
}

st_tensor *st_matmul(st_tensor *a, st_tensor *b) {
    ST_CHECK_ARG("matmul", a);
    ST_CHECK_ARG("matmul", b);
    if (check_args(a, b) != ST_OK) return NULL;
    st_dtype dt = st_promote(a->dtype, b->dtype);
    st_tensor *ca = raw_cast(a, dt), *cb = ca ? raw_cast(b, dt) : NULL;
    st_tensor *out = cb ? matmul_compute(ca, cb) : NULL;
    st_release(ca);
    st_release(cb);
    if (!out) return NULL;
    st_tensor *ins[2] = {a, b};
    if (!st_grad_needed(ins, 2)) return out;
    st_grad_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.op = ST_OP_MATMUL;
    ctx.n_inputs = 2;
    ctx.inputs[0] = a;
    ctx.inputs[1] = b;
    return st_autograd_record(out, &ctx);
}
