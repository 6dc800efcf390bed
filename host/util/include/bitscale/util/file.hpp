// Whole-file reads and writes, and locating default data files. Results are written
// atomically: a reader (or a crash) never sees a half-written file.
#pragma once

#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bitscale::util {

/// The whole file; throws std::runtime_error "<path>: cannot read".
std::string read_file(const std::string& path);
/// Replaces `path` with `text` atomically: written to a temporary file beside it (same directory,
/// `<path>.tmp<pid>`), then renamed over it, so a reader or a crash sees the old file or the new
/// one, never a part. Throws std::runtime_error "cannot write '<path>': <reason>" (missing or
/// read-only directory, a directory at `path`, disk full), leaving the old file as it was and no
/// temporary file behind.
void write_file(const std::string& path, std::string_view text);
/// Throws as write_file would when `path` cannot be written (checked by creating and removing the
/// temporary file), without touching `path`: a long job checks its outputs before it starts.
void check_writable(const std::string& path);
/// First of `candidates` that exists as a file or directory, or "" if none.
std::string first_existing(const std::vector<std::string>& candidates);

}  // namespace bitscale::util

namespace bitscale::util {

/// A results file written as a job goes (rows flushed as they finish) that replaces `path` only
/// when the job completes: the rows go to `<path>.partial`; commit() renames it over `path`. If the
/// job ends without commit() (an error, an interruption), `path` keeps its old contents and the
/// rows written so far stay in `<path>.partial` (removed if none was written). Throws
/// std::runtime_error "cannot write '<path>.partial': <reason>".
class StreamedFile {
 public:
  explicit StreamedFile(std::string path);
  ~StreamedFile();
  StreamedFile(const StreamedFile&) = delete;
  StreamedFile& operator=(const StreamedFile&) = delete;
  [[nodiscard]] std::ostream& stream() { return out_; }
  /// Flushes and renames the partial file over `path`; throws std::runtime_error on failure.
  void commit();

 private:
  std::string path_, partial_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace bitscale::util
