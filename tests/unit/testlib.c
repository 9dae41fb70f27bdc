/* testlib.c — see testlib.h. */
#include "testlib.h"

#include <sys/wait.h>
#include <time.h>

#define TL_MAX 512
static struct {
    const char *name;
    tl_fn fn;
} g_tests[TL_MAX];
static int g_ntests;
int tl_failures_in_test;

void tl_register(const char *name, tl_fn fn) {
    if (g_ntests < TL_MAX) {
        g_tests[g_ntests].name = name;
        g_tests[g_ntests].fn = fn;
        g_ntests++;
    }
}

static uint64_t g_seed;
uint64_t tl_seed(void) { return g_seed; }

static int64_t g_fail_at, g_count;
static void *fault_alloc(size_t size, size_t align, void *user) {
    (void)user;
    g_count++;
    if (g_fail_at > 0 && g_count == g_fail_at) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align, size)) return NULL;
    return p;
}
static void fault_free(void *p, size_t size, void *user) {
    (void)size;
    (void)user;
    free(p);
}
void tl_fail_alloc_at(int64_t n) {
    g_count = 0;
    g_fail_at = n;
}
int64_t tl_alloc_count(void) { return g_count; }
void tl_install_fault_allocator(void) {
    st_allocator a = {fault_alloc, fault_free, NULL};
    st_set_allocator(&a);
}

int tl_run_cmd(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tl_main(int argc, char **argv) {
    const char *s = getenv("ST_TEST_SEED");
    g_seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    printf("seed=%llu (set ST_TEST_SEED to replay)\n", (unsigned long long)g_seed);
    int passed = 0, failed = 0;
    /* arguments: NAME runs only the tests named; -NAME leaves that test out */
    int picks = 0;
    for (int j = 1; j < argc; j++) picks += argv[j][0] != '-';
    for (int i = 0; i < g_ntests; i++) {
        int hit = 0, out = 0;
        for (int j = 1; j < argc; j++) {
            if (argv[j][0] == '-')
                out |= strcmp(argv[j] + 1, g_tests[i].name) == 0;
            else
                hit |= strcmp(argv[j], g_tests[i].name) == 0;
        }
        if (out || (picks && !hit)) continue;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tl_failures_in_test = 0;
        st_manual_seed(g_seed + (uint64_t)i);
        g_tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        if (tl_failures_in_test) {
            printf("FAIL %s (%.1f s)\n", g_tests[i].name, sec);
            failed++;
        } else {
            printf("ok   %s (%.1f s)\n", g_tests[i].name, sec);
            passed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

__attribute__((weak)) int main(int argc, char **argv) { return tl_main(argc, argv); }

bool tl_have_device(st_backend_kind kind) {
    static int state[ST_NUM_BACKENDS] = {-1, -1, -1, -1};
    if ((unsigned)kind >= ST_NUM_BACKENDS) return false;
    if (state[kind] < 0) {
        char why[256] = "";
        state[kind] = st_backend_device_count(kind, why, sizeof why) > 0;
        if (!state[kind]) printf("  (no %s device: %s; its tests skipped)\n", st_backend_name(kind), why);
    }
    return state[kind] == 1;
}
