/* test_heur_chain.c — the heuristics priority chain (SPEC §4): per-field order env LAB >
 * env > file sections > Redis slot > table > fallback, validation against device limits,
 * skipped sources, the cache and its invalidation, threads, out-of-memory, check API.
 * Uses a temporary HOME; never touches the real ~/.spiraltorch. */
#include "testlib.h"

#include "heur/heur.h"
#include "kv/kv.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[256];
static char g_log[16384];

static void capture(st_log_level level, const char *msg, void *user) {
    (void)level;
    (void)user;
    size_t n = strlen(g_log);
    snprintf(g_log + n, sizeof g_log - n, "%s\n", msg);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* A clean environment: temp HOME, no rule variables, default limits/tables/slot. */
static void setup(void) {
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/st-heur-test-XXXXXX");
        if (!mkdtemp(g_dir)) g_dir[0] = '\0';
    }
    setenv("HOME", g_dir, 1);
    const char *vars[] = {"ST_HOME", "SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK",
                          "REDIS_URL"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    char p[512];
    snprintf(p, sizeof p, "%s/.spiraltorch/heur.kdsl", g_dir);
    unlink(p);
    st_heur_set_recheck_ms(0);
    st_heur_set_limits(NULL);
    st_heur_set_tables(NULL, NULL);
    st_heur_set_remote(NULL);
    st_heur_reload();
    g_log[0] = '\0';
    st_set_log_callback(capture, NULL);
}

static st_heur_explanation g_ex;
static const st_heur_field_explanation *field(st_heur_kind kind, int64_t r, int64_t c, int64_t k, bool sg,
                                              const char *name) {
    CHECK_STATUS(st_heur_explain(kind, r, c, k, sg, &g_ex), ST_OK);
    for (int i = 0; i < g_ex.nfields; i++)
        if (!strcmp(g_ex.fields[i].name, name)) return &g_ex.fields[i];
    static st_heur_field_explanation none = {"?", false, -1, ST_HEUR_SRC_FALLBACK, "none"};
    return &none;
}

#define CHECK_FIELD(kind, r, c, k, sg, nm, val, wh)                                                          \
    do {                                                                                                       \
        const st_heur_field_explanation *f_ = field(kind, r, c, k, sg, nm);                                    \
        CHECK_MSG(f_->value == (val) && !strcmp(f_->where, wh), "%s = %d from '%s', want %d from '%s'", nm,     \
                  (int)f_->value, f_->where, (int)(val), wh);                                                  \
    } while (0)

TEST(fallback_matches_spec_formulas) {
    setup();
    const int64_t cs[] = {0, 1, 100, 16384, 16385, 32768, 32769, 65536, 65537, 1 << 20};
    const int64_t ks[] = {0, 1, 15, 16, 63, 64, 128, 129, 512, 513};
    for (size_t i = 0; i < 10; i++)
        for (size_t j = 0; j < 10; j++)
            for (int sg = 0; sg < 2; sg++) {
                int64_t c = cs[i], k = ks[j];
                st_heur_choice t;
                st_heur_midk_choice m;
                CHECK_STATUS(st_heur_choose(8, c, k, sg, &t), ST_OK);
                CHECK(t.u2 == (c > 32768 || k > 128));
                CHECK(t.wg == (sg ? 512 : 128)); /* 8 rows: few */
                CHECK(t.kl == (sg ? (k >= 512 ? 16 : 4) : k >= 64 ? 32 : k >= 16 ? 16 : 8));
                CHECK(t.ch == (c <= 16384 ? 0 : sg && c * 8 / 512 > 8192 ? c * 8 / 512 : 8192));
                CHECK_STATUS(st_heur_choose_midk(8, c, k, sg, &m), ST_OK);
                CHECK(m.wg == (c > 16384 ? 256 : 128));
                CHECK(m.tile == (sg || c > 65536 ? 4096 : 2048));
                CHECK(m.u2 == (k > 512 || c > 32768));
            }
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 128, "fallback");
    CHECK(g_log[0] == '\0');
}

