/* test_kv.c — the Redis resonance (src/kv, SPEC §7): REDIS_URL parsing, ingest through
 * the chain (source "redis"), poisoned values, TTL expiry, compare-and-set under 8
 * concurrent writers (fork), broadcast and the listener, and faults: Redis down, slow
 * (DEBUG SLEEP), garbage, a connection dropped mid-reply (a fake server in a thread).
 * Starts its own redis-server on a free loopback port and kills it by PID at exit,
 * failures included; skips (with a note) when redis-server is absent or hiredis is
 * not built. Uses a temporary HOME. */
#include "testlib.h"

#include "heur/heur.h"
#include "kv/kv.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef ST_HAVE_HIREDIS
#include <hiredis/hiredis.h>

#include "testredis.h"

static char g_log[16384];

static void capture(st_log_level level, const char *msg, void *user) {
    (void)level, (void)user;
    size_t n = strlen(g_log);
    snprintf(g_log + n, sizeof g_log - n, "%s\n", msg);
}

static double ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void rcmd(const char *fmt, const char *a, const char *b) {
    redisContext *c = cli();
    CHECK(c != NULL);
    if (!c) return;
    redisReply *r = redisCommand(c, fmt, a, b);
    CHECK_MSG(r && r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r ? r->str : c->errstr);
    if (r) freeReplyObject(r);
    redisFree(c);
}

static void use_url(const char *url) {
    if (url) setenv("REDIS_URL", url, 1);
    else unsetenv("REDIS_URL");
    st_heur_reload();
    st_kv_flush();
}

static void setup(void) {
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/st-kv-test-XXXXXX");
        if (!mkdtemp(g_dir)) snprintf(g_dir, sizeof g_dir, "/tmp");
    }
    setenv("HOME", g_dir, 1);
    const char *vars[] = {"ST_HOME", "SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK",
                          "ST_KV_BROADCAST", "ST_KV_TTL_SEC", "ST_KV_TIMEOUT_MS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    st_heur_set_recheck_ms(0);
    st_heur_set_limits(NULL);
    st_heur_set_tables(NULL, NULL);
    use_url(NULL);
    g_log[0] = '\0';
    st_set_log_callback(capture, NULL);
}

static void key_of(int kind, int64_t c, int64_t k, bool sg, char *buf, size_t cap) {
    st_heur_limits lim;
    st_heur_get_limits(&lim);
    st_kv_key(kind, &lim, sg, c, k, buf, cap);
}

static const st_heur_field_explanation *wg_of(int64_t c, int64_t k) {
    static st_heur_explanation ex;
    CHECK_STATUS(st_heur_explain(ST_HEUR_TOPK, 4, c, k, false, &ex), ST_OK);
    for (int i = 0; i < ex.nfields; i++)
        if (!strcmp(ex.fields[i].name, "wg")) return &ex.fields[i];
    return &ex.fields[0];
}

static long warnings(void) {
    st_kv_stats s;
    st_kv_get_stats(&s);
    return s.warnings;
}
#endif

