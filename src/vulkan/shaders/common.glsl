// common.glsl — included by every compute shader of the Vulkan backend.
//
// Buffers are reached by device address (GL_EXT_buffer_reference): push constants carry
// 64-bit addresses, and a kernel casts them to one of the typed references below.
// Element type of a variant: define T_F32, T_I32 or T_I64 (and T_F64 where the device
// has shaderFloat64) on the glslc command line (shaders/*.list); `T` is then the type
// and TBuf its buffer reference. Geometry of strided operands comes as a `Geom` block
// (mirrors stvk_geom in vk_internal.h).
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference2 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_control_flow_attributes : require

layout(buffer_reference, std430, buffer_reference_align = 4) buffer F32Buf { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer I32Buf { int v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer U32Buf { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) buffer I64Buf { int64_t v[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) buffer U64Buf { uint64_t v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer F32x4Buf { vec4 v[]; };
#ifdef T_F64
layout(buffer_reference, std430, buffer_reference_align = 8) buffer F64Buf { double v[]; };
#endif

#if defined(T_F32)
#define T float
#define TBuf F32Buf
#define T_IS_FLOAT 1
#elif defined(T_I32)
#define T int
#define TBuf I32Buf
#define T_IS_FLOAT 0
#elif defined(T_I64)
#define T int64_t
#define TBuf I64Buf
#define T_IS_FLOAT 0
#elif defined(T_F64)
#define T double
#define TBuf F64Buf
#define T_IS_FLOAT 1
#endif

#define ST_MAX_DIMS 8
#define GEOM_MAXOPS 4
layout(buffer_reference, std430, buffer_reference_align = 8) readonly buffer Geom {
    int ndim;
    int nops;
    int pad0;
    int pad1;
    int64_t shape[ST_MAX_DIMS];
    int64_t strides[GEOM_MAXOPS * ST_MAX_DIMS]; // [op][dim]
};

// Indexing is 32-bit: the host refuses tensors of more than 2^31 elements (GLSL array
// indices are 32-bit; 32-bit division is also much cheaper than 64-bit on GPUs).
// Element offset of linear index i (row-major over g.shape) in operand `op`.
uint geom_offset(Geom g, int op, uint i) {
    uint off = 0u;
    for (int d = g.ndim - 1; d >= 0; d--) {
        uint s = uint(g.shape[d]);
        uint q = i / s;
        off += (i - q * s) * uint(g.strides[op * ST_MAX_DIMS + d]);
        i = q;
    }
    return off;
}

// The workgroup size is specialisation constant 0 in every kernel. It is declared here,
// before the helpers below read gl_WorkGroupSize: declared later (in the kernel file),
// glslang would have folded gl_WorkGroupSize to (1,1,1) inside these functions, so a
// grid-stride loop would run every element ~wg times and a one-invocation-per-item
// kernel would skip items. (Kernel files may repeat the same declaration.)
layout(local_size_x_id = 0) in;

// Linear workgroup index of a dispatch spread over x and y (stvk_dispatch_linear).
uint group_linear() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }
// Total threads launched (for grid-stride loops).
uint grid_threads() { return gl_NumWorkGroups.x * gl_NumWorkGroups.y * gl_WorkGroupSize.x; }
uint global_linear() { return group_linear() * gl_WorkGroupSize.x + gl_LocalInvocationID.x; }

// Rank-K total order as an unsigned key: larger key = ranks higher. NaN above +inf;
// -0.0 equals +0.0. (Ties are broken by the lower column index by the kernels.)
// Decided on the bits, not with float compares: a device may flush denormals to zero in
// float arithmetic and comparisons (NVIDIA does: a denormal compared == 0.0 and became
// +0, out of order with the CPU), and isnan may be folded under fast-math assumptions.
uint float_key(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0xFFFFFFFFu; // NaN
    if ((u & 0x7FFFFFFFu) == 0u) u = 0u;                      // -0 == +0
    return (u & 0x80000000u) != 0u ? ~u : (u | 0x80000000u);
}
