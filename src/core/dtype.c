/* dtype.c — dtype sizes and names. */
#include "internal.h"

size_t st_dtype_size(st_dtype dt) {
    switch (dt) {
    case ST_F32: return 4;
    case ST_F64: return 8;
    case ST_I32: return 4;
    case ST_I64: return 8;
    }
    return 0;
}
const char *st_dtype_name(st_dtype dt) {
    switch (dt) {
    case ST_F32: return "f32";
    case ST_F64: return "f64";
    case ST_I32: return "i32";
    case ST_I64: return "i64";
    }
    return "?";
}
bool st_dtype_is_float(st_dtype dt) { return dt == ST_F32 || dt == ST_F64; }
