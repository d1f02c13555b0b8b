#!/usr/bin/env bash
# Data-parallel training under MPI (ctest mpi.training; docs/distributed.md), on tiny models:
#   1. train_mlm on 2 ranks x --batch 4 = 1 process x --batch 8, to 1e-3 relative (float sums in another order)
#   2. the same mpirun twice: bit-identical metrics and model
#   3. --stop-at then --resume on 2 ranks: bit-identical to the straight 2-rank run
#   4. train_fashion_mnist on 2 ranks x 16 = 1 process x 32
#   5. ranks started with different flags are refused, all of them, with exit code 2
#   6. a rank killed mid-run ends the job within seconds (no hang), and the last checkpoint still loads
#   7. a program that runs on one process (train_classifier) refuses an mpirun of 2
# usage: mpi_training.sh BUILD_DIR WORK_DIR MPIRUN
set -uo pipefail
bin=$1 work=$2 mpirun=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 2
run2() { "$mpirun" --allow-run-as-root --oversubscribe -np 2 "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
# columns 1..c (default 5: train_mlm's up to val_bits_per_byte) of two metrics.csv files agree to `tol`
# relative (nan = nan)
close() {
  local c=${4:-5}
  paste -d, <(cut -d, -f1-$c "$1") <(cut -d, -f1-$c "$2") | awk -F, -v tol="$3" -v c=$c 'NR > 1 {
    for (i = 1; i <= c; i++) { a = $i; b = $(i + c);
      if (a == "nan" || b == "nan") { if (a != b) { print "row " NR ": " a " vs " b; exit 1 } continue }
      d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); if (d > tol * (m > 1e-12 ? m : 1)) { print "row " NR ": " a " vs " b; exit 1 }
      if (d / (m > 1e-12 ? m : 1) > worst) worst = d / (m > 1e-12 ? m : 1) } }
    END { printf "worst relative difference %.2g\n", worst }'
}
same_cols() { diff <(cut -d, -f1-5 "$1") <(cut -d, -f1-5 "$2") >/dev/null; }

M0="--corpus /usr/share/common-licenses/GPL-3 --tokenizer bytes --seq-len 32 --k 8 --dim 32 --depth 2 --heads 2
    --eval-every 4 --eval-batches 2"
M="$M0 --steps 12 --checkpoint-every 3"
"$bin/train_mlm" $M --batch 8 --out one >one.log 2>&1 || fail "train_mlm, 1 process: $(tail -3 one.log)"
run2 "$bin/train_mlm" $M --batch 4 --out two >two.log 2>&1 || fail "train_mlm, 2 ranks: $(tail -3 two.log)"
grep -q "data parallel: 2 ranks" two.log || fail "no data-parallel banner: $(head -5 two.log)"
echo "1. train_mlm 2 x 4 vs 1 x 8: $(close one/metrics.csv two/metrics.csv 1e-3)" || fail "1 process vs 2 ranks"
close one/metrics.csv two/metrics.csv 1e-3 >/dev/null || fail "1 process vs 2 ranks: $(close one/metrics.csv two/metrics.csv 1e-3)"

run2 "$bin/train_mlm" $M --batch 4 --out again >again.log 2>&1 || fail "train_mlm, 2 ranks again"
same_cols two/metrics.csv again/metrics.csv || fail "two identical mpirun runs differ (metrics)"
cmp -s two/model.safetensors again/model.safetensors || fail "two identical mpirun runs differ (model)"
echo "2. the same mpirun twice: identical metrics and model"

run2 "$bin/train_mlm" $M --batch 4 --stop-at 6 --out half >half.log 2>&1 || fail "--stop-at 6 on 2 ranks"
run2 "$bin/train_mlm" --resume half/checkpoint.safetensors --out half >resumed.log 2>&1 ||
  fail "--resume on 2 ranks: $(tail -3 resumed.log)"
