/* test_npy.c — .npy load/save: round trips of every dtype and shape (0-d, empty,
 * 8-D, strided), hand-built files (versions 1/2/3, tolerant spellings, big-endian,
 * Fortran order), one test per class of bad file (status and message text), atomic
 * saves, and a cross-check with NumPy both ways when Debian's python3 has numpy. */
#include "testlib.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t g_rs;
static uint64_t rnd(void) {
    uint64_t z = (g_rs += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static void seed_rng(uint64_t salt) { g_rs = tl_seed() * 0x2545F4914F6CDD1Dull + salt; }

static const st_dtype k_dtypes[4] = {ST_F32, ST_F64, ST_I32, ST_I64};

/* Fresh temporary directory; rm_dir removes it and everything in it. */
static void mk_dir(char *dir, size_t cap) {
    snprintf(dir, cap, "/tmp/st_npy_XXXXXX");
    if (!mkdtemp(dir)) dir[0] = 0;
}
static void rm_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0) fprintf(stderr, "  note: could not remove %s\n", dir);
}

/* Tensor of random bits (finite floats), optionally a non-contiguous view. */
static st_tensor *rand_tensor(int nd, const int64_t *sh, st_dtype dt, bool strided) {
    int64_t bs[ST_MAX_DIMS];
    for (int d = 0; d < nd; d++) bs[d] = strided ? sh[nd - 1 - d] : sh[d];
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= bs[d];
    char *b = malloc((size_t)(n ? n : 1) * 8);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = rnd();
        switch (dt) {
        case ST_F32: ((float *)(void *)b)[i] = (float)((double)(int64_t)r / 1e15); break;
        case ST_F64: ((double *)(void *)b)[i] = (double)(int64_t)r / 1e12; break;
        case ST_I32: ((int32_t *)(void *)b)[i] = (int32_t)r; break;
        case ST_I64: ((int64_t *)(void *)b)[i] = (int64_t)r; break;
        }
    }
    st_tensor *t = st_from_data(b, nd, bs, dt);
    free(b);
    if (strided && nd > 1) {
        int perm[ST_MAX_DIMS];
        for (int d = 0; d < nd; d++) perm[d] = nd - 1 - d;
        st_tensor *p = st_permute(t, perm);
        st_release(t);
        t = p;
    }
    return t;
}

/* Same dtype, shape and bits. */
static bool same_tensor(st_tensor *a, st_tensor *b) {
    if (!a || !b || st_get_dtype(a) != st_get_dtype(b) || st_ndim(a) != st_ndim(b)) return false;
    for (int d = 0; d < st_ndim(a); d++)
        if (st_shape(a)[d] != st_shape(b)[d]) return false;
    size_t n = (size_t)st_numel(a) * st_dtype_size(st_get_dtype(a));
    char *x = malloc(n + 1), *y = malloc(n + 1);
    bool ok = st_to_host(a, st_get_dtype(a), x, n) == ST_OK && st_to_host(b, st_get_dtype(b), y, n) == ST_OK &&
              memcmp(x, y, n) == 0;
    free(x);
    free(y);
    return ok;
}

static long file_size(const char *path) {
    struct stat s;
    return stat(path, &s) == 0 ? (long)s.st_size : -1;
}

/* ---------------------------------------------------------------- round trips */

