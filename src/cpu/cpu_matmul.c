/* cpu_matmul.c — batched matrix product through CBLAS (OpenBLAS sgemm/dgemm).
 *
 * dst [B,M,N] = a [B,M,K] @ b [B,K,N]; all three share one float dtype (the op layer
 * promotes and rejects integers). Batch strides may be 0 (broadcast operands).
 * Invariants:
 * - An operand whose matrix strides BLAS can describe (row-major with a leading
 *   dimension, or its transpose) is passed as is: no copy for contiguous or transposed
 *   inputs. Anything else (stride-0 inner dims, odd slices) is packed once into a
 *   contiguous scratch buffer. dst is written directly when row-major, else through a
 *   scratch buffer and a strided copy.
 * - When b is shared by every batch (batch stride 0 or B == 1) and a and dst stack
 *   their batches densely, the batches fold into one [B*M,K] @ [K,N] call.
 * - OpenBLAS runs with st_cpu_threads() threads (set before each call when it changed).
 */
#include "cpu.h"

#include <cblas.h>

/* How BLAS sees one [rows, cols] matrix with strides (s0, s1). */
typedef struct mat_desc {
    bool trans; /* stored as its transpose (column-major) */
    int64_t ld;
} mat_desc;

/* Describe a matrix for BLAS; false when its strides do not fit. */
static bool mat_layout(int64_t rows, int64_t cols, int64_t s0, int64_t s1, mat_desc *m) {
    if ((cols <= 1 || s1 == 1) && (rows <= 1 || s0 >= cols)) {
        m->trans = false;
        m->ld = rows <= 1 ? (cols > 1 ? cols : 1) : s0;
        return m->ld >= 1 && m->ld >= cols;
    }
    if ((rows <= 1 || s0 == 1) && (cols <= 1 || s1 >= rows)) {
        m->trans = true;
        m->ld = cols <= 1 ? (rows > 1 ? rows : 1) : s1;
        return m->ld >= 1 && m->ld >= rows;
    }
    return false;
}

static void blas_threads(void) {
    int want = st_cpu_threads();
    if (openblas_get_num_threads() != want) openblas_set_num_threads(want);
}

/* A packed contiguous copy of a 3-D view (kept batch stride 0 stays one matrix). */
static void *pack(const st_kview *v, st_kview *out) {
    st_kview c = *v;
    if (c.strides[0] == 0) c.shape[0] = 1;
    int64_t n = c.shape[0] * c.shape[1] * c.shape[2];
    size_t bytes = (size_t)n * st_dtype_size(v->dtype);
    void *buf = st_malloc_aligned(bytes ? bytes : 64, 64);
    if (!buf) return NULL;
    st_kview d = c;
    d.handle = buf;
    d.offset = 0;
    d.strides[2] = 1;
    d.strides[1] = c.shape[2];
    d.strides[0] = c.shape[1] * c.shape[2];
    st_cpu_copy(0, &d, &c);
    if (v->strides[0] == 0) d.strides[0] = 0;
    d.shape[0] = v->shape[0];
    *out = d;
    return buf;
}

static void gemm(st_dtype dt, const mat_desc *ma, const mat_desc *mb, int64_t M, int64_t N, int64_t K,
                 const char *a, const char *b, char *c, int64_t ldc) {
    enum CBLAS_TRANSPOSE ta = ma->trans ? CblasTrans : CblasNoTrans, tb = mb->trans ? CblasTrans : CblasNoTrans;
    if (dt == ST_F32)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0f, (const float *)(const void *)a, (int)ma->ld,
                    (const float *)(const void *)b, (int)mb->ld, 0.0f, (float *)(void *)c, (int)ldc);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0, (const double *)(const void *)a, (int)ma->ld,
                    (const double *)(const void *)b, (int)mb->ld, 0.0, (double *)(void *)c, (int)ldc);
}

/* All operands BLAS-describable; c is row-major with leading dimension ldc. */
static void run_batches(const st_kview *a, const st_kview *b, const st_kview *c, const mat_desc *ma,
                        const mat_desc *mb, int64_t ldc) {
    int64_t B = c->shape[0], M = c->shape[1], N = c->shape[2], K = a->shape[2];
    int64_t z = (int64_t)st_dtype_size(c->dtype);
    bool fold = B > 1 && (b->strides[0] == 0) && !ma->trans && a->strides[0] == M * ma->ld && c->strides[0] == M * ldc;
    if (fold) {
        M *= B;
        B = 1;
    }
    blas_threads();
    for (int64_t i = 0; i < B; i++)
        gemm(c->dtype, ma, mb, M, N, K, st_cpu_base(a) + i * a->strides[0] * z, st_cpu_base(b) + i * b->strides[0] * z,
             st_cpu_base(c) + i * c->strides[0] * z, ldc);
}

static bool too_big(const st_kview *v) {
    for (int d = 0; d < 3; d++)
        if (v->shape[d] > INT32_MAX || v->strides[d] > INT32_MAX) return true;
    return false;
}

st_status st_cpu_matmul(int dev, const st_kview *dst, const st_kview *a, const st_kview *b) {
    (void)dev;
    st_dtype dt = dst->dtype;
    if ((dt != ST_F32 && dt != ST_F64) || a->dtype != dt || b->dtype != dt || a->ndim != 3 || b->ndim != 3 ||
        dst->ndim != 3)
        return st_err(ST_E_INVALID_ARG, "cpu matmul: needs 3-D views of one float dtype (got %s, %s -> %s)",
                      st_dtype_name(a->dtype), st_dtype_name(b->dtype), st_dtype_name(dt));
    int64_t B = dst->shape[0], M = dst->shape[1], N = dst->shape[2], K = a->shape[2];
    if (B == 0 || M == 0 || N == 0) return ST_OK;
    if (K == 0) return st_cpu_fill(dev, dst, 0.0);
    if (too_big(a) || too_big(b) || too_big(dst))
        return st_err(ST_E_UNSUPPORTED, "matmul: dimensions beyond 2^31 are not supported by CBLAS");
    st_kview av = *a, bv = *b, cv = *dst;
    void *abuf = NULL, *bbuf = NULL, *cbuf = NULL;
    mat_desc ma, mb, mc;
    st_status s = ST_OK;
    if (!mat_layout(M, K, a->strides[1], a->strides[2], &ma)) {
        if (!(abuf = pack(a, &av))) return st_last_status();
        mat_layout(M, K, av.strides[1], av.strides[2], &ma);
    }
    if (!mat_layout(K, N, b->strides[1], b->strides[2], &mb)) {
        if (!(bbuf = pack(b, &bv))) s = st_last_status();
        else mat_layout(K, N, bv.strides[1], bv.strides[2], &mb);
    }
    bool c_ok = mat_layout(M, N, dst->strides[1], dst->strides[2], &mc) && !mc.trans;
    if (s == ST_OK && !c_ok) {
        st_kview tmp = *dst;
        tmp.strides[2] = 1;
        tmp.strides[1] = N;
        tmp.strides[0] = M * N;
        size_t bytes = (size_t)(B * M * N) * st_dtype_size(dt);
        if (!(cbuf = st_malloc_aligned(bytes, 64))) s = st_last_status();
        tmp.handle = cbuf;
        tmp.offset = 0;
        cv = tmp;
        mc.ld = N;
    }
    if (s == ST_OK) {
        run_batches(&av, &bv, &cv, &ma, &mb, mc.ld);
        if (cbuf) st_cpu_copy(dev, dst, &cv);
    }
    st_free(abuf);
    st_free(bbuf);
    st_free(cbuf);
    return s;
}
