#include "bitscale/golden/counter_model.hpp"

#include <algorithm>

namespace bitscale::golden {

namespace rm = bitscale::regmap;

namespace {
constexpr std::uint64_t kWordsPerLine = rm::kLineWords;                  // 16-bit words per scratchpad line
constexpr std::uint64_t kWordsPerBias = rm::kLineWords / rm::kLineBias;  // 16-bit words per 32-bit bias entry

// Activation words read per word step: one per active row, or a whole Cols-word row per active row
// in DW mode (docs/ARCHITECTURE.md, "Performance counters").
std::uint64_t act_words_read(const TileCounts& t) {
  const auto rows = static_cast<std::uint64_t>(t.rows);
  return t.dw ? rows * static_cast<std::uint64_t>(t.array_cols) : rows;
}
}  // namespace

std::size_t mac_counter(Mode m) {
  switch (m) {
    case Mode::k16:
      return rm::kCntMac16;
    case Mode::k8:
      return rm::kCntMac8;
    case Mode::k4:
      return rm::kCntMac4;
  }
  return rm::kCntMac16;
}

std::uint64_t tile_busy_edges(const TileCounts& t) {
  return packed_words(static_cast<std::size_t>(t.k), t.mode) + rm::kBusyOverhead;
}

void count_edge(CounterValues& inc, bool busy_before) {
  inc[rm::kCntCycles] += 1;
  if (busy_before) inc[rm::kCntBusy] += 1;
}

void count_spad_lines(CounterValues& inc, bool write, std::uint64_t lines) {
  inc[write ? rm::kCntSpadWr : rm::kCntSpadRd] += kWordsPerLine * lines;
}

void count_tile_start(CounterValues& inc, const TileCounts& t) {
  if (t.bias_en) inc[rm::kCntSpadRd] += kWordsPerBias * static_cast<std::uint64_t>(t.cols);
}

void count_tile_edge(CounterValues& inc, const TileCounts& t, std::uint64_t j) {
  const std::uint64_t kw = packed_words(static_cast<std::size_t>(t.k), t.mode);
  const auto rows = static_cast<std::uint64_t>(t.rows), cols = static_cast<std::uint64_t>(t.cols);
  const auto p = static_cast<std::uint64_t>(lanes(t.mode));
  if (j >= 1 && j <= kw) inc[rm::kCntSpadRd] += act_words_read(t) + cols;  // word j-1 read from every active bank
  if (j >= 2 && j <= kw + 1) {                                             // products of word j-2 accumulated
    const std::uint64_t valid = std::min<std::uint64_t>(p, static_cast<std::uint64_t>(t.k) - (j - 2) * p);
    inc[rm::kCntArray] += 1;
    inc[mac_counter(t.mode)] += rows * cols * valid;
    inc[rm::kCntBlk] += rows * cols * valid * static_cast<std::uint64_t>(kept_blocks(t.approx, t.mode));
  }
  if (j == tile_busy_edges(t)) {  // outputs written, tile done
    inc[rm::kCntSpadWr] += rows * packed_words(static_cast<std::size_t>(t.cols), t.mode);
    inc[rm::kCntTiles] += 1;
  }
}

CounterValues count_tile(const TileCounts& t) {
  // Sums of the edge rules above over e1 .. e(KW + BUSY_OVERHEAD): reads at the KW edges
  // e1 .. e(KW), products at the KW edges e2 .. e(KW+1) (all busy, BUSY_OVERHEAD >= 1) with
  // K valid lanes in all, outputs and TILES once.
  static_assert(rm::kBusyOverhead >= 1, "the products of the last word are accumulated while busy");
  const std::uint64_t kw = packed_words(static_cast<std::size_t>(t.k), t.mode);
  const auto rows = static_cast<std::uint64_t>(t.rows), cols = static_cast<std::uint64_t>(t.cols);
  const std::uint64_t edges = tile_busy_edges(t);
  CounterValues inc{};
  inc[rm::kCntCycles] = edges;
  inc[rm::kCntBusy] = edges;
  inc[rm::kCntSpadRd] = kw * (act_words_read(t) + cols);
  inc[rm::kCntArray] = kw;
  inc[mac_counter(t.mode)] = rows * cols * static_cast<std::uint64_t>(t.k);
  inc[rm::kCntBlk] =
      rows * cols * static_cast<std::uint64_t>(t.k) * static_cast<std::uint64_t>(kept_blocks(t.approx, t.mode));
  inc[rm::kCntSpadWr] = rows * packed_words(static_cast<std::size_t>(t.cols), t.mode);
  inc[rm::kCntTiles] = 1;
  return inc;
}

CounterValues count_tile_edges(const TileCounts& t) {
  CounterValues inc{};
  const std::uint64_t edges = tile_busy_edges(t);
  for (std::uint64_t j = 1; j <= edges; ++j) {
    count_edge(inc, true);
    count_tile_edge(inc, t, j);
  }
  return inc;
}

}  // namespace bitscale::golden
