// Internals of the ONNX importer shared by its source files (not installed): the checked
// protobuf parse, constant tensors decoded from TensorProtos, attribute access, and the
// lowering entry point on an already parsed ModelProto.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bitscale/model/onnx.hpp"

namespace bitscale::model::onnx::detail {

/// Most elements a tensor may declare (the canonical graph indexes with int).
inline constexpr std::int64_t kMaxElements = 2147483647;
/// Largest model file read (protobuf's own limit).
inline constexpr std::uintmax_t kMaxFileBytes = 2147483647;

/// A constant tensor: its ONNX shape and its values (integers exactly, up to 2^53).
struct Const {
  std::string name;
  std::vector<std::int64_t> dims;
  DType type = DType::kFloat32;
  std::vector<double> v;
  [[nodiscard]] std::int64_t elements() const;
  [[nodiscard]] bool is_integer() const { return type != DType::kFloat32 && type != DType::kFloat64; }
};

/// The bitscale type of an ONNX element type code; throws ModelError (`what` names the tensor).
DType dtype(int code, const std::string& what);
/// Checked element count of a shape: every dimension >= 0, product <= kMaxElements.
std::int64_t checked_elements(std::span<const std::int64_t> dims, const std::string& what);
/// The value range of an integer element type (unbounded, +-9.2e18, for the others).
std::pair<double, double> int_range(DType t);
/// Decodes a TensorProto (typed fields or raw_data, little-endian). External data, segments,
/// unsupported types and data that does not match the declared shape are ModelErrors naming
/// `model` and the tensor. The declared size is never allocated before the data backs it.
Const decode(const ::onnx::TensorProto& t, const std::string& model);

/// Parses a ModelProto; ModelError naming `name` if the bytes are not one.
::onnx::ModelProto parse_proto(std::span<const std::uint8_t> bytes, const std::string& name);
/// Whole file (at most kMaxFileBytes); ModelError naming the file otherwise.
std::vector<std::uint8_t> read_bytes(const std::string& path);

/// Lowers a parsed model; `bound` replaces graph inputs by constants of the same name.
Import lower(const ::onnx::ModelProto& m, const std::string& name, const std::vector<Const>& bound);

}  // namespace bitscale::model::onnx::detail
