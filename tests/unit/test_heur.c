/* test_heur.c — the SpiralK language: evaluation goldens, exact diagnostic text, and a
 * property test (random expression trees, printed to text, evaluated by the engine and
 * by an independent tree evaluator here). The priority chain is in test_heur_chain.c. */
#include "testlib.h"

#include "heur/heur.h"

/* Value of `expr` for the shape, via a one-statement TopK program ("ch: expr"). */
static hk_outcome eval_expr(const char *expr, double r, double c, double k, int sg, double *v, char *err, size_t cap) {
    char text[8192], diag[HK_DIAG_MAX];
    snprintf(text, sizeof text, "ch: %s", expr);
    hk_prog *p = hk_parse("t", text, strlen(text), false, ST_HEUR_TOPK, diag, sizeof diag);
    if (!p) {
        snprintf(err, cap, "%s", diag);
        return HK_ERROR;
    }
    st_heur_limits lim = {1024, 32, 65536};
    hk_shape s;
    hk_shape_make(&s, (int64_t)r, (int64_t)c, (int64_t)k, sg != 0, &lim);
    uint32_t pos;
    hk_outcome o = hk_eval_field(p, ST_HEUR_TOPK, 3, &s, v, &pos, err, cap);
    hk_prog_free(p);
    return o;
}

static double ev(const char *expr, double r, double c, double k, int sg) {
    double v = -12345;
    char err[HK_DIAG_MAX] = "";
    hk_outcome o = eval_expr(expr, r, c, k, sg, &v, err, sizeof err);
    CHECK_MSG(o == HK_VALUE, "'%s' did not evaluate: %s", expr, err);
    return v;
}

/* Diagnostic of parsing `text` (env source "SPIRAL_HEUR_K", or a file when `file`). */
static const char *diag_of(const char *text, bool file) {
    static char diag[4096];
    hk_prog *p = hk_parse(file ? "rules.kdsl" : "SPIRAL_HEUR_K", text, strlen(text), file, ST_HEUR_TOPK, diag,
                          sizeof diag);
    if (p) {
        hk_prog_free(p);
        return "(parsed)";
    }
    return diag;
}

#define CHECK_DIAG(text, file, want)                                                    \
    do {                                                                                \
        const char *got_ = diag_of(text, file);                                         \
        CHECK_MSG(strcmp(got_, want) == 0, "\n  text: %s\n  got:  %s\n  want: %s", text, got_, want); \
    } while (0)

TEST(seed_examples_evaluate_as_written) {
    const char *k = "u2:(c>32768)||(k>128); ch:sel(c>16384,8192,0)";
    char diag[HK_DIAG_MAX];
    hk_prog *p = hk_parse("SPIRAL_HEUR_K", k, strlen(k), false, ST_HEUR_TOPK, diag, sizeof diag);
    CHECK_MSG(p != NULL, "%s", diag);
    st_heur_limits lim = {1024, 32, 65536};
    const double shapes[][2] = {{1000, 10}, {16384, 200}, {16385, 10}, {32768, 128}, {32769, 1}, {65536, 129}};
    for (size_t i = 0; p && i < sizeof shapes / sizeof shapes[0]; i++) {
        double c = shapes[i][0], kk = shapes[i][1], v;
        hk_shape s;
        hk_shape_make(&s, 7, (int64_t)c, (int64_t)kk, true, &lim);
        uint32_t pos;
        char err[HK_DIAG_MAX];
        CHECK(hk_eval_field(p, ST_HEUR_TOPK, 0, &s, &v, &pos, err, sizeof err) == HK_VALUE);
        CHECK(v == ((c > 32768 || kk > 128) ? 1 : 0));
        CHECK(hk_eval_field(p, ST_HEUR_TOPK, 3, &s, &v, &pos, err, sizeof err) == HK_VALUE);
        CHECK(v == (c > 16384 ? 8192 : 0));
        CHECK(hk_eval_field(p, ST_HEUR_TOPK, 1, &s, &v, &pos, err, sizeof err) == HK_NONE);
    }
    hk_prog_free(p);
    const char *m = "wg:sel(c>32768,256,128); tile:sel(c>65536,4096,2048)";
    p = hk_parse("SPIRAL_HEUR_MIDK", m, strlen(m), false, ST_HEUR_MIDK, diag, sizeof diag);
    CHECK_MSG(p != NULL, "%s", diag);
    for (int i = 0; p && i < 4; i++) {
        double c = (double[]){100, 32769, 65536, 65537}[i], v;
        hk_shape s;
        hk_shape_make(&s, 1, (int64_t)c, 5, false, &lim);
        uint32_t pos;
        char err[HK_DIAG_MAX];
        CHECK(hk_eval_field(p, ST_HEUR_MIDK, 0, &s, &v, &pos, err, sizeof err) == HK_VALUE && v == (c > 32768 ? 256 : 128));
        CHECK(hk_eval_field(p, ST_HEUR_MIDK, 1, &s, &v, &pos, err, sizeof err) == HK_VALUE &&
              v == (c > 65536 ? 4096 : 2048));
    }
    hk_prog_free(p);
}