TEST(seed_env_examples) {
    setup();
    setenv("SPIRAL_HEUR_K", "u2:(c>32768)||(k>128); ch:sel(c>16384,8192,0)", 1);
    setenv("SPIRAL_HEUR_MIDK", "wg:sel(c>32768,256,128); tile:sel(c>65536,4096,2048)", 1);
    CHECK_FIELD(ST_HEUR_TOPK, 1024, 65536, 1024, true, "u2", 1, "env SPIRAL_HEUR_K");
    CHECK_FIELD(ST_HEUR_TOPK, 1024, 65536, 1024, true, "ch", 8192, "env SPIRAL_HEUR_K");
    CHECK_FIELD(ST_HEUR_TOPK, 1024, 65536, 64, true, "wg", 256, "fallback"); /* many rows on a GPU */
    CHECK_FIELD(ST_HEUR_TOPK, 1024, 65536, 1024, true, "wg", 512, "fallback"); /* k >= 512 */
    CHECK_FIELD(ST_HEUR_TOPK, 1024, 65536, 1024, false, "wg", 128, "fallback");
    CHECK_FIELD(ST_HEUR_MIDK, 1024, 65536, 32768, true, "wg", 256, "env SPIRAL_HEUR_MIDK");
    CHECK_FIELD(ST_HEUR_MIDK, 1024, 65536, 32768, true, "tile", 2048, "env SPIRAL_HEUR_MIDK");
    CHECK_FIELD(ST_HEUR_MIDK, 1024, 65536, 32768, true, "u2", 1, "fallback");
    st_heur_midk_choice m;
    CHECK_STATUS(st_heur_choose_midk(1024, 20000, 10, true, &m), ST_OK);
    CHECK(m.wg == 128 && m.tile == 2048 && !m.u2); /* env wg (c <= 32768), fallback u2 */
}

TEST(priority_chain_per_field) {
    setup();
    char path[512];
    snprintf(path, sizeof path, "%s/rules.kdsl", g_dir);
    write_file(path, "# rules\nu2: true\nwg: 32\nkl: 4\nch: 1024\n[midk]\ntile: 512\n");
    setenv("SPIRAL_HEUR_FILE", path, 1);
    setenv("SPIRAL_HEUR_K", "wg: 64; kl: 2", 1);
    setenv("SPIRAL_HEUR_K_LAB", "wg: 512", 1);
    static const st_heur_table_row rows[] = {{0, 4, 1, {0, 16, 64, 77}}};
    static const st_heur_table tab = {"u2,wg,kl,ch", "test", 1, rows, ""};
    st_heur_set_tables(&tab, NULL);
    char where[600];
    snprintf(where, sizeof where, "%s:3", path);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "wg", 512, "env SPIRAL_HEUR_K_LAB");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "kl", 2, "env SPIRAL_HEUR_K");
    snprintf(where, sizeof where, "%s:5", path);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "ch", 1024, where);
    snprintf(where, sizeof where, "%s:2", path);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "u2", 1, where);
    snprintf(where, sizeof where, "%s:7", path);
    CHECK_FIELD(ST_HEUR_MIDK, 1, 16, 2, false, "tile", 512, where);
    CHECK_FIELD(ST_HEUR_MIDK, 1, 16, 2, false, "wg", 128, "fallback");
    /* peel sources off one by one */
    unsetenv("SPIRAL_HEUR_K_LAB");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "wg", 64, "env SPIRAL_HEUR_K");
    unsetenv("SPIRAL_HEUR_K");
    snprintf(where, sizeof where, "%s:3", path);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "wg", 32, where);
    unsetenv("SPIRAL_HEUR_FILE");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "wg", 16, "table");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "ch", 77, "table");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 4, false, "kl", 64, "table");     /* lk 2: distance 1 */
    CHECK_FIELD(ST_HEUR_TOPK, 1, 32, 4, false, "kl", 8, "fallback");   /* distance 2 */
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, true, "wg", 512, "fallback");  /* other sg */
    st_heur_set_tables(NULL, NULL);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 16, 2, false, "wg", 128, "fallback");
    CHECK(g_log[0] == '\0');
}

TEST(default_file_locations) {
    setup();
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/.spiraltorch", g_dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/heur.kdsl", dir);
    write_file(path, "wg: 64\n");
    char where[700];
    snprintf(where, sizeof where, "%s:1", path);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 64, where);
    snprintf(dir, sizeof dir, "%s/sthome", g_dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/heur.kdsl", dir);
    write_file(path, "\nwg: 32\n");
    setenv("ST_HOME", dir, 1);
    snprintf(where, sizeof where, "%s:2", path);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 32, where);
    unsetenv("ST_HOME");
}

