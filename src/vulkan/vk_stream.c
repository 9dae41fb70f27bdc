/* vk_stream.c — command batching, barriers, pipelines and dispatch.
 *
 * Commands are recorded into the current command buffer of a ring of STVK_RING; a
 * batch is submitted when it holds STVK_BATCH_CMDS commands, when its constant arena
 * is full, or when the host needs data (stvk_read, stvk_sync). A full memory barrier
 * (compute and transfer, both ways) separates every two recorded commands, inserted
 * lazily before the next one; barriers order across submissions on the same queue, so
 * the stream behaves as one in-order queue.
 *
 * Pipelines are keyed by (shader, specialisation constants, full-subgroups flag) and
 * created once through a VkPipelineCache; shader modules are created once per shader.
 *
 * GPU timestamps (when the queue family has timestampValidBits): st_device_timer_start /
 * _stop record a timestamp into the stream each (like a pair of CUDA events) and return
 * the device time between them; ST_VULKAN_PROFILE=1 brackets every dispatch with two
 * timestamps (a query pool per ring slot, read when the slot's fence has signalled) and
 * prints the GPU time per kernel (shader + specialisation) to stderr at exit.
 */
#include "vk_fns.h"

#include <stdlib.h>

static void barrier(stvk_dev *d, VkCommandBuffer cmd) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, dst = st;
    if (d->cond_begin) { /* a gate word written by a kernel is read by conditional rendering */
        mb.dstAccessMask |= VK_ACCESS_CONDITIONAL_RENDERING_READ_BIT_EXT;
        dst |= VK_PIPELINE_STAGE_CONDITIONAL_RENDERING_BIT_EXT;
    }
    d->fn.vkCmdPipelineBarrier(cmd, st, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

void stvk_batch_recycle(stvk_dev *d, stvk_batch *b) {
    while (b->staging) {
        stvk_buf *s = b->staging;
        b->staging = s->next;
        s->next = d->host_free;
        d->host_free = s;
    }
    while (b->scratch) {
        stvk_buf *s = b->scratch;
        b->scratch = s->next;
        stvk_pool_put(d, s);
    }
    b->arena_used = 0;
    b->ncmds = 0;
    b->nprof = 0;
    b->submitted = false;
}

static void profile_collect(stvk_dev *d, stvk_batch *b);

static st_status wait_slot(stvk_dev *d, stvk_batch *b) {
    if (!b->submitted) return ST_OK;
    VkResult r = d->fn.vkWaitForFences(d->dev, 1, &b->fence, VK_TRUE, UINT64_MAX);
    d->stats.waits++;
    if (r != VK_SUCCESS) return st_err(ST_E_DEVICE, "vulkan: waiting for the device failed (VkResult %d%s)", (int)r,
                                       r == VK_ERROR_DEVICE_LOST ? ": device lost" : "");
    d->fn.vkResetFences(d->dev, 1, &b->fence);
    profile_collect(d, b);
    stvk_batch_recycle(d, b);
    return ST_OK;
}

st_status stvk_cmd(stvk_dev *d, VkCommandBuffer *out) {
    stvk_batch *b = &d->ring[d->cur];
    if (!b->recording) {
        st_status s = wait_slot(d, b);
        if (s != ST_OK) return s;
        d->fn.vkResetCommandBuffer(b->cmd, 0);
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
        if (d->fn.vkBeginCommandBuffer(b->cmd, &bi) != VK_SUCCESS)
            return st_err(ST_E_DEVICE, "vulkan: vkBeginCommandBuffer failed");
        b->recording = true;
        b->serial = d->next_serial++;
        b->nprof = 0;
        if (d->profile) d->fn.vkCmdResetQueryPool(b->cmd, b->prof_pool, 0, 2 * STVK_BATCH_CMDS);
    }
    if (d->need_barrier) {
        barrier(d, b->cmd);
        d->need_barrier = false;
    }
    *out = b->cmd;
    return ST_OK;
}

void stvk_cmd_done(stvk_dev *d) {
    d->need_barrier = true;
    stvk_batch *b = &d->ring[d->cur];
    if (++b->ncmds >= STVK_BATCH_CMDS) stvk_flush(d, false);
}

st_status stvk_flush(stvk_dev *d, bool wait) {
    stvk_batch *b = &d->ring[d->cur];
    st_status s = ST_OK;
    if (b->recording) {
        b->recording = false;
        if (d->fn.vkEndCommandBuffer(b->cmd) != VK_SUCCESS) {
            s = st_err(ST_E_DEVICE, "vulkan: vkEndCommandBuffer failed");
        } else {
            VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &b->cmd};
            VkResult r = d->fn.vkQueueSubmit(d->queue, 1, &si, b->fence);
            if (r != VK_SUCCESS) s = st_err(ST_E_DEVICE, "vulkan: vkQueueSubmit failed (VkResult %d)", (int)r);
            else b->submitted = true;
            d->stats.submits++;
        }
        if (!b->submitted) stvk_batch_recycle(d, b); /* nothing ran: release at once */
        d->cur = (d->cur + 1) % STVK_RING;
    }
    if (wait)
        for (int i = 0; i < STVK_RING; i++) {
            st_status w = wait_slot(d, &d->ring[i]);
            if (s == ST_OK) s = w;
        }
    return s;
}

