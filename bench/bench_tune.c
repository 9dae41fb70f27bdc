/* bench_tune.c — the tuner's payoff, per shape of a tuner.json (bench/tune_report.sh):
 * the fallback formulas' choice, the chain's choice (the generated table, when this
 * build has it compiled in) and the tuner's fastest choice for that shape, re-timed
 * side by side in this process: 2 warm-up runs, then `reps` rounds that run each
 * distinct choice once in turn (identical choices are timed once and shared), median
 * per choice. "best" is the fastest of the measured choices. Prints a Markdown table
 * and the summary (fraction of shapes where the table is within 1.10x of the best,
 * geometric-mean slowdown of the fallback and of the table against the best).
 *   bench_tune tuner.json [--device D] [--reps N]
 */
#include "tune/tune.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double run_once(st_device dev, st_tensor *x, int kind, int64_t k, const int32_t *v) {
    st_rankk_params p;
    st_rankk_params_from_values(kind, v, &p);
    st_tensor *a = NULL, *b = NULL;
    st_device_sync(dev);
    double t0 = now_ms();
    st_status s = st_rankk_with_params(x, kind == ST_HEUR_MIDK ? ST_MIDK : ST_TOPK, k, ST_I32, &p, &a, &b);
    st_device_sync(dev);
    double t = now_ms() - t0;
    st_release(a);
    st_release(b);
    if (s != ST_OK) {
        fprintf(stderr, "bench_tune: %s\n", st_last_error());
        exit(1);
    }
    return t;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_tune tuner.json [--device D] [--reps N]\n");
        return 2;
    }
    const char *devname = "cpu";
    int reps = 9;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--device")) devname = argv[i + 1];
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    }
    if (reps < 1 || reps > 1000) reps = 9;
    st_device dev;
    st_tune_file f;
    if (st_device_parse(devname, &dev) != ST_OK || st_tune_file_read(argv[1], &f) != ST_OK) {
        fprintf(stderr, "bench_tune: %s\n", st_last_error());
        return 1;
    }
    st_heur_set_device(dev); /* the chain answers with the tables tuned on this backend */
    st_device_info info;
    st_device_get_info(dev, &info);
    printf("device: %s: %s (tuned on %s: %s, %s)\n\n", info.backend, info.name, f.dev.backend, f.dev.name, f.created);
    printf("| kind | rows x cols x k | fallback ms | table ms | best ms | table/best | fallback/best | table source |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---|\n");
    int n = 0, within = 0, from_table = 0;
    double lf = 0, lt = 0;
    for (int kind = 0; kind < HK_NKINDS; kind++)
        for (size_t i = 0; i < f.n[kind]; i++) {
            const st_tune_sample *s = &f.s[kind][i];
            bool first = true; /* each distinct shape once */
            for (size_t j = 0; j < i && first; j++)
                first = !(f.s[kind][j].rows == s->rows && f.s[kind][j].cols == s->cols && f.s[kind][j].k == s->k &&
                          f.s[kind][j].sg == s->sg);
            if (!first) continue;
            size_t w = i;
            for (size_t j = i; j < f.n[kind]; j++)
                if (f.s[kind][j].rows == s->rows && f.s[kind][j].cols == s->cols && f.s[kind][j].k == s->k &&
                    f.s[kind][j].sg == s->sg && f.s[kind][j].time_ms < f.s[kind][w].time_ms)
                    w = j;
            int nf = hk_kinds[kind].nfields;
            int32_t ch[3][ST_HEUR_MAX_FIELDS] = {{0}};
            st_heur_fallback_values(kind, s->rows, s->cols, s->k, s->sg, ch[0]);
            st_heur_explanation ex;
            st_heur_explain((st_heur_kind)kind, s->rows, s->cols, s->k, s->sg, &ex);
            bool all_table = true;
            for (int fi = 0; fi < nf; fi++) {
                ch[1][fi] = ex.fields[fi].value;
                all_table &= ex.fields[fi].source == ST_HEUR_SRC_TABLE;
            }
            memcpy(ch[2], f.s[kind][w].v, sizeof ch[2]);
            int same[3] = {0, 1, 2}; /* index of the first identical choice */
            for (int a = 1; a < 3; a++)
                for (int b = 0; b < a; b++)
                    if (same[a] == a && !memcmp(ch[a], ch[b], sizeof(int32_t) * (size_t)nf)) same[a] = same[b];
            float *h = malloc((size_t)(s->rows * s->cols) * sizeof(float));
            uint64_t r = 88172645463325252ull + i;
            for (int64_t e = 0; e < s->rows * s->cols; e++) {
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                h[e] = (float)((double)(r >> 11) / 9007199254740992.0);
            }
            int64_t shp[2] = {s->rows, s->cols};
            st_tensor *x = st_from_data_on(dev, h, 2, shp, ST_F32);
            free(h);
            double t[3][1000], med[3];
            for (int c = 0; c < 3; c++)
                if (same[c] == c)
                    for (int wu = 0; wu < 2; wu++) run_once(dev, x, kind, s->k, ch[c]);
            for (int rep = 0; rep < reps; rep++)
                for (int c = 0; c < 3; c++)
                    if (same[c] == c) t[c][rep] = run_once(dev, x, kind, s->k, ch[c]);
            for (int c = 0; c < 3; c++)
                if (same[c] == c) {
                    qsort(t[c], (size_t)reps, sizeof(double), cmp_d);
                    med[c] = t[c][reps / 2];
                }
            for (int c = 0; c < 3; c++) med[c] = med[same[c]];
            st_release(x);
            double best = fmin(med[0], fmin(med[1], med[2]));
            n++;
            within += med[1] <= 1.10 * best;
            from_table += all_table;
            lf += log(med[0] / best);
            lt += log(med[1] / best);
            printf("| %s | %lldx%lldx%lld | %.4f | %.4f | %.4f | %.3f | %.3f | %s |\n", hk_kinds[kind].name,
                   (long long)s->rows, (long long)s->cols, (long long)s->k, med[0], med[1], best, med[1] / best,
                   med[0] / best, all_table ? "table" : ex.fields[0].where);
            fflush(stdout);
        }
    if (!n) {
        printf("no shapes\n");
        return 1;
    }
    printf("\nshapes: %d; table choice for every field: %d/%d\n", n, from_table, n);
    printf("table within 1.10x of best: %d/%d (%.1f%%)\n", within, n, 100.0 * within / n);
    printf("geometric-mean slowdown vs best: fallback %.3fx, table %.3fx\n", exp(lf / n), exp(lt / n));
    st_tune_file_free(&f);
    return 0;
}
