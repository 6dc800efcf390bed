// ONNX bytes to a checked ModelProto, TensorProtos to constants, and the format dispatch of
// load_model (TFLite or ONNX from the content).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "bitscale/model/load.hpp"
#include "bitscale/model/tflite.hpp"
#include "proto.hpp"

namespace bitscale::model {
namespace onnx {

namespace detail {

namespace {

struct TypeInfo {
  int code;
  DType type;
  std::size_t size;
  const char* name;
};
constexpr TypeInfo kTypes[] = {
    {::onnx::TensorProto::FLOAT, DType::kFloat32, 4, "float32"},
    {::onnx::TensorProto::UINT8, DType::kUInt8, 1, "uint8"},
    {::onnx::TensorProto::INT8, DType::kInt8, 1, "int8"},
    {::onnx::TensorProto::UINT16, DType::kUInt16, 2, "uint16"},
    {::onnx::TensorProto::INT16, DType::kInt16, 2, "int16"},
    {::onnx::TensorProto::INT32, DType::kInt32, 4, "int32"},
    {::onnx::TensorProto::INT64, DType::kInt64, 8, "int64"},
    {::onnx::TensorProto::DOUBLE, DType::kFloat64, 8, "float64"},
};

const TypeInfo& info(DType t) {
  for (const auto& i : kTypes)
    if (i.type == t) return i;
  return kTypes[0];
}

template <typename T>
double load_le(const std::string& raw, std::size_t i) {
  T x;
  std::memcpy(&x, raw.data() + i * sizeof(T), sizeof(T));
  return static_cast<double>(x);
}

}  // namespace

std::int64_t Const::elements() const { return static_cast<std::int64_t>(v.size()); }

DType dtype(int code, const std::string& what) {
  for (const auto& i : kTypes)
    if (i.code == code) return i.type;
  const char* name = ::onnx::TensorProto_DataType_IsValid(code)
                         ? ::onnx::TensorProto_DataType_Name(static_cast<::onnx::TensorProto_DataType>(code)).c_str()
                         : "unknown";
  throw ModelError(fmt::format("{}: unsupported element type {} ({})", what, code, name));
}

std::int64_t checked_elements(std::span<const std::int64_t> dims, const std::string& what) {
  std::int64_t n = 1;
  for (std::int64_t d : dims) {
    if (d < 0) throw ModelError(fmt::format("{}: negative dimension {}", what, d));
    if (d != 0 && n > kMaxElements / d)
      throw ModelError(fmt::format("{}: declares more than {} elements", what, kMaxElements));
    n *= d;
  }
  return n;
}

Const decode(const ::onnx::TensorProto& t, const std::string& model) {
  Const c;
  c.name = t.name();
  const std::string what = fmt::format("{}: tensor '{}'", model, t.name());
  if (t.data_location() == ::onnx::TensorProto::EXTERNAL || t.external_data_size() > 0) {
    std::string file;
    for (const auto& e : t.external_data())
      if (e.key() == "location") file = e.value();
    throw ModelError(
        fmt::format("{} keeps its data in an external file ('{}'); external data is not supported: save the model with "
                    "all tensors inside the .onnx file",
                    what, file));
  }
  if (t.has_segment()) throw ModelError(fmt::format("{} is segmented; not supported", what));
  c.type = dtype(t.data_type(), what);
  c.dims.assign(t.dims().begin(), t.dims().end());
  if (c.dims.size() > 8) throw ModelError(fmt::format("{}: rank {} (at most 8)", what, c.dims.size()));
  const std::int64_t n = checked_elements(c.dims, what);
  if (n == 0) throw ModelError(fmt::format("{}: empty tensor [{}]", what, fmt::join(c.dims, ",")));
  const auto mismatch = [&](std::size_t have) {
    return ModelError(
        fmt::format("{}: shape [{}] declares {} elements, the data holds {}", what, fmt::join(c.dims, ","), n, have));
  };
  const TypeInfo& ti = info(c.type);
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() % ti.size != 0 || raw.size() / ti.size != static_cast<std::uint64_t>(n))
      throw mismatch(raw.size() / ti.size);
    c.v.resize(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < c.v.size(); ++i) {
      switch (c.type) {
        case DType::kFloat32:
          c.v[i] = load_le<float>(raw, i);
          break;
        case DType::kUInt8:
          c.v[i] = load_le<std::uint8_t>(raw, i);
          break;
        case DType::kInt8:
          c.v[i] = load_le<std::int8_t>(raw, i);
          break;
        case DType::kUInt16:
          c.v[i] = load_le<std::uint16_t>(raw, i);
          break;
        case DType::kInt16:
          c.v[i] = load_le<std::int16_t>(raw, i);
          break;
        case DType::kInt32:
          c.v[i] = load_le<std::int32_t>(raw, i);
          break;
        case DType::kInt64:
          c.v[i] = load_le<std::int64_t>(raw, i);
          break;
        case DType::kFloat64:
          c.v[i] = load_le<double>(raw, i);
          break;
      }
    }
    return c;
  }
  // Typed fields: the count must match before anything is allocated.
  const auto take = [&](const auto& field) {
    if (static_cast<std::uint64_t>(field.size()) != static_cast<std::uint64_t>(n))
      throw mismatch(static_cast<std::size_t>(field.size()));
    c.v.assign(field.begin(), field.end());
  };
  switch (c.type) {
    case DType::kFloat32:
      take(t.float_data());
      break;
    case DType::kInt64:
      take(t.int64_data());
      break;
    case DType::kFloat64:
      take(t.double_data());
      break;
    default:
      take(t.int32_data());
      break;
  }
  if (c.type == DType::kUInt8 || c.type == DType::kInt8 || c.type == DType::kUInt16 || c.type == DType::kInt16) {
    const double lo = c.type == DType::kUInt8 || c.type == DType::kUInt16 ? 0.0
                      : c.type == DType::kInt8                            ? -128
                                                                          : -32768;
    const double hi = c.type == DType::kUInt8   ? 255
                      : c.type == DType::kInt8  ? 127
                      : c.type == DType::kInt16 ? 32767
                                                : 65535;
    for (double x : c.v)
      if (x < lo || x > hi) throw ModelError(fmt::format("{}: value {} out of range of {}", what, x, ti.name));
  }
  return c;
}

::onnx::ModelProto parse_proto(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) throw ModelError(fmt::format("model '{}': empty file", name));
  if (bytes.size() > kMaxFileBytes) throw ModelError(fmt::format("model '{}': larger than 2 GiB", name));
  ::onnx::ModelProto m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw ModelError(
        fmt::format("model '{}': neither a TensorFlow Lite model (no 'TFL3' identifier) nor an ONNX model (the "
                    "protobuf ModelProto does not parse; {} bytes)",
                    name, bytes.size()));
  }
  if (!m.has_graph())
    throw ModelError(fmt::format("model '{}': not an ONNX model (the ModelProto has no graph)", name));
  return m;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string name = fs::path(path).filename().string();
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    throw ModelError(fmt::format("model '{}': cannot open '{}': no such file", name, path));
  if (!fs::is_regular_file(status)) throw ModelError(fmt::format("model '{}': '{}' is not a regular file", name, path));
  const auto size = fs::file_size(path, ec);
  if (ec) throw ModelError(fmt::format("model '{}': cannot read '{}': {}", name, path, ec.message()));
  if (size > kMaxFileBytes)
    throw ModelError(fmt::format("model '{}': the file is larger than 2 GiB ({} bytes)", name, size));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(fmt::format("model '{}': cannot open '{}'", name, path));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::uintmax_t>(in.gcount()) != size)
    throw ModelError(fmt::format("model '{}': short read of '{}'", name, path));
  return bytes;
}

}  // namespace detail

