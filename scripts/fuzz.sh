#!/usr/bin/env bash
# fuzz.sh — build each libFuzzer target with clang and run it for a bounded time.
#   scripts/fuzz.sh [NAME ...]     (default: every tests/fuzz/fuzz_*.c)
#   FUZZ_SECONDS=60 (per target)   FUZZ_DIR=build-fuzz
# New corpus entries go to tests/fuzz/corpus/NAME; crashes are copied to
# tests/fuzz/crashes/NAME so that `make test` replays them forever after.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
out=${FUZZ_DIR:-build-fuzz}
mkdir -p "$out"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do n=$(basename "$f" .c); names+=("${n#fuzz_}"); done
fi
srcs=$(ls src/*/*.c)
for n in "${names[@]}"; do
  echo "fuzz: building $n"
  clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
    $srcs "tests/fuzz/fuzz_$n.c" $(pkg-config --libs openblas) -lm -lpthread -o "$out/fuzz_$n"
  mkdir -p "tests/fuzz/corpus/$n" "$out/crashes-$n"
  echo "fuzz: running $n for ${secs}s"
  set +e
  "$out/fuzz_$n" -max_total_time="$secs" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
    -artifact_prefix="$out/crashes-$n/" "tests/fuzz/corpus/$n"
  rc=$?
  set -e
  if ls "$out/crashes-$n"/* >/dev/null 2>&1; then
    mkdir -p "tests/fuzz/crashes/$n"
    cp "$out/crashes-$n"/* "tests/fuzz/crashes/$n/"
    echo "fuzz: $n found crashes; copied to tests/fuzz/crashes/$n (fix them; they are replayed by make test)"
  fi
  [ $rc -eq 0 ] || exit $rc
done
