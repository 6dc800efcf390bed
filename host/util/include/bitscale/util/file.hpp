// Whole-file reads and writes, and locating default data files. Results are written
// atomically: a reader (or a crash) never sees a half-written file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bitscale::util {

/// The whole file; throws std::runtime_error "<path>: cannot read".
std::string read_file(const std::string& path);
/// Replaces `path` with `text` atomically (written to a temporary file beside it, then renamed);
/// throws std::runtime_error naming the file.
void write_file(const std::string& path, std::string_view text);
/// First of `candidates` that exists as a file or directory, or "" if none.
std::string first_existing(const std::vector<std::string>& candidates);

}  // namespace bitscale::util
