/* test_selfrewrite.c — self-rewrite (SPEC §6): a learned rule changes the next choice
 * for its bucket and only for it; the user's lines stay byte-for-byte; cooldown,
 * expiry and the line limit under a deterministic clock; a crash between write and
 * rename leaves the old file; 8 processes appending and rewriting at once lose and
 * corrupt nothing and the rule file always parses; exploration; the rank-K hook;
 * the observations bound. */
#include "testlib.h"
#include "tune/tune.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[128], g_rules[256], g_obs[256];
static int64_t g_now = 1700000000;
static int64_t fake_clock(void) { return g_now; }

static const char USER[] = "# my rules\nkl: 4 # a user line\n[midk]\ntile: 1024\n";

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *read_file(const char *path, size_t *n) {
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[got] = '\0';
    if (n) *n = got;
    return buf;
}

static void setup(const char *extra_env) {
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/st-sr-XXXXXX");
        if (!mkdtemp(g_dir)) g_dir[0] = '\0';
    }
    const char *vars[] = {"SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK", "REDIS_URL",
                          "ST_KV_BROADCAST", "ST_SR_MAX_OBS", "ST_SR_EXPLORE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    setenv("ST_HOME", g_dir, 1);
    setenv("ST_SELF_REWRITE", "1", 1);
    setenv("ST_SR_MIN_SAMPLES", "3", 1);
    setenv("ST_SR_IMPROVE_PCT", "0.1", 1);
    setenv("ST_SR_COOLDOWN_SEC", "0", 1);
    setenv("ST_SR_MAX_LINES", "100", 1);
    setenv("ST_SR_EXPIRY_DAYS", "30", 1);
    setenv("ST_SR_EXPLORE", "0", 1);
    if (extra_env) { /* "NAME=value;NAME=value" */
        char buf[512];
        snprintf(buf, sizeof buf, "%s", extra_env);
        for (char *save, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(t, '=');
            if (eq) *eq = '\0', setenv(t, eq + 1, 1);
        }
    }
    snprintf(g_rules, sizeof g_rules, "%s/heur.kdsl", g_dir);
    snprintf(g_obs, sizeof g_obs, "%s/observations.jsonl", g_dir);
    unlink(g_obs);
    write_file(g_rules, USER);
    g_now = 1700000000;
    st_sr_set_clock(fake_clock);
    st_sr_reconfigure();
    st_heur_reload();
}

/* The chain's current TopK choice as values, with one field changed. */
static void choice_with(int64_t cols, int64_t k, const char *field, int32_t val, int32_t *v) {
    st_heur_choice c;
    st_heur_choose(64, cols, k, false, &c);
    for (int f = 0; f < hk_kinds[0].nfields; f++) v[f] = hk_field_load(ST_HEUR_TOPK, f, &c);
    if (field) v[hk_field_index(ST_HEUR_TOPK, field, strlen(field))] = val;
}

/* 3 observations of the current choice at 1 ms, then 3 explored ones of `field=val`
 * at 0.5 ms: the sixth triggers the analysis (ST_SR_MIN_SAMPLES=3). */
static void evidence(int64_t cols, int64_t k, const char *field, int32_t val) {
    int32_t cur[ST_HEUR_MAX_FIELDS], alt[ST_HEUR_MAX_FIELDS];
    choice_with(cols, k, NULL, 0, cur);
    choice_with(cols, k, field, val, alt);
    for (int i = 0; i < 3; i++) CHECK_STATUS(st_sr_observe(ST_HEUR_TOPK, 64, cols, k, false, cur, 1.0, false), ST_OK);
    for (int i = 0; i < 3; i++) CHECK_STATUS(st_sr_observe(ST_HEUR_TOPK, 64, cols, k, false, alt, 0.5, true), ST_OK);
}

static const st_heur_field_explanation *field_of(int64_t cols, int64_t k, const char *name, st_heur_explanation *ex) {
    st_heur_explain(ST_HEUR_TOPK, 64, cols, k, false, ex);
    for (int f = 0; f < ex->nfields; f++)
        if (!strcmp(ex->fields[f].name, name)) return &ex->fields[f];
    return &ex->fields[0];
}

