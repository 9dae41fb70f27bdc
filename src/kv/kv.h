/* kv.h — private interface of the Redis resonance module (SPEC §7, docs/env.md).
 *
 * Keys: spiral:heur:v1:<kind>:<device fingerprint>:<bucket>, e.g.
 *   spiral:heur:v1:topk:wg1024.sg32.sm65536:sg1.lc12.lk6
 * (fingerprint from the chain's device limits; bucket = st_heur_bucket_of). Values are
 * JSON: {"v":1,"choice":{"u2":1,"wg":256,...},"median_ms":1.5,"samples":5,
 *        "origin":{"host":"h","pid":42},"ts":1700000000}
 * Winners are announced on the channel ST_KV_CHANNEL (message: the key).
 */
#ifndef ST_KV_H
#define ST_KV_H

#include "heur/heur.h"

#define ST_KV_PREFIX "spiral:heur:v1:"
#define ST_KV_CHANNEL "spiral:heur:v1:events"
#define ST_KV_DEFAULT_TIMEOUT_MS 50
#define ST_KV_DEFAULT_TTL_SEC 600

typedef struct st_kv_url {
    bool is_unix;
    char host[256]; /* tcp */
    int port;       /* tcp, default 6379 */
    char path[256]; /* unix */
    char user[128], pass[256];
    int db;
} st_kv_url;

/* Parse redis://[user:password@]host[:port][/db] or unix://path[?db=N]. ST_E_INVALID_ARG
 * with a message naming what is wrong. */
st_status st_kv_parse_url(const char *url, st_kv_url *out);

/* Parse and validate a stored value (n bytes, not NUL-terminated) for `kind` on a device
 * with `lim` (sg: the subgroup flag of the bucket): fills vals[i] and bit i of *have for
 * the fields it names, and *median. On false, why says what is wrong. */
bool st_kv_parse_value(const char *s, size_t n, int kind, const st_heur_limits *lim, bool sg, int32_t *vals,
                       uint32_t *have, double *median, char *why, size_t cap);

/* Whether hiredis support is compiled in. */
bool st_kv_built(void);

/* Called by the chain (under its lock) when REDIS_URL changes: NULL removes the slot.
 * Returns true and fills *slot when the slot is ready; false with err set (bad URL,
 * not built). Never connects here: the first lookup does. */
bool st_kv_configure(const char *url, st_heur_remote *slot, char *err, size_t cap);

/* Called by the chain's periodic re-validation (under its lock): true when a cached
 * Redis answer expired or a broadcast arrived since the last call, so the chain's own
 * cache must be dropped. */
bool st_kv_poll(void);

/* Drop the in-process cache (tests, reload). */
void st_kv_flush(void);

/* Publish a measured winner for (kind, bucket of cols/k/sg) on this device: values in
 * hk_kinds[kind].fields order. Written with SET EX ST_KV_TTL_SEC only when median_ms
 * beats the stored one (Lua compare-and-set), then PUBLISHed. *stored (may be NULL)
 * tells whether it won. No-op (ST_OK, stored false) unless ST_KV_BROADCAST=1 and the
 * slot is configured. ST_E_IO when Redis cannot be reached (error set, no abort). */
st_status st_kv_publish(int kind, int64_t cols, int64_t k, bool sg, const int32_t *values, double median_ms,
                        int samples, bool *stored);

/* Start / stop the listener thread (SUBSCRIBE ST_KV_CHANNEL; every message drops the
 * caches). Started automatically with ST_KV_BROADCAST=1. */
st_status st_kv_listen_start(void);
void st_kv_listen_stop(void);

/* Counters for tests and the bench. */
typedef struct st_kv_stats {
    long gets, hits, misses, rejects, failures, warnings, connects, messages;
} st_kv_stats;
void st_kv_get_stats(st_kv_stats *out);

/* Build the key for (kind, bucket) with limits lim into buf. */
void st_kv_key(int kind, const st_heur_limits *lim, bool sg, int64_t cols, int64_t k, char *buf, size_t cap);

/* Close connections, stop the listener, free the cache (tests, st_heur_reset). */
void st_kv_shutdown(void);

#endif
