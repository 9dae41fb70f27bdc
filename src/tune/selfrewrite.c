/* selfrewrite.c — placeholder (being written). */
#include "tune/tune.h"
int st_sr_flag = 0;
int st_sr_enabled_slow(void) { return 0; }
bool st_sr_explore(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, int32_t *v) {
    (void)kind, (void)rows, (void)cols, (void)k, (void)sg, (void)v;
    return false;
}
st_status st_sr_observe(int kind, int64_t rows, int64_t cols, int64_t k, bool sg, const int32_t *v, double time_ms,
                        bool explored) {
    (void)kind, (void)rows, (void)cols, (void)k, (void)sg, (void)v, (void)time_ms, (void)explored;
    return ST_OK;
}