TEST(url_parsing) {
    st_kv_url u;
    CHECK_STATUS(st_kv_parse_url("redis://127.0.0.1", &u), ST_OK);
    CHECK(!u.is_unix && !strcmp(u.host, "127.0.0.1") && u.port == 6379 && u.db == 0 && !u.pass[0]);
    CHECK_STATUS(st_kv_parse_url("redis://alice:s3cr@t@localhost:7001/3", &u), ST_OK);
    CHECK(!strcmp(u.user, "alice") && !strcmp(u.pass, "s3cr@t") && !strcmp(u.host, "localhost") && u.port == 7001 &&
          u.db == 3);
    CHECK_STATUS(st_kv_parse_url("redis://:pw@127.0.0.1/", &u), ST_OK);
    CHECK(!u.user[0] && !strcmp(u.pass, "pw") && u.db == 0);
    CHECK_STATUS(st_kv_parse_url("redis://[::1]:6380", &u), ST_OK);
    CHECK(!strcmp(u.host, "::1") && u.port == 6380);
    CHECK_STATUS(st_kv_parse_url("unix:///run/redis.sock?db=2", &u), ST_OK);
    CHECK(u.is_unix && !strcmp(u.path, "/run/redis.sock") && u.db == 2);
    static const struct {
        const char *url, *why;
    } bad[] = {{"http://h", "unknown scheme"},          {"redis://", "missing host"},
               {"redis://h:0", "port"},                 {"redis://h:70000", "port"},
               {"redis://h:12x", "port"},               {"redis://h/abc", "database"},
               {"redis://h/16", "database"},            {"redis://alice@h", "credentials"},
               {"redis://u:@h", "empty password"},      {"unix://relative", "absolute"},
               {"unix:///s?x=1", "db=N"},               {"redis://h x", "space"},
               {"redis://h%zz", "host"},                {"redis://[::1", "unclosed"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(st_kv_parse_url(bad[i].url, &u), ST_E_INVALID_ARG);
        CHECK_ERR_HAS(bad[i].why);
        CHECK_ERR_HAS("REDIS_URL");
    }
#ifdef ST_HAVE_HIREDIS
    /* a bad URL is reported at start (log + spiral info), the chain goes on */
    setup();
    setenv("REDIS_URL", "redis://127.0.0.1:99999", 1);
    st_heur_reload();
    CHECK_MSG(strstr(g_log, "Redis source off") && strstr(g_log, "port"), "%s", g_log);
    st_heur_source_info si[8];
    st_heur_sources(si, 8);
    CHECK(!si[4].active && strstr(si[4].detail, "error: REDIS_URL") == si[4].detail);
    st_heur_choice ch;
    CHECK_STATUS(st_heur_choose(4, 4096, 16, false, &ch), ST_OK);
    use_url(NULL);
#endif
}

#ifdef ST_HAVE_HIREDIS
TEST(ingest) {
    setup();
    if (!server()) return;
    char url[64], key[160];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", g_port);
    key_of(ST_HEUR_TOPK, 4096, 16, false, key, sizeof key);
    CHECK(strstr(key, "spiral:heur:v1:topk:wg1024.sg32.sm65536:sg0.lc12.lk4") == key);
    rcmd("SET %s %s", key,
         "{\"v\":1,\"choice\":{\"wg\":64,\"kl\":4},\"median_ms\":0.5,\"samples\":7,\"origin\":{\"host\":\"n1\","
         "\"pid\":42},\"ts\":1700000000}");
    long w0 = warnings();
    use_url(url);
    const st_heur_field_explanation *f = wg_of(4096, 16);
    CHECK_MSG(f->value == 64 && f->source == ST_HEUR_SRC_REDIS && !strcmp(f->where, "redis"), "wg %d from %s", f->value,
              f->where);
    st_heur_choice ch;
    CHECK_STATUS(st_heur_choose(4, 4096, 16, false, &ch), ST_OK);
    CHECK(ch.wg == 64 && ch.kl == 4);
    CHECK_STATUS(st_heur_choose(9, 4000, 15, false, &ch), ST_OK); /* same bucket: the process cache */
    CHECK(ch.wg == 64);
    st_kv_stats s;
    st_kv_get_stats(&s);
    CHECK(s.hits >= 1);
    st_heur_source_info si[8];
    st_heur_sources(si, 8);
    CHECK_MSG(si[4].active && strstr(si[4].detail, "1 key cached"), "%s", si[4].detail);
    /* a database other than 0 */
    redisContext *c = cli();
    redisReply *r = c ? redisCommand(c, "SELECT 2") : NULL;
    if (r) freeReplyObject(r);
    r = c ? redisCommand(c, "SET %s %s", key, "{\"v\":1,\"choice\":{\"wg\":32},\"median_ms\":1,\"samples\":1}") : NULL;
    if (r) freeReplyObject(r);
    if (c) redisFree(c);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/2", g_port);
    use_url(url);
    CHECK(wg_of(4096, 16)->value == 32);
    CHECK_MSG(warnings() == w0, "%s", g_log);
    use_url(NULL);
}

TEST(poisoned_values) {
    setup();
    if (!server()) return;
    char url[64], key[160];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", g_port);
    use_url(url);
    key_of(ST_HEUR_TOPK, 100000, 100, false, key, sizeof key);
    static const char *const bad[] = {
        "not json",
        "{\"v\":2,\"choice\":{\"wg\":64},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":48},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":4096},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":64,\"evil\":1},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":64},\"median_ms\":-1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":64},\"median_ms\":1,\"samples\":0}",
        "{\"v\":1,\"choice\":{\"wg\":64},\"median_ms\":1,\"samples\":1,\"x\":1}",
        "{\"v\":1,\"choice\":{\"wg\":64},\"median_ms\":1,\"samples\":1} trailing",
        "{\"v\":1,\"choice\":{\"wg\":1e999},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":64,\"wg\":128},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":\"64\"},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"u2\":2},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{},\"median_ms\":1,\"samples\":1}",
        "{\"v\":1,\"choice\":{\"wg\":64},\"median_ms\":1,\"samples\":1,\"origin\":{\"host\":\"a\x01\"}}",
        "{\"v\":1,\"choice\":{\"wg\":64",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rcmd("SET %s %s", key, bad[i]);
        st_kv_flush();
        long w0 = warnings();
        for (int rep = 0; rep < 3; rep++) {
            const st_heur_field_explanation *f = wg_of(100000, 100);
            CHECK_MSG(f->source != ST_HEUR_SRC_REDIS, "value %zu taken: %s", i, bad[i]);
        }
        CHECK_MSG(warnings() == w0 + 1, "value %zu: %ld warnings", i, warnings() - w0);
    }
    /* a huge value and a value of the wrong type */
    static char huge[9000];
    memset(huge, ' ', sizeof huge - 1);
    huge[0] = '{';
    rcmd("SET %s %s", key, huge);
    st_kv_flush();
    CHECK(wg_of(100000, 100)->source != ST_HEUR_SRC_REDIS);
    rcmd("DEL %s%s", key, "");
    rcmd("HSET %s f %s", key, "v");
    st_kv_flush();
    CHECK(wg_of(100000, 100)->source != ST_HEUR_SRC_REDIS);
    CHECK_MSG(strstr(g_log, "not a string value") && strstr(g_log, "longer than"), "%s", g_log);
    rcmd("DEL %s%s", key, "");
    use_url(NULL);
}

