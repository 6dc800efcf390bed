// The Accelerator: runs quantized layers of any shape on a Device by tiling them onto
// the array (im2col along K, Rows output pixels x Cols output channels per tile),
// handling K not divisible by the lanes, M and N not multiples of the array size,
// padding, stride and groups. Portable: only talks to the Device contract.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/device.hpp"
#include "bitscale/driver/tile_plan.hpp"
#include "bitscale/golden/tensor.hpp"

namespace bitscale::golden {
class FunctionalDevice;
}

namespace bitscale::driver {

/// The back-ends of an Accelerator.
enum class Backend : std::uint8_t {
  kRtl,           ///< "rtl": the verilated RTL (RtlDevice)
  kGoldenDevice,  ///< "golden-device": the register-level golden model (GoldenDevice)
  kGolden,        ///< "golden": the functional golden back-end (fast; same outputs and counters)
};
/// "rtl", "golden-device", "golden".
std::string_view to_string(Backend b);
/// The back-end of a name of to_string(); throws std::invalid_argument naming the accepted ones.
Backend parse_backend(std::string_view name);

/// Exact block-product gating of the array (MODE.ZGATE, docs/NUMERICS.md "Exact zero-block gating").
enum class Gating : std::uint8_t {
  kOff,         ///< "off": every block product the Ax-BxP mask keeps is computed
  kZeroBlocks,  ///< "zero-blocks": block products of a 0000 operand block are gated (exact; CNT_ZSKIP)
};
/// "off", "zero-blocks".
std::string_view to_string(Gating g);
/// The gating of a name of to_string(); throws std::invalid_argument naming the accepted ones.
Gating parse_gating(std::string_view name);

/// How the driver moves scratchpad lines (docs/ARCHITECTURE.md "Bus").
enum class Port : std::uint8_t {
  kLine,  ///< "line": one 64-bit line of one bank per bus beat (the default)
  kWide,  ///< "wide": line L of every bank of a region per beat (bank ADDR_BANK_ALL, Device::access_wide)
  kRows,  ///< "rows": as kWide, and activations by row beats where aligned: Cols/4 lines of every activation
          ///< bank per beat (bank ADDR_BANK_ROWS, Device::write_rows; a MODE.DW word step per beat)
};
/// "line", "wide", "rows".
std::string_view to_string(Port p);
/// The port of a name of to_string(); throws std::invalid_argument naming the accepted ones.
Port parse_port(std::string_view name);

/// Performance counters (docs/ARCHITECTURE.md), one field per entry of regmap::kCounters,
/// named and ordered as the counters of rtl/bsa_regs.def (generated list BITSCALE_REGMAP_COUNTERS):
/// cycles, busy, array, mac16, mac8, mac4, spad_rd, spad_wr, tiles, blk.
struct Counters {
#define BITSCALE_COUNTER_FIELD(name, index) std::uint64_t name = 0;
  BITSCALE_REGMAP_COUNTERS(BITSCALE_COUNTER_FIELD)
#undef BITSCALE_COUNTER_FIELD
  /// The fields in the order of regmap::kCounters.
  static const std::array<std::uint64_t Counters::*, regmap::kNumCounters> kFields;
  [[nodiscard]] std::uint64_t macs(golden::Mode m) const;
  [[nodiscard]] std::uint64_t macs_total() const { return mac16 + mac8 + mac4; }
  friend Counters operator-(const Counters& a, const Counters& b);
  friend bool operator==(const Counters&, const Counters&) = default;
};

/// Whether run() reads back the group widths of the outputs (docs/NUMERICS.md, "Group-width detector").
enum class GroupWidthReadback : std::uint8_t {
  kOff,  ///< default: no extra bus access (the bus cycle counts of a run do not change)
  kOn,   ///< after each tile, one bus read of the header line of each active output row
};

/// The group widths of a layer's outputs, as the detector reports them: one per output group =
/// one output row of a tile = the channels of one n-tile (up to Cols channels of one conv group; 16
/// consecutive channels at the default geometry, also with per-channel shifts under ShiftMapping::kPerColumn;
/// in shift order under kPerTile) at one output pixel.
struct LayerGroupWidths {
  int pixels = 0;                   ///< output pixels (out_h x out_w)
  int groups_per_pixel = 0;         ///< n-tiles over all conv groups (conv group g's n-tiles follow those of g - 1)
  std::vector<std::uint8_t> width;  ///< [pixel * groups_per_pixel + group], 1 .. B
  /// Groups of each width: entry w - 1 counts width w (1 .. 16), as CNT_GW1 .. CNT_GW16.
  [[nodiscard]] std::array<std::uint64_t, 16> histogram() const;
  friend bool operator==(const LayerGroupWidths&, const LayerGroupWidths&) = default;
};

/// A device error (refused START, bus error, watchdog) with what was being done.
class AcceleratorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Accelerator {
 public:
  /// Checks the device's ID and reads its geometry; throws AcceleratorError on a wrong ID.
  explicit Accelerator(Device& dev);
  /// Same, owning the device.
  explicit Accelerator(std::unique_ptr<Device> dev);
  /// Functional golden back-end: run() computes the data with the golden reference kernels
  /// (golden::conv2d) and executes the same tile plan against golden::FunctionalDevice, which
  /// keeps the registers and counters by the golden counter rules without moving data, so
  /// its counters equal the RTL's for the same sequence of calls.
  explicit Accelerator(const HwConfig& hw);

