/* vk_fns.h — the Vulkan entry points the backend uses, loaded at run time (vk_device.c).
 *
 * One X-macro list per level: global (before an instance), instance, device. Calls go
 * through the tables `stvk_g`, `stvk_i` and a device's `fn` table, so no symbol of
 * libvulkan is needed at link time.
 */
#ifndef ST_VK_FNS_H
#define ST_VK_FNS_H

#include "vk_internal.h"

#define STVK_GLOBAL_FNS(X) \
    X(vkCreateInstance)     \
    X(vkEnumerateInstanceVersion) \
    X(vkEnumerateInstanceExtensionProperties) \
    X(vkEnumerateInstanceLayerProperties)

#define STVK_INSTANCE_FNS(X)                    \
    X(vkDestroyInstance)                        \
    X(vkEnumeratePhysicalDevices)               \
    X(vkGetPhysicalDeviceProperties)            \
    X(vkGetPhysicalDeviceProperties2)           \
    X(vkGetPhysicalDeviceFeatures2)             \
    X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkGetPhysicalDeviceMemoryProperties)      \
    X(vkEnumerateDeviceExtensionProperties)     \
    X(vkCreateDevice)                           \
    X(vkGetDeviceProcAddr)

#define STVK_DEVICE_FNS(X)               \
    X(vkDestroyDevice)                   \
    X(vkGetDeviceQueue)                  \
    X(vkDeviceWaitIdle)                  \
    X(vkQueueSubmit)                     \
    X(vkCreateBuffer)                    \
    X(vkDestroyBuffer)                   \
    X(vkGetBufferMemoryRequirements)     \
    X(vkAllocateMemory)                  \
    X(vkFreeMemory)                      \
    X(vkBindBufferMemory)                \
    X(vkMapMemory)                       \
    X(vkUnmapMemory)                     \
    X(vkGetBufferDeviceAddress)          \
    X(vkCreateCommandPool)               \
    X(vkDestroyCommandPool)              \
    X(vkAllocateCommandBuffers)          \
    X(vkBeginCommandBuffer)              \
    X(vkEndCommandBuffer)                \
    X(vkResetCommandBuffer)              \
    X(vkCreateFence)                     \
    X(vkDestroyFence)                    \
    X(vkWaitForFences)                   \
    X(vkResetFences)                     \
    X(vkGetFenceStatus)                  \
    X(vkCreateShaderModule)              \
    X(vkDestroyShaderModule)             \
    X(vkCreatePipelineLayout)            \
    X(vkDestroyPipelineLayout)           \
    X(vkCreatePipelineCache)             \
    X(vkDestroyPipelineCache)            \
    X(vkCreateComputePipelines)          \
    X(vkDestroyPipeline)                 \
    X(vkCmdBindPipeline)                 \
    X(vkCmdPushConstants)                \
    X(vkCmdDispatch)                     \
    X(vkCmdPipelineBarrier)              \
    X(vkCmdCopyBuffer)                   \
    X(vkCmdFillBuffer)                   \
    X(vkCmdUpdateBuffer)                 \
    X(vkCreateQueryPool)                 \
    X(vkCmdResetQueryPool)               \
    X(vkCmdWriteTimestamp)               \
    X(vkGetQueryPoolResults)

#define STVK_DECL(f) PFN_##f f;
typedef struct stvk_gfns {
    STVK_GLOBAL_FNS(STVK_DECL)
} stvk_gfns;
typedef struct stvk_ifns {
    STVK_INSTANCE_FNS(STVK_DECL)
} stvk_ifns;
typedef struct stvk_dfns {
    STVK_DEVICE_FNS(STVK_DECL)
} stvk_dfns;
#undef STVK_DECL

extern stvk_ifns stvk_i;

/* Per-device state (vk_device.c owns creation; vk_stream.c and vk_memory.c the rest). */
#define STVK_RING 4 /* command buffers in flight */
#define STVK_BATCH_CMDS 512 /* commands per command buffer before it is submitted */
typedef struct stvk_batch {
    VkCommandBuffer cmd;
    VkFence fence;
    bool recording, submitted;
    uint32_t ncmds;
    uint64_t serial;
    struct stvk_buf *staging; /* host-visible buffers to recycle when the fence signals */
    struct stvk_buf *scratch; /* device buffers to return to the pool then */
    struct stvk_buf *arena;   /* small-constant arena of this batch */
    size_t arena_used;
    VkQueryPool prof_pool;    /* ST_VULKAN_PROFILE: two timestamps per dispatch */
    uint32_t nprof;           /* dispatches timed in this batch */
    uint32_t prof_pipe[STVK_BATCH_CMDS]; /* their pipelines (index in stvk_dev.pipes) */
} stvk_batch;

