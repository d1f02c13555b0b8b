#!/usr/bin/env bash
# Installs the Debian packages linformer.cpp needs, only those that are missing (needs root for apt-get).
set -euo pipefail
pkgs=(cmake g++ make pkg-config libopenblas-dev libfmt-dev catch2 zlib1g-dev nlohmann-json3-dev libcli11-dev
      libbenchmark-dev libsentencepiece-dev liblapacke-dev libopenmpi-dev openmpi-bin fortunes dataset-fashion-mnist)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
