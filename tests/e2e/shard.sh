#!/bin/sh
# Sharded runs merged == unsharded runs, byte for byte (docs/SCALE_OUT.md), and what merge and the
# shards refuse, on the embedded data (software back-end, small counts).
#
#   shard.sh CASE BITSCALE SOURCE_DIR WORK_DIR
#
# Each case prints what went wrong and exits 1, or exits 0. WORK_DIR is emptied first.
set -u
case_name=$1
bitscale=$2
src=$3
work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$src" || exit 1

fail() {
  echo "FAIL ($case_name): $*"
  exit 1
}

# run ARGS...: runs bitscale, stdout and stderr in $work/out, exit status in $rc.
run() {
  "$bitscale" "$@" >"$work/out" 2>&1
  rc=$?
  cat "$work/out"
}
# ok ARGS...: runs bitscale, fails the case unless it succeeds.
ok() {
  run "$@"
  [ "$rc" -eq 0 ] || fail "exit status $rc of: bitscale $*"
}
expect_refused() { [ "$rc" -ne 0 ] || fail "exit status 0, expected a refusal"; }
expect_text() { grep -qF -- "$1" "$work/out" || fail "no '$1' in the output"; }

# same_files A B: the same file names in A and B (shard files of A left out) and identical bytes.
same_files() {
  (cd "$1" && ls | grep -v '\.shard-' | sort) >"$work/list_a"
  (cd "$2" && ls | grep -v '\.shard-' | sort) >"$work/list_b"
  cmp "$work/list_a" "$work/list_b" || fail "$1 and $2 hold different files: $(diff "$work/list_a" "$work/list_b" | tr '\n' ' ')"
  n=0
  while read -r f; do
    [ -d "$1/$f" ] && continue
    cmp "$1/$f" "$2/$f" || fail "$2/$f differs from the unsharded $1/$f"
    n=$((n + 1))
  done <"$work/list_a"
  [ "$n" -ge 3 ] || fail "only $n files compared in $1"
  echo "identical: $n files of $1 and $2"
}

# The unsharded characterization of 12 images, then the same sharded over 4 tasks.
char_opts="--limit 12 --no-progress"
characterize_sharded() {
  ok characterize $char_opts --out "$work/cu"
  ok characterize $char_opts --out "$work/cs" --calibrate-only
  expect_text "calibration written"
  # Shard 1 interrupted after one image, then resumed; shard 2 with two threads.
  run characterize $char_opts --out "$work/cs" --shard 1/4 --stop-after 1
  [ "$rc" -eq 3 ] || fail "--stop-after 1: exit status $rc, expected 3"
  ok characterize $char_opts --out "$work/cs" --shard 1/4
  expect_text "shard 1/4:"
  ok characterize $char_opts --out "$work/cs" --shard 2/4 --jobs 2
  ok characterize $char_opts --out "$work/cs" --shard 3/4
  ok characterize $char_opts --out "$work/cs" --shard 4/4
}

# The unsharded sweep of 12 images calibrated on 10 of the even positions, then sharded.
sweep_opts="--limit 12 --calib-limit 10 --no-progress --resamples 200"
sweep_sharded() {
  ok sweep $sweep_opts --out "$work/su"
  ok sweep $sweep_opts --out "$work/ss" --calibrate-only
  for i in 1 2 3 4; do ok sweep $sweep_opts --out "$work/ss" --shard $i/4; done
}

