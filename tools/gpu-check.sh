#!/usr/bin/env bash
# The GPU check (issue: CUDA backend). On a machine with an NVIDIA GPU: configure with CUDA, build with all
# cores, run the `cuda` tests, then a short benchmark — the MLM training step side by side with PyTorch and
# Linformer vs standard attention at inference for n = 4096 ... 65536. Designed to finish in < 8 minutes on
# an H200. Writes everything to $LOG_DIR (default runs/gpu-check) and prints it.
#
#   bash tools/gpu-check.sh                    # CUDA architectures default to the local GPU's ("native")
#   CUDA_ARCH=90 LOG_DIR=$OUT bash tools/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
log=${LOG_DIR:-runs/gpu-check}
mkdir -p "$log"
arch=${CUDA_ARCH:-native}
exec > >(tee "$log/gpu-check.log") 2>&1
echo "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null)"
step() { echo; echo "== $*"; }

step "configure + build (CUDA architectures $arch)"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DLF_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" >/dev/null || exit 1
timeout 300 cmake --build build-gpu -j"$(nproc)" 2>&1 | grep -E "error|warning|Built target" | tail -30
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build failed"; exit 1; }

step "cuda tests"
timeout 120 ctest --test-dir build-gpu -L cuda --output-on-failure
tests_rc=$?

step "MLM training step (n 512, k 128, dim 128, depth 4, heads 4, batch 8), lf vs PyTorch eager"
timeout 120 build-gpu/bench_train_step --device cuda --steps 20 --warmup 5 --torch --profile
timeout 60 build-gpu/bench_train_step --device cuda --steps 20 --warmup 5 --attention standard

step "inference scaling, k = 128"
timeout 150 build-gpu/bench_scaling --device cuda --ns 4096 8192 16384 32768 65536 --ks 128 --tokens 65536 \
  --max-gb 100 --out "$log"

echo; echo "== done (cuda tests exit code $tests_rc)"
exit $tests_rc
