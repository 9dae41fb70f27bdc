/* vk_device.c — the Vulkan loader (dlopen), the instance, device discovery and opening.
 *
 * A physical device is usable when it reports Vulkan >= 1.2, a compute queue,
 * bufferDeviceAddress and shaderInt64 (every kernel addresses buffers by device address
 * with 64-bit arithmetic). Discovery never fails the process: the reason a device or
 * the loader is missing is kept and reported (`spiral info`, device `auto`).
 * ST_VULKAN_VALIDATION=1 enables VK_LAYER_KHRONOS_validation and logs every message of
 * severity warning or error as "vulkan validation error: ..." (make test fails on it).
 *
 * Invariants: g_inst is created once (under g_once_mu); devices are opened lazily, once,
 * and stay open until process exit (the driver tears them down).
 */
#include "vk_fns.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

stvk_ifns stvk_i;
static stvk_gfns g_g;
static PFN_vkGetInstanceProcAddr g_gipa;
static void *g_lib;
static VkInstance g_inst;
static bool g_inst_tried;
static char g_inst_why[256];
static pthread_mutex_t g_once_mu = PTHREAD_MUTEX_INITIALIZER;
static VkPhysicalDevice g_phys[STVK_MAX_DEVICES];
static int g_nphys;
static stvk_dev g_devs[STVK_MAX_DEVICES];
static pthread_mutex_t g_dev_mu[STVK_MAX_DEVICES];
static uint64_t g_validation_msgs;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data, void *ud) {
    (void)type;
    (void)ud;
    if (sev >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        __atomic_add_fetch(&g_validation_msgs, 1, __ATOMIC_RELAXED);
        st_logf(ST_LOG_ERROR, "vulkan validation error: %s", data && data->pMessage ? data->pMessage : "(no text)");
    }
    return VK_FALSE;
}

uint64_t stvk_validation_messages(void) { return __atomic_load_n(&g_validation_msgs, __ATOMIC_RELAXED); }

static bool has_layer(const char *name) {
    uint32_t n = 0;
    if (!g_g.vkEnumerateInstanceLayerProperties || g_g.vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS)
        return false;
    VkLayerProperties *p = calloc(n ? n : 1, sizeof *p);
    bool found = false;
    if (p && g_g.vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            if (!strcmp(p[i].layerName, name)) found = true;
    free(p);
    return found;
}

/* Loads libvulkan and creates the instance; sets g_inst_why on failure. */
static void instance_init(void) {
    const char *forced = st_env("ST_VULKAN_LOADER"); /* a path, for tests and odd installs */
    const char *libs[] = {forced ? forced : "libvulkan.so.1", forced ? forced : "libvulkan.so"};
    for (size_t i = 0; i < 2 && !g_lib; i++) g_lib = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
    if (!g_lib) {
        snprintf(g_inst_why, sizeof g_inst_why, "no Vulkan loader (%.120s not found%s)", libs[0],
                 forced ? ", from ST_VULKAN_LOADER" : "; Debian: libvulkan1");
        return;
    }
    void *sym = dlsym(g_lib, "vkGetInstanceProcAddr");
    memcpy(&g_gipa, &sym, sizeof g_gipa); /* object -> function pointer, as POSIX allows */
    if (!g_gipa) {
        snprintf(g_inst_why, sizeof g_inst_why, "the Vulkan loader has no vkGetInstanceProcAddr");
        return;
    }
#define LOADG(f) g_g.f = (PFN_##f)g_gipa(NULL, #f);
    STVK_GLOBAL_FNS(LOADG)
#undef LOADG
    uint32_t ver = VK_API_VERSION_1_0;
    if (g_g.vkEnumerateInstanceVersion) g_g.vkEnumerateInstanceVersion(&ver);
    if (ver < VK_API_VERSION_1_2) {
        snprintf(g_inst_why, sizeof g_inst_why, "the Vulkan loader is %u.%u; 1.2 or newer is needed",
                 VK_API_VERSION_MAJOR(ver), VK_API_VERSION_MINOR(ver));
        return;
    }
    bool validate = st_env_on("ST_VULKAN_VALIDATION");
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    if (validate && !has_layer(layer)) {
        st_logf(ST_LOG_ERROR, "vulkan validation error: ST_VULKAN_VALIDATION is set but %s is not installed "
                              "(Debian: vulkan-validationlayers)", layer);
        __atomic_add_fetch(&g_validation_msgs, 1, __ATOMIC_RELAXED);
        validate = false;
    }
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "spiraltorch",
                             .pEngineName = "spiraltorch",
                             .apiVersion = VK_API_VERSION_1_3};
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_debug};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pNext = validate ? &dbg : NULL,
                               .pApplicationInfo = &app,
                               .enabledLayerCount = validate ? 1 : 0,
                               .ppEnabledLayerNames = &layer,
                               .enabledExtensionCount = validate ? 1 : 0,
                               .ppEnabledExtensionNames = &ext};
    VkResult r = g_g.vkCreateInstance(&ci, NULL, &g_inst);
    if (r != VK_SUCCESS) {
        g_inst = VK_NULL_HANDLE;
        snprintf(g_inst_why, sizeof g_inst_why, "vkCreateInstance failed (VkResult %d%s)", (int)r,
                 r == VK_ERROR_INCOMPATIBLE_DRIVER ? ": no compatible driver (ICD) is installed" : "");
        return;
    }