static void roundtrip(const char *dir, int nd, const int64_t *sh, st_dtype dt, bool strided) {
    char path[512];
    snprintf(path, sizeof path, "%s/rt.npy", dir);
    st_tensor *t = rand_tensor(nd, sh, dt, strided);
    CHECK_STATUS(st_npy_save(path, t), ST_OK);
    st_tensor *u = st_npy_load(path);
    CHECK_MSG(same_tensor(t, u), "round trip of %s (nd %d, %s) differs: %s", st_dtype_name(dt), nd,
              strided ? "strided" : "contiguous", st_last_error());
    long data = (long)st_numel(t) * (long)st_dtype_size(dt);
    long fs = file_size(path);
    CHECK_MSG((fs - data) % 64 == 0 && fs > data, "file of %ld bytes: data %ld does not start at a multiple of 64", fs,
              data);
    /* The same bytes through the memory loader. */
    FILE *f = fopen(path, "rb");
    char *buf = malloc((size_t)fs + 1);
    size_t got = f ? fread(buf, 1, (size_t)fs, f) : 0;
    if (f) fclose(f);
    CHECK(got == (size_t)fs && buf[got - data - 1] == '\n');
    st_tensor *m = st_npy_load_mem(buf, got, "rt.npy");
    CHECK(same_tensor(t, m));
    free(buf);
    st_release(m);
    st_release(u);
    st_release(t);
}

TEST(roundtrip_all_dtypes_and_shapes) {
    seed_rng(11);
    char dir[64];
    mk_dir(dir, sizeof dir);
    for (int k = 0; k < 4; k++) {
        st_dtype dt = k_dtypes[k];
        roundtrip(dir, 0, NULL, dt, false);
        roundtrip(dir, 1, (int64_t[]){0}, dt, false);
        roundtrip(dir, 3, (int64_t[]){3, 0, 2}, dt, true);
        roundtrip(dir, 1, (int64_t[]){1}, dt, false);
        roundtrip(dir, 8, (int64_t[]){2, 1, 3, 1, 2, 2, 1, 3}, dt, false);
        roundtrip(dir, 8, (int64_t[]){2, 1, 3, 1, 2, 2, 1, 3}, dt, true);
        for (int rep = 0; rep < 10; rep++) {
            int nd = 1 + (int)(rnd() % 4);
            int64_t sh[4];
            for (int d = 0; d < nd; d++) sh[d] = (int64_t)(rnd() % 7);
            roundtrip(dir, nd, sh, dt, rep % 2);
        }
    }
    /* Large enough that a save goes through more than a trivial write. */
    roundtrip(dir, 2, (int64_t[]){300, 517}, ST_F64, true);
    rm_dir(dir);
}

TEST(save_overwrites_atomically) {
    char dir[64], path[128];
    mk_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.npy", dir);
    st_tensor *a = st_ones(1, (int64_t[]){5}, ST_I32), *b = st_zeros(2, (int64_t[]){2, 2}, ST_F64);
    CHECK_STATUS(st_npy_save(path, a), ST_OK);
    CHECK_STATUS(st_npy_save(path, b), ST_OK);
    st_tensor *u = st_npy_load(path);
    CHECK(same_tensor(u, b));
    st_release(u);
    /* Saving over a directory fails and leaves neither a temporary file nor a change. */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/d.npy", dir);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK_STATUS(st_npy_save(sub, a), ST_E_IO);
    CHECK_ERR_HAS("d.npy");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", dir);
    CHECK_MSG(system(cmd) == 0, "temporary file left behind in %s", dir);
    snprintf(path, sizeof path, "%s/no/such/dir/x.npy", dir);
    CHECK_STATUS(st_npy_save(path, a), ST_E_IO);
    CHECK_ERR_HAS("no/such/dir");
    CHECK_STATUS(st_npy_save(NULL, a), ST_E_INVALID_ARG);
    CHECK_STATUS(st_npy_save(path, NULL), ST_E_INVALID_ARG);
    st_release(b);
    st_release(a);
    rm_dir(dir);
}

/* ---------------------------------------------------------------- hand-built files */

static unsigned char g_file[8192];

