// HTML pages from the study's Markdown fragments (md4c, CommonMark with GitHub tables).
#pragma once

#include <string>
#include <string_view>

namespace bitscale::report {

/// Escapes &, <, >, " for HTML, SVG and XML text and attributes; drops the control characters
/// that XML 1.0 forbids (all below 0x20 but tab, newline and carriage return).
std::string escape(std::string_view s);

/// Markdown to a standalone HTML page titled `title`; an image whose source ends in .svg is
/// embedded inline, read from `base_dir` (left as an <img> when it cannot be read).
std::string markdown_to_html(std::string_view md, const std::string& title, const std::string& base_dir);

}  // namespace bitscale::report
