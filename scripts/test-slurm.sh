#!/bin/sh
# make test-slurm (docs/SCALE_OUT.md): a single-node Slurm cluster on this machine
# (scripts/slurm-local.sh), a characterization and a sweep with an RTL confirmation run as
# 4-task job arrays written by `bitscale slurm`, merged, and compared byte for byte with the same
# runs unsharded, and an eval likewise. Exit status non-zero on any difference or failed job.
#
#   scripts/test-slurm.sh [BUILD]       (BUILD: an RTL build, default build)
#
# Images: ../shared/data/imagenet-sample when present, else the embedded data/images.
# Counts (environment): TASKS (4), CHAR_LIMIT (250 images of the even half), SWEEP_LIMIT (250 of the
# odd half), CONFIRM (4 images re-run on the RTL), MODEL (default: the embedded v1 0.25/128).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bitscale=$(realpath "$build/host/bitscale")
tasks=${TASKS:-4}
char_limit=${CHAR_LIMIT:-250}
sweep_limit=${SWEEP_LIMIT:-250}
confirm=${CONFIRM:-4}
work=$(realpath -m "$build/test-slurm")
if [ -d ../shared/data/imagenet-sample ]; then images=$(realpath ../shared/data/imagenet-sample); else images=$(realpath data/images); fi
model_opt=""
[ -n "${MODEL:-}" ] && model_opt="--model $(realpath "$MODEL")"

rm -rf "$work"
mkdir -p "$work"
cluster=$work/cluster
scripts/slurm-local.sh start "$cluster"
trap 'scripts/slurm-local.sh stop "$cluster"' EXIT INT TERM
. "$cluster/env"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
  echo "test-slurm: FAIL: $*" >&2
  exit 1
}

# Waits until the cluster has no job left, then requires every job it knows to have completed.
wait_all() {
  while [ -n "$(squeue -h -o %i)" ]; do sleep 1; done
  states=$(scontrol -o show job | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
  echo "$states"
  # Each job's name, array task and run time (the jobs of this step: not printed before).
  scontrol -o show job | awk '{
      id = ""; task = ""; name = ""; rt = ""
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "JobId") id = kv[2]
        if (kv[1] == "ArrayTaskId") task = "[" kv[2] "]"
        if (kv[1] == "JobName") name = kv[2]
        if (kv[1] == "RunTime") rt = kv[2]
      }
      print id, name task, rt
    }' |
    sort -n | while read -r id name rt; do
    grep -qx "$id" "$work/jobs_seen" 2>/dev/null && continue
    echo "$id" >>"$work/jobs_seen"
    echo "  job $id $name: $rt"
  done
  if echo "$states" | grep -qv 'JobState=COMPLETED'; then
    tail -n 30 "$work"/*/logs/*.out >&2 || true
    fail "a Slurm job did not complete"
  fi
}

# same_files A B: the same files in A and B (shard files left out), identical bytes.
same_files() {
  (cd "$1" && ls | grep -v '\.shard-' | sort) >"$work/list_a"
  (cd "$2" && ls | grep -v '\.shard-' | sort) >"$work/list_b"
  cmp "$work/list_a" "$work/list_b" || fail "$1 and $2 hold different files"
  n=0
  while read -r f; do
    [ -d "$1/$f" ] && continue
    cmp "$1/$f" "$2/$f" || fail "$2/$f differs from the unsharded $1/$f"
    n=$((n + 1))
  done <"$work/list_a"
  echo "identical: $n files of $1 and $2"
}

# shellcheck disable=SC2086
char="characterize $model_opt --images $images --half even --limit $char_limit"
# The sweeps read the same calibration (hence the same characterization.json path in their text).
sweep="sweep $model_opt --images $images --half odd --limit $sweep_limit --confirm-rtl $confirm --calib $work/u/char/calibration.json"

echo "== unsharded, one process: $char; $sweep"
t=$(now)
# shellcheck disable=SC2086
"$bitscale" $char --no-progress --out "$work/u/char" >"$work/u-char.log"
echo "characterize: $(elapsed "$t") s"
t=$(now)
# shellcheck disable=SC2086
"$bitscale" $sweep --no-progress --out "$work/u/sweep" >"$work/u-sweep.log"
echo "sweep + RTL confirmation: $(elapsed "$t") s"

echo "== $tasks-task Slurm arrays (bitscale slurm), merged"
t=$(now)
# shellcheck disable=SC2086
"$bitscale" slurm --array "$tasks" --out "$work/slurm-char" -- $char --out "$work/s/char"
sh "$work/slurm-char/submit.sh"
wait_all
echo "characterize on Slurm (calibrate, array, merge): $(elapsed "$t") s"
same_files "$work/u/char" "$work/s/char"
t=$(now)
# shellcheck disable=SC2086
"$bitscale" slurm --array "$tasks" --out "$work/slurm-sweep" -- $sweep --out "$work/s/sweep"
sh "$work/slurm-sweep/submit.sh"
wait_all
echo "sweep + RTL confirmation on Slurm (calibrate, array, merge): $(elapsed "$t") s"
same_files "$work/u/sweep" "$work/s/sweep"
if [ "$confirm" -gt 0 ]; then
  ls "$work/s/sweep" | grep -q "rtl_confirm_16.shard-1-of-$tasks.jsonl" || fail "no sharded RTL confirmation"
fi
# eval: no calibration step (each shard calibrates in memory from the same even images); the merge
# job writes the rows from the merged records.
evalc="eval $model_opt --images $images --backend golden --bits 8 --limit $sweep_limit --calib-limit 50"
t=$(now)
# shellcheck disable=SC2086
"$bitscale" $evalc --no-progress --out "$work/u/eval/eval.csv" >"$work/u-eval.log"
echo "eval: $(elapsed "$t") s"
t=$(now)
# shellcheck disable=SC2086
"$bitscale" slurm --array "$tasks" --out "$work/slurm-eval" -- $evalc --out "$work/s/eval/eval.csv"
sh "$work/slurm-eval/submit.sh"
wait_all
echo "eval on Slurm (array, merge): $(elapsed "$t") s"
cmp "$work/u/eval/eval.csv" "$work/s/eval/eval.csv" || fail "the merged eval rows differ from the unsharded ones"
echo "identical: eval.csv"
echo "test-slurm: PASS (images: $images)"
