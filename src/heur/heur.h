/* heur.h — private interface of the SpiralK engine and the heuristics chain.
 *
 * Layers (one way): lex.c (tokens) -> parse.c (program: nodes, defs, statements) ->
 * eval.c (values of a program for one shape) -> fields.c (field table, validation) ->
 * table.c (generated tables, the shared bucket function) -> chain.c (sources, snapshot,
 * cache, public API). check.c serves `spiral heur check`.
 *
 * Invariants:
 * - A program (hk_prog) is immutable after hk_parse() returns it; evaluation never
 *   allocates except for large soft-rule sets, and never recurses deeper than
 *   HK_MAX_EVAL_DEPTH nor runs more than HK_MAX_STEPS node visits.
 * - Every position is a byte offset into the program's own copy of its text; line,
 *   column and the token shown in a message are recomputed from it when needed.
 */
#ifndef ST_HEUR_H
#define ST_HEUR_H

#include "core/internal.h"

#include <stdint.h>

/* ---------------------------------------------------------------- limits */
#define HK_MAX_TEXT (1u << 20)   /* bytes of one source */
#define HK_MAX_NODES (1u << 18)  /* expression nodes of one program */
#define HK_MAX_STMTS 16384       /* statements of one program */
#define HK_MAX_DEFS 256          /* defs of one program */
#define HK_MAX_PARAMS 8          /* params of one def, args of one call */
#define HK_MAX_DEPTH 200         /* parser nesting (brackets, unary chains, operators) */
#define HK_MAX_EVAL_DEPTH 2000   /* evaluator recursion, calls included */
#define HK_MAX_STEPS 1000000L    /* node visits for one field of one source */
#define HK_MAX_NAME 64           /* characters of a name */
#define HK_DIAG_MAX 1024         /* one diagnostic with its note */

/* ---------------------------------------------------------------- fields */
typedef struct hk_field {
    const char *name;
    bool is_bool;
    int64_t min, max;
    unsigned checks; /* ST_HEUR_CHK_* */
    const char *fallback; /* SpiralK expression */
    const char *help;
    size_t offset; /* into st_heur_choice / st_heur_midk_choice */
} hk_field;

typedef struct hk_kind_info {
    const char *name; /* "topk", "midk" */
    int nfields;
    const hk_field *fields;
    size_t struct_size;
} hk_kind_info;

#define HK_NKINDS 2
extern const hk_kind_info hk_kinds[HK_NKINDS];
int hk_field_index(int kind, const char *name, size_t len); /* -1 when unknown */
/* Whether v is a valid value of the field on a device with `lim` (sg: the caller's
 * subgroup flag). On false, why holds the reason ("exceeds the device's ..."). */
bool hk_field_valid(int kind, int field, double v, const st_heur_limits *lim, bool sg, char *why, size_t cap);
/* Store v (already valid) into the public struct. */
void hk_field_store(int kind, int field, void *choice, int32_t v);
/* Read a field back from the public struct (bools as 0/1). */
int32_t hk_field_load(int kind, int field, const void *choice);

/* ---------------------------------------------------------------- variables */
enum { HK_V_R, HK_V_C, HK_V_K, HK_V_SG, HK_V_SGSIZE, HK_V_MAXWG, HK_V_SMEM, HK_NVARS };
extern const char *const hk_var_names[HK_NVARS];

/* ---------------------------------------------------------------- programs */
typedef enum hk_op {
    HK_NUM, HK_VAR, HK_PARAM, HK_NEG, HK_NOT, HK_OR, HK_AND, HK_EQ, HK_NE, HK_LT, HK_LE, HK_GT, HK_GE,
    HK_ADD, HK_SUB, HK_MUL, HK_DIV, HK_MOD, HK_BUILTIN, HK_CALL
} hk_op;

enum { HK_B_SEL, HK_B_MIN, HK_B_MAX, HK_B_CLAMP, HK_B_LOG2, HK_B_POW2, HK_B_FLOOR, HK_B_CEIL, HK_B_ROUND, HK_NBUILTINS };

typedef struct hk_node {
    uint8_t op;   /* hk_op */
    uint8_t aux;  /* var id, param index, builtin id, or number of arguments */
    uint16_t def; /* HK_CALL: index of the def */
    uint32_t pos; /* byte offset of the operator / name / literal */
    uint32_t a, b; /* children; for calls a = first index into prog->args */
    double num;
    uint32_t height; /* evaluation depth of this subtree, calls included */
    float cost;      /* upper bound of node visits to evaluate it, calls included */
} hk_node;