TEST(invalid_values_fall_through_with_a_warning) {
    setup();
    setenv("SPIRAL_HEUR_K", "wg: 3000; kl: 3", 1);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 128, "fallback");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "kl", 3, "env SPIRAL_HEUR_K");
    CHECK_MSG(strstr(g_log, "SPIRAL_HEUR_K:1:1: value 3000 for 'wg' is out of range [1, 1024]") != NULL, "%s", g_log);
    CHECK(strstr(g_ex.notes, "out of range") != NULL);
    setenv("SPIRAL_HEUR_K", "wg: 96; u2: 2; ch: 0.5", 1);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 128, "fallback");
    CHECK(strstr(g_ex.notes, "not a power of two") != NULL);
    CHECK(strstr(g_ex.notes, "'u2' is a flag") != NULL);
    CHECK(strstr(g_ex.notes, "is not an integer") != NULL);
    /* device limits */
    st_heur_limits lim = {64, 16, 8192};
    CHECK_STATUS(st_heur_set_limits(&lim), ST_OK);
    setenv("SPIRAL_HEUR_K", "wg: 128", 1);
    setenv("SPIRAL_HEUR_MIDK", "tile: 2048", 1);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, true, "wg", 64, "fallback"); /* 256 adjusted to the device */
    CHECK(strstr(g_ex.notes, "exceeds the device's max workgroup size 64") != NULL);
    CHECK_FIELD(ST_HEUR_MIDK, 1, 10, 1, true, "tile", 1024, "fallback");
    CHECK(strstr(g_ex.notes, "needs 16384 bytes of shared memory; the device has 8192") != NULL);
    setenv("SPIRAL_HEUR_K", "wg: 8", 1);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, true, "wg", 64, "fallback");
    CHECK(strstr(g_ex.notes, "not a multiple of the device's subgroup size 16") != NULL);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 8, "env SPIRAL_HEUR_K");
    st_heur_choice t;
    CHECK_STATUS(st_heur_choose(1, 10, 1, true, &t), ST_OK);
    CHECK(t.wg == 64);
    CHECK_STATUS(st_heur_set_limits(&(st_heur_limits){0, 0, 0}), ST_E_INVALID_ARG);
    st_heur_set_limits(NULL);
}

TEST(erroneous_sources_are_skipped) {
    setup();
    setenv("SPIRAL_HEUR_K", "wg: 64; kl: (1 +", 1); /* syntax error: the whole source is skipped */
    setenv("SPIRAL_HEUR_K_LAB", "ch: 4096; kl: 16 / (c - 10)", 1); /* runtime error: only kl */
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 128, "fallback");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "kl", 8, "fallback");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "ch", 4096, "env SPIRAL_HEUR_K_LAB");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 12, 1, false, "kl", 8, "env SPIRAL_HEUR_K_LAB");
    CHECK_MSG(strstr(g_log, "heuristics: source skipped: SPIRAL_HEUR_K:1:17: expected an expression near '<eof>'"),
              "%s", g_log);
    CHECK_MSG(strstr(g_log, "SPIRAL_HEUR_K_LAB:1:18: division by zero in the rule for 'kl' near '/'"), "%s", g_log);
    st_heur_source_info si[8];
    CHECK(st_heur_sources(si, 8) == 7);
    CHECK(!si[1].active && strstr(si[1].detail, "error: SPIRAL_HEUR_K:1:17") == si[1].detail);
    CHECK(si[0].active && !strcmp(si[0].detail, "2 statements"));
    CHECK(!strcmp(si[2].name, "env SPIRAL_HEUR_MIDK") && !strcmp(si[2].detail, "not set"));
    CHECK(strstr(si[3].detail, "(not found)") != NULL);
    CHECK(!strcmp(si[4].detail, "not configured (REDIS_URL unset)"));
    setenv("REDIS_URL", "redis://127.0.0.1/", 1);
    st_heur_sources(si, 8);
    if (st_kv_built())
        CHECK_MSG(si[4].active && strstr(si[4].detail, "redis://127.0.0.1:6379/0") == si[4].detail, "%s", si[4].detail);
    else
        CHECK(!strcmp(si[4].detail, "REDIS_URL is set but Redis support is not built") && !si[4].active);
    setenv("REDIS_URL", "redis://127.0.0.1:99999/", 1);
    st_heur_sources(si, 8);
    CHECK_MSG(!si[4].active && strstr(si[4].detail, "port must be a number"), "%s", si[4].detail);
    unsetenv("REDIS_URL");
    CHECK(!strcmp(si[5].detail, "generated: topk 0 buckets, midk 0 buckets (empty)"));
    CHECK(si[6].active && si[6].source == ST_HEUR_SRC_FALLBACK);
}

