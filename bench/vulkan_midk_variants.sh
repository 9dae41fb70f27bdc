#!/usr/bin/env bash
# vulkan_midk_variants.sh [NAME] — on a lent GPU machine (after bench/gpu_carry.sh NAME
# here and `carry: [".gl"]`), times the Vulkan exact MidK's opt-in variants against the
# shipped default in the same run, two rounds each, then prints each kernel's GPU time and
# pipeline statistics (registers, shared memory) for a few of them, then the exactness
# tests of that build on the card. Tees everything to $OUT/log when $OUT is set (a run
# cut short still returns what it printed).
# A config is "WTILES,NQ,WSTEP,ROFF,GRES" (docs/env.md: ST_VULKAN_RANKK_WTILES, _NQ,
# _WSTEP, _ROFF, _GRES); "1,4,4,0,0" is the default. CONFIGS overrides the list, CASE the shape
# (default MidK 1024x65536 k=32768, the issue-6 goal of <= 0.6 ms on an H100), REPS (50).
set -uo pipefail
NAME=${1:-head}
cd "$(dirname "$0")/.."
source bench/gpu_env.sh
[ -n "${OUT:-}" ] && exec > >(tee "$OUT/log") 2>&1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
CASE=${CASE:-"midk --rows 1024 --cols 65536 --k 32768"}
M="bench $CASE --device vulkan --reps ${REPS:-50}"
read -r -a CF <<<"${CONFIGS:-1,4,4,0,0 2,4,4,0,0 4,4,4,0,0 8,4,4,0,0 1,4,8,0,0 2,4,8,0,0 4,4,8,0,0 8,4,8,0,0 1,2,4,0,0 1,4,4,1,0 1,4,4,0,1 1,4,4,1,1 1,2,4,1,1 2,2,8,1,1 4,2,8,1,1 8,2,8,1,1}"
cfg_env() { # "W,Q,S,R,G" -> env assignments
  local w q s r g
  IFS=, read -r w q s r g <<<"$1"
  echo "ST_VULKAN_RANKK_WTILES=$w ST_VULKAN_RANKK_NQ=$q ST_VULKAN_RANKK_WSTEP=$s ST_VULKAN_RANKK_ROFF=${r:-0} ST_VULKAN_RANKK_GRES=${g:-0}"
}
one() { env $(cfg_env "$1") bash -c "source bench/gpu_env.sh >/dev/null; gl_spiral $NAME $M" 2>&1 | grep -E '^device_ms|rror'; }
echo "== warm-up (the first run on a cold card reads ~3 ms)"
one "${CF[0]}"
for r in 1 2; do
  for c in "${CF[@]}"; do echo "== round $r config $c"; one "$c"; done
done
for c in "${CF[0]}" ${PROFILE:-1,4,4,1,1 4,2,8,1,1 2,4,8,0,0}; do
  echo "== profile $c"
  env ST_VULKAN_PROFILE=1 $(cfg_env "$c") bash -c "source bench/gpu_env.sh >/dev/null; gl_spiral $NAME $M" 2>&1 |
    grep -B1 -A1 -E 'rx_|fill|GPU time' | grep -vE '^--$' | head -40
done
echo "== tests"
[ -x ".gl/$NAME/test_vk_rankk_exact" ] && timeout 150 ".gl/$NAME/test_vk_rankk_exact" 2>&1 | tail -4
