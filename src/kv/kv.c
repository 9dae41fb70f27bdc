/* kv.c — the Redis slot of the heuristics chain (source 4) and the winner broadcast.
 *
 * Invariants:
 * - All state lives in K and is touched only under K.mu, except the atomics (dirty
 *   flag, stop flag). Lock order: the chain's lock, then K.mu (lookup and poll are
 *   called under the chain's lock); K.mu is never held while calling into the chain
 *   except st_heur_invalidate(), which takes no lock.
 * - Every Redis round trip is bounded by the timeout (connect and read/write); a NULL
 *   reply or an error closes the context. After a failure no connection is attempted
 *   before retry_at (back-off doubling from 100 ms to 5 s): a dead Redis costs at most
 *   one timeout per back-off period. One warning per failure episode; the episode
 *   ends at the next successful round trip.
 * - Values from Redis are untrusted: at most ST_KV_MAX_VALUE bytes, strict JSON
 *   subset, every field checked against the field table and the device limits; a bad
 *   value is ignored as a whole, with one warning per distinct value.
 * - The in-process cache is a fixed table (no allocation); an entry lives for the
 *   key's TTL (capped at 60 s), an absent key for ST_KV_MISS_MS.
 * - Memory of our own is static; hiredis allocates with its own allocator.
 */
#include "kv/kv.h"
#include "core/json.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifdef ST_HAVE_HIREDIS
#include <hiredis/hiredis.h>
#include <sys/socket.h>
#endif

#define ST_KV_MAX_VALUE 4096
#define ST_KV_MISS_MS 5000
#define ST_KV_MAX_CACHE_MS 60000
#define CACHE_N 256