#define LOADI(f) stvk_i.f = (PFN_##f)g_gipa(g_inst, #f);
    STVK_INSTANCE_FNS(LOADI)
#undef LOADI
    if (validate) {
        PFN_vkCreateDebugUtilsMessengerEXT mk =
            (PFN_vkCreateDebugUtilsMessengerEXT)g_gipa(g_inst, "vkCreateDebugUtilsMessengerEXT");
        VkDebugUtilsMessengerEXT m;
        if (mk) mk(g_inst, &dbg, NULL, &m); /* lives as long as the instance */
        st_logf(ST_LOG_INFO, "vulkan: validation layer enabled");
    }
    uint32_t n = 0;
    stvk_i.vkEnumeratePhysicalDevices(g_inst, &n, NULL);
    VkPhysicalDevice all[32];
    if (n > 32) n = 32;
    stvk_i.vkEnumeratePhysicalDevices(g_inst, &n, all);
    char reasons[256] = "";
    for (uint32_t i = 0; i < n && g_nphys < STVK_MAX_DEVICES; i++) {
        VkPhysicalDeviceProperties p;
        stvk_i.vkGetPhysicalDeviceProperties(all[i], &p);
        VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
        const char *miss = NULL;
        if (p.apiVersion < VK_API_VERSION_1_2) miss = "Vulkan 1.2";
        if (!miss) {
            stvk_i.vkGetPhysicalDeviceFeatures2(all[i], &f2);
            if (!f12.bufferDeviceAddress) miss = "bufferDeviceAddress";
            else if (!f2.features.shaderInt64) miss = "shaderInt64";
        }
        if (miss) {
            size_t l = strlen(reasons);
            if (l > 160) continue;
            snprintf(reasons + l, sizeof reasons - l, "%s'%.60s' lacks %s", l ? "; " : "", p.deviceName, miss);
            continue;
        }
        g_phys[g_nphys++] = all[i];
    }
    if (g_nphys == 0)
        snprintf(g_inst_why, sizeof g_inst_why, "%.250s", n == 0 ? "the Vulkan loader found no device (no ICD/driver)" : reasons);
    for (int i = 0; i < STVK_MAX_DEVICES; i++) pthread_mutex_init(&g_dev_mu[i], NULL);
}

static void ensure_instance(void) {
    pthread_mutex_lock(&g_once_mu);
    if (!g_inst_tried) {
        g_inst_tried = true;
        instance_init();
    }
    pthread_mutex_unlock(&g_once_mu);
}

int stvk_device_count(char *why, size_t cap) {
    ensure_instance();
    if (g_nphys == 0 && why && cap) snprintf(why, cap, "%s", g_inst_why);
    return g_nphys;
}

static const char *vendor_name(uint32_t id) {
    switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x106B: return "Apple";
    case 0x10005: return "Mesa";
    default: return "unknown";
    }
}

static uint32_t pick_type(const VkPhysicalDeviceMemoryProperties *mp, VkMemoryPropertyFlags want,
                          VkMemoryPropertyFlags avoid, bool largest_heap) {
    uint32_t best = UINT32_MAX;
    VkDeviceSize best_heap = 0;
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
        if ((f & want) != want || (f & avoid)) continue;
        VkDeviceSize hs = mp->memoryHeaps[mp->memoryTypes[i].heapIndex].size;
        if (best == UINT32_MAX || (largest_heap && hs > best_heap)) {
            best = i;
            best_heap = hs;
        }
    }
    return best;
}

