// rk_filter.comp — the fast TopK/BottomK path (vk_rankk.c): one workgroup keeps the best
// `kk` elements of one segment of a row by a threshold filter into a shared-memory
// candidate buffer, then sorts them (bitonic, descending composites).
//
// Order: composite c = key << 32 | ~col (key: order-preserving u32, larger ranks higher;
// BottomK complements it), unique per row, so "c descending" is the exact total order
// of SPEC §3. Real composites are >= 2^31 (col < 2^31); 0 pads.
//
// Filter: keep c >= thr. thr starts at 1 (everything), or with a sample (SAMP > 0) at
// the key of the j-th best of SAMP sampled elements (one per stride window, at a hashed
// offset), j a few sigma beyond kk's expected share. The hot loop tests raw bits against thr's key (hitmask4: a sign flip and a
// 32-bit compare per element); only the hits get their exact key, and only those that
// pass get a slot. When a stretch of sub-steps overflows the buffer (CAP), its appends
// are rolled back, the buffer is sorted and cut to the best kk, thr becomes the kk-th,
// and the stretch is redone one sub-step at a time: the host guarantees kk + 4*WG <= CAP,
// so each fits. Invariant: every element dropped so far is below thr, and every buffered
// one is >= thr.
//
// Variants (rankk.list): input IN_F32 / IN_I32 (raw rows, keys computed here) or
// IN_PAIR (composites of an earlier level); USE_SG: subgroup compaction (one shared
// atomic per subgroup and iteration; raw inputs: one per lane with a hit when at most 4
// lanes have one), else one shared atomic per thread with a hit.
//
// Output: FINAL: the best kk (= k) as values (bits re-read from x) and indices; a row is
// flagged instead (flags[row] = 1 and flags[rows] = 1, the redo's gate word; nothing
// written) when fewer than k passed the sampled threshold (a FINAL pass over IN_PAIR
// candidates samples them too), or when its k-th best is below a bound of an earlier
// level (an element that level dropped could belong to the top k). Not FINAL: the best min(kk, count)
// composites of the segment, padded with 0, and the segment's bound (every element it
// dropped is below it). REDO: only rows whose flag is set run (the exact redo: no
// sample, so nothing can be missed).
#version 460
#ifdef USE_SG
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_vote : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint CAP = 1024;  // candidate buffer (power of two)
layout(constant_id = 2) const uint V = 16;      // elements per thread per iteration (4, 8, 16)
layout(constant_id = 3) const uint MODE = 0u;   // RK_* bits below
layout(constant_id = 4) const uint SAMP = 0u;   // sample size (power of two), 0 = none
const bool FINAL = (MODE & 1u) != 0u;
const bool IDX64 = (MODE & 2u) != 0u;
const bool BOTTOM = (MODE & 4u) != 0u;
const bool VEC4 = (MODE & 8u) != 0u;  // rows 16-byte aligned: vec4 loads
const bool REDO = (MODE & 16u) != 0u;
const bool PRETHR = (MODE & 32u) != 0u; // full subgroups, kk <= subgroup size: exact first-step threshold
const uint WG = gl_WorkGroupSize.x;

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer U32x4Buf { uvec4 v[]; };

layout(push_constant) uniform PC {
    uint64_t src;    // input: x rows (raw) or composites (IN_PAIR)
    uint64_t xv;     // FINAL: x, for the values
    uint64_t dst;    // FINAL: values; else candidate composites [row][seg][kk]
    uint64_t oidx;   // FINAL: indices; else each segment's bound (0: none)
    uint64_t flags;  // FINAL: u32 per row
    uint64_t bounds; // FINAL: nb bounds per row to verify (0: none)
    uint rs;         // input row stride (elements)
    uint n;          // input row length
    uint seg;        // columns per workgroup
    uint nseg;       // segments per row
    uint kk;         // best kept (FINAL: k)
    uint xrs;        // FINAL: row stride of x
    uint nb;         // bounds per row
    uint ngroups;    // rows * nseg
} pc;

shared uint64_t buf[CAP];
shared uint s_cnt;
shared uint s_flag;
shared uint s_pre;

uint key_of(uint bits) {
#ifdef IN_F32
    uint a = bits & 0x7FFFFFFFu;
    uint kf = a > 0x7F800000u ? 0xFFFFFFFFu : a == 0u ? 0x80000000u
              : (bits & 0x80000000u) != 0u ? ~bits : (bits | 0x80000000u);
#else
    uint kf = bits ^ 0x80000000u;
#endif
    return BOTTOM ? ~kf : kf;
}

