#!/bin/bash
# The library's layering, checked on every include line (ctest runs this as `layering`):
#   core <- backends <- autograd <- ops <- nn <- io, dist      data <- (core, ops)
# A folder may include its own headers and those of the folders it lists below; nothing else. Only the
# backends themselves name a device backend's folder (backends/cpu/, backends/cuda/).
cd "$(dirname "$0")/.." || exit 2
declare -A allowed=(
  [core]="core"
  [backends]="core backends"
  [autograd]="core backends autograd"
  [ops]="core backends autograd ops"
  [nn]="core autograd ops nn"
  [data]="core autograd ops data"
  [io]="core autograd ops nn io"
  [dist]="core autograd ops nn dist"
)
bad=0
for dir in "${!allowed[@]}"; do
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
    top=${inc%%/*}
    ok=0
    for a in ${allowed[$dir]}; do [[ $top == "$a" ]] && ok=1; done
    # backends/cpu and backends/cuda are private to backends/
    if [[ $dir != backends && ( $inc == backends/cpu/* || $inc == backends/cuda/* ) ]]; then ok=0; fi
    if ((!ok)); then
      echo "layering: $file includes \"$inc\" (allowed from $dir/: ${allowed[$dir]})"
      bad=1
    fi
  done < <(grep -rn '#include "' "$dir" --include=*.h --include=*.cpp --include=*.cu --include=*.cuh | grep -v '#include "[a-z_]*\.h"')
done
((bad)) && exit 1
echo "layering: every include follows core <- backends <- autograd <- ops <- nn <- io, dist; data <- core, ops"
