/* npy.c — NumPy .npy files: st_npy_load, st_npy_load_mem, st_npy_save.
 *
 * Format (NEP 1 / numpy.lib.format): "\x93NUMPY", major, minor, header length (u16 LE
 * for 1.0, u32 LE for 2.0 and 3.0), then the header — a Python dict literal with the
 * keys 'descr', 'fortran_order' and 'shape', padded with spaces and ended by '\n' — and
 * the raw data.
 *
 * Loading is strict about meaning and tolerant about spelling: keys in any order,
 * any spacing, single or double quotes, a trailing comma, Python-2 'L' suffixes on
 * shape numbers; the header need not end at a 64-byte boundary. It rejects, with
 * ST_E_FORMAT and a message "npy: <name>: <problem>": a wrong magic, an unknown
 * version, a header longer than NPY_MAX_HEADER, a malformed/incomplete dict, a
 * missing, repeated or unknown key, a dtype other than [<>][fi][48], a negative or
 * too large shape, more than ST_MAX_DIMS dims, truncated header or data, and TRAILING
 * BYTES after the data (a file of one array holds exactly its data; extra bytes mean
 * the header and the data disagree). Every size is checked against the bytes
 * actually present before anything is allocated, so no input causes a huge
 * allocation. I/O failures are ST_E_IO.
 *
 * Saving writes version 1.0 (2.0 if the header ever needs more than 65535 bytes),
 * little-endian, C order, data at a multiple of 64 bytes; into "<path>.tmp.<pid>.<n>"
 * first, fsync'd, then renamed over path, so a failed save leaves no partial file.
 */
#include "../backend/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAX_HEADER 65536
#define NPY_ALIGN 64
#define NPY_MAX_ELEMS (INT64_C(1) << 47) /* the tensor layer's limit */
static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

typedef struct npy_hdr {
    st_dtype dt;
    bool big_endian;
    bool fortran;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
} npy_hdr;

