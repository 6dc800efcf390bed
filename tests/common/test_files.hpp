// Scratch directories for tests that write files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace bitscale::test {

/// The scratch directories made by this test process, removed when it exits.
class ScratchDirs {
 public:
  ScratchDirs() = default;
  ScratchDirs(const ScratchDirs&) = delete;
  ScratchDirs& operator=(const ScratchDirs&) = delete;
  ~ScratchDirs() {
    for (const auto& p : paths_) {
      std::error_code ec;  // best effort: a directory still in use stays behind
      std::filesystem::remove_all(p, ec);
    }
  }
  void add(const std::filesystem::path& p) { paths_.push_back(p); }

 private:
  std::vector<std::filesystem::path> paths_;
};

inline ScratchDirs& scratch_dirs() {
  static ScratchDirs dirs;
  return dirs;
}

/// An empty directory <tmp>/bitscale_test_<name>_<pid> (removed first if it exists, and again
/// when the test process exits).
inline std::filesystem::path temp_dir(const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("bitscale_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  scratch_dirs().add(p);
  return p;
}

}  // namespace bitscale::test
