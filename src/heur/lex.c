/* lex.c — the SpiralK lexer: one token at a time (the parser keeps one of lookahead),
 * Lua's llex.c model. Numbers are converted without the C locale (so "1.5" means
 * one and a half whatever LC_NUMERIC says).
 *
 * Invariants: never reads past text[len]; every token has pos/len inside the text;
 * errors come back as HK_T_ERROR tokens with a static message.
 */
#include "heur/heur.h"

#include <math.h>

static bool is_digit(int ch) { return ch >= '0' && ch <= '9'; }
static bool is_alpha(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
static bool is_alnum(int ch) { return is_alpha(ch) || is_digit(ch); }

static int peek(const hk_lexer *lx, uint32_t off) {
    return lx->at + off < lx->len ? (unsigned char)lx->text[lx->at + off] : -1;
}

/* Skips blanks and comments; returns whether a line break was crossed. */
static bool skip_space(hk_lexer *lx) {
    bool nl = false;
    for (;;) {
        int ch = peek(lx, 0);
        if (ch == '\n') {
            nl = true;
            lx->at++;
        } else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') {
            lx->at++;
        } else if (ch == '#') {
            while (peek(lx, 0) != -1 && peek(lx, 0) != '\n') lx->at++;
        } else {
            return nl;
        }
    }
}

/* Decimal literal: digits [. digits] [e [+-] digits]. Exact when the significant digits
 * fit 2^53 and the decimal exponent is within +-22 (the usual literals). */
static void lex_number(hk_lexer *lx, hk_token *tok) {
    uint64_t mant = 0;
    int scale = 0;
    bool frac = false;
    for (;;) {
        int ch = peek(lx, 0);
        if (is_digit(ch)) {
            if (mant < 100000000000000000ull) {
                mant = mant * 10 + (uint64_t)(ch - '0');
                if (frac) scale--;
            } else if (!frac) {
                scale++;
            }
            lx->at++;
        } else if (ch == '.' && !frac) {
            frac = true;
            lx->at++;
        } else {
            break;
        }
    }
    int ch = peek(lx, 0);
    if (ch == 'e' || ch == 'E') {
        uint32_t save = lx->at;
        lx->at++;
        int sign = 1;
        if (peek(lx, 0) == '+' || peek(lx, 0) == '-') {
            sign = peek(lx, 0) == '-' ? -1 : 1;
            lx->at++;
        }
        if (!is_digit(peek(lx, 0))) {
            lx->at = save + 1;
            tok->t = HK_T_ERROR;
            tok->err = "malformed number";
            return;
        }
        int e = 0;
        while (is_digit(peek(lx, 0))) {
            if (e < 100000) e = e * 10 + (peek(lx, 0) - '0');
            lx->at++;
        }
        scale += sign * e;
    }
    if (is_alpha(peek(lx, 0)) || peek(lx, 0) == '.') {
        while (is_alnum(peek(lx, 0)) || peek(lx, 0) == '.') lx->at++;
        tok->t = HK_T_ERROR;
        tok->err = "malformed number";
        return;
    }
    double v = (double)mant;
    if (mant == 0) v = 0;
    else if (scale > 400) v = INFINITY;
    else if (scale < -400) v = 0;
    else if (scale >= 0) v *= pow(10.0, scale);
    else if (scale >= -22) v /= pow(10.0, -scale);
    else v = v / 1e22 / pow(10.0, -scale - 22);
    tok->t = HK_T_NUM;
    tok->num = v;
}

static hk_tok keyword(const char *s, uint32_t n) {
    if (n == 4 && !memcmp(s, "true", 4)) return HK_T_TRUE;
    if (n == 5 && !memcmp(s, "false", 5)) return HK_T_FALSE;
    if (n == 4 && !memcmp(s, "soft", 4)) return HK_T_SOFT;
    if (n == 3 && !memcmp(s, "def", 3)) return HK_T_DEF;
    return HK_T_NAME;
}

/* Operators of one or two characters. Returns false for an unknown character. */
static bool lex_operator(hk_lexer *lx, hk_token *tok) {
    int c0 = peek(lx, 0), c1 = peek(lx, 1);
    static const struct {
        char a, b;
        hk_tok t;
    } two[] = {{'|', '|', HK_T_OR}, {'&', '&', HK_T_AND}, {'=', '=', HK_T_EQ},
               {'!', '=', HK_T_NE}, {'<', '=', HK_T_LE},  {'>', '=', HK_T_GE}};
    for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
        if (c0 == two[i].a && c1 == two[i].b) {
            lx->at += 2;
            tok->t = two[i].t;
            return true;
        }
    static const char one[] = "<>+-*/%!()[],;:";
    static const hk_tok onet[] = {HK_T_LT,     HK_T_GT,     HK_T_PLUS,     HK_T_MINUS,    HK_T_STAR,
                                  HK_T_SLASH,  HK_T_PERCENT, HK_T_NOT,     HK_T_LPAREN,   HK_T_RPAREN,
                                  HK_T_LBRACKET, HK_T_RBRACKET, HK_T_COMMA, HK_T_SEMI,    HK_T_COLON};
    for (size_t i = 0; one[i]; i++)
        if (c0 == one[i]) {
            lx->at++;
            tok->t = onet[i];
            return true;
        }
    lx->at++;
    tok->t = HK_T_ERROR;
    if (c0 == '=') tok->err = "'=' is not an operator (use ':' to assign, '==' to compare)";
    else if (c0 == '&') tok->err = "'&' is not an operator (use '&&')";
    else if (c0 == '|') tok->err = "'|' is not an operator (use '||')";
    else tok->err = "unexpected character";
    return false;
}

void hk_lex_next(hk_lexer *lx, hk_token *tok) {
    tok->nl_before = skip_space(lx);
    tok->pos = lx->at;
    tok->num = 0;
    tok->err = NULL;
    int ch = peek(lx, 0);
    if (ch == -1) {
        tok->t = HK_T_EOF;
    } else if (is_digit(ch) || (ch == '.' && is_digit(peek(lx, 1)))) {
        lex_number(lx, tok);
    } else if (is_alpha(ch)) {
        while (is_alnum(peek(lx, 0))) lx->at++;
        tok->t = keyword(lx->text + tok->pos, lx->at - tok->pos);
        if (lx->at - tok->pos > HK_MAX_NAME) {
            tok->t = HK_T_ERROR;
            tok->err = "name too long (limit 64 characters)";
        }
    } else {
        lex_operator(lx, tok);
    }
    tok->len = lx->at - tok->pos;
}

void hk_token_text(const char *text, uint32_t len, uint32_t pos, char *buf, size_t cap) {
    if (cap == 0) return;
    if (pos >= len) {
        snprintf(buf, cap, "<eof>");
        return;
    }
    hk_lexer lx = {text, len, pos};
    hk_token t;
    hk_lex_next(&lx, &t);
    uint32_t n = t.len ? t.len : 1;
    if (t.pos != pos) n = 1, t.pos = pos; /* pos was inside blanks: show one character */
    size_t o = 0;
    for (uint32_t i = 0; i < n && o + 5 < cap; i++) {
        if (i == 32) {
            o += (size_t)snprintf(buf + o, cap - o, "...");
            break;
        }
        unsigned char ch = (unsigned char)text[t.pos + i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\') buf[o++] = (char)ch;
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
    }
    buf[o < cap ? o : cap - 1] = '\0';
}