/* \x93NUMPY, version, header length, header text, data. Returns the file size. */
static size_t mk_npy(int major, int minor, const char *hdr, const void *data, size_t dlen) {
    size_t hl = strlen(hdr), pre = major == 1 ? 10 : 12;
    memcpy(g_file, "\x93NUMPY", 6);
    g_file[6] = (unsigned char)major;
    g_file[7] = (unsigned char)minor;
    for (size_t i = 0; i < pre - 8; i++) g_file[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(g_file + pre, hdr, hl);
    if (dlen) memcpy(g_file + pre + hl, data, dlen);
    return pre + hl + dlen;
}

static st_tensor *load_hdr(int major, const char *hdr, const void *data, size_t dlen) {
    size_t n = mk_npy(major, 0, hdr, data, dlen);
    return st_npy_load_mem(g_file, n, "case.npy");
}

TEST(versions_and_tolerant_headers) {
    float v[6] = {1, 2, 3, 4, 5, 6};
    const char *hdrs[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
        "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}",
        "{ 'fortran_order' : False ,\t'descr':'<f4' , 'shape' : ( 2 , 3 , ) , }      \n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n",
    };
    for (int major = 1; major <= 3; major++)
        for (size_t h = 0; h < sizeof hdrs / sizeof hdrs[0]; h++) {
            st_tensor *t = load_hdr(major, hdrs[h], v, sizeof v);
            CHECK_MSG(t && st_ndim(t) == 2 && st_shape(t)[0] == 2 && st_shape(t)[1] == 3 && st_get_dtype(t) == ST_F32,
                      "version %d header %zu: %s", major, h, st_last_error());
            float got[6] = {0};
            if (t) st_to_host(t, ST_F32, got, sizeof got);
            CHECK(memcmp(got, v, sizeof v) == 0);
            st_release(t);
        }
    st_tensor *s = load_hdr(1, "{'descr': '<i8', 'fortran_order': False, 'shape': ()}", (int64_t[]){-42}, 8);
    double d = 0;
    CHECK(s && st_ndim(s) == 0 && st_item(s, &d) == ST_OK && d == -42);
    st_release(s);
}

TEST(big_endian) {
    /* >f4 1.5 = 3f c0 00 00; >i8 -2 = ff..fe; >f8 -0.25 = bf d0 00..; >i4 258 = 00 00 01 02 */
    unsigned char f4[8] = {0x3f, 0xc0, 0, 0, 0xc0, 0x20, 0, 0}; /* 1.5, -2.5 */
    st_tensor *t = load_hdr(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", f4, 8);
    float gf[2] = {0};
    CHECK(t && st_to_host(t, ST_F32, gf, sizeof gf) == ST_OK && gf[0] == 1.5f && gf[1] == -2.5f);
    st_release(t);
    unsigned char i8[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    t = load_hdr(2, "{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }\n", i8, 8);
    double d = 0;
    CHECK(t && st_get_dtype(t) == ST_I64 && st_item(t, &d) == ST_OK && d == -2);
    st_release(t);
    unsigned char f8[8] = {0xbf, 0xd0, 0, 0, 0, 0, 0, 0};
    t = load_hdr(1, "{'descr': '>f8', 'fortran_order': True, 'shape': (), }\n", f8, 8);
    CHECK(t && st_item(t, &d) == ST_OK && d == -0.25);
    st_release(t);
    unsigned char i4[4] = {0, 0, 1, 2};
    t = load_hdr(3, "{'descr': '>i4', 'fortran_order': False, 'shape': (1, 1), }\n", i4, 4);
    CHECK(t && st_item(t, &d) == ST_OK && d == 258);
    st_release(t);
}

TEST(fortran_order) {
    /* Logical a[i][j][k] = 100i + 10j + k, shape (2,3,4); column-major on disk. */
    int32_t disk[24];
    for (int k = 0, n = 0; k < 4; k++)
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 2; i++) disk[n++] = 100 * i + 10 * j + k;
    st_tensor *t = load_hdr(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }\n", disk, sizeof disk);
    CHECK(t && st_is_contiguous(t) && st_shape(t)[0] == 2 && st_shape(t)[2] == 4);
    int32_t got[24] = {0};
    if (t) st_to_host(t, ST_I32, got, sizeof got);
    for (int i = 0, n = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++, n++) CHECK_MSG(got[n] == 100 * i + 10 * j + k, "element %d = %d", n, got[n]);
    st_release(t);
}

/* ---------------------------------------------------------------- bad files */

#define EXPECT_BAD(expr, status, needle)                                           \
    do {                                                                           \
        st_tensor *t_ = (expr);                                                    \
        CHECK_MSG(t_ == NULL, "%s loaded a bad file", #expr);                      \
        st_release(t_);                                                            \
        CHECK_MSG(st_last_status() == (status), "%s: status %d (%s)", #expr, (int)st_last_status(), st_last_error()); \
        CHECK_ERR_HAS(needle);                                                     \
    } while (0)

static const char *k_good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
static const float k_two[2] = {1, 2};

TEST(bad_truncated) {
    size_t n = mk_npy(1, 0, k_good, k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, 0, "empty.npy"), ST_E_FORMAT, "empty.npy: truncated");
    EXPECT_BAD(st_npy_load_mem(g_file, 7, "pre.npy"), ST_E_FORMAT, "truncated");
    EXPECT_BAD(st_npy_load_mem(g_file, 9, "len.npy"), ST_E_FORMAT, "header length field is cut off");
    EXPECT_BAD(st_npy_load_mem(g_file, 30, "hdr.npy"), ST_E_FORMAT, "truncated header");
    EXPECT_BAD(st_npy_load_mem(g_file, n - 1, "data.npy"), ST_E_FORMAT, "truncated data: f32[2] needs 8 bytes, only 7");
    /* Every prefix of a valid file is rejected cleanly. */
    for (size_t k = 0; k < n; k++) {
        st_tensor *t = st_npy_load_mem(g_file, k, "prefix.npy");
        CHECK_MSG(t == NULL && st_last_status() == ST_E_FORMAT, "prefix of %zu bytes", k);
        st_release(t);
    }
}

TEST(bad_magic_and_version) {
    mk_npy(1, 0, k_good, k_two, 8);
    g_file[1] = 'M';
    EXPECT_BAD(st_npy_load_mem(g_file, 80, "magic.npy"), ST_E_FORMAT, "magic.npy: not a .npy file (bad magic");
    EXPECT_BAD(st_npy_load_mem("PK\3\4", 4, "zip.npy"), ST_E_FORMAT, "bad magic");
    size_t n = mk_npy(4, 0, k_good, k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "v4.npy"), ST_E_FORMAT,
               "unsupported format version 4.0 (supported: 1.0, 2.0, 3.0)");
    n = mk_npy(1, 1, k_good, k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "v11.npy"), ST_E_FORMAT, "version 1.1");
    n = mk_npy(0, 0, k_good, k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "v0.npy"), ST_E_FORMAT, "version 0.0");
}

