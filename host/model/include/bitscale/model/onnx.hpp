// The ONNX importer (docs/ONNX.md). Reads an ONNX ModelProto (Debian's libonnx protobuf
// classes) and resolves every ONNX convention into the canonical graph of graph.hpp:
//  - NCHW activations (batch 1) become HWC, OIHW convolution weights OHWI; other ranks keep
//    their row-major order ([a, b, c] -> H a, W b, C c; [a, b] -> 1, a, b; [n] -> 1, 1, n).
//  - Explicit pads and auto_pad (SAME_UPPER, SAME_LOWER, VALID), ceil_mode and count_include_pad
//    become window amounts (and a kPad where padded cells are counted).
//  - Relu and Clip are fused into the producing operator where it has no other consumer,
//    otherwise they are a 1x1 max pool carrying the activation. BatchNormalization is folded
//    into the preceding convolution, otherwise a depthwise 1x1 convolution.
//  - Gemm / MatMul with constant B: fully connected (one row) or a 1x1 convolution (rows).
//  - Quantized models: constants are dequantized (QDQ per tensor and per axis); activations
//    stay real values (QuantizeLinear / DequantizeLinear pass them through, as TFLite's
//    QUANTIZE / DEQUANTIZE do); QLinearConv, QLinearMatMul, ConvInteger and MatMulInteger are
//    convolutions / fully connected layers on dequantized weights with their scales applied.
// Anything else is a ModelError naming the model, the node (name and op type) and the reason.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bitscale/model/graph.hpp"

namespace bitscale::model {

namespace onnx {

/// ONNX tensor element types bitscale reads (TensorProto.DataType codes).
enum class DType : std::uint8_t { kFloat32, kUInt8, kInt8, kUInt16, kInt16, kInt32, kInt64, kFloat64 };
std::string to_string(DType t);

/// How one graph input or output relates to its canonical tensor. For integer tensors the
/// canonical value is scale * (q - zero) (real values; scale 1, zero 0 when the model gives no
/// quantization); float tensors are the canonical values themselves (scale 1, zero 0).
struct Port {
  std::string name;
  DType type = DType::kFloat32;
  std::vector<std::int64_t> dims;  ///< ONNX shape
  float scale = 1.0f, zero = 0.0f;
  int tensor = -1;  ///< canonical tensor
};

/// A lowered ONNX model: the canonical graph and how its input and output map to ONNX's.
struct Import {
  model::Model model;
  Port input, output;
  int opset = 0;
  std::vector<std::string> node_ops;  ///< op type of every node, in file order (info)
};

/// Named constant tensors, serialized TensorProtos, that replace graph inputs of the same
/// name (ONNX node tests feed weights as inputs).
struct Bindings {
  std::vector<std::vector<std::uint8_t>> tensors;
};

/// Parses and lowers an ONNX model held in memory; `name` is used in messages. Throws
/// ModelError on anything malformed or unsupported (never allocates a declared size that the
/// data does not back).
Import parse(std::span<const std::uint8_t> bytes, const std::string& name, const Bindings& bind = {});
/// Same from a file.
Import read_file(const std::string& path, const Bindings& bind = {});

/// The `bitscale info` text of an imported model: inputs, outputs, opset, node counts per op
/// type and the canonical operators with their shapes, parameters and MACs.
std::string summary_table(const Import& m);

}  // namespace onnx

/// onnx::read_file(path).model.
Model load_onnx(const std::string& path);
/// onnx::parse(bytes, name).model.
Model parse_onnx(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace bitscale::model

namespace bitscale::model::onnx {

/// ONNX's backend test runner compares with numpy.testing.assert_allclose(rtol=1e-3, atol=1e-7)
/// (onnx/backend/test/runner/__init__.py, assert_similar_outputs).
inline constexpr double kConformanceRtol = 1e-3;
inline constexpr double kConformanceAtol = 1e-7;

enum class TestStatus : std::uint8_t { kPassed, kFailed, kSkipped };
std::string to_string(TestStatus s);

/// The outcome of one ONNX node test directory (model.onnx and test_data_set_*/).
struct NodeTestResult {
  std::string name;  ///< the directory's name
  TestStatus status = TestStatus::kSkipped;
  std::string reason;  ///< skipped: what is unsupported; failed: the first mismatch or error
  int data_sets = 0;   ///< data sets compared
};

/// Runs one node test: every input but the first is bound as a constant (node tests feed
/// weights as inputs), the model is imported, run through the float reference (integer outputs
/// quantized with their scale and zero point) and compared with output_0.pb within
/// kConformanceRtol / kConformanceAtol. A model the importer refuses is skipped with its message.
NodeTestResult run_node_test(const std::string& dir);
/// The test directories under `path`: itself if it holds model.onnx, else its subdirectories
/// that do (sorted). Throws ModelError when there are none.
std::vector<std::string> node_test_dirs(const std::string& path);
/// The operator types of a test directory's model.onnx (empty if it does not parse).
std::vector<std::string> node_test_ops(const std::string& dir);
/// "N passed, N failed, N skipped".
std::string conformance_totals(const std::vector<NodeTestResult>& results);

}  // namespace bitscale::model::onnx

#include "bitscale/model/tflite.hpp"

namespace bitscale::model::onnx {

/// The TFLite model as a serialized ONNX QDQ model (opset 13): integer constants behind
/// DequantizeLinear (per tensor, or per axis 0 for per-channel filters), every quantized
/// activation through QuantizeLinear -> DequantizeLinear with its TFLite parameters, NHWC as
/// NCHW, OHWI / depthwise filters as OIHW (group = C), SAME padding as explicit pads, fused
/// activations as Relu / Clip, the input kept as the integer tensor, the output float. Throws
/// ModelError on what it cannot write.
std::vector<std::uint8_t> export_tflite(const tflite::Model& m);
/// ONNX's own checker (onnx::checker::check_model); throws ModelError with its message.
void check_model(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace bitscale::model::onnx