typedef struct hk_def {
    uint32_t name_pos, name_len;
    uint32_t body;
    uint8_t nparams;
} hk_def;

#define HK_MAX_TOTAL_COST 8e6 /* node visits of all statements of a program */

typedef enum { HK_ST_HARD, HK_ST_SOFT } hk_st_type;
typedef struct hk_stmt {
    uint8_t type;  /* hk_st_type */
    uint8_t kind;  /* ST_HEUR_TOPK / ST_HEUR_MIDK */
    uint8_t field;
    uint32_t pos;  /* the field name */
    uint32_t e[3]; /* hard: value; soft: value, weight, cond */
} hk_stmt;

typedef struct hk_prog {
    char *source; /* "SPIRAL_HEUR_K" or a path (owned) */
    char *text;   /* owned copy, NUL-terminated */
    uint32_t len;
    hk_node *nodes;
    uint32_t nnodes, cap_nodes;
    uint32_t *args;
    uint32_t nargs, cap_args;
    hk_def *defs;
    uint32_t ndefs, cap_defs;
    hk_stmt *stmts;
    uint32_t nstmts, cap_stmts;
    /* per kind and field: the last hard statement (UINT32_MAX: none) and the soft ones */
    uint32_t hard[HK_NKINDS][ST_HEUR_MAX_FIELDS];
    uint32_t soft_start[HK_NKINDS][ST_HEUR_MAX_FIELDS + 1];
    uint32_t *soft_idx; /* statement indices grouped by (kind, field), in source order */
} hk_prog;

/* Parse `text` (len bytes) named `source`. allow_sections: a file ([topk]/[midk]);
 * otherwise every field statement is of `kind`. Returns NULL with diag set
 * ("source:line:col: message near 'tok'", maybe a second "note:" line) on error, or
 * NULL with diag "" and the thread error set on out-of-memory. */
hk_prog *hk_parse(const char *source, const char *text, size_t len, bool allow_sections, int kind, char *diag,
                  size_t cap);