void st_kv_key(int kind, const st_heur_limits *lim, bool sg, int64_t cols, int64_t k, char *buf, size_t cap) {
    st_heur_bucket b = st_heur_bucket_of(sg, cols, k);
    snprintf(buf, cap, ST_KV_PREFIX "%s:wg%d.sg%d.sm%lld:sg%u.lc%u.lk%u", hk_kinds[kind].name, (int)lim->max_workgroup,
             (int)lim->subgroup_size, (long long)lim->shared_mem, b.sg, b.lc, b.lk);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- value parsing */
/* The strict pull reader of src/core/json.h (shared with tuner.json). */
typedef st_json jp;
static bool jlit(jp *p, char c) { return st_json_lit(p, c); }
static bool jstr(jp *p, char *out, size_t cap) { return st_json_str(p, out, cap, true); }
static bool jnum(jp *p, double *v) { return st_json_num(p, v, true); }

bool st_kv_parse_value(const char *s, size_t n, int kind, const st_heur_limits *lim, bool sg, int32_t *vals,
                        uint32_t *have, double *median, char *why, size_t cap) {
    jp p;
    st_json_init(&p, s, n);
    enum { K_V = 1, K_CHOICE = 2, K_MED = 4, K_SAMP = 8, K_ORIGIN = 16, K_TS = 32 };
    unsigned seen = 0;
    double ver = 0, samples = 0;
    uint32_t h = 0;
    if (!jlit(&p, '{')) return snprintf(why, cap, "not a JSON object"), false;
    if (jlit(&p, '}')) return snprintf(why, cap, "empty object"), false;
    do {
        char key[32];
        if (!jstr(&p, key, sizeof key) || !jlit(&p, ':')) return snprintf(why, cap, "malformed JSON"), false;
        unsigned bit = !strcmp(key, "v") ? K_V : !strcmp(key, "choice") ? K_CHOICE : !strcmp(key, "median_ms") ? K_MED
                       : !strcmp(key, "samples") ? K_SAMP : !strcmp(key, "origin") ? K_ORIGIN : !strcmp(key, "ts") ? K_TS : 0;
        if (!bit) return snprintf(why, cap, "unknown key '%s'", key), false;
        if (seen & bit) return snprintf(why, cap, "duplicate key '%s'", key), false;
        seen |= bit;
        double d;
        if (bit == K_CHOICE) {
            if (!jlit(&p, '{')) return snprintf(why, cap, "'choice' is not an object"), false;
            if (!jlit(&p, '}')) {
                do {
                    char f[HK_MAX_NAME];
                    if (!jstr(&p, f, sizeof f) || !jlit(&p, ':') || !jnum(&p, &d))
                        return snprintf(why, cap, "malformed 'choice'"), false;
                    int fi = hk_field_index(kind, f, strlen(f));
                    if (fi < 0) return snprintf(why, cap, "unknown field '%s' for %s", f, hk_kinds[kind].name), false;
                    if (h & (1u << fi)) return snprintf(why, cap, "duplicate field '%s'", f), false;
                    if (!hk_field_valid(kind, fi, d, lim, sg, why, cap)) return false;
                    vals[fi] = (int32_t)d;
                    h |= 1u << fi;
                } while (jlit(&p, ','));
                if (!jlit(&p, '}')) return snprintf(why, cap, "malformed 'choice'"), false;
            }
        } else if (bit == K_ORIGIN) {
            if (!jlit(&p, '{')) return snprintf(why, cap, "'origin' is not an object"), false;
            if (!jlit(&p, '}')) {
                do {
                    char f[16], host[256];
                    if (!jstr(&p, f, sizeof f) || !jlit(&p, ':')) return snprintf(why, cap, "malformed 'origin'"), false;
                    if (!strcmp(f, "host")) {
                        if (!jstr(&p, host, sizeof host)) return snprintf(why, cap, "bad origin host"), false;
                    } else if (!strcmp(f, "pid")) {
                        if (!jnum(&p, &d) || d < 0 || d > 4294967295.0) return snprintf(why, cap, "bad origin pid"), false;
                    } else {
                        return snprintf(why, cap, "unknown origin key '%s'", f), false;
                    }
                } while (jlit(&p, ','));
                if (!jlit(&p, '}')) return snprintf(why, cap, "malformed 'origin'"), false;
            }
        } else {
            if (!jnum(&p, &d)) return snprintf(why, cap, "'%s' is not a number", key), false;
            if (bit == K_V) ver = d;
            if (bit == K_MED) *median = d;
            if (bit == K_SAMP) samples = d;
            if (bit == K_TS && d < 0) return snprintf(why, cap, "negative 'ts'"), false;
        }
    } while (jlit(&p, ','));
    if (!jlit(&p, '}')) return snprintf(why, cap, "malformed JSON"), false;
    if (!st_json_end(&p)) return snprintf(why, cap, "junk after the JSON object"), false;
    if (!(seen & K_V) || ver != 1) return snprintf(why, cap, "schema version 'v' is not 1"), false;
    if (!(seen & K_CHOICE) || !h) return snprintf(why, cap, "no 'choice' fields"), false;
    if (!(seen & K_MED) || !(*median >= 0) || *median > 1e9) return snprintf(why, cap, "bad or missing 'median_ms'"), false;
    if (!(seen & K_SAMP) || samples < 1 || samples != floor(samples) || samples > 1e12)
        return snprintf(why, cap, "bad or missing 'samples'"), false;
    *have = h;
    return true;
}

/* ---------------------------------------------------------------- state */
typedef struct kentry {
    char key[160];
    int64_t expires;
    bool present;
    uint32_t have;
    int32_t v[ST_HEUR_MAX_FIELDS];
    uint64_t bad_hash; /* hash of the last rejected value (one warning each) */
} kentry;

static struct {
    pthread_mutex_t mu;
    bool configured;
    st_kv_url url;
    char shown[480]; /* the URL without the password */
    int timeout_ms, ttl_sec;
    bool broadcast;
#ifdef ST_HAVE_HIREDIS
    redisContext *c;
    redisContext *sc; /* the listener's, under lmu */
#endif
    int64_t retry_at;
    int backoff_ms;
    bool failing;
    int64_t served_expiry; /* earliest expiry of an entry given to the chain */
    kentry cache[CACHE_N];
    st_kv_stats stats;
    pthread_mutex_t lmu;
    pthread_t lth;
    bool listening;
} K = {.mu = PTHREAD_MUTEX_INITIALIZER, .lmu = PTHREAD_MUTEX_INITIALIZER, .backoff_ms = 100,
       .served_expiry = INT64_MAX};
static atomic_bool k_dirty;

void st_kv_flush(void) {
    pthread_mutex_lock(&K.mu);
    for (int i = 0; i < CACHE_N; i++) K.cache[i].key[0] = '\0', K.cache[i].bad_hash = 0;
    K.served_expiry = INT64_MAX;
    pthread_mutex_unlock(&K.mu);
}

bool st_kv_poll(void) {
    bool d = atomic_exchange(&k_dirty, false);
    pthread_mutex_lock(&K.mu);
    if (now_ms() >= K.served_expiry) {
        K.served_expiry = INT64_MAX;
        d = true;
    }
    pthread_mutex_unlock(&K.mu);
    return d;
}

void st_kv_get_stats(st_kv_stats *out) {
    pthread_mutex_lock(&K.mu);
    *out = K.stats;
    pthread_mutex_unlock(&K.mu);
}

#ifdef ST_HAVE_HIREDIS
bool st_kv_built(void) { return true; }

static atomic_bool k_stop;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}


