/* env.c — the one place where the library reads environment variables.
 * Every variable read here is documented in docs/env.md. */
#include "internal.h"

#include <stdlib.h>

const char *st_env(const char *name) {
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

bool st_env_flag(const char *name, bool def) {
    const char *v = st_env(name);
    return v ? strcmp(v, "0") != 0 : def;
}

bool st_env_on(const char *name) { return st_env_flag(name, false); }