uint64_t comp_of(uint key, uint col) { return (uint64_t(key) << 32) | uint64_t(~col); }

uint pow2ceil(uint v) { return v <= 1u ? 1u : 1u << uint(findMSB(v - 1u) + 1); }

// Sorts buf[0, cnt) descending (padding to a power of two with 0). cnt is uniform.
void sort_desc(uint cnt) {
    uint tid = gl_LocalInvocationID.x;
    uint P = pow2ceil(cnt);
    for (uint i = cnt + tid; i < P; i += WG) buf[i] = 0ul;
    barrier();
    for (uint size = 2u; size <= P; size <<= 1) {
        for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
            for (uint t = tid; t < P / 2u; t += WG) {
                uint i = 2u * t - (t & (stride - 1u));
                uint j = i + stride;
                uint64_t a = buf[i], b = buf[j];
                bool desc = (i & size) == 0u;
                if ((a < b) == desc) {
                    buf[i] = b;
                    buf[j] = a;
                }
            }
            barrier();
        }
    }
}

uint load_bits(uint at) { return U32Buf(pc.src).v[at]; }

shared uint skey[SAMP > 0u ? SAMP : 1u];

// The key of the j-th best (1-based) of SAMP sampled keys of [c0, c0+m), as a
// composite threshold: a little more than kk elements of the segment are expected to
// reach it. 1 (no threshold) when the segment is short or kk too large for a sample.
// The sample is sorted as bare u32 keys (bitonic, descending).
uint sample_key(uint at) {
#ifdef IN_PAIR
    return uint(U64Buf(pc.src).v[at] >> 32);
#else
    return key_of(load_bits(at));
#endif
}

uint64_t sample_thr(uint rowoff, uint c0, uint m) {
    if (SAMP == 0u || m < 16u * SAMP) return 1ul;
    float e = float(pc.kk) * float(SAMP) / float(m);
    uint j = uint(e + 4.0 * sqrt(e) + 2.0);
    if (j >= SAMP / 2u) return 1ul;
    uint step = m / SAMP, tid = gl_LocalInvocationID.x;
    // one element at a hashed offset inside each stride window: strided picks alone can
    // be biased (candidate lists of kk1 sorted entries per chunk at a period dividing
    // the stride sample only chunk heads: the estimate came out high, rows got flagged)
    for (uint i = tid; i < SAMP; i += WG) skey[i] = sample_key(rowoff + c0 + i * step + ((i * 2654435761u) >> 7) % step);
    barrier();
    for (uint size = 2u; size <= SAMP; size <<= 1) {
        for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
            for (uint t = tid; t < SAMP / 2u; t += WG) {
                uint i = 2u * t - (t & (stride - 1u)), k = i + stride;
                uint a = skey[i], b = skey[k];
                if ((a < b) == ((i & size) == 0u)) {
                    skey[i] = b;
                    skey[k] = a;
                }
            }
            barrier();
        }
    }
    return max(uint64_t(skey[j - 1u]) << 32, 1ul);
}

#ifdef IN_PAIR
// This thread's 4 composites of sub-step w of [c0, c1) (0 = none): c0 + (4w + l)*WG + tid.
u64vec4 fetch(uint rowoff, uint c0, uint c1, uint w) {
    uint tid = gl_LocalInvocationID.x;
    u64vec4 r = u64vec4(0ul);
    uint col = c0 + 4u * w * WG + tid;
    for (uint l = 0u; l < 4u; l++, col += WG)
        if (col < c1) r[l] = U64Buf(pc.src).v[rowoff + col];
    return r;
}
#else
// Raw inputs: this thread's 4 elements of sub-step w: their bits (0 outside [c0, c1)),
// first column and column step, and which are inside [c0, c1). VEC4: columns
// c0 + (w*WG + tid)*4 + l (one 16-byte load); else c0 + (4w + l)*WG + tid. The hot loop
// tests the raw bits against the threshold's key (hitmask4, below); keys and composites
// are formed only for the hits.
uvec4 load_raw(uint rowoff, uint c0, uint c1, uint w, out uint col, out uint cstep, out bvec4 ok) {
    uint tid = gl_LocalInvocationID.x;
    uvec4 x = uvec4(0u);
    if (VEC4) {
        col = c0 + (w * WG + tid) * 4u;
        cstep = 1u;
    } else {
        col = c0 + 4u * w * WG + tid;
        cstep = WG;
    }
    if (VEC4 && col + 4u <= c1) {
        x = U32x4Buf(pc.src).v[(rowoff + col) >> 2];
        ok = bvec4(true);
    } else {
        for (uint l = 0u; l < 4u; l++) {
            uint c = col + l * cstep;
            ok[l] = c < c1;
            if (ok[l]) x[l] = load_bits(rowoff + c);
        }
    }
    return x;
}

