/* tune.h — private interface of the tuner (tuner.c), tuner.json (tunerjson.c), the
 * table generator (gentable.c), observations and self-rewrite (selfrewrite.c).
 *
 * Layers (one way): the candidate table and the measurement (tuner.c) produce an
 * st_tune_file; tunerjson.c writes and reads it (schema "spiraltorch.tuner/1",
 * SPEC §5); gentable.c turns one into the two generated C tables, bucketing with THE
 * bucket function st_heur_bucket_of (src/heur/table.c). selfrewrite.c records
 * observations of real rank-K calls and learns soft(...) rules into heur.kdsl.
 *
 * Choices are carried as value arrays in hk_kinds[kind].fields order (the same order
 * as the generated tables' columns and st_kv_publish), so no field is named twice.
 */
#ifndef ST_TUNE_H
#define ST_TUNE_H

#include "backend/backend.h"
#include "heur/heur.h"

#include <stdatomic.h>

#define ST_TUNE_SCHEMA "spiraltorch.tuner/1"
#define ST_TUNE_MAX_SAMPLES 1000000 /* per kind, in one tuner.json */
#define ST_TUNE_MAX_FILE (64u << 20) /* bytes of one tuner.json */

/* ---------------------------------------------------------------- rank-K entry points (src/ops/rankk.c) */
st_status st_rankk_with_params(st_tensor *x, st_rankk_kind kind, int64_t k, st_dtype index_dtype,
                               const st_rankk_params *params, st_tensor **values, st_tensor **indices);
/* Kernel parameters from a value array of `kind` (hk_kinds order; ST_HEUR_TOPK for
 * TopK and BottomK). */
void st_rankk_params_from_values(int kind, const int32_t *v, st_rankk_params *p);

/* ---------------------------------------------------------------- the chain (src/heur/chain.c) */
/* The built-in fallback formulas' values for a shape on the current limits (the sixth
 * source alone): what a build without tables, rules or Redis would choose. */
void st_heur_fallback_values(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, int32_t *v);

/* ---------------------------------------------------------------- tuner.json */
typedef struct st_tune_sample {
    int64_t rows, cols, k;
    bool sg;
    int32_t v[ST_HEUR_MAX_FIELDS]; /* hk_kinds[kind].fields order */
    uint32_t have;                 /* bit f: v[f] was given (a file may name a subset) */
    double time_ms;                /* median of the timed runs */
} st_tune_sample;

typedef struct st_tune_file {
    st_device_info dev; /* where it was measured */
    char created[32];   /* ISO 8601 UTC */
    int reps, warmup;
    st_tune_sample *s[HK_NKINDS]; /* st_malloc'd */
    size_t n[HK_NKINDS], cap[HK_NKINDS];
} st_tune_file;

void st_tune_file_init(st_tune_file *f);
void st_tune_file_free(st_tune_file *f);
st_status st_tune_file_add(st_tune_file *f, int kind, const st_tune_sample *s);
/* Strict reader: ST_E_IO (cannot open/read) or ST_E_FORMAT with a message
 * "<name>:<line>:<col>: <what is wrong>"; *f is left empty on failure. */
st_status st_tune_file_parse(const char *text, size_t len, const char *name, st_tune_file *f);
st_status st_tune_file_read(const char *path, st_tune_file *f);
/* Writes the file atomically (temporary file, fsync, rename). */
st_status st_tune_file_write(const char *path, const st_tune_file *f);

/* ---------------------------------------------------------------- generator */
/* Writes the TopK and MidK tables of f as C sources (the format of
 * src/heur/table_*_generated.c), keeping the fastest sample per bucket. nrows (may be
 * NULL) receives the rows written per kind. */
st_status st_tune_gen_tables(const st_tune_file *f, FILE *topk, FILE *midk, int nrows[HK_NKINDS]);
/* Index of the winning sample of bucket b in f->s[kind] (the one the generator keeps),
 * -1 when the bucket has none. */
long st_tune_bucket_winner(const st_tune_file *f, int kind, st_heur_bucket b);

/* ---------------------------------------------------------------- candidates */
#define ST_TUNE_MAX_CANDS 12
/* The candidate values of a field (the one table of the tuner and of exploration);
 * returns how many, before pruning against the device. */
int st_tune_candidates(int kind, int field, int32_t *out);

/* ---------------------------------------------------------------- self-rewrite (selfrewrite.c) */
/* The cached ST_SELF_REWRITE flag: one relaxed load on the rank-K path. */
extern _Atomic int st_sr_flag; /* -1 not read yet, 0 off, 1 on */
bool st_sr_enabled_slow(void);
static inline bool st_sr_enabled(void) {
    int f = atomic_load_explicit(&st_sr_flag, memory_order_relaxed);
    return f == 0 ? false : f > 0 ? true : st_sr_enabled_slow();
}
/* Exploration: may replace v (a choice of kind for the shape) with a neighbouring
 * candidate; returns true when it did. */
bool st_sr_explore(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, int32_t *v);
/* Record one observation (appends to observations.jsonl under the lock and, every
 * ST_SR_MIN_SAMPLES observations of this process, runs the analysis). */
st_status st_sr_observe(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, const int32_t *v, double time_ms,
                        bool explored);
/* Analyse the observations now and rewrite the learned block when warranted (lock
 * held inside). *rewrote (may be NULL) says whether heur.kdsl changed. */
st_status st_sr_analyze(bool *rewrote);
/* Paths in use (tests, messages): the rule file and observations.jsonl. */
st_status st_sr_paths(char *rules, size_t rcap, char *obs, size_t ocap);
/* Counters of this process. */
typedef struct st_sr_stats {
    long observed, explored, analyses, rewrites, rules_added, rules_expired, rules_dropped, bad_lines, published;
} st_sr_stats;
void st_sr_get_stats(st_sr_stats *out);
/* Re-read the ST_SELF_REWRITE / ST_SR_* variables (they are read once, at the first
 * rank-K call; tests change them and call this). */
void st_sr_reconfigure(void);

/* Test hooks: a clock (seconds since the epoch; NULL restores time()), and a point
 * where the rewrite calls _exit(code) between writing the temporary file and the
 * rename (0 disables). */
void st_sr_set_clock(int64_t (*now)(void));
void st_sr_set_crash_before_rename(int code);

#endif
