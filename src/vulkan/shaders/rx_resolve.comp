// rx_resolve.comp — rows gathered at level pc.level finish their radix select over the
// gathered elements (rx_resolve.glsl resolve_row: the remaining digits, the tile counts
// of the gathered elements, with OPT_ROFF the row's prefix offsets). Groups: rows.
#version 460
#include "common.glsl"
#include "rx_common.glsl"
layout(local_size_x_id = 0) in;
#include "rx_scan.glsl"
#include "rx_radix.glsl"
#define RES_KBUF KBuf
#define RES_UBUF U32Buf
#define RES_STRICT(i) 0u // rx_gather's strict counts are in the global tile counts already
#include "rx_resolve.glsl"

void main() {
    uint row = group_linear();
    if (row >= pc.rows || !row_on(row)) return;
    if (gl_LocalInvocationID.x == 0u) state_load(row, 1u);
    barrier();
    if ((s_flags & F_GATHER) == 0u) return;
    resolve_row(row, KBuf(pc.buf + uint64_t(row) * pc.cap * (KW / 8u)), U32Buf(pc.buf2 + uint64_t(row) * pc.cap * 4u));
}
