#!/usr/bin/env bash
# The test command (README, .ci/run): installs missing packages, then builds and runs the suite twice:
#   build/       Release, with the CUDA backend compiled when nvcc is found (its tests skip without a GPU) and
#                MPI (the `mpi` tests run 2 ranks under mpirun: tests/dist/)
#   build-asan/  -fsanitize=address,undefined, CPU only, with the example programs, so that the command-line
#                suite (tests/cli, docs/errors.md) runs every error path of every program under the sanitizers;
#                without MPI (Open MPI's own allocations at start-up would read as leaks)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
jobs=$(nproc)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

echo "== Release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLF_CUDA=AUTO >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLF_SANITIZE=ON -DLF_CUDA=OFF -DLF_MPI=OFF -DLF_NATIVE=OFF \
  -DLF_BUILD_EXAMPLES=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j"$jobs"