static bool user_intact(void) {
    size_t n;
    const char *t = read_file(g_rules, &n);
    return n >= sizeof USER - 1 && !memcmp(t, USER, sizeof USER - 1);
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

TEST(learned_rule_changes_only_its_bucket) {
    setup(NULL);
    st_heur_explanation ex;
    CHECK(field_of(4096, 16, "wg", &ex)->value == 128);
    evidence(4096, 16, "wg", 512);
    const char *t = read_file(g_rules, NULL);
    CHECK_MSG(strstr(t, "soft(wg, 512, 1, sg == 0 && c > 2048 && c <= 4096 && k > 8 && k <= 16); # sr ts=1700000000 "
                        "kind=topk bucket=0.12.4 field=wg value=512 | 2023-11-14T22:13:20Z: median 0.5 ms (n=3) vs 1 "
                        "ms (n=3) with wg=128, 50.0% faster per element") != NULL,
              "%s", t);
    CHECK(user_intact());
    char diag[4096];
    CHECK_STATUS(st_heur_check_file(g_rules, diag, sizeof diag), ST_OK);
    /* its bucket: from the file; the neighbours: unchanged; the user's hard rule still wins */
    const st_heur_field_explanation *wg = field_of(4096, 16, "wg", &ex);
    char where[300];
    snprintf(where, sizeof where, "%s:", g_rules);
    CHECK(wg->value == 512 && wg->source == ST_HEUR_SRC_FILE && !strncmp(wg->where, where, strlen(where)));
    CHECK(field_of(3000, 9, "wg", &ex)->value == 512); /* same bucket */
    CHECK(field_of(8192, 16, "wg", &ex)->value == 128 && field_of(8192, 16, "wg", &ex)->source == ST_HEUR_SRC_FALLBACK);
    CHECK(field_of(4096, 32, "wg", &ex)->value == 128);
    CHECK(field_of(4096, 8, "wg", &ex)->value == 128);
    CHECK(field_of(4096, 16, "kl", &ex)->value == 4);
    st_heur_choice c;
    CHECK_STATUS(st_heur_choose(64, 4096, 16, false, &c), ST_OK); /* the cached path sees it too */
    CHECK(c.wg == 512);
    CHECK_STATUS(st_heur_choose(64, 4096, 16, true, &c), ST_OK); /* other subgroup flag: the GPU fallback */
    CHECK(c.wg == 512);
    st_heur_midk_choice m;
    CHECK_STATUS(st_heur_choose_midk(64, 4096, 16, false, &m), ST_OK);
    CHECK(m.tile == 1024);
    /* more of the same evidence adds nothing (the rule is already there) */
    st_sr_stats before, after;
    st_sr_get_stats(&before);
    bool rewrote = true;
    g_now += 10;
    CHECK_STATUS(st_sr_analyze(&rewrote), ST_OK);
    st_sr_get_stats(&after);
    CHECK(!rewrote && after.rewrites == before.rewrites);
}

TEST(cooldown_expiry_and_max_lines) {
    setup("ST_SR_COOLDOWN_SEC=100;ST_SR_EXPIRY_DAYS=1");
    int64_t t0 = g_now;
    evidence(4096, 16, "wg", 512); /* A at t0 */
    CHECK(strstr(read_file(g_rules, NULL), "# last-rewrite: 1700000000\n") != NULL);
    g_now = t0 + 50;
    evidence(65536, 16, "kl", 64); /* B: within the cooldown */
    CHECK(strstr(read_file(g_rules, NULL), "field=kl") == NULL);
    g_now = t0 + 101;
    bool rewrote = false;
    CHECK_STATUS(st_sr_analyze(&rewrote), ST_OK);
    const char *t = read_file(g_rules, NULL);
    CHECK(rewrote && strstr(t, "field=kl") != NULL && strstr(t, "field=wg") != NULL);
    CHECK(strstr(t, "# last-rewrite: 1700000101\n") != NULL);
    g_now = t0 + 86400 + 1; /* A is older than a day, B is not */
    CHECK_STATUS(st_sr_analyze(&rewrote), ST_OK);
    t = read_file(g_rules, NULL);
    CHECK_MSG(rewrote && strstr(t, "field=wg") == NULL && strstr(t, "field=kl") != NULL, "%s", t);
    CHECK(strstr(t, "# last-rewrite: 1700000101\n") != NULL); /* expiry alone does not start the cooldown */
    CHECK(user_intact());
    g_now = t0 + 2 * 86400 + 200; /* B expires too; its evidence is as old: nothing re-learned */
    CHECK_STATUS(st_sr_analyze(&rewrote), ST_OK);
    t = read_file(g_rules, NULL);
    CHECK(rewrote && count(t, "soft(") == 0 && user_intact());

    setup("ST_SR_MAX_LINES=2");
    evidence(1024, 16, "wg", 512);
    g_now++;
    evidence(4096, 16, "wg", 256);
    g_now++;
    evidence(16384, 16, "wg", 64);
    t = read_file(g_rules, NULL);
    CHECK_MSG(count(t, "soft(") == 2 && strstr(t, "bucket=0.10.4") == NULL && strstr(t, "bucket=0.12.4") &&
                  strstr(t, "bucket=0.14.4"),
              "%s", t);
    char diag[4096];
    CHECK_STATUS(st_heur_check_file(g_rules, diag, sizeof diag), ST_OK);
}

TEST(block_keeps_user_text_after_it_in_its_section) {
    setup(NULL);
    evidence(4096, 16, "wg", 512);
    /* the user appends after the block, in the [midk] section they opened before it */
    size_t n;
    char *t = read_file(g_rules, &n);
    static char text[1 << 16];
    if (n + 16 < sizeof text) {
        memcpy(text, t, n);
        memcpy(text + n, "[midk]\nwg: 64\n", 15);
    }
    write_file(g_rules, text);
    g_now += 5;
    evidence(65536, 16, "ch", 16384);
    t = read_file(g_rules, &n);
    CHECK(user_intact());
    CHECK(n > 14 && !strcmp(t + n - 14, "[midk]\nwg: 64\n"));
    st_heur_reload();
    st_heur_midk_choice m;
    CHECK_STATUS(st_heur_choose_midk(64, 4096, 16, false, &m), ST_OK);
    CHECK(m.wg == 64 && m.tile == 1024);
    st_heur_explanation ex;
    CHECK(field_of(65536, 16, "ch", &ex)->value == 16384 && field_of(4096, 16, "wg", &ex)->value == 512);
    /* a soft rule never beats the user's hard assignment in the same file (kl: 4) */
    CHECK(field_of(65536, 16, "kl", &ex)->value == 4);
}

TEST(crash_between_write_and_rename_keeps_the_old_file) {
    setup(NULL);
    evidence(4096, 16, "wg", 512);
    size_t n0 = 0;
    static char before[1 << 16];
    const char *cur = read_file(g_rules, &n0);
    if (n0 < sizeof before) memcpy(before, cur, n0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        st_sr_set_crash_before_rename(77);
        g_now += 10;
        evidence(65536, 16, "kl", 64);
        _exit(0); /* not reached when the hook fires */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 77);
    size_t n1;
    const char *after = read_file(g_rules, &n1);
    CHECK(n1 == n0 && !memcmp(after, before, n0));
    char diag[4096];
    CHECK_STATUS(st_heur_check_file(g_rules, diag, sizeof diag), ST_OK);
    /* the lock died with the process: the next analysis goes through */
    bool rewrote = false;
    g_now += 20;
    CHECK_STATUS(st_sr_analyze(&rewrote), ST_OK);
    CHECK(rewrote && strstr(read_file(g_rules, NULL), "field=kl") != NULL);
}

#define NPROC 8
#define NOBS 36

TEST(eight_processes_lose_and_corrupt_nothing) {
    setup("ST_SR_MAX_OBS=100000");
    fflush(NULL);
    pid_t kids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        kids[p] = fork();
        if (kids[p] == 0) {
            int bad = 0;
            int64_t cols = 1024ll << (p % 4);
            int32_t cur[ST_HEUR_MAX_FIELDS], alt[ST_HEUR_MAX_FIELDS];
            choice_with(cols, 16, NULL, 0, cur);
            choice_with(cols, 16, "kl", p < 4 ? 64 : 32, alt);
            for (int i = 0; i < NOBS; i++) {
                bool ex = i % 2;
                if (st_sr_observe(ST_HEUR_TOPK, 100 + p, cols, 16, false, ex ? alt : cur, ex ? 0.4 + 0.01 * p : 1.0, ex) !=
                    ST_OK)
                    bad++;
                char diag[4096];
                if (st_heur_check_file(g_rules, diag, sizeof diag) != ST_OK) bad++;
            }
            _exit(bad ? 1 : 0);
        }
    }
    int fails = 0;
    for (int p = 0; p < NPROC; p++) {
        int st = 0;
        waitpid(kids[p], &st, 0);
        fails += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CHECK(fails == 0);
    size_t n;
    char *t = read_file(g_obs, &n);
    int per[NPROC] = {0}, lines = 0, bad = 0;
    for (char *line = t, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        lines++;
        int rows = 0;
        char *r = strstr(line, "\"rows\":");
        if (strncmp(line, "{\"ts\":", 6) || nl[-1] != '}' || !r || sscanf(r, "\"rows\":%d", &rows) != 1 || rows < 100 ||
            rows >= 100 + NPROC || r > nl)
            bad++;
        else
            per[rows - 100]++;
    }
    CHECK_MSG(lines == NPROC * NOBS && bad == 0 && t[n - 1] == '\n', "%d lines, %d bad", lines, bad);
    for (int p = 0; p < NPROC; p++) CHECK_MSG(per[p] == NOBS, "process %d: %d observations", p, per[p]);
    const char *rt = read_file(g_rules, NULL);
    CHECK(user_intact() && count(rt, "# >>> spiraltorch self-rewrite") == 1 && count(rt, "# <<< spiraltorch") == 1);
    CHECK_MSG(count(rt, "field=kl") == 4, "%s", rt); /* one rule per bucket: 4 buckets, the faster kl won */
    char diag[4096];
    CHECK_STATUS(st_heur_check_file(g_rules, diag, sizeof diag), ST_OK);
    st_sr_stats s;
    st_sr_get_stats(&s);
    CHECK(s.bad_lines == 0);
}

TEST(exploration_moves_one_field_to_a_neighbour) {
    setup("ST_SR_EXPLORE=1");
    st_heur_limits lim;
    st_heur_get_limits(&lim);
    for (int i = 0; i < 200; i++) {
        int kind = i % 2;
        int32_t v[ST_HEUR_MAX_FIELDS], w[ST_HEUR_MAX_FIELDS];
        st_heur_fallback_values(kind, 64, 65536, 64, false, v);
        memcpy(w, v, sizeof v);
        CHECK(st_sr_explore(kind, 64, 65536, 64, false, w));
        int diff = 0;
        for (int f = 0; f < hk_kinds[kind].nfields; f++) {
            if (w[f] == v[f]) continue;
            diff++;
            char why[256];
            CHECK_MSG(hk_field_valid(kind, f, w[f], &lim, false, why, sizeof why), "%s", why);
            int32_t c[ST_TUNE_MAX_CANDS];
            int n = st_tune_candidates(kind, f, c), j = 0;
            while (j < n && c[j] != w[f]) j++;
            CHECK(j < n); /* a candidate value */
        }
        CHECK(diff == 1);
    }
    setenv("ST_SR_EXPLORE", "0", 1);
    st_sr_reconfigure();
    int32_t v[ST_HEUR_MAX_FIELDS];
    st_heur_fallback_values(0, 64, 65536, 64, false, v);
    CHECK(!st_sr_explore(0, 64, 65536, 64, false, v));
}

static int lines_of(const char *path) {
    size_t n;
    const char *t = read_file(path, &n);
    int c = 0;
    for (size_t i = 0; i < n; i++) c += t[i] == '\n';
    return c;
}

TEST(rank_k_calls_are_observed_only_when_on) {
    setup("ST_SR_MIN_SAMPLES=1000");
    int64_t shape[2] = {5, 300};
    st_tensor *x = st_randn(2, shape, ST_F32);
    for (int i = 0; i < 4; i++) {
        st_tensor *v = NULL, *ix = NULL;
        CHECK_STATUS(i == 3 ? st_midk(x, 100, &v, &ix) : st_topk(x, 7, &v, &ix), ST_OK);
        st_release(v);
        st_release(ix);
    }
    const char *t = read_file(g_obs, NULL);
    CHECK_MSG(count(t, "\"kind\":\"topk\",\"rows\":5,\"cols\":300,\"k\":7,\"sg\":0,\"choice\":{\"u2\":") == 3 &&
                  count(t, "\"kind\":\"midk\",\"rows\":5,\"cols\":300,\"k\":100") == 1,
              "%s", t);
    unsetenv("ST_SELF_REWRITE");
    st_sr_reconfigure();
    st_tensor *v = NULL, *ix = NULL;
    CHECK_STATUS(st_topk(x, 7, &v, &ix), ST_OK);
    CHECK(lines_of(g_obs) == 4);
    st_release(v);
    st_release(ix);
    st_release(x);
}

TEST(observations_are_bounded) {
    setup("ST_SR_MAX_OBS=16");
    int32_t cur[ST_HEUR_MAX_FIELDS];
    choice_with(4096, 16, NULL, 0, cur);
    for (int i = 0; i < 60; i++) {
        g_now = 1700000000 + i;
        CHECK_STATUS(st_sr_observe(ST_HEUR_TOPK, 64, 4096, 16, false, cur, 1.0, false), ST_OK);
    }
    int n = lines_of(g_obs);
    CHECK_MSG(n <= 16 + 3 && n >= 8, "%d lines", n);
    CHECK(strstr(read_file(g_obs, NULL), "{\"ts\":1700000059,") != NULL); /* the newest stay */
    CHECK(strstr(read_file(g_obs, NULL), "{\"ts\":1700000000,") == NULL);
}
