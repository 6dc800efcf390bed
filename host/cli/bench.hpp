// `bitscale netbench`: whole-network performance figures of one model: golden images per
// second, RTL seconds per image, and array utilization per layer type from the counters.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bitscale::cli {

struct NetBenchOptions {
  std::string model, images, calib, weight_fl = "channel";
  int bits = 8;
  int golden_images = 20;
  int rtl_images = 1;
  int calib_limit = 50;
};

/// Counters of the MAC layers of one type ("conv 3x3", "depthwise", ...) on one image.
struct LayerTypeFigures {
  std::string type;
  int layers = 0;
  std::uint64_t macs = 0, array = 0, busy = 0, cycles = 0;
};

struct NetBenchResult {
  std::string model;
  int bits = 8;
  std::int64_t macs_per_image = 0;
  double golden_s = 0;  ///< per image, one core
  int golden_images = 0;
  double pes = 0;                       ///< rows x cols of the array
  int lanes = 1;                        ///< MACs per PE per array cycle
  std::vector<LayerTypeFigures> types;  ///< by name
  LayerTypeFigures total;
  double rtl_s = 0;  ///< per image (0: not run)
  std::uint64_t rtl_cycles = 0;
  int rtl_images = 0;

  /// MACs / (array cycles x PEs x lanes).
  [[nodiscard]] double utilization(const LayerTypeFigures& f) const;
};

NetBenchResult run_netbench(const NetBenchOptions& o);
/// The figures as `bitscale netbench` prints them.
std::string netbench_report(const NetBenchResult& r);
nlohmann::ordered_json netbench_json(const NetBenchResult& r);

}  // namespace bitscale::cli
