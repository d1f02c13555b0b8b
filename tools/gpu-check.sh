#!/usr/bin/env bash
# The one device script: everything a GPU session measures, in one call, ordered by value, within $BUDGET
# seconds (default 540: a 10-minute device call with room for the start). On the device machine, after
# ../shared/gpu/prepare (docs/benchmarks.md, "GPU: what part 1 prepared", names the packages):
#
#   source .gpu/unpack && bash tools/gpu-check.sh            # run: carry [".gpu"], timeout_s 600
#
# Steps, each under `timeout` and each teeing its output into its own file $OUT/NN-name.log ($OUT: the
# device tool's folder, whose files come back even when the call is killed; default runs/gpu-check):
#   00 environment   nvidia-smi, nvcc, cmake, python3 and torch.cuda, cuBLAS headers and libraries
#   01 configure     CMake with Ninja (make when ninja is absent), -DLF_CUDA=ON, the GPU's architecture
#   02 build         only the targets run below, -j$JOBS (16)
#   03 cuda tests    every cuda test; the 20-step CPU/GPU training parity prints its worst relative difference
#   04-05 train step lf vs PyTorch eager, Linformer then standard (n 512, k 128, dim 128, depth 4, heads 4, batch 8)
#   06-07 scaling    inference n = 4096 ... 65536, k = 128 and 256: lf (bench_scaling) vs standard attention,
#                    then the twin (torch_twin.py forward) with scaled_dot_product_attention
#   08 profile       the per-op profile of one GPU training step
#   09-10 sanitizer  compute-sanitizer memcheck, then racecheck, on the cuda tests, with what time is left
# A step that cannot run (no GPU visible, no time left in the budget) still writes its log file,
# saying why. $OUT/summary.txt has one line per step: exit code and seconds. Without a GPU (a rehearsal on
# a CPU machine) the script stops after the build with exit code 3.
#
# Environment: OUT, BUILD_DIR (build-gpu), CUDA_ARCH (the GPU's compute capability, else "80;90"),
# JOBS (16), BUDGET (540), BUILD_LIMIT (300 s; a rehearsal on 2 cores needs ~600), LF_PYTHON (python3: the
# python with PyTorch for the twin).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/gpu-check}
build=${BUILD_DIR:-build-gpu}
jobs=${JOBS:-16}
budget=${BUDGET:-540}
py=${LF_PYTHON:-python3}
mkdir -p "$out"
: >"$out/summary.txt"
exec > >(tee "$out/gpu-check.log") 2>&1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}

# step NAME LIMIT CMD...: runs CMD (a program; a function through `bash -c` after export -f) under `timeout` (at most LIMIT seconds, less when the budget runs out),
# its output shown and kept in $out/NAME.log; records the exit code and the time in summary.txt.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((budget - SECONDS))
  ((limit > left)) && limit=$left
  echo
  echo "== $name (limit ${limit}s, ${SECONDS}s elapsed) $(date -u +%T)"
  if ((limit < 10)); then
    skip "$name" "only ${left}s of the ${budget}s budget left"
    return 124
  fi
  local t0=$SECONDS
  timeout --kill-after=5 "$limit" "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  ((rc == 124 || rc == 137)) && echo "!! $name: timed out after ${limit}s" | tee -a "$out/$name.log"
  printf '%-22s rc %3d  %4ds\n' "$name" "$rc" $((SECONDS - t0)) >>"$out/summary.txt"
  return "$rc"
}
skip() {  # skip NAME WHY: the step's log says why it did not run
  echo "== $1: skipped: $2" | tee "$out/$1.log"
  printf '%-22s skipped: %s\n' "$1" "$2" >>"$out/summary.txt"
}

