#!/usr/bin/env bash
# vulkan.sh [BUILD_DIR] — the Vulkan backend beside PyTorch on CUDA on one GPU (issue 6):
# rank-K (bench/vulkan_rankk.sh: correctness checks, then every case with medians and
# ratios), f32 add of 2^26 elements and a 4096^3 f32 matmul (bench_vk_ops vs
# bench/torch_ops_cuda.py, TF32 off), and `spiral train --device vulkan`.
# BUILD_DIR (default build-rel) is built when it has no `spiral`; a GPU machine without
# glslc can take a BUILD_DIR built elsewhere (binaries + libspiraltorch).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${1:-$ROOT/build-rel}
PY=${PY:-python3}
if [ ! -x "$BUILD/spiral" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build "$BUILD" -j"$(nproc)" >/dev/null
fi
BVK=$BUILD/bench/bench_vk_ops
[ -x "$BVK" ] || BVK=$BUILD/bench_vk_ops
echo "## rank-K"
"$HERE/vulkan_rankk.sh" "$BUILD"
echo "## elementwise add and matmul (ours | torch)"
"$BVK" --device vulkan --reps 20
"$PY" "$HERE/torch_ops_cuda.py" 26 4096 20
echo "## spiral train --device vulkan"
"$BUILD/spiral" train --device vulkan | tail -2
