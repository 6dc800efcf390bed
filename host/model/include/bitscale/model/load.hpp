// The one dispatch point of the model readers: every command taking --model calls load_model,
// which detects the format from the file's content (never its extension) and returns the
// canonical graph (graph.hpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "bitscale/model/graph.hpp"

namespace bitscale::model {

/// Model file formats, detected from the content (never from the extension).
enum class ModelFormat : std::uint8_t { kTflite, kOnnx };
std::string to_string(ModelFormat f);
/// TFLite when the bytes carry the FlatBuffer identifier "TFL3" at offset 4, ONNX otherwise.
ModelFormat detect_format(std::span<const std::uint8_t> bytes);
/// Reads the file at `path` and imports it with the reader of its detected format: the one
/// dispatch point for every command taking --model. Throws ModelError naming the file.
Model load_model(const std::string& path);
/// The format of the file at `path` (reads the first bytes). Throws ModelError if unreadable.
ModelFormat file_format(const std::string& path);

}  // namespace bitscale::model
