/* status.c — status codes, the thread-local last error, and the op table.
 *
 * The message buffer is per thread; st_err() formats into it and returns the status
 * so that callers can write `return st_err(ST_E_SHAPE, "add: ...")`.
 */
#include "internal.h"

const char *st_version(void) { return "0.1.0"; }

const char *st_status_str(st_status s) {
    switch (s) {
#define ST_X_CASE(code, val, msg) \
    case code:                    \
        return msg;
        ST_STATUS_LIST(ST_X_CASE)
#undef ST_X_CASE
    }
    return "unknown status";
}

static _Thread_local char tl_msg[1024];
static _Thread_local st_status tl_status;

st_status st_err(st_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_msg, sizeof tl_msg, fmt, ap);
    va_end(ap);
    tl_status = s;
    return s;
}

st_status st_err_prefix(const char *fmt, ...) {
    char prefix[256], old[sizeof tl_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, tl_msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof tl_msg - 3) n = sizeof tl_msg - 3;
    memcpy(tl_msg, prefix, n);
    tl_msg[n] = ':';
    tl_msg[n + 1] = ' ';
    size_t rest = sizeof tl_msg - n - 3;
    size_t m = strlen(old);
    if (m > rest) m = rest;
    memcpy(tl_msg + n + 2, old, m);
    tl_msg[n + 2 + m] = 0;
    return tl_status;
}

const char *st_last_error(void) { return tl_msg; }
st_status st_last_status(void) { return tl_status; }
void st_clear_error(void) {
    tl_msg[0] = 0;
    tl_status = ST_OK;
}

const st_op_info st_op_table[ST_OP__COUNT] = {
#define ST_OP(e, name, kind, arity, flags) [ST_OP_##e] = {name, ST_OPK_##kind, arity, flags},
#include "ops.def"
#undef ST_OP
};

int st_op_count(void) { return ST_OP__COUNT; }
const char *st_op_name(int op) { return (op >= 0 && op < ST_OP__COUNT) ? st_op_table[op].name : NULL; }
