/* cpu_elementwise.c — CPU kernels for the elementwise ops: unary, binary and where.
 *
 * Shape of the code: every (op, dtype) pair has one "row" function that processes n
 * elements along one strided line (p[0] = dst, p[1..] = inputs; strides in elements).
 * A row function picks its loop once per row — all contiguous, one input broadcast
 * (stride 0), or general strided — so the hot loops carry no per-element switch or
 * offset arithmetic and GCC vectorises them; the f32/f64 rows are compiled for
 * AVX-512, AVX2 and baseline x86-64 (target_clones, chosen at load time). ew_run()
 * walks the collapsed iteration space (st_iter) and splits long rows into chunks that
 * OpenMP threads share.
 *
 * f32 exp/log/tanh/sigmoid/gelu are our own branch-free range reductions and
 * polynomials (coefficients fitted offline by Chebyshev approximation with mpmath,
 * rounded to f32), so they vectorise; they are within a few ulp (gelu: 1e-6 absolute)
 * and handle inf/NaN/overflow/underflow/denormals. No FMA contraction is used, so
 * every clone gives bit-identical results. f32 sqrt uses the hardware instruction
 * (correctly rounded). f64 uses libm.
 *
 * Semantics: integer add/sub/mul/neg/abs wrap (computed in unsigned: no UB); integer
 * div truncates toward zero, x/0 = 0 and MIN/-1 = MIN; maximum/minimum propagate NaN;
 * relu keeps NaN; comparisons write 0/1 in dst's dtype; pow exists for floats only.
 *
 * Invariants: dst is freshly allocated and never aliases an input (rows use restrict);
 * all views have dst's shape (broadcast already resolved by the op layer).
 */
#if defined(__GNUC__) && !defined(__clang__)
/* We never read floating-point exception flags; without trapping math GCC may
 * if-convert float selects (x < a ? a : x) and so vectorise them on AVX2/SSE too. */
#pragma GCC optimize("no-trapping-math")
#endif

#include "cpu.h"

#include <math.h>

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && __has_attribute(target)
#define ST_EW_X86 1
#include <immintrin.h>
#endif
#endif

#ifdef ST_EW_X86
#define ST_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ST_SIMD
#endif
#define ST_PLAIN

typedef void (*ew_row)(int64_t n, char *const *p, const int64_t *s);

/* ---------------------------------------------------------------- f32 math */

static inline uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* e^(hi + lo), |lo| << 1. k = round(hi/ln2); r = hi - k ln2 (Cody-Waite: k*LN2_HI is
 * exact) + lo; e^r = 1 + r + r^2 P(r) on |r| <= ln2/2 (rel err 1e-8); the result is
 * scaled by 2^k in two halves so that both factors stay normal and only the final
 * product rounds (correct gradual underflow). Clamping hi to [-104, 89] makes overflow
 * give inf and underflow 0 by plain arithmetic; NaN flows through. */
static inline float exp2parts_f32(float hi, float lo) {
    hi = hi < -104.0f ? -104.0f : hi;
    hi = hi > 89.0f ? 89.0f : hi;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float t = hi * 1.44269504088896341f + magic;
    float kf = t - magic;
    int32_t k = (int32_t)(f2u(t) - f2u(magic)); /* integer bits, no float->int UB on NaN */
    float r = hi - kf * 0.693359375f;
    r = (r - kf * -2.12194440e-4f) + lo;
    float q = 1.392617589e-03f;
    q = q * r + 8.363173343e-03f;
    q = q * r + 4.166655615e-02f;
    q = q * r + 1.666657776e-01f;
    q = q * r + 5.000000000e-01f;
    float p = 1.0f + (r + r * r * q);
    int32_t k1 = k / 2, k2 = k - k1;
    return p * u2f((uint32_t)(k1 + 127) << 23) * u2f((uint32_t)(k2 + 127) << 23);
}

static inline float exp_f32(float x) { return exp2parts_f32(x, 0.0f); }

