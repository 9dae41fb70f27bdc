/* testlib.h — a minimal test harness: TEST() registration, CHECK macros, a closing
 * line "N passed, N failed", a seed printed once per run, and a fault-injecting
 * allocator for out-of-memory tests. */
#ifndef ST_TESTLIB_H
#define ST_TESTLIB_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiraltorch.h"

typedef void (*tl_fn)(void);
void tl_register(const char *name, tl_fn fn);
extern int tl_failures_in_test;

#define TEST(name)                                                        \
    static void test_##name(void);                                       \
    __attribute__((constructor)) static void tl_reg_##name(void) {       \
        tl_register(#name, test_##name);                                 \
    }                                                                    \
    static void test_##name(void)

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "  FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
                    st_last_error());                                                     \
            tl_failures_in_test++;                                                        \
        }                                                                                 \
    } while (0)
#define CHECK_MSG(cond, ...)                                          \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                    \
            tl_failures_in_test++;                                    \
        }                                                             \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                    \
    do {                                                                                         \
        double a_ = (a), b_ = (b);                                                               \
        if (!(fabs(a_ - b_) <= (tol) * (1.0 + fabs(b_))))                                         \
            CHECK_MSG(0, "%s = %.9g, expected %.9g (tol %g)", #a, a_, b_, (double)(tol));        \
    } while (0)
#define CHECK_STATUS(expr, want)                                                             \
    do {                                                                                     \
        st_status s_ = (expr);                                                               \
        if (s_ != (want)) CHECK_MSG(0, "%s returned %d (%s), want %d", #expr, (int)s_, st_last_error(), (int)(want)); \
    } while (0)
/* The last error mentions `needle`. */
#define CHECK_ERR_HAS(needle) CHECK_MSG(strstr(st_last_error(), (needle)) != NULL, "error '%s' lacks '%s'", st_last_error(), (needle))

/* Run seed: ST_TEST_SEED or time-based; printed at start. */
uint64_t tl_seed(void);

/* Fault injection: fail the n-th allocation from now (1-based); 0 disables. */
void tl_fail_alloc_at(int64_t n);
int64_t tl_alloc_count(void);
void tl_install_fault_allocator(void);

/* Runs a shell command; its stdout+stderr (truncated to cap-1) into out. Returns the
 * exit code, or -1 when it could not run or was killed. */
int tl_run_cmd(const char *cmd, char *out, size_t cap);

/* Whether the backend has a usable device; the first call without one prints why
 * ("skipped: ...") so that a test file whose cases return early says so once. */
bool tl_have_device(st_backend_kind kind);

/* Runs every registered test (or those named in argv). */
int tl_main(int argc, char **argv);

#endif
