/* gen_heuristics_table — tuner.json -> the two generated table sources (SPEC §5, §11).
 *
 *   gen_heuristics_table tuner.json TOPK_OUT.c MIDK_OUT.c
 *
 * Reads tuner.json strictly (a malformed or wrong-schema file is refused with
 * "<file>:<line>:<col>: <what>"), keeps the fastest sample per bucket (the bucket
 * function is the library's st_heur_bucket_of, the one the lookup uses) and writes
 * both outputs atomically (temporary file, then rename), so a failed run never leaves
 * a half-written table for the next build. Exit: 0 ok, 1 error, 2 usage.
 * Default outputs for the workflow: src/heur/table_topk_generated.c and
 * src/heur/table_midk_generated.c (README "Tuning").
 */
#include "tune/tune.h"

#include <errno.h>
#include <unistd.h>

static int usage(const char *msg) {
    fprintf(stderr, "gen_heuristics_table: %s\nusage: gen_heuristics_table tuner.json TOPK_OUT.c MIDK_OUT.c\n", msg);
    return 2;
}

static FILE *open_tmp(const char *path, char *tmp, size_t cap) {
    snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) fprintf(stderr, "gen_heuristics_table: %s: cannot create: %s\n", tmp, strerror(errno));
    return f;
}

static bool finish(FILE *f, const char *tmp, const char *path, bool ok) {
    ok = fflush(f) == 0 && !ferror(f) && ok;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) != 0) {
        fprintf(stderr, "gen_heuristics_table: %s: cannot write: %s\n", path, strerror(errno));
        ok = false;
    }
    if (!ok) unlink(tmp);
    return ok;
}

int main(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: gen_heuristics_table tuner.json TOPK_OUT.c MIDK_OUT.c\n");
        return 0;
    }
    if (argc != 4) return usage("expected three arguments");
    for (int i = 1; i < 4; i++)
        if (argv[i][0] == '-') return usage("options are not accepted (a file name starts with '-')");
    st_tune_file tf;
    if (st_tune_file_read(argv[1], &tf) != ST_OK) {
        fprintf(stderr, "gen_heuristics_table: %s\n", st_last_error());
        return 1;
    }
    char t1[4200], t2[4200];
    FILE *a = open_tmp(argv[2], t1, sizeof t1);
    FILE *b = a ? open_tmp(argv[3], t2, sizeof t2) : NULL;
    if (!a || !b) {
        if (a) finish(a, t1, argv[2], false);
        st_tune_file_free(&tf);
        return 1;
    }
    int nrows[HK_NKINDS] = {0};
    bool ok = st_tune_gen_tables(&tf, a, b, nrows) == ST_OK;
    if (!ok) fprintf(stderr, "gen_heuristics_table: %s\n", st_last_error());
    ok = finish(a, t1, argv[2], ok) && ok;
    ok = finish(b, t2, argv[3], ok) && ok;
    if (ok)
        printf("gen_heuristics_table: %s (%s: %s): topk %d bucket%s from %zu samples -> %s; midk %d bucket%s from %zu "
               "samples -> %s\n",
               argv[1], tf.dev.backend, tf.dev.name, nrows[0], nrows[0] == 1 ? "" : "s", tf.n[0], argv[2], nrows[1],
               nrows[1] == 1 ? "" : "s", tf.n[1], argv[3]);
    st_tune_file_free(&tf);
    return ok ? 0 : 1;
}
