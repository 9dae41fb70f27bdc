/* fields.c — the field table of each kind, built from ST_HEUR_TOPK_FIELDS /
 * ST_HEUR_MIDK_FIELDS (spiraltorch.h), and value validation against device limits.
 *
 * Invariants: field indices follow the X-macro order; a value that passes
 * hk_field_valid() fits the struct member (int32 range, 0/1 for bools).
 */
#include "heur/heur.h"

#include <math.h>
#include <stddef.h>

#define HK_IS_BOOL_BOOL true
#define HK_IS_BOOL_INT false
#define HK_X_TOPK(n, type, mn, mx, chk, fb, hlp) \
    {#n, HK_IS_BOOL_##type, (mn), (mx), (chk), fb, hlp, offsetof(st_heur_choice, n)},
#define HK_X_MIDK(n, type, mn, mx, chk, fb, hlp) \
    {#n, HK_IS_BOOL_##type, (mn), (mx), (chk), fb, hlp, offsetof(st_heur_midk_choice, n)},

static const hk_field topk_fields[] = {ST_HEUR_TOPK_FIELDS(HK_X_TOPK)};
static const hk_field midk_fields[] = {ST_HEUR_MIDK_FIELDS(HK_X_MIDK)};

_Static_assert(sizeof topk_fields / sizeof topk_fields[0] <= ST_HEUR_MAX_FIELDS, "too many topk fields");
_Static_assert(sizeof midk_fields / sizeof midk_fields[0] <= ST_HEUR_MAX_FIELDS, "too many midk fields");

const hk_kind_info hk_kinds[HK_NKINDS] = {
    {"topk", (int)(sizeof topk_fields / sizeof topk_fields[0]), topk_fields, sizeof(st_heur_choice)},
    {"midk", (int)(sizeof midk_fields / sizeof midk_fields[0]), midk_fields, sizeof(st_heur_midk_choice)},
};

const char *const hk_var_names[HK_NVARS] = {"r", "c", "k", "sg", "sgsize", "maxwg", "smem"};

int hk_field_index(int kind, const char *name, size_t len) {
    const hk_kind_info *ki = &hk_kinds[kind];
    for (int i = 0; i < ki->nfields; i++)
        if (strlen(ki->fields[i].name) == len && memcmp(ki->fields[i].name, name, len) == 0) return i;
    return -1;
}

static bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

bool hk_field_valid(int kind, int field, double v, const st_heur_limits *lim, bool sg, char *why, size_t cap) {
    const hk_field *f = &hk_kinds[kind].fields[field];
    if (!isfinite(v) || v != floor(v)) {
        snprintf(why, cap, "value %.17g for '%s' is not an integer", v, f->name);
        return false;
    }
    if (f->is_bool && v != 0 && v != 1) {
        snprintf(why, cap, "'%s' is a flag: the value must be true or false (1 or 0), not %.17g", f->name, v);
        return false;
    }
    if (v < (double)f->min || v > (double)f->max) {
        snprintf(why, cap, "value %.17g for '%s' is out of range [%lld, %lld]", v, f->name, (long long)f->min,
                 (long long)f->max);
        return false;
    }
    int64_t iv = (int64_t)v;
    if ((f->checks & (ST_HEUR_CHK_POW2 | ST_HEUR_CHK_WG)) && !is_pow2(iv)) {
        snprintf(why, cap, "value %lld for '%s' is not a power of two", (long long)iv, f->name);
        return false;
    }
    if ((f->checks & ST_HEUR_CHK_WG) && iv > lim->max_workgroup) {
        snprintf(why, cap, "value %lld for '%s' exceeds the device's max workgroup size %d", (long long)iv, f->name,
                 (int)lim->max_workgroup);
        return false;
    }
    if ((f->checks & ST_HEUR_CHK_WG) && sg && lim->subgroup_size > 0 && iv % lim->subgroup_size != 0) {
        snprintf(why, cap, "value %lld for '%s' is not a multiple of the device's subgroup size %d", (long long)iv,
                 f->name, (int)lim->subgroup_size);
        return false;
    }
    if ((f->checks & ST_HEUR_CHK_SMEM8) && iv * 8 > lim->shared_mem) {
        snprintf(why, cap, "value %lld for '%s' needs %lld bytes of shared memory; the device has %lld", (long long)iv,
                 f->name, (long long)iv * 8, (long long)lim->shared_mem);
        return false;
    }
    return true;
}

void hk_field_store(int kind, int field, void *choice, int32_t v) {
    const hk_field *f = &hk_kinds[kind].fields[field];
    char *p = (char *)choice + f->offset;
    if (f->is_bool) {
        bool b = v != 0;
        memcpy(p, &b, sizeof b);
    } else {
        memcpy(p, &v, sizeof v);
    }
}

int32_t hk_field_load(int kind, int field, const void *choice) {
    const hk_field *f = &hk_kinds[kind].fields[field];
    const char *p = (const char *)choice + f->offset;
    if (f->is_bool) {
        bool b;
        memcpy(&b, p, sizeof b);
        return b ? 1 : 0;
    }
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
