/* vk_internal.h — private interface of the Vulkan backend (device `vulkan`, alias `wgpu`).
 *
 * Layers (one way): vk_loader.c (dlopen of libvulkan, function tables) -> vk_device.c
 * (instance, physical devices, logical device, limits) -> vk_stream.c (command batching,
 * barriers, dispatch, pipelines) -> vk_memory.c (buffers, pool, staging, read/write) ->
 * kernel files (vk_elementwise.c, vk_reduce.c, vk_matmul.c, vk_index.c, vk_rankk.c) ->
 * vk_backend.c (the st_backend vtable).
 *
 * Design (why it is shaped like this):
 * - No link-time dependency on libvulkan: the loader is dlopen'ed, so a machine without
 *   it runs the library and `auto` falls through to the CPU with the reason.
 * - Buffers are reached from shaders by device address (Vulkan 1.2 bufferDeviceAddress,
 *   GLSL GL_EXT_buffer_reference). Kernels then take raw 64-bit addresses in push
 *   constants: no descriptor sets to manage, and maxStorageBufferRange (128 MiB on
 *   lavapipe) does not cap tensor size, since it limits descriptor ranges only.
 * - Execution is stream-ordered on one queue: every recorded command is followed by a
 *   full compute/transfer memory barrier, so a freed buffer can be handed to a later
 *   command at once (like a caching allocator on one CUDA stream). Host-visible staging
 *   memory is the exception: it is recycled only after its batch's fence signals.
 * - The host waits only in stvk_read / stvk_sync (and when the command-buffer ring is
 *   full); everything else is recorded into the current command buffer.
 *
 * Thread safety: one mutex per device serialises recording; every stvk_* entry takes it.
 * Kernel code calls stvk_* only from inside a backend entry (lock not held by caller).
 */
#ifndef ST_VK_INTERNAL_H
#define ST_VK_INTERNAL_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "backend/backend.h"

#define STVK_MAX_DEVICES 8
#define STVK_PUSH_MAX 128 /* bytes of push constants every kernel may use */

/* What kernels may rely on about a device (queried once). */
typedef struct stvk_caps {
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    char vendor[32];
    char driver[96];
    uint32_t vendor_id, device_id, api_version;
    VkPhysicalDeviceType type;
    uint32_t subgroup_size;     /* 0 when compute subgroup ops are absent */
    uint32_t subgroup_ops;      /* VkSubgroupFeatureFlags for the compute stage */
    uint32_t min_subgroup_size, max_subgroup_size; /* subgroup size control (0: none) */
    bool full_subgroups;        /* computeFullSubgroups */
    uint32_t max_wg_invocations;
    uint32_t max_wg_size[3];
    uint32_t max_groups[3];
    uint32_t shared_mem;        /* maxComputeSharedMemorySize */
    uint64_t max_alloc;         /* maxMemoryAllocationSize */
    uint64_t device_local_bytes;
    bool float64, int64, atomic_f32_add;
    bool uma;                   /* device-local memory is also host-visible */
    float timestamp_period;     /* ns per timestamp tick */
} stvk_caps;

/* The largest 1-D workgroup the device runs. */
static inline uint32_t stvk_max_wg(const stvk_caps *c) {
    return c->max_wg_invocations < c->max_wg_size[0] ? c->max_wg_invocations : c->max_wg_size[0];
}

/* A device buffer (the storage handle the op layer holds). */
typedef struct stvk_buf {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size;  /* bytes actually allocated (size class) */
    uint64_t addr;      /* device address */
    void *map;          /* persistent mapping when host-visible, else NULL */
    uint32_t mem_type;
    struct stvk_buf *next; /* pool free list */
} stvk_buf;

/* ---------------------------------------------------------------- devices */
/* Number of usable devices; 0 with the reason (no loader, no device, missing feature). */
int stvk_device_count(char *why, size_t cap);
/* Capabilities of device `dev` (opens it on first use). NULL + error when unusable. */
const stvk_caps *stvk_caps_of(int dev);
st_status stvk_describe(int dev, char *buf, size_t cap);

