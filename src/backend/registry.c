/* registry.c — compiled-in backends, device names, ST_DEVICE_AUTO_PRIORITIES.
 *
 * Backends register by being listed in the table below under their CMake option
 * (ST_HAVE_VULKAN, ST_HAVE_CUDA, ST_HAVE_HIP). Device `auto` walks the priority list:
 * the first compiled-in backend with a usable device wins.
 */
#include "backend.h"

#include <stdlib.h>
#include <strings.h>

#ifdef ST_HAVE_VULKAN
extern const st_backend st_vulkan_backend;
#endif
#ifdef ST_HAVE_CUDA
extern const st_backend st_cuda_backend;
#endif
#ifdef ST_HAVE_HIP
extern const st_backend st_hip_backend;
#endif

static const st_backend *const g_backends[ST_NUM_BACKENDS] = {
    [ST_BACKEND_CPU] = &st_cpu_backend,
#ifdef ST_HAVE_VULKAN
    [ST_BACKEND_VULKAN] = &st_vulkan_backend,
#endif
#ifdef ST_HAVE_CUDA
    [ST_BACKEND_CUDA] = &st_cuda_backend,
#endif
#ifdef ST_HAVE_HIP
    [ST_BACKEND_HIP] = &st_hip_backend,
#endif
};

static const char *const g_names[ST_NUM_BACKENDS] = {"cpu", "vulkan", "cuda", "hip"};
#define VALID_NAMES "cpu, vulkan, wgpu, cuda, hip"

const st_backend *st_backend_get(st_backend_kind kind) {
    return (unsigned)kind < ST_NUM_BACKENDS ? g_backends[kind] : NULL;
}
const char *st_backend_name(st_backend_kind kind) {
    return (unsigned)kind < ST_NUM_BACKENDS ? g_names[kind] : "unknown";
}
bool st_backend_compiled(st_backend_kind kind) { return st_backend_get(kind) != NULL; }

int st_backend_device_count(st_backend_kind kind, char *why, size_t cap) {
    const st_backend *be = st_backend_get(kind);
    if (!be) {
        if (why && cap) snprintf(why, cap, "not compiled in (CMake option ST_%s=OFF)",
                                 kind == ST_BACKEND_VULKAN ? "VULKAN" : kind == ST_BACKEND_CUDA ? "CUDA" : "HIP");
        return 0;
    }
    char tmp[256] = "";
    int n = be->device_count(tmp, sizeof tmp);
    if (n <= 0 && why && cap) snprintf(why, cap, "%s", tmp[0] ? tmp : "no device found");
    return n > 0 ? n : 0;
}

/* Name (without ":N") to kind; -1 when unknown. */
static int kind_of(const char *s, size_t len) {
    static const struct {
        const char *name;
        st_backend_kind kind;
    } map[] = {{"cpu", ST_BACKEND_CPU},   {"vulkan", ST_BACKEND_VULKAN}, {"wgpu", ST_BACKEND_VULKAN},
               {"cuda", ST_BACKEND_CUDA}, {"hip", ST_BACKEND_HIP}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].name) == len && strncasecmp(map[i].name, s, len) == 0) return (int)map[i].kind;
    return -1;
}

int st_parse_priorities(const char *text, st_backend_kind *out, int cap) {
    int n = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        const char *b = p;
        while (*p && *p != ',') p++;
        const char *e = p;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
        int k = kind_of(b, (size_t)(e - b));
        if (k < 0) {
            st_err(ST_E_INVALID_ARG, "ST_DEVICE_AUTO_PRIORITIES: unknown backend '%.*s' (valid: %s)", (int)(e - b), b,
                   VALID_NAMES);
            return -1;
        }
        if (n < cap) out[n++] = (st_backend_kind)k;
    }
    if (n == 0) {
        st_err(ST_E_INVALID_ARG, "ST_DEVICE_AUTO_PRIORITIES: empty list (valid: %s)", VALID_NAMES);
        return -1;
    }
    return n;
}

static const char *priorities_text(void) {
    const char *v = st_env("ST_DEVICE_AUTO_PRIORITIES");
    return v ? v : "wgpu,cpu";
}