  [[nodiscard]] const HwConfig& hw() const { return hw_; }
  /// The device (throws std::logic_error for the functional back-end).
  [[nodiscard]] Device& device();
  /// "rtl", "golden-device" or "golden" (functional).
  [[nodiscard]] std::string backend() const;

  /// Validates the layer against the numeric spec and the device (K must fit a bank)
  /// and packs its weights. Throws std::invalid_argument with the reason.
  [[nodiscard]] PreparedLayer prepare(const golden::Layer& layer) const;
  /// Runs the layer on `in` (shape in_h x in_w x in_c, same mode as the layer), tile by tile
  /// as plan_tiles() plans it (tile_plan.hpp; per-channel shifts: docs/NUMERICS.md).
  golden::PackedTensor run(const PreparedLayer& layer, const golden::PackedTensor& in);
  /// Same, into `out` (its storage is reused: no allocation when it already holds as many words).
  void run(const PreparedLayer& layer, const golden::PackedTensor& in, golden::PackedTensor& out);
  golden::PackedTensor run(const golden::Layer& layer, const golden::PackedTensor& in) {
    return run(prepare(layer), in);
  }

  [[nodiscard]] Counters counters();
  void clear_counters();

  /// Watchdog: a tile that is not done within ceil(K/lanes) + BUSY_OVERHEAD + this many
  /// cycles raises AcceleratorError.
  void set_watchdog_slack(std::uint64_t cycles) { watchdog_slack_ = cycles; }
  /// Exact zero-block gating (MODE.ZGATE) for the layers run from now on; outputs do not change,
  /// only CNT_BLK / CNT_ZSKIP (and the energy priced from them).
  void set_gating(Gating g) { gating_ = g; }
  [[nodiscard]] Gating gating() const { return gating_; }

  /// Group-width read-back of the following runs (default kOff).
  void set_group_width_readback(GroupWidthReadback g) { gw_readback_ = g; }
  [[nodiscard]] GroupWidthReadback group_width_readback() const { return gw_readback_; }
  /// The group widths of the last run() with read-back on (empty otherwise: no pixels).
  [[nodiscard]] const LayerGroupWidths& group_widths() const { return gw_; }
  /// How depthwise layers are tiled (tile_plan.hpp; default: MODE.DW tiles).
  void set_depthwise_mapping(DepthwiseMapping m) { dw_mapping_ = m; }
  [[nodiscard]] DepthwiseMapping depthwise_mapping() const { return dw_mapping_; }
  /// Transfer schedule of the following runs (default kSerial: the array idles during transfers).
  void set_transfer(Transfer t) { transfer_ = t; }
  [[nodiscard]] Transfer transfer() const { return transfer_; }
  /// Scratchpad port of the following runs (default kLine).
  void set_port(Port p) { port_ = p; }
  [[nodiscard]] Port port() const { return port_; }
  /// How per-channel output shifts reach the array (tile_plan.hpp; default: per-column shifts).
  void set_shift_mapping(ShiftMapping m) { shift_mapping_ = m; }
  [[nodiscard]] ShiftMapping shift_mapping() const { return shift_mapping_; }
  /// How one-pixel layers are tiled (tile_plan.hpp PixelMapping; default kRow). kArray applies where
  /// plan_array() does and group-width read-back is off; other layers keep plan_tiles().
  void set_pixel_mapping(PixelMapping m) { pixel_mapping_ = m; }
  [[nodiscard]] PixelMapping pixel_mapping() const { return pixel_mapping_; }

