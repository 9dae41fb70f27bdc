#!/usr/bin/env bash
# vulkan_rankk.sh [BUILD_DIR] — our Vulkan rank-K beside torch.topk on CUDA, same GPU,
# same run (issue 6). Builds BUILD_DIR (default build-rel) when it has no `spiral`
# (a machine without glslc can take a BUILD_DIR built elsewhere), checks correctness,
# then times every case.
#   ours:  `spiral bench KIND --device vulkan --rows R --cols C --k K --reps N` — median
#          of N runs after 2 warm-ups through the public API and the heuristics chain
#          (SPIRAL_HEUR_K etc. apply; `choice:` is logged): GPU time between two device
#          timestamps around the op (st_device_timer_start/stop, like torch's CUDA
#          events: the compared figure) and the host wall time from a synchronised
#          device to the results being there (shown beside it).
#   torch: bench/torch_rankk_cuda.py — torch.topk on CUDA, CUDA events, median of N
#          (torch_wall_ms: host clock + synchronize, comparable with ours, also logged).
#          MidK peer: torch.topk(x, lo+k, largest=False)[..., lo:] (torch has no MidK).
# Correctness: our Vulkan result == our CPU result (values and indices, bit for bit)
# and == torch.topk on CUDA (values; indices where the value is unique in its row), on
# one shape per kind and per path (one pass, chunk levels, MidK).
# Prints: case | ours ms | torch ms | torch/ours; the log keeps every line.
# Environment: REPS (20), CASES (e.g. "topk:1024:65536:64 midk:1024:65536:32768"),
# PY (python3 with torch+CUDA), LOG (a file for the raw output, default a temp file).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${1:-$ROOT/build-rel}
REPS=${REPS:-20}
PY=${PY:-python3}
LOG=${LOG:-$(mktemp /tmp/vulkan_rankk.XXXXXX.log)}
if [ ! -x "$BUILD/spiral" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build "$BUILD" -j"$(nproc)" >/dev/null
fi
SPIRAL=$BUILD/spiral
[ -x "$SPIRAL" ] || { echo "vulkan_rankk.sh: $SPIRAL not found" >&2; exit 1; }
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' ||
  { echo "vulkan_rankk.sh: $PY has no torch with CUDA" >&2; exit 1; }
"$SPIRAL" info 2>&1 | grep -i -m3 "vulkan" | tee -a "$LOG" || true
echo "# gpu: $("$PY" -c 'import torch; print(torch.cuda.get_device_name(0))'); reps=$REPS; log=$LOG"

# ---- correctness (one shape per kind and path; exits non-zero on a mismatch)
CHECKS=${CHECKS:-"topk:64:65536:64 bottomk:64:65536:256 topk:2:1048576:1024 topk:512:256:8 midk:16:8192:4096"}
fail=0
for c in $CHECKS; do
  IFS=: read -r kind rows cols k <<<"$c"
  "$PY" "$HERE/torch_rankk_cuda.py" check "$kind" "$rows" "$cols" "$k" "$SPIRAL" vulkan 2>&1 | tee -a "$LOG" | sed 's/^/# /' || fail=1
done
grep -q "check FAIL" "$LOG" && fail=1

# ---- timing
DEFAULT_CASES=""
for k in 1 8 64 256 1024 32768; do DEFAULT_CASES+=" topk:1024:65536:$k"; done
DEFAULT_CASES+=" bottomk:1024:65536:64 topk:1:67108864:64 topk:1:67108864:1024 topk:16384:256:8 midk:1024:65536:32768"
CASES=${CASES:-$DEFAULT_CASES}
echo "| case | ours GPU ms | ours wall ms | torch ms | torch/ours |"
echo "|---|---:|---:|---:|---:|"
for c in $CASES; do
  IFS=: read -r kind rows cols k <<<"$c"
  # the card's clocks, power and temperature before each case, in the log (TopK k=32768 read
  # 3.5x slower inside this table than alone, twice: a low SM clock would explain it)
  command -v nvidia-smi >/dev/null &&
    echo "$c clocks: $(nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv,noheader 2>&1 | head -1)" >>"$LOG"
  out=$("$SPIRAL" bench "$kind" --device vulkan --rows "$rows" --cols "$cols" --k "$k" --reps "$REPS" 2>&1) || true
  echo "$c $out" >>"$LOG"
  ours=$(sed -n 's/^device_ms=//p' <<<"$out")
  wall=$(sed -n 's/^median_ms=//p' <<<"$out")
  peer=$("$PY" "$HERE/torch_rankk_cuda.py" time "$kind" "$rows" "$cols" "$k" "$REPS" 2>&1) || true
  echo "$c $peer" >>"$LOG"
  t=$(sed -n 's/^torch_ms=//p' <<<"$peer")
  if [ -z "$ours" ]; then
    echo "| $kind ${rows}x${cols} k=$k | failed: $(tail -1 <<<"$out") | - | ${t:--} | - |"
    continue
  fi
  awk -v c="$kind ${rows}x${cols} k=$k" -v o="$ours" -v w="$wall" -v t="${t:-0}" \
    'BEGIN { printf "| %s | %.3f | %.3f | %.3f | %.2f |\n", c, o, w, t, (o > 0 ? t / o : 0) }'
done
exit $fail
