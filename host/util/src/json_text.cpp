#include "bitscale/util/json_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace bitscale::util {

Json parse_json(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.byte: 1-based position just after the offending character.
    const std::size_t at = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const std::string_view before = text.substr(0, at);
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const std::size_t nl = before.rfind('\n');
    const std::size_t column = at - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
    std::string what = e.what();
    if (const auto p = what.find(": "); p != std::string::npos && what.starts_with("[json.exception")) {
      what = what.substr(p + 2);
    }
    throw std::runtime_error(fmt::format("{}invalid JSON at line {}, column {}: {}",
                                         source.empty() ? "" : source + ": ", line, column, what));
  }
}

std::string json_string(std::string_view s) {
  return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace bitscale::util
