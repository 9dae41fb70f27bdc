/* test_heur_cli.c — drives the built `spiral` binary (ST_BINARY_DIR/spiral): the exact
 * JSON of `spiral heur choose --json`, its text form, and the exit codes of
 * `spiral heur check` (0 clean, 1 rule errors, 2 usage). Skips when the binary is
 * not built. Runs with a temporary HOME. */
#include "testlib.h"

#include <unistd.h>

static char g_home[128];

/* Runs `spiral <args>` through the shell; stdout+stderr into out; returns the exit code. */
static int run(const char *args, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "HOME='%s' '%s/spiral' %s 2>&1", g_home, ST_BINARY_DIR, args);
    return tl_run_cmd(cmd, out, cap);
}

static bool have_binary(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/spiral", ST_BINARY_DIR);
    if (access(path, X_OK) == 0) return true;
    printf("  (skipped: %s not built)\n", path);
    return false;
}

static void setup(void) {
    if (!g_home[0]) {
        snprintf(g_home, sizeof g_home, "/tmp/st-heur-cli-XXXXXX");
        if (!mkdtemp(g_home)) g_home[0] = '\0';
    }
    const char *vars[] = {"ST_HOME", "SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK",
                          "REDIS_URL", "ST_LOG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

TEST(choose_json_exact) {
    setup();
    if (!have_binary()) return;
    char out[8192];
    CHECK(run("heur choose --rows 1024 --cols 65536 --k 1024 --subgroup 1 --json", out, sizeof out) == 0);
    CHECK_MSG(!strcmp(out, "{\"kind\":\"topk\",\"fields\":{\"u2\":{\"value\":false,\"source\":\"fallback\"},"
                           "\"wg\":{\"value\":512,\"source\":\"fallback\"},\"kl\":{\"value\":16,\"source\":\"fallback\"},"
                           "\"ch\":{\"value\":131072,\"source\":\"fallback\"},\"algo\":{\"value\":0,\"source\":\"fallback\"},"
                           "\"est\":{\"value\":true,\"source\":\"fallback\"}}}\n"),
              "%s", out);
    setenv("SPIRAL_HEUR_MIDK", "wg:sel(c>32768,256,128); tile:sel(c>65536,4096,2048)", 1);
    CHECK(run("heur choose --rows 1024 --cols 65536 --k 32768 --subgroup 1 --midk --json", out, sizeof out) == 0);
    CHECK_MSG(!strcmp(out, "{\"kind\":\"midk\",\"fields\":{\"wg\":{\"value\":256,\"source\":\"env SPIRAL_HEUR_MIDK\"},"
                           "\"tile\":{\"value\":2048,\"source\":\"env SPIRAL_HEUR_MIDK\"},"
                           "\"u2\":{\"value\":true,\"source\":\"fallback\"}}}\n"),
              "%s", out);
    unsetenv("SPIRAL_HEUR_MIDK");
}

TEST(choose_text_and_usage) {
    setup();
    if (!have_binary()) return;
    char out[8192];
    setenv("SPIRAL_HEUR_K", "u2:(c>32768)||(k>128); ch:sel(c>16384,8192,0)", 1);
    CHECK(run("heur choose --rows 8 --cols 100 --k 4", out, sizeof out) == 0);
    CHECK_MSG(!strcmp(out, "topk choice for rows=8 cols=100 k=4 subgroup=0\n"
                           "  u2     false    env SPIRAL_HEUR_K\n"
                           "  wg     128      fallback\n"
                           "  kl     8        fallback\n"
                           "  ch     0        env SPIRAL_HEUR_K\n"
                           "  algo   0        fallback\n"
                           "  est    false    fallback\n"),
              "%s", out);
    unsetenv("SPIRAL_HEUR_K");
    CHECK(run("heur choose --rows 8 --cols 100", out, sizeof out) == 2);
    CHECK(strstr(out, "usage: spiral heur") != NULL);
    CHECK(run("heur choose --rows 8 --cols 100 --k -1", out, sizeof out) == 2);
    CHECK(run("heur choose --rows 8 --cols 100 --k 1 --subgroup 2", out, sizeof out) == 2);
    CHECK(run("heur choose --rows 8 --cols 100 --k 1 --bogus", out, sizeof out) == 2);
    CHECK(run("heur choose --rows 8 --cols 100 --k 1 --device tpu", out, sizeof out) == 2); /* unknown name */
    CHECK_MSG(strstr(out, "tpu") != NULL, "%s", out);
    CHECK(run("heur choose --rows 8 --cols 100 --k 4 --device cpu", out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "fallback") != NULL, "%s", out);
    CHECK(run("heur frobnicate", out, sizeof out) == 2);
    CHECK(run("heur", out, sizeof out) == 2);
}

TEST(check_exit_codes) {
    setup();
    if (!have_binary()) return;
    char path[256], out[8192], args[512];
    snprintf(path, sizeof path, "%s/r.kdsl", g_home);
    FILE *f = fopen(path, "w");
    fputs("u2: c > 32768\n[midk]\ntile: sel(c > 65536, 4096, 2048)\n", f);
    fclose(f);
    snprintf(args, sizeof args, "heur check '%s'", path);
    CHECK(run(args, out, sizeof out) == 0);
    f = fopen(path, "w");
    fputs("u2: c > 32768\nwg: max(c, 1\n", f);
    fclose(f);
    CHECK(run(args, out, sizeof out) == 1);
    char want[1024];
    snprintf(want, sizeof want, "%s:3:1: expected ')' near '<eof>'\n%s:2:8: note: unclosed '(' opened here\n", path,
             path);
    CHECK_MSG(!strcmp(out, want), "got '%s' want '%s'", out, want);
    CHECK(run("heur check", out, sizeof out) == 2);
    CHECK(run("heur check /nonexistent/rules.kdsl", out, sizeof out) == 1);
    CHECK(strstr(out, "cannot open") != NULL);
    CHECK(run("info", out, sizeof out) == 0);
    CHECK(strstr(out, "heuristic sources") != NULL && strstr(out, "env SPIRAL_HEUR_K_LAB") != NULL);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_home);
    if (strstr(g_home, "/tmp/st-heur-cli-") == g_home) CHECK(system(cmd) == 0);
}
