// The one escaper of the report library, for HTML, SVG and XML (JSON strings are escaped by
// nlohmann-json, CSV fields by util::csv_field).
#pragma once

#include <string>
#include <string_view>

namespace bitscale::report {

/// Escapes &, <, >, " for HTML, SVG and XML text and attributes; drops the control characters
/// that XML 1.0 forbids (all below 0x20 but tab, newline and carriage return).
std::string escape(std::string_view s);

}  // namespace bitscale::report
