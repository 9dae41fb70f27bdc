/* backend.h — the backend interface: a small vtable of storage and kernel entries.
 *
 * Every backend (cpu, vulkan, cuda, hip) provides one `const st_backend` with
 * designated initialisers. The op layer (src/ops) has already checked shapes and
 * dtypes, resolved broadcasting into stride-0 views and allocated outputs, so a kernel
 * only computes. Kernel views (st_kview) describe strided data in the backend's own
 * buffers.
 *
 * Required entries: name, kind, device_count, describe, buf_alloc, buf_free, write,
 * read, sync, copy, fill, unary, binary, where, reduce, argmax, matmul, softmax,
 * index_select, gather, scatter, arange, random.
 * Optional entries (NULL when absent; the op layer then reports ST_E_UNSUPPORTED):
 * documented where they are added.
 */
#ifndef ST_BACKEND_H
#define ST_BACKEND_H

#include "../core/internal.h"

typedef enum st_rank_mode { ST_RANK_TOP = 0, ST_RANK_BOTTOM = 1, ST_RANK_MID = 2 } st_rank_mode;

/* Kernel parameters of a rank-K call, as chosen by the heuristics chain. */
typedef struct st_rankk_params {
    bool u2;      /* TopK: two passes (chunk candidates, then merge); MidK: count, then write */
    int wg;       /* workgroup size; on the CPU: rows per scheduling task */
    int kl;       /* candidates kept per lane before a shrink (CPU: slack = 16*kl) */
    int64_t ch;   /* TopK column chunk per task in pass 1 (0 = whole row) */
    int algo;     /* 0 = streaming filter, 1 = radix select, 2 = subgroup select (ST_RANKK_ALGO_*) */
    int64_t tile; /* MidK columns per compaction tile */
    bool est;     /* estimate the threshold from a sample before the pass (filter) */
} st_rankk_params;
#define ST_RANKK_ALGO_FILTER 0
#define ST_RANKK_ALGO_RADIX 1
#define ST_RANKK_ALGO_SUBGROUP 2 /* GPU: one subgroup per row (rows of <= 32 x subgroup size); CPU: the filter */