TEST(bad_header_length) {
    size_t n = mk_npy(2, 0, k_good, k_two, 8);
    g_file[8] = 0xf0;
    g_file[9] = g_file[10] = g_file[11] = 0xff; /* ~4 GiB */
    EXPECT_BAD(st_npy_load_mem(g_file, n, "huge.npy"), ST_E_FORMAT,
               "header length 4294967280 exceeds the limit of 65536");
    n = mk_npy(1, 0, "", NULL, 0);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "zero.npy"), ST_E_FORMAT, "header is empty");
}

TEST(bad_dict) {
    static const struct {
        const char *hdr, *needle;
    } cases[] = {
        {"'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "expected '{'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "expected ',' or '}'"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", "expected ':'"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "unsupported dtype '<f4, '"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", "True or False"},
        {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}", "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", "tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "is not a tuple (a 1-tuple is written (2,))"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,,)}", "an integer in 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", "',' or ')'"},
        {"{'descr': '<f4', 'fortran_order': False}", "key 'shape' is missing"},
        {"{'descr': '<f4', 'shape': (2,), 'fortran_order': False, 'shape': (2,)}", "key 'shape' appears twice"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unknown key 'extra'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "only spaces"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\0", "byte 0x00"},
        {"{'descr': '<\\f4', 'fortran_order': False, 'shape': (2,)}", "unsupported character"},
        {"{}", "key 'descr' is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t hl = strlen(cases[i].hdr) + (strstr(cases[i].needle, "0x00") ? 1 : 0);
        char hdr[256];
        memcpy(hdr, cases[i].hdr, hl);
        hdr[hl] = 0;
        size_t n = mk_npy(1, 0, "", NULL, 0);
        memcpy(g_file + 10, hdr, hl);
        g_file[8] = (unsigned char)hl;
        memcpy(g_file + 10 + hl, k_two, 8);
        n = 10 + hl + 8;
        st_tensor *t = st_npy_load_mem(g_file, n, "dict.npy");
        CHECK_MSG(t == NULL && st_last_status() == ST_E_FORMAT, "case %zu loaded: %s", i, cases[i].hdr);
        CHECK_MSG(strstr(st_last_error(), cases[i].needle) && strstr(st_last_error(), "dict.npy"),
                  "case %zu: error '%s' lacks '%s'", i, st_last_error(), cases[i].needle);
        st_release(t);
    }
}

