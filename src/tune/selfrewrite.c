/* selfrewrite.c — self-rewrite (SPEC §6, opt-in with ST_SELF_REWRITE=1): observations
 * of real rank-K calls, exploration, and soft(...) rules learned into heur.kdsl.
 *
 * Files (the state folder is $ST_HOME, else ~/.spiraltorch):
 * - observations.jsonl: one JSON object a line, {"ts":..,"kind":"topk","rows":..,
 *   "cols":..,"k":..,"sg":0,"choice":{"u2":1,...},"time_ms":..,"explore":0}. Bounded:
 *   an analysis that finds more than ST_SR_MAX_OBS lines keeps the newest half.
 * - the rule file the chain reads (SPIRAL_HEUR_FILE, else $ST_HOME/heur.kdsl): the
 *   learned rules live in one managed block between BEGIN and END marker lines; every
 *   byte outside the block is the user's and is written back unchanged.
 * - <rule file>.lock: flock()ed around every append and every rewrite, so concurrent
 *   processes (and threads: each takes its own open file description) serialise.
 *
 * Learning (st_sr_analyze): observations are grouped by (kind, bucket of
 * st_heur_bucket_of). The bucket's current choice is that of its most recent
 * non-explored observation; each other choice with at least ST_SR_MIN_SAMPLES samples
 * whose median time per element beats the current one's (also >= MIN_SAMPLES) by at
 * least ST_SR_IMPROVE_PCT is a candidate; the best candidate becomes one
 * soft(field, value, 1, <bucket cond>) rule per field where it differs. Each rule line
 * ends with a "# sr ts=.. kind=.. bucket=.. field=.. value=.." comment (its identity
 * and age) and its evidence. A rule for the same (kind, bucket, field) replaces the
 * older one; an identical one is not re-added. Rules older than ST_SR_EXPIRY_DAYS are
 * removed, and so are observations as old (they are not learned from again); the block keeps at most ST_SR_MAX_LINES rules (the oldest go first). A
 * rewrite that adds rules records "last-rewrite" in the block and starts the cooldown
 * (ST_SR_COOLDOWN_SEC): until it has passed, no rule is added (expiry still prunes).
 *
 * Atomicity: lock, write <rule file>.sr.<pid>.tmp, fsync, rename over the rule file,
 * fsync the folder. A crash at any point leaves either the old or the new file, whole.
 *
 * Cost when off: st_sr_enabled() is one relaxed atomic load of a cached flag.
 */
#include "tune/tune.h"
#include "core/json.h"
#include "kv/kv.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SR_BEGIN "# >>> spiraltorch self-rewrite: learned rules (managed by the runtime; edits inside are replaced) >>>"
#define SR_END "# <<< spiraltorch self-rewrite <<<"
#define SR_LAST "# last-rewrite: "
#define SR_MAX_LINE 1024
#define SR_MAX_RULES 100000

_Atomic int st_sr_flag = -1;

static struct {
    pthread_mutex_t mu; /* guards the configuration below */
    int min_samples;
    double improve, explore;
    int64_t cooldown, expiry_days;
    long max_lines, max_obs;
} C = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic long g_since_analysis;
static int64_t (*g_clock)(void);
static int g_crash_code;
static pthread_mutex_t g_stats_mu = PTHREAD_MUTEX_INITIALIZER;
static st_sr_stats g_stats;

#define STAT_ADD(field, n)                  \
    do {                                    \
        pthread_mutex_lock(&g_stats_mu);    \
        g_stats.field += (n);               \
        pthread_mutex_unlock(&g_stats_mu);  \
    } while (0)

void st_sr_get_stats(st_sr_stats *out) {
    pthread_mutex_lock(&g_stats_mu);
    *out = g_stats;
    pthread_mutex_unlock(&g_stats_mu);
}

static int64_t now_s(void) { return g_clock ? g_clock() : (int64_t)time(NULL); }
void st_sr_set_clock(int64_t (*now)(void)) { g_clock = now; }
void st_sr_set_crash_before_rename(int code) { g_crash_code = code; }

/* ---------------------------------------------------------------- configuration */

static double env_num(const char *name, double def, double lo, double hi) {
    const char *s = st_env(name);
    if (!s) return def;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo && v <= hi)) {
        st_logf(ST_LOG_WARN, "%s='%s' is not a number in [%g, %g]; using %g", name, s, lo, hi, def);
        return def;
    }
    return v;
}

