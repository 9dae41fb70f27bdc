#!/usr/bin/env bash
# deps.sh — install the Debian packages the build and the tests need, when missing.
# Runs apt-get only as root and only for packages that are not installed; prints what
# it installs. Usage: scripts/deps.sh [build|test]
set -euo pipefail
mode=${1:-build}
# libvulkan-dev + glslc: the Vulkan backend (headers, shader compiler); the library opens
# the loader at run time, so a machine without a GPU still builds and runs it.
pkgs=(cmake make gcc g++ pkg-config libopenblas-dev libopenblas-openmp-dev libhiredis-dev libvulkan-dev glslc)
if [ "$mode" = test ]; then
  # clang (+ compiler-rt) for libFuzzer targets; python3-numpy/torch are used by the
  # benchmarks only, which `make bench` installs.
  # redis-server: test_kv starts its own on a loopback port.
  # mesa-vulkan-drivers (lavapipe): the Vulkan tests run on the CPU; vulkan-validationlayers:
  # they run once more under the Khronos validation layer.
  pkgs+=(clang libclang-rt-14-dev python3-numpy redis-server libhiredis-dev mesa-vulkan-drivers vulkan-validationlayers)
fi
if [ "$mode" = bench ]; then
  pkgs+=(python3-numpy python3-torch)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages: ${missing[*]} (run as root, or install them: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