TEST(operators_and_precedence) {
    CHECK(ev("1 + 2 * 3", 0, 0, 0, 0) == 7);
    CHECK(ev("(1 + 2) * 3", 0, 0, 0, 0) == 9);
    CHECK(ev("10 - 4 - 3", 0, 0, 0, 0) == 3); /* left associative */
    CHECK(ev("64 / 4 / 2", 0, 0, 0, 0) == 8);
    CHECK(ev("7 / 2", 0, 0, 0, 0) == 3.5);
    CHECK(ev("7 % 3", 0, 0, 0, 0) == 1);
    CHECK(ev("-7 % 3", 0, 0, 0, 0) == -1);
    CHECK(ev("-2 * -3", 0, 0, 0, 0) == 6);
    CHECK(ev("!0 + !5", 0, 0, 0, 0) == 1);
    CHECK(ev("2 == 3", 0, 0, 0, 0) == 0);
    CHECK(ev("3 == 3", 0, 0, 0, 0) == 1);
    CHECK(ev("2 != 3", 0, 0, 0, 0) == 1);
    CHECK(ev("5 > 3 == 1", 0, 0, 0, 0) == 1); /* comparisons bind tighter than == */
    CHECK(ev("1 < 2 && 2 < 1 || 1", 0, 0, 0, 0) == 1);
    CHECK(ev("0 || 0 && 1", 0, 0, 0, 0) == 0);
    CHECK(ev("7 && 9", 0, 0, 0, 0) == 1);  /* exactly 0/1 */
    CHECK(ev("0 || 42", 0, 0, 0, 0) == 1);
    CHECK(ev("1 + 2 < 4", 0, 0, 0, 0) == 1);
    CHECK(ev("true + true + false", 0, 0, 0, 0) == 2);
    CHECK(ev("1.5e3 + .25 + 2E-1", 0, 0, 0, 0) == 1500.45);
    CHECK(ev("0.1 + 0.2", 0, 0, 0, 0) == 0.1 + 0.2);
    CHECK(ev("r + c * 10 + k * 100 + sg * 1000", 1, 2, 3, 1) == 1 + 20 + 300 + 1000);
    CHECK(ev("sgsize + maxwg + smem", 0, 0, 0, 1) == 32 + 1024 + 65536);
    CHECK(ev("sgsize", 0, 0, 0, 0) == 0); /* no subgroup requested */
    CHECK(ev("0 && 1/0", 0, 0, 0, 0) == 0); /* short circuit */
    CHECK(ev("1 || 1/0", 0, 0, 0, 0) == 1);
    CHECK(ev("sel(1, 5, 1/0)", 0, 0, 0, 0) == 5); /* lazy */
}

