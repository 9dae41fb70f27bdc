/* parse.c — the SpiralK parser: recursive descent with a precedence table for binary
 * operators (Lua's lparser.c model), name resolution, and static bounds.
 *
 * Grammar (docs/spiralk.md):
 *   program   := { stmt [';' | line break] }
 *   stmt      := '[' NAME ']' | field ':' expr | 'soft' '(' field ',' expr ',' expr ',' expr ')'
 *              | 'def' NAME '(' [NAME {',' NAME}] ')' ':' expr
 *   expr      := unary-op expr | simple { binop expr }   (precedence climbing)
 *   simple    := NUMBER | 'true' | 'false' | NAME | NAME '(' [expr {',' expr}] ')' | '(' expr ')'
 *
 * Invariants: the first error stops the parse (one diagnostic, plus a note for an
 * unclosed bracket); a def may only call defs defined before it, so recursion is
 * impossible by construction and reported when attempted; every statement's
 * evaluation depth and cost are bounded statically (HK_MAX_EVAL_DEPTH, HK_MAX_STEPS).
 */
#include "heur/heur.h"

#include <stdarg.h>

#define NONE UINT32_MAX

typedef struct parser {
    hk_prog *p;
    hk_lexer lx;
    hk_token tok;
    char *diag;
    size_t cap;
    bool failed;
    int depth;
    int kind;
    bool allow_sections;
    int32_t cur_def; /* def being parsed, -1 outside */
    uint32_t cur_def_pos, cur_def_len;
    uint32_t param_pos[HK_MAX_PARAMS], param_len[HK_MAX_PARAMS];
    int nparams;
    double total_cost;
} parser;

static const char *const builtin_names[HK_NBUILTINS] = {"sel",   "min",  "max",   "clamp", "log2",
                                                        "pow2", "floor", "ceil", "round"};
static const uint8_t builtin_arity[HK_NBUILTINS] = {3, 2, 2, 3, 1, 1, 1, 1, 1};

/* ---------------------------------------------------------------- positions, messages */

void hk_linecol(const hk_prog *p, uint32_t pos, uint32_t *line, uint32_t *col) {
    uint32_t l = 1, c = 1;
    for (uint32_t i = 0; i < pos && i < p->len; i++) {
        if (p->text[i] == '\n') l++, c = 1;
        else c++;
    }
    *line = l;
    *col = c;
}

static void vformat_at(const hk_prog *p, uint32_t pos, char *buf, size_t cap, const char *fmt, va_list ap) {
    if (!cap) return;
    uint32_t line, col;
    hk_linecol(p, pos, &line, &col);
    char msg[512], near[160];
    vsnprintf(msg, sizeof msg, fmt, ap);
    hk_token_text(p->text, p->len, pos, near, sizeof near);
    snprintf(buf, cap, "%s:%u:%u: %s near '%s'", p->source, line, col, msg, near);
}

void hk_format_at(const hk_prog *p, uint32_t pos, char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vformat_at(p, pos, buf, cap, fmt, ap);
    va_end(ap);
}

