/* cpu_backend.c — the CPU backend: device description, host memory, and the
 * data-movement kernels (copy with conversion, fill, arange, random). The compute
 * kernels live in cpu_elementwise.c, cpu_reduce.c, cpu_matmul.c and cpu_index.c.
 */
#include "cpu.h"

#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int g_threads;

static int st_cpu_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int st_cpu_threads(void) {
    if (g_threads <= 0) {
        const char *v = st_env("ST_NUM_THREADS");
        int n = v ? atoi(v) : 0;
        if (v && n <= 0) st_logf(ST_LOG_WARN, "ST_NUM_THREADS='%s' is not a positive integer; ignored", v);
        g_threads = n > 0 ? n : st_cpu_cores();
        if (g_threads < 1) g_threads = 1;
    }
    return g_threads;
}
void st_set_num_threads(int n) { g_threads = n > 0 ? n : 0; }
int st_get_num_threads(void) { return st_cpu_threads(); }

static int cpu_device_count(char *why, size_t cap) {
    (void)why;
    (void)cap;
    return 1;
}

static void cpu_model(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ') c++;
                c[strcspn(c, "\n")] = 0;
                snprintf(buf, cap, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static st_status cpu_describe(int dev, char *buf, size_t cap) {
    if (dev != 0) return st_err(ST_E_DEVICE, "cpu: device index %d out of range (1 device)", dev);
    char model[256];
    cpu_model(model, sizeof model);
    snprintf(buf, cap, "cpu: %s, %d thread(s), %d core(s)", model, st_cpu_threads(), st_cpu_cores());
    return ST_OK;
}

/* Identity for the tuner: the model name, the vendor id of /proc/cpuinfo, and what
 * the kernels run on (threads, BLAS). No subgroups. */
static st_status cpu_identify(int dev, st_device_info *out) {
    if (dev != 0) return st_err(ST_E_DEVICE, "cpu: device index %d out of range (1 device)", dev);
    cpu_model(out->name, sizeof out->name);
    snprintf(out->vendor, sizeof out->vendor, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "vendor_id", 9) == 0 && c) {
            c += 1 + strspn(c + 1, " \t");
            c[strcspn(c, "\n")] = 0;
            snprintf(out->vendor, sizeof out->vendor, "%s", c);
            break;
        }
    }
    if (f) fclose(f);
    snprintf(out->driver, sizeof out->driver, "libspiraltorch %s, %d thread(s), OpenBLAS", st_version(), st_cpu_threads());
    out->subgroup_size = 0;
    return ST_OK;
}

static st_status cpu_sync(int dev) {
    (void)dev;
    return ST_OK;
}

/* Large buffers ask for transparent huge pages: a fresh 64 MiB tensor then costs 32
 * page faults instead of 16384 (first touch dominates out-of-place ops on big tensors).
 * Only the 2 MiB-aligned inside of the block is advised; the hint is best effort. */
#define ST_HUGE_MIN ((size_t)8 << 20)
#define ST_HUGE_PAGE ((uintptr_t)2 << 20)
static st_status cpu_alloc(int dev, size_t nbytes, void **handle) {
    (void)dev;
    *handle = st_malloc_aligned(nbytes ? nbytes : 64, 64);
    if (!*handle) return st_last_status();
#ifdef MADV_HUGEPAGE
    if (nbytes >= ST_HUGE_MIN) {
        uintptr_t b = ((uintptr_t)*handle + ST_HUGE_PAGE - 1) & ~(ST_HUGE_PAGE - 1);
        uintptr_t e = ((uintptr_t)*handle + nbytes) & ~(ST_HUGE_PAGE - 1);
        if (e > b) (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
    }
#endif
    return ST_OK;
}
static void cpu_buf_free(int dev, void *handle, size_t nbytes) {
    (void)dev;
    (void)nbytes;
    st_free(handle);
}
static st_status cpu_write(int dev, void *handle, size_t off, const void *src, size_t n) {
    (void)dev;
    memcpy((char *)handle + off, src, n);
    return ST_OK;
}
static st_status cpu_read(int dev, void *handle, size_t off, void *dst, size_t n) {
    (void)dev;
    memcpy(dst, (const char *)handle + off, n);
    return ST_OK;
}

/* ---------------------------------------------------------------- copy */

#define COPY_ROW(TD, TS)                                                   \
    do {                                                                   \
        TD *d_ = (TD *)(void *)dp;                                         \
        const TS *s_ = (const TS *)(const void *)sp;                       \
        if (ds == 1 && ss == 1)                                            \
            for (int64_t i = 0; i < n; i++) d_[i] = (TD)s_[i];             \
        else                                                               \
            for (int64_t i = 0; i < n; i++) d_[i * ds] = (TD)s_[i * ss];   \
    } while (0)

#define COPY_SRC(TD)                                          \
    switch (st) {                                             \
    case ST_F32: COPY_ROW(TD, float); break;                  \
    case ST_F64: COPY_ROW(TD, double); break;                 \
    case ST_I32: COPY_ROW(TD, int32_t); break;                \
    case ST_I64: COPY_ROW(TD, int64_t); break;                \
    }

static void copy_row(st_dtype dt, char *dp, int64_t ds, st_dtype st, const char *sp, int64_t ss, int64_t n) {
    if (dt == st && ds == 1 && ss == 1) {
        memcpy(dp, sp, (size_t)n * st_dtype_size(dt));
        return;
    }
    switch (dt) {
    case ST_F32: COPY_SRC(float); break;
    case ST_F64: COPY_SRC(double); break;
    case ST_I32: COPY_SRC(int32_t); break;
    case ST_I64: COPY_SRC(int64_t); break;
    }
}

st_status st_cpu_copy(int dev, const st_kview *dst, const st_kview *src) {
    (void)dev;
    const st_kview *vs[2] = {dst, src};
    st_iter it;
    st_iter_init(&it, 2, vs);
    char *db = st_cpu_base(dst);
    const char *sb = st_cpu_base(src);
    size_t dz = st_dtype_size(dst->dtype), sz = st_dtype_size(src->dtype);
    /* Split long rows into chunks so a single big row is still shared by threads. */
    int64_t chunk = it.inner > ST_CPU_PAR_MIN ? ST_CPU_PAR_MIN : (it.inner ? it.inner : 1);
    int64_t per_row = (it.inner + chunk - 1) / chunk;
    int64_t tasks = it.outer * per_row;
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) if (it.numel >= ST_CPU_PAR_MIN)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t row = t / per_row, c0 = (t % per_row) * chunk;
        int64_t n = it.inner - c0 < chunk ? it.inner - c0 : chunk;
        int64_t offs[2];
        st_iter_row(&it, row, offs);
        copy_row(dst->dtype, db + (offs[0] + c0 * it.istride[0]) * (int64_t)dz, it.istride[0], src->dtype,
                 sb + (offs[1] + c0 * it.istride[1]) * (int64_t)sz, it.istride[1], n);
    }
    return ST_OK;
}

