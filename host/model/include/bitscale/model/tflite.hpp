// The TensorFlow Lite importer: reads a .tflite FlatBuffer (verified before use) into the
// graph of graph.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "bitscale/model/graph.hpp"

namespace bitscale::model {

/// Reads a .tflite file (first subgraph). Throws ModelError naming the file and the problem:
/// unreadable file, malformed FlatBuffer (verified before use), unsupported operator (named),
/// unsupported tensor type, inconsistent shapes, buffers out of range.
Model load_tflite(const std::string& path);
/// Same from memory; `name` is used in messages.
Model parse_tflite(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace bitscale::model
