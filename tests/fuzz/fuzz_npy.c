/* fuzz_npy.c — libFuzzer target for the .npy reader (st_npy_load_mem).
 *
 * Invariants checked on every input: the loader returns a tensor or NULL with
 * ST_E_FORMAT and a message naming the input ("npy: fuzz.npy: ..."); a loaded tensor
 * can be read back element by element; nothing leaks (library allocation count is
 * back to its starting value). A violation aborts, which libFuzzer reports.
 */
#include <spiraltorch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_alloc_stats before, after;
    st_get_alloc_stats(&before);
    st_tensor *t = st_npy_load_mem(data, size, "fuzz.npy");
    if (t) {
        int64_t n = st_numel(t);
        if (n < 0 || (uint64_t)n * st_dtype_size(st_get_dtype(t)) > size) abort(); /* data must come from the input */
        double *buf = malloc((size_t)n * sizeof(double) + 1);
        if (!buf || st_to_host(t, ST_F64, buf, (size_t)n * sizeof(double)) != ST_OK) abort();
        free(buf);
        st_release(t);
    } else if (st_last_status() != ST_E_FORMAT || strncmp(st_last_error(), "npy: fuzz.npy: ", 15) != 0) {
        fprintf(stderr, "fuzz_npy: unexpected failure %d: %s\n", (int)st_last_status(), st_last_error());
        abort();
    }
    st_get_alloc_stats(&after);
    if (after.live_allocs != before.live_allocs) {
        fprintf(stderr, "fuzz_npy: %lld allocations leaked\n", (long long)(after.live_allocs - before.live_allocs));
        abort();
    }
    return 0;
}