TEST(ttl_expiry) {
    setup();
    if (!server()) return;
    char url[64], key[160];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", g_port);
    use_url(url);
    key_of(ST_HEUR_TOPK, 300, 3, false, key, sizeof key);
    rcmd("SET %s %s PX 1000", key, "{\"v\":1,\"choice\":{\"wg\":16},\"median_ms\":1,\"samples\":1}");
    st_heur_choice ch;
    CHECK_STATUS(st_heur_choose(2, 300, 3, false, &ch), ST_OK);
    CHECK(ch.wg == 16);
    CHECK(wg_of(300, 3)->source == ST_HEUR_SRC_REDIS);
    usleep(1150000);
    CHECK(wg_of(300, 3)->source != ST_HEUR_SRC_REDIS);
    CHECK_STATUS(st_heur_choose(2, 300, 3, false, &ch), ST_OK); /* the chain's own cache drops it too */
    CHECK_MSG(ch.wg != 16, "wg %d", ch.wg);
    use_url(NULL);
}

static double json_median(const char *s) {
    const char *m = s ? strstr(s, "\"median_ms\":") : NULL;
    return m ? atof(m + 12) : -1;
}

TEST(cas_eight_writers_and_broadcast) {
    setup();
    if (!server()) return;
    char url[64], key[160];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", g_port);
    key_of(ST_HEUR_TOPK, 2048, 8, false, key, sizeof key);
    rcmd("DEL %s%s", key, "");
    long w0 = warnings();
    setenv("ST_KV_BROADCAST", "1", 1);
    setenv("ST_KV_TTL_SEC", "120", 1);
    pid_t kids[8];
    for (int i = 0; i < 8; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            st_heur_remote slot;
            char err[256];
            int code = st_kv_configure(url, &slot, err, sizeof err) ? 0 : 2;
            for (int round = 0; round < 6 && !code; round++) {
                int m = ((i * 5 + round * 3) % 17) + 2; /* medians 2..18; 8*6 values */
                int32_t v[ST_HEUR_MAX_FIELDS] = {1, 1 << (m % 6), m, 0, 0, 0};
                bool stored;
                if (st_kv_publish(ST_HEUR_TOPK, 2048, 8, false, v, m + 0.25, 3, &stored) != ST_OK) code = 3;
            }
            st_kv_listen_stop();
            _exit(code);
        }
    }
    int best = 99;
    for (int i = 0; i < 8; i++)
        for (int round = 0; round < 6; round++) {
            int m = ((i * 5 + round * 3) % 17) + 2;
            if (m < best) best = m;
        }
    for (int i = 0; i < 8; i++) {
        int status = -1;
        waitpid(kids[i], &status, 0);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d: status %d", i, status);
    }
    redisContext *c = cli();
    redisReply *r = c ? redisCommand(c, "GET %s", key) : NULL;
    CHECK(r && r->type == REDIS_REPLY_STRING);
    CHECK_MSG(r && json_median(r->str) == best + 0.25, "stored %s, best %d", r ? r->str : "?", best);
    char want[64];
    snprintf(want, sizeof want, "\"kl\":%d,", best);
    CHECK_MSG(r && strstr(r->str, want), "%s lacks %s", r ? r->str : "?", want);
    if (r) freeReplyObject(r);
    r = c ? redisCommand(c, "TTL %s", key) : NULL;
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer > 100 && r->integer <= 120);
    if (r) freeReplyObject(r);

    /* this process: broadcast on, the listener refreshes the cache on a PUBLISH */
    use_url(url);
    CHECK(wg_of(2048, 8)->source == ST_HEUR_SRC_REDIS);
    int32_t v[ST_HEUR_MAX_FIELDS] = {0, 8, 8, 0, 0, 0};
    bool stored = true;
    CHECK_STATUS(st_kv_publish(ST_HEUR_TOPK, 2048, 8, false, v, 100.0, 3, &stored), ST_OK);
    CHECK(!stored); /* slower than the stored one */
    int32_t badv[ST_HEUR_MAX_FIELDS] = {0, 48, 8, 0, 0, 0};
    CHECK_STATUS(st_kv_publish(ST_HEUR_TOPK, 2048, 8, false, badv, 0.1, 3, &stored), ST_E_INVALID_ARG);
    CHECK_ERR_HAS("wg");
    st_kv_stats s0, s1;
    st_kv_get_stats(&s0);
    for (int i = 0; i < 300 && s0.messages == 0; i++) { /* the listener subscribes */
        rcmd("PUBLISH %s %s", ST_KV_CHANNEL, "hello");
        usleep(10000);
        st_kv_get_stats(&s0);
    }
    CHECK(s0.messages > 0);
    st_heur_choice ch;
    CHECK_STATUS(st_heur_choose(3, 2048, 8, false, &ch), ST_OK);
    CHECK(ch.kl == best);
    CHECK_STATUS(st_kv_publish(ST_HEUR_TOPK, 2048, 8, false, v, 0.5, 3, &stored), ST_OK);
    CHECK(stored);
    for (int i = 0; i < 300; i++) {
        st_kv_get_stats(&s1);
        if (s1.messages > s0.messages) break;
        usleep(10000);
    }
    CHECK(s1.messages > s0.messages);
    CHECK_STATUS(st_heur_choose(3, 2048, 8, false, &ch), ST_OK);
    CHECK_MSG(ch.kl == 8 && ch.wg == 8, "kl %d wg %d", ch.kl, ch.wg);
    if (c) redisFree(c);
    CHECK_MSG(warnings() == w0, "%s", g_log);
    unsetenv("ST_KV_BROADCAST");
    use_url(NULL);
}

