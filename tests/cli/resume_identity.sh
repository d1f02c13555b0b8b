#!/usr/bin/env bash
# resume_identity.sh BUILD_DIR WORK_DIR: a run of N steps straight, and the same run stopped at N/2
# (--stop-at) and continued with nothing but --resume, must end bit-identically: the same metrics.csv
# columns that do not measure time (every loss, every lr) and the same model.safetensors, byte for byte.
# For train_mlm (with dropout, so the random stream is resumed too), train_fashion_mnist (with random crops,
# flips and label smoothing) and
# train_classifier (both stopped in the middle of an epoch).
set -eu
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
same() {  # same DIR_A DIR_B COLUMNS: the given columns of the two metrics.csv, and the model files
  cut -d, -f"$3" "$1/metrics.csv" >"$1.cols"
  cut -d, -f"$3" "$2/metrics.csv" >"$2.cols"
  diff "$1.cols" "$2.cols" || fail "$1 and $2: metrics.csv differs"
  cmp "$1/model.safetensors" "$2/model.safetensors" || fail "$1 and $2: model.safetensors differs"
  echo "ok: $1 and $2 agree ($(($(wc -l <"$1.cols") - 1)) rows, model files identical)"
}

mlm="--corpus /usr/share/common-licenses/GPL-3 --tokenizer bytes --seq-len 16 --k 8 --dim 16 --depth 1 --heads 2
     --batch 2 --steps 10 --warmup 3 --eval-every 3 --eval-batches 2 --checkpoint-every 4 --dropout 0.1"
# shellcheck disable=SC2086
"$bin/train_mlm" $mlm --out straight >/dev/null 2>&1 || fail "train_mlm straight"
"$bin/train_mlm" $mlm --out halves --stop-at 5 >/dev/null 2>&1 || fail "train_mlm --stop-at 5"
"$bin/train_mlm" --resume halves/checkpoint.safetensors --out halves >/dev/null 2>&1 || fail "train_mlm --resume"
same straight halves 1-5  # step, lr, train_loss, val_loss, val_bits_per_byte

if [ -z "${LF_CLI_NO_FASHION:-}" ]; then
  fashion="--patch 7 --dim 8 --depth 1 --heads 2 --batch 16 --train-images 256 --test-images 100 --epochs 3
           --warmup 4 --dropout 0.1 --checkpoint-every 7 --crop-pad 2 --flip --label-smoothing 0.1"
  "$bin/train_fashion_mnist" $fashion --out f_straight >/dev/null 2>&1 || fail "train_fashion_mnist straight"
  "$bin/train_fashion_mnist" $fashion --out f_halves --stop-at 21 >/dev/null 2>&1 || fail "fashion --stop-at 21"
  "$bin/train_fashion_mnist" --resume f_halves/checkpoint.safetensors --out f_halves >/dev/null 2>&1 ||
    fail "train_fashion_mnist --resume"
  same f_straight f_halves 1-4  # epoch, step, train_loss, test_accuracy
fi

# train_classifier, from scratch with dropout, stopped in the middle of its first epoch (the tokenizer
# and the classes come back from the checkpoint).
bash "$(dirname "$0")/make_fortunes.sh" fortunes
clf="--corpus fortunes --classes 3 --vocab 400 --seq-len 32 --k 8 --dim 16 --depth 1 --heads 2 --batch 8
     --epochs 2 --warmup 3 --dropout 0.1 --checkpoint-every 5 --baseline-epochs 1"
"$bin/train_classifier" $clf --out c_straight >/dev/null 2>&1 || fail "train_classifier straight"
"$bin/train_classifier" $clf --out c_halves --stop-at 13 >/dev/null 2>&1 || fail "train_classifier --stop-at 13"
"$bin/train_classifier" --resume c_halves/checkpoint.safetensors --out c_halves >/dev/null 2>&1 ||
  fail "train_classifier --resume"
same c_straight c_halves 1-5  # epoch, step, train_loss, test_accuracy, test_macro_f1
