#!/usr/bin/env bash
# docs/ONNX.md, "Exporter and a real network in ONNX": the shared MobileNets exported as ONNX QDQ
# (bitscale convert) and evaluated against their TFLite originals on the shared sample images
# (even/odd split), float reference and golden 8-bit; the per-image CSVs must be identical but
# for the run time; then the dynamic bit-width sweep on each file, whose tables must be identical.
# Usage: scripts/onnx_shared.sh [BITSCALE] [SHARED] [OUT].
set -euo pipefail
B=${1:-./build-sw/host/bitscale}
S=${2:-../shared}
O=${3:-build-sw/onnx_shared}
MODELS=${MODELS:-"mobilenet_v1_0.25_128_quant mobilenet_v1_0.5_160_quant mobilenet_v2_1.0_224_quant"}
mkdir -p "$O"
strip='NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i } { if (s) $s = ""; print }'
for m in $MODELS; do
  "$B" convert --model "$S/models/$m.tflite" --to onnx --out "$O/$m.onnx"
  for b in float golden; do
    for f in "$S/models/$m.tflite" "$O/$m.onnx"; do
      "$B" eval --model "$f" --images "$S/data/imagenet-sample" --backend $b --bits 8 --split even-odd \
        --no-progress --out "$O/$(basename "$f").$b.csv" >"$O/$(basename "$f").$b.txt" 2>&1
    done
    awk -F, -v OFS=, "$strip" "$O/$m.tflite.$b.csv" >"$O/a.csv"
    awk -F, -v OFS=, "$strip" "$O/$m.onnx.$b.csv" >"$O/b.csv"
    if cmp -s "$O/a.csv" "$O/b.csv"; then same=identical; else same=DIFFERENT; fi
    echo "$m $b: per-image results $same ($(($(wc -l <"$O/a.csv") - 1)) images)"
    grep -h top-1 "$O/$m.tflite.$b.txt" "$O/$m.onnx.$b.txt"
  done
done
# The dynamic bit-width sweep (golden, levels 4,8,16, even images calibrate, odd images recorded)
# on each file: its tables must be identical (policy.json and the records name the model file).
for m in $MODELS; do
  for f in "$S/models/$m.tflite" "$O/$m.onnx"; do
    "$B" sweep --model "$f" --images "$S/data/imagenet-sample" --no-progress \
      --out "$O/sweep.$(basename "$f")" >"$O/sweep.$(basename "$f").txt"
  done
  for t in table.csv thresholds.csv; do
    if cmp -s "$O/sweep.$m.tflite/$t" "$O/sweep.$m.onnx/$t"; then same=identical; else same=DIFFERENT; fi
    echo "$m sweep $t: $same"
  done
  grep -h "T_h" "$O/sweep.$m.tflite.txt" | head -2 || true
done