st_status stvk_sync(int dev) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_lock(d);
    st_status s = stvk_flush(d, true);
    stvk_unlock(d);
    return s;
}

/* ---------------------------------------------------------------- pipelines */

static int shader_index(const char *name) {
    for (size_t i = 0; i < stvk_nshaders; i++)
        if (!strcmp(stvk_shaders[i].name, name)) return (int)i;
    return -1;
}

static bool same_key(const stvk_kernel *a, const stvk_kernel *b) {
    return a->nspec == b->nspec && a->full_subgroups == b->full_subgroups && !strcmp(a->shader, b->shader) &&
           !memcmp(a->spec, b->spec, (size_t)a->nspec * sizeof a->spec[0]);
}

static st_status get_pipeline(stvk_dev *d, const stvk_kernel *k, VkPipeline *out, size_t *index) {
    for (size_t i = 0; i < d->npipes; i++)
        if (same_key(&d->pipes[i].key, k)) {
            *out = d->pipes[i].pipe;
            *index = i;
            return ST_OK;
        }
    if (k->nspec < 0 || k->nspec > STVK_MAX_SPEC)
        return st_err(ST_E_INTERNAL, "vulkan: kernel '%s' has %d specialisation constants", k->shader, k->nspec);
    int si = shader_index(k->shader);
    if (si < 0) return st_err(ST_E_INTERNAL, "vulkan: no embedded shader named '%s'", k->shader);
    if (!d->modules[si]) {
        VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                       .codeSize = stvk_shaders[si].words * 4,
                                       .pCode = stvk_shaders[si].code};
        if (d->fn.vkCreateShaderModule(d->dev, &mi, NULL, &d->modules[si]) != VK_SUCCESS)
            return st_err(ST_E_DEVICE, "vulkan: vkCreateShaderModule failed for '%s'", k->shader);
    }
    VkSpecializationMapEntry ents[STVK_MAX_SPEC];
    for (int i = 0; i < k->nspec; i++) ents[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)(4 * i), 4};
    VkSpecializationInfo spec = {.mapEntryCount = (uint32_t)k->nspec,
                                 .pMapEntries = ents,
                                 .dataSize = (size_t)k->nspec * 4,
                                 .pData = k->spec};
    bool full = k->full_subgroups && d->caps.full_subgroups;
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .flags = full ? VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT : 0,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = d->modules[si],
                  .pName = "main",
                  .pSpecializationInfo = k->nspec ? &spec : NULL},
        .layout = d->layout};
    if (d->profile && d->get_exec_stats) ci.flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
    VkPipeline p;
    VkResult r = d->fn.vkCreateComputePipelines(d->dev, d->pcache, 1, &ci, NULL, &p);
    if (r != VK_SUCCESS)
        return st_err(ST_E_DEVICE, "vulkan: creating the pipeline of '%s' failed (VkResult %d)", k->shader, (int)r);
    if (d->npipes == d->cap_pipes) {
        size_t cap = d->cap_pipes ? 2 * d->cap_pipes : 64;
        stvk_pipe *np = realloc(d->pipes, cap * sizeof *np);
        if (!np) {
            d->fn.vkDestroyPipeline(d->dev, p, NULL);
            return st_err(ST_E_OOM, "vulkan: out of memory caching pipelines");
        }
        for (size_t i = 0; i < d->npipes; i++) np[i].key.shader = np[i].name; /* moved */
        d->pipes = np;
        d->cap_pipes = cap;
    }
    stvk_pipe *e = &d->pipes[d->npipes];
    memset(e, 0, sizeof *e);
    e->key = *k;
    snprintf(e->name, sizeof e->name, "%s", k->shader); /* callers may pass a stack buffer */
    e->pipe = p;
    e->key.shader = e->name;
    *index = d->npipes++;
    d->stats.pipelines++;
    *out = p;
    return ST_OK;
}

