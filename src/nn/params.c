/* params.c — parameter lists (named tensors) with save/load as one .npy per
 * parameter in a folder.
 *
 * Invariants: the list owns one reference to each tensor; names are unique, 1..127
 * characters of [A-Za-z0-9_.-] and never "." or "..", so `<dir>/<name>.npy` is a plain
 * file inside dir. Load writes into the existing tensors in place (no autograd).
 */
#include "../autograd/ag_internal.h"

#include <errno.h>
#include <sys/stat.h>

#define NAME_MAX_LEN 127

typedef struct param {
    char *name;
    st_tensor *t;
} param;

struct st_params {
    param *v;
    int n, cap;
};

st_params *st_params_new(void) { return st_calloc(1, sizeof(st_params)); }

void st_params_free(st_params *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        st_free(p->v[i].name);
        st_release(p->v[i].t);
    }
    st_free(p->v);
    st_free(p);
}

static bool name_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN || !strcmp(s, ".") || !strcmp(s, "..")) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

st_status st_params_add(st_params *p, const char *name, st_tensor *t) {
    if (!p || !name || !t) return st_err(ST_E_INVALID_ARG, "params_add: NULL argument");
    if (!name_ok(name))
        return st_err(ST_E_INVALID_ARG, "params_add: name '%.200s' must be 1..%d characters of [A-Za-z0-9_.-]", name,
                      NAME_MAX_LEN);
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->v[i].name, name)) return st_err(ST_E_INVALID_ARG, "params_add: name '%s' is already used", name);
    st_status s = st_set_requires_grad(t, true);
    if (s != ST_OK) return st_err_prefix("params_add '%s'", name);
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 8;
        param *nv = st_malloc((size_t)cap * sizeof *nv);
        if (!nv) return st_last_status();
        if (p->n) memcpy(nv, p->v, (size_t)p->n * sizeof *nv);
        st_free(p->v);
        p->v = nv;
        p->cap = cap;
    }
    char *nm = st_strdup(name);
    if (!nm) return st_last_status();
    p->v[p->n].name = nm;
    p->v[p->n].t = st_retain(t);
    p->n++;
    return ST_OK;
}

int st_params_count(const st_params *p) { return p ? p->n : 0; }
st_tensor *st_params_at(const st_params *p, int i) { return p && i >= 0 && i < p->n ? p->v[i].t : NULL; }
const char *st_params_name(const st_params *p, int i) { return p && i >= 0 && i < p->n ? p->v[i].name : NULL; }

int64_t st_params_numel(const st_params *p) {
    int64_t n = 0;
    for (int i = 0; p && i < p->n; i++) n += st_numel(p->v[i].t);
    return n;
}

void st_params_zero_grad(st_params *p) {
    for (int i = 0; p && i < p->n; i++) st_grad_clear(p->v[i].t);
}

static st_status path_of(char *buf, size_t cap, const char *dir, const char *name) {
    int n = snprintf(buf, cap, "%s/%s.npy", dir, name);
    if (n < 0 || (size_t)n >= cap) return st_err(ST_E_INVALID_ARG, "params: path '%s/%s.npy' is too long", dir, name);
    return ST_OK;
}

st_status st_params_save(const st_params *p, const char *dir) {
    if (!p || !dir || !*dir) return st_err(ST_E_INVALID_ARG, "params_save: NULL or empty argument");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return st_err(ST_E_IO, "params_save: cannot create folder '%s': %s", dir, strerror(errno));
    for (int i = 0; i < p->n; i++) {
        char path[4096];
        st_status s = path_of(path, sizeof path, dir, p->v[i].name);
        if (s == ST_OK) s = st_npy_save(path, p->v[i].t);
        if (s != ST_OK) return st_err_prefix("params_save '%s'", p->v[i].name);
    }
    return ST_OK;
}

static st_status load_one(st_tensor *dst, const char *path, const char *name) {
    st_tensor *t = st_npy_load(path);
    if (!t) return st_err_prefix("params_load '%s'", name);
    st_status s = ST_OK;
    if (t->ndim != dst->ndim || memcmp(t->shape, dst->shape, (size_t)t->ndim * sizeof(int64_t)) != 0)
        s = st_err(ST_E_SHAPE, "params_load '%s': %s holds %s, the parameter is %s", name, path, st_tdesc(t),
                   st_tdesc2(dst));
    st_tensor *m = NULL;
    if (s == ST_OK) {
        m = st_to_device(t, st_tensor_device(dst));
        s = m ? st_ag_assign(dst, m) : st_last_status();
    }
    st_release(m);
    st_release(t);
    return s;
}

st_status st_params_load(st_params *p, const char *dir) {
    if (!p || !dir) return st_err(ST_E_INVALID_ARG, "params_load: NULL argument");
    bool prev = st_set_grad_enabled(false);
    st_status s = ST_OK;
    for (int i = 0; s == ST_OK && i < p->n; i++) {
        char path[4096];
        s = path_of(path, sizeof path, dir, p->v[i].name);
        if (s == ST_OK) s = load_one(p->v[i].t, path, p->v[i].name);
    }
    st_set_grad_enabled(prev);
    return s;
}