TEST(builtins) {
    CHECK(ev("min(3, -2)", 0, 0, 0, 0) == -2);
    CHECK(ev("max(3, -2)", 0, 0, 0, 0) == 3);
    CHECK(ev("clamp(5, 0, 3) + clamp(-1, 0, 3) + clamp(2, 0, 3)", 0, 0, 0, 0) == 3 + 0 + 2);
    CHECK(ev("log2(1024)", 0, 0, 0, 0) == 10);
    CHECK(ev("pow2(1000) + pow2(1024) + pow2(1) + pow2(0) + pow2(-5)", 0, 0, 0, 0) == 1024 + 1024 + 1 + 1 + 1);
    CHECK(ev("pow2(3.5)", 0, 0, 0, 0) == 4);
    CHECK(ev("floor(2.7) + ceil(2.1) + round(2.5) + round(-2.5)", 0, 0, 0, 0) == 2 + 3 + 3 - 3);
    CHECK(ev("sel(c > 100, 1, 2)", 0, 101, 0, 0) == 1);
    CHECK(ev("sel(c > 100, 1, 2)", 0, 100, 0, 0) == 2);
}

TEST(defs) {
    char text[] = "def blk(x, y): max(x, y) * 2; def twice(z): blk(z, z) + 1; ch: twice(c) + blk(k, 1)";
    char diag[HK_DIAG_MAX];
    hk_prog *p = hk_parse("t", text, strlen(text), false, ST_HEUR_TOPK, diag, sizeof diag);
    CHECK_MSG(p != NULL, "%s", diag);
    if (!p) return;
    st_heur_limits lim = {1024, 32, 65536};
    hk_shape s;
    hk_shape_make(&s, 1, 10, 3, false, &lim);
    double v;
    uint32_t pos;
    CHECK(hk_eval_field(p, ST_HEUR_TOPK, 3, &s, &v, &pos, diag, sizeof diag) == HK_VALUE);
    CHECK(v == (10 * 2 + 1) + 3 * 2);
    hk_prog_free(p);
    const char *shadow = "def f(c): c * 2; ch: f(16) + c"; /* a parameter shadows a variable */
    p = hk_parse("t", shadow, strlen(shadow), false, ST_HEUR_TOPK, diag, sizeof diag);
    CHECK(p && hk_eval_field(p, ST_HEUR_TOPK, 3, &s, &v, &pos, diag, sizeof diag) == HK_VALUE && v == 32 + 10);
    hk_prog_free(p);
}

TEST(runtime_errors_name_the_rule) {
    double v;
    char err[HK_DIAG_MAX];
    CHECK(eval_expr("c / (k - 4)", 1, 8, 4, 0, &v, err, sizeof err) == HK_ERROR);
    CHECK_MSG(!strcmp(err, "t:1:7: division by zero in the rule for 'ch' near '/'"), "%s", err);
    CHECK(eval_expr("5 % 0", 0, 0, 0, 0, &v, err, sizeof err) == HK_ERROR);
    CHECK_MSG(!strcmp(err, "t:1:7: modulo by zero in the rule for 'ch' near '%'"), "%s", err);
    CHECK(eval_expr("log2(k)", 0, 0, 0, 0, &v, err, sizeof err) == HK_ERROR);
    CHECK_MSG(!strcmp(err, "t:1:5: log2 of a value <= 0 in the rule for 'ch' near 'log2'"), "%s", err);
    CHECK(eval_expr("pow2(1e30)", 0, 0, 0, 0, &v, err, sizeof err) == HK_ERROR);
    CHECK_MSG(strstr(err, "pow2 of a value above 2^62") != NULL, "%s", err);
}