static bool fake_lookup(void *user, int kind, int64_t r, int64_t c, int64_t k, bool sg, int32_t *v, uint32_t *have) {
    (void)r, (void)k, (void)sg;
    ++*(int *)user;
    if (kind != ST_HEUR_TOPK) return false;
    v[1] = c > 100 ? 5000 : 32; /* wg: invalid above 100 columns */
    v[2] = 4;                   /* kl */
    *have = (1u << 1) | (1u << 2);
    return true;
}
static void fake_describe(void *user, char *buf, size_t cap) { snprintf(buf, cap, "fake (%d lookups)", *(int *)user); }

TEST(redis_slot) {
    setup();
    int calls = 0;
    st_heur_remote r = {fake_lookup, fake_describe, &calls};
    st_heur_set_remote(&r);
    setenv("SPIRAL_HEUR_K", "kl: 2", 1);
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "wg", 32, "redis");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 10, 1, false, "kl", 2, "env SPIRAL_HEUR_K");
    CHECK_FIELD(ST_HEUR_TOPK, 1, 1000, 1, false, "wg", 128, "fallback");
    CHECK(strstr(g_ex.notes, "redis: value 5000 for 'wg' is out of range") != NULL);
    /* cached: one lookup per new shape */
    st_heur_choice t;
    st_heur_set_recheck_ms(1000000);
    int before = calls;
    for (int i = 0; i < 100; i++) st_heur_choose(1, 10, 1, false, &t);
    CHECK(calls == before + 1 && t.wg == 32 && t.kl == 2);
    st_heur_source_info si[7];
    st_heur_sources(si, 7);
    CHECK(si[4].active && strstr(si[4].detail, "fake (") == si[4].detail);
    st_heur_set_remote(NULL);
    CHECK_STATUS(st_heur_choose(1, 10, 1, false, &t), ST_OK);
    CHECK(t.wg == 128);
}

TEST(cache_sees_changes) {
    setup();
    st_heur_choice t;
    setenv("SPIRAL_HEUR_K", "wg: 64", 1);
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 64);
    setenv("SPIRAL_HEUR_K", "wg: 32", 1); /* recheck 0 ms: seen at once */
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 32);
    st_heur_set_recheck_ms(1000000); /* now only an explicit reload sees changes */
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    setenv("SPIRAL_HEUR_K", "wg: 16", 1);
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 32); /* the cached choice: proof that no getenv happens per call */
    CHECK_STATUS(st_heur_choose(2, 101, 3, false, &t), ST_OK);
    CHECK(t.wg == 32); /* a miss, but the snapshot is not re-read either */
    st_heur_reload();
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 16);
    /* the file: content change seen at the next check */
    st_heur_set_recheck_ms(0);
    unsetenv("SPIRAL_HEUR_K");
    char path[512];
    snprintf(path, sizeof path, "%s/cache.kdsl", g_dir);
    write_file(path, "wg: 256\n");
    setenv("SPIRAL_HEUR_FILE", path, 1);
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 256);
    write_file(path, "wg: 1024 # longer\n");
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 1024);
    unlink(path);
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 128);
    /* limits invalidate too */
    setenv("SPIRAL_HEUR_K", "wg: maxwg", 1);
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 1024);
    st_heur_set_recheck_ms(1000000);
    st_heur_set_limits(&(st_heur_limits){512, 32, 65536});
    CHECK_STATUS(st_heur_choose(2, 100, 3, false, &t), ST_OK);
    CHECK(t.wg == 512);
    st_heur_set_limits(NULL);
    st_heur_set_recheck_ms(250);
}

TEST(reset_frees_everything) {
    setup();
    setenv("SPIRAL_HEUR_K", "wg: 64; def f(x): x * 2; kl: f(k)", 1);
    st_heur_choice t;
    CHECK_STATUS(st_heur_choose(1, 10, 3, false, &t), ST_OK);
    CHECK(t.kl == 6);
    st_heur_reset();
    st_alloc_stats s;
    st_get_alloc_stats(&s);
    CHECK_MSG(s.live_allocs == 0, "%lld allocations live after st_heur_reset", (long long)s.live_allocs);
    CHECK_STATUS(st_heur_choose(1, 10, 3, false, &t), ST_OK);
    CHECK(t.wg == 64 && t.kl == 6);
    CHECK_STATUS(st_heur_choose(-1, 10, 3, false, &t), ST_E_INVALID_ARG);
    CHECK_STATUS(st_heur_choose(1, 10, 3, false, NULL), ST_E_INVALID_ARG);
}