uvec4 keys4(uvec4 x) { return uvec4(key_of(x.x), key_of(x.y), key_of(x.z), key_of(x.w)); }

// hitmask4 / hit_bound: a bit for every element whose key reaches T (false positives
// allowed: exact4 compares the composites afterwards). A cheap order-preserving map sk (the
// usual sign flip; for i32 the key itself) stands in for key_of; it differs from it only
// for -0 (one below +0), negative NaNs (low) and positive NaNs (below 0xFFFFFFFF):
// TopK: sk >= T2 with T2 = T lowered to cover -0 and positive NaNs, or a negative NaN;
// BottomK (~key >= T, i.e. key <= ~T): sk <= ~T (each of those sk is <= its key).
uint hit_bound(uint T) {
#ifdef IN_F32
    if (!BOTTOM) return T == 0x80000000u ? 0x7FFFFFFFu : T > 0xFF800000u ? 0xFF800001u : T;
#endif
    return BOTTOM ? ~T : T;
}
// Bit l set: element l may reach key T (hit_bound's T2; only elements inside the segment).
uint hitmask4(uvec4 x, bvec4 ok, uint T2) {
#ifdef IN_F32
    uvec4 sk = x ^ (uvec4(ivec4(x) >> 31) | uvec4(0x80000000u));
    bvec4 h = BOTTOM ? lessThanEqual(sk, uvec4(T2))
                     : bvec4(uvec4(greaterThanEqual(sk, uvec4(T2))) | uvec4(greaterThan(x, uvec4(0xFF800000u))));
#else
    uvec4 sk = x ^ uvec4(0x80000000u);
    bvec4 h = BOTTOM ? lessThanEqual(sk, uvec4(T2)) : greaterThanEqual(sk, uvec4(T2));
#endif
    uvec4 b = uvec4(h) & uvec4(ok);
    return b.x | (b.y << 1) | (b.z << 2) | (b.w << 3);
}

// Of the hits in `m` (4 bits; columns col + l*cs), those whose composite reaches thr.
uint exact4(uvec4 x, uint m, uint col, uint cs, uint64_t thr) {
    uint r = 0u;
    [[unroll]] for (uint l = 0u; l < 4u; l++)
        if ((m & (1u << l)) != 0u && comp_of(key_of(x[l]), col + l * cs) >= thr) r |= 1u << l;
    return r;
}

// Stores the elements of bits `m` of x (columns col + l*cs) from slot p on; returns p.
uint put_bits(uvec4 x, uint m, uint col, uint cs, uint p) {
    [[unroll]] for (uint l = 0u; l < 4u; l++)
        if ((m & (1u << l)) != 0u) {
            if (p < CAP) buf[p] = comp_of(key_of(x[l]), col + l * cs);
            p++;
        }
    return p;
}

#endif

uint put(u64vec4 v, bvec4 ok, uint p) {
    for (uint l = 0u; l < 4u; l++)
        if (ok[l]) {
            if (p < CAP) buf[p] = v[l];
            p++;
        }
    return p;
}
uint npass(bvec4 ok) { return uint(ok.x) + uint(ok.y) + uint(ok.z) + uint(ok.w); }