TEST(diagnostics_exact_text) {
    CHECK_DIAG("u2: (c > 1", false,
               "SPIRAL_HEUR_K:1:11: expected ')' near '<eof>'\nSPIRAL_HEUR_K:1:5: note: unclosed '(' opened here");
    CHECK_DIAG("wg: max(1,\n  2\nkl: 3", false,
               "SPIRAL_HEUR_K:3:1: expected ')' near 'kl'\nSPIRAL_HEUR_K:1:8: note: unclosed '(' opened here");
    CHECK_DIAG("wg: x + 1", false,
               "SPIRAL_HEUR_K:1:5: unknown variable 'x' (variables: r, c, k, sg, sgsize, maxwg, smem) near 'x'");
    CHECK_DIAG("foo: 1", false, "SPIRAL_HEUR_K:1:1: unknown field 'foo' (topk fields: u2, wg, kl, ch, algo, est) near 'foo'");
    CHECK_DIAG("tile: 1", false,
               "SPIRAL_HEUR_K:1:1: 'tile' is not a topk field (topk fields: u2, wg, kl, ch, algo, est) near 'tile'");
    CHECK_DIAG("wg: foo(1)", false, "SPIRAL_HEUR_K:1:5: unknown function 'foo' near 'foo'");
    CHECK_DIAG("wg: min(1, 2, 3)", false,
               "SPIRAL_HEUR_K:1:5: wrong number of arguments to 'min': expected 2, got 3 near 'min'");
    CHECK_DIAG("def f(x): x + 1\nwg: f()", false,
               "SPIRAL_HEUR_K:2:5: wrong number of arguments to 'f': expected 1, got 0 near 'f'");
    CHECK_DIAG("def f(x): f(x - 1)", false,
               "SPIRAL_HEUR_K:1:11: recursive call to 'f': a def cannot call itself near 'f'");
    CHECK_DIAG("def f(x): 1; def f(y): 2", false, "SPIRAL_HEUR_K:1:18: redefinition of 'f' near 'f'");
    CHECK_DIAG("def min(x): 1", false, "SPIRAL_HEUR_K:1:5: 'min' is a built-in function near 'min'");
    CHECK_DIAG("def f(x, x): 1", false, "SPIRAL_HEUR_K:1:10: duplicate parameter near 'x'");
    CHECK_DIAG("wg: min + 1", false, "SPIRAL_HEUR_K:1:5: 'min' is a function: call it as min(...) near 'min'");
    CHECK_DIAG("wg = 1", false,
               "SPIRAL_HEUR_K:1:4: '=' is not an operator (use ':' to assign, '==' to compare) near '='");
    CHECK_DIAG("wg: 1 & 2", false, "SPIRAL_HEUR_K:1:7: '&' is not an operator (use '&&') near '&'");
    CHECK_DIAG("wg: 1 kl: 2", false, "SPIRAL_HEUR_K:1:7: expected ';' or a line break after the statement near 'kl'");
    CHECK_DIAG("wg: 12abc", false, "SPIRAL_HEUR_K:1:5: malformed number near '12abc'");
    CHECK_DIAG("wg: 1 @", false, "SPIRAL_HEUR_K:1:7: unexpected character near '@'");
    CHECK_DIAG("wg: \x01", false, "SPIRAL_HEUR_K:1:5: unexpected character near '\\x01'");
    CHECK_DIAG("wg:", false, "SPIRAL_HEUR_K:1:4: expected an expression near '<eof>'");
    CHECK_DIAG("wg 1", false, "SPIRAL_HEUR_K:1:4: expected ':' after the field name near '1'");
    CHECK_DIAG("+1", false, "SPIRAL_HEUR_K:1:1: expected a statement (field: expr, soft(...) or def) near '+'");
    CHECK_DIAG("soft(wg, 1, 2)", false,
               "SPIRAL_HEUR_K:1:14: expected ',' (soft takes 4 arguments: soft(field, value, weight, cond)) near ')'");
    CHECK_DIAG("soft(wg, 1, 2, 3, 4)", false,
               "SPIRAL_HEUR_K:1:17: soft takes 4 arguments: soft(field, value, weight, cond) near ','");
    CHECK_DIAG("[topk]\nwg: 1", false, "SPIRAL_HEUR_K:1:1: section headers are only allowed in rule files near '['");
    CHECK_DIAG("[gpu]\nwg: 1", true, "rules.kdsl:1:2: unknown section (expected [topk] or [midk]) near 'gpu'");
    CHECK_DIAG("[midk\nwg: 1", true,
               "rules.kdsl:2:1: expected ']' near 'wg'\nrules.kdsl:1:1: note: unclosed '[' opened here");
    CHECK_DIAG("# comment\n[midk]\n  kl: 1", true,
               "rules.kdsl:3:3: 'kl' is not a midk field (midk fields: wg, tile, u2) near 'kl'");
    CHECK_DIAG("wg: aVeryLongNameThatGoesOnAndOnAndOnForMoreThanThirtyTwoCharacters", false,
               "SPIRAL_HEUR_K:1:5: unknown variable 'aVeryLongNameThatGoesOnAndOnAndOnForMoreThanThirtyTwoCharacters' "
               "(variables: r, c, k, sg, sgsize, maxwg, smem) near 'aVeryLongNameThatGoesOnAndOnAndO...'");
}

