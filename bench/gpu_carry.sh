#!/usr/bin/env bash
# gpu_carry.sh [NAME[=DIFF] ...] — prepares a git-ignored folder (.gl/, or $CARRY) for a
# run on a lent GPU machine that has NVIDIA's Vulkan driver but neither the Vulkan loader
# nor our run-time libraries (OpenBLAS, hiredis; see ../shared/PLATFORM.md):
#   .gl/deb/  the loader and glvnd packages (unpacked into / there),
#   .gl/dep/  libopenblas0-openmp, libgfortran5, libquadmath0, libgomp1, libhiredis0.14
#             (unpacked into /tmp/dep there, put on LD_LIBRARY_PATH),
#   .gl/NAME/ a Release build's `spiral`, libspiraltorch.so*, bench_vk_ops and the test_vk_* binaries
#             (which link the library statically): NAME alone builds HEAD; NAME=DIFF
#             builds HEAD with DIFF applied (e.g. a diff kept in docs/notes), in a
#             temporary worktree.
# Then carry `.gl` and start the command there with `source bench/gpu_env.sh`; run a
# build as `gl_spiral NAME bench midk --device vulkan ...` (see gpu_env.sh), or the whole
# comparison with torch as `bench/vulkan.sh .gl/NAME`.
# Default: one build of HEAD named `head`. TESTS=0 leaves the test binaries out (each
# build is ~18 MB with them, ~4 without; a run carries 64 MiB at most). Needs apt-get
# (download only), cmake, glslc.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CARRY=${CARRY:-$ROOT/.gl}
mkdir -p "$CARRY/deb" "$CARRY/dep"
grep -qx '/.gl/' "$ROOT/.gitignore" 2>/dev/null || echo "gpu_carry.sh: note: $CARRY should be git-ignored" >&2
( cd "$CARRY/deb" && [ -n "$(ls ./*.deb 2>/dev/null)" ] ||
  apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null )
( cd "$CARRY/dep" && [ -n "$(ls ./*.deb 2>/dev/null)" ] ||
  apt-get download libopenblas0-openmp libgfortran5 libquadmath0 libgomp1 libhiredis0.14 >/dev/null )
[ $# -gt 0 ] || set -- head
for spec in "$@"; do
  name=${spec%%=*}
  diff=; [ "$name" != "$spec" ] && diff=${spec#*=}
  case $name in ''|deb|dep|*/*) echo "gpu_carry.sh: bad build name '$name'" >&2; exit 2 ;; esac
  wt=$(mktemp -d /tmp/gpu_carry.XXXXXX)
  git -C "$ROOT" worktree add -q --detach "$wt" HEAD
  if [ -n "$diff" ]; then
    [ -f "$diff" ] || { echo "gpu_carry.sh: no diff '$diff'" >&2; git -C "$ROOT" worktree remove --force "$wt"; exit 2; }
    git -C "$wt" apply "$(cd "$(dirname "$diff")" && pwd)/$(basename "$diff")"
  fi
  echo "gpu_carry.sh: building $name ($(git -C "$ROOT" rev-parse --short HEAD)${diff:+ + $diff})"
  cmake -S "$wt" -B "$wt/b" -DCMAKE_BUILD_TYPE=Release -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON >/dev/null # $ORIGIN runpaths: finds its library beside it
  cmake --build "$wt/b" -j"$(nproc)" >/dev/null
  rm -rf "${CARRY:?}/$name" && mkdir -p "$CARRY/$name"
  cp -a "$wt/b/spiral" "$wt"/b/libspiraltorch.so* "$CARRY/$name/"
  [ "${TESTS:-1}" = 0 ] || cp "$wt"/b/tests/test_vk_* "$CARRY/$name/" 2>/dev/null || true
  [ -x "$wt/b/bench/bench_vk_ops" ] && cp "$wt/b/bench/bench_vk_ops" "$CARRY/$name/"
  strip --strip-unneeded "$CARRY/$name"/* 2>/dev/null || true
  git -C "$ROOT" worktree remove --force "$wt"
done
du -sh "$CARRY"
