/* check.c — `spiral heur check`: rule text diagnostics without running the chain.
 *
 * Beyond the parser's errors (syntax, names, arity, recursion, bounds) it evaluates
 * every constant expression of a statement and reports runtime errors (division by
 * zero, ...) and values the current device limits reject, one diagnostic a line.
 * Invariants: never modifies the chain's state; all output goes to the caller's buffer.
 */
#include "heur/heur.h"

#include <errno.h>

st_status hk_read_file(const char *path, char **buf, size_t *len, char *err, size_t cap) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
        return ST_E_IO;
    }
    size_t want = HK_MAX_TEXT + 1, n = 0, cap_b = 4096;
    char *b = st_malloc(cap_b + 1);
    while (b) {
        if (n == cap_b) {
            size_t ncap = cap_b * 2 > want ? want : cap_b * 2;
            char *nb = st_malloc(ncap + 1);
            if (nb) memcpy(nb, b, n);
            st_free(b);
            b = nb;
            cap_b = ncap;
            if (!b) break;
        }
        size_t got = fread(b + n, 1, cap_b - n, f);
        n += got;
        if (got == 0 || n >= want) break;
    }
    bool bad = b && ferror(f);
    fclose(f);
    if (!b) return ST_E_OOM;
    if (bad) {
        st_free(b);
        snprintf(err, cap, "%s: read error", path);
        return ST_E_IO;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return ST_OK;
}

static void append(char *diag, size_t cap, const char *line) {
    size_t used = strlen(diag);
    if (used + 1 < cap) snprintf(diag + used, cap - used, "%s%s", used ? "\n" : "", line);
}

/* Constant expressions of every statement: runtime errors and rejected values. */
static int check_constants(const hk_prog *p, char *diag, size_t cap) {
    st_heur_limits lim;
    st_heur_get_limits(&lim);
    int errors = 0;
    for (uint32_t i = 0; i < p->nstmts; i++) {
        const hk_stmt *s = &p->stmts[i];
        int ne = s->type == HK_ST_HARD ? 1 : 3;
        for (int j = 0; j < ne; j++) {
            double v;
            char msg[HK_DIAG_MAX], why[256];
            int r = hk_eval_const(p, s->e[j], &v, msg, sizeof msg);
            if (r == 0) continue;
            if (r < 0) {
                append(diag, cap, msg);
                errors++;
                break;
            }
            if (j == 0 && !hk_field_valid(s->kind, s->field, v, &lim, false, why, sizeof why)) {
                hk_format_at(p, s->pos, msg, sizeof msg, "%s", why);
                append(diag, cap, msg);
                errors++;
            }
        }
    }
    return errors;
}

st_status st_heur_check(const char *text, size_t len, const char *source, st_heur_check_mode mode, char *diag,
                        size_t cap) {
    char local[1];
    if (!diag || !cap) diag = local, cap = sizeof local;
    diag[0] = '\0';
    if (!text && len) return st_err(ST_E_INVALID_ARG, "st_heur_check: text is NULL");
    if ((int)mode < 0 || mode > ST_HEUR_CHECK_MIDK) return st_err(ST_E_INVALID_ARG, "st_heur_check: bad mode");
    int kind = mode == ST_HEUR_CHECK_MIDK ? ST_HEUR_MIDK : ST_HEUR_TOPK;
    hk_prog *p = hk_parse(source ? source : "<text>", text ? text : "", len, mode == ST_HEUR_CHECK_FILE, kind, diag,
                          cap);
    if (!p && !diag[0]) return ST_E_OOM;
    if (!p) return st_err(ST_E_FORMAT, "%s", diag);
    int errors = check_constants(p, diag, cap);
    hk_prog_free(p);
    return errors ? st_err(ST_E_FORMAT, "%s", diag) : ST_OK;
}

st_status st_heur_check_file(const char *path, char *diag, size_t cap) {
    if (diag && cap) diag[0] = '\0';
    if (!path) return st_err(ST_E_INVALID_ARG, "st_heur_check_file: path is NULL");
    char *buf, err[512];
    size_t len;
    st_status st = hk_read_file(path, &buf, &len, err, sizeof err);
    if (st == ST_E_IO) return st_err(ST_E_IO, "%s", err);
    if (st != ST_OK) return st_err(st, "st_heur_check_file: out of memory");
    st = st_heur_check(buf, len, path, ST_HEUR_CHECK_FILE, diag, cap);
    st_free(buf);
    return st;
}
