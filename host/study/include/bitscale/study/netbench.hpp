// `bitscale netbench` as one library call: whole-network performance figures of one model at one
// bit-width: golden (functional) images per second on one core, RTL seconds per image, and the
// array utilization per layer type from the performance counters.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/tensor.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/study/engine.hpp"

namespace bitscale::study {

struct NetBenchJob {
  std::string model, images;  ///< "": the defaults
  std::string calib;          ///< calibration JSON or image directory ("": the even positions)
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  int bits = 8;
  int golden_images = 20;  ///< images timed on the golden back-end (at least 1)
  int rtl_images = 1;      ///< images timed on the RTL back-end (0: skipped)
  int calib_limit = 50;
  AcceleratorFactory factory;
};

/// Counters of the MAC layers of one type ("conv 3x3", "depthwise", ...) on one image.
struct LayerTypeFigures {
  std::string type;
  int layers = 0;
  std::uint64_t macs = 0, array = 0, busy = 0, cycles = 0;
  std::uint64_t xfer = 0, overlap = 0;  ///< scratchpad bus beats, those overlapped with a tile (CNT_XFER, CNT_OVERLAP)

  /// Adds the counters of one layer.
  void add(const driver::Counters& c);
};

/// One MAC layer on one image: its GEMM shape, its tile plan (driver::plan_tiles on the geometry
/// and depthwise mapping of the functional back-end) and its counters.
struct LayerFigures {
  int index = 0;  ///< MAC layer position in the network (QuantizedNetwork::layers())
  std::string kind;
  int m = 0, n = 0, k = 0, groups = 1;  ///< output pixels, output channels, dot-product length, conv groups
  bool dw = false;                      ///< MODE.DW tiles
  bool col_shift = false;               ///< per-column shifts (OUT_CFG.COL_SHIFT)
  int shifts = 1;                       ///< distinct output shifts of the layer
  int m_tiles = 0;                      ///< ceil(m / Rows)
  bool ragged_m = false;                ///< m is not a multiple of Rows: the last m-tile is short
  int n_tiles = 0;                      ///< n-tiles over all groups (plan)
  /// n-tiles the per-channel shifts add: n_tiles minus the n-tiles of the same layer with one shift.
  int n_tiles_shift = 0;
  /// Short n-tiles because the channels of a group are not a multiple of Cols (one per such group).
  int n_tiles_short_n = 0;
  std::uint64_t useful_macs = 0;  ///< m x n x k (the layer's MACs)
  driver::Counters counters;      ///< of the layer
  /// Array cycles of the same plan if the layer had one shift (what per-column shifts would buy).
  std::uint64_t array_one_shift = 0;
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
  std::vector<LayerFigures> layers;  ///< per MAC layer, in network order
  double rtl_s = 0;                  ///< per image (0: not run)
  std::uint64_t rtl_cycles = 0;
  int rtl_images = 0;

  /// MACs / (array cycles x PEs x lanes).
  [[nodiscard]] double utilization(const LayerTypeFigures& f) const;
  /// Same for one layer (counter MACs).
  [[nodiscard]] double utilization(const LayerFigures& f) const;
};

/// The layer type a MAC layer's shape is counted under: "depthwise", "grouped conv", "fully
/// connected", "pointwise conv (1x1)" or "conv <kh>x<kw>".
std::string layer_kind(const golden::ConvShape& s);

/// The plan-derived fields of a layer's LayerFigures (all but index and counters) on geometry `hw`.
LayerFigures layer_figures(const driver::PreparedLayer& pl, const driver::HwConfig& hw, driver::DepthwiseMapping dw,
                           driver::ShiftMapping shifts = driver::ShiftMapping::kPerColumn);

/// `v` rounded to `decimals` decimal places (the precision the JSON figures are written with).
double rounded(double v, int decimals);

/// Measures; throws std::invalid_argument or std::runtime_error with context.
NetBenchResult run_netbench(const NetBenchJob& job, const std::function<void(const std::string&)>& warn = {});
/// The figures as `bitscale netbench` prints them.
std::string netbench_report(const NetBenchResult& r);
/// The per-layer table (`bitscale netbench --per-layer`).
std::string netbench_layer_report(const NetBenchResult& r);
/// The figures as one line of JSON (ending in '\n').
std::string netbench_json(const NetBenchResult& r);

}  // namespace bitscale::study