TEST(valid_texts_parse) {
    CHECK(!strcmp(diag_of("", false), "(parsed)"));
    CHECK(!strcmp(diag_of(";;", false), "(parsed)"));
    CHECK(!strcmp(diag_of("wg: 1;", false), "(parsed)"));
    CHECK(!strcmp(diag_of("wg: 1\nkl: 2 # trailing comment\n", false), "(parsed)"));
    CHECK(!strcmp(diag_of("wg: 1 +\n 2", false), "(parsed)")); /* an operator continues the line */
    CHECK(!strcmp(diag_of("u2: 1\n[midk]\ntile: 4096\n[topk] wg: 64", true), "(parsed)"));
    CHECK(!strcmp(diag_of("soft(wg, 256, 0.5, c > 4096); soft(wg, 128, 1, true)", false), "(parsed)"));
    CHECK(!strcmp(diag_of("def f(): 3; wg: f() * 32", false), "(parsed)"));
    CHECK(!strcmp(diag_of("def f(c): c * 2; wg: f(16)", false), "(parsed)")); /* params shadow variables */
}

TEST(bounds_reject_huge_inputs) {
    /* nesting */
    char buf[2048];
    size_t o = (size_t)snprintf(buf, sizeof buf, "wg: ");
    for (int i = 0; i < 300; i++) buf[o++] = '(';
    buf[o++] = '1';
    buf[o] = '\0';
    CHECK_DIAG(buf, false, "SPIRAL_HEUR_K:1:205: expression nests too deeply (limit 200) near '('");
    /* evaluation depth: a long left-associative chain */
    static char chain[20000];
    o = (size_t)snprintf(chain, sizeof chain, "wg: 1");
    for (int i = 0; i < 2500; i++) o += (size_t)snprintf(chain + o, sizeof chain - o, "+1");
    CHECK_DIAG(chain, false,
               "SPIRAL_HEUR_K:1:1: expression too deep to evaluate (2501 levels with calls; limit 2000) near 'wg'");
    /* exponential cost through defs */
    o = (size_t)snprintf(chain, sizeof chain, "def f0(x): x");
    for (int i = 1; i <= 40; i++)
        o += (size_t)snprintf(chain + o, sizeof chain - o, "\ndef f%d(x): f%d(x) + f%d(x)", i, i - 1, i - 1);
    o += (size_t)snprintf(chain + o, sizeof chain - o, "\nwg: f40(1)");
    const char *d = diag_of(chain, false);
    CHECK_MSG(strstr(d, "too costly to evaluate") != NULL, "%s", d);
    /* size */
    size_t big = HK_MAX_TEXT + 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    char diag[HK_DIAG_MAX];
    CHECK(hk_parse("SPIRAL_HEUR_K", huge, big, false, 0, diag, sizeof diag) == NULL);
    CHECK_MSG(strstr(diag, "rule text too large") != NULL, "%s", diag);
    free(huge);
    /* too many defs */
    o = 0;
    for (int i = 0; i < HK_MAX_DEFS + 1; i++) o += (size_t)snprintf(chain + o, sizeof chain - o, "def g%d(): 1\n", i);
    d = diag_of(chain, false);
    CHECK_MSG(strstr(d, "too many defs (limit 256)") != NULL, "%s", d);
}

