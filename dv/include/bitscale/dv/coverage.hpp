// Functional coverage of the regression (docs/REGRESSION.md, "Coverage"), defined once: per
// mode, coverpoints over the layer (kind, K, K mod lanes, ragged rows and columns), the output
// stage (shift, ReLU, clamp, bias, per-channel shifts), what the outputs reached (the mode's
// minimum and maximum) and how many tiles the driver cut. run_regress samples every layer it
// compares; `bitscale regress --coverage` prints "coverage: H of T bins" and the holes. The bus
// features and error paths have their own model, BusCoverage, sampled by the bus co-simulation.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/driver/device.hpp"
#include "bitscale/dv/generator.hpp"

namespace bitscale::dv {

/// One bin of a coverpoint and the layers that fell into it.
struct CoverBin {
  std::string name;
  std::uint64_t hits = 0;
};

/// A coverpoint of one mode: e.g. "8-bit k_mod_lanes" with bins "0" and "1".
struct CoverPoint {
  golden::Mode mode = golden::Mode::k16;
  std::string name;
  std::vector<CoverBin> bins;
};

/// The geometry the bins refer to: array rows and columns, words per scratchpad bank.
struct CoverGeometry {
  int rows = 16, cols = 16, bank_words = 8192;
};

/// The largest K a bank holds in `mode`: bank_words x lanes (8192 / 16384 / 32768 by default).
[[nodiscard]] int bank_k_limit(golden::Mode mode, int bank_words);

class Coverage {
 public:
  explicit Coverage(CoverGeometry g = {});

  /// One compared layer: its case, the reference outputs and the counters of its run.
  void sample(const Case& c, const golden::PackedTensor& reference, const driver::Counters& counters);

  [[nodiscard]] std::size_t bins() const;
  [[nodiscard]] std::size_t hit() const;
  /// The bins never hit, as "<mode> <coverpoint>: <bin>" ("4-bit k: near_bank_limit").
  [[nodiscard]] std::vector<std::string> holes() const;
  /// "coverage: H of T bins" and, if any, "holes: ..." (one line each, with newlines); only the
  /// modes sampled count.
  [[nodiscard]] std::string report() const;
  /// Every coverpoint with its bins and hits.
  [[nodiscard]] nlohmann::ordered_json to_json() const;
  [[nodiscard]] const std::vector<CoverPoint>& points() const { return points_; }

 private:
  void hit(golden::Mode mode, const std::string& point, const std::string& bin);

  CoverGeometry g_;
  std::vector<CoverPoint> points_;
  std::vector<bool> sampled_;  ///< per mode (index of golden::kModes)
};

/// The device the bus coverage refers to (the bank sizes decide which base and line bits exist).
struct BusGeometry {
  int rows = 16, cols = 16, act_words = 8192, wgt_words = 8192, bias_entries = 256;
};

/// Functional coverage of the bus (docs/REGRESSION.md, "Coverage", bus features and error paths),
/// sampled by the bus co-simulation (tests/rtl/test_rtl_cosim.cpp) from what crosses the bus: every
/// access with its response and every wait() with its result, in order. It keeps the little state it
/// needs from that stream alone: the configuration registers as last written, the number of edges
/// (one per access, one per waited cycle), the STATUS of the last STATUS read, and the running tile
/// (started when the STATUS read right after a START shows BUSY and no error; it then runs
/// ceil(K / lanes) + BUSY_OVERHEAD edges, docs/ARCHITECTURE.md). Error kinds are read from STATUS.CODE,
/// so the stream must read STATUS after each failed access and after each START (as the driver
/// does); an error or START not followed by a STATUS read is not binned.
///
/// Coverpoints (bins): irq_en (none, done, err, both: values written), irq (done, err: irq_o seen
/// high because of that flag, with sample_irq), status_w1c (done, err: a set flag cleared), clear
/// (idle, busy, with_start), bus_error (addr, busy, ro), start_refused (busy, mode, k, shape, shift,
/// bias, approx), while_busy (config_write, spad_write, spad_read, counter_read, status_read),
/// spad_read (act, wgt, bias, out: legal reads over the bus), wait (done, already_set, err,
/// timeout), recovery (after_bus_error, after_refused_start: a tile completed after an error),
/// tile_mode (16-bit, 8-bit, 4-bit: tiles completed), act_base / wgt_base alignment (word mod 4:
/// 0..3, and ends_at_bank_end), act_base_bit / wgt_base_bit (each bit of the base set in a started
/// tile), bias_base_bit (likewise, with BIAS_EN), spad_line_bit / spad_bank_bit (each bit of the
/// line and bank of a legal scratchpad access), xfer (wide and overlapped beats), start (load: an
/// accepted START with CTRL.LOAD; in_last_read, in_drain, in_output: accepted in the running tile's
/// last read, DRAIN or output cycle).
class BusCoverage {
 public:
  explicit BusCoverage(BusGeometry g = {});