/* ---------------------------------------------------------------- GPU timestamps */

/* The slot's fence has signalled: add its dispatches' GPU times to the profile. */
static void profile_collect(stvk_dev *d, stvk_batch *b) {
    if (!d->profile || b->nprof == 0) return;
    uint64_t ts[2 * STVK_BATCH_CMDS];
    VkResult r = d->fn.vkGetQueryPoolResults(d->dev, b->prof_pool, 0, 2 * b->nprof, sizeof(uint64_t) * 2 * b->nprof,
                                             ts, sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS) return;
    for (uint32_t i = 0; i < b->nprof; i++) {
        stvk_pipe *e = &d->pipes[b->prof_pipe[i]];
        double ns = (double)((ts[2 * i + 1] - ts[2 * i]) & d->ts_mask) * d->caps.timestamp_period;
        if (e->prof_count == 0 || ns < e->prof_min_ns) e->prof_min_ns = ns;
        if (ns > e->prof_max_ns) e->prof_max_ns = ns;
        e->prof_count++;
        e->prof_total_ns += ns;
    }
    b->nprof = 0;
}

static stvk_dev *g_prof_devs[STVK_MAX_DEVICES];
static int g_nprof_devs;

static int prof_cmp(const void *a, const void *b) {
    double x = (*(const stvk_pipe *const *)a)->prof_total_ns, y = (*(const stvk_pipe *const *)b)->prof_total_ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The driver's statistics of the pipeline's executable(s) (VK_KHR_pipeline_executable_
 * properties), one line: e.g. registers and shared memory, which set the occupancy. */
static void print_exec_stats(stvk_dev *d, const stvk_pipe *e) {
    if (!d->get_exec_stats) return;
    VkPipelineExecutableInfoKHR ei = {.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR, .pipeline = e->pipe};
    VkPipelineExecutableStatisticKHR st[32];
    uint32_t n = 32;
    for (uint32_t i = 0; i < n; i++) st[i] = (VkPipelineExecutableStatisticKHR){
        .sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR};
    VkResult r = d->get_exec_stats(d->dev, &ei, &n, st);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) return;
    fprintf(stderr, "#   stats:");
    for (uint32_t i = 0; i < n; i++) {
        const VkPipelineExecutableStatisticKHR *t = &st[i];
        switch (t->format) {
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR:
            fprintf(stderr, " %s=%u;", t->name, (unsigned)t->value.b32);
            break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR:
            fprintf(stderr, " %s=%lld;", t->name, (long long)t->value.i64);
            break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR:
            fprintf(stderr, " %s=%llu;", t->name, (unsigned long long)t->value.u64);
            break;
        default:
            fprintf(stderr, " %s=%g;", t->name, t->value.f64);
        }
    }
    fprintf(stderr, "\n");
}

static void profile_report(void) {
    for (int i = 0; i < g_nprof_devs; i++) {
        stvk_dev *d = g_prof_devs[i];
        stvk_lock(d);
        stvk_flush(d, true);
        const stvk_pipe **by = malloc((d->npipes ? d->npipes : 1) * sizeof *by);
        size_t n = 0;
        double all = 0;
        for (size_t j = 0; by && j < d->npipes; j++)
            if (d->pipes[j].prof_count) {
                by[n++] = &d->pipes[j];
                all += d->pipes[j].prof_total_ns;
            }
        if (by) qsort(by, n, sizeof *by, prof_cmp);
        fprintf(stderr, "# ST_VULKAN_PROFILE %s: GPU time per kernel (%.3f ms in all)\n", d->caps.name, all / 1e6);
        fprintf(stderr, "# %10s %8s %10s %10s %10s  kernel [spec]\n", "total_ms", "count", "mean_us", "min_us", "max_us");
        for (size_t j = 0; j < n; j++) {
            const stvk_pipe *e = by[j];
            fprintf(stderr, "# %10.3f %8llu %10.2f %10.2f %10.2f  %s [", e->prof_total_ns / 1e6,
                    (unsigned long long)e->prof_count, e->prof_total_ns / 1e3 / (double)e->prof_count,
                    e->prof_min_ns / 1e3, e->prof_max_ns / 1e3, e->name);
            for (int q = 0; q < e->key.nspec; q++) fprintf(stderr, "%s%u", q ? " " : "", e->key.spec[q]);
            fprintf(stderr, "]\n");
            print_exec_stats(d, e);
        }
        free(by);
        stvk_unlock(d);
    }
}

