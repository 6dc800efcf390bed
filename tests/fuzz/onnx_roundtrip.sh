#!/bin/sh
# CTest onnx_roundtrip_embedded: the embedded TFLite model exported as ONNX QDQ (bitscale convert,
# which runs onnx::checker), imported back, and evaluated on the embedded images: the per-image
# results (top-1 of the float reference and of the golden 8-bit back-end) must be identical to
# the TFLite model's. With --rtl: the RTL back-end equals golden on every MAC layer of the ONNX
# model (eval --compare-backends).
# usage: onnx_roundtrip.sh BITSCALE OUT_DIR [--rtl]
set -e
bitscale=$1
out=$2
rtl=$3
tfl=data/models/mobilenet_v1_0.25_128_quant.tflite
onnx=$out/mobilenet_v1_0.25_128_quant.onnx
mkdir -p "$out"
"$bitscale" convert --model "$tfl" --to onnx --out "$onnx"
for b in float golden; do
  for m in "$tfl" "$onnx"; do
    "$bitscale" eval --model "$m" --backend $b --bits 8 --limit 40 --split even-odd --no-progress \
      --out "$out/$(basename "$m").$b.csv" 2>"$out/$(basename "$m").$b.txt"
  done
  # Every column but the run time (top-1, top-5, probabilities, counters) must match.
  strip='NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i } { if (s) $s = ""; print }'
  awk -F, -v OFS=, "$strip" "$out/$(basename "$tfl").$b.csv" >"$out/a.csv"
  awk -F, -v OFS=, "$strip" "$out/$(basename "$onnx").$b.csv" >"$out/b.csv"
  if ! cmp -s "$out/a.csv" "$out/b.csv"; then
    echo "onnx_roundtrip: $b results differ between the TFLite and the ONNX model:"
    diff "$out/a.csv" "$out/b.csv" | head -20
    exit 1
  fi
  echo "onnx_roundtrip: $b back-end: $(($(wc -l <"$out/a.csv") - 1)) images, identical per-image results"
done
if [ "$rtl" = "--rtl" ]; then
  "$bitscale" eval --model "$onnx" --compare-backends --bits 8 --limit 2 --no-progress --out "$out/compare.csv"
fi
