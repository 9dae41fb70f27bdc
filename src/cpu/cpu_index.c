/* cpu_index.c — (being written) index_select, gather, scatter. */
#include "cpu.h"
st_status st_cpu_index_select(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx) { (void)dev; (void)dst; (void)x; (void)dim; (void)idx; return st_err(ST_E_UNSUPPORTED, "cpu: index_select not built yet"); }
st_status st_cpu_gather(int dev, const st_kview *dst, const st_kview *x, int dim, const st_kview *idx) { (void)dev; (void)dst; (void)x; (void)dim; (void)idx; return st_err(ST_E_UNSUPPORTED, "cpu: gather not built yet"); }
st_status st_cpu_scatter(int dev, const st_kview *dst, int dim, const st_kview *idx, const st_kview *src, bool add) { (void)dev; (void)dst; (void)dim; (void)idx; (void)src; (void)add; return st_err(ST_E_UNSUPPORTED, "cpu: scatter not built yet"); }