/* x = 2^k m, m in [sqrt(1/2), sqrt(2)); f = m - 1 (exact); s = f/(2+f);
 * log(1+f) = f - hf + s (hf + R), hf = f^2/2, R = 2 s^2 Q(s^2) (the atanh series).
 * Denormals are scaled by 2^23 first; 0 -> -inf, x < 0 -> NaN, inf -> inf. */
static inline float log_f32(float x) {
    bool sub = x < 0x1p-126f;
    uint32_t ix = sub ? f2u(x * 0x1p23f) : f2u(x);
    int32_t eadj = sub ? -23 : 0;
    ix += 0x3f800000u - 0x3f3504f3u;
    int32_t k = (int32_t)(ix >> 23) - 127 + eadj;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    float f = u2f(ix) - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float q = 2.0f * 1.166523397e-01f;
    q = q * z + 2.0f * 1.427541077e-01f;
    q = q * z + 2.0f * 2.000006139e-01f;
    q = q * z + 2.0f * 3.333333433e-01f;
    float R = z * q;
    float hf = 0.5f * f * f;
    float kf = (float)k;
    float r = kf * 0.693359375f + (f - (hf - (s * (hf + R) + kf * -2.12194440e-4f)));
    float special = x == 0.0f ? -INFINITY : (x == INFINITY ? x : NAN);
    return (x > 0.0f && x < INFINITY) ? r : special;
}

/* |x| < 0.625: x + x w T(w), w = x^2. Else 1 - 2/(e^{2|x|} + 1) with x's sign:
 * saturates to +-1 once e^{2|x|} overflows; NaN flows through the second form. */
static inline float tanh_f32(float x) {
    float ax = fabsf(x);
    float w = x * x;
    float q = 2.292744815e-03f;
    q = q * w + -8.343945257e-03f;
    q = q * w + 2.176891826e-02f;
    q = q * w + -5.395925790e-02f;
    q = q * w + 1.333330423e-01f;
    q = q * w + -3.333333433e-01f;
    float small = x + x * (w * q);
    float e = exp_f32(2.0f * ax);
    float big = copysignf(1.0f - 2.0f / (e + 1.0f), x);
    return ax < 0.625f ? small : big;
}

/* e = e^{-|x|} never overflows: 1/(1+e) for x >= 0, e/(1+e) below (keeps denormal
 * results in the far negative tail). */
static inline float sigmoid_f32(float x) {
    float e = exp_f32(-fabsf(x));
    float d = 1.0f + e;
    return x >= 0.0f ? 1.0f / d : e / d;
}

/* gelu(x) = x Phi(x), Phi(x) = (1 + erf(z))/2, z = x/sqrt2.
 * |z| < 1: erf(z) = z E(z^2). |z| >= 1: erfc(|z|) = e^{-z^2} t H(t), t = 1/(1+|z|/2),
 * with z^2 = x^2/2 split exactly (xh keeps 12 bits, so xh^2 is exact) so that the
 * negative tail keeps its relative accuracy. Beyond |x| = 10 / 20 the limits x and -0
 * are returned directly (they also cover +-inf). */
static inline float gelu_f32(float x) {
    float z = x * 0.70710678118654752f;
    float az = fabsf(z);
    float w = z * z;
    float e = 7.875874871e-05f;
    e = e * w + -8.016864303e-04f;
    e = e * w + 5.189087242e-03f;
    e = e * w + -2.685421146e-02f;
    e = e * w + 1.128359437e-01f;
    e = e * w + -3.761262596e-01f;
    e = e * w + 1.128379107e+00f;
    float phi_mid = 0.5f + 0.5f * (z * e);
    float t = 1.0f / (1.0f + 0.5f * az);
    float h = 1.837423258e-02f;
    h = h * t + 4.265218601e-02f;
    h = h * t + -1.698749363e-01f;
    h = h * t + 5.120594054e-02f;
    h = h * t + 6.934960932e-02f;
    h = h * t + 1.783000678e-01f;
    h = h * t + 2.466988415e-01f;
    h = h * t + 2.820982039e-01f;
    h = h * t + 2.820947766e-01f;
    float xh = u2f(f2u(x) & 0xfffff000u);
    float xl = x - xh;
    float g = exp2parts_f32(-0.5f * (xh * xh), -0.5f * (xl * (x + xh)));
    float erfc_az = g * (t * h);
    float phi_tail = x > 0.0f ? 1.0f - 0.5f * erfc_az : 0.5f * erfc_az;
    float r = x * (az < 1.0f ? phi_mid : phi_tail);
    r = x > 10.0f ? x : r;
    return x < -20.0f ? -0.0f : r;
}

