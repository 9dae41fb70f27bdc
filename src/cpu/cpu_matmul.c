/* cpu_matmul.c — (being written) matmul through CBLAS. */
#include "cpu.h"
st_status st_cpu_matmul(int dev, const st_kview *dst, const st_kview *a, const st_kview *b) { (void)dev; (void)dst; (void)a; (void)b; return st_err(ST_E_UNSUPPORTED, "cpu: matmul not built yet"); }
