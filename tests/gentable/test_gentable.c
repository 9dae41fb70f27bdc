/* test_gentable.c — the generated entries are hit. CMake runs the freshly built
 * gen_heuristics_table on tests/fixtures/tuner_fixture.json at build time and compiles
 * its two outputs into this test (they replace the library's empty tables: the
 * static archive's table objects are not pulled in). For every bucket of the fixture
 * the chain must answer from the table with the fastest sample's values (computed here
 * by a plain loop, independently of the generator), the nearest bucket within
 * distance 1 must answer the same, and everything further away falls through to the
 * fallback. */
#include "testlib.h"
#include "tune/tune.h"

static st_tune_file g_f;

static void load(void) {
    static bool done;
    if (done) return;
    done = true;
    const char *vars[] = {"ST_HOME", "SPIRAL_HEUR_FILE", "SPIRAL_HEUR_K_LAB", "SPIRAL_HEUR_K", "SPIRAL_HEUR_MIDK",
                          "REDIS_URL", "ST_SELF_REWRITE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    setenv("ST_HOME", "/nonexistent-st-gentable", 1);
    st_heur_reload();
    if (st_tune_file_read(ST_SOURCE_DIR "/tests/fixtures/tuner_fixture.json", &g_f) != ST_OK)
        fprintf(stderr, "fixture: %s\n", st_last_error());
}

static int lg(int64_t x) {
    int l = 0;
    while ((1ll << l) < x) l++;
    return l;
}

static long winner(int kind, bool sg, int lc, int lk) {
    long best = -1;
    for (size_t i = 0; i < g_f.n[kind]; i++) {
        const st_tune_sample *s = &g_f.s[kind][i];
        if (s->sg != sg || lg(s->cols) != lc || lg(s->k) != lk) continue;
        double t = s->time_ms / (double)(s->rows * s->cols);
        if (best < 0 || t < g_f.s[kind][best].time_ms / (double)(g_f.s[kind][best].rows * g_f.s[kind][best].cols))
            best = (long)i;
    }
    return best;
}

/* Every field from the table with the values of sample w (w < 0: every field from the fallback). */
static void expect(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, long w) {
    st_heur_explanation ex;
    CHECK_STATUS(st_heur_explain((st_heur_kind)kind, rows, cols, k, sg, &ex), ST_OK);
    for (int f = 0; f < ex.nfields; f++) {
        if (w >= 0)
            CHECK_MSG(ex.fields[f].source == ST_HEUR_SRC_TABLE && ex.fields[f].value == g_f.s[kind][w].v[f],
                      "%s %lldx%lldx%lld sg=%d %s: %d from %s, want %d from table", hk_kinds[kind].name, (long long)rows,
                      (long long)cols, (long long)k, sg, ex.fields[f].name, ex.fields[f].value, ex.fields[f].where,
                      g_f.s[kind][w].v[f]);
        else
            CHECK_MSG(ex.fields[f].source == ST_HEUR_SRC_FALLBACK, "%s %lldx%lldx%lld sg=%d %s: from %s, want fallback",
                      hk_kinds[kind].name, (long long)rows, (long long)cols, (long long)k, sg, ex.fields[f].name,
                      ex.fields[f].where);
    }
}

TEST(compiled_in_tables_are_the_fixture) {
    load();
    CHECK(st_heur_topk_generated.n == 3 && st_heur_midk_generated.n == 2);
    CHECK(!strcmp(st_heur_topk_generated.backend, "cpu"));
    CHECK(strstr(st_heur_topk_generated.origin, "fixture CPU") != NULL);
    st_heur_source_info si[8];
    CHECK(st_heur_sources(si, 8) == 7 && si[5].active && strstr(si[5].detail, "topk 3 buckets, midk 2 buckets"));
}

TEST(exact_buckets_hit) {
    load();
    for (int kind = 0; kind < HK_NKINDS; kind++)
        for (size_t i = 0; i < g_f.n[kind]; i++) {
            const st_tune_sample *s = &g_f.s[kind][i];
            long w = winner(kind, s->sg, lg(s->cols), lg(s->k));
            expect(kind, s->rows, s->cols, s->k, s->sg, w);
            /* another shape of the same bucket: the smallest cols and k of it */
            int64_t c = s->cols > 1 ? (1ll << (lg(s->cols) - 1)) + 1 : 1, k = s->k > 1 ? (1ll << (lg(s->k) - 1)) + 1 : s->k;
            expect(kind, 3, c, k, s->sg, w);
        }
    /* the cached path agrees */
    st_heur_choice c;
    CHECK_STATUS(st_heur_choose(256, 4096, 16, false, &c), ST_OK);
    CHECK(c.u2 && c.wg == 64 && c.kl == 4 && c.ch == 2048 && c.algo == 1 && c.est);
    st_heur_midk_choice m;
    CHECK_STATUS(st_heur_choose_midk(64, 16384, 4096, false, &m), ST_OK);
    CHECK(m.wg == 64 && m.tile == 1024 && !m.u2);
}

TEST(nearest_within_distance_one) {
    load();
    long w = winner(ST_HEUR_TOPK, false, 12, 4); /* bucket sg0 lc12 lk4 */
    expect(ST_HEUR_TOPK, 10, 4096, 32, false, w);  /* lk+1 */
    expect(ST_HEUR_TOPK, 10, 4096, 8, false, w);   /* lk-1 */
    expect(ST_HEUR_TOPK, 10, 8192, 16, false, w);  /* lc+1 */
    expect(ST_HEUR_TOPK, 10, 2048, 16, false, w);  /* lc-1 */
    expect(ST_HEUR_TOPK, 10, 4096, 64, false, -1); /* distance 2 */
    expect(ST_HEUR_TOPK, 10, 8192, 32, false, -1); /* distance 2 (diagonal) */
    expect(ST_HEUR_TOPK, 10, 4096, 16, true, -1);  /* other subgroup flag */
    long s1 = winner(ST_HEUR_TOPK, true, 10, 0);
    expect(ST_HEUR_TOPK, 8, 1024, 1, true, s1);
    expect(ST_HEUR_TOPK, 8, 1024, 2, true, s1);   /* lk+1 */
    expect(ST_HEUR_TOPK, 8, 1024, 1, false, -1);
    long m = winner(ST_HEUR_MIDK, false, 14, 12);
    expect(ST_HEUR_MIDK, 4, 16384, 2048, false, m); /* lk-1 */
    expect(ST_HEUR_MIDK, 4, 16384, 1024, false, -1);
    expect(ST_HEUR_MIDK, 4, 1 << 20, 1 << 19, false, -1);
}

TEST(rank_k_uses_the_table_choice) {
    load();
    /* The op runs with the table's choice and stays exact (the fixture's parameters are
     * arbitrary but valid). */
    int64_t shape[2] = {3, 4096};
    st_tensor *x = st_randn(2, shape, ST_F32), *v = NULL, *ix = NULL;
    CHECK_STATUS(st_topk(x, 16, &v, &ix), ST_OK);
    float xs[3 * 4096], vs[3 * 16];
    st_to_host(x, ST_F32, xs, sizeof xs);
    st_to_host(v, ST_F32, vs, sizeof vs);
    for (int r = 0; r < 3; r++) {
        int above = 0;
        for (int j = 0; j < 4096; j++) above += xs[r * 4096 + j] > vs[r * 16 + 15];
        CHECK(above == 15);
    }
    st_release(v);
    st_release(ix);
    st_release(x);
}