void stvk_profile_init(stvk_dev *d) {
    if (!st_env_on("ST_VULKAN_PROFILE")) return;
    if (!d->ts_mask) {
        st_logf(ST_LOG_WARN, "ST_VULKAN_PROFILE: the compute queue of '%s' has no timestamps; not profiling",
                d->caps.name);
        return;
    }
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                .queryCount = 2 * STVK_BATCH_CMDS};
    for (int i = 0; i < STVK_RING; i++)
        if (d->fn.vkCreateQueryPool(d->dev, &qi, NULL, &d->ring[i].prof_pool) != VK_SUCCESS) {
            st_logf(ST_LOG_WARN, "ST_VULKAN_PROFILE: vkCreateQueryPool failed; not profiling");
            return;
        }
    d->profile = true;
    if (g_nprof_devs == 0) atexit(profile_report);
    if (g_nprof_devs < STVK_MAX_DEVICES) g_prof_devs[g_nprof_devs++] = d;
}

st_status stvk_timer_start(int dev) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    if (!d->ts_mask) return ST_E_UNSUPPORTED; /* the caller falls back to the host clock */
    stvk_lock(d);
    st_status s = ST_OK;
    if (!d->timer_pool) {
        VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                    .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                    .queryCount = 2};
        if (d->fn.vkCreateQueryPool(d->dev, &qi, NULL, &d->timer_pool) != VK_SUCCESS) {
            d->timer_pool = VK_NULL_HANDLE;
            s = st_err(ST_E_DEVICE, "vulkan: vkCreateQueryPool failed (device timer)");
        }
    }
    VkCommandBuffer cmd;
    if (s == ST_OK) s = stvk_cmd(d, &cmd);
    if (s == ST_OK) {
        d->fn.vkCmdResetQueryPool(cmd, d->timer_pool, 0, 2);
        d->fn.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, d->timer_pool, 0);
        d->timer_started = true;
    }
    stvk_unlock(d);
    return s;
}

st_status stvk_timer_stop(int dev, double *ms) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_lock(d);
    st_status s = ST_OK;
    VkCommandBuffer cmd;
    if (!d->timer_started) s = st_err(ST_E_INVALID_ARG, "st_device_timer_stop: the timer of vulkan:%d was not started", dev);
    if (s == ST_OK) s = stvk_cmd(d, &cmd);
    if (s == ST_OK) {
        d->fn.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, d->timer_pool, 1);
        d->timer_started = false;
        s = stvk_flush(d, true);
    }
    if (s == ST_OK) {
        uint64_t ts[2];
        VkResult r = d->fn.vkGetQueryPoolResults(d->dev, d->timer_pool, 0, 2, sizeof ts, ts, sizeof ts[0],
                                                 VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r != VK_SUCCESS) s = st_err(ST_E_DEVICE, "vulkan: reading the device timer failed (VkResult %d)", (int)r);
        else *ms = (double)((ts[1] - ts[0]) & d->ts_mask) * d->caps.timestamp_period / 1e6;
    }
    stvk_unlock(d);
    return s;
}

/* The gate (stvk_gate_begin): per thread, so that another thread's ops recorded on the
 * same device in between are never gated by it. */
static _Thread_local stvk_gate_state t_gate;

