// HTML pages from the study's Markdown fragments (md4c, CommonMark with GitHub tables).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "bitscale/report/escape.hpp"

namespace bitscale::report {

/// Markdown to a standalone HTML page titled `title`; an image whose source ends in .svg is
/// embedded inline: the document `svgs[source]` when given, else the file read from `base_dir`
/// (left as an <img> when it cannot be read). Table cells keep the alignment of the Markdown
/// separator row (`|:---|---:|` gives align="left" / align="right"); cells without one are left-aligned.
std::string markdown_to_html(std::string_view md, const std::string& title, const std::string& base_dir,
                             const std::map<std::string, std::string>& svgs = {});

}  // namespace bitscale::report