TEST(bad_dtype) {
    const char *bad[] = {"<f2", "|f4", "<u4", "=f4", "<c8", "|b1", "f4", "<f4 ", "<f44"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char hdr[128], want[64];
        snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }\n", bad[i]);
        size_t n = mk_npy(1, 0, hdr, k_two, 8);
        snprintf(want, sizeof want, "unsupported dtype '%s' (supported: <f4 <f8 <i4 <i8 and big-endian", bad[i]);
        EXPECT_BAD(st_npy_load_mem(g_file, n, "dt.npy"), ST_E_FORMAT, want);
    }
    size_t n = mk_npy(1, 0, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "rec.npy"), ST_E_FORMAT, "structured dtypes are not supported");
}

TEST(bad_shape) {
    size_t n = mk_npy(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "neg.npy"), ST_E_FORMAT, "negative dimension -1");
    n = mk_npy(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n", k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "big.npy"), ST_E_FORMAT, "too large");
    n = mk_npy(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776, 0), }\n", NULL,
               0);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "many.npy"), ST_E_FORMAT, "too many elements");
    n = mk_npy(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }\n", k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "many2.npy"), ST_E_FORMAT, "too many elements");
    /* Plausible shape, far more data than present: no allocation, a clear message. */
    n = mk_npy(1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000), }\n", k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "short.npy"), ST_E_FORMAT,
               "truncated data: f64[1000000,1000] needs 8000000000 bytes");
    n = mk_npy(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2), }\n", k_two, 8);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "dims.npy"), ST_E_FORMAT, "more than 8 dims");
    n = mk_npy(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,2), }\n", k_two, 8);
    st_tensor *ok = st_npy_load_mem(g_file, n, "eight.npy");
    CHECK(ok && st_ndim(ok) == 8);
    st_release(ok);
}

TEST(trailing_bytes_are_an_error) {
    float three[3] = {1, 2, 3};
    size_t n = mk_npy(1, 0, k_good, three, sizeof three);
    EXPECT_BAD(st_npy_load_mem(g_file, n, "tail.npy"), ST_E_FORMAT, "4 unexpected bytes after the data of f32[2]");
}

TEST(file_errors) {
    EXPECT_BAD(st_npy_load("/nonexistent/dir/x.npy"), ST_E_IO, "/nonexistent/dir/x.npy: cannot open");
    EXPECT_BAD(st_npy_load("/tmp"), ST_E_IO, "/tmp: not a regular file");
    EXPECT_BAD(st_npy_load(NULL), ST_E_INVALID_ARG, "NULL");
    EXPECT_BAD(st_npy_load_mem(NULL, 5, NULL), ST_E_INVALID_ARG, "<memory>");
    char dir[64], path[128];
    mk_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cut.npy", dir);
    size_t n = mk_npy(1, 0, k_good, k_two, 8);
    FILE *f = fopen(path, "wb");
    fwrite(g_file, 1, n - 3, f);
    fclose(f);
    EXPECT_BAD(st_npy_load(path), ST_E_FORMAT, "cut.npy: truncated data");
    rm_dir(dir);
}

