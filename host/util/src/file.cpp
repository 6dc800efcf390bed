#include "bitscale/util/file.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace bitscale::util {

namespace {

// The temporary file beside `path` (same directory, so that the rename is atomic); the process id
// keeps two processes writing the same result from sharing it.
std::string temporary_beside(const std::string& path) { return fmt::format("{}.tmp{}", path, ::getpid()); }

// Why the last open failed, e.g. "No such file or directory".
std::string last_reason() { return errno != 0 ? std::strerror(errno) : "unknown error"; }

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot read", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, std::string_view text) {
  const std::string tmp = temporary_beside(path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error(fmt::format("cannot write '{}': is a directory", path));
  {
    errno = 0;
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(fmt::format("cannot write '{}': {}", path, last_reason()));
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.flush();
    if (!f) {
      const std::string reason = last_reason();
      f.close();
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error(fmt::format("cannot write '{}': write error: {}", path, reason));
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(fmt::format("cannot write '{}': {}", path, reason));
  }
}

void check_writable(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error(fmt::format("cannot write '{}': is a directory", path));
  const std::string tmp = temporary_beside(path);
  errno = 0;
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error(fmt::format("cannot write '{}': {}", path, last_reason()));
  f.close();
  std::filesystem::remove(tmp, ec);
}

std::string first_existing(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!c.empty() && std::filesystem::exists(c, ec)) return c;
  }
  return "";
}

}  // namespace bitscale::util

namespace bitscale::util {

StreamedFile::StreamedFile(std::string path) : path_(std::move(path)), partial_(path_ + ".partial") {
  std::error_code ec;
  if (std::filesystem::is_directory(path_, ec))
    throw std::runtime_error(fmt::format("cannot write '{}': is a directory", path_));
  // A device or a pipe (/dev/null, /dev/stdout) is written directly: there is nothing to replace.
  if (std::filesystem::exists(path_, ec) && !std::filesystem::is_regular_file(path_, ec)) partial_ = path_;
  errno = 0;
  out_.open(partial_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error(fmt::format("cannot write '{}': {}", partial_, last_reason()));
}

StreamedFile::~StreamedFile() {
  if (committed_ || partial_ == path_) return;
  out_.close();
  std::error_code ec;
  if (std::filesystem::file_size(partial_, ec) == 0 && !ec) std::filesystem::remove(partial_, ec);
}

void StreamedFile::commit() {
  out_.flush();
  if (!out_) throw std::runtime_error(fmt::format("cannot write '{}': write error", partial_));
  out_.close();
  committed_ = true;
  if (partial_ == path_) return;
  std::error_code ec;
  std::filesystem::rename(partial_, path_, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot write '{}': {}", path_, ec.message()));
}

}  // namespace bitscale::util