/* ---------------------------------------------------------------- f64 math (libm) */

static inline double sigmoid_d(double x) {
    double e = exp(-fabs(x));
    return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
static inline double gelu_d(double x) { /* the limit -0 below -40 (also for -inf) */
    return x < -40.0 ? -0.0 : 0.5 * x * erfc(-x * 0.70710678118654752440);
}

/* ---------------------------------------------------------------- row templates */

#define EW_UNARY(NAME, ATTR, T, EXPR)                                                   \
    static ATTR void NAME(int64_t n, char *const *p, const int64_t *s) {               \
        T *restrict d = (T *)(void *)p[0];                                              \
        const T *restrict a = (const T *)(const void *)p[1];                           \
        if (s[0] == 1 && s[1] == 1) {                                                   \
            for (int64_t i = 0; i < n; i++) {                                           \
                T x = a[i];                                                             \
                d[i] = (EXPR);                                                          \
            }                                                                           \
        } else {                                                                        \
            int64_t ds = s[0], as = s[1];                                               \
            for (int64_t i = 0; i < n; i++) {                                           \
                T x = a[i * as];                                                        \
                d[i * ds] = (EXPR);                                                     \
            }                                                                           \
        }                                                                               \
    }

#define EW_BINARY(NAME, ATTR, T, EXPR)                                                  \
    static ATTR void NAME(int64_t n, char *const *p, const int64_t *s) {               \
        T *restrict d = (T *)(void *)p[0];                                              \
        const T *restrict a = (const T *)(const void *)p[1];                           \
        const T *restrict b = (const T *)(const void *)p[2];                           \
        if (s[0] == 1 && s[1] == 1 && s[2] == 1) {                                      \
            for (int64_t i = 0; i < n; i++) {                                           \
                T x = a[i], y = b[i];                                                   \
                d[i] = (EXPR);                                                          \
            }                                                                           \
        } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {                               \
            const T x = a[0];                                                           \
            for (int64_t i = 0; i < n; i++) {                                           \
                T y = b[i];                                                             \
                d[i] = (EXPR);                                                          \
            }                                                                           \
        } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {                               \
            const T y = b[0];                                                           \
            for (int64_t i = 0; i < n; i++) {                                           \
                T x = a[i];                                                             \
                d[i] = (EXPR);                                                          \
            }                                                                           \
        } else {                                                                        \
            int64_t ds = s[0], as = s[1], bs = s[2];                                    \
            for (int64_t i = 0; i < n; i++) {                                           \
                T x = a[i * as], y = b[i * bs];                                         \
                d[i * ds] = (EXPR);                                                     \
            }                                                                           \
        }                                                                               \
    }

/* ---------------------------------------------------------------- binary rows */

#define EW_FLOAT_BINARY(T, S)                                                \
    EW_BINARY(add_##S, ST_SIMD, T, x + y)                                     \
    EW_BINARY(sub_##S, ST_SIMD, T, x - y)                                     \
    EW_BINARY(mul_##S, ST_SIMD, T, x * y)                                     \
    EW_BINARY(div_##S, ST_SIMD, T, x / y)                                     \
    EW_BINARY(maximum_##S, ST_SIMD, T, (x > y || x != x) ? x : y)             \
    EW_BINARY(minimum_##S, ST_SIMD, T, (x < y || x != x) ? x : y)

/* Integer division: C truncation, with the two undefined cases given values. */
#define EW_IDIV(T, U) (y == 0 ? (T)0 : y == -1 ? (T)(0u - (U)x) : (T)(x / y))

#define EW_INT_BINARY(T, U, S)                                               \
    EW_BINARY(add_##S, ST_PLAIN, T, (T)((U)x + (U)y))                         \
    EW_BINARY(sub_##S, ST_PLAIN, T, (T)((U)x - (U)y))                         \
    EW_BINARY(mul_##S, ST_PLAIN, T, (T)((U)x * (U)y))                         \
    EW_BINARY(div_##S, ST_PLAIN, T, EW_IDIV(T, U))                            \
    EW_BINARY(maximum_##S, ST_PLAIN, T, x > y ? x : y)                        \
    EW_BINARY(minimum_##S, ST_PLAIN, T, x < y ? x : y)

#define EW_COMPARE(T, S)                                                     \
    EW_BINARY(eq_##S, ST_PLAIN, T, (T)(x == y))                               \
    EW_BINARY(ne_##S, ST_PLAIN, T, (T)(x != y))                               \
    EW_BINARY(lt_##S, ST_PLAIN, T, (T)(x < y))                                \
    EW_BINARY(le_##S, ST_PLAIN, T, (T)(x <= y))                               \
    EW_BINARY(gt_##S, ST_PLAIN, T, (T)(x > y))                                \
    EW_BINARY(ge_##S, ST_PLAIN, T, (T)(x >= y))

EW_FLOAT_BINARY(float, f32)
EW_FLOAT_BINARY(double, f64)
EW_INT_BINARY(int32_t, uint32_t, i32)
EW_INT_BINARY(int64_t, uint64_t, i64)
EW_COMPARE(float, f32)
EW_COMPARE(double, f64)
EW_COMPARE(int32_t, i32)
EW_COMPARE(int64_t, i64)

/* pow: a broadcast exponent of 2 (x**2, common in losses) is a multiply, exactly
 * what powf returns; everything else goes through libm. */
#define EW_POW(NAME, T, POWFN)                                                      \
    static void NAME(int64_t n, char *const *p, const int64_t *s) {                 \
        T *restrict d = (T *)(void *)p[0];                                          \
        const T *restrict a = (const T *)(const void *)p[1];                       \
        const T *restrict b = (const T *)(const void *)p[2];                       \
        int64_t ds = s[0], as = s[1], bs = s[2];                                    \
        if (bs == 0 && b[0] == (T)2) {                                              \
            for (int64_t i = 0; i < n; i++) d[i * ds] = a[i * as] * a[i * as];      \
            return;                                                                 \
        }                                                                           \
        for (int64_t i = 0; i < n; i++) d[i * ds] = POWFN(a[i * as], b[i * bs]);    \
    }
EW_POW(pow_f32, float, powf)
EW_POW(pow_f64, double, pow)

/* ---------------------------------------------------------------- unary rows */

EW_UNARY(neg_f32, ST_SIMD, float, -x)
EW_UNARY(abs_f32, ST_SIMD, float, fabsf(x))
EW_UNARY(relu_f32, ST_SIMD, float, (x > 0.0f || x != x) ? x : 0.0f)
EW_UNARY(exp_f32_row, ST_SIMD, float, exp_f32(x))
EW_UNARY(log_f32_row, ST_SIMD, float, log_f32(x))
EW_UNARY(tanh_f32_row, ST_SIMD, float, tanh_f32(x))
EW_UNARY(sigmoid_f32_row, ST_SIMD, float, sigmoid_f32(x))
EW_UNARY(gelu_f32_row, ST_SIMD, float, gelu_f32(x))

EW_UNARY(neg_f64, ST_SIMD, double, -x)
EW_UNARY(abs_f64, ST_SIMD, double, fabs(x))
EW_UNARY(relu_f64, ST_SIMD, double, (x > 0.0 || x != x) ? x : 0.0)
EW_UNARY(exp_f64, ST_PLAIN, double, exp(x))
EW_UNARY(log_f64, ST_PLAIN, double, log(x))
EW_UNARY(sqrt_f64_plain, ST_PLAIN, double, sqrt(x))
EW_UNARY(tanh_f64, ST_PLAIN, double, tanh(x))
EW_UNARY(sigmoid_f64, ST_PLAIN, double, sigmoid_d(x))
EW_UNARY(gelu_f64, ST_PLAIN, double, gelu_d(x))

#define EW_INT_UNARY(T, U, S)                                                     \
    EW_UNARY(neg_##S, ST_PLAIN, T, (T)(0u - (U)x))                                 \
    EW_UNARY(abs_##S, ST_PLAIN, T, x < 0 ? (T)(0u - (U)x) : x)                     \
    EW_UNARY(relu_##S, ST_PLAIN, T, x < 0 ? (T)0 : x)
EW_INT_UNARY(int32_t, uint32_t, i32)
EW_INT_UNARY(int64_t, uint64_t, i64)

/* sqrt: libm's sqrt may set errno, which stops GCC from vectorising it (and
 * per-function -fno-math-errno is not honoured), so the contiguous f32/f64 rows use
 * the SQRTPS/SQRTPD instructions directly, chosen by the CPU at run time. */
EW_UNARY(sqrt_f32_plain, ST_PLAIN, float, sqrtf(x))

#ifdef ST_EW_X86
__attribute__((target("avx512f"))) static void sqrt_f32_avx512(int64_t n, float *d, const float *a) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(d + i, _mm512_sqrt_ps(_mm512_loadu_ps(a + i)));
    __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
    if (m) _mm512_mask_storeu_ps(d + i, m, _mm512_sqrt_ps(_mm512_maskz_loadu_ps(m, a + i)));
}
__attribute__((target("avx2"))) static void sqrt_f32_avx2(int64_t n, float *d, const float *a) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_sqrt_ps(_mm256_loadu_ps(a + i)));
    for (; i < n; i++) _mm_store_ss(d + i, _mm_sqrt_ss(_mm_load_ss(a + i)));
}
static void sqrt_f32_sse(int64_t n, float *d, const float *a) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_sqrt_ps(_mm_loadu_ps(a + i)));
    for (; i < n; i++) _mm_store_ss(d + i, _mm_sqrt_ss(_mm_load_ss(a + i)));
}
__attribute__((target("avx512f"))) static void sqrt_f64_avx512(int64_t n, double *d, const double *a) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm512_storeu_pd(d + i, _mm512_sqrt_pd(_mm512_loadu_pd(a + i)));
    __mmask8 m = (__mmask8)((1u << (n - i)) - 1u);
    if (m) _mm512_mask_storeu_pd(d + i, m, _mm512_sqrt_pd(_mm512_maskz_loadu_pd(m, a + i)));
}
static void sqrt_f64_sse(int64_t n, double *d, const double *a) {
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) _mm_storeu_pd(d + i, _mm_sqrt_pd(_mm_loadu_pd(a + i)));
    if (i < n) _mm_store_sd(d + i, _mm_sqrt_sd(_mm_setzero_pd(), _mm_load_sd(a + i)));
}

static int x86_level(void) { /* 2: AVX-512F, 1: AVX2, 0: SSE2 */
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
}

static void sqrt_f32_row(int64_t n, char *const *p, const int64_t *s) {
    if (s[0] != 1 || s[1] != 1) {
        sqrt_f32_plain(n, p, s);
        return;
    }
    float *d = (float *)(void *)p[0];
    const float *a = (const float *)(const void *)p[1];
    int lvl = x86_level();
    if (lvl == 2) sqrt_f32_avx512(n, d, a);
    else if (lvl == 1) sqrt_f32_avx2(n, d, a);
    else sqrt_f32_sse(n, d, a);
}
static void sqrt_f64_row(int64_t n, char *const *p, const int64_t *s) {
    if (s[0] != 1 || s[1] != 1) {
        sqrt_f64_plain(n, p, s);
        return;
    }
    double *d = (double *)(void *)p[0];
    const double *a = (const double *)(const void *)p[1];
    if (x86_level() == 2) sqrt_f64_avx512(n, d, a);
    else sqrt_f64_sse(n, d, a);
}
#else
#define sqrt_f32_row sqrt_f32_plain
#define sqrt_f64_row sqrt_f64_plain
#endif

/* ---------------------------------------------------------------- where rows */

#define EW_WHERE(NAME, C, T)                                                               \
    static void NAME(int64_t n, char *const *p, const int64_t *s) {                        \
        T *restrict d = (T *)(void *)p[0];                                                 \
        const C *restrict c = (const C *)(const void *)p[1];                              \
        const T *restrict a = (const T *)(const void *)p[2];                              \
        const T *restrict b = (const T *)(const void *)p[3];                              \
        if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {                            \
            for (int64_t i = 0; i < n; i++) d[i] = c[i] != 0 ? a[i] : b[i];                \
        } else {                                                                           \
            for (int64_t i = 0; i < n; i++) d[i * s[0]] = c[i * s[1]] != 0 ? a[i * s[2]] : b[i * s[3]]; \
        }                                                                                  \
    }
#define EW_WHERE_T(T, S)                  \
    EW_WHERE(where_f32_##S, float, T)     \
    EW_WHERE(where_f64_##S, double, T)    \
    EW_WHERE(where_i32_##S, int32_t, T)   \
    EW_WHERE(where_i64_##S, int64_t, T)
EW_WHERE_T(float, f32)
EW_WHERE_T(double, f64)
EW_WHERE_T(int32_t, i32)
EW_WHERE_T(int64_t, i64)

/* ---------------------------------------------------------------- tables */

#define EW_ALL4(S) {[ST_F32] = S##_f32, [ST_F64] = S##_f64, [ST_I32] = S##_i32, [ST_I64] = S##_i64}

static const ew_row binary_rows[ST_OP__COUNT][ST_NUM_DTYPES] = {
    [ST_OP_ADD] = EW_ALL4(add),
    [ST_OP_SUB] = EW_ALL4(sub),
    [ST_OP_MUL] = EW_ALL4(mul),
    [ST_OP_DIV] = EW_ALL4(div),
    [ST_OP_POW] = {[ST_F32] = pow_f32, [ST_F64] = pow_f64},
    [ST_OP_MAXIMUM] = EW_ALL4(maximum),
    [ST_OP_MINIMUM] = EW_ALL4(minimum),
    [ST_OP_EQ] = EW_ALL4(eq),
    [ST_OP_NE] = EW_ALL4(ne),
    [ST_OP_LT] = EW_ALL4(lt),
    [ST_OP_LE] = EW_ALL4(le),
    [ST_OP_GT] = EW_ALL4(gt),
    [ST_OP_GE] = EW_ALL4(ge),
};

static const ew_row unary_rows[ST_OP__COUNT][ST_NUM_DTYPES] = {
    [ST_OP_NEG] = EW_ALL4(neg),
    [ST_OP_ABS] = EW_ALL4(abs),
    [ST_OP_RELU] = EW_ALL4(relu),
    [ST_OP_EXP] = {[ST_F32] = exp_f32_row, [ST_F64] = exp_f64},
    [ST_OP_LOG] = {[ST_F32] = log_f32_row, [ST_F64] = log_f64},
    [ST_OP_SQRT] = {[ST_F32] = sqrt_f32_row, [ST_F64] = sqrt_f64_row},
    [ST_OP_TANH] = {[ST_F32] = tanh_f32_row, [ST_F64] = tanh_f64},
    [ST_OP_SIGMOID] = {[ST_F32] = sigmoid_f32_row, [ST_F64] = sigmoid_f64},
    [ST_OP_GELU] = {[ST_F32] = gelu_f32_row, [ST_F64] = gelu_f64},
};

/* [value dtype][cond dtype] */
static const ew_row where_rows[ST_NUM_DTYPES][ST_NUM_DTYPES] = {
    [ST_F32] = {[ST_F32] = where_f32_f32, [ST_F64] = where_f64_f32, [ST_I32] = where_i32_f32, [ST_I64] = where_i64_f32},
    [ST_F64] = {[ST_F32] = where_f32_f64, [ST_F64] = where_f64_f64, [ST_I32] = where_i32_f64, [ST_I64] = where_i64_f64},
    [ST_I32] = {[ST_F32] = where_f32_i32, [ST_F64] = where_f64_i32, [ST_I32] = where_i32_i32, [ST_I64] = where_i64_i32},
    [ST_I64] = {[ST_F32] = where_f32_i64, [ST_F64] = where_f64_i64, [ST_I32] = where_i32_i64, [ST_I64] = where_i64_i64},
};

/* ---------------------------------------------------------------- driver */

/* Run `fn` over nops views of one shape (vs[0] = dst). Long rows are cut into chunks
 * of ST_CPU_PAR_MIN elements so that one big contiguous row is still shared by all
 * threads; a static schedule gives each thread one contiguous span. */
static void ew_run(int nops, const st_kview *const *vs, ew_row fn) {
    st_iter it;
    st_iter_init(&it, nops, vs);
    if (it.numel == 0) return;
    char *base[ST_MAX_ITER_OPS];
    int64_t esz[ST_MAX_ITER_OPS];
    for (int o = 0; o < nops; o++) {
        base[o] = st_cpu_base(vs[o]);
        esz[o] = (int64_t)st_dtype_size(vs[o]->dtype);
    }
    int64_t chunk = it.inner > ST_CPU_PAR_MIN ? ST_CPU_PAR_MIN : it.inner;
    int64_t per_row = (it.inner + chunk - 1) / chunk;
    int64_t tasks = it.outer * per_row;
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) if (it.numel >= ST_CPU_PAR_MIN)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t row = t / per_row, c0 = (t % per_row) * chunk;
        int64_t n = it.inner - c0 < chunk ? it.inner - c0 : chunk;
        int64_t offs[ST_MAX_ITER_OPS];
        char *ptr[ST_MAX_ITER_OPS];
        st_iter_row(&it, row, offs);
        for (int o = 0; o < nops; o++) ptr[o] = base[o] + (offs[o] + c0 * it.istride[o]) * esz[o];
        fn(n, ptr, it.istride);
    }
}

static bool valid_dtype(st_dtype dt) { return (unsigned)dt < ST_NUM_DTYPES; }

st_status st_cpu_unary(int dev, st_op op, const st_kview *dst, const st_kview *x) {
    (void)dev;
    ew_row fn = (unsigned)op < ST_OP__COUNT && valid_dtype(dst->dtype) ? unary_rows[op][dst->dtype] : NULL;
    if (!fn || x->dtype != dst->dtype)
        return st_err(ST_E_UNSUPPORTED, "cpu: unary op %s is not available for %s", st_op_name((int)op),
                      valid_dtype(x->dtype) ? st_dtype_name(x->dtype) : "?");
    const st_kview *vs[2] = {dst, x};
    ew_run(2, vs, fn);
    return ST_OK;
}

st_status st_cpu_binary(int dev, st_op op, const st_kview *dst, const st_kview *a, const st_kview *b) {
    (void)dev;
    ew_row fn = (unsigned)op < ST_OP__COUNT && valid_dtype(dst->dtype) ? binary_rows[op][dst->dtype] : NULL;
    if (!fn || a->dtype != dst->dtype || b->dtype != dst->dtype)
        return st_err(ST_E_UNSUPPORTED, "cpu: binary op %s is not available for %s", st_op_name((int)op),
                      valid_dtype(dst->dtype) ? st_dtype_name(dst->dtype) : "?");
    const st_kview *vs[3] = {dst, a, b};
    ew_run(3, vs, fn);
    return ST_OK;
}

st_status st_cpu_where(int dev, const st_kview *dst, const st_kview *cond, const st_kview *a, const st_kview *b) {
    (void)dev;
    if (!valid_dtype(dst->dtype) || !valid_dtype(cond->dtype) || a->dtype != dst->dtype || b->dtype != dst->dtype)
        return st_err(ST_E_UNSUPPORTED, "cpu: where: mismatched dtypes");
    const st_kview *vs[4] = {dst, cond, a, b};
    ew_run(4, vs, where_rows[dst->dtype][cond->dtype]);
    return ST_OK;
}
