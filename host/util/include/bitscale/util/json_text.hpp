// JSON through nlohmann-json: parsing with errors that name the source, line and column, and
// string quoting for the project's writers.
//
// Formatting decision: the writers build their JSON text with fmt and quote strings with
// json_string (nlohmann's escaping), but keep formatting numbers themselves, because nlohmann
// prints doubles with up to 17 significant digits and 1.0 as "1.0", while the files keep the
// text they always had (e.g. "{:.6f}", or the shortest text of a float). Integers (64-bit counters
// included) are read back exactly: nlohmann keeps them as 64-bit integers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bitscale::util {

using Json = nlohmann::json;

/// Parses one JSON value. Throws std::runtime_error
/// "<source>: invalid JSON at line L, column C: <what>" ("<source>: " left out when empty).
Json parse_json(std::string_view text, const std::string& source = {});

/// `s` as a JSON string literal, quotes included (nlohmann's escaping; bytes that are not UTF-8
/// are replaced by U+FFFD).
std::string json_string(std::string_view s);

}  // namespace bitscale::util