/* ---------------------------------------------------------------- NumPy cross-check */

static const char *numpy_python(void) {
    static const char *const cands[] = {"/usr/bin/python3", "python3"};
    char cmd[128];
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) return cands[i];
    }
    return NULL;
}

/* Files NumPy writes: value at row-major position i is i*0.5-3 (floats) or 7i-11. */
static const char *k_py_write =
    "import numpy as np, sys\n"
    "from numpy.lib import format as F\n"
    "d = sys.argv[1]\n"
    "def arr(shape, dt):\n"
    "    n = int(np.prod(shape))\n"
    "    v = np.arange(n)\n"
    "    v = v * 0.5 - 3 if np.dtype(dt).kind == 'f' else v * 7 - 11\n"
    "    return v.reshape(shape).astype(dt)\n"
    "cases = [('a', (2, 3), '<f4', 0, None), ('b', (4,), '>f4', 0, None), ('c', (2, 3, 4), '<i8', 1, None),\n"
    "         ('d', (3, 5), '>f8', 1, None), ('e', (), '>i4', 0, None), ('f', (0, 3), '<f8', 0, None),\n"
    "         ('g', (2, 2), '<i4', 0, (2, 0)), ('h', (3, 2), '<f4', 1, (3, 0)), ('i', (1, 2, 1, 2, 1, 2, 1, 2), '>i8', "
    "1, None)]\n"
    "for name, shape, dt, fort, ver in cases:\n"
    "    a = arr(shape, dt)\n"
    "    if fort: a = np.asfortranarray(a)\n"
    "    with open(d + '/' + name + '.npy', 'wb') as fh:\n"
    "        F.write_array(fh, a, version=ver)\n";

