/* test_tune_kv.c — with ST_KV_BROADCAST=1 and REDIS_URL, the tuner publishes each
 * shape's winner and self-rewrite its learned winner through st_kv_publish, against a
 * redis-server this test starts on a free loopback port (tests/unit/testredis.h).
 * Skips when hiredis is not built or redis-server is absent. */
#include "testlib.h"

#include "kv/kv.h"
#include "tune/tune.h"

#ifdef ST_HAVE_HIREDIS
#include "testredis.h"

static int64_t g_now = 1700000000;
static int64_t fake_clock(void) { return g_now; }

static bool up(void) { /* the folder first: redis-server runs in it */
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/st-tune-kv-XXXXXX");
        if (!mkdtemp(g_dir)) snprintf(g_dir, sizeof g_dir, "/tmp");
    }
    return server();
}

static void setup(void) {
    const char *vars[] = {"SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK", "ST_KV_TTL_SEC"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    setenv("ST_HOME", g_dir, 1);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", g_port);
    setenv("REDIS_URL", url, 1);
    setenv("ST_KV_BROADCAST", "1", 1);
    st_heur_reload();
}

/* The stored value of the key of (kind, cols, k, sg), "" when absent. */
static void get_key(int kind, int64_t cols, int64_t k, char *out, size_t cap) {
    char key[200];
    st_heur_limits lim;
    st_heur_get_limits(&lim);
    st_kv_key(kind, &lim, false, cols, k, key, sizeof key);
    out[0] = '\0';
    redisContext *c = cli();
    if (!c) return;
    redisReply *r = redisCommand(c, "GET %s", key);
    if (r && r->type == REDIS_REPLY_STRING) snprintf(out, cap, "%s", r->str);
    if (r) freeReplyObject(r);
    redisFree(c);
}

TEST(tuner_publishes_each_winner) {
    if (!up()) return;
    setup();
    st_tune_options o;
    st_tune_options_init(&o);
    o.reps = 1;
    o.warmup = 0;
    o.passes = 1;
    o.grid = "topk:2x512x4,midk:2x1024x100";
    char path[300], v[4096];
    snprintf(path, sizeof path, "%s/t.json", g_dir);
    st_device cpu = {ST_BACKEND_CPU, 0};
    CHECK_STATUS(st_tune_run(cpu, &o, path), ST_OK);
    st_tune_file f;
    CHECK_STATUS(st_tune_file_read(path, &f), ST_OK);
    for (int kind = 0; kind < 2; kind++) {
        get_key(kind, kind ? 1024 : 512, kind ? 100 : 4, v, sizeof v);
        long w = st_tune_bucket_winner(&f, kind, st_heur_bucket_of(false, kind ? 1024 : 512, kind ? 100 : 4));
        CHECK_MSG(v[0] && w >= 0, "%s: no key", hk_kinds[kind].name);
        int32_t vals[ST_HEUR_MAX_FIELDS];
        uint32_t have = 0;
        double med = -1;
        char why[256];
        st_heur_limits lim;
        st_heur_get_limits(&lim);
        CHECK_MSG(st_kv_parse_value(v, strlen(v), kind, &lim, false, vals, &have, &med, why, sizeof why), "%s", why);
        for (int fi = 0; w >= 0 && fi < hk_kinds[kind].nfields; fi++) CHECK(vals[fi] == f.s[kind][w].v[fi]);
        CHECK(w >= 0 && fabs(med - f.s[kind][w].time_ms) <= 1e-5 * (1 + med));
    }
    st_tune_file_free(&f);
}

TEST(self_rewrite_publishes_its_learned_winner) {
    if (!up()) return;
    setup();
    setenv("ST_SELF_REWRITE", "1", 1);
    setenv("ST_SR_MIN_SAMPLES", "3", 1);
    setenv("ST_SR_IMPROVE_PCT", "0.1", 1);
    setenv("ST_SR_COOLDOWN_SEC", "0", 1);
    setenv("ST_SR_EXPLORE", "0", 1);
    st_sr_set_clock(fake_clock);
    st_sr_reconfigure();
    st_heur_choice c;
    CHECK_STATUS(st_heur_choose(64, 200000, 16, false, &c), ST_OK);
    int32_t cur[ST_HEUR_MAX_FIELDS], alt[ST_HEUR_MAX_FIELDS];
    for (int f = 0; f < hk_kinds[0].nfields; f++) cur[f] = alt[f] = hk_field_load(0, f, &c);
    alt[1] = 1024; /* wg */
    for (int i = 0; i < 3; i++) CHECK_STATUS(st_sr_observe(0, 64, 200000, 16, false, cur, 2.0, false), ST_OK);
    for (int i = 0; i < 3; i++) CHECK_STATUS(st_sr_observe(0, 64, 200000, 16, false, alt, 1.0, true), ST_OK);
    char v[4096];
    get_key(0, 200000, 16, v, sizeof v);
    CHECK_MSG(strstr(v, "\"wg\":1024") && strstr(v, "\"median_ms\":1,") && strstr(v, "\"samples\":3"), "%s", v);
    st_sr_stats s;
    st_sr_get_stats(&s);
    CHECK(s.published == 1);
    unsetenv("ST_SELF_REWRITE");
    st_sr_reconfigure();
}
#else
TEST(skipped_without_hiredis) { printf("  (skipped: hiredis not built)\n"); }
#endif
