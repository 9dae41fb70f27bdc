/* bench_heur.c — cost of st_heur_choose: warm (cached) calls, cache misses on a loaded
 * snapshot, and cold calls (st_heur_reload + a fresh parse of env and file rules).
 * Prints a table of ns per call; no peer exists for this, so no ratio column. Uses a
 * temporary HOME and rule file; the default re-check interval (250 ms) applies. */
#include <spiraltorch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile int g_sink;

static double warm(int n, bool midk) {
    st_heur_choice t;
    st_heur_midk_choice m;
    st_heur_choose(64, 65536, 1024, true, &t);
    st_heur_choose_midk(64, 65536, 1024, true, &m);
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if (midk) st_heur_choose_midk(64, 65536, 1024, true, &m), g_sink += m.wg;
        else st_heur_choose(64, 65536, 1024, true, &t), g_sink += t.wg;
    }
    return (now_ns() - t0) / n;
}

/* Many shapes in rotation (a realistic op mix): mostly hits, some slot conflicts. */
static double warm_mix(int n) {
    st_heur_choice t;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        st_heur_choose(64, 1024 << (i % 7), 1 << (i % 11), i & 1, &t);
        g_sink += t.kl;
    }
    return (now_ns() - t0) / n;
}

static double miss(int n) {
    st_heur_choice t;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        st_heur_choose(64, 100000 + i, 1024, true, &t); /* a new shape every call */
        g_sink += t.wg;
    }
    return (now_ns() - t0) / n;
}

static double cold(int n) {
    st_heur_choice t;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        st_heur_reload();
        st_heur_choose(64, 65536, 1024, true, &t);
        g_sink += t.wg;
    }
    return (now_ns() - t0) / n;
}

int main(void) {
    char dir[] = "/tmp/st-bench-heur-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/heur.kdsl", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fputs("# a typical rule file\ndef blk(x): max(x / 64, 32)\nwg: sel(sg, 256, 128)\nkl: pow2(blk(k))\n", f);
    for (int i = 0; i < 20; i++) fprintf(f, "soft(ch, %d, 0.%d, c > %d) # learned\n", 1024 << (i % 4), 1 + i % 9, 4096 * i);
    fputs("[midk]\ntile: clamp(c / 16, 256, 4096)\n", f);
    fclose(f);
    setenv("HOME", dir, 1);
    setenv("SPIRAL_HEUR_FILE", path, 1);
    setenv("SPIRAL_HEUR_K", "u2:(c>32768)||(k>128); ch:sel(c>16384,8192,0)", 1);
    setenv("SPIRAL_HEUR_MIDK", "wg:sel(c>32768,256,128); tile:sel(c>65536,4096,2048)", 1);
    st_heur_reload();

    printf("%-44s %12s\n", "st_heur_choose", "ns/call");
    printf("%-44s %12.1f\n", "warm, topk (cached, one shape)", warm(20000000, false));
    printf("%-44s %12.1f\n", "warm, midk (cached, one shape)", warm(20000000, true));
    printf("%-44s %12.1f\n", "warm, 154 shapes in rotation", warm_mix(10000000));
    printf("%-44s %12.1f\n", "miss (new shape, rules already parsed)", miss(200000));
    printf("%-44s %12.1f\n", "cold (reload: getenv, stat, read, parse)", cold(20000));
    unsetenv("SPIRAL_HEUR_K");
    unsetenv("SPIRAL_HEUR_MIDK");
    unsetenv("SPIRAL_HEUR_FILE");
    st_heur_reload();
    printf("%-44s %12.1f\n", "cold, no rules (fallback only)", cold(20000));
    st_heur_reset();
    unlink(path);
    rmdir(dir);
    return g_sink == 42 ? 1 : 0;
}
