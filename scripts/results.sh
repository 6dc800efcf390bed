#!/usr/bin/env bash
# Reproduces the tables of docs/RESULTS.md on ../shared (`make eval`): every command is the one the
# document names. Usage: scripts/results.sh [BITSCALE] [SHARED] [OUT]. Long: about 25 minutes on 2 cores.
set -euo pipefail
B=${1:-./build/host/bitscale}
S=${2:-../shared}
O=${3:-build/eval}
J=${JOBS:-2}
MODELS=${MODELS:-"mobilenet_v1_0.25_128_quant mobilenet_v1_0.5_160_quant mobilenet_v2_1.0_224_quant"}

if [ ! -d "$S/data/imagenet-sample" ] || [ ! -d "$S/models" ]; then
  echo "results: $S/data/imagenet-sample or $S/models is missing; nothing to reproduce" >&2
  exit 1
fi
mkdir -p "$O"
log() { echo "== $*" | tee -a "$O/summary.txt"; }
run() { echo "\$ $*" >>"$O/summary.txt"; "$@" 2>&1 | grep -v '^\s*$' | tee -a "$O/summary.txt" | tail -4; }
: >"$O/summary.txt"

# Fraction of images whose top-1 equals the float run's (the "prediction = float's" columns):
# both CSVs joined on the file name (column 1), top-1 in the column named top1.
agree() {
  awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "top1") c = i; next }
           NR == FNR { f[$1] = $c; next }
           ($1 in f) { n++; if (f[$1] == $c) s++ }
           END { printf "%d/%d = %.1f %%\n", s, n, n ? 100 * s / n : 0 }' "$1" "$2"
}

# The deployable controller (docs/CONTROLLER.md): the first 100 images of the even half calibrate
# (their float-correct ones) and choose the levels; the other even images choose the policy (95 %
# upper bound of the drop, 5-fold cross-validation); `apply` measures it on the odd half.
policy_protocol() {
  local m=$1 M=$2 P="$O/$1/policy"
  log "$m: policy chosen on the even half, applied to the odd half"
  rm -rf "$P"
  run "$B" characterize --model "$M" --images "$S/data/imagenet-sample" --half even --limit 100 --jobs "$J" --no-progress --out "$P/char"
  run "$B" sweep --model "$M" --calib "$P/char/calibration.json" --images "$S/data/imagenet-sample" --half even --folds 5 --jobs "$J" --no-progress --out "$P/sweep"
  run "$B" apply --policy "$P/sweep/policy.json" --model "$M" --images "$S/data/imagenet-sample" --half odd --jobs "$J" --no-progress --out "$P/apply.csv" --json "$P/apply.json"
}

# Variants of the policy protocol (docs/RESULTS.md, issue 8): the logit ties before the 16-bit
# classifier (characterize --classifier level), stochastic rounding (seed 1) in every array run, and
# the memory-inclusive energy model (docs/ENERGY.md). Needs policy_protocol's outputs first.
variants_protocol() {
  local m=$1 M=$2 P="$O/$1/policy" V="$O/$1/variants"
  local I=(--model "$M" --images "$S/data/imagenet-sample" --jobs "$J" --no-progress)
  rm -rf "$V"
  log "$m: ties with the classifier at the level's precision (characterize --classifier level)"
  run "$B" characterize "${I[@]}" --half even --limit 100 --classifier level --out "$V/level/char"
  log "$m: stochastic rounding, seed 1: policy chosen on the even half, applied to the odd half"
  run "$B" characterize "${I[@]}" --half even --limit 100 --rounding stochastic --rounding-seed 1 --out "$V/sr/char"
  run "$B" sweep "${I[@]}" --calib "$V/sr/char/calibration.json" --half even --folds 5 --rounding stochastic --rounding-seed 1 --out "$V/sr/sweep"
  run "$B" apply --policy "$V/sr/sweep/policy.json" "${I[@]}" --half odd --out "$V/sr/apply.csv" --json "$V/sr/apply.json"
  log "$m: energy with memory: policy chosen on the even half, applied to the odd half"
  run "$B" sweep "${I[@]}" --calib "$P/char/calibration.json" --half even --folds 5 --energy-model memory --out "$V/mem/sweep"
  run "$B" apply --policy "$V/mem/sweep/policy.json" "${I[@]}" --half odd --out "$V/mem/apply.csv" --json "$V/mem/apply.json"
}

# DPRed off-chip traffic (docs/DPRED.md): per-group vs per-tensor vs uncompressed, 100 odd images.
traffic_protocol() {
  local m=$1 M=$2
  for b in 8 16; do
    log "$m: off-chip traffic at $b bits, per group of 16 (DPRed)"
    run "$B" traffic --model "$M" --images "$S/data/imagenet-sample" --bits "$b" --limit 100 --json "$O/$m/traffic_$b.json"
  done
}

