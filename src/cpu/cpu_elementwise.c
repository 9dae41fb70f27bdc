/* cpu_elementwise.c — (being written) unary, binary and where kernels. */
#include "cpu.h"
st_status st_cpu_unary(int dev, st_op op, const st_kview *dst, const st_kview *x) { (void)dev; (void)dst; (void)x; return st_err(ST_E_UNSUPPORTED, "cpu: %s not built yet", st_op_table[op].name); }
st_status st_cpu_binary(int dev, st_op op, const st_kview *dst, const st_kview *a, const st_kview *b) { (void)dev; (void)dst; (void)a; (void)b; return st_err(ST_E_UNSUPPORTED, "cpu: %s not built yet", st_op_table[op].name); }
st_status st_cpu_where(int dev, const st_kview *dst, const st_kview *c, const st_kview *a, const st_kview *b) { (void)dev; (void)dst; (void)c; (void)a; (void)b; return st_err(ST_E_UNSUPPORTED, "cpu: where not built yet"); }