void hk_prog_free(hk_prog *p);
/* Line and column (1-based) of a byte offset. */
void hk_linecol(const hk_prog *p, uint32_t pos, uint32_t *line, uint32_t *col);
/* Format "source:line:col: <msg> near '<token at pos>'" into buf. */
void hk_format_at(const hk_prog *p, uint32_t pos, char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---------------------------------------------------------------- lexer (parse.c uses it) */
typedef enum hk_tok {
    HK_T_EOF, HK_T_NUM, HK_T_NAME, HK_T_TRUE, HK_T_FALSE, HK_T_SOFT, HK_T_DEF,
    HK_T_OR, HK_T_AND, HK_T_EQ, HK_T_NE, HK_T_LT, HK_T_LE, HK_T_GT, HK_T_GE,
    HK_T_PLUS, HK_T_MINUS, HK_T_STAR, HK_T_SLASH, HK_T_PERCENT, HK_T_NOT,
    HK_T_LPAREN, HK_T_RPAREN, HK_T_LBRACKET, HK_T_RBRACKET, HK_T_COMMA, HK_T_SEMI, HK_T_COLON,
    HK_T_ERROR
} hk_tok;

typedef struct hk_token {
    hk_tok t;
    uint32_t pos, len;
    bool nl_before; /* a line break separates it from the previous token */
    double num;
    const char *err; /* HK_T_ERROR: the message */
} hk_token;

typedef struct hk_lexer {
    const char *text;
    uint32_t len, at;
} hk_lexer;
void hk_lex_next(hk_lexer *lx, hk_token *tok);
/* Describe the token at pos for "near '...'" (at most 40 characters, escaped). */
void hk_token_text(const char *text, uint32_t len, uint32_t pos, char *buf, size_t cap);

/* ---------------------------------------------------------------- evaluation */
typedef struct hk_shape {
    double var[HK_NVARS];
    bool sg;
} hk_shape;
void hk_shape_make(hk_shape *s, int64_t rows, int64_t cols, int64_t k, bool sg, const st_heur_limits *lim);

typedef enum { HK_NONE = 0, HK_VALUE = 1, HK_ERROR = 2 } hk_outcome;
/* The value `p` gives to (kind, field) for shape s: HK_NONE when it says nothing,
 * HK_VALUE with *v and *pos (the deciding statement's field name), or HK_ERROR with a
 * diagnostic in err. The value is NOT validated here. */
hk_outcome hk_eval_field(const hk_prog *p, int kind, int field, const hk_shape *s, double *v, uint32_t *pos,
                         char *err, size_t cap);
/* Evaluate expression node `e` without variables (vars == NULL): returns 1 with *v when
 * it is constant, 0 when it reads a variable, -1 on a runtime error (err set). */
int hk_eval_const(const hk_prog *p, uint32_t e, double *v, char *err, size_t cap);

/* Read a whole rule file (at most HK_MAX_TEXT + 1 bytes, so an oversized one is
 * reported by hk_parse). *buf is st_malloc'd, NUL-terminated. ST_E_IO with err set
 * ("path: cannot open: No such file"), or ST_E_OOM. */
st_status hk_read_file(const char *path, char **buf, size_t *len, char *err, size_t cap);

/* ---------------------------------------------------------------- generated tables */
/* One row: a bucket and the values of the table's columns (in `fields` order). */
typedef struct st_heur_table_row {
    uint8_t sg;    /* subgroup flag */
    uint8_t lc;    /* ceil(log2(cols)) */
    uint8_t lk;    /* ceil(log2(k)) */
    int32_t v[ST_HEUR_MAX_FIELDS];
} st_heur_table_row;

typedef struct st_heur_table {
    const char *fields; /* comma list naming the value columns, e.g. "u2,wg,kl,ch" */
    const char *origin; /* device / tuner run the table came from ("" when empty) */
    int n;
    const st_heur_table_row *rows; /* NULL when n == 0 */
    /* Last, so that positional initialisers {fields, origin, n, rows} still work.
     * Backend the table was tuned on ("cpu", "vulkan", ...): the chain uses the table
     * only while its device backend (st_heur_set_backend) is the same, so a CPU-tuned
     * table never steers a GPU and the other way round. NULL or "": any backend. */
    const char *backend;
} st_heur_table;

extern const st_heur_table st_heur_topk_generated; /* table_topk_generated.c */
extern const st_heur_table st_heur_midk_generated; /* table_midk_generated.c */

typedef struct st_heur_bucket {
    uint8_t sg, lc, lk;
} st_heur_bucket;
/* THE bucket function, shared by the lookup and by gen_heuristics_table. */
st_heur_bucket st_heur_bucket_of(bool subgroup, int64_t cols, int64_t k);
uint8_t st_heur_ceil_log2(int64_t x); /* 0 for x <= 1 */
/* The row for bucket b: exact, else the nearest within distance 1 (|dlc| + |dlk|, same
 * sg; ties in the order lk-1, lk+1, lc-1, lc+1), else NULL. */
const st_heur_table_row *st_heur_table_find(const st_heur_table *t, st_heur_bucket b);
/* Column of `field` in t, -1 when the table lacks it. */
int st_heur_table_column(const st_heur_table *t, const char *field);
/* The backend whose device the chain chooses for (default "cpu"): a generated table
 * applies only when its .backend matches. A GPU backend calls this when it becomes the
 * device of the rank-K ops, next to st_heur_set_limits. Invalidates the cache. */
void st_heur_set_backend(const char *name);
/* The rule file's path: SPIRAL_HEUR_FILE, else $ST_HOME/heur.kdsl, else
 * $HOME/.spiraltorch/heur.kdsl; NULL when none can be formed. */
char *st_heur_rule_file_path(char *buf, size_t cap);
/* Tests: replace the compiled-in tables (NULL restores them); invalidates the cache. */
void st_heur_set_tables(const st_heur_table *topk, const st_heur_table *midk);

/* ---------------------------------------------------------------- the Redis slot */
/* Source 4 of the chain. The Redis module (src/kv/) installs a lookup here: it fills
 * values[i] for the fields i of `kind` it knows (hk_kinds[kind].fields order) and sets
 * bit i of *have; returns false when it has nothing. Called on cache misses only, under
 * the chain's lock: it must be quick (short timeouts, its own cache). `describe` fills
 * a one-line status for `spiral info` ("redis://host:6379/, 12 keys cached"). */
typedef struct st_heur_remote {
    bool (*lookup)(void *user, int kind, int64_t rows, int64_t cols, int64_t k, bool sg, int32_t *values,
                   uint32_t *have);
    void (*describe)(void *user, char *buf, size_t cap);
    void *user;
} st_heur_remote;
/* Install (copied) or remove (NULL) the Redis slot; invalidates the cache. */
void st_heur_set_remote(const st_heur_remote *r);
/* Drop every cached choice (e.g. when Redis learns a new value). */
void st_heur_invalidate(void);
/* The device limits; only for the slot's lookup, which runs under the chain's lock. */
const st_heur_limits *st_heur_limits_locked(void);

#endif
