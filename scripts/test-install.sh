#!/usr/bin/env bash
# test-install.sh BUILD_DIR — install the library into a scratch prefix, then build and
# run examples/consumer against the installed copy, once through the exported CMake
# package and once through pkg-config. Prints "2 passed, 0 failed" on success.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -n1)
pass=0; fail=0
# 1. CMake package
if cmake -S examples/consumer -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null &&
   cmake --build "$tmp/cm" >/dev/null &&
   LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer"; then pass=$((pass+1)); else echo "FAIL: CMake package consumer"; fail=$((fail+1)); fi
# 2. pkg-config
if PKG_CONFIG_PATH="$libdir/pkgconfig" cc -std=c11 -Wall -Werror examples/consumer/main.c -o "$tmp/pc-consumer" \
     $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs spiraltorch) &&
   LD_LIBRARY_PATH="$libdir" "$tmp/pc-consumer"; then pass=$((pass+1)); else echo "FAIL: pkg-config consumer"; fail=$((fail+1)); fi
# The installed tree has the header, the versioned library (SONAME) and the CLI.
test -f "$tmp/prefix/include/spiraltorch.h" || { echo "FAIL: header not installed"; fail=$((fail+1)); }
readelf -d "$libdir/libspiraltorch.so" | grep -q 'SONAME.*libspiraltorch.so.0' || { echo "FAIL: SONAME"; fail=$((fail+1)); }
LD_LIBRARY_PATH="$libdir" "$tmp/prefix/bin/spiral" --version >/dev/null || { echo "FAIL: installed spiral"; fail=$((fail+1)); }
echo "install: $pass passed, $fail failed"
[ $fail -eq 0 ]
