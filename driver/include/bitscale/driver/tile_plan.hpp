// The tile plan of a layer: which tiles run on the array, in which order, at which scratchpad
// bases, and what is loaded before each. Pure: no device access (docs/ARCHITECTURE.md,
// "Driver"). Accelerator::run executes it; tests check its properties directly.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "bitscale/golden/tensor.hpp"

namespace bitscale::driver {

/// Geometry the device reports in ID/HWCFG/HWCFG2.
struct HwConfig {
  int rows = 0, cols = 0;
  int act_words = 0, wgt_words = 0;
  int bias_entries = 0;
  int acc_bits = 0;
};

/// How depthwise layers (channel multiplier 1: groups == in_c == out_c > 1) are mapped onto the array.
enum class DepthwiseMapping : std::uint8_t {
  kDwMode,   ///< "dw": MODE.DW tiles of up to Rows output pixels x Cols channels (the default)
  kColumns,  ///< "columns": broadcast tiles of one channel each (one column of the array)
};
/// "dw", "columns".
std::string_view to_string(DepthwiseMapping m);
/// The mapping of a name of to_string(); throws std::invalid_argument naming the accepted ones.
DepthwiseMapping parse_depthwise_mapping(std::string_view name);

/// How scratchpad transfers are scheduled against the tiles (docs/ARCHITECTURE.md "Bus").
enum class Transfer : std::uint8_t {
  kSerial,      ///< "serial": every transfer while the array is idle (the default)
  kOverlapped,  ///< "overlapped": the next m-tile's activations are written while a tile runs, into
                ///< the other half of the activation banks (ping-pong ACT_BASE)
};
/// "serial", "overlapped".
std::string_view to_string(Transfer t);
/// The schedule of a name of to_string(); throws std::invalid_argument naming the accepted ones.
Transfer parse_transfer(std::string_view name);

/// How the output shifts of a layer with per-channel shifts (golden::Layer::channel_shift) reach the array.
enum class ShiftMapping : std::uint8_t {
  /// "per-column": OUT_CFG.COL_SHIFT, each column's shift in its bias entry (docs/NUMERICS.md "Per-column
  /// shifts"); n-tiles of up to Cols consecutive channels whatever their shifts. Used where the layer has
  /// per-channel shifts and every bias fits golden::kColumnBiasBits signed bits (else as kPerTile). The default.
  kPerColumn,
  /// "per-tile": one SHIFT per tile: the channels of a group ordered by shift, n-tiles cut where it changes.
  kPerTile,
};
/// "per-column", "per-tile".
std::string_view to_string(ShiftMapping m);
/// The mapping of a name of to_string(); throws std::invalid_argument naming the accepted ones.
ShiftMapping parse_shift_mapping(std::string_view name);

/// How layers with one output pixel and one group (fully-connected layers, the classifier) are mapped.
enum class PixelMapping : std::uint8_t {
  kRow,    ///< "row": broadcast tiles like any layer: the pixel on one array row, up to Cols channels a tile
  kArray,  ///< "array": MODE.DW tiles with the operands exchanged (plan_array), Rows x Cols channels a tile
};
/// "row", "array".
std::string_view to_string(PixelMapping m);
/// The mapping of a name of to_string(); throws std::invalid_argument naming the accepted ones.
PixelMapping parse_pixel_mapping(std::string_view name);

/// A layer whose weights are packed per output channel in the device's K-vector format.
struct PreparedLayer {
  golden::Layer layer;
  int k = 0;                           ///< dot-product length
  int kw = 0;                          ///< words per K vector
  int kw_line = 0;                     ///< kw rounded up to whole scratchpad lines (4 words)
  std::vector<std::uint16_t> wpacked;  ///< out_c * kw_line words, output channel major
};

/// Up to `cols` output channels of a group that share one SHIFT: the group channels
/// GroupPlan::order[pos .. pos + cols - 1].
struct NTile {
  int pos = 0;
  int cols = 0;
  int shift = 0;
};

/// The n-tiles of one group.
struct GroupPlan {
  /// Group-local output channel at each position: 0, 1, ... without per-channel shifts;
  /// ordered by shift (stable) with them.
  std::vector<int> order;
  std::vector<NTile> ntiles;
  int chunk = 0;              ///< n-tiles whose weights (and biases) are resident at once
  bool act_resident = false;  ///< all m-tiles' activations stay resident across chunks
};

/// One tile on the array: output pixels m0 .. m0 + rows - 1 times the channels of an n-tile.
struct PlannedTile {
  int group = 0;
  int m_tile = 0, m0 = 0, rows = 0;
  int n_tile = 0;  ///< index into GroupPlan::ntiles
  int pos = 0, cols = 0, shift = 0;
  int act_base = 0;   ///< ACT_BASE (words)
  int wgt_base = 0;   ///< WGT_BASE (words)
  int bias_base = 0;  ///< BIAS_BASE (entry; programmed only when the layer has a bias)
  /// Before this tile, load the weights (and biases) of n-tiles chunk_first ..
  /// chunk_first + chunk_count - 1, n-tile chunk_first + j at WGT_BASE j * kw_line, BIAS_BASE j.
  bool load_weights = false;
  int chunk_first = 0, chunk_count = 0;
  /// Before this tile, load the im2col rows of pixels m0 .. m0 + rows - 1 at act_base.
  bool load_acts = false;
};

struct TilePlan {
  /// MODE.DW tiles (a depthwise layer under DepthwiseMapping::kDwMode): one group plan over all
  /// channels (group 0), each tile's activations at ACT_BASE 0 as kw x Cols words per row, word
  /// k x Cols + c holding word k of the K-vector of the n-tile's c-th channel.
  bool dw = false;
  /// OUT_CFG.COL_SHIFT (uses_column_shifts): every bias entry holds its column's shift and bias
  /// (golden::column_entry), BIAS_EN is set even for a layer without a bias, SHIFT is not used.
  bool col_shift = false;
  int m_total = 0;        ///< output pixels
  int m_tiles = 0;        ///< ceil(m_total / rows)
  int lines_per_vec = 0;  ///< scratchpad lines of one K-vector (kw_line / LINE_WORDS)
  std::vector<GroupPlan> groups;
  /// In execution order: per group, per chunk of n-tiles, per m-tile, the chunk's n-tiles in
  /// serpentine order (forward on even m-tiles, backward on odd ones).
  std::vector<PlannedTile> tiles;
};

/// PixelMapping::kArray (docs/NUMERICS.md "Accumulating across tiles"): a one-pixel layer as MODE.DW
/// tiles with the operands exchanged. PE (r, c) computes one output channel: its own operand (the
/// activation bank's Cols-word rows) is the channel's weight vector, the column operand (every weight
/// bank alike, loaded once) the input vector. The weight vectors are K-vectors of `steps` words: the
/// kw weight words, then `bias_words` words of bias digits that the input vector multiplies by 1
/// (lane 0) and by 2^(B-2) (the other lanes), so acc = bias + w . x exactly. Tiles run in chunks of at
/// most `chunk` word steps: the first initialises the accumulators (to 0), the others set
/// OUT_CFG.ACC_KEEP; the outputs are read after the last.
struct ArrayPlan {
  int steps = 0;       ///< word steps of a PE's vector: kw + bias_words
  int bias_words = 0;  ///< words of bias digits (0 without a bias)
  int chunk = 0;       ///< word steps per tile (the last chunk of a tile may be shorter)
  int slot = 0;        ///< ACT_BASE of odd chunks with Transfer::kOverlapped (ping-pong), else 0
  /// OUT_CFG.COL_SHIFT (a layer with per-channel shifts): every column holds channels of one shift,
  /// in its bias entry (BIAS_BASE = the tile), with bias 0. Otherwise SHIFT = `shift` for every tile.
  bool col_shift = false;
  int shift = 0;
  /// Per tile, per column: the output channels of its rows (1 .. Rows of them, one shift).
  std::vector<std::vector<std::vector<int>>> tiles;
};
/// The array plan of a prepared layer, or nullopt where kArray does not apply: more than one output
/// pixel or group, an Ax-BxP mask (it would approximate the bias digits too), or a bias that needs more
/// than 64 words of digits (two words at 16 bits for |bias| < 2^29).
[[nodiscard]] std::optional<ArrayPlan> plan_array(const PreparedLayer& pl, const HwConfig& hw, Transfer transfer);
/// The bias digits of plan_array: `words` words of the mode's lanes (lane 0 in [0, 2^(B-2)), the others
/// in the mode's range) whose dot product with array_bias_weights is `bias`; false if they do not suffice.
bool array_bias_digits(std::int64_t bias, golden::Mode mode, std::span<std::uint16_t> words);
/// The input-vector words that multiply the bias digits: lane 0 of the first word 1, every other lane 2^(B-2).
void array_bias_weights(golden::Mode mode, std::span<std::uint16_t> words);

/// Plans the tiles of a prepared layer on a device of geometry `hw`. Throws
/// std::invalid_argument if the layer's K-vector does not fit the banks.
/// With Transfer::kOverlapped, activations that are not resident alternate between ACT_BASE 0 and
/// one slot above where two slots fit a bank: per m-tile (a K-vector slot), or per tile for MODE.DW
/// tiles (a slot of kw x Cols words).
[[nodiscard]] TilePlan plan_tiles(const PreparedLayer& pl, const HwConfig& hw,
                                  DepthwiseMapping dw = DepthwiseMapping::kDwMode,
                                  Transfer transfer = Transfer::kSerial,
                                  ShiftMapping shifts = ShiftMapping::kPerColumn);
/// Whether plan_tiles gives the layer per-column shifts: kPerColumn, per-channel shifts, and every bias
/// fits golden::kColumnBiasBits signed bits.
[[nodiscard]] bool uses_column_shifts(const PreparedLayer& pl, ShiftMapping shifts);
/// Whether plan_tiles maps the layer to MODE.DW tiles: a depthwise layer with channel multiplier 1
/// under kDwMode whose Cols-word rows of K-vector words fit an activation bank.
[[nodiscard]] bool uses_dw_mode(const PreparedLayer& pl, const HwConfig& hw, DepthwiseMapping dw);

}  // namespace bitscale::driver
