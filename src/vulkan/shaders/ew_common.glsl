// ew_common.glsl — shared by the elementwise kernels (unary, binary, where, random):
// operand layouts, 16-byte vector references, and the f32 math of the CPU backend.
//
// Layout (spec constant id 2, chosen by vk_elementwise.c):
//   L_GEOM 0: any strides; a Geom block (pc.geom) with the merged shape, one
//             coordinate decomposition per element shared by every operand.
//   L_LINE 1: one dim after merging: element i of operand k is at i * stride_k.
//   L_VEC  2: every operand contiguous and 16-byte aligned: VW elements per load/store
//             (vec4 / ivec4 / i64vec2), then a scalar tail.
//
// Math: exp/log/tanh/sigmoid/gelu are src/cpu/cpu_elementwise.c's range reductions
// and polynomials, evaluated with `precise` (no FMA contraction) so the results match
// the CPU's except where the device's division (<= 2.5 ulp in Vulkan) or flushing of
// denormals differs. NaN tests use the bits (drivers may fold isnan() away).
// pow computes log(|x|) and y*log(|x|) in double-float (Dekker products: Vulkan does not
// promise a fused fma), then e^(hi+lo) with the CPU's exp: a few ulp at most.
#define L_GEOM 0
#define L_LINE 1
#define L_VEC 2
layout(constant_id = 2) const int LAYOUT = 0;