static void query_caps(stvk_dev *d) {
    stvk_caps *c = &d->caps;
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlProperties sc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES, .pNext = &sg};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, .pNext = &sc};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &drv};
    stvk_i.vkGetPhysicalDeviceProperties2(d->phys, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;
    snprintf(c->name, sizeof c->name, "%s", p->deviceName);
    snprintf(c->vendor, sizeof c->vendor, "%s", vendor_name(p->vendorID));
    snprintf(c->driver, sizeof c->driver, "%.40s %.50s", drv.driverName, drv.driverInfo);
    c->vendor_id = p->vendorID;
    c->device_id = p->deviceID;
    c->api_version = p->apiVersion;
    c->type = p->deviceType;
    bool compute_sg = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0 &&
                      (sg.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) != 0;
    c->subgroup_size = compute_sg ? sg.subgroupSize : 0;
    c->subgroup_ops = compute_sg ? sg.supportedOperations : 0;
    c->max_wg_invocations = p->limits.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        c->max_wg_size[i] = p->limits.maxComputeWorkGroupSize[i];
        c->max_groups[i] = p->limits.maxComputeWorkGroupCount[i];
    }
    c->shared_mem = p->limits.maxComputeSharedMemorySize;
    c->timestamp_period = p->limits.timestampPeriod;
    VkPhysicalDeviceVulkan13Features f13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = p->apiVersion >= VK_API_VERSION_1_3 ? &f13 : NULL};
    stvk_i.vkGetPhysicalDeviceFeatures2(d->phys, &f2);
    c->float64 = f2.features.shaderFloat64;
    c->int64 = f2.features.shaderInt64;
    if (f13.subgroupSizeControl) {
        c->min_subgroup_size = sc.minSubgroupSize;
        c->max_subgroup_size = sc.maxSubgroupSize;
    }
    c->full_subgroups = f13.computeFullSubgroups;
    stvk_i.vkGetPhysicalDeviceMemoryProperties(d->phys, &d->memprops);
    const VkPhysicalDeviceMemoryProperties *mp = &d->memprops;
    const VkMemoryPropertyFlags HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    d->mt_device = pick_type(mp, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, true);
    if (d->mt_device == UINT32_MAX) d->mt_device = pick_type(mp, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, true);
    if (d->mt_device == UINT32_MAX) d->mt_device = pick_type(mp, 0, 0, true);
    d->mt_host = pick_type(mp, HV, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, false);
    if (d->mt_host == UINT32_MAX) d->mt_host = pick_type(mp, HV, 0, false);
    d->mt_readback = pick_type(mp, HV | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0, false);
    if (d->mt_readback == UINT32_MAX) d->mt_readback = d->mt_host;
    VkMemoryPropertyFlags df = mp->memoryTypes[d->mt_device].propertyFlags;
    c->uma = (df & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
    c->device_local_bytes = mp->memoryHeaps[mp->memoryTypes[d->mt_device].heapIndex].size;
    c->max_alloc = (uint64_t)1 << 32;
}