void st_sr_reconfigure(void) {
    const char *on = st_env("ST_SELF_REWRITE");
    int flag = 0;
    if (on && (!strcmp(on, "1") || !strcmp(on, "true") || !strcmp(on, "on") || !strcmp(on, "yes"))) flag = 1;
    else if (on && strcmp(on, "0") && strcmp(on, "false") && strcmp(on, "off") && strcmp(on, "no"))
        st_logf(ST_LOG_WARN, "ST_SELF_REWRITE='%s' is not 1 or 0; self-rewrite stays off", on);
    pthread_mutex_lock(&C.mu);
    C.min_samples = (int)env_num("ST_SR_MIN_SAMPLES", 5, 1, 1e6);
    C.improve = env_num("ST_SR_IMPROVE_PCT", 0.05, 0, 0.99);
    C.cooldown = (int64_t)env_num("ST_SR_COOLDOWN_SEC", 3600, 0, 1e10);
    C.max_lines = (long)env_num("ST_SR_MAX_LINES", 2000, 1, SR_MAX_RULES);
    C.expiry_days = (int64_t)env_num("ST_SR_EXPIRY_DAYS", 30, 0, 1e5);
    C.explore = env_num("ST_SR_EXPLORE", 0.05, 0, 1);
    C.max_obs = (long)env_num("ST_SR_MAX_OBS", 20000, 16, 1e7);
    pthread_mutex_unlock(&C.mu);
    atomic_store(&st_sr_flag, flag);
}

bool st_sr_enabled_slow(void) {
    st_sr_reconfigure();
    return atomic_load(&st_sr_flag) > 0;
}

static void config(int *min_samples, double *improve, double *explore, int64_t *cooldown, int64_t *expiry,
                   long *max_lines, long *max_obs) {
    if (atomic_load(&st_sr_flag) < 0) st_sr_reconfigure();
    pthread_mutex_lock(&C.mu);
    if (min_samples) *min_samples = C.min_samples;
    if (improve) *improve = C.improve;
    if (explore) *explore = C.explore;
    if (cooldown) *cooldown = C.cooldown;
    if (expiry) *expiry = C.expiry_days;
    if (max_lines) *max_lines = C.max_lines;
    if (max_obs) *max_obs = C.max_obs;
    pthread_mutex_unlock(&C.mu);
}

/* ---------------------------------------------------------------- paths and the lock */

st_status st_sr_paths(char *rules, size_t rcap, char *obs, size_t ocap) {
    if (!st_heur_rule_file_path(rules, rcap))
        return st_err(ST_E_STATE, "self-rewrite: no rule file (SPIRAL_HEUR_FILE, ST_HOME and HOME are unset)");
    const char *home = st_env("ST_HOME"), *h = st_env("HOME");
    if (home) snprintf(obs, ocap, "%s/observations.jsonl", home);
    else if (h) snprintf(obs, ocap, "%s/.spiraltorch/observations.jsonl", h);
    else return st_err(ST_E_STATE, "self-rewrite: no state folder (ST_HOME and HOME are unset)");
    return ST_OK;
}

static void mkdir_parent(const char *path) {
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) return;
    *slash = '\0';
    (void)mkdir(d, 0755); /* one level: ~/.spiraltorch; deeper paths are the user's */
}