/* Redis down: refused, and a listener that never answers (timeout). */
TEST(redis_down) {
    setup();
    int port, fd = bind_free(&port, false); /* bound, not listening: refused */
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", port);
    use_url(url);
    st_kv_stats s0, s;
    st_kv_get_stats(&s0);
    double t0 = ms_now();
    for (int i = 0; i < 20; i++) {
        st_kv_flush();
        CHECK(wg_of(1000 + i, 4)->source != ST_HEUR_SRC_REDIS);
    }
    double dt = ms_now() - t0;
    CHECK_MSG(dt < 200, "%.1f ms for 20 choices", dt);
    st_kv_get_stats(&s);
    CHECK_MSG(s.warnings == s0.warnings + 1, "%ld warnings: %s", s.warnings - s0.warnings, g_log);
    CHECK(strstr(g_log, "cannot connect") != NULL);
    CHECK_MSG(s.failures - s0.failures <= 2, "%ld failures: a retry storm", s.failures - s0.failures);
    close(fd);

    int lfd = bind_free(&port, true); /* accepts in the kernel, never answers */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/", port);
    setenv("ST_KV_TIMEOUT_MS", "30", 1);
    use_url(url);
    long w0 = warnings();
    t0 = ms_now();
    st_heur_choice ch;
    CHECK_STATUS(st_heur_choose(4, 777, 7, false, &ch), ST_OK);
    dt = ms_now() - t0;
    CHECK_MSG(dt < 30 + 100, "%.1f ms with a 30 ms timeout", dt);
    t0 = ms_now();
    for (int i = 0; i < 20; i++) {
        st_kv_flush();
        CHECK(wg_of(1000 + i, 4)->source != ST_HEUR_SRC_REDIS);
    }
    dt = ms_now() - t0;
    CHECK_MSG(dt < 100, "%.1f ms for 20 choices while backing off", dt);
    CHECK_MSG(warnings() == w0 + 1, "%ld warnings", warnings() - w0);
    close(lfd);
    unsetenv("ST_KV_TIMEOUT_MS");
    use_url(NULL);
}