// Appends the elements of a..d that reach thr (0 pads never do: thr >= 1), with one
// subgroup vote for all (so that the loads of all four are in flight together). Slots
// beyond CAP are dropped (the caller sees s_cnt > CAP and rolls back).
void append4(u64vec4 a, u64vec4 b, u64vec4 c, u64vec4 d, uint64_t thr) {
    u64vec4 t = u64vec4(thr);
    bvec4 pa = greaterThanEqual(a, t), pb = greaterThanEqual(b, t), pc = greaterThanEqual(c, t),
          pd = greaterThanEqual(d, t);
    uint np = npass(pa) + npass(pb) + npass(pc) + npass(pd);
#ifdef USE_SG
    if (subgroupAny(np != 0u)) {
        uint off = subgroupExclusiveAdd(np);
        uint tot = subgroupAdd(np);
        uint base = 0u;
        if (subgroupElect()) base = atomicAdd(s_cnt, tot);
        uint p = subgroupBroadcastFirst(base) + off;
        p = put(a, pa, p);
        p = put(b, pb, p);
        p = put(c, pc, p);
        put(d, pd, p);
    }
#else
    if (np != 0u) {
        uint p = atomicAdd(s_cnt, np);
        p = put(a, pa, p);
        p = put(b, pb, p);
        p = put(c, pc, p);
        put(d, pd, p);
    }
#endif
}

// PRETHR: an exact lower bound for the kk-th best of the segment from its first step:
// each subgroup sorts its lanes' best keys (shuffles) and takes the kk-th: kk lanes hold
// an element at least that large. The group takes the largest such bound.
uint64_t pre_thr(uint rowoff, uint c0, uint c1) {
#if defined(USE_SG) && !defined(IN_PAIR)
    uint col, cs;
    bvec4 ok;
    uvec4 a = keys4(load_raw(rowoff, c0, c1, 0u, col, cs, ok));
    a = uvec4(ok) * a; // keys outside the segment count as 0 (below every real one's bound)
    uint v = max(max(a.x, a.y), max(a.z, a.w)), lane = gl_SubgroupInvocationID;
    for (uint size = 2u; size <= gl_SubgroupSize; size <<= 1)
        for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
            uint o = subgroupShuffleXor(v, stride);
            v = (((lane & stride) == 0u) == ((lane & size) == 0u)) ? max(v, o) : min(v, o);
        }
    uint t = subgroupShuffle(v, pc.kk - 1u);
    if (subgroupElect()) atomicMax(s_pre, t);
    barrier();
    return max(uint64_t(s_pre) << 32, 1ul);
#else
    return 1ul;
#endif
}

const uint CHK = 16u; // sub-steps between overflow checks (optimistic stretch)

