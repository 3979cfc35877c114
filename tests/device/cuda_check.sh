#!/usr/bin/env bash
# The CUDA checks of the engine, for a GPU machine that has PyTorch's pip wheel (CUDA LibTorch with
# NCCL) but no Qt and no package registry, e.g. the `device` machine some tasks are lent:
#   tests/device/cuda_check.sh DEBS_DIR OUT_DIR
# DEBS_DIR holds the Debian 12 packages of the non-torch dependencies, fetched on a Debian machine with
#   apt-get download lp-solve liblpsolve55-dev libcolamd2 libsuitesparseconfig5 libamd2 libcamd2 \
#     libccolamd2 libcholmod3 nlohmann-json3-dev libcli11-dev libsqlite3-dev libsqlite3-0 zlib1g-dev
# They are unpacked into a private prefix, never into /. Then: build the Qt-free CLI against the
# wheel's LibTorch, `tfreeze doctor --backend nccl` (world size 1), and the default config on CUDA
# for 200 steps with the none and timelyfreeze freezers (`tfreeze bench train`).
set -euo pipefail
debs=$(cd "${1:?usage: $0 DEBS_DIR OUT_DIR}" && pwd)
out=${2:?usage: $0 DEBS_DIR OUT_DIR}
mkdir -p "$out"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
prefix=/tmp/tfreeze-deps
rm -rf "$prefix"
for deb in "$debs"/*.deb; do dpkg -x "$deb" "$prefix"; done
arch=x86_64-linux-gnu
# The dev packages' symlinks point at runtime libraries this machine already has: use its own.
for lib in libz.so.1 libsqlite3.so.0; do
    system=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
    if [[ -n "$system" ]]; then ln -sf "$system" "$prefix/usr/lib/$arch/${lib%.*}"; fi
done
export LD_LIBRARY_PATH="$prefix/usr/lib/$arch:$prefix/usr/lib/lp_solve:${LD_LIBRARY_PATH:-}"

torchPrefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
ncclInclude=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "include"))' 2>/dev/null || true)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$out/gpu.txt"

start=$(date +%s)
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DTFREEZE_GUI=OFF -DTFREEZE_TESTS=OFF \
    -DTFREEZE_CUDA=ON -DCMAKE_PREFIX_PATH="$torchPrefix;$prefix/usr" \
    -DLPSOLVE_INCLUDE_DIR="$prefix/usr/include/lpsolve" -DLPSOLVE_LIBRARY="$prefix/usr/lib/lp_solve/liblpsolve55.so" \
    ${ncclInclude:+-DNCCL_INCLUDE_DIR="$ncclInclude"} 2>&1 | tee "$out/configure.log" | grep -E "tfreeze|Error|error" || true
cmake --build build-cuda -j"$(nproc)" --target tfreeze 2>&1 | tee "$out/build.log" | grep -E "error|warning: unused" | head -40 || true
[[ -x build-cuda/app/tfreeze/tfreeze ]] || { echo "cuda_check: the build failed (see build.log)"; exit 1; }
echo "build: $(( $(date +%s) - start )) s" | tee "$out/summary.txt"

tfreeze=build-cuda/app/tfreeze/tfreeze
MASTER_PORT=29611 "$tfreeze" doctor --backend nccl --rounds 50 2>&1 | tee "$out/doctor-nccl.txt"
MASTER_PORT=29612 "$tfreeze" doctor --backend gloo --rounds 20 2>&1 | tee "$out/doctor-gloo.txt" || true
"$tfreeze" bench train --device cuda --steps 200 --freezers none,timelyfreeze --json "$out/bench-cuda.json" 2>&1 \
    | tr '\r' '\n' | grep -v "^  step" | tee "$out/bench-cuda.txt"
echo "total: $(( $(date +%s) - start )) s" | tee -a "$out/summary.txt"
