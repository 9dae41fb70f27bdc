# gpu_env.sh — `source` it on a lent GPU machine, from the repository root, with the
# folder bench/gpu_carry.sh filled (.gl/, or $CARRY) carried along: where no Vulkan loader
# is installed, unpacks it into / (the lent machine has NVIDIA's driver but no loader; see
# ../shared/PLATFORM.md)
# and our run-time libraries into /tmp/dep, points the loader at NVIDIA's ICD, and
# defines gl_spiral NAME ARGS... (runs .gl/NAME/spiral with its own library first).
CARRY=${CARRY:-.gl}
if ! ldconfig -p | grep -q libvulkan.so.1; then # a machine that has a loader keeps its own
  for f in "$CARRY"/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
mkdir -p /tmp/dep
for f in "$CARRY"/dep/*.deb; do dpkg -x "$f" /tmp/dep; done
export LD_LIBRARY_PATH=/tmp/dep/usr/lib/x86_64-linux-gnu/openblas-openmp:/tmp/dep/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
gl_spiral() {
  local b=$1
  shift
  LD_LIBRARY_PATH="$CARRY/$b:$LD_LIBRARY_PATH" "$CARRY/$b/spiral" "$@"
}
ldconfig -p | grep -q libvulkan.so.1 || echo "gpu_env.sh: the Vulkan loader is still missing" >&2