/* ---------------------------------------------------------------- memory */
st_status stvk_buf_alloc(int dev, size_t nbytes, void **handle);
void stvk_buf_free(int dev, void *handle, size_t nbytes);
/* Host <-> device. write is stream-ordered (staged); read waits for prior work. */
st_status stvk_write(int dev, void *handle, size_t off, const void *src, size_t n);
st_status stvk_read(int dev, void *handle, size_t off, void *dst, size_t n);
st_status stvk_sync(int dev);
/* Device timer (GPU timestamps): ST_E_UNSUPPORTED (no message) when the queue has none. */
st_status stvk_timer_start(int dev);
st_status stvk_timer_stop(int dev, double *ms);
/* Device address of byte `off` of a storage handle. */
static inline uint64_t stvk_addr(const void *handle, uint64_t off) { return ((const stvk_buf *)handle)->addr + off; }
/* Device address of a kernel view's first element (handle address + offset*elemsize). */
uint64_t stvk_view_addr(const st_kview *v);
/* Temporary device memory: stvk_buf_alloc, record the commands that use it, then
 * stvk_buf_free at once: the pool is stream-ordered, so a later allocation can only be
 * used by commands recorded after the last use. */
/* Small constant data (<= 64 KiB, e.g. shapes and strides) for the next dispatches of
 * the current batch: copied into a device-local arena by vkCmdUpdateBuffer. Returns its
 * device address (16-byte aligned). */
st_status stvk_upload_small(int dev, const void *data, size_t n, uint64_t *addr);
/* Records vkCmdFillBuffer (n and off multiples of 4). */
st_status stvk_fill_u32(int dev, void *handle, size_t off, size_t n, uint32_t value);
/* Records a buffer-to-buffer copy. */
st_status stvk_copy_bytes(int dev, void *dst, size_t doff, const void *src, size_t soff, size_t n);

/* ---------------------------------------------------------------- kernels */
/* An embedded SPIR-V module (generated from shaders/ *.list by CMake). */
typedef struct stvk_shader {
    const char *name;
    const uint32_t *code;
    size_t words;
} stvk_shader;
extern const stvk_shader stvk_shaders[];
extern const size_t stvk_nshaders;

/* Pipeline options. spec[i] is the uint32 specialisation constant with constant_id i
 * (convention: id 0 = local_size_x through `layout(local_size_x_id = 0) in;`).
 * full_subgroups: ask for full subgroups (VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_
 * FULL_SUBGROUPS_BIT) when the device supports it; the local size must then be a
 * multiple of the subgroup size. */
#define STVK_MAX_SPEC 12
typedef struct stvk_kernel {
    const char *shader; /* name in stvk_shaders */
    uint32_t spec[STVK_MAX_SPEC];
    int nspec;
    bool full_subgroups;
} stvk_kernel;

/* Record one dispatch of groups (gx, gy, gz) with push constants pc (<= STVK_PUSH_MAX
 * bytes). The pipeline is created and cached on first use. Fails with ST_E_DEVICE when
 * a group count exceeds the device's limit. */
st_status stvk_dispatch(int dev, const stvk_kernel *k, uint32_t gx, uint32_t gy, uint32_t gz, const void *pc,
                        uint32_t pcsize);
/* Dispatch `ngroups` workgroups in total, spread over x (<= the device's x limit) and y;
 * shaders must compute their linear group as gl_WorkGroupID.x + gl_WorkGroupID.y *
 * gl_NumWorkGroups.x (see shaders/common.glsl: group_linear()) and skip ids >= ngroups.
 * ngroups == 0 records nothing. */