# DPRed in the controller (docs/DPRED.md "Combination with the controller", issue 11): the policy
# protocol above with the memory-inclusive energy model, the off-chip bytes of every run uncompressed
# (the shapes) or encoded per group (--dpred: weights and that image's activations in DPRed's
# groups). Same images as policy_protocol: the first 100 of the even half calibrate, the other even
# images choose T_h (95 % upper bound of the drop, 5-fold cross-validation), `apply` measures the
# policy on the odd half. DPRED_LIMIT=N measures on the first N odd images only.
dpred_protocol() {
  local m=$1 M=$2 D="$O/$1/dpred"
  local I=(--model "$M" --images "$S/data/imagenet-sample" --jobs "$J" --no-progress)
  local L=()
  [ -n "${DPRED_LIMIT:-}" ] && L=(--limit "$DPRED_LIMIT")
  rm -rf "$D"
  log "$m: DPRed in the controller: characterize --dpred on the even half (first 100)"
  run "$B" characterize "${I[@]}" --half even --limit 100 --dpred --out "$D/char"
  log "$m: memory energy, off-chip uncompressed: policy chosen on the even half, applied to the odd half"
  run "$B" sweep "${I[@]}" --calib "$D/char/calibration.json" --half even --folds 5 --energy-model memory --out "$D/plain/sweep"
  run "$B" apply --policy "$D/plain/sweep/policy.json" "${I[@]}" --half odd "${L[@]}" --out "$D/plain/apply.csv" --json "$D/plain/apply.json"
  log "$m: memory energy, off-chip per group (--dpred): policy chosen on the even half, applied to the odd half"
  run "$B" sweep "${I[@]}" --calib "$D/char/calibration.json" --half even --folds 5 --energy-model memory --dpred --out "$D/dpred/sweep"
  run "$B" apply --policy "$D/dpred/sweep/policy.json" "${I[@]}" --half odd "${L[@]}" --out "$D/dpred/apply.csv" --json "$D/dpred/apply.json"
}

for m in $MODELS; do
  M="$S/models/$m.tflite"
  mkdir -p "$O/$m"
  if [ "${ONLY:-}" = policy ]; then policy_protocol "$m" "$M"; continue; fi
  if [ "${ONLY:-}" = variants ]; then variants_protocol "$m" "$M"; continue; fi
  if [ "${ONLY:-}" = traffic ]; then traffic_protocol "$m" "$M"; continue; fi
  if [ "${ONLY:-}" = dpred ]; then dpred_protocol "$m" "$M"; continue; fi
  log "$m: float baseline, all images"
  run "$B" eval --model "$M" --images "$S/data/imagenet-sample" --backend float --split none --jobs "$J" --no-progress --out "$O/$m/float_all.csv"
  log "$m: float, odd half"
  run "$B" eval --model "$M" --images "$S/data/imagenet-sample" --backend float --split even-odd --jobs "$J" --no-progress --out "$O/$m/float.csv"
  for fl in channel group layer; do
    for b in 16 8 4; do
      log "$m: golden $b-bit, weight FL per $fl"
      run "$B" eval --model "$M" --images "$S/data/imagenet-sample" --backend golden --bits "$b" --weight-fl "$fl" --jobs "$J" --no-progress --out "$O/$m/g${b}_$fl.csv"
      echo "top-1 = float's: $(agree "$O/$m/float.csv" "$O/$m/g${b}_$fl.csv")" | tee -a "$O/summary.txt"
    done
  done
  for b in 16 8 4; do
    log "$m: RTL vs golden, $b-bit, 5 images"
    run "$B" eval --model "$M" --images "$S/data/imagenet-sample" --compare-backends --bits "$b" --limit 5 --jobs "$J" --no-progress
  done
  confirm=5
  case $m in mobilenet_v2*) confirm=2 ;; esac
  log "$m: characterize (even half), sweep (odd half), report"
  rm -rf "$O/$m/study"
  run "$B" characterize --model "$M" --images "$S/data/imagenet-sample" --half even --jobs "$J" --no-progress --out "$O/$m/study/char"
  run "$B" sweep --model "$M" --calib "$O/$m/study/char/calibration.json" --images "$S/data/imagenet-sample" --half odd --jobs "$J" --confirm-rtl "$confirm" --no-progress --out "$O/$m/study/sweep"
  run "$B" report --in "$O/$m/study" --out "$O/$m/study/report.html"
  policy_protocol "$m" "$M"
  variants_protocol "$m" "$M"
  traffic_protocol "$m" "$M"
  dpred_protocol "$m" "$M"
done
# The per-layer group widths of the traffic runs (docs/DPRED_WIDTHS.md is this file).
if [ -z "${ONLY:-}" ] || [ "${ONLY}" = traffic ]; then
  log "group widths per layer: $O/dpred_widths.md"
  MODELS="$MODELS" "$(dirname "$0")/dpred_widths.sh" "$O" >"$O/dpred_widths.md"
fi
log "done: $O/summary.txt"
