#!/usr/bin/env bash
# Simulation speed of the verilated RTL, several builds or settings compared as ratios in one run
# (docs/PERFORMANCE.md "Fast benchmark build"; `make bench`). Every round runs every
# configuration once per workload, interleaved, so that load from other work hits them alike;
# the table gives the median of the rounds and its ratio to the first configuration.
#
# Usage: scripts/simbench.sh OUT ROUNDS LABEL=COMMAND... where COMMAND runs a bitscale binary,
# e.g. "check=build/host/bitscale" "fast=build-bench/host/bitscale"
#      "check-2evals=env BITSCALE_RTL_CLOCKING=both-edges build/host/bitscale".
# Workloads (WORKLOADS, default "net regress"):
#   net      MobileNet v2 1.0/224 (SHARED/models) at 8 bits, one image on the RTL through netbench:
#            seconds per image and simulated cycles/s (skipped when SHARED has no such model);
#   regress  `regress --seed 1 --count REGRESS_COUNT --mode all` (RTL, golden device, functional
#            golden and reference on random layers, all modes): wall seconds;
#   layer    `bench --seconds 1`: the array-bound tile and the bench layer, simulated cycles/s.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 OUT ROUNDS LABEL=COMMAND..." >&2
  exit 2
fi
O=$1
ROUNDS=$2
shift 2
S=${SHARED:-../shared}
WORKLOADS=${WORKLOADS:-"net regress"}
REGRESS_COUNT=${REGRESS_COUNT:-200}
MODEL=$S/models/mobilenet_v2_1.0_224_quant.tflite
IMAGES=$S/data/imagenet-sample
mkdir -p "$O"

labels=()
cmds=()
for a in "$@"; do
  case $a in
    *=*) labels+=("${a%%=*}"); cmds+=("${a#*=}") ;;
    *) echo "simbench: '$a' is not LABEL=COMMAND" >&2; exit 2 ;;
  esac
done
first_bin=${cmds[0]}

if [[ " $WORKLOADS " == *" net "* ]] && [ ! -f "$MODEL" ]; then
  echo "simbench: $MODEL not found: the net workload is skipped" >&2
  WORKLOADS=${WORKLOADS//net/}
fi
if [[ " $WORKLOADS " == *" net "* ]] && [ ! -f "$O/calib.json" ]; then
  # One calibration for every run (netbench times the images only; this keeps the runs short).
  $first_bin eval --model "$MODEL" --images "$IMAGES" --backend golden --bits 8 --limit 1 \
    --save-calib "$O/calib.json" --out "$O/calib-eval.csv" >/dev/null 2>&1
fi

# One measurement: appends "label workload metric value" lines to $O/raw.txt.
measure() {
  local label=$1 cmd=$2 w=$3 out
  case $w in
    net)
      out=$($cmd netbench --model "$MODEL" --images "$IMAGES" --bits 8 --golden-images 1 --rtl-images 1 \
        --calib "$O/calib.json" 2>/dev/null | grep '^rtl:')
      # "rtl: 13.10 s per image (10700000 cycles per image, 816000 simulated cycles/s, 1 images)"
      echo "$label net s_per_image $(echo "$out" | awk '{print $2}')" >>"$O/raw.txt"
      echo "$label net cycles_per_s $(echo "$out" | sed -E 's/.*, ([0-9.]+) simulated cycles\/s.*/\1/')" >>"$O/raw.txt"
      ;;
    regress)
      local t0 t1
      t0=$(date +%s.%N)
      out=$($cmd regress --seed 1 --count "$REGRESS_COUNT" --mode all --no-progress 2>&1)
      t1=$(date +%s.%N)
      if echo "$out" | grep -q ' [1-9][0-9]* mismatching'; then
        echo "simbench: $label: regress mismatches" >&2
        echo "$out" >&2
        exit 1
      fi
      local cyc
      cyc=$(echo "$out" | sed -nE 's/.* ([0-9]+) rtl cycles.*/\1/p' | awk '{s += $1} END {print s}')
      echo "$label regress wall_s $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" >>"$O/raw.txt"
      echo "$label regress rtl_cycles $cyc" >>"$O/raw.txt"
      ;;
    layer)
      out=$($cmd bench --seconds 1 2>/dev/null)
      echo "$label layer tile_cycles_per_s $(echo "$out" | sed -nE 's/^rtl +array-bound.*: +([0-9.]+) simulated.*/\1/p')" >>"$O/raw.txt"
      echo "$label layer layer_cycles_per_s $(echo "$out" | sed -nE 's/^rtl +layer via driver.* ([0-9.]+) simulated cycles.*/\1/p')" >>"$O/raw.txt"
      ;;
    *) echo "simbench: unknown workload '$w'" >&2; exit 2 ;;
  esac
}

: >"$O/raw.txt"
for ((r = 1; r <= ROUNDS; r++)); do
  for w in $WORKLOADS; do
    for i in "${!labels[@]}"; do
      echo "simbench: round $r/$ROUNDS, $w, ${labels[$i]}" >&2
      measure "${labels[$i]}" "${cmds[$i]}" "$w"
    done
  done
done

# Medians per (workload, metric, label), ratio to the first label (> 1: faster than it).
{
  echo "| workload | metric | $(printf '%s | ' "${labels[@]}")"
  echo "|---|---|$(printf -- '---|%.0s' "${labels[@]}")"
  for w in $WORKLOADS; do
    for m in $(awk -v w="$w" '$2 == w {print $3}' "$O/raw.txt" | awk '!seen[$0]++'); do
      [ "$m" = rtl_cycles ] && continue
      row="| $w | $m |"
      base=""
      for l in "${labels[@]}"; do
        med=$(awk -v l="$l" -v w="$w" -v m="$m" '$1 == l && $2 == w && $3 == m {print $4}' "$O/raw.txt" | sort -g |
          awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}')
        all=$(awk -v l="$l" -v w="$w" -v m="$m" '$1 == l && $2 == w && $3 == m {printf "%s%s", s, $4; s = " / "}' "$O/raw.txt")
        if [ -z "$base" ]; then
          base=$med
          row="$row $all (**$med**) |"
        else
          # Seconds: lower is faster; rates: higher is faster. Ratio = speed-up over the first label.
          ratio=$(awk -v b="$base" -v v="$med" -v m="$m" 'BEGIN {r = (m == "wall_s" || m == "s_per_image") ? b / v : v / b; printf "%.2f", r}')
          row="$row $all (**$med**, ${ratio}×) |"
        fi
      done
      echo "$row"
    done
  done
} | tee "$O/simbench.md"
