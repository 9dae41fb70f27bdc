/* test_tune.c — tuner.json (round trip, every malformed form refused with the file and
 * position), the generator (fastest sample per bucket, against a brute-force
 * reference), the table's backend gate, and the CLI: `spiral tune --quick --device cpu`
 * then `gen_heuristics_table` on its output, with their exit codes. */
#include "testlib.h"
#include "tune/tune.h"

#include <sys/stat.h>
#include <unistd.h>

static char g_dir[128];

static void setup(void) {
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/st-tune-XXXXXX");
        if (!mkdtemp(g_dir)) g_dir[0] = '\0';
    }
    const char *vars[] = {"ST_HOME", "SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK",
                          "REDIS_URL", "ST_KV_BROADCAST", "ST_SELF_REWRITE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    setenv("ST_HOME", g_dir, 1);
    st_heur_reload();
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(roundtrip) {
    setup();
    st_tune_file f;
    st_tune_file_init(&f);
    snprintf(f.dev.backend, sizeof f.dev.backend, "cpu");
    snprintf(f.dev.name, sizeof f.dev.name, "a \"quoted\"\\name\twith tab");
    snprintf(f.created, sizeof f.created, "2024-01-01T00:00:00Z");
    f.dev.max_workgroup = 1024;
    f.dev.shared_mem = 65536;
    f.reps = 7;
    f.warmup = 2;
    st_tune_sample a = {12, 3000, 17, false, {1, 256, 16, 2048, 1, 0}, 63u, 0.125};
    st_tune_sample b = {1, 70000, 35000, false, {512, 8192, 1}, 7u, 12.5};
    CHECK_STATUS(st_tune_file_add(&f, ST_HEUR_TOPK, &a), ST_OK);
    CHECK_STATUS(st_tune_file_add(&f, ST_HEUR_MIDK, &b), ST_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/rt.json", g_dir);
    CHECK_STATUS(st_tune_file_write(path, &f), ST_OK);
    st_tune_file g;
    CHECK_STATUS(st_tune_file_read(path, &g), ST_OK);
    CHECK(!strcmp(g.dev.name, f.dev.name) && !strcmp(g.dev.backend, "cpu") && g.reps == 7 && g.warmup == 2);
    CHECK(g.n[0] == 1 && g.n[1] == 1);
    if (g.n[0] == 1 && g.n[1] == 1) {
        CHECK(!memcmp(g.s[0][0].v, a.v, sizeof a.v) && g.s[0][0].have == 63u && g.s[0][0].time_ms == 0.125);
        CHECK(g.s[0][0].rows == 12 && g.s[0][0].cols == 3000 && g.s[0][0].k == 17 && !g.s[0][0].sg);
        CHECK(!memcmp(g.s[1][0].v, b.v, sizeof b.v) && g.s[1][0].time_ms == 12.5);
    }
    st_tune_file_free(&f);
    st_tune_file_free(&g);
}

#define HEAD "{\"schema\":\"spiraltorch.tuner/1\",\"device\":{\"backend\":\"cpu\"},"
#define S1 "{\"rows\":1,\"cols\":8,\"k\":2,\"subgroup\":false,\"choice\":{\"wg\":64},\"time_ms\":1}"

TEST(malformed_files) {
    setup();
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"", "t.json:1:1: top level: expected an object"},
        {"[]", "t.json:1:1: top level: expected an object"},
        {"{\"schema\":\"spiraltorch.tuner/2\"}", "t.json:1:11: schema \"spiraltorch.tuner/2\" is not"},
        {"{\"schema\":3}", "t.json:1:11: \"schema\": expected a string"},
        {"{\"device\":{}}", "\"schema\" must come first"},
        {HEAD "\"topk\":[],\"midk\":[]} x", "t.json:1:81: junk after the top-level object"},
        {HEAD "\"topk\":[]}", "\"midk\" is missing"},
        {HEAD "\"topk\":[],\"midk\":[],\"extra\":1}", "unknown key \"extra\""},
        {HEAD "\"topk\":[],\"topk\":[],\"midk\":[]}", "duplicate key \"topk\""},
        {HEAD "\"topk\":{},\"midk\":[]}", "\"topk\": expected an array"},
        {HEAD "\"topk\":[" S1 ",],\"midk\":[]}", "sample: expected an object"},
        {HEAD "\"topk\":[{\"rows\":0,\"cols\":8,\"k\":2}],\"midk\":[]}", "\"rows\": 0 is not an integer in [1,"},
        {HEAD "\"topk\":[{\"rows\":1.5}],\"midk\":[]}", "\"rows\": 1.5 is not an integer"},
        {HEAD "\"topk\":[{\"rows\":\"1\"}],\"midk\":[]}", "\"rows\": expected a number"},
        {HEAD "\"topk\":[{\"rows\":1,\"cols\":8,\"k\":9,\"subgroup\":0,\"choice\":{\"wg\":64},\"time_ms\":1}],\"midk\":[]}",
         "k=9 is larger than cols=8"},
        {HEAD "\"topk\":[{\"rows\":1,\"cols\":8,\"k\":2,\"subgroup\":0,\"choice\":{\"wg\":100},\"time_ms\":1}],\"midk\":[]}",
         "not a power of two"},
        {HEAD "\"topk\":[{\"rows\":1,\"cols\":8,\"k\":2,\"subgroup\":0,\"choice\":{\"tile\":1},\"time_ms\":1}],\"midk\":[]}",
         "unknown topk field \"tile\""},
        {HEAD "\"topk\":[{\"rows\":1,\"cols\":8,\"k\":2,\"subgroup\":0,\"choice\":{},\"time_ms\":1}],\"midk\":[]}",
         "\"choice\": names no field"},
        {HEAD "\"topk\":[{\"rows\":1,\"cols\":8,\"k\":2,\"subgroup\":0,\"choice\":{\"wg\":64},\"time_ms\":-1}],\"midk\":[]}",
         "\"time_ms\": expected a number in [0, 1e9]"},
        {HEAD "\"topk\":[{\"rows\":1,\"cols\":8,\"k\":2,\"subgroup\":0,\"choice\":{\"wg\":64}}],\"midk\":[]}",
         "sample: \"time_ms\" is missing"},
        {HEAD "\"topk\":[{\"rows\":1,\"cols\":8,\"k\":2,\"subgroup\":2,\"choice\":{\"wg\":64},\"time_ms\":1}],\"midk\":[]}",
         "\"subgroup\": expected true, false, 0 or 1"},
        {"{\"schema\":\"spiraltorch.tuner/1\",\"topk\":[]}", "\"device\" must come before \"topk\""},
        {"{\"schema\":\"spiraltorch.tuner/1\",\"device\":{\"name\":\"x\"},\"topk\":[],\"midk\":[]}",
         "\"backend\" is missing or empty"},
        {"{\"schema\":\"spiraltorch.tuner/1\",\"device\":{\"backend\":\"cpu\",\"colour\":1}}", "unknown key \"colour\""},
        {"{\"schema\":\"spiraltorch.tuner/1\"\n,\n  \"device\":{\"backend\":\"cpu\"},\"topk\":[" S1 "],\"midk\":[\n  ]",
         "t.json:4:4: top level: expected ',' or '}'"},
        {"{\"schema\":\"spiraltorch.tun", "\"schema\": expected a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_tune_file f;
        st_status s = st_tune_file_parse(bad[i].text, strlen(bad[i].text), "t.json", &f);
        CHECK_MSG(s == ST_E_FORMAT, "case %zu: status %d", i, (int)s);
        CHECK_MSG(strstr(st_last_error(), bad[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, st_last_error(), bad[i].want);
        CHECK(f.n[0] == 0 && f.n[1] == 0 && !f.s[0] && !f.s[1]);
    }
    /* the same file through the path reader names the path */
    char path[256];
    snprintf(path, sizeof path, "%s/bad.json", g_dir);
    write_file(path, "{\"schema\":\"nope\"}");
    st_tune_file f;
    CHECK_STATUS(st_tune_file_read(path, &f), ST_E_FORMAT);
    CHECK_ERR_HAS("bad.json:1:11:");
    snprintf(path, sizeof path, "%s/missing.json", g_dir);
    CHECK_STATUS(st_tune_file_read(path, &f), ST_E_IO);
    CHECK_ERR_HAS("missing.json: cannot open");
    /* a subset of fields (an older tuner) is fine */
    const char *ok = HEAD "\"topk\":[" S1 "],\"midk\":[]}";
    CHECK_STATUS(st_tune_file_parse(ok, strlen(ok), "ok.json", &f), ST_OK);
    CHECK(f.n[0] == 1 && f.s[0][0].have == 2u && f.s[0][0].v[1] == 64);
    st_tune_file_free(&f);
}

/* The reference: the fastest sample per element in the bucket, by a plain loop. */
static long ref_winner(const st_tune_file *f, int kind, bool sg, int lc, int lk) {
    long best = -1;
    for (size_t i = 0; i < f->n[kind]; i++) {
        const st_tune_sample *s = &f->s[kind][i];
        int l1 = 0, l2 = 0;
        while ((1ll << l1) < s->cols) l1++;
        while ((1ll << l2) < s->k) l2++;
        if (s->sg != sg || l1 != lc || l2 != lk) continue;
        double t = s->time_ms / (double)(s->rows * s->cols);
        if (best < 0 || t < f->s[kind][best].time_ms / (double)(f->s[kind][best].rows * f->s[kind][best].cols)) best = (long)i;
    }
    return best;
}

/* Parses the rows of a generated source: "{sg, lc, lk, {v, ...}}". Returns the count. */
static int gen_rows(const char *text, int out[][3 + ST_HEUR_MAX_FIELDS], int cap, int nf) {
    int n = 0;
    for (const char *p = strstr(text, "rows[] = {"); p && (p = strstr(p, "\n    {")) && n < cap; p++) {
        int *r = out[n];
        int used = 0;
        if (sscanf(p, "\n    {%d, %d, %d, {%n", &r[0], &r[1], &r[2], &used) != 3 || !used) break;
        const char *q = p + used;
        for (int i = 0; i < nf; i++) {
            int u = 0;
            if (sscanf(q, "%d%n", &r[3 + i], &u) != 1) return -1;
            q += u;
            while (*q == ',' || *q == ' ') q++;
        }
        n++;
    }
    return n;
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Every generated row is the reference winner of its bucket, and every bucket has one. */
static void check_generated(const st_tune_file *f, const char *topk_c, const char *midk_c) {
    for (int kind = 0; kind < HK_NKINDS; kind++) {
        char *text = read_all(kind ? midk_c : topk_c);
        CHECK(text != NULL);
        if (!text) continue;
        CHECK(strstr(text, kind ? "st_heur_midk_generated" : "st_heur_topk_generated") != NULL);
        CHECK(f->n[kind] == 0 || strstr(text, ".backend = \"cpu\"") != NULL);
        static int rows[512][3 + ST_HEUR_MAX_FIELDS];
        int nf = hk_kinds[kind].nfields, n = gen_rows(text, rows, 512, nf), buckets = 0;
        CHECK(n >= 0);
        for (int i = 0; i < n; i++) {
            long w = ref_winner(f, kind, rows[i][0] != 0, rows[i][1], rows[i][2]);
            CHECK_MSG(w >= 0, "%s row %d: bucket %d.%d.%d has no sample", hk_kinds[kind].name, i, rows[i][0], rows[i][1],
                      rows[i][2]);
            for (int fi = 0; w >= 0 && fi < nf; fi++)
                CHECK_MSG(rows[i][3 + fi] == f->s[kind][w].v[fi], "%s row %d field %s: %d, want %d", hk_kinds[kind].name,
                          i, hk_kinds[kind].fields[fi].name, rows[i][3 + fi], (int)f->s[kind][w].v[fi]);
        }
        for (size_t i = 0; i < f->n[kind]; i++) { /* distinct buckets of the samples */
            st_heur_bucket b = st_heur_bucket_of(f->s[kind][i].sg, f->s[kind][i].cols, f->s[kind][i].k);
            bool first = true;
            for (size_t j = 0; j < i; j++) {
                st_heur_bucket c = st_heur_bucket_of(f->s[kind][j].sg, f->s[kind][j].cols, f->s[kind][j].k);
                first &= !(b.sg == c.sg && b.lc == c.lc && b.lk == c.lk);
            }
            buckets += first;
        }
        CHECK_MSG(n == buckets, "%s: %d rows for %d buckets", hk_kinds[kind].name, n, buckets);
    }
}

TEST(generator_fastest_per_bucket) {
    setup();
    st_tune_file f;
    CHECK_STATUS(st_tune_file_read(ST_SOURCE_DIR "/tests/fixtures/tuner_fixture.json", &f), ST_OK);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/gt.c", g_dir);
    snprintf(b, sizeof b, "%s/gm.c", g_dir);
    FILE *fa = fopen(a, "w"), *fb = fopen(b, "w");
    int nrows[2] = {0, 0};
    CHECK_STATUS(st_tune_gen_tables(&f, fa, fb, nrows), ST_OK);
    fclose(fa);
    fclose(fb);
    CHECK(nrows[0] == 3 && nrows[1] == 2); /* 4 topk shapes in 3 buckets; 2 midk buckets */
    check_generated(&f, a, b);
    /* time per element decides: 64x65536 at 9 ms beats 16x65536 at 2.5 ms */
    long w = st_tune_bucket_winner(&f, ST_HEUR_TOPK, st_heur_bucket_of(false, 65536, 256));
    CHECK(w == 5);
    st_tune_file_free(&f);
}

TEST(table_backend_gate) {
    setup();
    static const st_heur_table_row rows[] = {{0, 12, 4, {1, 512, 4, 2048, 1, 1}}};
    static const st_heur_table gpu = {"u2,wg,kl,ch,algo,est", "test", 1, rows, "vulkan"};
    static const st_heur_table cpu = {"u2,wg,kl,ch,algo,est", "test", 1, rows, "cpu"};
    st_heur_explanation ex;
    st_heur_set_tables(&gpu, NULL);
    CHECK_STATUS(st_heur_explain(ST_HEUR_TOPK, 8, 4096, 16, false, &ex), ST_OK);
    CHECK(ex.fields[1].source == ST_HEUR_SRC_FALLBACK && ex.fields[1].value == 128);
    st_heur_source_info si[8];
    int n = st_heur_sources(si, 8);
    CHECK(n == 7 && !si[5].active && strstr(si[5].detail, "not used") != NULL);
    st_heur_set_backend("vulkan");
    CHECK_STATUS(st_heur_explain(ST_HEUR_TOPK, 8, 4096, 16, false, &ex), ST_OK);
    CHECK(ex.fields[1].source == ST_HEUR_SRC_TABLE && ex.fields[1].value == 512);
    st_heur_set_backend(NULL);
    st_heur_set_tables(&cpu, NULL);
    CHECK_STATUS(st_heur_explain(ST_HEUR_TOPK, 8, 4096, 16, false, &ex), ST_OK);
    CHECK(ex.fields[1].source == ST_HEUR_SRC_TABLE && ex.fields[1].value == 512);
    st_heur_set_tables(NULL, NULL);
}

TEST(candidates_valid_and_fallback_values) {
    setup();
    st_heur_limits lim = {1024, 32, 1 << 20}; /* a large device: every candidate is valid */
    for (int kind = 0; kind < HK_NKINDS; kind++)
        for (int f = 0; f < hk_kinds[kind].nfields; f++) {
            int32_t c[ST_TUNE_MAX_CANDS];
            int n = st_tune_candidates(kind, f, c);
            CHECK_MSG(n >= 2, "%s.%s has %d candidates", hk_kinds[kind].name, hk_kinds[kind].fields[f].name, n);
            for (int i = 0; i < n; i++) {
                char why[256];
                CHECK_MSG(hk_field_valid(kind, f, c[i], &lim, false, why, sizeof why), "%s", why);
            }
        }
    int32_t v[ST_HEUR_MAX_FIELDS];
    st_heur_fallback_values(ST_HEUR_TOPK, 1024, 65536, 1024, false, v); /* the seed's formulas (no subgroups) */
    CHECK(v[0] == 1 && v[1] == 128 && v[2] == 32 && v[3] == 8192);
    st_heur_fallback_values(ST_HEUR_TOPK, 1024, 65536, 1024, true, v); /* GPU, many rows, k >= 512: whole rows, wg 512 */
    CHECK(v[0] == 0 && v[1] == 512 && v[2] == 16 && v[3] == 131072);
    st_heur_fallback_values(ST_HEUR_MIDK, 1024, 65536, 32768, true, v);
    CHECK(v[0] == 256 && v[1] == 4096 && v[2] == 1);
}

static int run_cmd(const char *fmt, const char *a, const char *b, char *out, size_t cap) {
    char cmd[4096], inner[3000];
    snprintf(inner, sizeof inner, fmt, a, b);
    snprintf(cmd, sizeof cmd, "cd '%s' && HOME='%s' %s 2>&1", g_dir, g_dir, inner);
    return tl_run_cmd(cmd, out, cap);
}

TEST(cli_tune_quick_then_generate) {
    setup();
    char out[16384], json[256];
    if (access(ST_BINARY_DIR "/spiral", X_OK) || access(ST_BINARY_DIR "/gen_heuristics_table", X_OK)) {
        printf("  (skipped: binaries not built)\n");
        return;
    }
    snprintf(json, sizeof json, "%s/q.json", g_dir);
    int rc = run_cmd("'%s/spiral' tune --quick --device cpu -o '%s'", ST_BINARY_DIR, json, out, sizeof out);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, out);
    CHECK(strstr(out, "100%") != NULL && strstr(out, "left") != NULL); /* the progress bar */
    st_tune_file f;
    CHECK_STATUS(st_tune_file_read(json, &f), ST_OK);
    CHECK(!strcmp(f.dev.backend, "cpu") && f.dev.name[0] && f.reps == 3);
    CHECK(f.n[0] >= 3 * 10 && f.n[1] >= 2 * 5); /* every candidate of every field, per shape */
    rc = run_cmd("'%s/gen_heuristics_table' '%s' gt.c gm.c", ST_BINARY_DIR, json, out, sizeof out);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, out);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/gt.c", g_dir);
    snprintf(b, sizeof b, "%s/gm.c", g_dir);
    check_generated(&f, a, b);
    st_tune_file_free(&f);
    /* exit codes: usage 2, runtime 1 with the file and position */
    CHECK(run_cmd("'%s/spiral' tune --quick%s", ST_BINARY_DIR, "", out, sizeof out) == 2);
    CHECK(strstr(out, "-o tuner.json is required") != NULL);
    CHECK(run_cmd("'%s/spiral' tune --reps x -o%s", ST_BINARY_DIR, " q2.json", out, sizeof out) == 2);
    CHECK(run_cmd("'%s/spiral' tune --grid topk:1x8 -o%s", ST_BINARY_DIR, " q2.json", out, sizeof out) == 2);
    CHECK(strstr(out, "expected ROWSxCOLSxK") != NULL);
    CHECK(run_cmd("'%s/spiral' tune --device nope -o%s", ST_BINARY_DIR, " q2.json", out, sizeof out) == 2);
    CHECK(run_cmd("'%s/spiral' tune --grid topk:2x64x4 --device cpu -o%s", ST_BINARY_DIR, " /nonexistent/q.json", out,
                  sizeof out) == 1);
    CHECK(run_cmd("'%s/gen_heuristics_table' '%s' only-two.c", ST_BINARY_DIR, json, out, sizeof out) == 2);
    write_file(a, "{\"schema\":\"spiraltorch.tuner/1\",\n \"device\": 5}");
    CHECK(run_cmd("'%s/gen_heuristics_table' '%s' x.c y.c", ST_BINARY_DIR, a, out, sizeof out) == 1);
    CHECK_MSG(strstr(out, "gt.c:2:12: \"device\": expected an object") != NULL, "%s", out);
    CHECK(access("x.c", F_OK) != 0);
}