  /// Low-level access with error reporting (throw AcceleratorError naming the address).
  void write_reg(std::uint32_t index, std::uint64_t value);
  [[nodiscard]] std::uint64_t read_reg(std::uint32_t index);

 private:
  /// Writes a configuration register unless the shadow says it already holds `value`.
  void write_cfg(std::uint32_t index, std::uint64_t value);
  /// Forgets every shadowed configuration value (the next write_cfg goes to the bus).
  void invalidate_shadow() { shadow_valid_ = 0; }
  /// One scratchpad line over the bus; throws AcceleratorError naming region, bank, line.
  void write_line(std::uint32_t region, std::uint32_t bank, std::uint32_t line, std::uint64_t data);
  [[nodiscard]] std::uint64_t read_line(std::uint32_t region, std::uint32_t bank, std::uint32_t line);
  /// One wide beat (line `line` of every bank of `region`); `lines` has max(rows, cols) entries.
  void write_wide(std::uint32_t region, std::uint32_t line, std::span<std::uint64_t> lines);
  void read_wide(std::uint32_t region, std::uint32_t line, std::span<std::uint64_t> lines);
  /// err_text() of STATUS.CODE, read over the bus (for error messages only).
  [[nodiscard]] std::string last_error_text();
  /// After an error: clears the sticky STATUS.ERR (with it set, wait() returns at once), lets a
  /// tile that is still running finish (bounded by the longest tile), clears DONE and forgets
  /// the shadowed configuration. Returns "" when the device is idle again, else why not.
  [[nodiscard]] std::string recover();

  // The steps of run(), in order (accelerator.cpp).
  struct RunState;
  void check_run(const PreparedLayer& pl, const golden::PackedTensor& in) const;
  void write_layer_config(const golden::Layer& layer, bool dw, bool col_shift = false);
  /// The weights and biases of n-tiles chunk_first + j0 .. chunk_first + j1 - 1 of t's chunk (bias lines
  /// of pairs from the first even one).
  void load_weights(RunState& st, const PlannedTile& t, int j0, int j1);
  void load_activations(RunState& st, const PlannedTile& t);
  void load_dw_activations(RunState& st, const PlannedTile& t);
  /// Tile registers (through the shadow) and START with the bases (CTRL.LOAD).
  void start_tile(RunState& st, const PlannedTile& t);
  /// Whether ROWS_ACT, COLS_ACT and SHIFT already hold tile t's values (a START while busy writes none).
  [[nodiscard]] bool tile_regs_hold(const PlannedTile& t) const;
  /// Clocks idle edges until Device::edges() reaches `edge`; throws AcceleratorError on STATUS.ERR.
  void wait_until(std::uint64_t edge);
  /// Waits for the started tile t (watchdog).
  void wait_tile(RunState& st, const PlannedTile& t);
  /// With Transfer::kOverlapped: whether `next`'s activations can be written while `cur` runs (its
  /// lines are outside cur's ACT read window).
  [[nodiscard]] bool can_prefetch(const RunState& st, const PlannedTile& cur, const PlannedTile& next) const;
  void read_outputs(RunState& st, const PlannedTile& t);
  /// Functional back-end with zero-block gating: CNT_ZSKIP of tile t, told to the device.
  void count_functional_zero_skips(RunState& st, const PlannedTile& t);
  /// The group widths of tile t from the outputs already computed (functional back-end).
  [[nodiscard]] std::vector<std::uint8_t> tile_widths(const RunState& st, const PlannedTile& t) const;
  /// PixelMapping::kArray: the layer as the tiles of `ap` (array_run.cpp); `x` is its input vector
  /// (kw words), `out` the 1 x 1 output tensor (the functional back-end's already holds the outputs).
  void run_array(const PreparedLayer& pl, const ArrayPlan& ap, std::span<const std::uint16_t> x,
                 golden::PackedTensor& out);
  /// Stores the widths of tile t's rows in gw_.
  void store_widths(const RunState& st, const PlannedTile& t, std::span<const std::uint8_t> widths);