static bool has_device_ext(VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    if (stvk_i.vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL) != VK_SUCCESS || n == 0) return false;
    VkExtensionProperties *e = calloc(n, sizeof *e);
    bool found = false;
    if (e && stvk_i.vkEnumerateDeviceExtensionProperties(phys, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(e[i].extensionName, name) == 0;
    free(e);
    return found;
}

/* Creates the logical device, queue, command pool, pipeline layout and cache. */
static st_status open_device(stvk_dev *d, int index) {
    d->phys = g_phys[index];
    query_caps(d);
    if (d->mt_host == UINT32_MAX)
        return st_err(ST_E_DEVICE, "vulkan: device '%s' has no host-visible coherent memory", d->caps.name);
    uint32_t nq = 0;
    stvk_i.vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    if (nq > 16) nq = 16;
    stvk_i.vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &nq, qf);
    d->qfam = UINT32_MAX;
    for (uint32_t i = 0; i < nq; i++) /* prefer a compute queue without graphics (async compute) */
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) &&
            (d->qfam == UINT32_MAX || !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
            d->qfam = i;
    if (d->qfam == UINT32_MAX) return st_err(ST_E_DEVICE, "vulkan: device '%s' has no compute queue", d->caps.name);
    uint32_t tsbits = qf[d->qfam].timestampValidBits;
    d->ts_mask = tsbits == 0 ? 0 : tsbits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << tsbits) - 1);
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = d->qfam,
                                   .queueCount = 1,
                                   .pQueuePriorities = &prio};
    bool v13 = d->caps.api_version >= VK_API_VERSION_1_3;
    VkPhysicalDeviceVulkan13Features f13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .subgroupSizeControl = d->caps.min_subgroup_size != 0,
                                            .computeFullSubgroups = d->caps.full_subgroups};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = v13 ? &f13 : NULL,
                                            .bufferDeviceAddress = VK_TRUE};
    /* ST_VULKAN_PROFILE: also the driver's per-pipeline statistics, where it has them */
    const char *exec_ext = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR fex = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR,
        .pipelineExecutableInfo = VK_TRUE};
    bool exec_stats = st_env_on("ST_VULKAN_PROFILE") && has_device_ext(d->phys, exec_ext);
    /* conditional rendering (stvk_gate_begin): dispatches gated by a device word */
    const char *cond_ext = VK_EXT_CONDITIONAL_RENDERING_EXTENSION_NAME;
    VkPhysicalDeviceConditionalRenderingFeaturesEXT fcond = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_CONDITIONAL_RENDERING_FEATURES_EXT};
    bool cond = false;
    if (has_device_ext(d->phys, cond_ext)) {
        VkPhysicalDeviceFeatures2 q = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &fcond};
        stvk_i.vkGetPhysicalDeviceFeatures2(d->phys, &q);
        cond = fcond.conditionalRendering;
        fcond.pNext = NULL;
        fcond.inheritedConditionalRendering = VK_FALSE;
    }
    /* optional feature structs, chained after f12 (f13) */
    void **tail = v13 ? &f13.pNext : &f12.pNext;
    const char *exts[2];
    uint32_t next = 0;
    if (exec_stats) {
        *tail = &fex;
        tail = &fex.pNext;
        exts[next++] = exec_ext;
    }
    if (cond) {
        *tail = &fcond;
        tail = &fcond.pNext;
        exts[next++] = cond_ext;
    }
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
    f2.features.shaderInt64 = VK_TRUE;
    f2.features.shaderFloat64 = d->caps.float64;
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &f2,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = next,
                              .ppEnabledExtensionNames = next ? exts : NULL};
    VkResult r = stvk_i.vkCreateDevice(d->phys, &dci, NULL, &d->dev);
    if (r != VK_SUCCESS) return st_err(ST_E_DEVICE, "vulkan: vkCreateDevice failed on '%s' (VkResult %d)", d->caps.name, (int)r);
#define LOADD(f)                                                                  \
    d->fn.f = (PFN_##f)stvk_i.vkGetDeviceProcAddr(d->dev, #f);                    \
    if (!d->fn.f) return st_err(ST_E_DEVICE, "vulkan: driver lacks %s", #f);
    STVK_DEVICE_FNS(LOADD)
#undef LOADD
    if (cond) {
        d->cond_begin = (PFN_vkCmdBeginConditionalRenderingEXT)stvk_i.vkGetDeviceProcAddr(
            d->dev, "vkCmdBeginConditionalRenderingEXT");
        d->cond_end = (PFN_vkCmdEndConditionalRenderingEXT)stvk_i.vkGetDeviceProcAddr(
            d->dev, "vkCmdEndConditionalRenderingEXT");
        if (!d->cond_begin || !d->cond_end) d->cond_begin = NULL, d->cond_end = NULL;
    }
    if (exec_stats)
        d->get_exec_stats = (PFN_vkGetPipelineExecutableStatisticsKHR)stvk_i.vkGetDeviceProcAddr(
            d->dev, "vkGetPipelineExecutableStatisticsKHR");
    d->fn.vkGetDeviceQueue(d->dev, d->qfam, 0, &d->queue);
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = d->qfam};
    if (d->fn.vkCreateCommandPool(d->dev, &pci, NULL, &d->pool) != VK_SUCCESS)
        return st_err(ST_E_DEVICE, "vulkan: vkCreateCommandPool failed");
    VkCommandBuffer cmds[STVK_RING];
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = d->pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = STVK_RING};
    if (d->fn.vkAllocateCommandBuffers(d->dev, &cai, cmds) != VK_SUCCESS)
        return st_err(ST_E_DEVICE, "vulkan: vkAllocateCommandBuffers failed");
    for (int i = 0; i < STVK_RING; i++) {
        d->ring[i].cmd = cmds[i];
        VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        if (d->fn.vkCreateFence(d->dev, &fci, NULL, &d->ring[i].fence) != VK_SUCCESS)
            return st_err(ST_E_DEVICE, "vulkan: vkCreateFence failed");
    }
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = STVK_PUSH_MAX};
    VkPipelineLayoutCreateInfo lci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .pushConstantRangeCount = 1,
                                      .pPushConstantRanges = &pr};
    if (d->fn.vkCreatePipelineLayout(d->dev, &lci, NULL, &d->layout) != VK_SUCCESS)
        return st_err(ST_E_DEVICE, "vulkan: vkCreatePipelineLayout failed");
    VkPipelineCacheCreateInfo cci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    if (d->fn.vkCreatePipelineCache(d->dev, &cci, NULL, &d->pcache) != VK_SUCCESS) d->pcache = VK_NULL_HANDLE;
    d->modules = calloc(stvk_nshaders ? stvk_nshaders : 1, sizeof *d->modules);
    if (!d->modules) return st_err(ST_E_OOM, "vulkan: out of memory");
    d->mutex = &g_dev_mu[index];
    d->next_serial = 1;
    stvk_profile_init(d);
    st_logf(ST_LOG_INFO, "vulkan: opened '%s' (subgroup %u, %u KiB shared, %s)", d->caps.name, d->caps.subgroup_size,
            d->caps.shared_mem / 1024, d->caps.uma ? "unified memory" : "discrete memory");
    return ST_OK;
}