case $case_name in
  characterize)
    characterize_sharded
    ok merge --in "$work/cs" --out "$work/cm"
    expect_text "merged 4 shards"
    ok characterize $char_opts --out "$work/cm"
    same_files "$work/cu" "$work/cm"
    # The levels of every kept image, none twice.
    kept=$(($(wc -l <"$work/cu/levels.jsonl") - 1))
    shards=$(cat "$work"/cs/levels.shard-*-of-4.jsonl | grep -vc '"shard"')
    [ "$kept" -eq "$shards" ] || fail "$shards records in the shards, $kept kept images"
    ;;
  sweep)
    sweep_sharded
    ok merge --in "$work/ss" --out "$work/sm"
    ok sweep $sweep_opts --out "$work/sm"
    same_files "$work/su" "$work/sm"
    ;;
  apply)
    # A policy, and 28 images it was neither chosen (odd positions 1..23) nor calibrated on
    # (spread 10 of the even positions: 0, 30, ..., 270): positions 211..238.
    ok sweep $sweep_opts --out "$work/su"
    mkdir -p "$work/images"
    ls data/images | sed -n '212,239p' | while read -r f; do cp "data/images/$f" "$work/images/"; done
    apply_opts="--policy $work/su/policy.json --images $work/images --limit 12 --no-progress"
    ok apply $apply_opts --out "$work/au/apply.csv" --json "$work/au/apply.json"
    # Shards 1, 2 in one directory, 3, 4 in another (two machines); merged from both.
    ok apply $apply_opts --out "$work/a12/apply.csv" --shard 1/4
    ok apply $apply_opts --out "$work/a12/apply.csv" --shard 2/4 --jobs 2
    ok apply $apply_opts --out "$work/a34/apply.csv" --shard 3/4
    ok apply $apply_opts --out "$work/a34/apply.csv" --shard 4/4
    ok merge --in "$work/a12" "$work/a34" --out "$work/am"
    ok apply $apply_opts --out "$work/am/apply.csv" --json "$work/am/apply.json"
    same_files "$work/au" "$work/am"
    ;;
  merge_refusals)
    sweep_sharded
    # A missing shard.
    cp -r "$work/ss" "$work/x1"
    rm "$work/x1/records.shard-3-of-4.jsonl"
    run merge --in "$work/x1" --out "$work/m1"
    expect_refused
    expect_text "shard 3/4 missing (found 3 of 4: 1, 2, 4)"
    [ ! -e "$work/m1/records.jsonl" ] || fail "merge wrote records despite the missing shard"
    # A duplicated shard: shard 2 in two directories.
    mkdir -p "$work/x2"
    cp "$work/ss/records.shard-2-of-4.jsonl" "$work/ss/records.shard-2-of-4.list" "$work/x2/"
    run merge --in "$work/ss" "$work/x2" --out "$work/m2"
    expect_refused
    expect_text "shard 2/4 found 2 times"
    # An incomplete shard: its last record lost; the image is named.
    cp -r "$work/ss" "$work/x3"
    last=$(tail -n 1 "$work/x3/records.shard-4-of-4.jsonl" | sed 's/^{"file":"\([^"]*\)".*/\1/')
    sed -i '$d' "$work/x3/records.shard-4-of-4.jsonl"
    run merge --in "$work/x3" --out "$work/m3"
    expect_refused
    expect_text "shard 4/4 is incomplete: 1 of its 3 images not recorded"
    expect_text "$last"
    # Mismatched headers: shard 2 recorded with another weight FL rule.
    cp -r "$work/ss" "$work/x4"
    rm "$work/x4"/records.shard-2-of-4.*
    ok sweep $sweep_opts --out "$work/x4" --shard 2/4 --weight-fl layer
    run merge --in "$work/x4" --out "$work/m4"
    expect_refused
    expect_text "header differs from shard 1/4"
    expect_text 'weight_fl "layer" vs "channel"'
    # A shard of another model: same file name, other content (its hash).
    cp -r "$work/ss" "$work/x5"
    sed -i '1s/"model_hash":"[0-9a-f]*"/"model_hash":"0123456789abcdef"/' "$work/x5"/records.shard-3-of-4.*
    run merge --in "$work/x5" --out "$work/m5"
    expect_refused
    expect_text "records.shard-3-of-4.jsonl: a shard of another model"
    expect_text "0123456789abcdef"
    # An image in two shards.
    cp -r "$work/ss" "$work/x6"
    img=$(sed -n 2p "$work/x6/records.shard-1-of-4.list")
    sed -i "\$a $img" "$work/x6/records.shard-2-of-4.list"
    sed -n 2p "$work/x6/records.shard-1-of-4.jsonl" >>"$work/x6/records.shard-2-of-4.jsonl"
    run merge --in "$work/x6" --out "$work/m6"
    expect_refused
    expect_text "image $img is in shard 1/4"
    ;;
  shard_refusals)
    for bad in 0/4 5/4 2/0 x 1/ 2; do
      run characterize --out "$work/c" --shard "$bad" --no-progress
      expect_refused
      expect_text "--shard"
    done
    run characterize --out "$work/c" --shard 5/4
    expect_text "I must be in 1..4"
    # Shards never calibrate: without the --calibrate-only step they are refused.
    run characterize $char_opts --out "$work/c" --shard 1/4
    expect_refused
    expect_text "no calibration yet; shards never calibrate"
    run sweep $sweep_opts --out "$work/s" --shard 1/4
    expect_refused
    expect_text "no calibration yet; shards never calibrate"
    # A calibration made with other options (--calib-limit) is refused.
    ok sweep $sweep_opts --out "$work/s" --calibrate-only
    run sweep --limit 12 --calib-limit 8 --no-progress --out "$work/s" --shard 1/4
    expect_refused
    expect_text "do not choose"
    # A resume with other options is refused per shard.
    ok sweep $sweep_opts --out "$work/s" --shard 1/4
    run sweep $sweep_opts --out "$work/s" --shard 1/4 --weight-fl layer
    expect_refused
    expect_text "records.shard-1-of-4.jsonl: recorded with weight_fl"
    ;;
  eval)
    # 9 evaluated images (odd positions; the even ones calibrate in memory, the same in every shard).
    eval_opts="--backend golden --bits 8 --limit 9 --calib-limit 10 --no-progress"
    ok eval $eval_opts --out "$work/eu/eval.csv"
    ok eval $eval_opts --out "$work/eu/eval.jsonl"
    # Shards 1, 2 in one directory, 3 in another (two machines); shard 1 run twice (resumed).
    ok eval $eval_opts --out "$work/e12/eval.csv" --shard 1/3
    expect_text "shard 1/3: 3 images recorded"
    ok eval $eval_opts --out "$work/e12/eval.csv" --shard 1/3
    expect_text "(3 resumed, 0 computed)"
    ok eval $eval_opts --out "$work/e12/eval.csv" --shard 2/3 --jobs 2
    ok eval $eval_opts --out "$work/e3/eval.csv" --shard 3/3
    # Shard 3 interrupted in its last record: merge refuses it, a rerun resumes it.
    f3="$work/e3/eval.csv.records.shard-3-of-3.jsonl"
    head -c -20 "$f3" >"$work/cut" && cp "$work/cut" "$f3"
    run merge --in "$work/e12" "$work/e3" --out "$work/ex"
    expect_refused
    expect_text "incomplete last line"
    ok eval $eval_opts --out "$work/e3/eval.csv" --shard 3/3
    expect_text "(2 resumed, 1 computed)"
    [ ! -e "$work/e12/eval.csv" ] || fail "a shard wrote result rows"
    # A resume with other options is refused, naming the field.
    run eval $(echo "$eval_opts" | sed "s/--bits 8/--bits 16/") --out "$work/e3/eval.csv" --shard 3/3
    expect_refused
    expect_text "eval.csv.records.shard-3-of-3.jsonl: recorded with bits [8], this run uses [16]"
    ok merge --in "$work/e12" "$work/e3" --out "$work/em"
    expect_text "merged 3 shards"
    ok eval $eval_opts --out "$work/em/eval.csv"
    expect_text "eval.csv.records.jsonl: 9 images from the records, 0 computed"
    # The JSON lines rows from the same records.
    cp "$work/em/eval.csv.records.jsonl" "$work/em/eval.jsonl.records.jsonl"
    ok eval $eval_opts --out "$work/em/eval.jsonl"
    expect_text "9 images from the records, 0 computed"
    for f in eval.csv eval.jsonl; do
      cmp "$work/eu/$f" "$work/em/$f" || fail "$work/em/$f differs from the unsharded $work/eu/$f"
    done
    [ "$(wc -l <"$work/em/eval.csv")" -eq 10 ] || fail "$work/em/eval.csv: not a header and 9 rows"
    # The merged records give every shard's image once, in the unsharded order.
    cut -d, -f1 "$work/eu/eval.csv" | sed 1d >"$work/order_u"
    sed 1d "$work/em/eval.csv.records.jsonl" | sed 's/^{"file":"\([^"]*\)".*/\1/' >"$work/order_m"
    cmp "$work/order_u" "$work/order_m" || fail "merged records not in the unsharded order"
    # Refused: a shard without --out, a shard writing a calibration.
    run eval $eval_opts --shard 1/3
    expect_refused
    expect_text "eval --shard needs --out"
    run eval $eval_opts --shard 1/3 --out "$work/e4/eval.csv" --save-calib "$work/e4/c.json"
    expect_refused
    expect_text "would race on it"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS ($case_name)"