typedef struct stvk_pipe {
    stvk_kernel key; /* key.shader points at name */
    char name[64];
    VkPipeline pipe;
    /* ST_VULKAN_PROFILE: GPU time of this pipeline's dispatches, summed over the run */
    uint64_t prof_count;
    double prof_total_ns, prof_min_ns, prof_max_ns;
} stvk_pipe;

typedef struct stvk_dev {
    bool open, failed;
    char why[256];
    VkPhysicalDevice phys;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    stvk_dfns fn;
    stvk_caps caps;
    VkPhysicalDeviceMemoryProperties memprops;
    uint32_t mt_device, mt_host, mt_readback; /* memory type indices */
    VkCommandPool pool;
    stvk_batch ring[STVK_RING];
    int cur;               /* ring slot being recorded */
    uint64_t next_serial;
    bool need_barrier;     /* a command was recorded since the last barrier */
    VkPipelineLayout layout;
    VkPipelineCache pcache;
    VkShaderModule *modules; /* per stvk_shaders entry, lazily */
    stvk_pipe *pipes;
    size_t npipes, cap_pipes;
    /* memory pool: free lists by size class */
    struct stvk_buf *pool_free[64][4];
    size_t pool_bytes, live_bytes;
    struct stvk_buf *host_free; /* recycled staging buffers */
    stvk_stats stats;
    stvk_trace_fn trace;
    void *trace_ud;
    /* GPU timestamps: valid-bit mask of the queue's timestamps (0: none; ticks are
     * caps.timestamp_period ns) */
    uint64_t ts_mask;
    VkQueryPool timer_pool; /* st_device_timer_start/stop: 2 timestamps */
    bool timer_started;
    bool profile;           /* ST_VULKAN_PROFILE=1 */
    /* ST_VULKAN_PROFILE with VK_KHR_pipeline_executable_properties: the driver's
     * statistics of each profiled pipeline (registers, shared memory, ...) */
    PFN_vkGetPipelineExecutableStatisticsKHR get_exec_stats;
    /* VK_EXT_conditional_rendering (NULL: none): stvk_gate_begin/end */
    PFN_vkCmdBeginConditionalRenderingEXT cond_begin;
    PFN_vkCmdEndConditionalRenderingEXT cond_end;
    void *mutex; /* pthread_mutex_t* */
} stvk_dev;

/* The device, opened; NULL + error when unusable. Caller then locks d->mutex. */
stvk_dev *stvk_dev_get(int dev);
void stvk_lock(stvk_dev *d);
void stvk_unlock(stvk_dev *d);

/* vk_stream.c (lock held) */
st_status stvk_cmd(stvk_dev *d, VkCommandBuffer *out); /* current command buffer, barrier inserted */
void stvk_cmd_done(stvk_dev *d);                       /* after recording one command */
st_status stvk_flush(stvk_dev *d, bool wait);          /* submit the current batch; wait for all */
/* GPU timestamps (vk_stream.c, lock held by the callers): profile setup at device open */
void stvk_profile_init(stvk_dev *d);
void stvk_batch_recycle(stvk_dev *d, stvk_batch *b);   /* fence signalled: release its buffers */

/* vk_memory.c (lock held) */
st_status stvk_buf_new(stvk_dev *d, size_t nbytes, uint32_t mem_type, stvk_buf **out);
void stvk_buf_destroy(stvk_dev *d, stvk_buf *b);
st_status stvk_pool_get(stvk_dev *d, size_t nbytes, stvk_buf **out);
void stvk_pool_put(stvk_dev *d, stvk_buf *b);
st_status stvk_host_get(stvk_dev *d, size_t nbytes, stvk_buf **out);
void stvk_pool_trim(stvk_dev *d); /* destroy cached buffers (device idle) */

#endif