TEST(soft_rules_vote) {
    const char *text = "soft(wg, 256, 0.5, c > 4096)\n"
                       "soft(wg, 128, 0.4, true)\n"
                       "soft(wg, 128, 0.3, c > 8192)\n"
                       "soft(kl, 16, 1, true); soft(kl, 32, 1, true)\n" /* tie: the earlier rule wins */
                       "soft(ch, 64, -1, true); soft(ch, 32, 0, true)\n"  /* totals <= 0: no value */
                       "soft(u2, true, 5, true); u2: false\n";              /* hard beats soft */
    char diag[HK_DIAG_MAX];
    hk_prog *p = hk_parse("f", text, strlen(text), true, ST_HEUR_TOPK, diag, sizeof diag);
    CHECK_MSG(p != NULL, "%s", diag);
    if (!p) return;
    st_heur_limits lim = {1024, 32, 65536};
    hk_shape s;
    double v;
    uint32_t pos, line, col;
    hk_shape_make(&s, 1, 5000, 1, false, &lim);
    CHECK(hk_eval_field(p, ST_HEUR_TOPK, 1, &s, &v, &pos, diag, sizeof diag) == HK_VALUE && v == 256);
    hk_linecol(p, pos, &line, &col);
    CHECK(line == 1);
    hk_shape_make(&s, 1, 9000, 1, false, &lim); /* 128: 0.7 > 256: 0.5 */
    CHECK(hk_eval_field(p, ST_HEUR_TOPK, 1, &s, &v, &pos, diag, sizeof diag) == HK_VALUE && v == 128);
    hk_linecol(p, pos, &line, &col);
    CHECK(line == 2);
    hk_shape_make(&s, 1, 100, 1, false, &lim);
    CHECK(hk_eval_field(p, ST_HEUR_TOPK, 1, &s, &v, &pos, diag, sizeof diag) == HK_VALUE && v == 128);
    CHECK(hk_eval_field(p, ST_HEUR_TOPK, 2, &s, &v, &pos, diag, sizeof diag) == HK_VALUE && v == 16);
    CHECK(hk_eval_field(p, ST_HEUR_TOPK, 3, &s, &v, &pos, diag, sizeof diag) == HK_NONE);
    CHECK(hk_eval_field(p, ST_HEUR_TOPK, 0, &s, &v, &pos, diag, sizeof diag) == HK_VALUE && v == 0);
    hk_prog_free(p);
    /* many soft rules (beyond the on-stack buffer) */
    static char many[40000];
    size_t o = 0;
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "soft(wg, %d, 1, true)\n", i % 3 == 0 ? 64 : 32);
    p = hk_parse("f", many, o, true, ST_HEUR_TOPK, diag, sizeof diag);
    CHECK(p != NULL);
    if (p) {
        CHECK(hk_eval_field(p, ST_HEUR_TOPK, 1, &s, &v, &pos, diag, sizeof diag) == HK_VALUE && v == 32);
        hk_prog_free(p);
    }
}