TEST(numpy_writes_we_load) {
    const char *py = numpy_python();
    if (!py) {
        printf("  note: python3 with numpy not found; NumPy cross-check skipped\n");
        return;
    }
    char dir[64], cmd[4096], path[128];
    mk_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.py", dir);
    FILE *f = fopen(path, "w");
    fputs(k_py_write, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s '%s' '%s'", py, path, dir);
    CHECK_MSG(system(cmd) == 0, "numpy failed to write the files");
    static const struct {
        char name;
        int nd;
        int64_t sh[8];
        st_dtype dt;
    } cases[] = {{'a', 2, {2, 3}, ST_F32},  {'b', 1, {4}, ST_F32},    {'c', 3, {2, 3, 4}, ST_I64},
                 {'d', 2, {3, 5}, ST_F64},  {'e', 0, {0}, ST_I32},    {'f', 2, {0, 3}, ST_F64},
                 {'g', 2, {2, 2}, ST_I32},  {'h', 2, {3, 2}, ST_F32}, {'i', 8, {1, 2, 1, 2, 1, 2, 1, 2}, ST_I64}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(path, sizeof path, "%s/%c.npy", dir, cases[c].name);
        st_tensor *t = st_npy_load(path);
        CHECK_MSG(t && st_get_dtype(t) == cases[c].dt && st_ndim(t) == cases[c].nd, "%c.npy: %s", cases[c].name,
                  st_last_error());
        if (!t) continue;
        for (int d = 0; d < cases[c].nd; d++) CHECK(st_shape(t)[d] == cases[c].sh[d]);
        int64_t n = st_numel(t);
        double *v = malloc((size_t)(n + 1) * sizeof(double));
        st_to_host(t, ST_F64, v, (size_t)n * sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            double want = st_dtype_is_float(cases[c].dt) ? (double)i * 0.5 - 3 : (double)(7 * i - 11);
            if (v[i] != want) {
                CHECK_MSG(0, "%c.npy element %lld = %g, expected %g", cases[c].name, (long long)i, v[i], want);
                break;
            }
        }
        free(v);
        st_release(t);
    }
    rm_dir(dir);
}

/* NumPy loads what we write and checks it against the same formula. */
static const char *k_py_check =
    "import numpy as np, sys\n"
    "from numpy.lib import format as F\n"
    "d = sys.argv[1]\n"
    "names = {'f32': 'float32', 'f64': 'float64', 'i32': 'int32', 'i64': 'int64'}\n"
    "for line in open(d + '/list.txt'):\n"
    "    name, dt, shape = line.split(';')\n"
    "    shape = tuple(int(s) for s in shape.split()) \n"
    "    with open(d + '/' + name, 'rb') as fh:\n"
    "        assert F.read_magic(fh) == (1, 0), name\n"
    "    a = np.load(d + '/' + name)\n"
    "    n = int(np.prod(shape))\n"
    "    v = np.arange(n)\n"
    "    v = v * 0.5 - 3 if dt[0] == 'f' else v * 7 - 11\n"
    "    want = v.reshape(shape).astype(names[dt])\n"
    "    assert a.dtype == want.dtype and a.shape == want.shape, (name, a.dtype, a.shape)\n"
    "    assert np.array_equal(a, want), name\n"
    "print('numpy checked', sys.argv[1])\n";

static st_tensor *formula_tensor(int nd, const int64_t *sh, st_dtype dt, bool transposed) {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= sh[d];
    double *v = malloc((size_t)(n + 1) * sizeof(double));
    for (int64_t i = 0; i < n; i++) v[i] = st_dtype_is_float(dt) ? (double)i * 0.5 - 3 : (double)(7 * i - 11);
    st_tensor *c = st_from_data(v, nd, sh, ST_F64);
    free(v);
    st_tensor *t = st_to_dtype(c, dt);
    st_release(c);
    if (transposed && nd == 2) {
        /* Same logical values, stored column-major: contiguous of the transpose, transposed back. */
        st_tensor *tt = st_transpose(t, 0, 1), *cc = st_contiguous(tt), *back = st_transpose(cc, 0, 1);
        st_release(tt);
        st_release(cc);
        st_release(t);
        t = back;
    }
    return t;
}

TEST(numpy_loads_what_we_write) {
    const char *py = numpy_python();
    if (!py) {
        printf("  note: python3 with numpy not found; NumPy cross-check skipped\n");
        return;
    }
    char dir[64], path[160], cmd[600];
    mk_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/list.txt", dir);
    FILE *list = fopen(path, "w");
    static const struct {
        int nd;
        int64_t sh[8];
        bool tr;
    } shapes[] = {{0, {0}, false}, {1, {0}, false}, {1, {5}, false}, {2, {3, 4}, true},
                  {3, {2, 0, 3}, false}, {8, {1, 2, 1, 2, 1, 2, 1, 2}, false}};
    int count = 0;
    for (int k = 0; k < 4; k++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            st_dtype dt = k_dtypes[k];
            st_tensor *t = formula_tensor(shapes[s].nd, shapes[s].sh, dt, shapes[s].tr);
            CHECK(shapes[s].tr ? !st_is_contiguous(t) : true);
            snprintf(path, sizeof path, "%s/t%d.npy", dir, count);
            CHECK_STATUS(st_npy_save(path, t), ST_OK);
            fprintf(list, "t%d.npy;%s;", count, st_dtype_name(dt));
            for (int d = 0; d < shapes[s].nd; d++) fprintf(list, " %lld", (long long)shapes[s].sh[d]);
            fprintf(list, "\n");
            count++;
            st_release(t);
        }
    fclose(list);
    snprintf(path, sizeof path, "%s/check.py", dir);
    FILE *f = fopen(path, "w");
    fputs(k_py_check, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s '%s' '%s'", py, path, dir);
    CHECK_MSG(system(cmd) == 0, "numpy rejected or mis-read a file we wrote (see above)");
    rm_dir(dir);
}