st_status st_cpu_fill(int dev, const st_kview *dst, double value) {
    (void)dev;
    /* Fill one element, then replicate it with a converting copy from a stride-0 view. */
    union {
        float f;
        double d;
        int32_t i;
        int64_t l;
    } one;
    switch (dst->dtype) {
    case ST_F32: one.f = (float)value; break;
    case ST_F64: one.d = value; break;
    case ST_I32: one.i = (int32_t)value; break;
    case ST_I64: one.l = (int64_t)value; break;
    }
    st_kview src = *dst;
    src.handle = &one;
    src.offset = 0;
    for (int d = 0; d < src.ndim; d++) src.strides[d] = 0;
    return st_cpu_copy(dev, dst, &src);
}

st_status st_cpu_arange(int dev, const st_kview *dst, double start, double step) {
    (void)dev;
    int64_t n = dst->ndim ? dst->shape[0] : 1;
    char *b = st_cpu_base(dst);
    for (int64_t i = 0; i < n; i++) {
        double v = start + (double)i * step;
        switch (dst->dtype) {
        case ST_F32: ((float *)(void *)b)[i] = (float)v; break;
        case ST_F64: ((double *)(void *)b)[i] = v; break;
        case ST_I32: ((int32_t *)(void *)b)[i] = (int32_t)v; break;
        case ST_I64: ((int64_t *)(void *)b)[i] = (int64_t)v; break;
        }
    }
    return ST_OK;
}

/* u32 -> [0,1): 24 bits for f32, 32 bits for f64 (two words would change the stream
 * layout between dtypes; 32 bits keep element i on counter offset + i/4 for both). */
static inline double u01(uint32_t w) { return (double)w * (1.0 / 4294967296.0); }
static inline float u01f(uint32_t w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }

st_status st_cpu_random(int dev, st_op op, const st_kview *dst, uint64_t seed, uint64_t offset) {
    (void)dev;
    int64_t n = st_shape_numel(dst->ndim, dst->shape);
    char *b = st_cpu_base(dst);
    int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) num_threads(st_cpu_threads()) if (n >= ST_CPU_PAR_MIN)
    for (int64_t blk = 0; blk < blocks; blk++) {
        uint32_t w[4];
        st_philox4x32(seed, offset + (uint64_t)blk, w);
        double v[4];
        if (op == ST_OP_RAND) {
            for (int j = 0; j < 4; j++) v[j] = dst->dtype == ST_F32 ? (double)u01f(w[j]) : u01(w[j]);
        } else {
            /* Box-Muller on (w0,w1) and (w2,w3); u1 in (0,1]. */
            for (int j = 0; j < 4; j += 2) {
                double u1 = ((double)w[j] + 1.0) * (1.0 / 4294967296.0);
                double u2 = u01(w[j + 1]);
                double r = sqrt(-2.0 * log(u1));
                v[j] = r * cos(6.283185307179586 * u2);
                v[j + 1] = r * sin(6.283185307179586 * u2);
            }
        }
        for (int j = 0; j < 4; j++) {
            int64_t i = blk * 4 + j;
            if (i >= n) break;
            if (dst->dtype == ST_F32) {
                float f = (float)v[j];
                if (op == ST_OP_RAND && f >= 1.0f) f = 0x1.fffffep-1f;
                ((float *)(void *)b)[i] = f;
            } else {
                ((double *)(void *)b)[i] = v[j];
            }
        }
    }
    return ST_OK;
}

const st_backend st_cpu_backend = {
    .name = "cpu",
    .kind = ST_BACKEND_CPU,
    .device_count = cpu_device_count,
    .describe = cpu_describe,
    .sync = cpu_sync,
    .buf_alloc = cpu_alloc,
    .buf_free = cpu_buf_free,
    .write = cpu_write,
    .read = cpu_read,
    .copy = st_cpu_copy,
    .fill = st_cpu_fill,
    .unary = st_cpu_unary,
    .binary = st_cpu_binary,
    .where = st_cpu_where,
    .reduce = st_cpu_reduce,
    .argmax = st_cpu_argmax,
    .matmul = st_cpu_matmul,
    .softmax = st_cpu_softmax,
    .index_select = st_cpu_index_select,
    .gather = st_cpu_gather,
    .scatter = st_cpu_scatter,
    .arange = st_cpu_arange,
    .random = st_cpu_random,
    .rankk = st_cpu_rankk,
    .identify = cpu_identify,
};
