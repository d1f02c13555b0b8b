#!/usr/bin/env bash
# metrics_no_duplicates.sh BUILD_DIR WORK_DIR: a run that crashed after its last checkpoint has logged
# steps the checkpoint does not hold; resuming from that checkpoint must drop those rows before it writes
# them again, so that metrics.csv has every step once and equals a straight run's. The crash is made
# deterministic: stop at step 4 (checkpoint), keep that checkpoint, run on to step 7 (rows 5..7 logged),
# then resume from the kept step-4 checkpoint to the end.
set -eu
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
check() {  # check DIR STRAIGHT_DIR STEP_COLUMN COLUMNS
  local steps dups
  steps=$(tail -n +2 "$1/metrics.csv" | cut -d, -f"$3")
  dups=$(echo "$steps" | sort -n | uniq -d | tr '\n' ' ')
  [ -z "$dups" ] || fail "$1/metrics.csv repeats steps: $dups"
  [ "$(echo "$steps" | sort -n | tr '\n' ' ')" = "$(echo "$steps" | tr '\n' ' ')" ] || fail "$1: steps out of order"
  diff <(cut -d, -f"$4" "$1/metrics.csv") <(cut -d, -f"$4" "$2/metrics.csv") || fail "$1 differs from $2"
  echo "ok: $1/metrics.csv has each step once and equals $2's"
}

mlm="--corpus /usr/share/common-licenses/GPL-3 --tokenizer bytes --seq-len 16 --k 8 --dim 16 --depth 1 --heads 2
     --batch 2 --steps 10 --warmup 3 --eval-every 3 --eval-batches 2 --checkpoint-every 100"
# shellcheck disable=SC2086
"$bin/train_mlm" $mlm --out straight >/dev/null 2>&1 || fail "train_mlm straight"
"$bin/train_mlm" $mlm --out crashed --stop-at 4 >/dev/null 2>&1 || fail "train_mlm --stop-at 4"
cp crashed/checkpoint.safetensors step4.safetensors
"$bin/train_mlm" --resume step4.safetensors --out crashed --stop-at 7 >/dev/null 2>&1 || fail "resume to 7"
[ "$(tail -n 1 crashed/metrics.csv | cut -d, -f1)" = 7 ] || fail "the log should reach step 7"
"$bin/train_mlm" --resume step4.safetensors --out crashed >out.txt 2>&1 || fail "resume from step 4"
grep -q "dropped 3 rows after step 4" out.txt || fail "no 'dropped 3 rows' message: $(cat out.txt)"
check crashed straight 1 1-5

if [ -z "${LF_CLI_NO_FASHION:-}" ]; then
  # Fashion-MNIST logs a row per epoch (16 steps): stop in epoch 2 (step 20), keep that checkpoint, run on
  # past epoch 2's end (its row at step 32), then resume from step 20 again.
  fashion="--patch 7 --dim 8 --depth 1 --heads 2 --batch 16 --train-images 256 --test-images 100 --epochs 3
           --warmup 4 --checkpoint-every 1000"
  "$bin/train_fashion_mnist" $fashion --out f_straight >/dev/null 2>&1 || fail "fashion straight"
  "$bin/train_fashion_mnist" $fashion --out f_crashed --stop-at 20 >/dev/null 2>&1 || fail "fashion --stop-at 20"
  cp f_crashed/checkpoint.safetensors f_step20.safetensors
  "$bin/train_fashion_mnist" --resume f_step20.safetensors --out f_crashed --stop-at 40 >/dev/null 2>&1 ||
    fail "fashion resume to 40"
  "$bin/train_fashion_mnist" --resume f_step20.safetensors --out f_crashed >f_out.txt 2>&1 ||
    fail "fashion resume from 20"
  grep -q "dropped 1 rows" f_out.txt || fail "no 'dropped 1 rows' message: $(cat f_out.txt)"
  check f_crashed f_straight 2 1-4
fi