std::string to_string(DType t) { return detail::info(t).name; }

Import parse(std::span<const std::uint8_t> bytes, const std::string& name, const Bindings& bind) {
  const ::onnx::ModelProto m = detail::parse_proto(bytes, name);
  std::vector<detail::Const> bound;
  for (const auto& b : bind.tensors) {
    ::onnx::TensorProto t;
    if (!t.ParseFromArray(b.data(), static_cast<int>(b.size())))
      throw ModelError(fmt::format("model '{}': a bound input is not a TensorProto", name));
    bound.push_back(detail::decode(t, name));
  }
  return detail::lower(m, name, bound);
}

Import read_file(const std::string& path, const Bindings& bind) {
  return parse(detail::read_bytes(path), std::filesystem::path(path).filename().string(), bind);
}

}  // namespace onnx

Model load_onnx(const std::string& path) { return onnx::read_file(path).model; }

Model parse_onnx(std::span<const std::uint8_t> bytes, const std::string& name) {
  return onnx::parse(bytes, name).model;
}

std::string to_string(ModelFormat f) { return f == ModelFormat::kTflite ? "tflite" : "onnx"; }

ModelFormat detect_format(std::span<const std::uint8_t> bytes) {
  if (bytes.size() >= 8 && std::memcmp(bytes.data() + 4, "TFL3", 4) == 0) return ModelFormat::kTflite;
  return ModelFormat::kOnnx;
}

ModelFormat file_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // Let the reader produce its message (missing file, directory).
    (void)onnx::detail::read_bytes(path);
    throw ModelError(fmt::format("model '{}': cannot open", path));
  }
  std::uint8_t head[8] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  return detect_format(std::span<const std::uint8_t>(head, static_cast<std::size_t>(in.gcount())));
}

Model load_model(const std::string& path) {
  const std::vector<std::uint8_t> bytes = onnx::detail::read_bytes(path);
  const std::string name = std::filesystem::path(path).filename().string();
  if (detect_format(bytes) == ModelFormat::kTflite) return parse_tflite(bytes, name);
  return onnx::parse(bytes, name).model;
}

}  // namespace bitscale::model
