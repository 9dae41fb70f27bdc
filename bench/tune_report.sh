#!/usr/bin/env bash
# tune_report.sh — tune -> generate -> rebuild -> compare, for one device (issue 7).
#   bench/tune_report.sh [DEVICE] [BUILD_DIR]        (defaults: cpu, build)
#   TUNE_ARGS="--reps 5"   extra `spiral tune` options (e.g. --quick, --grid ...)
#   BENCH_REPS=9           timed rounds per choice in the comparison
#   OUT=/tmp/tune-report   where tuner.json, the tables and the tuned build go
# 1. `spiral tune` on the device (the built-in grid: 60 shapes, one per bucket);
# 2. gen_heuristics_table into $OUT/tables;
# 3. a second build with those tables compiled in (-DST_HEUR_TABLES_DIR), the tree untouched;
# 4. bench_tune from that build: per shape the fallback's, the table's and the best
#    time, and the summary (share within 1.10x of best, geometric-mean slowdowns).
set -euo pipefail
cd "$(dirname "$0")/.."
dev=${1:-cpu}
build=${2:-build}
out=${OUT:-/tmp/tune-report}
mkdir -p "$out/tables"
cmake --build "$build" --target spiral gen_heuristics_table >/dev/null
echo "== 1. tune on $dev" >&2
"$build/spiral" tune --device "$dev" ${TUNE_ARGS:-} -o "$out/tuner.json"
echo "== 2. generate" >&2
"$build/gen_heuristics_table" "$out/tuner.json" "$out/tables/table_topk_generated.c" "$out/tables/table_midk_generated.c"
echo "== 3. rebuild with the tables" >&2
cmake -S . -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DST_BUILD_TESTS=OFF -DST_HEUR_TABLES_DIR="$out/tables" >/dev/null
cmake --build "$out/build" -j "$(nproc)" --target spiral bench_tune >/dev/null
"$out/build/spiral" heur choose --rows 256 --cols 4096 --k 16 >&2
echo "== 4. compare" >&2
"$out/build/bench/bench_tune" "$out/tuner.json" --device "$dev" --reps "${BENCH_REPS:-9}" | tee "$out/report.md"
