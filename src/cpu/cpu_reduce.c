/* cpu_reduce.c — (being written) reductions, argmax, softmax. */
#include "cpu.h"
st_status st_cpu_reduce(int dev, st_op op, const st_kview *dst, const st_kview *x, uint32_t m) { (void)dev; (void)dst; (void)x; (void)m; return st_err(ST_E_UNSUPPORTED, "cpu: %s not built yet", st_op_table[op].name); }
st_status st_cpu_argmax(int dev, const st_kview *dst, const st_kview *x, int axis) { (void)dev; (void)dst; (void)x; (void)axis; return st_err(ST_E_UNSUPPORTED, "cpu: argmax not built yet"); }
st_status st_cpu_softmax(int dev, st_op op, const st_kview *dst, const st_kview *x, int dim) { (void)dev; (void)dst; (void)x; (void)dim; return st_err(ST_E_UNSUPPORTED, "cpu: %s not built yet", st_op_table[op].name); }