/* "npy: <name>: <message>" as ST_E_FORMAT (or `s`). */
static st_status npy_err(st_status s, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static st_status npy_err(st_status s, const char *name, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return st_err(s, "npy: %s: %s", name, msg);
}

static bool host_is_le(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static void byte_swap(void *data, int64_t n, size_t esz) {
    uint8_t *p = data;
    for (int64_t i = 0; i < n; i++, p += esz)
        for (size_t a = 0, b = esz - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* ---------------------------------------------------------------- header parser */

typedef struct hparse {
    const char *p, *end;
    const char *name;
} hparse;

static void hp_ws(hparse *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\r' || *h->p == '\n')) h->p++;
}

/* Error naming what was expected and what was found. */
static st_status hp_err(hparse *h, const char *expected) {
    if (h->p >= h->end)
        return npy_err(ST_E_FORMAT, h->name, "malformed header: expected %s, found the end of the header", expected);
    unsigned char c = (unsigned char)*h->p;
    if (c >= 0x20 && c < 0x7f)
        return npy_err(ST_E_FORMAT, h->name, "malformed header: expected %s, found '%c'", expected, c);
    return npy_err(ST_E_FORMAT, h->name, "malformed header: expected %s, found byte 0x%02x", expected, c);
}

static bool hp_eat(hparse *h, char c) {
    hp_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

/* A quoted Python string without escapes, into out (cap bytes). */
static st_status hp_string(hparse *h, char *out, size_t cap, const char *what) {
    hp_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return hp_err(h, what);
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        unsigned char c = (unsigned char)*h->p;
        if (c == '\\' || c < 0x20 || c >= 0x7f)
            return npy_err(ST_E_FORMAT, h->name, "malformed header: unsupported character 0x%02x in a string", c);
        if (n + 1 >= cap)
            return npy_err(ST_E_FORMAT, h->name, "malformed header: string longer than %zu characters", cap - 1);
        out[n++] = (char)c;
        h->p++;
    }
    if (h->p >= h->end) return npy_err(ST_E_FORMAT, h->name, "malformed header: unterminated string");
    h->p++;
    out[n] = 0;
    return ST_OK;
}

static bool hp_word(hparse *h, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n) != 0) return false;
    const char *after = h->p + n;
    if (after < h->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') || *after == '_'))
        return false;
    h->p = after;
    return true;
}

static st_status hp_bool(hparse *h, bool *out) {
    hp_ws(h);
    if (hp_word(h, "True")) *out = true;
    else if (hp_word(h, "False")) *out = false;
    else return hp_err(h, "True or False for 'fortran_order'");
    return ST_OK;
}

/* One shape entry: [-]digits[L]. */
static st_status hp_dim(hparse *h, int64_t *out) {
    hp_ws(h);
    const char *start = h->p;
    bool neg = h->p < h->end && *h->p == '-';
    if (neg) h->p++;
    if (h->p >= h->end || *h->p < '0' || *h->p > '9') return hp_err(h, "an integer in 'shape'");
    int64_t v = 0;
    bool big = false;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        if (v > (INT64_MAX - 9) / 10) big = true;
        else v = v * 10 + (*h->p - '0');
        h->p++;
    }
    if (h->p < h->end && *h->p == 'L') h->p++;
    if (neg && (v > 0 || big))
        return npy_err(ST_E_FORMAT, h->name, "negative dimension %.*s in 'shape'",
                       (int)(h->p - start > 24 ? 24 : h->p - start), start);
    if (big || v > NPY_MAX_ELEMS)
        return npy_err(ST_E_FORMAT, h->name, "dimension in 'shape' is too large (limit 2^47)");
    *out = v;
    return ST_OK;
}

static st_status hp_shape(hparse *h, npy_hdr *hd) {
    if (!hp_eat(h, '(')) return hp_err(h, "a tuple '(...)' for 'shape'");
    int n = 0;
    bool trailing_comma = false;
    while (!hp_eat(h, ')')) {
        if (n == ST_MAX_DIMS)
            return npy_err(ST_E_FORMAT, h->name, "'shape' has more than %d dims (the maximum)", ST_MAX_DIMS);
        st_status s = hp_dim(h, &hd->shape[n]);
        if (s != ST_OK) return s;
        n++;
        trailing_comma = hp_eat(h, ',');
        if (!trailing_comma) {
            if (hp_eat(h, ')')) break;
            return hp_err(h, "',' or ')' in 'shape'");
        }
    }
    if (n == 1 && !trailing_comma)
        return npy_err(ST_E_FORMAT, h->name,
                       "'shape' (%" PRId64 ") is not a tuple (a 1-tuple is written (%" PRId64 ",))", hd->shape[0],
                       hd->shape[0]);
    hd->ndim = n;
    return ST_OK;
}

static st_status parse_descr(const char *name, const char *d, npy_hdr *hd) {
    static const struct {
        char kind, size;
        st_dtype dt;
    } ok[] = {{'f', '4', ST_F32}, {'f', '8', ST_F64}, {'i', '4', ST_I32}, {'i', '8', ST_I64}};
    if (strlen(d) == 3 && (d[0] == '<' || d[0] == '>')) {
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            if (d[1] == ok[i].kind && d[2] == ok[i].size) {
                hd->dt = ok[i].dt;
                hd->big_endian = d[0] == '>';
                return ST_OK;
            }
    }
    return npy_err(ST_E_FORMAT, name,
                   "unsupported dtype '%s' (supported: <f4 <f8 <i4 <i8 and big-endian forms >f4 >f8 >i4 >i8)", d);
}

/* Value of one key; *seen is the bit of the keys already met. */
static st_status hp_entry(hparse *h, npy_hdr *hd, unsigned *seen) {
    char key[32], descr[40];
    st_status s = hp_string(h, key, sizeof key, "a quoted key or '}'");
    if (s != ST_OK) return s;
    if (!hp_eat(h, ':')) return hp_err(h, "':' after a key");
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    int k = 0;
    while (k < 3 && strcmp(key, keys[k]) != 0) k++;
    if (k == 3)
        return npy_err(ST_E_FORMAT, h->name,
                       "malformed header: unknown key '%s' (expected 'descr', 'fortran_order', 'shape')", key);
    if (*seen & (1u << k)) return npy_err(ST_E_FORMAT, h->name, "malformed header: key '%s' appears twice", key);
    *seen |= 1u << k;
    if (k == 0) {
        hp_ws(h);
        if (h->p < h->end && (*h->p == '[' || *h->p == '{'))
            return npy_err(ST_E_FORMAT, h->name,
                           "unsupported dtype: structured dtypes are not supported (supported: <f4 <f8 <i4 <i8 and "
                           "big-endian forms)");
        s = hp_string(h, descr, sizeof descr, "a quoted dtype string for 'descr'");
        return s == ST_OK ? parse_descr(h->name, descr, hd) : s;
    }
    if (k == 1) return hp_bool(h, &hd->fortran);
    return hp_shape(h, hd);
}

static st_status parse_header(const char *name, const char *text, size_t len, npy_hdr *hd) {
    hparse h = {text, text + len, name};
    memset(hd, 0, sizeof *hd);
    if (!hp_eat(&h, '{')) return hp_err(&h, "'{' starting the header dict");
    unsigned seen = 0;
    while (!hp_eat(&h, '}')) {
        st_status s = hp_entry(&h, hd, &seen);
        if (s != ST_OK) return s;
        if (hp_eat(&h, ',')) continue;
        if (hp_eat(&h, '}')) break;
        return hp_err(&h, "',' or '}' in the header dict");
    }
    hp_ws(&h);
    if (h.p != h.end) return hp_err(&h, "only spaces and '\\n' after the header dict");
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    for (int k = 0; k < 3; k++)
        if (!(seen & (1u << k))) return npy_err(ST_E_FORMAT, name, "malformed header: key '%s' is missing", keys[k]);
    int64_t span = 1;
    for (int d = 0; d < hd->ndim; d++) {
        int64_t v = hd->shape[d] > 0 ? hd->shape[d] : 1;
        if (span > NPY_MAX_ELEMS / v) return npy_err(ST_E_FORMAT, name, "'shape' has too many elements (limit 2^47)");
        span *= v;
    }
    return ST_OK;
}

/* ---------------------------------------------------------------- sources */

typedef struct npy_src {
    const char *name;
    FILE *f;            /* file source, or NULL */
    const uint8_t *mem; /* memory source */
    uint64_t len, pos;
} npy_src;

static uint64_t src_left(const npy_src *s) { return s->len - s->pos; }

/* Exactly n bytes (the caller checked src_left). */
static st_status src_read(npy_src *s, void *dst, size_t n) {
    if (n == 0) return ST_OK;
    if (s->f) {
        if (fread(dst, 1, n, s->f) != n)
            return npy_err(ST_E_IO, s->name, "read error after %" PRIu64 " bytes: %s", s->pos,
                           ferror(s->f) ? strerror(errno) : "the file shrank while being read");
    } else {
        memcpy(dst, s->mem + s->pos, n);
    }
    s->pos += n;
    return ST_OK;
}

/* Magic, version and header length. */
static st_status read_preamble(npy_src *s, uint32_t *hlen) {
    uint8_t pre[12];
    size_t have = src_left(s) < 6 ? (size_t)src_left(s) : 6;
    st_status st = src_read(s, pre, have);
    if (st != ST_OK) return st;
    if (memcmp(pre, npy_magic, have) != 0)
        return npy_err(ST_E_FORMAT, s->name, "not a .npy file (bad magic; expected \\x93NUMPY)");
    if (src_left(s) < 2 || have < 6)
        return npy_err(ST_E_FORMAT, s->name, "truncated: %" PRIu64 " bytes, shorter than the .npy preamble", s->len);
    if ((st = src_read(s, pre + 6, 2)) != ST_OK) return st;
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return npy_err(ST_E_FORMAT, s->name, "unsupported format version %d.%d (supported: 1.0, 2.0, 3.0)", major,
                       minor);
    size_t lb = major == 1 ? 2 : 4;
    if (src_left(s) < lb)
        return npy_err(ST_E_FORMAT, s->name, "truncated header: the header length field is cut off");
    if ((st = src_read(s, pre + 8, lb)) != ST_OK) return st;
    *hlen = lb == 2 ? (uint32_t)pre[8] | (uint32_t)pre[9] << 8
                    : (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    if (*hlen > NPY_MAX_HEADER)
        return npy_err(ST_E_FORMAT, s->name, "header length %" PRIu32 " exceeds the limit of %d bytes", *hlen,
                       NPY_MAX_HEADER);
    if (*hlen == 0) return npy_err(ST_E_FORMAT, s->name, "malformed header: the header is empty");
    if (src_left(s) < *hlen)
        return npy_err(ST_E_FORMAT, s->name,
                       "truncated header: header length is %" PRIu32 " bytes but only %" PRIu64 " follow", *hlen,
                       src_left(s));
    return ST_OK;
}

static st_status read_header(npy_src *s, npy_hdr *hd) {
    uint32_t hlen = 0;
    st_status st = read_preamble(s, &hlen);
    if (st != ST_OK) return st;
    char *text = st_malloc(hlen);
    if (!text) return st_last_status();
    st = src_read(s, text, hlen);
    if (st == ST_OK) st = parse_header(s->name, text, hlen, hd);
    st_free(text);
    return st;
}

/* Tensor data in C order from a Fortran-order load (shape reversed on disk). */
static st_tensor *from_fortran(st_tensor *t) {
    int perm[ST_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) perm[i] = t->ndim - 1 - i;
    st_tensor *v = st_permute(t, perm);
    st_tensor *c = v ? st_contiguous(v) : NULL;
    st_release(v);
    return c;
}

static st_tensor *load_src(npy_src *s) {
    npy_hdr hd;
    if (read_header(s, &hd) != ST_OK) return NULL;
    int64_t numel = st_shape_numel(hd.ndim, hd.shape);
    size_t esz = st_dtype_size(hd.dt);
    uint64_t need = (uint64_t)numel * esz;
    char desc[200];
    st_fmt_shape(desc, sizeof desc, hd.ndim, hd.shape);
    if (src_left(s) < need) {
        npy_err(ST_E_FORMAT, s->name, "truncated data: %s%s needs %" PRIu64 " bytes, only %" PRIu64 " present",
                st_dtype_name(hd.dt), desc, need, src_left(s));
        return NULL;
    }
    if (src_left(s) > need) {
        npy_err(ST_E_FORMAT, s->name, "%" PRIu64 " unexpected bytes after the data of %s%s (header and data disagree)",
                src_left(s) - need, st_dtype_name(hd.dt), desc);
        return NULL;
    }
    int64_t disk[ST_MAX_DIMS];
    for (int i = 0; i < hd.ndim; i++) disk[i] = hd.fortran ? hd.shape[hd.ndim - 1 - i] : hd.shape[i];
    st_tensor *t = st_tensor_new((st_device){ST_BACKEND_CPU, 0}, hd.ndim, disk, hd.dt);
    if (!t) return NULL;
    if (src_read(s, st_data_ptr(t), (size_t)need) != ST_OK) {
        st_release(t);
        return NULL;
    }
    if (hd.big_endian == host_is_le()) byte_swap(st_data_ptr(t), numel, esz);
    if (hd.fortran && hd.ndim > 1) {
        st_tensor *c = from_fortran(t);
        st_release(t);
        t = c;
    }
    return t;
}

st_tensor *st_npy_load_mem(const void *buf, size_t len, const char *name) {
    if (!name) name = "<memory>";
    if (!buf && len) {
        npy_err(ST_E_INVALID_ARG, name, "buffer is NULL");
        return NULL;
    }
    npy_src s = {.name = name, .mem = buf, .len = len};
    return load_src(&s);
}

st_tensor *st_npy_load(const char *path) {
    if (!path) {
        st_err(ST_E_INVALID_ARG, "npy: path is NULL");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        npy_err(ST_E_IO, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat stt;
    st_tensor *t = NULL;
    if (fstat(fileno(f), &stt) != 0) {
        npy_err(ST_E_IO, path, "cannot stat: %s", strerror(errno));
    } else if (!S_ISREG(stt.st_mode)) {
        npy_err(ST_E_IO, path, "not a regular file");
    } else {
        npy_src s = {.name = path, .f = f, .len = (uint64_t)stt.st_size};
        t = load_src(&s);
    }
    fclose(f);
    return t;
}

/* ---------------------------------------------------------------- save */

/* Header text (dict, spaces, '\n') padded so the data starts at a multiple of 64;
 * *pre gets the 10- or 12-byte preamble length. Returns the header length. */
static size_t build_header(const st_tensor *t, char *buf, size_t cap, size_t *pre) {
    static const char *const descr[ST_NUM_DTYPES] = {
        [ST_F32] = "<f4", [ST_F64] = "<f8", [ST_I32] = "<i4", [ST_I64] = "<i8"};
    size_t n = (size_t)snprintf(buf, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr[t->dtype]);
    for (int i = 0; i < t->ndim; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId64 "%s", i ? " " : "", t->shape[i],
                              (i + 1 < t->ndim || t->ndim == 1) ? "," : "");
    n += (size_t)snprintf(buf + n, cap - n, "), }");
    *pre = (10 + n + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN - 10 <= 65535 ? 10 : 12;
    size_t total = (*pre + n + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - *pre;
    memset(buf + n, ' ', hlen - 1 - n);
    buf[hlen - 1] = '\n';
    return hlen;
}

static st_status write_all(int fd, const char *tmp, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t w = write(fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return npy_err(ST_E_IO, tmp, "write failed: %s", w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return ST_OK;
}

/* Host copy of t's data in C order, little-endian (or t's own memory when it already
 * is); *owned says whether the caller frees it. */
static st_status host_data(st_tensor *t, const void **data, void **owned) {
    size_t n = (size_t)st_numel(t) * st_dtype_size(t->dtype);
    *owned = NULL;
    if (st_tensor_device(t).kind == ST_BACKEND_CPU && st_is_contiguous(t) && host_is_le()) {
        *data = st_data_ptr(t);
        return ST_OK;
    }
    void *buf = st_malloc(n ? n : 1);
    if (!buf) return st_last_status();
    st_status s = st_to_host(t, t->dtype, buf, n);
    if (s != ST_OK) {
        st_free(buf);
        return s;
    }
    if (!host_is_le()) byte_swap(buf, st_numel(t), st_dtype_size(t->dtype));
    *data = *owned = buf;
    return ST_OK;
}

/* Write preamble, header and data to a fresh temporary file next to path. */
static st_status write_tmp(const char *tmp, int fd, const char *hdr, size_t pre, size_t hlen, const void *data,
                           size_t n) {
    uint8_t p[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', pre == 10 ? 1 : 2, 0};
    for (size_t i = 0; i < pre - 8; i++) p[8 + i] = (uint8_t)(hlen >> (8 * i));
    st_status s = write_all(fd, tmp, p, pre);
    if (s == ST_OK) s = write_all(fd, tmp, hdr, hlen);
    if (s == ST_OK) s = write_all(fd, tmp, data, n);
    if (s == ST_OK && fsync(fd) != 0) s = npy_err(ST_E_IO, tmp, "fsync failed: %s", strerror(errno));
    return s;
}

static int open_tmp(const char *path, char *tmp, size_t cap) {
    static _Atomic unsigned counter;
    for (int tries = 0; tries < 100; tries++) {
        snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

st_status st_npy_save(const char *path, st_tensor *t) {
    if (!path || !t) return st_err(ST_E_INVALID_ARG, "npy_save: %s is NULL", path ? "tensor" : "path");
    char hdr[1024];
    size_t pre, hlen = build_header(t, hdr, sizeof hdr, &pre);
    const void *data = NULL;
    void *owned = NULL;
    st_status s = host_data(t, &data, &owned);
    if (s != ST_OK) return st_err_prefix("npy_save: '%s'", path);
    size_t cap = strlen(path) + 64;
    char *tmp = st_malloc(cap);
    if (!tmp) {
        st_free(owned);
        return st_last_status();
    }
    int fd = open_tmp(path, tmp, cap);
    if (fd < 0) {
        s = npy_err(ST_E_IO, path, "cannot create temporary file '%s': %s", tmp, strerror(errno));
    } else {
        s = write_tmp(tmp, fd, hdr, pre, hlen, data, (size_t)st_numel(t) * st_dtype_size(t->dtype));
        if (close(fd) != 0 && s == ST_OK) s = npy_err(ST_E_IO, tmp, "close failed: %s", strerror(errno));
        if (s == ST_OK && rename(tmp, path) != 0)
            s = npy_err(ST_E_IO, path, "cannot rename '%s' to it: %s", tmp, strerror(errno));
        if (s != ST_OK) unlink(tmp);
    }
    st_free(tmp);
    st_free(owned);
    return s;
}