st_status stvk_dispatch_linear(int dev, const stvk_kernel *k, uint64_t ngroups, const void *pc, uint32_t pcsize);
/* Gate: while this thread has a gate set, every dispatch it records runs only if the u32
 * at byte `off` of `handle` is non-zero when the GPU reaches it (VK_EXT_conditional_
 * rendering; the word is written by earlier commands). Other threads' ops recorded on
 * the device meanwhile are not gated. For work that is rarely needed, such as the
 * exact redo of rows a fast pass flagged: a gated dispatch that does not run costs next
 * to nothing, where an ungated one launches all its workgroups. Devices without the
 * extension run every dispatch, so gated kernels must still skip their work by
 * themselves (the gate only saves time). stvk_gate_end clears it. */
st_status stvk_gate_begin(int dev, void *handle, size_t off);
void stvk_gate_end(int dev);
/* The calling thread's gate, saved so that code which may run inside a gated region can
 * set gates of its own (conditional rendering does not nest: a gate replaces the one
 * before) and put the outer one back with stvk_gate_restore. */
typedef struct stvk_gate_state {
    const void *dev; /* stvk_dev; NULL: no gate */
    VkBuffer buf;    /* VK_NULL_HANDLE: gating off (no extension, ST_VULKAN_NO_GATE) */
    VkDeviceSize off;
} stvk_gate_state;
stvk_gate_state stvk_gate_save(void);
void stvk_gate_restore(stvk_gate_state g);
/* Powers of two (1 .. 2^30) at most / at least v. */
static inline uint32_t stvk_pow2_floor(uint64_t v) {
    uint32_t r = 1;
    while ((uint64_t)r * 2 <= v && r < (1u << 30)) r *= 2;
    return r;
}
static inline uint32_t stvk_pow2_ceil(uint64_t v) {
    uint32_t r = 1;
    while (r < v && r < (1u << 30)) r *= 2;
    return r;
}
/* Groups needed for n items at `per_group` items each, capped at `cap` (the shader then
 * loops: grid-stride). */
static inline uint64_t stvk_groups_for(uint64_t n, uint64_t per_group, uint64_t cap) {
    uint64_t g = (n + per_group - 1) / per_group;
    return g > cap ? cap : g;
}

/* Counters for tests: pipelines created, dispatches recorded, submits, waits; and the
 * last dispatched shader name + spec (the "no dead knobs" tests read these). */
typedef struct stvk_stats {
    uint64_t pipelines, dispatches, submits, waits, bytes_up, bytes_down;
    char last_shader[64];
    uint32_t last_spec[STVK_MAX_SPEC];
    uint32_t last_groups[3];
} stvk_stats;
void stvk_get_stats(int dev, stvk_stats *out);
/* Calls fn for every dispatch recorded from now on; fn NULL stops (tests only). */
typedef void (*stvk_trace_fn)(void *ud, const stvk_kernel *k, const uint32_t groups[3]);
void stvk_trace(int dev, stvk_trace_fn fn, void *ud);
/* Tests only: while on, every TopK/BottomK fast-path call that may flag rows reads its
 * row flags back (waiting for the device) and adds the number of flagged rows to a
 * counter, so that tests can tell an estimate that holds from a redo that saved it. */
void stvk_rankk_count_flags(bool on);
uint64_t stvk_rankk_flagged_rows(void);

/* ---------------------------------------------------------------- kernel views */
/* Shape/stride description uploaded for strided kernels (shaders/common.glsl mirrors
 * this layout as `Geom`). Up to ST_MAX_DIMS dims; operands share the shape. Element
 * offsets are int64 in the struct; kernels index with 64-bit arithmetic. */
#define STVK_GEOM_MAXOPS 4
typedef struct stvk_geom {
    int32_t ndim, nops, pad0, pad1;
    int64_t shape[ST_MAX_DIMS];
    int64_t strides[STVK_GEOM_MAXOPS][ST_MAX_DIMS];
} stvk_geom;
/* Fill g from views (all of views[0]'s shape); dims of size 1 are dropped and
 * neighbouring dims that are contiguous in every operand are merged. Returns true when
 * every operand is plain contiguous (then a kernel may index linearly). */