TEST(out_of_memory_never_crashes) {
    setup();
    char path[512];
    snprintf(path, sizeof path, "%s/oom.kdsl", g_dir);
    write_file(path, "def f(x): x * 2\nsoft(kl, f(8), 1, true)\n[midk]\ntile: 1024\n");
    setenv("SPIRAL_HEUR_FILE", path, 1);
    setenv("SPIRAL_HEUR_K", "wg: 64", 1);
    st_heur_reset();
    tl_install_fault_allocator();
    int oom = 0, hit = 0;
    for (int n = 1; n < 60; n++) {
        st_heur_reset();
        tl_fail_alloc_at(n);
        st_heur_choice t;
        st_status st = st_heur_choose(1, 10, 3, false, &t);
        hit += tl_alloc_count() >= n; /* the n-th allocation was refused */
        tl_fail_alloc_at(0);
        CHECK(st == ST_OK || st == ST_E_OOM);
        oom += st == ST_E_OOM;
        if (st == ST_OK) CHECK((t.wg == 64 || t.wg == 128) && (t.kl == 16 || t.kl == 8));
        CHECK_STATUS(st_heur_choose(1, 10, 3, false, &t), ST_OK);
        CHECK(t.wg == 64 && t.kl == 16);
    }
    CHECK_MSG(hit > 10, "only %d injected failures were reached (%d gave ST_E_OOM)", hit, oom);
    st_heur_reset();
    CHECK_STATUS(st_set_allocator(NULL), ST_OK);
}

typedef struct tharg {
    int id, bad;
} tharg;
static void *worker(void *p) {
    tharg *a = p;
    for (int i = 0; i < 20000; i++) {
        int64_t c = 1000 + (i * 7 + a->id) % 300, k = 1 + i % 50;
        st_heur_choice t;
        st_status st = st_heur_choose(4, c, k, false, &t);
        if (st != ST_OK || t.wg != 64 || t.kl != (int)(k >= 16 ? 16 : 8) || t.ch != (int)c) {
            if (!a->bad++)
                fprintf(stderr, "  thread %d: c=%lld k=%lld: status %d wg=%d kl=%d ch=%d (%s)\n", a->id, (long long)c,
                        (long long)k, (int)st, (int)t.wg, (int)t.kl, (int)t.ch, st_last_error());
        }
    }
    return NULL;
}

TEST(threads_agree) {
    setup();
    setenv("SPIRAL_HEUR_K", "wg: 64; ch: c", 1);
    st_heur_reload(); /* else the change may be younger than the 1 ms re-check interval */
    st_heur_set_recheck_ms(1);
    pthread_t th[4];
    tharg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (tharg){i, 0};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 200; i++) st_heur_reload(); /* generations move under the readers */
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].bad == 0);
    }
    st_heur_set_recheck_ms(250);
}

TEST(check_api) {
    setup();
    char diag[4096];
    const char *good = "u2: c > 32768\n[midk]\ntile: sel(c > 65536, 4096, 2048)\n";
    CHECK_STATUS(st_heur_check(good, strlen(good), "g.kdsl", ST_HEUR_CHECK_FILE, diag, sizeof diag), ST_OK);
    CHECK(diag[0] == '\0');
    const char *bad = "wg: 3000\nkl: 1 / 0\nch: c / 0\n[midk]\ntile: 0\n";
    CHECK_STATUS(st_heur_check(bad, strlen(bad), "b.kdsl", ST_HEUR_CHECK_FILE, diag, sizeof diag), ST_E_FORMAT);
    CHECK_MSG(!strcmp(diag, "b.kdsl:1:1: value 3000 for 'wg' is out of range [1, 1024] near 'wg'\n"
                            "b.kdsl:2:7: division by zero near '/'\n"
                            "b.kdsl:5:1: value 0 for 'tile' is out of range [1, 1048576] near 'tile'"),
              "%s", diag);
    CHECK_STATUS(st_heur_check("tile: 1", 7, "SPIRAL_HEUR_MIDK", ST_HEUR_CHECK_MIDK, diag, sizeof diag), ST_OK);
    CHECK_STATUS(st_heur_check("tile: 1", 7, "SPIRAL_HEUR_K", ST_HEUR_CHECK_TOPK, diag, sizeof diag), ST_E_FORMAT);
    CHECK_STATUS(st_heur_check_file("/nonexistent/x.kdsl", diag, sizeof diag), ST_E_IO);
    CHECK_ERR_HAS("cannot open");
}

TEST(teardown) {
    st_set_log_callback(NULL, NULL);
    const char *vars[] = {"SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK"};
    for (size_t i = 0; i < 4; i++) unsetenv(vars[i]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (g_dir[0] && strstr(g_dir, "/tmp/st-heur-test-") == g_dir) CHECK(system(cmd) == 0);
    st_heur_reset();
}
