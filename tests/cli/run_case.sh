#!/usr/bin/env bash
# run_case.sh BIN_DIR WORK_ROOT CASES_FILE NAME: runs one case of tests/cli/cases.txt (the format is described
# there) and checks the exit code, that stderr (or stdout, for a regex written "out:...") matches the regex,
# that a failure ends with exactly one "PROGRAM: error: ..." line, and that nothing aborted or tripped a
# sanitizer.
set -u
bin=$(realpath -m "$1") root=$(realpath -m "$2") cases=$(realpath -m "$3") name=$4
line=$(grep -E "^${name}[[:space:]]" "$cases" | head -1)
[ -n "$line" ] || { echo "run_case: no case '$name' in $cases"; exit 1; }
read -r _ opts want prog rest <<<"$line"
rest=${rest#::}
regex=${rest%% ::*}
regex=${regex# }
args=${rest#*::}
args=${args#*::}

work="$root/$name"
fix="$root/fixtures"
rm -rf "$work"
mkdir -p "$work" "$fix"
for o in ${opts//,/ }; do
  case $o in setup:*) rm -rf "${fix:?}/${o#setup:}" ;; esac
done
# Bad inputs every case may name: a file, an empty file, a symlink loop, an empty directory, a directory
# with only a fortune index (no text), a directory holding a symlink loop, a corpus shorter than n.
printf 'some text\n' >"$work/afile"
: >"$work/empty.txt"
ln -s loop "$work/loop"
mkdir -p "$work/emptydir" "$work/datdir" "$work/loopdir"
printf 'x' >"$work/datdir/x.dat"
ln -s self "$work/loopdir/self"
printf 'tiny corpus\n' >"$work/tiny.txt"
bash "$(dirname "$cases")/make_fortunes.sh" "$work/fortunes"  # three classes for train_classifier

# Tiny settings per program. A flag the case gives itself is left out of the macro (CLI11 refuses a flag
# given twice), so a case writes only what it tests.
GPL3=/usr/share/common-licenses/GPL-3
MLM="--corpus $GPL3 --tokenizer bytes --seq-len 16 --k 8 --dim 16 --depth 1 --heads 2 --batch 2 --steps 4 --eval-every 2 --eval-batches 1 --out @W@/out"
FASHION="--patch 7 --dim 8 --depth 1 --heads 2 --batch 16 --train-images 256 --test-images 100 --epochs 1 --warmup 2 --out @W@/out"
SCALING="--ns 32 64 --ks 8 --dim 8 --heads 2 --tokens 64 --reps 1 --min-seconds 0 --out @W@/out"
STEP="--n 16 --k 8 --dim 8 --depth 1 --heads 2 --batch 2 --steps 1 --warmup 0"
CLF="--corpus @W@/fortunes --classes 3 --batch 8 --epochs 1 --baseline-epochs 1 --out @W@/out"
CLFMODEL="--vocab 400 --seq-len 32 --k 8 --dim 16 --depth 1 --heads 2"
PARITY="--steps 2 --dim 8 --depth 1 --heads 2 --n 16 --k 8 --batch 2 --corpus $GPL3 --no-floor"
expand() {  # expand MACRO_TEXT CASE_ARGS: the macro's flags (each with its values) that the case does not give
  local out="" words flag="" group=""
  read -ra words <<<"$1"
  for w in "${words[@]}" --; do
    if [[ $w == --* ]]; then
      if [ -n "$flag" ] && [[ " $2 " != *" $flag "* && " $2 " != *" $flag="* ]]; then out+=" $group"; fi
      flag=$w group=$w
    else
      group+=" $w"
    fi
  done
  echo "$out"
}
for m in MLM FASHION SCALING STEP PARITY CLF CLFMODEL; do
  [[ $args == *"@$m@"* ]] && args=${args//@$m@/$(expand "${!m}" "$args")}
done
args=${args//@W@/$work}
args=${args//@FIX@/$fix}
args=${args//@GPL3@/$GPL3}
eval "set -- $args"
cmd=("$@")

export OMP_NUM_THREADS=1
# Under ASan an allocation that fails aborts by default; a real one returns null, which is what the
# out-of-memory cases test.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
ulimit_kb=""
for o in ${opts//,/ }; do
  case $o in ulimit:*) ulimit_kb=${o#ulimit:} ;; esac
done
cd "$work"
if [ -n "$ulimit_kb" ]; then
  (ulimit -v "$ulimit_kb" && exec "$bin/$prog" "${cmd[@]}") >"$work/stdout" 2>"$work/stderr"
else
  "$bin/$prog" "${cmd[@]}" >"$work/stdout" 2>"$work/stderr"
fi
rc=$?

fail() {
  echo "FAIL $name: $*"
  printf 'command: %s' "$prog"; printf ' [%s]' "${cmd[@]}"; echo
  echo "--- stdout (tail)"; tail -n 15 "$work/stdout"
  echo "--- stderr (tail)"; tail -n 15 "$work/stderr"
  exit 1
}
[ "$rc" = "$want" ] || fail "exit code $rc, expected $want"
if [[ $regex == out:* ]]; then
  grep -Eq -- "${regex#out:}" "$work/stdout" || fail "stdout does not match /${regex#out:}/"
else
  grep -Eq -- "$regex" "$work/stderr" || fail "stderr does not match /$regex/"
fi
if grep -Eq "terminate called|Aborted|core dumped|AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault" \
  "$work/stderr"; then
  fail "an abort or a sanitizer report"
fi
if [ "$want" != 0 ]; then
  n=$(grep -Ec "^(.*/)?$prog: error: " "$work/stderr")
  [ "$n" = 1 ] || fail "$n lines '$prog: error:', expected exactly 1"
  tail -n 1 "$work/stderr" | grep -Eq "^(.*/)?$prog: error: " || fail "the error is not the last line of stderr"
fi
echo "ok $name ($prog, exit $rc)"
