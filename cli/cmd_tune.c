/* cmd_tune.c — `spiral tune [--device D] [--quick] [--reps N] [--warmup N] [--passes N]
 * [--grid G] -o tuner.json` (SPEC §5, §11): measures the heuristics' candidate space on
 * one device and writes tuner.json. A progress bar with the time remaining goes to
 * stderr (redrawn in place on a terminal, a line every 10% otherwise). Public API only.
 * Exit: 0 ok, 1 runtime error, 2 usage error. */
#include "cli.h"

#include <string.h>
#include <unistd.h>

typedef struct bar {
    bool tty;
    int last_decile;
} bar;

static void fmt_time(double s, char *buf, size_t cap) {
    if (s < 0) snprintf(buf, cap, "--:--");
    else snprintf(buf, cap, "%d:%02d", (int)(s / 60), (int)s % 60);
}

static void on_progress(const st_tune_progress *p, void *user) {
    bar *b = user;
    int pct = p->total ? (int)(100.0 * p->done / p->total) : 100;
    if (pct > 100) pct = 100;
    char el[16], eta[16];
    fmt_time(p->elapsed_s, el, sizeof el);
    fmt_time(p->eta_s, eta, sizeof eta);
    if (b->tty) {
        char fill[31];
        int n = pct * 30 / 100;
        memset(fill, '#', (size_t)n);
        memset(fill + n, '.', (size_t)(30 - n));
        fill[30] = '\0';
        fprintf(stderr, "\rtune [%s] %3d%% %d/%d  %s %lldx%lldx%lld  elapsed %s  left %s   ", fill, pct, p->done, p->total,
                p->kind, (long long)p->rows, (long long)p->cols, (long long)p->k, el, eta);
    } else if (pct / 10 > b->last_decile) {
        b->last_decile = pct / 10;
        fprintf(stderr, "tune: %3d%% (%d/%d) elapsed %s, about %s left\n", pct, p->done, p->total, el, eta);
    }
    fflush(stderr);
}

int cmd_tune(int argc, char **argv) {
    st_tune_options o;
    st_tune_options_init(&o);
    const char *dev = "auto", *out = NULL;
    bool reps_set = false, passes_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (!strcmp(a, "--quick")) {
            o.quick = true;
        } else if (!strcmp(a, "--device") || !strcmp(a, "-o") || !strcmp(a, "--out") || !strcmp(a, "--grid")) {
            if (!v) return cli_usage("tune", "%s needs a value", a);
            if (!strcmp(a, "--device")) dev = v;
            else if (!strcmp(a, "--grid")) o.grid = v;
            else out = v;
            i++;
        } else if (!strcmp(a, "--reps") || !strcmp(a, "--warmup") || !strcmp(a, "--passes")) {
            if (!v || cli_parse_i64(v, &n) != 0 || n > 1000)
                return cli_usage("tune", "%s needs an integer in [0, 1000]", a);
            if (!strcmp(a, "--reps")) o.reps = (int)n, reps_set = true;
            else if (!strcmp(a, "--warmup")) o.warmup = (int)n;
            else o.passes = (int)n, passes_set = true;
            i++;
        } else {
            return cli_usage("tune", "unknown option '%s'", a);
        }
    }
    if (!out) return cli_usage("tune", "-o tuner.json is required");
    if (o.quick && !reps_set) o.reps = 3;
    if (o.quick && !passes_set) o.passes = 1;
    if (o.reps < 1) return cli_usage("tune", "--reps must be at least 1");
    if (o.passes < 1 || o.passes > 8) return cli_usage("tune", "--passes must be in [1, 8]");
    st_device d;
    if (st_device_parse(dev, &d) != ST_OK) return cli_usage("tune", "%s", st_last_error());
    bar b = {isatty(2) != 0, 0};
    o.progress = on_progress;
    o.user = &b;
    st_device_info info;
    if (st_device_get_info(d, &info) != ST_OK) return cli_fail("tune");
    fprintf(stderr, "tune: %s device: %s\n", info.backend, info.name);
    st_status s = st_tune_run(d, &o, out);
    if (b.tty) fprintf(stderr, "\n");
    if (s == ST_E_INVALID_ARG) return cli_usage("tune", "%s", st_last_error());
    if (s != ST_OK) return cli_fail("tune");
    printf("tune: wrote %s\n", out);
    return CLI_OK;
}
