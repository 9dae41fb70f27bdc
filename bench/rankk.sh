#!/usr/bin/env bash
# rankk.sh BUILD_DIR — rank-K on the CPU beside torch.topk and numpy.argpartition, same
# machine, same run, 2 threads (SPEC §3, issue 5). Ours: `spiral bench` (median of REPS
# after warm-up, through the public API and the heuristics chain). Peers:
# bench/torch_rankk.py under Debian's /usr/bin/python3.
# Prints: case | ours ms | torch ms | torch/ours | numpy ms | numpy/ours.
# Environment: REPS (5), CASES (a subset, e.g. "topk:1024:65536:64"), ST_BENCH_THREADS (2).
set -euo pipefail
BUILD=${1:?usage: bench/rankk.sh BUILD_DIR}
REPS=${REPS:-5}
THREADS=${ST_BENCH_THREADS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
SPIRAL=$BUILD/spiral
PY=/usr/bin/python3
[ -x "$SPIRAL" ] || { echo "rankk.sh: $SPIRAL not found (make build)" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || { echo "rankk.sh: $PY cannot import torch (make bench installs python3-torch)" >&2; exit 1; }
DEFAULT_CASES=""
for k in 1 8 64 1024 32768; do DEFAULT_CASES+=" topk:1024:65536:$k"; done
for k in 1 8 64 1024 32768; do DEFAULT_CASES+=" topk:1:16777216:$k"; done
DEFAULT_CASES+=" bottomk:1024:65536:64 bottomk:1024:65536:1024 midk:1024:65536:32768 midk:1:16777216:8388608"
CASES=${CASES:-$DEFAULT_CASES}
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); threads=$THREADS reps=$REPS"
echo "| case | ours ms | torch ms | torch/ours | numpy ms | numpy/ours |"
echo "|---|---:|---:|---:|---:|---:|"
for c in $CASES; do
  IFS=: read -r kind rows cols k <<<"$c"
  ours=$(ST_NUM_THREADS=$THREADS "$SPIRAL" bench "$kind" --rows "$rows" --cols "$cols" --k "$k" --device cpu --reps "$REPS" | sed -n 's/^median_ms=//p')
  peer=$(ST_BENCH_THREADS=$THREADS "$PY" "$HERE/torch_rankk.py" "$kind" "$rows" "$cols" "$k" "$REPS")
  t=$(sed -n 's/^torch_ms=//p' <<<"$peer"); n=$(sed -n 's/^numpy_ms=//p' <<<"$peer")
  awk -v c="$kind ${rows}x${cols} k=$k" -v o="$ours" -v t="$t" -v n="$n" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.1f | %.1f |\n", c, o, t, t / o, n, n / o }'
done