/* The exclusive lock of a rule file; -1 with the error set. */
static int lock_rules(const char *rules) {
    char lp[4200];
    snprintf(lp, sizeof lp, "%s.lock", rules);
    mkdir_parent(rules);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return st_err(ST_E_IO, "self-rewrite: %s: cannot open the lock: %s", lp, strerror(errno)), -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        st_err(ST_E_IO, "self-rewrite: %s: flock: %s", lp, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void unlock_rules(int fd) {
    if (fd >= 0) close(fd); /* closing the description drops the flock */
}

/* Whole file into a NUL-terminated st_malloc'd buffer; a missing file is "" (ST_OK). */
static st_status slurp(const char *path, char **buf, size_t *len, size_t limit) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *buf = st_strdup("");
        return *buf ? ST_OK : ST_E_OOM;
    }
    if (fd < 0) return st_err(ST_E_IO, "self-rewrite: %s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size > limit) {
        close(fd);
        return st_err(ST_E_IO, "self-rewrite: %s: unreadable or larger than %zu bytes", path, limit);
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *b = st_malloc(n + 1);
    if (!b) {
        close(fd);
        return ST_E_OOM;
    }
    while (got < n) {
        ssize_t k = read(fd, b + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    b[got] = '\0';
    *buf = b;
    *len = got;
    return ST_OK;
}

/* Atomic replacement of `path` with text (called with the lock held). */
static st_status replace_file(const char *path, const char *text, size_t n) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.sr.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return st_err(ST_E_IO, "self-rewrite: %s: cannot create: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, text + off, n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (size_t)k;
    }
    int err = errno;
    bool ok = off == n && fsync(fd) == 0;
    if (!ok && off == n) err = errno;
    close(fd);
    if (ok && g_crash_code) _exit(g_crash_code); /* test hook: a crash between write and rename */
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        unlink(tmp);
        return st_err(ST_E_IO, "self-rewrite: %s: cannot replace: %s", path, strerror(err));
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* the rename itself is durable */
        close(dfd);
    }
    return ST_OK;
}

/* ---------------------------------------------------------------- exploration */

static uint64_t rng_next(void) {
    static _Thread_local uint64_t s;
    if (!s) s = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&s ^ 0x9E3779B97F4A7C15ull;
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
}

bool st_sr_explore(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, int32_t *v) {
    (void)rows, (void)k;
    double p;
    config(NULL, NULL, &p, NULL, NULL, NULL, NULL);
    if (p <= 0 || (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0) >= p) return false;
    st_heur_limits lim;
    st_heur_get_limits(&lim);
    /* A neighbour: one field moved to the next or previous candidate (in the tuner's
     * candidate table) that the device accepts. */
    int nf = hk_kinds[kind].nfields, f0 = (int)(rng_next() % (uint64_t)nf);
    for (int t = 0; t < nf; t++) {
        int f = (f0 + t) % nf;
        int32_t c[ST_TUNE_MAX_CANDS];
        int n = st_tune_candidates(kind, f, c), at = 0;
        if (n < 2) continue;
        for (int i = 1; i < n; i++) /* nearest candidate to the current value */
            if (llabs((long long)c[i] - v[f]) < llabs((long long)c[at] - v[f])) at = i;
        int dir = (rng_next() & 1) ? 1 : -1;
        for (int d = 0; d < 2; d++, dir = -dir) {
            int j = at + dir;
            if (c[at] != v[f] && ((dir > 0) == (c[at] > v[f]))) j = at; /* between two: take the near side */
            char why[256];
            if (j < 0 || j >= n || c[j] == v[f] || !hk_field_valid(kind, f, c[j], &lim, sg, why, sizeof why)) continue;
            if (!strcmp(hk_kinds[kind].fields[f].name, "ch") && c[j] >= cols && v[f] == 0) continue; /* same path */
            v[f] = c[j];
            STAT_ADD(explored, 1);
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- observations */

typedef struct obs {
    int64_t ts, rows, cols, k;
    int kind;
    bool sg, explore;
    int32_t v[ST_HEUR_MAX_FIELDS];
    double t; /* time_ms */
} obs;

static int format_obs(char *buf, size_t cap, const obs *o) {
    int n = snprintf(buf, cap, "{\"ts\":%lld,\"kind\":\"%s\",\"rows\":%lld,\"cols\":%lld,\"k\":%lld,\"sg\":%d,\"choice\":{",
                     (long long)o->ts, hk_kinds[o->kind].name, (long long)o->rows, (long long)o->cols, (long long)o->k,
                     o->sg ? 1 : 0);
    for (int f = 0; f < hk_kinds[o->kind].nfields && n > 0 && (size_t)n < cap; f++)
        n += snprintf(buf + n, cap - (size_t)n, "%s\"%s\":%d", f ? "," : "", hk_kinds[o->kind].fields[f].name, (int)o->v[f]);
    if (n > 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, "},\"time_ms\":%.6g,\"explore\":%d}\n", o->t, o->explore ? 1 : 0);
    return n > 0 && (size_t)n < cap ? n : -1;
}

/* Strict parse of one line; false for anything else (a torn or foreign line). */
static bool parse_obs(const char *s, size_t n, obs *o) {
    st_json j;
    st_json_init(&j, s, n);
    memset(o, 0, sizeof *o);
    o->kind = -1;
    unsigned seen = 0, have = 0;
    char key[16];
    if (!st_json_lit(&j, '{')) return false;
    do {
        if (!st_json_str(&j, key, sizeof key, true) || !st_json_lit(&j, ':')) return false;
        double d;
        if (!strcmp(key, "kind")) {
            char kn[8];
            if (!st_json_str(&j, kn, sizeof kn, true)) return false;
            o->kind = !strcmp(kn, "topk") ? ST_HEUR_TOPK : !strcmp(kn, "midk") ? ST_HEUR_MIDK : -1;
            if (o->kind < 0) return false;
            seen |= 1;
        } else if (!strcmp(key, "choice")) {
            if (o->kind < 0 || !st_json_lit(&j, '{')) return false;
            do {
                char fn[HK_MAX_NAME];
                if (!st_json_str(&j, fn, sizeof fn, true) || !st_json_lit(&j, ':') || !st_json_num(&j, &d, true)) return false;
                int fi = hk_field_index(o->kind, fn, strlen(fn));
                if (fi < 0 || d != floor(d) || fabs(d) > 2147483647.0) return false;
                o->v[fi] = (int32_t)d;
                have |= 1u << fi;
            } while (st_json_lit(&j, ','));
            if (!st_json_lit(&j, '}')) return false;
            seen |= 2;
        } else {
            static const char *const nk[] = {"ts", "rows", "cols", "k", "sg", "time_ms", "explore"};
            int i = 0;
            while (i < 7 && strcmp(key, nk[i])) i++;
            if (i == 7 || !st_json_num(&j, &d, true) || !(d >= 0) || d > 1e15) return false;
            if (i == 0) o->ts = (int64_t)d;
            else if (i == 1) o->rows = (int64_t)d;
            else if (i == 2) o->cols = (int64_t)d;
            else if (i == 3) o->k = (int64_t)d;
            else if (i == 4) o->sg = d != 0;
            else if (i == 5) o->t = d;
            else o->explore = d != 0;
            seen |= 4u << i;
        }
    } while (st_json_lit(&j, ','));
    if (!st_json_lit(&j, '}') || !st_json_end(&j)) return false;
    return seen == 0x1ff && o->kind >= 0 && have == (1u << hk_kinds[o->kind].nfields) - 1 && o->rows >= 1 &&
           o->cols >= 1 && o->k <= o->cols;
}

st_status st_sr_observe(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, const int32_t *v, double time_ms,
                        bool explored) {
    char rules[4096], path[4096], line[SR_MAX_LINE];
    st_status s = st_sr_paths(rules, sizeof rules, path, sizeof path);
    if (s != ST_OK) return s;
    obs o = {now_s(), rows, cols, k, kind, sg, explored, {0}, time_ms};
    memcpy(o.v, v, sizeof(int32_t) * (size_t)hk_kinds[kind].nfields);
    int n = format_obs(line, sizeof line, &o);
    if (n < 0) return st_err(ST_E_INTERNAL, "self-rewrite: observation line too long");
    int lk = lock_rules(rules);
    if (lk < 0) return st_last_status();
    mkdir_parent(path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        s = st_err(ST_E_IO, "self-rewrite: %s: cannot open: %s", path, strerror(errno));
    } else {
        ssize_t w = write(fd, line, (size_t)n); /* one write, under the lock */
        if (w != n) s = st_err(ST_E_IO, "self-rewrite: %s: short write", path);
        close(fd);
    }
    unlock_rules(lk);
    if (s != ST_OK) return s;
    STAT_ADD(observed, 1);
    int min_samples;
    config(&min_samples, NULL, NULL, NULL, NULL, NULL, NULL);
    if (atomic_fetch_add(&g_since_analysis, 1) + 1 >= min_samples) {
        atomic_store(&g_since_analysis, 0);
        bool rewrote;
        s = st_sr_analyze(&rewrote);
        if (s == ST_OK && rewrote) st_heur_reload(); /* this process sees its rule at once */
    }
    return s;
}

/* ---------------------------------------------------------------- learned rules */

typedef struct rule {
    int64_t ts;
    int kind, field;
    st_heur_bucket b;
    int32_t value;
    char text[SR_MAX_LINE]; /* the whole line, without '\n' */
} rule;

/* "soft(...); # sr ts=.. kind=.. bucket=S.L.K field=.. value=.. | evidence" */
static bool parse_rule(const char *line, rule *r) {
    const char *c = strstr(line, "# sr ts=");
    if (strncmp(line, "soft(", 5) || !c || strlen(line) >= SR_MAX_LINE) return false;
    long long ts;
    char kn[8], fn[HK_MAX_NAME];
    unsigned sg, lc, lk;
    long long v;
    if (sscanf(c, "# sr ts=%lld kind=%7s bucket=%u.%u.%u field=%63s value=%lld", &ts, kn, &sg, &lc, &lk, fn, &v) != 7)
        return false;
    r->kind = !strcmp(kn, "topk") ? ST_HEUR_TOPK : !strcmp(kn, "midk") ? ST_HEUR_MIDK : -1;
    if (r->kind < 0 || sg > 1 || lc > 63 || lk > 63) return false;
    r->field = hk_field_index(r->kind, fn, strlen(fn));
    if (r->field < 0) return false;
    r->ts = ts;
    r->b = (st_heur_bucket){(uint8_t)sg, (uint8_t)lc, (uint8_t)lk};
    r->value = (int32_t)v;
    snprintf(r->text, sizeof r->text, "%s", line);
    return true;
}

/* The SpiralK condition that holds exactly on bucket b (ceil log2 semantics of
 * st_heur_ceil_log2: 0 for x <= 1, else 2^(l-1) < x <= 2^l). */
static void bucket_cond(st_heur_bucket b, char *buf, size_t cap) {
    char cc[64], kc[64];
    if (b.lc == 0) snprintf(cc, sizeof cc, "c <= 1");
    else snprintf(cc, sizeof cc, "c > %lld && c <= %lld", 1ll << (b.lc - 1), 1ll << b.lc);
    if (b.lk == 0) snprintf(kc, sizeof kc, "k <= 1");
    else snprintf(kc, sizeof kc, "k > %lld && k <= %lld", 1ll << (b.lk - 1), 1ll << b.lk);
    snprintf(buf, cap, "sg == %d && %s && %s", b.sg, cc, kc);
}

typedef struct doc {
    char *text; /* the whole rule file */
    size_t len;
    size_t pre_end, post_start; /* user text: [0, pre_end) and [post_start, len) */
    bool has_block;
    int64_t last_rewrite;
    rule *rules;
    int nrules, cap;
} doc;

static st_status add_rule(doc *d, const rule *r) {
    if (d->nrules == d->cap) {
        int cap = d->cap ? d->cap * 2 : 16;
        rule *p = st_malloc((size_t)cap * sizeof *p);
        if (!p) return ST_E_OOM;
        if (d->nrules) memcpy(p, d->rules, (size_t)d->nrules * sizeof *p);
        st_free(d->rules);
        d->rules = p;
        d->cap = cap;
    }
    d->rules[d->nrules++] = *r;
    return ST_OK;
}

/* Splits the rule file into user text and the managed block's rules. */
static st_status doc_load(const char *path, doc *d) {
    memset(d, 0, sizeof *d);
    st_status s = slurp(path, &d->text, &d->len, HK_MAX_TEXT);
    if (s != ST_OK) return s;
    d->pre_end = d->post_start = d->len;
    const char *t = d->text;
    for (size_t at = 0; at < d->len;) {
        const char *nl = memchr(t + at, '\n', d->len - at);
        size_t e = nl ? (size_t)(nl - t) : d->len;
        if (!d->has_block && e - at == strlen(SR_BEGIN) && !memcmp(t + at, SR_BEGIN, e - at)) {
            d->has_block = true;
            d->pre_end = at;
        } else if (d->has_block && e - at == strlen(SR_END) && !memcmp(t + at, SR_END, e - at)) {
            d->post_start = nl ? e + 1 : e;
            break;
        } else if (d->has_block) {
            char line[SR_MAX_LINE];
            size_t n = e - at < sizeof line - 1 ? e - at : sizeof line - 1;
            memcpy(line, t + at, n);
            line[n] = '\0';
            rule r;
            long long lr;
            if (!strncmp(line, SR_LAST, strlen(SR_LAST)) && sscanf(line + strlen(SR_LAST), "%lld", &lr) == 1)
                d->last_rewrite = lr;
            else if (parse_rule(line, &r) && (s = add_rule(d, &r)) != ST_OK)
                return s;
        }
        at = nl ? e + 1 : d->len;
    }
    /* BEGIN without END (a hand edit): the block runs to the end of the file. */
    return ST_OK;
}

static void doc_free(doc *d) {
    st_free(d->text);
    st_free(d->rules);
    memset(d, 0, sizeof *d);
}

/* The section a statement would be in at byte `end` of the user text: the last
 * "[topk]"/"[midk]" header line before it (topk when none). */
static int section_at(const char *t, size_t end) {
    int sec = ST_HEUR_TOPK;
    for (size_t at = 0; at < end;) {
        const char *nl = memchr(t + at, '\n', end - at);
        size_t e = nl ? (size_t)(nl - t) : end, i = at;
        while (i < e && (t[i] == ' ' || t[i] == '\t')) i++;
        if (e - i >= 6 && !memcmp(t + i, "[topk]", 6)) sec = ST_HEUR_TOPK;
        if (e - i >= 6 && !memcmp(t + i, "[midk]", 6)) sec = ST_HEUR_MIDK;
        at = nl ? e + 1 : end;
    }
    return sec;
}

/* Stable sort by time stamp (insertion: a few thousand rules at most, and rules of one
 * analysis share a stamp, so their order must be kept). */
static void sort_rules_by_ts(rule *r, int n) {
    for (int i = 1; i < n; i++) {
        if (r[i].ts >= r[i - 1].ts) continue;
        rule x = r[i];
        int j = i;
        while (j > 0 && r[j - 1].ts > x.ts) r[j] = r[j - 1], j--;
        r[j] = x;
    }
}

/* The new file text: user text, the block, user text. */
static char *doc_render(doc *d, size_t *n) {
    size_t cap = d->len + (size_t)d->nrules * (SR_MAX_LINE + 1) + 1024, o = 0;
    char *out = st_malloc(cap);
    if (!out) return NULL;
    memcpy(out, d->text, d->pre_end);
    o = d->pre_end;
    if (o > 0 && out[o - 1] != '\n') out[o++] = '\n'; /* the block starts on its own line */
    o += (size_t)snprintf(out + o, cap - o, "%s\n%s%lld\n", SR_BEGIN, SR_LAST, (long long)d->last_rewrite);
    int sec = -1, before = section_at(d->text, d->pre_end);
    for (int kind = 0; kind < HK_NKINDS; kind++)
        for (int i = 0; i < d->nrules; i++) {
            if (d->rules[i].kind != kind) continue;
            if (sec != kind) o += (size_t)snprintf(out + o, cap - o, "[%s]\n", hk_kinds[kind].name), sec = kind;
            o += (size_t)snprintf(out + o, cap - o, "%s\n", d->rules[i].text);
        }
    if (sec >= 0 && sec != before) /* user text after the block stays in its section */
        o += (size_t)snprintf(out + o, cap - o, "[%s]\n", hk_kinds[before].name);
    o += (size_t)snprintf(out + o, cap - o, "%s\n", SR_END);
    memcpy(out + o, d->text + d->post_start, d->len - d->post_start);
    o += d->len - d->post_start;
    *n = o;
    return out;
}

/* ---------------------------------------------------------------- analysis */

typedef struct grp {
    int kind;
    st_heur_bucket b;
    long cur; /* index of the most recent non-explored observation, -1 */
} grp;

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool same_choice(const obs *a, const obs *b) {
    return !memcmp(a->v, b->v, sizeof(int32_t) * (size_t)hk_kinds[a->kind].nfields);
}

static bool in_group(const obs *o, const grp *g) {
    st_heur_bucket b = st_heur_bucket_of(o->sg, o->cols, o->k);
    return o->kind == g->kind && b.sg == g->b.sg && b.lc == g->b.lc && b.lk == g->b.lk;
}

/* Median per-element time and raw median time of the members (indices mem[0..nm)) of
 * a group with the choice of `like`; returns the count. */
static long stats_of(const obs *os, const long *mem, long nm, const obs *like, double *tmp, double *tmp2,
                     double *med_pe, double *med_ms) {
    long m = 0;
    for (long i = 0; i < nm; i++) {
        const obs *o = &os[mem[i]];
        if (!same_choice(o, like)) continue;
        tmp[m] = o->t / ((double)o->rows * (double)o->cols);
        tmp2[m++] = o->t;
    }
    if (!m) return 0;
    qsort(tmp, (size_t)m, sizeof *tmp, cmp_d);
    qsort(tmp2, (size_t)m, sizeof *tmp2, cmp_d);
    *med_pe = m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
    *med_ms = m % 2 ? tmp2[m / 2] : 0.5 * (tmp2[m / 2 - 1] + tmp2[m / 2]);
    return m;
}

#define SR_MAX_DISTINCT 64 /* distinct choices compared per bucket (the first ones seen) */

/* One bucket: a rule per field where the best candidate differs from the current
 * choice, when the evidence is there. */
static st_status learn_group(const obs *os, const grp *g, const long *mem, long nm, double *tmp, doc *d, int64_t now,
                             int min_samples, double improve, int *added) {
    const obs *cur = &os[g->cur];
    double cpe, cms;
    long cn = stats_of(os, mem, nm, cur, tmp, tmp + nm, &cpe, &cms);
    if (cn < min_samples) return ST_OK;
    long distinct[SR_MAX_DISTINCT], nd = 0;
    for (long i = 0; i < nm && nd < SR_MAX_DISTINCT; i++) {
        const obs *o = &os[mem[i]];
        bool seen = same_choice(o, cur);
        for (long j = 0; j < nd && !seen; j++) seen = same_choice(o, &os[distinct[j]]);
        if (!seen) distinct[nd++] = mem[i];
    }
    long best = -1, bn = 0;
    double bpe = 0, bms = 0;
    for (long i = 0; i < nd; i++) {
        double pe, ms;
        long m = stats_of(os, mem, nm, &os[distinct[i]], tmp, tmp + nm, &pe, &ms);
        if (m >= min_samples && pe <= cpe * (1 - improve) && (best < 0 || pe < bpe))
            best = distinct[i], bn = m, bpe = pe, bms = ms;
    }
    if (best < 0) return ST_OK;
    const obs *w = &os[best];
    char cond[256], tstr[32];
    bucket_cond(g->b, cond, sizeof cond);
    time_t tt = (time_t)now;
    struct tm tmv;
    gmtime_r(&tt, &tmv);
    strftime(tstr, sizeof tstr, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    bool any = false;
    st_status s = ST_OK;
    for (int f = 0; f < hk_kinds[g->kind].nfields && s == ST_OK; f++) {
        if (w->v[f] == cur->v[f]) continue;
        const char *fn = hk_kinds[g->kind].fields[f].name;
        int same = -1;
        for (int r = 0; r < d->nrules; r++)
            if (d->rules[r].kind == g->kind && d->rules[r].field == f && d->rules[r].b.sg == g->b.sg &&
                d->rules[r].b.lc == g->b.lc && d->rules[r].b.lk == g->b.lk)
                same = r;
        if (same >= 0 && d->rules[same].value == w->v[f]) continue; /* already learned */
        rule r = {now, g->kind, f, g->b, w->v[f], ""};
        snprintf(r.text, sizeof r.text,
                 "soft(%s, %d, 1, %s); # sr ts=%lld kind=%s bucket=%u.%u.%u field=%s value=%d | %s: median %.4g ms "
                 "(n=%ld) vs %.4g ms (n=%ld) with %s=%d, %.1f%% faster per element",
                 fn, (int)w->v[f], cond, (long long)now, hk_kinds[g->kind].name, g->b.sg, g->b.lc, g->b.lk, fn,
                 (int)w->v[f], tstr, bms, bn, cms, cn, fn, (int)cur->v[f], 100.0 * (1 - bpe / cpe));
        if (same >= 0) { /* replaces the older rule for the same bucket and field */
            memmove(&d->rules[same], &d->rules[same + 1], (size_t)(d->nrules - same - 1) * sizeof *d->rules);
            d->nrules--;
        }
        s = add_rule(d, &r);
        any = true;
        (*added)++;
    }
    if (any && s == ST_OK) { /* Redis (ST_KV_BROADCAST=1): the learned winner */
        bool stored = false;
        if (st_kv_publish(g->kind, w->cols, w->k, w->sg, w->v, bms, (int)bn, &stored) != ST_OK)
            st_logf(ST_LOG_WARN, "self-rewrite: %s", st_last_error());
        else if (stored)
            STAT_ADD(published, 1);
        st_clear_error();
    }
    return s;
}

/* Learns from the observations into d (new rules appended with ts = now). */
static st_status learn(const obs *os, long n, doc *d, int64_t now, int64_t horizon, int min_samples, double improve,
                       int *added) {
    *added = 0;
    size_t cnt = (size_t)(n ? n : 1);
    grp *gs = st_malloc(cnt * sizeof *gs);
    long *gid = st_malloc(cnt * sizeof *gid), *mem = st_malloc(cnt * sizeof *mem);
    double *tmp = st_malloc(cnt * sizeof(double) * 2);
    st_status s = gs && gid && mem && tmp ? ST_OK : ST_E_OOM;
    long ng = 0;
    for (long i = 0; i < n && s == ST_OK; i++) {
        gid[i] = -1;
        if (os[i].ts < horizon) continue; /* as stale as an expired rule */
        long j = 0;
        while (j < ng && !in_group(&os[i], &gs[j])) j++;
        if (j == ng) gs[ng++] = (grp){os[i].kind, st_heur_bucket_of(os[i].sg, os[i].cols, os[i].k), -1};
        if (!os[i].explore) gs[j].cur = i; /* lines are in time order: the last one wins */
        gid[i] = j;
    }
    for (long gi = 0; gi < ng && s == ST_OK; gi++) {
        if (gs[gi].cur < 0) continue;
        long nm = 0;
        for (long i = 0; i < n; i++)
            if (gid[i] == gi) mem[nm++] = i;
        s = learn_group(os, &gs[gi], mem, nm, tmp, d, now, min_samples, improve, added);
    }
    st_free(gs);
    st_free(gid);
    st_free(mem);
    st_free(tmp);
    return s;
}

/* Reads observations (all valid lines, in file order); compacts the file to the
 * newest half when it holds more than max_obs lines. */
static st_status load_obs(const char *path, long max_obs, obs **out, long *nout) {
    char *text;
    size_t len;
    *out = NULL;
    *nout = 0;
    st_status s = slurp(path, &text, &len, (size_t)1 << 30);
    if (s != ST_OK) return s;
    long lines = 0, bad = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    obs *os = st_malloc((size_t)(lines + 1) * sizeof *os);
    if (!os) {
        st_free(text);
        return ST_E_OOM;
    }
    long n = 0;
    size_t keep_from = 0;
    long skip = lines > max_obs ? lines - max_obs / 2 : 0, seen = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl) break; /* a line still being written (never with the lock) */
        size_t e = (size_t)(nl - text);
        if (seen++ == skip) keep_from = at;
        if (seen > skip) {
            if (parse_obs(text + at, e - at, &os[n])) n++;
            else bad++;
        }
        at = e + 1;
    }
    if (bad) STAT_ADD(bad_lines, bad);
    if (skip > 0) s = replace_file(path, text + keep_from, len - keep_from);
    st_free(text);
    if (s != ST_OK) {
        st_free(os);
        return s;
    }
    *out = os;
    *nout = n;
    return ST_OK;
}

st_status st_sr_analyze(bool *rewrote) {
    if (rewrote) *rewrote = false;
    int min_samples;
    double improve;
    int64_t cooldown, expiry;
    long max_lines, max_obs;
    config(&min_samples, &improve, NULL, &cooldown, &expiry, &max_lines, &max_obs);
    char rules[4096], path[4096];
    st_status s = st_sr_paths(rules, sizeof rules, path, sizeof path);
    if (s != ST_OK) return s;
    int lk = lock_rules(rules);
    if (lk < 0) return st_last_status();
    STAT_ADD(analyses, 1);
    doc d;
    s = doc_load(rules, &d);
    int64_t now = now_s();
    bool changed = false;
    int added = 0, expired = 0, dropped = 0;
    if (s == ST_OK && expiry > 0) {
        for (int i = 0; i < d.nrules;) {
            if (d.rules[i].ts < now - expiry * 86400) {
                memmove(&d.rules[i], &d.rules[i + 1], (size_t)(d.nrules - i - 1) * sizeof *d.rules);
                d.nrules--, expired++;
            } else {
                i++;
            }
        }
    }
    obs *os = NULL;
    long nobs = 0;
    bool cool = d.last_rewrite > 0 && now - d.last_rewrite < cooldown;
    if (s == ST_OK) s = load_obs(path, max_obs, &os, &nobs); /* also keeps the file bounded */
    int64_t horizon = expiry > 0 ? now - expiry * 86400 : INT64_MIN; /* older evidence is stale */
    if (s == ST_OK && !cool) s = learn(os, nobs, &d, now, horizon, min_samples, improve, &added);
    if (s == ST_OK && d.nrules > max_lines) {
        sort_rules_by_ts(d.rules, d.nrules);
        dropped = d.nrules - (int)max_lines;
        memmove(d.rules, d.rules + dropped, (size_t)max_lines * sizeof *d.rules);
        d.nrules = (int)max_lines;
    }
    changed = added || expired || dropped;
    if (s == ST_OK && changed) {
        if (added) d.last_rewrite = now; /* only a rewrite that learned starts the cooldown */
        size_t n;
        char *text = doc_render(&d, &n);
        s = text ? replace_file(rules, text, n) : ST_E_OOM;
        st_free(text);
        if (s == ST_OK) {
            pthread_mutex_lock(&g_stats_mu);
            g_stats.rewrites++;
            g_stats.rules_added += added;
            g_stats.rules_expired += expired;
            g_stats.rules_dropped += dropped;
            pthread_mutex_unlock(&g_stats_mu);
            if (rewrote) *rewrote = true;
            st_logf(ST_LOG_INFO, "self-rewrite: %s: %d rule(s) learned, %d expired, %d dropped", rules, added, expired,
                    dropped);
        }
    }
    st_free(os);
    doc_free(&d);
    unlock_rules(lk);
    return s;
}