static atomic_int g_sent;
static void *debug_sleep(void *arg) {
    (void)arg;
    redisContext *c = cli();
    void *r = NULL;
    if (c) {
        redisAppendCommand(c, "DEBUG SLEEP 0.4");
        int done = 0;
        while (!done && redisBufferWrite(c, &done) == REDIS_OK) {}
    }
    atomic_store(&g_sent, 1); /* the command is on its way: the server sleeps from now */
    if (c && redisGetReply(c, &r) == REDIS_OK && r) freeReplyObject(r);
    if (c) redisFree(c);
    return NULL;
}

TEST(redis_refusing) {
    setup();
    if (!server()) return;
    char url[80];
    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/", g_port); /* the server has no password */
    use_url(url);
    long w0 = warnings();
    for (int i = 0; i < 5; i++) {
        st_kv_flush();
        CHECK(wg_of(7000, 7)->source != ST_HEUR_SRC_REDIS);
    }
    CHECK_MSG(warnings() == w0 + 1 && strstr(g_log, "AUTH failed"), "%s", g_log);
    st_heur_source_info si[8];
    st_heur_sources(si, 8);
    CHECK_MSG(strstr(si[4].detail, ":***@") && !strstr(si[4].detail, "wrong"), "%s", si[4].detail);
    use_url(NULL);
}

TEST(redis_slow) {
    setup();
    if (!server()) return;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", g_port);
    use_url(url);
    CHECK(wg_of(5000, 5)->source != ST_HEUR_SRC_REDIS); /* connected */
    pthread_t th;
    atomic_store(&g_sent, 0);
    pthread_create(&th, NULL, debug_sleep, NULL);
    while (!atomic_load(&g_sent)) usleep(1000);
    usleep(30000);
    long w0 = warnings();
    st_kv_flush();
    double t0 = ms_now();
    CHECK(wg_of(5000, 5)->source != ST_HEUR_SRC_REDIS);
    double dt = ms_now() - t0;
    CHECK_MSG(dt < 50 + 100, "%.1f ms with a 50 ms timeout", dt);
    CHECK(warnings() == w0 + 1);
    pthread_join(th, NULL);
    usleep(250000); /* back-off over: reconnects */
    st_kv_stats s0, s1;
    st_kv_get_stats(&s0);
    st_kv_flush();
    wg_of(5000, 5);
    st_kv_get_stats(&s1);
    CHECK(s1.connects == s0.connects + 1 && s1.failures == s0.failures && s1.misses == s0.misses + 1);
    use_url(NULL);
}

/* A fake server: answers every connection with `reply` (NULL: closes at once). */
typedef struct fake {
    int fd;
    const char *reply;
    volatile int stop;
} fake;
static void *fake_main(void *arg) {
    fake *f = arg;
    while (!f->stop) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) break;
        char buf[512];
        if (read(c, buf, sizeof buf) > 0 && f->reply) {
            ssize_t n = write(c, f->reply, strlen(f->reply));
            (void)n;
        }
        close(c);
    }
    return NULL;
}

TEST(garbage_and_dropped) {
    setup();
    static const char *const replies[] = {"%%% garbage \x01\x02\r\n", "$100\r\n{\"v\":1,\"cho", NULL,
                                          "*2\r\n$-1\r\n:5\r\n", "-NOAUTH Authentication required.\r\n-NOAUTH x\r\n"};
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        fake f = {.reply = replies[i]};
        int port;
        f.fd = bind_free(&port, true);
        pthread_t th;
        pthread_create(&th, NULL, fake_main, &f);
        char url[64];
        snprintf(url, sizeof url, "redis://127.0.0.1:%d/", port);
        use_url(url);
        long w0 = warnings();
        double t0 = ms_now();
        for (int rep = 0; rep < 5; rep++) {
            st_kv_flush();
            CHECK(wg_of(6000, 6)->source != ST_HEUR_SRC_REDIS);
        }
        double dt = ms_now() - t0;
        CHECK_MSG(dt < 250, "reply %zu: %.1f ms", i, dt);
        CHECK_MSG(warnings() == w0 + 1, "reply %zu: %ld warnings: %s", i, warnings() - w0, g_log);
        use_url(NULL);
        f.stop = 1;
        shutdown(f.fd, SHUT_RDWR);
        pthread_join(th, NULL);
        close(f.fd);
    }
}
#else
TEST(not_built) { printf("  (skipped: Redis support not built; only URL parsing tested)\n"); }
#endif