TEST(bucket_function) {
    CHECK(st_heur_ceil_log2(0) == 0 && st_heur_ceil_log2(1) == 0 && st_heur_ceil_log2(2) == 1);
    CHECK(st_heur_ceil_log2(3) == 2 && st_heur_ceil_log2(1024) == 10 && st_heur_ceil_log2(1025) == 11);
    CHECK(st_heur_ceil_log2(INT64_MAX) == 63);
    st_heur_bucket b = st_heur_bucket_of(true, 65536, 1000);
    CHECK(b.sg == 1 && b.lc == 16 && b.lk == 10);
}

/* ---------------------------------------------------------------- property test */

typedef struct tnode {
    int kind; /* 0 num, 1 var, 2 unary, 3 binary, 4 builtin */
    int op;
    double num;
    struct tnode *a[3];
} tnode;

static uint64_t g_rng;
static uint32_t rnd(uint32_t n) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g_rng >> 33) % n;
}

static const char *const bin_txt[] = {"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
static const int bin_pri[] = {1, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 6};
static const char *const fn_txt[] = {"sel", "min", "max", "clamp", "log2", "pow2", "floor", "ceil", "round"};
static const int fn_arity[] = {3, 2, 2, 3, 1, 1, 1, 1, 1};
static const char *const var_txt[] = {"r", "c", "k", "sg"};

static tnode *gen(tnode *pool, int *used, int depth) {
    tnode *n = &pool[(*used)++];
    memset(n, 0, sizeof *n);
    uint32_t pick = depth <= 0 ? rnd(2) : rnd(10);
    if (pick == 0) {
        n->kind = 0;
        n->num = rnd(4) == 0 ? (double)rnd(40) / 4.0 : (double)rnd(9);
    } else if (pick == 1) {
        n->kind = 1;
        n->op = (int)rnd(4);
    } else if (pick <= 3) {
        n->kind = 2;
        n->op = (int)rnd(2);
        n->a[0] = gen(pool, used, depth - 1);
    } else if (pick <= 7) {
        n->kind = 3;
        n->op = (int)rnd(13);
        n->a[0] = gen(pool, used, depth - 1);
        n->a[1] = gen(pool, used, depth - 1);
    } else {
        n->kind = 4;
        n->op = (int)rnd(9);
        for (int i = 0; i < fn_arity[n->op]; i++) n->a[i] = gen(pool, used, depth - 1);
    }
    return n;
}

static int prio(const tnode *n) { return n->kind == 3 ? bin_pri[n->op] : n->kind == 2 ? 7 : 8; }

/* Prints with the fewest parentheses the precedence rules allow. */
static void print_t(const tnode *n, char *buf, size_t cap, size_t *o) {
    char tmp[64];
    switch (n->kind) {
    case 0: snprintf(tmp, sizeof tmp, "%g", n->num); break;
    case 1: snprintf(tmp, sizeof tmp, "%s", var_txt[n->op]); break;
    default: tmp[0] = '\0';
    }
    if (n->kind <= 1) {
        *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, "%s", tmp);
        return;
    }
    if (n->kind == 2) {
        *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, "%s", n->op ? "!" : "-");
        bool par = prio(n->a[0]) < 7;
        if (par) *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, "(");
        print_t(n->a[0], buf, cap, o);
        if (par) *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, ")");
        return;
    }
    if (n->kind == 3) {
        int p = bin_pri[n->op];
        bool pl = prio(n->a[0]) < p, pr = prio(n->a[1]) <= p;
        if (pl) *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, "(");
        print_t(n->a[0], buf, cap, o);
        *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, "%s%s ", pl ? ")" : "", "");
        *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, "%s %s", bin_txt[n->op], pr ? "(" : "");
        print_t(n->a[1], buf, cap, o);
        if (pr) *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, ")");
        return;
    }
    *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, "%s(", fn_txt[n->op]);
    for (int i = 0; i < fn_arity[n->op]; i++) {
        if (i) *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, ", ");
        print_t(n->a[i], buf, cap, o);
    }
    *o += (size_t)snprintf(buf + *o, cap > *o ? cap - *o : 0, ")");
}

