#!/bin/sh
# CTest onnx_conformance: `bitscale conformance` over ONNX's node tests of every operator the
# importer supports. Exit 77 (skipped) when libonnx-testdata is absent; fails on any failure.
bitscale=$1
dir=$2
if [ ! -d "$dir" ]; then
  echo "onnx_conformance: SKIPPED: $dir not found (install Debian's libonnx-testdata)"
  exit 77
fi
exec "$bitscale" conformance "$dir" --ops Conv ConvInteger QLinearConv Gemm MatMul MatMulInteger QLinearMatMul \
  Relu Clip BatchNormalization Add Sum Concat Softmax Flatten Reshape Squeeze Unsqueeze GlobalAveragePool \
  GlobalMaxPool MaxPool AveragePool QuantizeLinear DequantizeLinear Identity Dropout Pad Constant