/* Walks the list; fills *out with the winner. Writes a report when buf is given. */
static st_status auto_select(st_device *out, char *buf, size_t cap, size_t *needed) {
    st_backend_kind kinds[16];
    size_t len = 0;
#define EMIT(...)                                                                         \
    do {                                                                                  \
        int w_ = snprintf(buf ? buf + (len < cap ? len : cap) : NULL, buf && len < cap ? cap - len : 0, __VA_ARGS__); \
        if (w_ > 0) len += (size_t)w_;                                                    \
    } while (0)
    const char *text = priorities_text();
    EMIT("ST_DEVICE_AUTO_PRIORITIES=%s%s\n", text, st_env("ST_DEVICE_AUTO_PRIORITIES") ? "" : " (default)");
    int n = st_parse_priorities(text, kinds, 16);
    st_status status = ST_OK;
    bool found = false;
    if (n < 0) {
        EMIT("  error: %s\n", st_last_error());
        status = st_last_status();
    }
    for (int i = 0; i < n && !found; i++) {
        char why[256] = "";
        int cnt = st_backend_device_count(kinds[i], why, sizeof why);
        if (cnt > 0) {
            int idx = 0;
            const char *iv = NULL;
            if (kinds[i] == ST_BACKEND_VULKAN) iv = st_env("ST_VULKAN_DEVICE");
            if (kinds[i] == ST_BACKEND_CUDA) iv = st_env("ST_CUDA_DEVICE");
            if (kinds[i] == ST_BACKEND_HIP) iv = st_env("ST_HIP_DEVICE");
            if (iv) {
                char *end;
                long v = strtol(iv, &end, 10);
                if (*end || v < 0 || v >= cnt) {
                    EMIT("  %s: device index '%s' is out of range [0, %d); using 0\n", st_backend_name(kinds[i]), iv, cnt);
                    v = 0;
                }
                idx = (int)v;
            }
            const st_backend *be = st_backend_get(kinds[i]);
            char no[256] = "";
            if (be->auto_eligible && !be->auto_eligible(idx, no, sizeof no)) {
                EMIT("  %s: skipped: %s\n", st_backend_name(kinds[i]), no);
                st_logf(ST_LOG_INFO, "device auto: %s skipped: %s", st_backend_name(kinds[i]), no);
                continue;
            }
            if (out) *out = (st_device){kinds[i], idx};
            EMIT("  %s: %d device(s) -> chosen (index %d)\n", st_backend_name(kinds[i]), cnt, idx);
            found = true;
        } else {
            EMIT("  %s: skipped: %s\n", st_backend_name(kinds[i]), why);
            st_logf(ST_LOG_INFO, "device auto: %s skipped: %s", st_backend_name(kinds[i]), why);
        }
    }
    if (!found && status == ST_OK) {
        /* The CPU is always there: fall through to it even if the list omits it. */
        if (out) *out = (st_device){ST_BACKEND_CPU, 0};
        EMIT("  no listed backend is usable -> cpu (always available)\n");
    }
    if (needed) *needed = len;
#undef EMIT
    return status;
}

st_status st_device_auto(st_device *out) {
    if (!out) return st_err(ST_E_INVALID_ARG, "st_device_auto: NULL output");
    return auto_select(out, NULL, 0, NULL);
}

size_t st_device_auto_report(char *buf, size_t cap) {
    size_t need = 0;
    auto_select(NULL, buf, cap, &need);
    return need;
}

st_status st_device_parse(const char *name, st_device *out) {
    if (!name || !out) return st_err(ST_E_INVALID_ARG, "st_device_parse: NULL argument");
    if (strcasecmp(name, "auto") == 0) return st_device_auto(out);
    const char *colon = strchr(name, ':');
    size_t len = colon ? (size_t)(colon - name) : strlen(name);
    int k = kind_of(name, len);
    if (k < 0) return st_err(ST_E_INVALID_ARG, "unknown device '%s' (valid: auto, %s, optionally with :N)", name, VALID_NAMES);
    int idx = 0;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (colon[1] == 0 || *end || v < 0 || v > 1024)
            return st_err(ST_E_INVALID_ARG, "device '%s': index must be a non-negative integer", name);
        idx = (int)v;
    }
    char why[256] = "";
    int cnt = st_backend_device_count((st_backend_kind)k, why, sizeof why);
    if (cnt == 0) return st_err(ST_E_DEVICE, "device '%s' is not available: %s", name, why);
    if (idx >= cnt) return st_err(ST_E_DEVICE, "device '%s': index %d out of range (%d device(s))", name, idx, cnt);
    *out = (st_device){(st_backend_kind)k, idx};
    return ST_OK;
}

st_status st_device_describe(st_device dev, char *buf, size_t cap) {
    const st_backend *be = st_backend_get(dev.kind);
    if (!be) return st_err(ST_E_DEVICE, "backend '%s' is not compiled in", st_backend_name(dev.kind));
    return be->describe(dev.index, buf, cap);
}