stvk_dev *stvk_dev_get(int dev) {
    ensure_instance();
    if (dev < 0 || dev >= g_nphys) {
        if (g_nphys == 0) st_err(ST_E_DEVICE, "vulkan: no usable device: %s", g_inst_why);
        else st_err(ST_E_DEVICE, "vulkan: device index %d out of range (%d device(s))", dev, g_nphys);
        return NULL;
    }
    stvk_dev *d = &g_devs[dev];
    if (__atomic_load_n(&d->open, __ATOMIC_ACQUIRE)) return d;
    pthread_mutex_lock(&g_once_mu);
    if (!d->open && !d->failed) {
        if (open_device(d, dev) == ST_OK) __atomic_store_n(&d->open, true, __ATOMIC_RELEASE);
        else {
            d->failed = true;
            snprintf(d->why, sizeof d->why, "%s", st_last_error());
        }
    }
    pthread_mutex_unlock(&g_once_mu);
    if (!d->open) {
        st_err(ST_E_DEVICE, "%s", d->why);
        return NULL;
    }
    return d;
}

void stvk_lock(stvk_dev *d) { pthread_mutex_lock((pthread_mutex_t *)d->mutex); }
void stvk_unlock(stvk_dev *d) { pthread_mutex_unlock((pthread_mutex_t *)d->mutex); }

const stvk_caps *stvk_caps_of(int dev) {
    stvk_dev *d = stvk_dev_get(dev);
    return d ? &d->caps : NULL;
}

st_status stvk_describe(int dev, char *buf, size_t cap) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    const stvk_caps *c = &d->caps;
    snprintf(buf, cap,
             "vulkan:%d: %s (%s, %s, Vulkan %u.%u, driver %s), subgroup %u, max workgroup %u, shared %u KiB, "
             "memory %.1f GiB%s%s",
             dev, c->name, c->vendor,
             c->type == VK_PHYSICAL_DEVICE_TYPE_CPU ? "cpu" : c->type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ? "discrete gpu"
                                                          : c->type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ? "integrated gpu"
                                                                                                              : "other",
             VK_API_VERSION_MAJOR(c->api_version), VK_API_VERSION_MINOR(c->api_version), c->driver, c->subgroup_size,
             c->max_wg_invocations, c->shared_mem / 1024, (double)c->device_local_bytes / (1 << 30),
             c->uma ? ", unified" : "", c->float64 ? ", f64" : "");
    return ST_OK;
}

int stvk_dtype_code(int dev, st_dtype dt, const char *op) {
    switch (dt) {
    case ST_F32: return STVK_DT_F32;
    case ST_I32: return STVK_DT_I32;
    case ST_I64: return STVK_DT_I64;
    default: break;
    }
    (void)dev;
    st_err(ST_E_DTYPE, "%s: dtype %s is not supported on the vulkan backend (f32, i32, i64 are; use the cpu device "
                       "for f64)", op, st_dtype_name(dt));
    return -1;
}
