#!/usr/bin/env bash
# vulkan_midk_variants.sh [NAME] — on a lent GPU machine (after bench/gpu_carry.sh NAME
# here and `carry: [".gl"]`), times the Vulkan exact MidK's opt-in variants against the
# shipped default in the same run, two rounds each, then prints each kernel's GPU time and
# pipeline statistics (registers, shared memory) for a few of them, then the exactness
# tests of that build on the card. Tees everything to $OUT/log when $OUT is set (a run
# cut short still returns what it printed).
# A config is "default" or NAME=VALUE pairs joined by '+', each NAME short for
# ST_VULKAN_RANKK_NAME (docs/env.md): WTILES, NQ, WSTEP, ROFF, GRES, HPRE, GPRE, SORTWG.
# CONFIGS overrides the list, PROFILE the configs profiled after the default, CASE the
# shape (default MidK 1024x65536 k=32768, the issue-6 goal of <= 0.6 ms on an H100), REPS
# (50).
set -uo pipefail
NAME=${1:-head}
cd "$(dirname "$0")/.."
source bench/gpu_env.sh
[ -n "${OUT:-}" ] && exec > >(tee "$OUT/log") 2>&1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
CASE=${CASE:-"midk --rows 1024 --cols 65536 --k 32768"}
M="bench $CASE --device vulkan --reps ${REPS:-50}"
# Default list: the shipped default (every variant on since the eighth session) and each
# part turned back, then all of them (the earlier default).
read -r -a CF <<<"${CONFIGS:-default GRES=0 HPRE=0 GPRE=0 ROFF=0 WTILES=1 WSTEP=4 WTILES=1+WSTEP=4 WTILES=8 NQ=2 ROFF=0+GRES=0+HPRE=0+GPRE=0+WTILES=1+WSTEP=4}"
cfg_env() { # "A=1+B=2" -> ST_VULKAN_RANKK_A=1 ST_VULKAN_RANKK_B=2; "default" -> nothing
  [ "$1" = default ] && return
  local IFS=+
  for kv in $1; do printf 'ST_VULKAN_RANKK_%s ' "$kv"; done
}
one() { env $(cfg_env "$1") bash -c "source bench/gpu_env.sh >/dev/null; gl_spiral $NAME $M" 2>&1 | grep -E '^device_ms|rror'; }
echo "== warm-up (the first run on a cold card reads ~3 ms)"
one "${CF[0]}"
for r in 1 2; do
  for c in "${CF[@]}"; do echo "== round $r config $c"; one "$c"; done
done
for c in "${CF[0]}" ${PROFILE:-GRES=0}; do
  echo "== profile $c"
  env ST_VULKAN_PROFILE=1 $(cfg_env "$c") bash -c "source bench/gpu_env.sh >/dev/null; gl_spiral $NAME $M" 2>&1 |
    grep -B1 -A1 -E 'rx_|fill|GPU time' | grep -vE '^--$' | head -40
done
echo "== tests"
# TESTS: the tests to run (names, or -NAME to leave one out; default all, 150 s at most)
[ -x ".gl/$NAME/test_vk_rankk_exact" ] && timeout 150 ".gl/$NAME/test_vk_rankk_exact" ${TESTS:-} 2>&1 | grep -E '^(ok|FAIL|  FAIL)|passed' | tail -40