static st_device g_default = {ST_BACKEND_CPU, 0};

st_status st_set_default_device(st_device dev) {
    char why[256];
    int cnt = st_backend_device_count(dev.kind, why, sizeof why);
    if (cnt == 0) return st_err(ST_E_DEVICE, "st_set_default_device: %s is not available: %s", st_backend_name(dev.kind), why);
    if (dev.index < 0 || dev.index >= cnt)
        return st_err(ST_E_DEVICE, "st_set_default_device: %s index %d out of range", st_backend_name(dev.kind), dev.index);
    g_default = dev;
    return ST_OK;
}
st_device st_get_default_device(void) { return g_default; }

st_status st_device_sync(st_device dev) {
    const st_backend *be = st_backend_get(dev.kind);
    if (!be) return st_err(ST_E_DEVICE, "backend '%s' is not compiled in", st_backend_name(dev.kind));
    return be->sync(dev.index);
}

/* Device timers: per thread and device, whether the backend's timer or the host clock
 * runs, and the host clock's start. */
#define ST_TIMER_DEVS 16
static _Thread_local struct {
    int mode; /* 0 not started, 1 backend timer, 2 host clock */
    double t0;
} g_timer[ST_NUM_BACKENDS][ST_TIMER_DEVS];

st_status st_device_timer_start(st_device dev) {
    const st_backend *be = st_backend_get(dev.kind);
    if (!be) return st_err(ST_E_DEVICE, "backend '%s' is not compiled in", st_backend_name(dev.kind));
    if (dev.index < 0 || dev.index >= ST_TIMER_DEVS)
        return st_err(ST_E_INVALID_ARG, "st_device_timer_start: device index %d out of range [0, %d)", dev.index,
                      ST_TIMER_DEVS);
    st_status s = be->timer_start ? be->timer_start(dev.index) : ST_E_UNSUPPORTED;
    if (s == ST_OK) {
        g_timer[dev.kind][dev.index].mode = 1;
        return ST_OK;
    }
    if (s != ST_E_UNSUPPORTED) return s;
    if ((s = be->sync(dev.index)) != ST_OK) return s;
    g_timer[dev.kind][dev.index].mode = 2;
    g_timer[dev.kind][dev.index].t0 = st_mono_ms();
    return ST_OK;
}

st_status st_device_timer_stop(st_device dev, double *ms) {
    if (!ms) return st_err(ST_E_INVALID_ARG, "st_device_timer_stop: ms is NULL");
    const st_backend *be = st_backend_get(dev.kind);
    if (!be) return st_err(ST_E_DEVICE, "backend '%s' is not compiled in", st_backend_name(dev.kind));
    if (dev.index < 0 || dev.index >= ST_TIMER_DEVS || g_timer[dev.kind][dev.index].mode == 0)
        return st_err(ST_E_INVALID_ARG, "st_device_timer_stop: the timer of %s:%d was not started in this thread",
                      st_backend_name(dev.kind), dev.index);
    int mode = g_timer[dev.kind][dev.index].mode;
    g_timer[dev.kind][dev.index].mode = 0;
    if (mode == 1) return be->timer_stop(dev.index, ms);
    st_status s = be->sync(dev.index);
    if (s == ST_OK) *ms = st_mono_ms() - g_timer[dev.kind][dev.index].t0;
    return s;
}

st_status st_device_get_info(st_device dev, st_device_info *out) {
    if (!out) return st_err(ST_E_INVALID_ARG, "st_device_get_info: out is NULL");
    memset(out, 0, sizeof *out);
    const st_backend *be = st_backend_get(dev.kind);
    if (!be) return st_err(ST_E_DEVICE, "backend '%s' is not compiled in", st_backend_name(dev.kind));
    snprintf(out->backend, sizeof out->backend, "%s", be->name);
    st_status s = be->identify ? be->identify(dev.index, out) : be->describe(dev.index, out->name, sizeof out->name);
    if (s != ST_OK) return s;
    snprintf(out->backend, sizeof out->backend, "%s", be->name);
    st_heur_limits lim;
    st_heur_get_limits(&lim);
    if (!be->identify) out->subgroup_size = lim.subgroup_size; /* else the backend's word (0: none) */
    if (out->max_workgroup <= 0) out->max_workgroup = lim.max_workgroup;
    if (out->shared_mem <= 0) out->shared_mem = lim.shared_mem;
    out->subgroup = st_rankk_uses_subgroup(be, dev.index);
    return ST_OK;
}
