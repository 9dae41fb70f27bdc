// random.comp — Philox4x32-10 (src/core/rng.c, bit-identical words) mapped like
// src/cpu/cpu_backend.c: block j (4 elements) uses counter offset + j. Spec constant
// id 1: 0 uniform [0,1) (24 bits: (w >> 8) * 2^-24, bit-identical to the CPU), 1 normal
// (Box-Muller on (w0,w1), (w2,w3)). The CPU evaluates Box-Muller in double; here it is
// f32 with care: log(u1) near u1 = 1 from the exact complement 1 - u1, the angle
// reduced to a quarter turn with integer arithmetic, sin/cos by minimax polynomials
// on [-pi/4, pi/4]. Within a few ulp of the CPU's rounded double result. dst f32,
// contiguous.
#version 460
#include "common.glsl"
#include "ew_common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int OP = 0;
layout(push_constant) uniform PC {
    uint64_t dst;
    uint64_t seed;
    uint64_t offset;
    uint n;
} pc;

uvec4 philox(uint64_t seed, uint64_t counter) {
    uint c0 = uint(counter), c1 = uint(counter >> 32), c2 = 0u, c3 = 0u;
    uint k0 = uint(seed), k1 = uint(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint h0, l0, h1, l1;
        umulExtended(0xD2511F53u, c0, h0, l0);
        umulExtended(0xCD9E8D57u, c2, h1, l1);
        uint n0 = h1 ^ c1 ^ k0, n2 = h0 ^ c3 ^ k1;
        c0 = n0;
        c1 = l1;
        c2 = n2;
        c3 = l0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return uvec4(c0, c1, c2, c3);
}

// -2 log(u1), u1 = (w + 1) / 2^32 in (0, 1].
float neg2log(uint w) {
    if (w >= 0xB504F333u) { // u1 >= sqrt(1/2): log1p of the exact -(1 - u1)
        precise float f = -float(0xFFFFFFFFu - w) * 2.3283064365386963e-10;
        return -2.0 * ew_log1p_core(f, 0.0);
    }
    precise float u1 = float(w + 1u) * 2.3283064365386963e-10; // one rounding, then exact
    return -2.0 * ew_log(u1);
}

// (cos, sin) of 2 pi w / 2^32.
vec2 cossin_turn(uint w) {
    uint q = (w + 0x20000000u) >> 30; // nearest quarter turn (mod 4)
    int rem = int(w - (q << 30));      // [-2^29, 2^29)
    precise float x = float(rem) * 1.4629180792671596e-09; // 2 pi / 2^32
    precise float z = x * x;
    precise float s = -1.9515295891e-4;
    s = s * z + 8.3321608736e-3;
    s = s * z + -1.6666654611e-1;
    s = x + x * z * s;
    precise float c = 2.443315711809948e-5;
    c = c * z + -1.388731625493765e-3;
    c = c * z + 4.166664568298827e-2;
    c = 1.0 - 0.5 * z + z * z * c;
    if (q == 0u) return vec2(c, s);
    if (q == 1u) return vec2(-s, c);
    if (q == 2u) return vec2(-c, -s);
    return vec2(s, -c);
}

void main() {
    F32Buf d = F32Buf(pc.dst);
    uint n = pc.n, nb = (n + 3u) / 4u, stride = grid_threads();
    for (uint j = global_linear(); j < nb; j += stride) {
        uvec4 w = philox(pc.seed, pc.offset + uint64_t(j));
        vec4 v;
        if (OP == 0) {
            v = vec4(w >> 8u) * 5.9604644775390625e-08; // 2^-24: exact
        } else {
            for (int k = 0; k < 4; k += 2) {
                float r = sqrt(neg2log(w[k]));
                vec2 cs = cossin_turn(w[k + 1]);
                precise float v0 = r * cs.x, v1 = r * cs.y;
                v[k] = v0;
                v[k + 1] = v1;
            }
        }
        for (int k = 0; k < 4; k++)
            if (j * 4u + uint(k) < n) d.v[j * 4u + uint(k)] = v[k];
    }
}
