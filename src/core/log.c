/* log.c — the log callback and level. Default sink: stderr. ST_LOG sets the level. */
#include "internal.h"

#include <pthread.h>
#include <strings.h>

static st_log_fn g_fn;
static void *g_user;
static int g_level = -1; /* -1: not yet read from ST_LOG */

static int level_from_env(void) {
    const char *v = st_env("ST_LOG");
    if (!v) return ST_LOG_WARN;
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(v, names[i]) == 0) return i;
    fprintf(stderr, "spiraltorch: warn: ST_LOG='%s' is not one of debug|info|warn|error|off; using warn\n", v);
    return ST_LOG_WARN;
}

void st_set_log_callback(st_log_fn fn, void *user) {
    g_fn = fn;
    g_user = user;
}
void st_set_log_level(st_log_level level) { g_level = (int)level; }
st_log_level st_get_log_level(void) {
    if (g_level < 0) g_level = level_from_env();
    return (st_log_level)g_level;
}

void st_logf(st_log_level level, const char *fmt, ...) {
    if ((int)level < (int)st_get_log_level()) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g_fn) {
        g_fn(level, msg, g_user);
        return;
    }
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    fprintf(stderr, "spiraltorch: %s: %s\n", names[level], msg);
}