static st_status dispatch_locked(stvk_dev *d, const stvk_kernel *k, uint32_t gx, uint32_t gy, uint32_t gz,
                                 const void *pc, uint32_t pcsize) {
    if (pcsize > STVK_PUSH_MAX || (pcsize & 3))
        return st_err(ST_E_INTERNAL, "vulkan: kernel '%s': %u bytes of push constants", k->shader, pcsize);
    if (gx > d->caps.max_groups[0] || gy > d->caps.max_groups[1] || gz > d->caps.max_groups[2])
        return st_err(ST_E_DEVICE, "vulkan: kernel '%s': %ux%ux%u workgroups exceed the device's %ux%ux%u", k->shader,
                      gx, gy, gz, d->caps.max_groups[0], d->caps.max_groups[1], d->caps.max_groups[2]);
    if (!gx || !gy || !gz) return ST_OK;
    VkPipeline p = VK_NULL_HANDLE;
    size_t pi = 0;
    st_status s = get_pipeline(d, k, &p, &pi);
    if (s != ST_OK) return s;
    VkCommandBuffer cmd;
    if ((s = stvk_cmd(d, &cmd)) != ST_OK) return s;
    d->fn.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p);
    if (pcsize) d->fn.vkCmdPushConstants(cmd, d->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, pcsize, pc);
    stvk_batch *b = &d->ring[d->cur];
    bool prof = d->profile && b->nprof < STVK_BATCH_CMDS;
    if (prof) d->fn.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, b->prof_pool, 2 * b->nprof);
    bool gated = t_gate.dev == d && t_gate.buf != VK_NULL_HANDLE;
    if (gated) {
        VkConditionalRenderingBeginInfoEXT ci = {.sType = VK_STRUCTURE_TYPE_CONDITIONAL_RENDERING_BEGIN_INFO_EXT,
                                                 .buffer = t_gate.buf,
                                                 .offset = t_gate.off};
        d->cond_begin(cmd, &ci);
    }
    d->fn.vkCmdDispatch(cmd, gx, gy, gz);
    if (gated) d->cond_end(cmd);
    if (prof) {
        d->fn.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, b->prof_pool, 2 * b->nprof + 1);
        b->prof_pipe[b->nprof++] = (uint32_t)pi;
    }
    d->stats.dispatches++;
    snprintf(d->stats.last_shader, sizeof d->stats.last_shader, "%s", k->shader);
    memcpy(d->stats.last_spec, k->spec, sizeof d->stats.last_spec);
    d->stats.last_groups[0] = gx;
    d->stats.last_groups[1] = gy;
    d->stats.last_groups[2] = gz;
    if (d->trace) d->trace(d->trace_ud, k, (uint32_t[3]){gx, gy, gz});
    stvk_cmd_done(d);
    return ST_OK;
}

st_status stvk_gate_begin(int dev, void *handle, size_t off) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    if (off % 4) return st_err(ST_E_INTERNAL, "vulkan: gate word at byte %zu is not 4-byte aligned", off);
    bool on = d->cond_begin && !st_env_on("ST_VULKAN_NO_GATE"); /* read per call: tests run both ways */
    t_gate.dev = d;
    t_gate.buf = on ? ((stvk_buf *)handle)->buf : VK_NULL_HANDLE;
    t_gate.off = off;
    return ST_OK;
}

void stvk_gate_end(int dev) {
    (void)dev;
    t_gate.dev = NULL;
    t_gate.buf = VK_NULL_HANDLE;
}

stvk_gate_state stvk_gate_save(void) { return t_gate; }

void stvk_gate_restore(stvk_gate_state g) { t_gate = g; }

st_status stvk_dispatch(int dev, const stvk_kernel *k, uint32_t gx, uint32_t gy, uint32_t gz, const void *pc,
                        uint32_t pcsize) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    stvk_lock(d);
    st_status s = dispatch_locked(d, k, gx, gy, gz, pc, pcsize);
    stvk_unlock(d);
    return s;
}

st_status stvk_dispatch_linear(int dev, const stvk_kernel *k, uint64_t ngroups, const void *pc, uint32_t pcsize) {
    if (ngroups == 0) return ST_OK;
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return st_last_status();
    uint64_t mx = d->caps.max_groups[0];
    uint64_t gx = ngroups < mx ? ngroups : mx;
    uint64_t gy = (ngroups + gx - 1) / gx;
    if (gy > d->caps.max_groups[1])
        return st_err(ST_E_DEVICE, "vulkan: kernel '%s': %llu workgroups exceed the device's limits", k->shader,
                      (unsigned long long)ngroups);
    stvk_lock(d);
    st_status s = dispatch_locked(d, k, (uint32_t)gx, (uint32_t)gy, 1, pc, pcsize);
    stvk_unlock(d);
    return s;
}

void stvk_get_stats(int dev, stvk_stats *out) {
    memset(out, 0, sizeof *out);
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return;
    stvk_lock(d);
    *out = d->stats;
    stvk_unlock(d);
}

void stvk_trace(int dev, stvk_trace_fn fn, void *ud) {
    stvk_dev *d = stvk_dev_get(dev);
    if (!d) return;
    stvk_lock(d);
    d->trace = fn;
    d->trace_ud = ud;
    stvk_unlock(d);
}
