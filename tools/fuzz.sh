#!/usr/bin/env bash
# Fuzzes the loaders of untrusted files with libFuzzer (+ ASan, UBSan) for a bounded time per target:
#   fuzz_safetensors  bytes as a safetensors file, then the MLM path fill_mask takes
#   fuzz_mlm_config   bytes as a model config (and tokenizer model)
# Builds in build-fuzz/ with clang, starts from the seed corpus tests/fuzz/corpus/<target>/ (read only: new
# inputs go to build-fuzz/corpus/<target>/) and exits nonzero when a target crashes; the input that crashed
# is in build-fuzz/artifacts/. FUZZ_SECONDS (default 30) is the time per target.
#   tools/fuzz.sh                      # both targets, 30 s each
#   FUZZ_SECONDS=300 tools/fuzz.sh fuzz_safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_safetensors fuzz_mlm_config)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLF_FUZZ=ON -DLF_CUDA=OFF \
  -DLF_NATIVE=OFF -DLF_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"

declare -A dict=([fuzz_safetensors]=tests/fuzz/safetensors.dict [fuzz_mlm_config]=tests/fuzz/mlm_config.dict)
mkdir -p build-fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  echo "== $t: ${seconds} s"
  mkdir -p "build-fuzz/corpus/$t"
  # One thread: the forward pass of fuzz_mlm_config's tiny models gains nothing from OpenMP.
  if ! OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/$t" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" -dict="${dict[$t]}" \
      -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=4096 -timeout=10 \
      -artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=1; then
    echo "$t: FAILED (see build-fuzz/artifacts/)" >&2
    status=1
  fi
done
exit $status
