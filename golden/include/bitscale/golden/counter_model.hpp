// The performance-counter rules of docs/ARCHITECTURE.md ("Performance counters"), defined
// once. GoldenDevice applies them edge by edge; the functional back-end (FunctionalDevice)
// applies them per access and per whole tile, so both count exactly what bsa_top counts.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::golden {

/// Counter values or increments, in the order of regmap::kCounters (index regmap::kCnt*).
using CounterValues = std::array<std::uint64_t, regmap::kNumCounters>;

/// A tile as the counters see it (configuration latched at its START).
struct TileCounts {
  Mode mode = Mode::k16;
  int k = 0, rows = 0, cols = 0;
  bool bias_en = false;
  Approx approx{};     ///< MODE.BLKSKIP: CNT_BLK counts kept_blocks(approx, mode) per valid lane
  bool zgate = false;  ///< MODE.ZGATE: CNT_BLK minus the zero-block skips, counted by count_zero_gating
  bool dw = false;     ///< MODE.DW: each active row reads a whole row of `array_cols` words per word step
  int array_cols = 0;  ///< the array's Cols (read width of a DW-mode activation row)
};

/// Counter of the multiply-accumulates of a mode (regmap::kCntMac16, kCntMac8, kCntMac4).
std::size_t mac_counter(Mode m);
/// Counter of the block products computed in a mode (regmap::kCntBlk16, kCntBlk8, kCntBlk4): every
/// increment of CNT_BLK is also one of the counter of the tile's mode, so CNT_BLK = BLK16 + BLK8 + BLK4.
std::size_t blk_counter(Mode m);
/// Busy edges of a tile after its START edge e0: ceil(K / lanes) + BUSY_OVERHEAD; the last
/// one writes the outputs and completes the tile.
std::uint64_t tile_busy_edges(const TileCounts& t);

/// Every rising edge: CYCLES, and BUSY when a tile was running before the edge.
void count_edge(CounterValues& inc, bool busy_before);
/// `lines` scratchpad bus beats (CNT_XFER), each moving one 64-bit line (4 x 16-bit words) in each of
/// `banks` banks: 1 for a narrow access, the region's banks for a wide beat.
void count_spad_lines(CounterValues& inc, bool write, std::uint64_t lines = 1, std::uint64_t banks = 1);
/// `beats` scratchpad bus beats at edges with BUSY set (transfers overlapped with a tile, CNT_OVERLAP).
void count_overlap(CounterValues& inc, std::uint64_t beats);
/// Edge e_j (1 <= j <= tile_busy_edges) of a running tile: operand reads at e1 .. e(KW) and its
/// bias reads at e1 (2 words per active column with BIAS_EN), products at e2 .. e(KW+1), output
/// writes and TILES at the last edge.
void count_tile_edge(CounterValues& inc, const TileCounts& t, std::uint64_t j);
/// All increments of the busy edges e1 .. e(last) of a tile, CYCLES and BUSY included: the
/// sums of count_edge(busy) and count_tile_edge over j = 1 .. tile_busy_edges, in closed form
/// (O(1) per tile; the functional back-end uses it for every tile).
CounterValues count_tile(const TileCounts& t);
/// The same totals, edge by edge (O(K / lanes)): the definition count_tile must equal.
CounterValues count_tile_edges(const TileCounts& t);

// ---- Exact zero-block gating (MODE.ZGATE, docs/NUMERICS.md "Exact zero-block gating") ----

/// Block pairs of the lane product a (x) w (B-bit values of mode m) that the mask keeps and ZGATE
/// skips: (i, j) not in x.skip with block i of a or block j of w equal to 0000. The definition.
int zero_gated_blocks(std::int32_t a, std::int32_t w, Mode m, Approx x);
/// CNT_ZSKIP of a whole tile (t.rows x t.cols PEs, K = t.k) from its operand words: act[r] points
/// to the ceil(K / lanes) packed words of row r, wgt[c] to those of column c (lanes past K in the
/// last word are ignored). Factorised per word and block pair: rows x cols minus (rows with block
/// I non-zero) x (columns with block J non-zero), O(words x (rows + cols)). 0 unless t.zgate.
std::uint64_t tile_zero_skips(const TileCounts& t, std::span<const std::uint16_t* const> act,
                              std::span<const std::uint16_t* const> wgt);
/// Moves `zskip` block products of a tile of mode `m` from CNT_BLK and its mode's CNT_BLK<m> (which
/// counted every kept pair) to CNT_ZSKIP (one counter for all modes).
void count_zero_gating(CounterValues& inc, Mode m, std::uint64_t zskip);
/// Group-width detector (docs/NUMERICS.md, "Group-width detector"): the width of one output row of a
/// tile, the largest min_width (golden::dpred) of its outputs as written (`outputs`: the values of
/// its active columns, each the B-bit output read back as a signed value).
int output_group_width(std::span<const std::int32_t> outputs);
/// The output groups (active rows) of a completed tile, by width: CNT_GW<w> += rows of width w
/// (1 .. 16), at the tile's last edge, with TILES.
void count_group_widths(CounterValues& inc, std::span<const std::uint8_t> widths);

}  // namespace bitscale::golden