same_cols two/metrics.csv half/metrics.csv || fail "resumed 2-rank run differs from the straight one (metrics)"
cmp -s two/model.safetensors half/model.safetensors || fail "resumed 2-rank run differs from the straight one (model)"
echo "3. --stop-at 6, --resume on 2 ranks: identical to the straight run"

if [ -d /usr/share/datasets/fashion-mnist ]; then
  F0="--patch 7 --dim 16 --depth 1 --heads 2 --train-images 512 --test-images 200"
  F="$F0 --epochs 2"
  "$bin/train_fashion_mnist" $F --batch 32 --out f1 >f1.log 2>&1 || fail "fashion, 1 process"
  run2 "$bin/train_fashion_mnist" $F --batch 16 --out f2 >f2.log 2>&1 || fail "fashion, 2 ranks: $(tail -3 f2.log)"
  close f1/metrics.csv f2/metrics.csv 1e-3 4 >/dev/null || fail "fashion 1 vs 2: $(close f1/metrics.csv f2/metrics.csv 1e-3 4)"
  echo "4. train_fashion_mnist 2 x 16 vs 1 x 32: $(close f1/metrics.csv f2/metrics.csv 1e-3 4)"
  # --minutes: the ranks stop at the same step (any rank out of time stops all), with a test pass after it
  run2 "$bin/train_fashion_mnist" $F0 --batch 16 --epochs 50 --minutes 0.002 --out f3 >f3.log 2>&1 ||
    fail "fashion, 2 ranks, --minutes: $(tail -3 f3.log)"
  grep -q "time limit reached" f3.log || fail "fashion --minutes on 2 ranks: no time-limit message"
  echo "   --minutes on 2 ranks: the job stopped together at step $(tail -1 f3/metrics.csv | cut -d, -f2), tested, ended"
fi

"$mpirun" --allow-run-as-root --oversubscribe -np 1 "$bin/train_mlm" $M --batch 4 --out mix : \
  -np 1 "$bin/train_mlm" $M --batch 5 --out mix >mix.log 2>&1
rc=$?
[ $rc -ne 0 ] || fail "ranks with different flags were not refused"
grep -q "rank 1 was started with other flags than rank 0" mix.log || fail "no clear message: $(head -5 mix.log)"
[ ! -e mix/checkpoint.safetensors ] || fail "a refused job wrote a checkpoint"
echo "5. different flags on the ranks: refused (exit $rc)"

run2 "$bin/train_mlm" $M0 --batch 4 --steps 100000 --checkpoint-every 5 --out dead >dead.log 2>&1 &
job=$!
for _ in $(seq 600); do [ -e dead/checkpoint.safetensors ] && break; sleep 0.1; done
[ -e dead/checkpoint.safetensors ] || fail "no checkpoint before the kill"
victim=""
for pid in $(pgrep -f "train_mlm.*--out dead"); do
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$pid
done
[ -n "$victim" ] || fail "rank 1 not found"
kill -9 "$victim"
t0=$(date +%s)
for _ in $(seq 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
if kill -0 $job 2>/dev/null; then kill -9 $job; pkill -9 -f "train_mlm.*--out dead"; fail "the job hung after rank 1 died"; fi
wait $job
rc=$?
[ $rc -ne 0 ] || fail "the job ended with exit 0 after rank 1 died"
"$bin/train_mlm" --resume dead/checkpoint.safetensors --out dead --stop-at 100 --extend >dead-resume.log 2>&1 ||
  fail "the checkpoint left by the killed job does not resume: $(tail -3 dead-resume.log)"
echo "6. rank 1 killed: the job ended in $(($(date +%s) - t0)) s with exit $rc; its last checkpoint resumes"
run2 "$bin/train_classifier" --predict "hello" >single.log 2>&1
rc=$?
[ $rc -ne 0 ] || fail "a one-process program ran under mpirun -np 2"
grep -q "this program runs on one process, and mpirun started 2" single.log || fail "no clear message: $(head -3 single.log)"
echo "7. a one-process program under mpirun -np 2: refused (exit $rc)"
echo "mpi training: all checks passed"
