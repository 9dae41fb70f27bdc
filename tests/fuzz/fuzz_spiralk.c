/* fuzz_spiralk.c — libFuzzer target for the SpiralK lexer, parser, evaluator and
 * checker. Input: one mode byte (bits 0-1: file / topk / midk text; bits 2-7 pick a
 * shape), then the rule text. Every parsed program is evaluated for every field of
 * both kinds on a few shapes; nothing may crash, hang, leak or trip a sanitizer. */
#include "heur/heur.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 3, pick = data[0] >> 2;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char diag[HK_DIAG_MAX];
    hk_prog *p = hk_parse(mode == 0 ? "fuzz.kdsl" : "SPIRAL_HEUR_K", text, len, mode == 0,
                          mode == 2 ? ST_HEUR_MIDK : ST_HEUR_TOPK, diag, sizeof diag);
    if (p) {
        const st_heur_limits lim = {1024, 32, 65536};
        const int64_t shapes[4][3] = {{1, 0, 0}, {pick, 1 << pick % 24, pick * 3}, {1024, 65536, 1024}, {7, 5, 5}};
        for (int s = 0; s < 4; s++) {
            hk_shape sh;
            hk_shape_make(&sh, shapes[s][0], shapes[s][1], shapes[s][2], s & 1, &lim);
            for (int kind = 0; kind < HK_NKINDS; kind++)
                for (int f = 0; f < hk_kinds[kind].nfields; f++) {
                    double v;
                    uint32_t pos;
                    char why[256];
                    if (hk_eval_field(p, kind, f, &sh, &v, &pos, diag, sizeof diag) == HK_VALUE)
                        (void)hk_field_valid(kind, f, v, &lim, sh.sg, why, sizeof why);
                }
        }
        hk_prog_free(p);
    }
    char out[4096];
    (void)st_heur_check(text, len, "fuzz", (st_heur_check_mode)mode, out, sizeof out);
    return 0;
}