typedef struct st_backend {
    const char *name;
    st_backend_kind kind;

    /* ---- devices */
    /* Number of usable devices; when 0, a reason in why (may be NULL). */
    int (*device_count)(char *why, size_t cap);
    st_status (*describe)(int dev, char *buf, size_t cap);
    st_status (*sync)(int dev);

    /* ---- memory (handles are opaque; offsets and sizes in bytes) */
    st_status (*buf_alloc)(int dev, size_t nbytes, void **handle);
    void (*buf_free)(int dev, void *handle, size_t nbytes);
    st_status (*write)(int dev, void *handle, size_t off, const void *src, size_t n);
    st_status (*read)(int dev, void *handle, size_t off, void *dst, size_t n);

    /* ---- kernels; dst is always freshly allocated or an exclusive target */
    /* dst = src converted to dst's dtype; same shape; any strides. */
    st_status (*copy)(int dev, const st_kview *dst, const st_kview *src);
    st_status (*fill)(int dev, const st_kview *dst, double value);
    /* Elementwise; x has dst's shape (broadcast resolved) and dtype. */
    st_status (*unary)(int dev, st_op op, const st_kview *dst, const st_kview *x);
    /* a, b have dst's shape and a common dtype, which is dst's dtype. */
    st_status (*binary)(int dev, st_op op, const st_kview *dst, const st_kview *a, const st_kview *b);
    /* cond any dtype (non-zero = true); a, b in dst's dtype; all of dst's shape. */
    st_status (*where)(int dev, const st_kview *dst, const st_kview *cond, const st_kview *a, const st_kview *b);
    /* SUM/MEAN/MAX/MIN over the dims set in axes_mask; dst has x's ndim with 1 in the
     * reduced dims (keepdim). SUM of integer x writes an i64 dst. */
    st_status (*reduce)(int dev, st_op op, const st_kview *dst, const st_kview *x, uint32_t axes_mask);
    /* i64 dst, x's shape with 1 at axis. */
    st_status (*argmax)(int dev, const st_kview *dst, const st_kview *x, int axis);
    /* a [B,M,K], b [B,K,N], dst [B,M,N] (3-D views, batch strides may be 0). */
    st_status (*matmul)(int dev, const st_kview *dst, const st_kview *a, const st_kview *b);
    /* op is ST_OP_SOFTMAX or ST_OP_LOG_SOFTMAX along dim. */
    st_status (*softmax)(int dev, st_op op, const st_kview *dst, const st_kview *x, int dim);
    /* dst = x with dim indexed by idx (1-D i32/i64, validated in range). */
    st_status (*index_select)(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx);
    /* dst[..i..] = x[..idx[..i..]..] along dim; idx has dst's shape; validated. */
    st_status (*gather)(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx);
    /* dst (already a copy of the base) [..idx[..i..]..] (+)= src[..i..] along dim. */
    st_status (*scatter)(int dev, const st_kview *dst, int dim, const st_kview *idx, const st_kview *src, bool add);
    /* dst[i] = start + i*step (1-D contiguous). */
    st_status (*arange)(int dev, const st_kview *dst, double start, double step);
    /* Philox stream (seed, offset counter): op ST_OP_RAND uniform [0,1), ST_OP_RANDN
     * normal; dst contiguous float. Element i uses counter offset + i/4 (rand) or
     * offset + i/4 with Box-Muller pairs (randn), identically on every backend. */
    st_status (*random)(int dev, st_op op, const st_kview *dst, uint64_t seed, uint64_t offset);

    /* ---- optional entries (NULL when absent) */
    /* Subgroup (warp/wave) size of the device's compute kernels; 0 or NULL: none. The
     * rank-K heuristics get `sg` = (this > 0). */
    int64_t (*subgroup_size)(int dev);
    /* Whether device `auto` may take device dev (false with a reason, e.g. a software
     * Vulkan device that is slower than the CPU backend); NULL: always. */
    bool (*auto_eligible)(int dev, char *why, size_t cap);
    /* Whether tensors of dtype dt can live on the device; NULL: every dtype. */
    bool (*dtype_supported)(int dev, st_dtype dt);
    /* Rank-K along the last dim of x (any strides, leading dims are rows). vals is a
     * contiguous [rows, k] of x's dtype, idx a contiguous [rows, k] of i32 or i64; k in
     * [0, n], already validated. Exact: the total order of SPEC §3. p comes from the
     * heuristics (st_heur_choose / st_heur_choose_midk) and every field is honoured. */
    st_status (*rankk)(int dev, st_rank_mode mode, const st_kview *vals, const st_kview *idx, const st_kview *x,
                       int64_t k, const st_rankk_params *p);
    /* Identity for the tuner (st_device_get_info): name, vendor, driver and, when the
     * backend knows them, its limits (0 = not known; the heuristics' limits are used). */
    st_status (*identify)(int dev, st_device_info *out);
    /* Device timer (st_device_timer_start/stop): start records a timestamp into the
     * device's stream, stop records another, waits and returns the device time between
     * them in ms. ST_E_UNSUPPORTED from start (or NULL entries): the host clock is used. */
    st_status (*timer_start)(int dev);
    st_status (*timer_stop)(int dev, double *ms);
} st_backend;

/* Whether rank-K on this backend asks the heuristics for subgroup kernels (the sg
 * argument of st_heur_choose): one place (src/ops/rankk.c), shared by the op, the
 * tuner and self-rewrite. */
bool st_rankk_uses_subgroup(const st_backend *be, int dev);

/* Registry: the compiled-in backend of a kind, or NULL. */
const st_backend *st_backend_get(st_backend_kind kind);
extern const st_backend st_cpu_backend;

/* Parse ST_DEVICE_AUTO_PRIORITIES-style text ("wgpu,cpu") into kinds. Returns count or
 * -1 with an error that lists the valid names. */
int st_parse_priorities(const char *text, st_backend_kind *out, int cap);

#endif