/* The reference semantics, written independently of eval.c. *err on a runtime error. */
static double ref(const tnode *n, const double *vars, bool *err) {
    if (*err) return 0;
    double x, y;
    switch (n->kind) {
    case 0: return n->num;
    case 1: return vars[n->op];
    case 2: x = ref(n->a[0], vars, err); return n->op ? (x == 0 ? 1 : 0) : -x;
    case 3:
        x = ref(n->a[0], vars, err);
        if (n->op == 0) return x != 0 ? 1 : (ref(n->a[1], vars, err) != 0 ? 1 : 0);
        if (n->op == 1) return x == 0 ? 0 : (ref(n->a[1], vars, err) != 0 ? 1 : 0);
        y = ref(n->a[1], vars, err);
        switch (n->op) {
        case 2: return x == y ? 1 : 0;
        case 3: return x != y ? 1 : 0;
        case 4: return x < y ? 1 : 0;
        case 5: return x <= y ? 1 : 0;
        case 6: return x > y ? 1 : 0;
        case 7: return x >= y ? 1 : 0;
        case 8: return x + y;
        case 9: return x - y;
        case 10: return x * y;
        case 11: return y == 0 ? (*err = true, 0) : x / y;
        default: return y == 0 ? (*err = true, 0) : fmod(x, y);
        }
    default: break;
    }
    if (n->op == 0) return ref(n->a[ref(n->a[0], vars, err) != 0 ? 1 : 2], vars, err);
    double a[3];
    for (int i = 0; i < fn_arity[n->op]; i++) a[i] = ref(n->a[i], vars, err);
    switch (n->op) {
    case 1: return a[0] <= a[1] ? a[0] : a[1];
    case 2: return a[0] >= a[1] ? a[0] : a[1];
    case 3: return a[0] < a[1] ? a[1] : (a[0] > a[2] ? a[2] : a[0]);
    case 4: return a[0] > 0 ? log2(a[0]) : (*err = true, 0);
    case 5: {
        if (!(a[0] <= 4611686018427387904.0)) return *err = true, 0;
        double p = 1;
        while (p < a[0]) p += p;
        return p;
    }
    case 6: return floor(a[0]);
    case 7: return ceil(a[0]);
    default: return round(a[0]);
    }
}

static bool same(double a, double b) { return a == b || (a != a && b != b); }

TEST(property_random_expressions_match_reference) {
    g_rng = tl_seed() | 1;
    static tnode pool[4096];
    static char text[65536];
    int mismatches = 0, n_err = 0, n_val = 0;
    for (int iter = 0; iter < 3000 && mismatches < 5; iter++) {
        int used = 0;
        tnode *t = gen(pool, &used, 1 + (int)rnd(6));
        size_t o = 0;
        print_t(t, text, sizeof text, &o);
        double vars[4] = {(double)rnd(5), (double)rnd(70000), (double)rnd(300), (double)rnd(2)};
        bool err = false;
        double want = ref(t, vars, &err), got = 0;
        char msg[HK_DIAG_MAX];
        hk_outcome r = eval_expr(text, vars[0], vars[1], vars[2], (int)vars[3], &got, msg, sizeof msg);
        n_err += err;
        n_val += !err;
        bool ok = err ? (r == HK_ERROR && strstr(msg, "near") != NULL) : (r == HK_VALUE && same(got, want));
        if (!ok) {
            mismatches++;
            CHECK_MSG(0, "expr '%s' r=%g c=%g k=%g sg=%g: engine %s %.17g (%s), reference %s %.17g", text, vars[0],
                      vars[1], vars[2], vars[3], r == HK_VALUE ? "value" : "error", got, r == HK_VALUE ? "" : msg,
                      err ? "error" : "value", want);
        }
    }
    CHECK_MSG(n_err > 20 && n_val > 2000, "errors %d, values %d: both paths must be exercised", n_err, n_val);
}
