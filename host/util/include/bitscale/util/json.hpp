// Minimal JSON for the project's own files (calibrations, study records, results): a reader
// that keeps numbers as their literal text (so 64-bit counters survive exactly) and a string
// quoter. Errors name the source and the column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitscale::util::json {

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool b = false;
  std::string text;  ///< string value, or the number's literal text
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  /// Member `k` of an object, or nullptr.
  [[nodiscard]] const Value* find(std::string_view k) const;
  /// The number as a double (throws std::runtime_error if this is not a number).
  [[nodiscard]] double number() const;
};

/// Parses one JSON value (nesting limited to 32 levels). Throws std::runtime_error
/// "<source>: invalid JSON at column N: <what>" (no "<source>: " when source is empty).
Value parse(std::string_view text, const std::string& source = {});

/// `s` as a JSON string literal, quotes included (", \ and control characters escaped).
std::string quote(std::string_view s);

}  // namespace bitscale::util::json
