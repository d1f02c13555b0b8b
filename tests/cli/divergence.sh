#!/usr/bin/env bash
# divergence.sh BUILD_DIR WORK_DIR: a run that diverges exits 1 and leaves the checkpoint file of the last
# finite state as it was: train 4 good steps (checkpoint at step 4), then train into the same --out with a
# learning rate that blows the weights up at once; the checkpoint must be byte-identical afterwards and
# still resume.
set -eu
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
mlm="--corpus /usr/share/common-licenses/GPL-3 --tokenizer bytes --seq-len 16 --k 8 --dim 16 --depth 1 --heads 2
     --batch 2 --eval-every 2 --eval-batches 1 --checkpoint-every 1"
# shellcheck disable=SC2086
"$bin/train_mlm" $mlm --steps 8 --stop-at 4 --out run >/dev/null 2>&1 || fail "the good run"
cp run/checkpoint.safetensors good.safetensors
set +e
"$bin/train_mlm" $mlm --steps 8 --lr 1e30 --out run >out.txt 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "exit $rc after divergence, expected 1: $(tail -n 3 out.txt)"
grep -q "training diverged" out.txt || fail "no 'training diverged' message: $(tail -n 3 out.txt)"
grep -q "is from an earlier run; this new run replaces it" out.txt || fail "no note that a new run replaces the checkpoint"
cmp run/checkpoint.safetensors good.safetensors || fail "the diverged run overwrote the checkpoint"
"$bin/train_mlm" --resume run/checkpoint.safetensors --out run >/dev/null 2>&1 || fail "the kept checkpoint resumes"
echo "ok: the diverged run exited 1 and the step-4 checkpoint is intact and resumes"
