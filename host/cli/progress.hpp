// A one-line progress indicator on stderr, shown only on a terminal.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace bitscale::cli {

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && isatty(fileno(stderr))) {}
  ~Progress() { finish(); }
  /// Redraws at most 5 times a second.
  void update(const std::string& text) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    fmt::print(stderr, "\r\033[K{}", text);
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) fmt::print(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace bitscale::cli