  std::unique_ptr<Device> owned_;
  Device* dev_ = nullptr;
  golden::FunctionalDevice* functional_ = nullptr;  ///< the functional back-end's device, else nullptr
  HwConfig hw_;
  std::uint64_t watchdog_slack_ = 1000;
  Gating gating_ = Gating::kOff;
  DepthwiseMapping dw_mapping_ = DepthwiseMapping::kDwMode;
  Transfer transfer_ = Transfer::kSerial;
  Port port_ = Port::kLine;
  std::vector<std::uint64_t> wide_;  ///< the lines of one wide beat (max(rows, cols))
  std::vector<std::uint64_t> rows_;  ///< the lines of one row beat (rows x cols/4)
  /// Whether wide beats are used (Port::kWide and kRows).
  [[nodiscard]] bool wide_port() const { return port_ != Port::kLine; }
  /// Activation lines `line0` .. `line0` + `n` - 1 of rows 0 .. `rows` - 1 (row r's at `words` + r x
  /// `row_stride`, 4 words a line; rows past `rows` get 0) in wide beats, and with Port::kRows in row beats
  /// where a run of Cols/4 lines starts at a multiple of Cols/4; the functional back-end counts them.
  void write_act_lines(int line0, int n, int rows, const std::uint16_t* words, std::size_t row_stride);
  ShiftMapping shift_mapping_ = ShiftMapping::kPerColumn;
  PixelMapping pixel_mapping_ = PixelMapping::kRow;
  GroupWidthReadback gw_readback_ = GroupWidthReadback::kOff;
  LayerGroupWidths gw_;
  /// Last value written to each register index below kShadowRegs (valid where the bit is set):
  /// the configuration registers, all below the counters.
  static constexpr std::uint32_t kShadowRegs = regmap::kRegCntFirst;
  static_assert(kShadowRegs <= 32, "shadow_valid_ has one bit per register");
  std::array<std::uint64_t, kShadowRegs> shadow_{};
  /// Why the device could not be recovered after an error ("" while it is usable): run() refuses.
  std::string unusable_;
  std::uint32_t shadow_valid_ = 0;
};

/// Back-end selection at run time.
struct DeviceOptions {
  std::string trace_fst{};       ///< rtl: write an FST waveform to this file (empty = none)
  std::uint64_t seed = 1;        ///< rtl: seed of the random initial register and memory values
  int rows = 0, cols = 0;        ///< geometry of the device (rtl: one verilated in this build); 0 x 0: the default
  Gating gating = Gating::kOff;  ///< MODE.ZGATE of every layer the accelerator runs
  DepthwiseMapping depthwise = DepthwiseMapping::kDwMode;  ///< how depthwise layers are tiled
  Transfer transfer = Transfer::kSerial;                   ///< transfers serial or overlapped with tiles
  Port port = Port::kLine;                                 ///< narrow (line) or wide scratchpad beats
  ShiftMapping shifts = ShiftMapping::kPerColumn;          ///< how per-channel shifts reach the array
  PixelMapping pixel = PixelMapping::kRow;                 ///< how one-pixel (fully-connected) layers are tiled
};
/// A register-level device: "rtl" (verilated) or "golden" (golden device model).
std::unique_ptr<Device> make_device(const std::string& backend, const DeviceOptions& opts = {});
/// An accelerator on a back-end.
std::unique_ptr<Accelerator> make_accelerator(Backend backend, const DeviceOptions& opts = {});
/// Same, by name (parse_backend): "rtl", "golden-device" or "golden".
inline std::unique_ptr<Accelerator> make_accelerator(const std::string& backend, const DeviceOptions& opts = {}) {
  return make_accelerator(parse_backend(backend), opts);
}
/// The default geometry (rtl/bsa_regs.def): that of the verilated bsa_top and of the default
/// golden device.
HwConfig default_hw_config();

}  // namespace bitscale::driver