environment() {
  echo "date:    $(date -u +%FT%TZ)   host: $(hostname)   cores: $(getconf _NPROCESSORS_ONLN)"
  echo "-- nvidia-smi"
  nvidia-smi || echo "nvidia-smi: not available (no driver, or no GPU)"
  echo "-- nvcc"
  { command -v nvcc || ls /usr/local/cuda/bin/nvcc; } 2>/dev/null && { nvcc --version 2>/dev/null ||
    /usr/local/cuda/bin/nvcc --version; } || echo "nvcc: not found"
  echo "-- cmake and the generator"
  cmake --version | head -1
  command -v ninja >/dev/null && echo "ninja $(ninja --version)" || echo "ninja: not found (make will build)"
  echo "-- python: $py -> $(command -v "$py" || echo 'not found')"
  echo "torch: $("$py" -c 'import torch; print(torch.__version__, "cuda available:", torch.cuda.is_available(),
                  torch.cuda.get_device_name() if torch.cuda.is_available() else "")' 2>&1 | tail -1)"
  echo "-- cuBLAS in /usr/local/cuda"
  ls /usr/local/cuda/include/cublas_v2.h 2>/dev/null || echo "cublas_v2.h: missing"
  ls /usr/local/cuda/lib64/libcublas.so* /usr/local/cuda/targets/*/lib/libcublas.so* 2>/dev/null | head -3 ||
    echo "libcublas.so: missing"
  echo "-- compute-sanitizer: $(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null ||
    echo 'not found')"
}
export py
export -f environment
step 00-environment 30 bash -c environment

gpu_arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
arch=${CUDA_ARCH:-${gpu_arch:-80;90}}
gen=(-G Ninja)
command -v ninja >/dev/null || gen=()
[ -f "$build/CMakeCache.txt" ] && gen=()  # an existing build folder keeps its generator
targets=(test_cuda_ops test_cuda_async test_cuda_training bench_train_step bench_scaling)
step 01-configure 90 cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DLF_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" || {
  echo "configure failed: see $out/01-configure.log (a package missing from .gpu/? docs/benchmarks.md lists them)"
  exit 1
}
step 02-build "${BUILD_LIMIT:-300}" cmake --build "$build" -j"$jobs" --target "${targets[@]}" ||
  { echo "build failed: see $out/02-build.log"; exit 1; }

have_gpu=1
nvidia-smi -L 2>/dev/null | grep -q "^GPU " || have_gpu=0
gpu_steps=(03-cuda-tests 04-step-linformer 05-step-standard 06-scaling-lf 07-scaling-torch 08-profile
           09-memcheck 10-racecheck)
if ((!have_gpu)); then
  echo
  echo "!! no GPU visible (nvidia-smi -L lists none): the build is done; the GPU steps cannot run here"
  for s in "${gpu_steps[@]}"; do skip "$s" "no GPU visible (nvidia-smi -L)"; done
  echo; cat "$out/summary.txt"
  exit 3
fi

export b=$build
cuda_tests() {
  local rc=0
  for t in test_cuda_ops test_cuda_async test_cuda_training; do
    echo "-- $t"
    "$b/$t" || rc=1
  done
  return $rc
}
export -f cuda_tests
step 03-cuda-tests 120 bash -c cuda_tests
tests_rc=$?
model=(--n 512 --k 128 --dim 128 --depth 4 --heads 4 --batch 8 --device cuda)
timed=(--steps 20 --warmup 5)
step 04-step-linformer 110 env LF_PYTHON="$py" "$b/bench_train_step" "${model[@]}" "${timed[@]}" --torch --rounds 2
step 05-step-standard 70 env LF_PYTHON="$py" "$b/bench_train_step" "${model[@]}" "${timed[@]}" --attention standard \
  --torch
scale=(--ns 4096 8192 16384 32768 65536 --ks 128 256 --tokens 65536 --dim 128 --heads 4 --depth 1 --max-gb 100
       --min-seconds 1 --reps 3 --device cuda)
step 06-scaling-lf 120 "$b/bench_scaling" "${scale[@]}" --out "$out/scaling"
step 07-scaling-torch 120 "$py" bench/torch_twin.py forward "${scale[@]}"
step 08-profile 45 "$b/bench_train_step" "${model[@]}" --steps 2 --warmup 2 --profile
cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
step 09-memcheck 120 "$cs" --tool memcheck --error-exitcode 1 "$b/test_cuda_ops"
step 10-racecheck 90 "$cs" --tool racecheck --error-exitcode 1 "$b/test_cuda_async"

echo
echo "== done in ${SECONDS}s (cuda tests exit code $tests_rc)"
cat "$out/summary.txt"
exit $tests_rc
