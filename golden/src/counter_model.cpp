#include "bitscale/golden/counter_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "bitscale/golden/group_code.hpp"

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
// Bias words read with the tile's first word: one 32-bit entry per active column with BIAS_EN.
std::uint64_t bias_words_read(const TileCounts& t) {
  return t.bias_en ? kWordsPerBias * static_cast<std::uint64_t>(t.cols) : 0;
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

std::size_t blk_counter(Mode m) {
  switch (m) {
    case Mode::k16:
      return rm::kCntBlk16;
    case Mode::k8:
      return rm::kCntBlk8;
    case Mode::k4:
      return rm::kCntBlk4;
  }
  return rm::kCntBlk16;
}

std::uint64_t tile_busy_edges(const TileCounts& t) {
  return packed_words(static_cast<std::size_t>(t.k), t.mode) + rm::kBusyOverhead;
}

void count_edge(CounterValues& inc, bool busy_before) {
  inc[rm::kCntCycles] += 1;
  if (busy_before) inc[rm::kCntBusy] += 1;
}

void count_spad_lines(CounterValues& inc, bool write, std::uint64_t lines, std::uint64_t banks) {
  inc[write ? rm::kCntSpadWr : rm::kCntSpadRd] += kWordsPerLine * lines * banks;
  inc[rm::kCntXfer] += lines;
}

void count_overlap(CounterValues& inc, std::uint64_t beats) { inc[rm::kCntOverlap] += beats; }

void count_tile_edge(CounterValues& inc, const TileCounts& t, std::uint64_t j) {
  const std::uint64_t kw = packed_words(static_cast<std::size_t>(t.k), t.mode);
  const auto rows = static_cast<std::uint64_t>(t.rows), cols = static_cast<std::uint64_t>(t.cols);
  const auto p = static_cast<std::uint64_t>(lanes(t.mode));
  if (j >= 1 && j <= kw) inc[rm::kCntSpadRd] += act_words_read(t) + cols;  // word j-1 read from every active bank
  if (j == 1) inc[rm::kCntSpadRd] += bias_words_read(t);                   // the bias entries, with word 0
  if (j >= 2 && j <= kw + 1) {                                             // products of word j-2 accumulated
    const std::uint64_t valid = std::min<std::uint64_t>(p, static_cast<std::uint64_t>(t.k) - (j - 2) * p);
    inc[rm::kCntArray] += 1;
    inc[mac_counter(t.mode)] += rows * cols * valid;
    const std::uint64_t blk = rows * cols * valid * static_cast<std::uint64_t>(kept_blocks(t.approx, t.mode));
    inc[rm::kCntBlk] += blk;
    inc[blk_counter(t.mode)] += blk;
  }
  if (j == tile_busy_edges(t)) {  // outputs written, tile done
    inc[rm::kCntSpadWr] += rows * packed_words(static_cast<std::size_t>(t.cols), t.mode);
    inc[rm::kCntTiles] += 1;
  }
}

CounterValues count_tile(const TileCounts& t) {
  // Sums of the edge rules above over e1 .. e(KW + BUSY_OVERHEAD): reads at the KW edges
  // e1 .. e(KW) and the bias entries at e1, products at the KW edges e2 .. e(KW+1) (all busy,
  // BUSY_OVERHEAD >= 1) with K valid lanes in all, outputs and TILES once.
  static_assert(rm::kBusyOverhead >= 1, "the products of the last word are accumulated while busy");
  const std::uint64_t kw = packed_words(static_cast<std::size_t>(t.k), t.mode);
  const auto rows = static_cast<std::uint64_t>(t.rows), cols = static_cast<std::uint64_t>(t.cols);
  const std::uint64_t edges = tile_busy_edges(t);
  CounterValues inc{};
  inc[rm::kCntCycles] = edges;
  inc[rm::kCntBusy] = edges;
  inc[rm::kCntSpadRd] = kw * (act_words_read(t) + cols) + bias_words_read(t);
  inc[rm::kCntArray] = kw;
  inc[mac_counter(t.mode)] = rows * cols * static_cast<std::uint64_t>(t.k);
  inc[rm::kCntBlk] =
      rows * cols * static_cast<std::uint64_t>(t.k) * static_cast<std::uint64_t>(kept_blocks(t.approx, t.mode));
  inc[blk_counter(t.mode)] = inc[rm::kCntBlk];
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

int zero_gated_blocks(std::int32_t a, std::int32_t w, Mode m, Approx x) {
  int n = 0;
  for (int i = 0; i < blocks(m); ++i) {
    for (int j = 0; j < blocks(m); ++j) {
      if (!x.skips(i, j) && (block_of(a, i, m) == 0 || block_of(w, j, m) == 0)) ++n;
    }
  }
  return n;
}

std::uint64_t tile_zero_skips(const TileCounts& t, std::span<const std::uint16_t* const> act,
                              std::span<const std::uint16_t* const> wgt) {
  if (!t.zgate) return 0;
  const int p = lanes(t.mode), nb = blocks(t.mode);
  const auto rows = static_cast<std::uint64_t>(t.rows), cols = static_cast<std::uint64_t>(t.cols);
  const auto kw = static_cast<std::size_t>(packed_words(static_cast<std::size_t>(t.k), t.mode));
  // Nibble positions of the word (0 .. 3); lane l uses nibbles l * nb .. l * nb + nb - 1.
  const auto count_nonzero = [](std::span<const std::uint16_t* const> vecs, std::size_t n, std::size_t w,
                                std::array<std::uint64_t, 4>& nz) {
    nz = {};
    for (std::size_t v = 0; v < n; ++v) {
      const std::uint16_t word = vecs[v][w];
      for (int b = 0; b < 4; ++b) nz[static_cast<std::size_t>(b)] += ((word >> (4 * b)) & 0xFu) != 0;
    }
  };
  std::uint64_t skips = 0;
  std::array<std::uint64_t, 4> nz_a{}, nz_w{};
  for (std::size_t w = 0; w < kw; ++w) {
    count_nonzero(act, rows, w, nz_a);
    count_nonzero(wgt, cols, w, nz_w);
    const int valid = std::min(p, t.k - static_cast<int>(w) * p);
    for (int l = 0; l < valid; ++l) {
      for (int i = 0; i < nb; ++i) {
        for (int j = 0; j < nb; ++j) {
          if (t.approx.skips(i, j)) continue;
          skips +=
              rows * cols - nz_a[static_cast<std::size_t>(l * nb + i)] * nz_w[static_cast<std::size_t>(l * nb + j)];
        }
      }
    }
  }
  return skips;
}

void count_zero_gating(CounterValues& inc, Mode m, std::uint64_t zskip) {
  inc[rm::kCntBlk] -= zskip;
  inc[blk_counter(m)] -= zskip;
  inc[rm::kCntZskip] += zskip;
}

}  // namespace bitscale::golden

namespace bitscale::golden {

int output_group_width(std::span<const std::int32_t> outputs) { return dpred::group_width(outputs); }

void count_group_widths(CounterValues& inc, std::span<const std::uint8_t> widths) {
  static_assert(rm::kCntGw16 == rm::kCntGw1 + 15, "CNT_GW1 .. CNT_GW16 are consecutive");
  for (const std::uint8_t w : widths) {
    if (w < 1 || w > 16) throw std::invalid_argument(fmt::format("count_group_widths: width {} outside 1 .. 16", w));
    inc[rm::kCntGw1 + w - 1u] += 1;
  }
}

}  // namespace bitscale::golden
