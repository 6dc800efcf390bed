// CSV fields (RFC 4180): quoted when they hold a comma, a quote or a newline.
#pragma once

#include <string>
#include <string_view>

namespace bitscale::util {

/// `s` as one CSV field: unchanged, or in double quotes with quotes doubled.
std::string csv_field(std::string_view s);

}  // namespace bitscale::util