bool stvk_geom_make(stvk_geom *g, int nops, const st_kview *const *views);

/* For kernels over `nops` views of views[0]'s shape: checks the 32-bit indexing limit
 * (every view's reach <= 2^31 elements; error names `op`), sets *n to the element
 * count and *geom to the device address of an uploaded stvk_geom, or 0 when every view
 * is contiguous (the kernel then indexes linearly). */
#define STVK_MAX_ELEMS ((int64_t)1 << 31)
/* Elements from a view's first to its furthest reachable element, +1 (0 when empty). */
int64_t stvk_view_reach(const st_kview *v);
st_status stvk_geom_prepare(int dev, const char *op, int nops, const st_kview *const *views, uint64_t *geom, uint32_t *n);
/* Workgroups for a grid-stride elementwise kernel over n items with wg threads. */
#define STVK_EW_WG 256
#define STVK_EW_MAX_GROUPS 8192
/* Spec-constant name of a dtype code: "f32", "i32", "i64". */
const char *stvk_dt_suffix(int code);

/* Dtype code shared with the shaders: 0 f32, 1 i32, 2 i64, 3 f64 (STVK_DT_*). Returns -1
 * and sets ST_E_DTYPE (naming `op`) for a dtype this device cannot run. */
enum { STVK_DT_F32 = 0, STVK_DT_I32 = 1, STVK_DT_I64 = 2, STVK_DT_F64 = 3 };
int stvk_dtype_code(int dev, st_dtype dt, const char *op);

/* ---------------------------------------------------------------- kernel entries */
/* Implemented in the kernel files; signatures match st_backend. */
st_status stvk_copy(int dev, const st_kview *dst, const st_kview *src);
st_status stvk_fill(int dev, const st_kview *dst, double value);
st_status stvk_unary(int dev, st_op op, const st_kview *dst, const st_kview *x);
st_status stvk_binary(int dev, st_op op, const st_kview *dst, const st_kview *a, const st_kview *b);
st_status stvk_where(int dev, const st_kview *dst, const st_kview *cond, const st_kview *a, const st_kview *b);
st_status stvk_arange(int dev, const st_kview *dst, double start, double step);
st_status stvk_random(int dev, st_op op, const st_kview *dst, uint64_t seed, uint64_t offset);
st_status stvk_reduce(int dev, st_op op, const st_kview *dst, const st_kview *x, uint32_t axes_mask);
st_status stvk_argmax(int dev, const st_kview *dst, const st_kview *x, int axis);
st_status stvk_softmax(int dev, st_op op, const st_kview *dst, const st_kview *x, int dim);
st_status stvk_matmul(int dev, const st_kview *dst, const st_kview *a, const st_kview *b);
st_status stvk_index_select(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx);
st_status stvk_gather(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx);
st_status stvk_scatter(int dev, const st_kview *dst, int dim, const st_kview *idx, const st_kview *src, bool add);
st_status stvk_rankk(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx, const st_kview *x,
                     int64_t k, const st_rankk_params *p);

/* ---------------------------------------------------------------- rank-K (internal split)
 * vk_rankk.c owns stvk_rankk (the entry: picks the path from the heuristics' params) and
 * the fast TopK/BottomK path (sampled threshold + filter + shared-memory sort, chunked
 * levels for long rows). vk_rankk_exact.c owns the exact path that works for every k and
 * every input (radix select + ordered tie compaction + sort), MidK, and the redo of rows
 * the fast path could not finish.
 *
 * stvk_rankk_exact: same arguments as stvk_rankk, x's last dim contiguous (stride 1) with
 * rows at a constant row stride (the caller makes other layouts contiguous first). When
 * row_flags != 0 it is the device address of rows u32 flags and only rows whose flag is
 * non-zero are computed (the others' outputs are left untouched); 0 = every row. */
st_status stvk_rankk_exact(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx, const st_kview *x,
                           int64_t k, const st_rankk_params *p, uint64_t row_flags);

#endif
