#!/usr/bin/env bash
# run.sh BUILD_DIR — our op timings beside PyTorch's, same machine, same run.
#
# Runs BUILD_DIR/bench/bench_ops (ours) and bench/torch_ops.py (PyTorch, with Debian's
# /usr/bin/python3) RUNS times each, alternating which goes first, under one identical
# environment, and prints a table per memory mode:
#   op | ours ms | torch ms | ratio (torch/ours, > 1 = we are faster) | goal >= 0.9
# Each cell is the median over the runs of each run's median (the runs in brackets);
# the "best" columns are the fastest single call seen in any run (less sensitive to
# other load on a shared machine: under load both sides stall in scheduler ticks).
#
# Memory modes (MODES, default "fresh reuse"):
#   fresh  the default malloc: every 64 MiB result is new memory from the kernel, so
#          first-touch page faults are part of each out-of-place call, for both sides
#          (3 warm-up calls, FRESH_REPS timed);
#   reuse  GLIBC_TUNABLES keeps freed memory in the process (mmap_max=0, a huge trim
#          threshold), for both sides, so the timings show the kernels themselves
#          (12 warm-up calls: the heap needs a few rounds to settle, then REPS timed).
# Environment: RUNS (3), REPS (20), FRESH_REPS (10), MODES. OPENBLAS_* variables are passed unchanged to
# both sides (both load the same libopenblas); see docs/benchmarks.md.
set -euo pipefail

BUILD=${1:?usage: bench/run.sh BUILD_DIR}
RUNS=${RUNS:-3}
REPS=${REPS:-20}
FRESH_REPS=${FRESH_REPS:-10}
MODES=${MODES:-fresh reuse}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
OURS=$BUILD/bench/bench_ops
TORCH=$HERE/torch_ops.py
REUSE_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4000000000

[ -x "$OURS" ] || { echo "run.sh: $OURS not found: build first (make build)" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || {
  echo "run.sh: $PY cannot import torch: apt-get install python3-torch (make bench does it)" >&2
  exit 1
}

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "# env: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-<unset>}" \
     "OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS-<unset>} OMP_NUM_THREADS=${OMP_NUM_THREADS-<unset>}"
echo "# runs=$RUNS reps=$REPS (fresh: $FRESH_REPS) threads=2; torch: $("$PY" -c 'import torch; print(torch.__version__)')"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for mode in $MODES; do
  case $mode in
    fresh) tun=${GLIBC_TUNABLES-}; warm=3; reps=$FRESH_REPS ;;
    reuse) tun=$REUSE_TUNABLES; warm=12; reps=$REPS ;;
    *) echo "run.sh: unknown mode '$mode' (fresh, reuse)" >&2; exit 2 ;;
  esac
  : >"$tmp/ours.$mode"
  : >"$tmp/torch.$mode"
  for r in $(seq 1 "$RUNS"); do
    if [ $((r % 2)) -eq 1 ]; then order="ours torch"; else order="torch ours"; fi
    for side in $order; do
      if [ "$side" = ours ]; then
        GLIBC_TUNABLES=$tun "$OURS" --reps "$reps" --warmup "$warm" --threads 2 | grep '^op=' >>"$tmp/ours.$mode"
      else
        GLIBC_TUNABLES=$tun "$PY" "$TORCH" --reps "$reps" --warmup "$warm" --threads 2 | grep '^op=' >>"$tmp/torch.$mode"
      fi
    done
  done
  echo
  if [ "$mode" = fresh ]; then
    echo "## fresh pages (default malloc: each 64 MiB output is first-touched memory)"
  else
    echo "## reused pages (GLIBC_TUNABLES=$REUSE_TUNABLES for both sides)"
  fi
  echo
  awk -v goal=0.9 '
    function med(s,   a, n, i, j, t) {
      n = split(s, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function mn(s,   a, n, i, m) {
      n = split(s, a, " "); m = a[1] + 0
      for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0
      return m
    }
    {
      split($1, o, "="); split($2, m, "="); split($3, b, "=")
      key = o[2]
      if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
      if (FILENAME ~ /ours/) { ours[key] = ours[key] " " m[2]; ob[key] = ob[key] " " b[2] }
      else { torch[key] = torch[key] " " m[2]; tb[key] = tb[key] " " b[2] }
    }
    END {
      printf "| op | ours ms | torch ms | ratio (torch/ours) | goal >= %.1f | best ours | best torch | best ratio |\n", goal
      printf "|---|---:|---:|---:|---|---:|---:|---:|\n"
      for (i = 1; i <= nk; i++) {
        k = order[i]
        if (!(k in ours) || !(k in torch)) { printf "| %s | %s | %s | - | missing | | | |\n", k, ours[k], torch[k]; continue }
        x = med(ours[k]); y = med(torch[k]); ratio = y / x
        bx = mn(ob[k]); by = mn(tb[k])
        printf "| %s | %.1f [%s ] | %.1f [%s ] | %.2f | %s | %.1f | %.1f | %.2f |\n", k, x, ours[k], y, torch[k], ratio,
               (ratio >= goal ? "ok" : "MISS"), bx, by, by / bx
      }
    }' "$tmp/ours.$mode" "$tmp/torch.$mode"
done
