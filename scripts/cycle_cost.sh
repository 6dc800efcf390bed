#!/usr/bin/env bash
# Instructions per simulated cycle of the verilated model, busy and not busy, per generated function
# (docs/PERFORMANCE.md "Compilers and profiles for the fast build; what an idle cycle costs").
# Deterministic, unlike wall times on a shared machine: use it to compare RTL or build changes
# whose effect is below the machine's drift.
#
# Runs the embedded MobileNet v1 0.25/128 at 8 bits, one RTL image, under valgrind's callgrind twice:
# with overlapped wide transfers and with netbench's default (serial, 64-bit) transfers. Both have
# the same busy cycles and differ in the others, so per function
#   I = busy * b + other * i
# is solved for b and i from the two runs (the cycle counts come from netbench's own output).
#
# Usage: scripts/cycle_cost.sh BITSCALE OUT   e.g. scripts/cycle_cost.sh build-bench/host/bitscale /tmp/cc
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BITSCALE OUT" >&2
  exit 2
fi
BIN=$1
O=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)  # the embedded data, wherever the script is run from
MODEL=${MODEL:-$ROOT/data/models/mobilenet_v1_0.25_128_quant.tflite}
command -v valgrind >/dev/null || { echo "cycle_cost: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "cycle_cost: $BIN is not an executable" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "cycle_cost: model $MODEL not found" >&2; exit 1; }
mkdir -p "$O"

run() {  # run NAME NETBENCH-OPTIONS...
  local name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$O/$name.cg" "$BIN" netbench --model "$MODEL" \
    --images "$ROOT/data/images" --bits 8 --golden-images 0 --rtl-images 1 "$@" >"$O/$name.out" 2>"$O/$name.err" ||
    { echo "cycle_cost: the $name run failed: $O/$name.err" >&2; exit 1; }
  # "transfers: ... busy 48790 of 71618 cycles"
  local line
  line=$(grep '^transfers:' "$O/$name.out") || { echo "cycle_cost: no counters in $O/$name.out" >&2; exit 1; }
  echo "$line" | sed -E 's/.*busy ([0-9]+) of ([0-9]+) cycles.*/\1 \2/' >"$O/$name.cycles"
  callgrind_annotate --threshold=100 "$O/$name.cg" 2>/dev/null | grep 'Vbsa_top___024root___' |
    sed -E 's/^ *([0-9,]+) +\( *[0-9.]+%\) +[^:]*:Vbsa_top___024root___([A-Za-z0-9_]+).*/\2 \1/' | tr -d , |
    sort >"$O/$name.fn"
}

run overlapped --dw-mapping dw --shift-mapping per-column --transfer overlapped --port wide
run serial --dw-mapping dw --shift-mapping per-column
read -r busy_a all_a <"$O/overlapped.cycles"
read -r busy_b all_b <"$O/serial.cycles"
if [ "$busy_a" != "$busy_b" ] || [ "$all_a" = "$all_b" ]; then
  echo "cycle_cost: the runs' busy cycles differ ($busy_a, $busy_b) or their other cycles do not: cannot solve" >&2
  exit 1
fi
echo "busy cycles $busy_a; other cycles $((all_a - busy_a)) (overlapped wide) and $((all_b - busy_b)) (serial narrow)"
join -a1 -a2 -e 0 -o 0,1.2,2.2 "$O/overlapped.fn" "$O/serial.fn" |
  awk -v busy="$busy_a" -v oa="$((all_a - busy_a))" -v ob="$((all_b - busy_b))" '
    { i = ($3 - $2) / (ob - oa); b = ($2 - oa * i) / busy; ti += i; tb += b
      if (i < 0.5 && b < 0.5) next  # construction and settle code
      printf "%-32s %10.0f %10.0f\n", $1, i, b }
    END { printf "%-32s %10.0f %10.0f\n", "ALL", ti, tb }' |
  sort -k3 -n -r | awk 'BEGIN { printf "%-32s %10s %10s\n", "function (instructions/cycle)", "not busy", "busy" } { print }'