  /// One bus access (one edge) and its response.
  void sample_access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata, const driver::BusResponse& rsp);
  /// One wait(max_cycles) and its result.
  void sample_wait(std::uint64_t max_cycles, const driver::WaitResult& r);
  /// The level of irq_o after the last access, against the last STATUS read and IRQ_EN.
  void sample_irq(bool irq);

  /// True while the tile the stream started is running (BUSY), as far as the stream tells.
  [[nodiscard]] bool busy() const { return tile_end_ > edge_; }
  /// A START was the last access and its STATUS read has not come yet (busy() does not know yet).
  [[nodiscard]] bool start_pending() const { return pending_start_; }
  /// Tiles the stream saw complete, in all and per mode (index of golden::kModes).
  [[nodiscard]] std::uint64_t tiles_completed() const { return tiles_; }
  /// Errors seen in STATUS.CODE after a failed access or a refused START, by code (ERR_*).
  [[nodiscard]] const std::vector<std::uint64_t>& errors_by_code() const { return errors_; }

  [[nodiscard]] std::size_t bins() const;
  [[nodiscard]] std::size_t hit() const;
  /// The bins never hit, as "<coverpoint>: <bin>" ("start_refused: bias").
  [[nodiscard]] std::vector<std::string> holes() const;
  /// "bus coverage: H of T bins" and, if any, "holes: ..." (one line each, with newlines).
  [[nodiscard]] std::string report() const;
  /// Every coverpoint with its bins and hits.
  [[nodiscard]] nlohmann::ordered_json to_json() const;
  [[nodiscard]] const std::vector<CoverPoint>& points() const { return points_; }

 private:
  void hit(const std::string& point, const std::string& bin);
  void advance(std::uint64_t edges);
  /// The running tile completes (counted, its mode binned).
  void advance_to_end();
  void on_status(std::uint64_t status);

  BusGeometry g_;
  std::vector<CoverPoint> points_;  ///< mode unused
  std::vector<std::uint64_t> cfg_;  ///< configuration registers as last written
  std::vector<std::uint64_t> errors_;
  std::uint64_t edge_ = 0;             ///< edges so far
  std::uint64_t tile_end_ = 0;         ///< edge after which the running tile is done
  std::uint64_t status_ = 0;           ///< last STATUS read (w1c writes since applied)
  std::uint64_t status_edge_ = ~0ull;  ///< edges when it was read
  std::uint64_t tiles_ = 0;
  int tile_mode_ = -1;          ///< mode index of the running tile
  int tile_after_error_ = 0;    ///< the running tile was started after an error (as last_error_)
  int last_error_ = 0;          ///< 0 none since the last completed tile, 1 bus, 2 refused START
  bool expect_status_ = false;  ///< an error or START waits for its STATUS read
  bool pending_start_ = false;  ///< ... and it was a START (with the configuration of its edge)
  bool pending_bus_error_ = false;
  std::vector<std::uint64_t> start_cfg_;
  bool start_load_ = false;     ///< the pending START carried its bases (CTRL.LOAD)
  std::uint64_t last_end_ = 0;  ///< tile_end_ of the last completed tile
};

}  // namespace bitscale::dv