/* hiredis writes with write(): a peer that closed the socket would raise SIGPIPE and kill
 * the process. Around our round trips the calling thread blocks SIGPIPE, and a SIGPIPE
 * raised meanwhile is consumed before the mask is restored. */
typedef struct pipe_guard {
    sigset_t old;
    bool pending_before;
} pipe_guard;
static void pipe_block(pipe_guard *g) {
    sigset_t s, pend;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigemptyset(&pend);
    sigpending(&pend);
    g->pending_before = sigismember(&pend, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &s, &g->old);
}
static void pipe_unblock(pipe_guard *g) {
    sigset_t s, pend;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigemptyset(&pend);
    if (!g->pending_before && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1) {
        struct timespec zero = {0, 0};
        (void)sigtimedwait(&s, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* A failed round trip (under K.mu): close, warn once per episode, back off. */
static void fail(const char *what) {
    if (K.c) redisFree(K.c);
    K.c = NULL;
    K.stats.failures++;
    if (!K.failing) {
        K.stats.warnings++;
        st_logf(ST_LOG_WARN, "redis: %s: %s; using the next heuristics source (retrying with back-off)", K.shown, what);
    }
    K.failing = true;
    K.retry_at = now_ms() + K.backoff_ms;
    K.backoff_ms = K.backoff_ms >= 2500 ? 5000 : K.backoff_ms * 2;
}

static void ok_again(void) {
    if (K.failing) st_logf(ST_LOG_INFO, "redis: %s: reachable again", K.shown);
    K.failing = false;
    K.backoff_ms = 100;
}

static struct timeval tv_of(int ms) { return (struct timeval){ms / 1000, (ms % 1000) * 1000}; }

/* A command that must answer +OK (under K.mu, on ctx). */
static bool expect_ok(redisContext *c, redisReply *r, char *why, size_t cap) {
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok) snprintf(why, cap, "%s", !r ? c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    if (r) freeReplyObject(r);
    return ok;
}

/* A new context with AUTH/SELECT done, or NULL with why. */
static redisContext *open_ctx(const st_kv_url *u, int timeout_ms, char *why, size_t cap) {
    struct timeval tv = tv_of(timeout_ms);
    redisContext *c = u->is_unix ? redisConnectUnixWithTimeout(u->path, tv) : redisConnectWithTimeout(u->host, u->port, tv);
    if (!c) return snprintf(why, cap, "out of memory"), NULL;
    if (c->err) {
        snprintf(why, cap, "cannot connect: %s", c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        snprintf(why, cap, "cannot set the timeout");
        redisFree(c);
        return NULL;
    }
    char w[200];
    if (u->pass[0]) {
        redisReply *r = u->user[0] ? redisCommand(c, "AUTH %s %s", u->user, u->pass) : redisCommand(c, "AUTH %s", u->pass);
        if (!expect_ok(c, r, w, sizeof w)) {
            snprintf(why, cap, "AUTH failed: %s", w);
            redisFree(c);
            return NULL;
        }
    }
    if (u->db) {
        redisReply *r = redisCommand(c, "SELECT %d", u->db);
        if (!expect_ok(c, r, w, sizeof w)) {
            snprintf(why, cap, "SELECT %d failed: %s", u->db, w);
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* Connected (under K.mu)? Connects unless backing off. */
static bool ready(void) {
    if (K.c) return true;
    if (!K.configured || now_ms() < K.retry_at) return false;
    char why[300];
    K.c = open_ctx(&K.url, K.timeout_ms, why, sizeof why);
    if (!K.c) {
        fail(why);
        return false;
    }
    K.stats.connects++;
    return true;
}

static bool lookup(void *user, int kind, int64_t rows, int64_t cols, int64_t k, bool sg, int32_t *values,
                   uint32_t *have) {
    (void)user;
    (void)rows;
    char key[160];
    st_kv_key(kind, st_heur_limits_locked(), sg, cols, k, key, sizeof key);
    pthread_mutex_lock(&K.mu);
    kentry *e = &K.cache[hash_bytes(key, strlen(key)) % CACHE_N];
    int64_t now = now_ms();
    bool found = false;
    K.stats.gets++;
    if (!strcmp(e->key, key) && now < e->expires) {
        K.stats.hits++;
        goto out;
    }
    pipe_guard pg;
    pipe_block(&pg);
    if (!ready()) {
        pipe_unblock(&pg);
        pthread_mutex_unlock(&K.mu);
        return false;
    }
    redisAppendCommand(K.c, "GET %s", key);
    redisAppendCommand(K.c, "PTTL %s", key);
    redisReply *g = NULL, *t = NULL;
    if (redisGetReply(K.c, (void **)&g) != REDIS_OK || !g || redisGetReply(K.c, (void **)&t) != REDIS_OK || !t) {
        char why[320];
        snprintf(why, sizeof why, "GET %s: %s", key, K.c->errstr[0] ? K.c->errstr : "no reply");
        if (g) freeReplyObject(g);
        fail(why);
        pipe_unblock(&pg);
        pthread_mutex_unlock(&K.mu);
        return false;
    }
    bool wrongtype = g->type == REDIS_REPLY_ERROR && !strncmp(g->str, "WRONGTYPE", 9); /* a hostile value */
    if ((g->type == REDIS_REPLY_ERROR && !wrongtype) || t->type == REDIS_REPLY_ERROR) { /* refusing: NOAUTH, ... */
        char why[480];
        snprintf(why, sizeof why, "GET %s refused: %.160s", key, (g->type == REDIS_REPLY_ERROR ? g : t)->str);
        freeReplyObject(g);
        freeReplyObject(t);
        fail(why);
        pipe_unblock(&pg);
        pthread_mutex_unlock(&K.mu);
        return false;
    }
    ok_again();
    K.stats.misses++;
    uint64_t bad_hash = !strcmp(e->key, key) ? e->bad_hash : 0;
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->expires = now + ST_KV_MISS_MS;
    if (g->type == REDIS_REPLY_STRING) {
        char why[256] = "";
        double med = 0;
        bool ok = g->len <= ST_KV_MAX_VALUE;
        if (!ok) snprintf(why, sizeof why, "longer than %d bytes", ST_KV_MAX_VALUE);
        else ok = st_kv_parse_value(g->str, g->len, kind, st_heur_limits_locked(), sg, e->v, &e->have, &med, why, sizeof why);
        if (ok) {
            e->present = true;
            int64_t ttl = t->type == REDIS_REPLY_INTEGER && t->integer > 0 ? t->integer : ST_KV_MAX_CACHE_MS;
            e->expires = now + (ttl < ST_KV_MAX_CACHE_MS ? ttl : ST_KV_MAX_CACHE_MS);
        } else {
            uint64_t hv = hash_bytes(g->str, g->len);
            K.stats.rejects++;
            if (hv != bad_hash) {
                K.stats.warnings++;
                st_logf(ST_LOG_WARN, "redis: ignoring the value of %s: %s", key, why);
            }
            e->bad_hash = hv;
            memset(e->v, 0, sizeof e->v);
            e->have = 0;
        }
    } else if (g->type != REDIS_REPLY_NIL) {
        K.stats.rejects++;
        if (e->bad_hash != 1) {
            K.stats.warnings++;
            st_logf(ST_LOG_WARN, "redis: ignoring %s: not a string value", key);
        }
        e->bad_hash = 1;
    }
    freeReplyObject(g);
    freeReplyObject(t);
    pipe_unblock(&pg);
out:
    if (e->present) {
        memcpy(values, e->v, sizeof e->v);
        *have = e->have;
        found = true;
    }
    if (e->expires < K.served_expiry) K.served_expiry = e->expires;
    pthread_mutex_unlock(&K.mu);
    return found;
}

static void describe(void *user, char *buf, size_t cap) {
    (void)user;
    pthread_mutex_lock(&K.mu);
    int n = 0;
    int64_t now = now_ms();
    for (int i = 0; i < CACHE_N; i++) n += K.cache[i].key[0] && K.cache[i].present && now < K.cache[i].expires;
    snprintf(buf, cap, "%s, %d key%s cached, %s (timeout %d ms%s)", K.shown, n, n == 1 ? "" : "s",
             K.c ? "connected" : K.failing ? "unreachable, backing off" : "not connected yet", K.timeout_ms,
             K.broadcast ? ", broadcast on" : "");
    pthread_mutex_unlock(&K.mu);
}

static const char CAS_SCRIPT[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur then\n"
    "  local ok, t = pcall(cjson.decode, cur)\n"
    "  if ok and type(t) == 'table' and type(t.median_ms) == 'number' and t.median_ms <= tonumber(ARGV[2]) then\n"
    "    return 0\n"
    "  end\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])\n"
    "redis.call('PUBLISH', ARGV[4], KEYS[1])\n"
    "return 1\n";

st_status st_kv_publish(int kind, int64_t cols, int64_t k, bool sg, const int32_t *values, double median_ms,
                        int samples, bool *stored) {
    if (stored) *stored = false;
    if (kind < 0 || kind >= HK_NKINDS || !values || !(median_ms >= 0) || median_ms > 1e9 || samples < 1)
        return st_err(ST_E_INVALID_ARG, "st_kv_publish: bad kind, values, median_ms or samples");
    st_heur_limits lim;
    st_heur_get_limits(&lim);
    for (int f = 0; f < hk_kinds[kind].nfields; f++) {
        char why[160];
        if (!hk_field_valid(kind, f, values[f], &lim, sg, why, sizeof why))
            return st_err(ST_E_INVALID_ARG, "st_kv_publish: %s", why);
    }
    char key[160], json[1024], host[128] = "?";
    st_kv_key(kind, &lim, sg, cols, k, key, sizeof key);
    gethostname(host, sizeof host - 1);
    for (char *h = host; *h; h++)
        if ((unsigned char)*h < 32 || *h == '"' || *h == '\\' || (unsigned char)*h >= 127) *h = '_';
    size_t o = (size_t)snprintf(json, sizeof json, "{\"v\":1,\"choice\":{");
    for (int f = 0; f < hk_kinds[kind].nfields; f++)
        o += (size_t)snprintf(json + o, sizeof json - o, "%s\"%s\":%d", f ? "," : "", hk_kinds[kind].fields[f].name,
                              (int)values[f]);
    snprintf(json + o, sizeof json - o, "},\"median_ms\":%.6g,\"samples\":%d,\"origin\":{\"host\":\"%s\",\"pid\":%ld},"
             "\"ts\":%lld}", median_ms, samples, host, (long)getpid(), (long long)time(NULL));
    pthread_mutex_lock(&K.mu);
    if (!K.configured || !K.broadcast) {
        pthread_mutex_unlock(&K.mu);
        return ST_OK;
    }
    pipe_guard pg;
    pipe_block(&pg);
    if (!ready()) {
        pipe_unblock(&pg);
        pthread_mutex_unlock(&K.mu);
        return st_err(ST_E_IO, "redis: %s unreachable: winner for %s not published", K.shown, key);
    }
    char med[32], ttl[16];
    snprintf(med, sizeof med, "%.17g", median_ms);
    snprintf(ttl, sizeof ttl, "%d", K.ttl_sec);
    redisReply *r = redisCommand(K.c, "EVAL %s 1 %s %s %s %s %s", CAS_SCRIPT, key, json, med, ttl, ST_KV_CHANNEL);
    st_status st = ST_OK;
    if (!r) {
        char why[320];
        snprintf(why, sizeof why, "EVAL: %s", K.c->errstr);
        fail(why);
        st = st_err(ST_E_IO, "redis: %s", why);
    } else if (r->type != REDIS_REPLY_INTEGER) {
        st = st_err(ST_E_IO, "redis: compare-and-set of %s: %s", key, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    } else {
        ok_again();
        if (stored) *stored = r->integer == 1;
        kentry *e = &K.cache[hash_bytes(key, strlen(key)) % CACHE_N];
        if (!strcmp(e->key, key)) e->key[0] = '\0';
    }
    if (r) freeReplyObject(r);
    pipe_unblock(&pg);
    pthread_mutex_unlock(&K.mu);
    return st;
}

/* ---------------------------------------------------------------- listener */
static void *listen_main(void *arg) {
    (void)arg;
    sigset_t sp; /* this thread never takes SIGPIPE: a write to a closed socket fails with EPIPE */
    sigemptyset(&sp);
    sigaddset(&sp, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sp, NULL);
    int backoff = 100;
    while (!atomic_load(&k_stop)) {
        pthread_mutex_lock(&K.mu);
        st_kv_url u = K.url;
        int tmo = K.timeout_ms;
        pthread_mutex_unlock(&K.mu);
        char why[300];
        redisContext *c = open_ctx(&u, tmo, why, sizeof why);
        if (c) {
            pthread_mutex_lock(&K.lmu); /* visible before blocking: stop shuts the socket down */
            K.sc = c;
            bool stop = atomic_load(&k_stop);
            pthread_mutex_unlock(&K.lmu);
            struct timeval zero = {0, 0};
            redisSetTimeout(c, zero);
            redisReply *r = stop ? NULL : redisCommand(c, "SUBSCRIBE %s", ST_KV_CHANNEL);
            if (r) freeReplyObject(r);
            if (r && !atomic_load(&k_stop)) {
                backoff = 100;
                void *m;
                while (redisGetReply(c, &m) == REDIS_OK && m) {
                    redisReply *x = m;
                    if (x->type == REDIS_REPLY_ARRAY && x->elements == 3 && x->element[0]->type == REDIS_REPLY_STRING &&
                        !strcmp(x->element[0]->str, "message")) {
                        pthread_mutex_lock(&K.mu);
                        K.stats.messages++;
                        for (int i = 0; i < CACHE_N; i++) K.cache[i].key[0] = '\0';
                        pthread_mutex_unlock(&K.mu);
                        atomic_store(&k_dirty, true);
                        st_heur_invalidate();
                    }
                    freeReplyObject(x);
                }
            }
            pthread_mutex_lock(&K.lmu);
            K.sc = NULL;
            pthread_mutex_unlock(&K.lmu);
            redisFree(c);
        }
        for (int w = 0; w < backoff && !atomic_load(&k_stop); w += 10) usleep(10000);
        backoff = backoff >= 2500 ? 5000 : backoff * 2;
    }
    return NULL;
}

st_status st_kv_listen_start(void) {
    pthread_mutex_lock(&K.lmu);
    st_status st = ST_OK;
    if (!K.listening) {
        atomic_store(&k_stop, false);
        if (pthread_create(&K.lth, NULL, listen_main, NULL)) st = st_err(ST_E_IO, "redis: cannot start the listener");
        else K.listening = true;
    }
    pthread_mutex_unlock(&K.lmu);
    return st;
}

void st_kv_listen_stop(void) {
    pthread_mutex_lock(&K.lmu);
    bool was = K.listening;
    atomic_store(&k_stop, true);
    if (K.sc) shutdown(K.sc->fd, SHUT_RDWR);
    K.listening = false;
    pthread_mutex_unlock(&K.lmu);
    if (was) pthread_join(K.lth, NULL);
}

void st_kv_shutdown(void) {
    st_kv_listen_stop();
    pthread_mutex_lock(&K.mu);
    if (K.c) redisFree(K.c);
    K.c = NULL;
    K.failing = false;
    K.backoff_ms = 100;
    K.retry_at = 0;
    for (int i = 0; i < CACHE_N; i++) K.cache[i].key[0] = '\0';
    K.served_expiry = INT64_MAX;
    pthread_mutex_unlock(&K.mu);
}

static int env_int(const char *name, int def, int lo, int hi) {
    const char *s = st_env(name);
    if (!s) return def;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) {
        st_logf(ST_LOG_WARN, "%s='%s' is not a number in %d..%d: using %d", name, s, lo, hi, def);
        return def;
    }
    return (int)v;
}

bool st_kv_configure(const char *url, st_heur_remote *slot, char *err, size_t cap) {
    if (err && cap) err[0] = '\0';
    st_kv_shutdown();
    pthread_mutex_lock(&K.mu);
    K.configured = false;
    pthread_mutex_unlock(&K.mu);
    if (!url) return false;
    st_kv_url u;
    if (st_kv_parse_url(url, &u) != ST_OK) {
        snprintf(err, cap, "%s", st_last_error());
        return false;
    }
    int tmo = env_int("ST_KV_TIMEOUT_MS", ST_KV_DEFAULT_TIMEOUT_MS, 1, 10000);
    int ttl = env_int("ST_KV_TTL_SEC", ST_KV_DEFAULT_TTL_SEC, 1, 30 * 86400);
    const char *b = st_env("ST_KV_BROADCAST");
    bool bc = b && !strcmp(b, "1");
    pthread_mutex_lock(&K.mu);
    K.url = u;
    if (u.is_unix) snprintf(K.shown, sizeof K.shown, "unix://%s", u.path);
    else snprintf(K.shown, sizeof K.shown, "redis://%s%s%s:%d/%d", u.user, u.pass[0] ? ":***@" : "", u.host, u.port, u.db);
    K.timeout_ms = tmo;
    K.ttl_sec = ttl;
    K.broadcast = bc;
    K.configured = true;
    pthread_mutex_unlock(&K.mu);
    if (bc) (void)st_kv_listen_start();
    *slot = (st_heur_remote){lookup, describe, NULL};
    return true;
}

#else /* no hiredis */

bool st_kv_built(void) { return false; }
bool st_kv_configure(const char *url, st_heur_remote *slot, char *err, size_t cap) {
    (void)slot;
    if (err && cap) err[0] = '\0';
    st_kv_url u;
    if (url && st_kv_parse_url(url, &u) != ST_OK) snprintf(err, cap, "%s", st_last_error());
    return false;
}
st_status st_kv_publish(int kind, int64_t cols, int64_t k, bool sg, const int32_t *values, double median_ms,
                        int samples, bool *stored) {
    (void)kind, (void)cols, (void)k, (void)sg, (void)values, (void)median_ms, (void)samples;
    if (stored) *stored = false;
    return ST_OK;
}
st_status st_kv_listen_start(void) { return st_err(ST_E_UNSUPPORTED, "Redis support is not built"); }
void st_kv_listen_stop(void) {}
void st_kv_shutdown(void) {}
#endif
