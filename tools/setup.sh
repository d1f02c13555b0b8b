#!/usr/bin/env bash
# The main command (README): installs missing Debian packages, builds, and trains a masked language model
# on the `fortunes` corpus with the defaults of build/train_mlm (a few minutes on 2 cores).
# Extra arguments go to train_mlm, e.g.  bash tools/setup.sh --attention standard
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLF_CUDA=AUTO >/dev/null
cmake --build build -j"$(nproc)"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
build/train_mlm "$@"