layout(buffer_reference, std430, buffer_reference_align = 16) buffer I32x4Buf { ivec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer I64x2Buf { i64vec2 v[]; };

#if defined(T_F32)
#define VT vec4
#define VBuf F32x4Buf
#define VW 4
#elif defined(T_I32)
#define VT ivec4
#define VBuf I32x4Buf
#define VW 4
#elif defined(T_I64)
#define VT i64vec2
#define VBuf I64x2Buf
#define VW 2
#endif

// Element offsets of linear index i in operands 0..nops-1 (row-major over g.shape).
void geom_offsets(Geom g, int nops, uint i, out uint off[4]) {
    off[0] = 0u;
    off[1] = 0u;
    off[2] = 0u;
    off[3] = 0u;
    for (int d = g.ndim - 1; d >= 0; d--) {
        uint s = uint(g.shape[d]);
        uint q = i / s;
        uint c = i - q * s;
        for (int o = 0; o < nops; o++) off[o] += c * uint(g.strides[o * ST_MAX_DIMS + d]);
        i = q;
    }
}

bool nan_bits(float x) { return (floatBitsToUint(x) & 0x7fffffffu) > 0x7f800000u; }
bool inf_bits(float x) { return (floatBitsToUint(x) & 0x7fffffffu) == 0x7f800000u; }
float f_inf() { return uintBitsToFloat(0x7f800000u); }
float f_nan() { return uintBitsToFloat(0x7fc00000u); }
float f_copysign(float m, float s) {
    return uintBitsToFloat((floatBitsToUint(m) & 0x7fffffffu) | (floatBitsToUint(s) & 0x80000000u));
}

// e^(hi + lo), |lo| << 1 (cpu_elementwise.c exp2parts_f32). NaN in hi: the caller's.
float ew_exp2parts(float hi, float lo) {
    hi = hi < -104.0 ? -104.0 : hi;
    hi = hi > 89.0 ? 89.0 : hi;
    const float magic = 12582912.0; // 1.5 * 2^23
    precise float t = hi * 1.44269504088896341 + magic;
    precise float kf = t - magic;
    int k = int(floatBitsToUint(t) - floatBitsToUint(magic));
    precise float r0 = hi - kf * 0.693359375;
    precise float r = (r0 - kf * -2.12194440e-4) + lo;
    precise float q = 1.392617589e-03;
    q = q * r + 8.363173343e-03;
    q = q * r + 4.166655615e-02;
    q = q * r + 1.666657776e-01;
    q = q * r + 5.000000000e-01;
    precise float p = 1.0 + (r + r * r * q);
    int k1 = k / 2, k2 = k - k1;
    precise float res = p * uintBitsToFloat(uint(k1 + 127) << 23) * uintBitsToFloat(uint(k2 + 127) << 23);
    return res;
}

float ew_exp(float x) { return nan_bits(x) ? x : ew_exp2parts(x, 0.0); }

// log(1 + f) for 1 + f in [sqrt(1/2), sqrt(2)), f exact (the CPU's log core).
float ew_log1p_core(float f, float kf) {
    precise float s = f / (2.0 + f);
    precise float z = s * s;
    precise float q = 2.0 * 1.166523397e-01;
    q = q * z + 2.0 * 1.427541077e-01;
    q = q * z + 2.0 * 2.000006139e-01;
    q = q * z + 2.0 * 3.333333433e-01;
    precise float R = z * q;
    precise float hf = 0.5 * f * f;
    precise float r = kf * 0.693359375 + (f - (hf - (s * (hf + R) + kf * -2.12194440e-4)));
    return r;
}

float ew_log(float x) {
    bool sub = x < 1.17549435e-38;
    uint ix = sub ? floatBitsToUint(x * 8388608.0) : floatBitsToUint(x);
    int eadj = sub ? -23 : 0;
    ix += 0x3f800000u - 0x3f3504f3u;
    int k = int(ix >> 23) - 127 + eadj;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    precise float f = uintBitsToFloat(ix) - 1.0;
    float r = ew_log1p_core(f, float(k));
    float special = x == 0.0 ? -f_inf() : (x == f_inf() ? x : f_nan());
    return nan_bits(x) ? x : ((x > 0.0 && x < f_inf()) ? r : special);
}

float ew_tanh(float x) {
    float ax = abs(x);
    precise float w = x * x;
    precise float q = 2.292744815e-03;
    q = q * w + -8.343945257e-03;
    q = q * w + 2.176891826e-02;
    q = q * w + -5.395925790e-02;
    q = q * w + 1.333330423e-01;
    q = q * w + -3.333333433e-01;
    precise float small = x + x * (w * q);
    float e = ew_exp2parts(2.0 * ax, 0.0);
    precise float big = 1.0 - 2.0 / (e + 1.0);
    return nan_bits(x) ? x : (ax < 0.625 ? small : f_copysign(big, x));
}

float ew_sigmoid(float x) {
    float e = ew_exp2parts(-abs(x), 0.0);
    precise float d = 1.0 + e;
    precise float r = x >= 0.0 ? 1.0 / d : e / d;
    return nan_bits(x) ? x : r;
}

float ew_gelu(float x) {
    precise float z = x * 0.70710678118654752;
    float az = abs(z);
    precise float w = z * z;
    precise float e = 7.875874871e-05;
    e = e * w + -8.016864303e-04;
    e = e * w + 5.189087242e-03;
    e = e * w + -2.685421146e-02;
    e = e * w + 1.128359437e-01;
    e = e * w + -3.761262596e-01;
    e = e * w + 1.128379107e+00;
    precise float phi_mid = 0.5 + 0.5 * (z * e);
    precise float t = 1.0 / (1.0 + 0.5 * az);
    precise float h = 1.837423258e-02;
    h = h * t + 4.265218601e-02;
    h = h * t + -1.698749363e-01;
    h = h * t + 5.120594054e-02;
    h = h * t + 6.934960932e-02;
    h = h * t + 1.783000678e-01;
    h = h * t + 2.466988415e-01;
    h = h * t + 2.820982039e-01;
    h = h * t + 2.820947766e-01;
    float xh = uintBitsToFloat(floatBitsToUint(x) & 0xfffff000u);
    precise float xl = x - xh;
    precise float ghi = -0.5 * (xh * xh);
    precise float glo = -0.5 * (xl * (x + xh));
    float g = ew_exp2parts(ghi, glo);
    precise float erfc_az = g * (t * h);
    precise float phi_tail = x > 0.0 ? 1.0 - 0.5 * erfc_az : 0.5 * erfc_az;
    precise float r = x * (az < 1.0 ? phi_mid : phi_tail);
    r = x > 10.0 ? x : r;
    r = x < -20.0 ? uintBitsToFloat(0x80000000u) : r;
    return nan_bits(x) ? x : r;
}

// sqrt: the device's (Vulkan: about 3 ulp at worst); NaN for x < 0 (Vulkan leaves it
// undefined).
float ew_sqrt(float x) { return nan_bits(x) ? x : (x < 0.0 ? f_nan() : sqrt(x)); }

// ---------------------------------------------------------------- double-float pow
// Dekker: a*b = p + e exactly (no fma; |a|, |b| < 2^100 so 4097*a cannot overflow).
vec2 two_prod(float a, float b) {
    precise float p = a * b;
    precise float ca = 4097.0 * a;
    precise float ah = ca - (ca - a);
    precise float al = a - ah;
    precise float cb = 4097.0 * b;
    precise float bh = cb - (cb - b);
    precise float bl = b - bh;
    precise float e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    return vec2(p, e);
}

// log(ax) as hi + lo, ax finite > 0 (relative error ~1e-11).
vec2 ew_log_ext(float ax) {
    bool sub = ax < 1.17549435e-38;
    uint ix = sub ? floatBitsToUint(ax * 8388608.0) : floatBitsToUint(ax);
    int eadj = sub ? -23 : 0;
    ix += 0x3f800000u - 0x3f3504f3u;
    int k = int(ix >> 23) - 127 + eadj;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    precise float f = uintBitsToFloat(ix) - 1.0;
    // s = f / (2 + f) in double-float; log(1+f) = 2 atanh(s)
    precise float uh = 2.0 + f;
    precise float ul = f - (uh - 2.0);
    precise float sh = f / uh;
    vec2 pe = two_prod(sh, uh);
    precise float res = ((f - pe.x) - pe.y) - sh * ul;
    precise float sl = res / uh;
    precise float z = sh * sh;
    precise float poly = 1.0 / 13.0;
    poly = poly * z + 1.0 / 11.0;
    poly = poly * z + 1.0 / 9.0;
    poly = poly * z + 1.0 / 7.0;
    poly = poly * z + 1.0 / 5.0;
    poly = poly * z + 1.0 / 3.0;
    precise float tail = 2.0 * sh * z * poly;
    float kf = float(k);
    precise float a = kf * 0.693145751953125; // exact: 16-bit constant, |k| < 256
    precise float b = 2.0 * sh;
    precise float h = a + b; // two-sum
    precise float bv = h - a;
    precise float l = (a - (h - bv)) + (b - bv);
    l = l + ((kf * 1.42860682030941723212e-06 + 2.0 * sl) + tail);
    precise float hi = h + l;
    precise float lo = l - (hi - h);
    return vec2(hi, lo);
}

// |x|^y for finite x != 0 (y finite).
float ew_pow_pos(float ax, float y) {
    vec2 L = ew_log_ext(ax);
    if (L.x == 0.0) return 1.0; // ax == 1
    precise float ph = y * L.x;
    if (abs(ph) > 150.0) return ew_exp2parts(ph, 0.0); // overflow to inf / underflow to 0
    vec2 pe = two_prod(y, L.x);
    precise float pl = pe.y + y * L.y;
    return ew_exp2parts(pe.x, pl);
}

// C99 powf, special cases included.
float ew_pow(float x, float y) {
    if (y == 2.0) {
        precise float sq = x * x;
        return sq;
    }
    if (y == 0.0 || x == 1.0) return 1.0;
    if (nan_bits(x) || nan_bits(y)) return f_nan();
    float ax = abs(x), ay = abs(y);
    bool sx = (floatBitsToUint(x) >> 31) != 0u;
    bool yint = ay >= 16777216.0 || floor(ay) == ay;
    bool yodd = ay < 16777216.0 && yint && (int(ay) & 1) == 1;
    float r;
    if (inf_bits(y)) {
        if (ax == 1.0) return 1.0;
        return ((ax < 1.0) == (y < 0.0)) ? f_inf() : 0.0;
    } else if (ax == 0.0) {
        r = y < 0.0 ? f_inf() : 0.0;
    } else if (inf_bits(x)) {
        r = y < 0.0 ? 0.0 : f_inf();
    } else {
        if (sx && !yint) return f_nan();
        r = ew_pow_pos(ax, y);
    }
    return (sx && yodd) ? -r : r;
}
