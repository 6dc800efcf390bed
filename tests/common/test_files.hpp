// Scratch directories for tests that write files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace bitscale::test {

/// An empty directory <tmp>/bitscale_test_<name>_<pid> (removed first if it exists).
inline std::filesystem::path temp_dir(const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("bitscale_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace bitscale::test