void main() {
    uint g = group_linear();
    if (g >= pc.ngroups) return;
    uint tid = gl_LocalInvocationID.x;
    uint row = g / pc.nseg, s = g - row * pc.nseg;
    if (REDO && U32Buf(pc.flags).v[row] == 0u) return;
    uint c0 = s * pc.seg, c1 = min(c0 + pc.seg, pc.n), m = c1 - c0;
    uint rowoff = row * pc.rs;
    uint kk = pc.kk;
    if (tid == 0u) {
        s_cnt = 0u;
        s_flag = 0u;
        s_pre = 0u;
    }
    barrier();
    uint64_t thr = REDO ? 1ul : sample_thr(rowoff, c0, m);
    if (PRETHR) thr = max(thr, pre_thr(rowoff, c0, c1));
    // Stream sub-steps (4 elements per thread) in stretches of CHK without barriers,
    // V/4 sub-steps' loads in flight at once; check the count after each stretch. On
    // overflow: back to the count at the stretch's start (ck), cut the buffer to the
    // best kk (raises thr) and redo the stretch one sub-step at a time, each of which
    // fits (the host guarantees kk + 4*WG <= CAP).
    uint nsub = (m + 4u * WG - 1u) / (4u * WG);
    uint u = 0u, ck = 0u, slow_end = 0u;
    const uint G = V / 4u;
    while (u < nsub) {
        uint ue = min(u + (u < slow_end ? 1u : CHK), nsub);
        for (uint w = u; w < ue; w += G) {
#ifdef IN_PAIR
            u64vec4 a = fetch(rowoff, c0, c1, w), b = u64vec4(0ul), c = u64vec4(0ul), d = u64vec4(0ul);
            if (G > 1u && w + 1u < ue) b = fetch(rowoff, c0, c1, w + 1u);
            if (G > 2u && w + 2u < ue) c = fetch(rowoff, c0, c1, w + 2u);
            if (G > 3u && w + 3u < ue) d = fetch(rowoff, c0, c1, w + 3u);
            append4(a, b, c, d, thr);
#else
            uint ca, cb = 0u, cc = 0u, cd = 0u, cs;
            bvec4 oa, ob = bvec4(false), oc = bvec4(false), od = bvec4(false);
            uvec4 xa = load_raw(rowoff, c0, c1, w, ca, cs, oa), xb = uvec4(0u), xc = uvec4(0u), xd = uvec4(0u);
            if (G > 1u && w + 1u < ue) xb = load_raw(rowoff, c0, c1, w + 1u, cb, cs, ob);
            if (G > 2u && w + 2u < ue) xc = load_raw(rowoff, c0, c1, w + 2u, cc, cs, oc);
            if (G > 3u && w + 3u < ue) xd = load_raw(rowoff, c0, c1, w + 3u, cd, cs, od);
            // hit mask from the raw bits; keys and composites only for the hits
            uint T = uint(thr >> 32), T2 = hit_bound(T);
            uint m = hitmask4(xa, oa, T2) | (hitmask4(xb, ob, T2) << 4) | (hitmask4(xc, oc, T2) << 8) |
                     (hitmask4(xd, od, T2) << 12);
#ifdef USE_SG
            if (subgroupAny(m != 0u)) {
#else
            if (m != 0u) {
#endif
                uint ma = exact4(xa, m & 15u, ca, cs, thr), mb = exact4(xb, (m >> 4) & 15u, cb, cs, thr),
                     mc = exact4(xc, (m >> 8) & 15u, cc, cs, thr), md = exact4(xd, m >> 12, cd, cs, thr);
                uint np = bitCount(ma) + bitCount(mb) + bitCount(mc) + bitCount(md);
                uint p = 0u;
#ifdef USE_SG
                // few lanes with a hit (the usual case once thr is high): a shared atomic
                // per such lane beats the two subgroup scans (H100: 1024x65536 k=64 0.198
                // against 0.211 ms); many lanes: one atomic for the subgroup
                if (subgroupBallotBitCount(subgroupBallot(np != 0u)) <= 4u) {
                    if (np != 0u) p = atomicAdd(s_cnt, np);
                } else {
                    uint off = subgroupExclusiveAdd(np), tot = subgroupAdd(np), base = 0u;
                    if (subgroupElect()) base = atomicAdd(s_cnt, tot);
                    p = subgroupBroadcastFirst(base) + off;
                }
#else
                if (np != 0u) p = atomicAdd(s_cnt, np);
#endif
                if (np != 0u) {
                    p = put_bits(xa, ma, ca, cs, p);
                    p = put_bits(xb, mb, cb, cs, p);
                    p = put_bits(xc, mc, cc, cs, p);
                    put_bits(xd, md, cd, cs, p);
                }
            }
#endif
        }
        barrier();
        uint cnt = s_cnt;
        barrier();
        if (cnt <= CAP) {
            ck = cnt;
            u = ue;
            continue;
        }
        if (ck > kk) {
            sort_desc(ck);
            thr = buf[kk - 1u];
            ck = kk;
        }
        if (tid == 0u) s_cnt = ck;
        barrier();
        slow_end = ue;
    }
    uint cnt = ck;
    sort_desc(cnt);
    if (!FINAL) {
        uint q = min(kk, cnt), ob = (row * pc.nseg + s) * kk;
        for (uint i = tid; i < kk; i += WG) U64Buf(pc.dst).v[ob + i] = i < q ? buf[i] : 0ul;
        if (pc.oidx != 0ul && tid == 0u) U64Buf(pc.oidx).v[g] = cnt > kk ? buf[kk - 1u] : thr;
        return;
    }
    bool bad = cnt < kk;
    if (!bad && pc.bounds != 0ul) {
        uint64_t kth = buf[kk - 1u];
        for (uint i = tid; i < pc.nb; i += WG)
            if (U64Buf(pc.bounds).v[row * pc.nb + i] > kth) s_flag = 1u;
        barrier();
        bad = s_flag != 0u;
    }
    if (bad) {
        if (tid == 0u) {
            U32Buf(pc.flags).v[row] = 1u;
            U32Buf(pc.flags).v[pc.ngroups] = 1u; // "some row is flagged": the redo's gate
        }
        return;
    }
    uint xo = row * pc.xrs, ob = row * kk;
    for (uint i = tid; i < kk; i += WG) {
        uint col = ~uint(buf[i] & 0xFFFFFFFFul);
        U32Buf(pc.dst).v[ob + i] = U32Buf(pc.xv).v[xo + col];
        if (IDX64)
            I64Buf(pc.oidx).v[ob + i] = int64_t(col);
        else
            I32Buf(pc.oidx).v[ob + i] = int(col);
    }
}