static void perr(parser *ps, uint32_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(parser *ps, uint32_t pos, const char *fmt, ...) {
    if (ps->failed) return;
    ps->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vformat_at(ps->p, pos, ps->diag, ps->cap, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- storage */

static bool grow(parser *ps, void **arr, uint32_t *cap, uint32_t need, size_t el, uint32_t limit, const char *what) {
    if (need <= *cap) return true;
    if (need > limit) {
        perr(ps, ps->tok.pos, "too many %s (limit %u)", what, limit);
        return false;
    }
    uint32_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap = ncap > limit / 2 ? limit : ncap * 2;
    void *n = st_malloc((size_t)ncap * el);
    if (!n) {
        ps->failed = true;
        if (ps->cap) ps->diag[0] = '\0'; /* out of memory: the thread error says so */
        return false;
    }
    if (*arr) memcpy(n, *arr, (size_t)*cap * el);
    st_free(*arr);
    *arr = n;
    *cap = ncap;
    return true;
}

static uint32_t new_node(parser *ps, hk_op op, uint32_t pos) {
    hk_prog *p = ps->p;
    if (ps->failed || !grow(ps, (void **)&p->nodes, &p->cap_nodes, p->nnodes + 1, sizeof(hk_node), HK_MAX_NODES,
                            "expression nodes"))
        return NONE;
    hk_node *n = &p->nodes[p->nnodes];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->pos = pos;
    n->a = n->b = NONE;
    n->height = 1;
    n->cost = 1;
    return p->nnodes++;
}

/* Accounts for child c in node n's height and cost. */
static void add_child(parser *ps, uint32_t n, uint32_t c) {
    hk_node *nd = &ps->p->nodes[n], *cd = &ps->p->nodes[c];
    if (cd->height + 1 > nd->height) nd->height = cd->height + 1;
    double cost = (double)nd->cost + (double)cd->cost;
    nd->cost = cost > 1e30 ? 1e30f : (float)cost;
}

/* ---------------------------------------------------------------- tokens */

static void next(parser *ps) {
    hk_lex_next(&ps->lx, &ps->tok);
    if (ps->tok.t == HK_T_ERROR) perr(ps, ps->tok.pos, "%s", ps->tok.err);
}

static bool tok_is(const parser *ps, const char *s) {
    return ps->tok.len == strlen(s) && memcmp(ps->p->text + ps->tok.pos, s, ps->tok.len) == 0;
}

static bool expect(parser *ps, hk_tok t, const char *what) {
    if (ps->failed) return false;
    if (ps->tok.t != t) {
        perr(ps, ps->tok.pos, "expected %s", what);
        return false;
    }
    next(ps);
    return !ps->failed;
}

/* The closing bracket of one opened at open_pos, with a note pointing at the opener. */
static bool expect_close(parser *ps, hk_tok t, char close, char open, uint32_t open_pos) {
    if (ps->failed) return false;
    if (ps->tok.t == t) {
        next(ps);
        return !ps->failed;
    }
    perr(ps, ps->tok.pos, "expected '%c'", close);
    size_t used = strlen(ps->diag);
    if (used + 1 < ps->cap) {
        uint32_t line, col;
        hk_linecol(ps->p, open_pos, &line, &col);
        snprintf(ps->diag + used, ps->cap - used, "\n%s:%u:%u: note: unclosed '%c' opened here", ps->p->source, line,
                 col, open);
    }
    return false;
}

/* ---------------------------------------------------------------- expressions */

static uint32_t subexpr(parser *ps, int limit);
static uint32_t expr(parser *ps) { return subexpr(ps, 0); }

static int binop(hk_tok t, hk_op *op) {
    switch (t) {
    case HK_T_OR: *op = HK_OR; return 1;
    case HK_T_AND: *op = HK_AND; return 2;
    case HK_T_EQ: *op = HK_EQ; return 3;
    case HK_T_NE: *op = HK_NE; return 3;
    case HK_T_LT: *op = HK_LT; return 4;
    case HK_T_LE: *op = HK_LE; return 4;
    case HK_T_GT: *op = HK_GT; return 4;
    case HK_T_GE: *op = HK_GE; return 4;
    case HK_T_PLUS: *op = HK_ADD; return 5;
    case HK_T_MINUS: *op = HK_SUB; return 5;
    case HK_T_STAR: *op = HK_MUL; return 6;
    case HK_T_SLASH: *op = HK_DIV; return 6;
    case HK_T_PERCENT: *op = HK_MOD; return 6;
    default: return 0;
    }
}
#define UNARY_PRIORITY 7

static int find_def(const parser *ps, uint32_t pos, uint32_t len) {
    for (uint32_t i = 0; i < ps->p->ndefs; i++) {
        const hk_def *d = &ps->p->defs[i];
        if (d->name_len == len && memcmp(ps->p->text + d->name_pos, ps->p->text + pos, len) == 0) return (int)i;
    }
    return -1;
}
static int find_builtin(const char *s, uint32_t len) {
    for (int i = 0; i < HK_NBUILTINS; i++)
        if (strlen(builtin_names[i]) == len && memcmp(builtin_names[i], s, len) == 0) return i;
    return -1;
}
static int find_var(const char *s, uint32_t len) {
    for (int i = 0; i < HK_NVARS; i++)
        if (strlen(hk_var_names[i]) == len && memcmp(hk_var_names[i], s, len) == 0) return i;
    return -1;
}

static uint32_t variable(parser *ps, uint32_t pos, uint32_t len) {
    const char *s = ps->p->text + pos;
    for (int i = 0; i < ps->nparams; i++)
        if (ps->param_len[i] == len && memcmp(ps->p->text + ps->param_pos[i], s, len) == 0) {
            uint32_t n = new_node(ps, HK_PARAM, pos);
            if (n != NONE) ps->p->nodes[n].aux = (uint8_t)i;
            return n;
        }
    int v = find_var(s, len);
    if (v >= 0) {
        uint32_t n = new_node(ps, HK_VAR, pos);
        if (n != NONE) ps->p->nodes[n].aux = (uint8_t)v;
        return n;
    }
    if (find_builtin(s, len) >= 0 || find_def(ps, pos, len) >= 0)
        perr(ps, pos, "'%.*s' is a function: call it as %.*s(...)", (int)len, s, (int)len, s);
    else
        perr(ps, pos, "unknown variable '%.*s' (variables: r, c, k, sg, sgsize, maxwg, smem)", (int)len, s);
    return NONE;
}

/* Resolves the callee first (so an unknown name is reported at once), then the args. */
static uint32_t call(parser *ps, uint32_t pos, uint32_t len) {
    const char *s = ps->p->text + pos;
    int b = find_builtin(s, len), d = b >= 0 ? -1 : find_def(ps, pos, len);
    if (b < 0 && d < 0) {
        if (ps->cur_def >= 0 && len == ps->cur_def_len && !memcmp(ps->p->text + ps->cur_def_pos, s, len))
            perr(ps, pos, "recursive call to '%.*s': a def cannot call itself", (int)len, s);
        else
            perr(ps, pos, "unknown function '%.*s'", (int)len, s);
        return NONE;
    }
    uint32_t open = ps->tok.pos, args[HK_MAX_PARAMS];
    int nargs = 0;
    next(ps); /* '(' */
    if (ps->tok.t != HK_T_RPAREN) {
        for (;;) {
            if (ps->failed) return NONE;
            if (nargs == HK_MAX_PARAMS) {
                perr(ps, ps->tok.pos, "too many arguments (limit %d)", HK_MAX_PARAMS);
                return NONE;
            }
            args[nargs++] = expr(ps);
            if (ps->failed || ps->tok.t != HK_T_COMMA) break;
            next(ps);
        }
    }
    if (!expect_close(ps, HK_T_RPAREN, ')', '(', open)) return NONE;
    int want = b >= 0 ? builtin_arity[b] : ps->p->defs[d].nparams;
    if (nargs != want) {
        perr(ps, pos, "wrong number of arguments to '%.*s': expected %d, got %d", (int)len, s, want, nargs);
        return NONE;
    }
    hk_prog *p = ps->p;
    if (!grow(ps, (void **)&p->args, &p->cap_args, p->nargs + (uint32_t)nargs, sizeof(uint32_t), HK_MAX_NODES,
              "call arguments"))
        return NONE;
    uint32_t n = new_node(ps, b >= 0 ? HK_BUILTIN : HK_CALL, pos);
    if (n == NONE) return NONE;
    hk_node *nd = &p->nodes[n];
    nd->aux = (uint8_t)(b >= 0 ? b : nargs);
    nd->def = (uint16_t)(d >= 0 ? d : 0);
    nd->a = p->nargs;
    nd->b = (uint32_t)nargs;
    for (int i = 0; i < nargs; i++) {
        p->args[p->nargs++] = args[i];
        add_child(ps, n, args[i]);
    }
    if (d >= 0) { /* the body runs once per call, one level deeper */
        const hk_node *body = &p->nodes[p->defs[d].body];
        if (body->height + 1 > nd->height) nd->height = body->height + 1;
        double cost = (double)nd->cost + (double)body->cost;
        nd->cost = cost > 1e30 ? 1e30f : (float)cost;
    }
    return n;
}

static uint32_t simple(parser *ps) {
    if (ps->failed) return NONE;
    hk_token t = ps->tok;
    uint32_t n;
    switch (t.t) {
    case HK_T_NUM:
    case HK_T_TRUE:
    case HK_T_FALSE:
        n = new_node(ps, HK_NUM, t.pos);
        if (n != NONE) ps->p->nodes[n].num = t.t == HK_T_NUM ? t.num : t.t == HK_T_TRUE ? 1.0 : 0.0;
        next(ps);
        return n;
    case HK_T_LPAREN:
        next(ps);
        n = expr(ps);
        return expect_close(ps, HK_T_RPAREN, ')', '(', t.pos) ? n : NONE;
    case HK_T_NAME:
        next(ps);
        if (ps->failed) return NONE;
        return ps->tok.t == HK_T_LPAREN ? call(ps, t.pos, t.len) : variable(ps, t.pos, t.len);
    default:
        perr(ps, t.pos, "expected an expression");
        return NONE;
    }
}

static uint32_t subexpr(parser *ps, int limit) {
    if (ps->failed) return NONE;
    if (++ps->depth > HK_MAX_DEPTH) {
        perr(ps, ps->tok.pos, "expression nests too deeply (limit %d)", HK_MAX_DEPTH);
        return NONE;
    }
    uint32_t e;
    if (ps->tok.t == HK_T_MINUS || ps->tok.t == HK_T_NOT) {
        hk_op op = ps->tok.t == HK_T_MINUS ? HK_NEG : HK_NOT;
        uint32_t pos = ps->tok.pos;
        next(ps);
        uint32_t a = subexpr(ps, UNARY_PRIORITY);
        e = a == NONE ? NONE : new_node(ps, op, pos);
        if (e != NONE) {
            ps->p->nodes[e].a = a;
            add_child(ps, e, a);
        }
    } else {
        e = simple(ps);
    }
    hk_op op = HK_ADD;
    int pri;
    while (!ps->failed && (pri = binop(ps->tok.t, &op)) > limit) {
        uint32_t pos = ps->tok.pos;
        next(ps);
        uint32_t r = subexpr(ps, pri);
        uint32_t n = r == NONE ? NONE : new_node(ps, op, pos);
        if (n == NONE) break;
        ps->p->nodes[n].a = e;
        ps->p->nodes[n].b = r;
        add_child(ps, n, e);
        add_child(ps, n, r);
        e = n;
    }
    ps->depth--;
    return ps->failed ? NONE : e;
}

/* ---------------------------------------------------------------- statements */

static void fields_list(int kind, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < hk_kinds[kind].nfields && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", hk_kinds[kind].fields[i].name);
}

/* The field named by the current token (a NAME), or -1 with an error. */
static int field_name(parser *ps) {
    if (ps->tok.t != HK_T_NAME) {
        perr(ps, ps->tok.pos, "expected a field name");
        return -1;
    }
    const char *s = ps->p->text + ps->tok.pos;
    uint32_t len = ps->tok.len;
    int f = hk_field_index(ps->kind, s, len);
    if (f >= 0) return f;
    char list[128];
    fields_list(ps->kind, list, sizeof list);
    if (hk_field_index(1 - ps->kind, s, len) >= 0)
        perr(ps, ps->tok.pos, "'%.*s' is not a %s field (%s fields: %s)", (int)len, s, hk_kinds[ps->kind].name,
             hk_kinds[ps->kind].name, list);
    else
        perr(ps, ps->tok.pos, "unknown field '%.*s' (%s fields: %s)", (int)len, s, hk_kinds[ps->kind].name, list);
    return -1;
}

/* Static bounds of one statement's expressions. */
static bool check_bounds(parser *ps, uint32_t pos, const uint32_t *e, int ne) {
    double cost = 0;
    for (int i = 0; i < ne; i++) {
        const hk_node *n = &ps->p->nodes[e[i]];
        if (n->height > HK_MAX_EVAL_DEPTH) {
            perr(ps, pos, "expression too deep to evaluate (%u levels with calls; limit %d)", n->height,
                 HK_MAX_EVAL_DEPTH);
            return false;
        }
        cost += n->cost;
    }
    ps->total_cost += cost;
    if (cost > (double)HK_MAX_STEPS || ps->total_cost > HK_MAX_TOTAL_COST) {
        perr(ps, pos, "rules too costly to evaluate (about %.3g node visits; limit %ld per statement, %.0f in all)",
             cost > (double)HK_MAX_STEPS ? cost : ps->total_cost, HK_MAX_STEPS, HK_MAX_TOTAL_COST);
        return false;
    }
    return true;
}

static void add_stmt(parser *ps, hk_st_type type, int field, uint32_t pos, const uint32_t *e, int ne) {
    hk_prog *p = ps->p;
    if (!check_bounds(ps, pos, e, ne)) return;
    if (!grow(ps, (void **)&p->stmts, &p->cap_stmts, p->nstmts + 1, sizeof(hk_stmt), HK_MAX_STMTS, "statements"))
        return;
    hk_stmt *st = &p->stmts[p->nstmts++];
    memset(st, 0, sizeof *st);
    st->type = (uint8_t)type;
    st->kind = (uint8_t)ps->kind;
    st->field = (uint8_t)field;
    st->pos = pos;
    for (int i = 0; i < ne; i++) st->e[i] = e[i];
}

static void stmt_section(parser *ps) {
    uint32_t open = ps->tok.pos;
    if (!ps->allow_sections) {
        perr(ps, open, "section headers are only allowed in rule files");
        return;
    }
    next(ps);
    if (ps->failed) return;
    if (ps->tok.t == HK_T_NAME && tok_is(ps, "topk")) ps->kind = ST_HEUR_TOPK;
    else if (ps->tok.t == HK_T_NAME && tok_is(ps, "midk")) ps->kind = ST_HEUR_MIDK;
    else {
        perr(ps, ps->tok.pos, "unknown section (expected [topk] or [midk])");
        return;
    }
    next(ps);
    expect_close(ps, HK_T_RBRACKET, ']', '[', open);
}

static void stmt_field(parser *ps) {
    uint32_t pos = ps->tok.pos;
    int f = field_name(ps);
    if (f < 0) return;
    next(ps);
    if (!expect(ps, HK_T_COLON, "':' after the field name")) return;
    uint32_t e = expr(ps);
    if (!ps->failed) add_stmt(ps, HK_ST_HARD, f, pos, &e, 1);
}

static void stmt_soft(parser *ps) {
    next(ps); /* soft */
    uint32_t open = ps->tok.pos;
    if (!expect(ps, HK_T_LPAREN, "'(' after soft")) return;
    uint32_t pos = ps->tok.pos;
    int f = field_name(ps);
    if (f < 0) return;
    next(ps);
    uint32_t e[3];
    for (int i = 0; i < 3; i++) {
        if (!expect(ps, HK_T_COMMA, "',' (soft takes 4 arguments: soft(field, value, weight, cond))")) return;
        e[i] = expr(ps);
    }
    if (!ps->failed && ps->tok.t == HK_T_COMMA) {
        perr(ps, ps->tok.pos, "soft takes 4 arguments: soft(field, value, weight, cond)");
        return;
    }
    if (!expect_close(ps, HK_T_RPAREN, ')', '(', open)) return;
    uint32_t order[3] = {e[0], e[1], e[2]};
    add_stmt(ps, HK_ST_SOFT, f, pos, order, 3);
}

static bool def_name_ok(parser *ps, uint32_t pos, uint32_t len) {
    const char *s = ps->p->text + pos;
    if (find_builtin(s, len) >= 0) perr(ps, pos, "'%.*s' is a built-in function", (int)len, s);
    else if (find_var(s, len) >= 0) perr(ps, pos, "'%.*s' is a variable", (int)len, s);
    else if (find_def(ps, pos, len) >= 0) perr(ps, pos, "redefinition of '%.*s'", (int)len, s);
    return !ps->failed;
}

static void def_params(parser *ps) {
    uint32_t open = ps->tok.pos;
    if (!expect(ps, HK_T_LPAREN, "'(' after the def's name")) return;
    while (!ps->failed && ps->tok.t == HK_T_NAME) {
        for (int i = 0; i < ps->nparams; i++)
            if (ps->param_len[i] == ps->tok.len &&
                !memcmp(ps->p->text + ps->param_pos[i], ps->p->text + ps->tok.pos, ps->tok.len)) {
                perr(ps, ps->tok.pos, "duplicate parameter");
                return;
            }
        if (ps->nparams == HK_MAX_PARAMS) {
            perr(ps, ps->tok.pos, "too many parameters (limit %d)", HK_MAX_PARAMS);
            return;
        }
        ps->param_pos[ps->nparams] = ps->tok.pos;
        ps->param_len[ps->nparams++] = ps->tok.len;
        next(ps);
        if (ps->tok.t != HK_T_COMMA) break;
        next(ps);
        if (!ps->failed && ps->tok.t != HK_T_NAME) perr(ps, ps->tok.pos, "expected a parameter name");
    }
    expect_close(ps, HK_T_RPAREN, ')', '(', open);
}

static void stmt_def(parser *ps) {
    next(ps); /* def */
    if (ps->failed) return;
    if (ps->tok.t != HK_T_NAME) {
        perr(ps, ps->tok.pos, "expected the def's name");
        return;
    }
    uint32_t pos = ps->tok.pos, len = ps->tok.len;
    if (!def_name_ok(ps, pos, len)) return;
    next(ps);
    ps->cur_def = (int32_t)ps->p->ndefs;
    ps->cur_def_pos = pos;
    ps->cur_def_len = len;
    ps->nparams = 0;
    def_params(ps);
    if (expect(ps, HK_T_COLON, "':' before the def's body")) {
        uint32_t body = expr(ps);
        hk_prog *p = ps->p;
        if (!ps->failed && check_bounds(ps, pos, &body, 1) &&
            grow(ps, (void **)&p->defs, &p->cap_defs, p->ndefs + 1, sizeof(hk_def), HK_MAX_DEFS, "defs")) {
            ps->total_cost -= p->nodes[body].cost; /* counted where it is called */
            p->defs[p->ndefs++] = (hk_def){pos, len, body, (uint8_t)ps->nparams};
        }
    }
    ps->cur_def = -1;
    ps->nparams = 0;
}

static void statement(parser *ps) {
    switch (ps->tok.t) {
    case HK_T_LBRACKET: stmt_section(ps); break;
    case HK_T_SOFT: stmt_soft(ps); break;
    case HK_T_DEF: stmt_def(ps); break;
    case HK_T_NAME: stmt_field(ps); break;
    default: perr(ps, ps->tok.pos, "expected a statement (field: expr, soft(...) or def)");
    }
}

static void program(parser *ps) {
    next(ps);
    while (!ps->failed && ps->tok.t != HK_T_EOF) {
        if (ps->tok.t == HK_T_SEMI) {
            next(ps);
            continue;
        }
        bool header = ps->tok.t == HK_T_LBRACKET;
        statement(ps);
        if (ps->failed || header || ps->tok.t == HK_T_EOF || ps->tok.t == HK_T_SEMI || ps->tok.nl_before) continue;
        perr(ps, ps->tok.pos, "expected ';' or a line break after the statement");
    }
}

/* ---------------------------------------------------------------- the program */

/* Last hard statement and soft statements per (kind, field). */
static bool index_statements(hk_prog *p) {
    uint32_t count[HK_NKINDS][ST_HEUR_MAX_FIELDS] = {{0}};
    for (int k = 0; k < HK_NKINDS; k++)
        for (int f = 0; f < ST_HEUR_MAX_FIELDS; f++) p->hard[k][f] = NONE;
    uint32_t nsoft = 0;
    for (uint32_t i = 0; i < p->nstmts; i++) {
        const hk_stmt *s = &p->stmts[i];
        if (s->type == HK_ST_HARD) p->hard[s->kind][s->field] = i;
        else count[s->kind][s->field]++, nsoft++;
    }
    p->soft_idx = st_malloc((nsoft ? nsoft : 1) * sizeof(uint32_t));
    if (!p->soft_idx) return false;
    uint32_t at = 0, fill[HK_NKINDS][ST_HEUR_MAX_FIELDS];
    for (int k = 0; k < HK_NKINDS; k++) {
        for (int f = 0; f < ST_HEUR_MAX_FIELDS; f++) {
            p->soft_start[k][f] = fill[k][f] = at;
            at += count[k][f];
        }
        p->soft_start[k][ST_HEUR_MAX_FIELDS] = at;
    }
    for (uint32_t i = 0; i < p->nstmts; i++) {
        const hk_stmt *s = &p->stmts[i];
        if (s->type == HK_ST_SOFT) p->soft_idx[fill[s->kind][s->field]++] = i;
    }
    return true;
}

void hk_prog_free(hk_prog *p) {
    if (!p) return;
    st_free(p->source);
    st_free(p->text);
    st_free(p->nodes);
    st_free(p->args);
    st_free(p->defs);
    st_free(p->stmts);
    st_free(p->soft_idx);
    st_free(p);
}

hk_prog *hk_parse(const char *source, const char *text, size_t len, bool allow_sections, int kind, char *diag,
                  size_t cap) {
    if (cap) diag[0] = '\0';
    hk_prog *p = st_calloc(1, sizeof *p);
    if (!p) return NULL;
    size_t tlen = len > HK_MAX_TEXT ? 0 : len;
    p->source = st_strdup(source);
    p->text = st_malloc(tlen + 1);
    if (!p->source || !p->text) {
        hk_prog_free(p);
        return NULL;
    }
    memcpy(p->text, text, tlen);
    p->text[tlen] = '\0';
    p->len = (uint32_t)tlen;
    if (len > HK_MAX_TEXT) {
        snprintf(diag, cap, "%s:1:1: rule text too large (%zu bytes; limit %u) near '<start>'", source, len,
                 HK_MAX_TEXT);
        hk_prog_free(p);
        return NULL;
    }
    parser ps = {.p = p, .lx = {p->text, p->len, 0}, .diag = diag, .cap = cap, .kind = kind,
                 .allow_sections = allow_sections, .cur_def = -1};
    program(&ps);
    if (ps.failed || !index_statements(p)) {
        hk_prog_free(p);
        return NULL;
    }
    return p;
}
