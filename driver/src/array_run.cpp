// Accelerator::run_array: a one-pixel layer (a fully-connected layer) as MODE.DW tiles with the
// operands exchanged, K in OUT_CFG.ACC_KEEP chunks (tile_plan.hpp ArrayPlan, docs/NUMERICS.md
// "Accumulating across tiles").
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/functional_device.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/regmap.hpp"
#include "lines.hpp"

namespace bitscale::driver {
namespace {

namespace rm = bitscale::regmap;
using detail::line_of;

constexpr int kWordsPerLine = static_cast<int>(rm::kLineWords);
constexpr int kBiasPerLine = static_cast<int>(rm::kLineBias);
constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

/// Rows of a tile: its longest column.
int tile_rows(const std::vector<std::vector<int>>& tile) {
  std::size_t n = 0;
  for (const std::vector<int>& col : tile) n = std::max(n, col.size());
  return static_cast<int>(n);
}

}  // namespace

void Accelerator::run_array(const PreparedLayer& pl, const ArrayPlan& ap, std::span<const std::uint16_t> x,
                            golden::PackedTensor& out) {
  const golden::Layer& layer = pl.layer;
  const golden::Mode mode = layer.mode;
  const int p = golden::lanes(mode);
  const int k = pl.k, kw = pl.kw, kwl = pl.kw_line, bw = ap.bias_words;
  const bool wide = wide_port();
  const int n_tiles = static_cast<int>(ap.tiles.size());
  const int n_chunks = ceil_div(ap.steps, ap.chunk);
  // Weight and bias banks in use: every column once a second tile exists, else the one tile's.
  const int cols_used = n_tiles > 1 ? hw_.cols : static_cast<int>(ap.tiles[0].size());

  // The PE vectors: channel n's kw weight words, then its bias digits.
  std::vector<std::uint16_t> digits(static_cast<std::size_t>(bw) * static_cast<std::size_t>(layer.shape.out_c));
  for (int n = 0; n < layer.shape.out_c && bw > 0; ++n) {
    array_bias_digits(layer.bias[static_cast<std::size_t>(n)], mode,
                      std::span(digits).subspan(static_cast<std::size_t>(n * bw), static_cast<std::size_t>(bw)));
  }
  const auto pe_word = [&](int n, int step) -> std::uint16_t {
    if (n < 0) return 0;
    if (step < kw) return pl.wpacked[static_cast<std::size_t>(n) * kwl + static_cast<std::size_t>(step)];
    return digits[static_cast<std::size_t>(n * bw + step - kw)];
  };
  const auto channel = [&](int t, int r, int c) {
    const std::vector<int>& col = ap.tiles[static_cast<std::size_t>(t)][static_cast<std::size_t>(c)];
    return r < static_cast<int>(col.size()) ? col[static_cast<std::size_t>(r)] : -1;
  };
  // The column operand: the input vector, then the weights of the bias digits (every column alike).
  std::vector<std::uint16_t> xv(static_cast<std::size_t>(ceil_div(ap.steps, kWordsPerLine) * kWordsPerLine), 0);
  std::copy_n(x.begin(), kw, xv.begin());
  array_bias_weights(mode, std::span(xv).subspan(static_cast<std::size_t>(kw), static_cast<std::size_t>(bw)));
  const golden::OutputStage os{ap.shift, layer.out.relu, layer.out.clamp,
                               static_cast<std::int16_t>(std::clamp<std::int32_t>(
                                   layer.out.clamp_hi, golden::min_value(mode), golden::max_value(mode)))};

  write_cfg(rm::kRegMODE, rm::kModeField.of(golden::mode_code(mode)) | rm::kModeDwField.of(1) |
                              rm::kModeZgateField.of(gating_ == Gating::kZeroBlocks ? 1 : 0));
  write_cfg(rm::kRegSHIFT, rm::kShiftField.of(static_cast<std::uint64_t>(ap.shift)));
  if (layer.out.clamp) write_cfg(rm::kRegCLAMP_HI, rm::kClampHiField.of(static_cast<std::uint16_t>(os.clamp_hi)));

  // The column operand at WGT_BASE 0 of every column in use.
  const int x_lines = ceil_div(ap.steps, kWordsPerLine);
  if (functional_ != nullptr) {
    functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(wide ? x_lines : x_lines * cols_used),
                             static_cast<std::uint64_t>(wide ? hw_.cols : 1));
  } else {
    for (int l = 0; l < x_lines; ++l) {
      const std::uint64_t line = line_of(xv.data() + static_cast<std::ptrdiff_t>(l) * kWordsPerLine);
      if (wide) {
        std::fill(wide_.begin(), wide_.end(), line);
        write_wide(rm::kRegionWgt, static_cast<std::uint32_t>(l), wide_);
      } else {
        for (int c = 0; c < cols_used; ++c) write_line(rm::kRegionWgt, c, l, line);
      }
    }
  }
  // Per-column shifts: tile t's entries at BIAS_BASE t, the shift of each column with bias 0.
  const auto entry = [&](int t, int c) -> std::uint64_t {
    if (t >= n_tiles || c >= static_cast<int>(ap.tiles[static_cast<std::size_t>(t)].size())) return 0;
    return golden::column_entry(0, layer.shift(channel(t, 0, c)));
  };
  if (ap.col_shift) {
    const int bias_lines = ceil_div(n_tiles, kBiasPerLine);
    if (functional_ != nullptr) {
      functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(wide ? bias_lines : bias_lines * cols_used),
                               static_cast<std::uint64_t>(wide ? hw_.cols : 1));
    } else {
      for (int l = 0; l < bias_lines; ++l) {
        const auto line = [&](int c) { return entry(2 * l, c) | (entry(2 * l + 1, c) << 32); };
        if (wide) {
          std::fill(wide_.begin(), wide_.end(), std::uint64_t{0});
          for (int c = 0; c < hw_.cols; ++c) wide_[static_cast<std::size_t>(c)] = line(c);
          write_wide(rm::kRegionBias, static_cast<std::uint32_t>(l), wide_);
        } else {
          for (int c = 0; c < cols_used; ++c) write_line(rm::kRegionBias, c, l, line(c));
        }
      }
    }
  }

  // Chunk i of tile t at ACT_BASE `base`: row r, word base + s x Cols + c holds step i x chunk + s of
  // PE (r, c)'s vector; only the lines of the tile's columns are written.
  const int step_lines = hw_.cols / kWordsPerLine;
  std::vector<std::uint16_t> act;
  const auto load_chunk = [&](int t, int i, int base) {
    const int s0 = i * ap.chunk, n = std::min(ap.chunk, ap.steps - s0);
    const std::vector<std::vector<int>>& tile = ap.tiles[static_cast<std::size_t>(t)];
    const int tcols = static_cast<int>(tile.size()), trows = tile_rows(tile);
    const int lps = ceil_div(tcols, kWordsPerLine);
    const int line0 = base / kWordsPerLine;
    if (functional_ != nullptr && port_ == Port::kRows) {  // one row beat per word step
      write_act_lines(line0, n * step_lines, trows, nullptr, 0);
      return;
    }
    if (functional_ != nullptr) {
      functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(wide ? n * lps : trows * n * lps),
                               static_cast<std::uint64_t>(wide ? hw_.rows : 1));
      return;
    }
    const auto row_words = static_cast<std::size_t>(n) * static_cast<std::size_t>(hw_.cols);
    act.assign(static_cast<std::size_t>(trows) * row_words, 0);
    for (int r = 0; r < trows; ++r) {
      for (int c = 0; c < tcols; ++c) {
        const int ch = channel(t, r, c);
        for (int s = 0; s < n; ++s)
          act[r * row_words + static_cast<std::size_t>(s * hw_.cols + c)] = pe_word(ch, s0 + s);
      }
    }
    if (port_ == Port::kRows) {
      write_act_lines(line0, n * step_lines, trows, act.data(), row_words);
      return;
    }
    for (int s = 0; s < n; ++s) {
      for (int l = 0; l < lps; ++l) {
        const auto at = [&](int r) {
          return line_of(act.data() + r * row_words + static_cast<std::size_t>(s * hw_.cols + l * kWordsPerLine));
        };
        const auto line = static_cast<std::uint32_t>(line0 + s * step_lines + l);
        if (wide) {
          std::fill(wide_.begin(), wide_.end(), std::uint64_t{0});
          for (int r = 0; r < trows; ++r) wide_[static_cast<std::size_t>(r)] = at(r);
          write_wide(rm::kRegionAct, line, wide_);
        } else {
          for (int r = 0; r < trows; ++r) write_line(rm::kRegionAct, r, line, at(r));
        }
      }
    }
  };

  // Functional back-end: the group widths of every tile's output rows (CNT_GW*), which the device
  // writes after every chunk, from the partial sums (acc per PE, row-major).
  std::vector<std::int64_t> acc;
  std::vector<std::int32_t> xe;  // the column operand's elements
  if (functional_ != nullptr) {
    xe.resize(static_cast<std::size_t>(ap.steps) * p);
    for (std::size_t e = 0; e < xe.size(); ++e) xe[e] = golden::get_lane(xv[e / p], static_cast<int>(e % p), mode);
  }
  const auto partial_widths = [&](int t, int i) {
    const std::vector<std::vector<int>>& tile = ap.tiles[static_cast<std::size_t>(t)];
    const int trows = tile_rows(tile), tcols = static_cast<int>(tile.size());
    if (i == 0) acc.assign(static_cast<std::size_t>(trows) * tcols, 0);
    const int e0 = i * ap.chunk * p, e1 = std::min(ap.steps, (i + 1) * ap.chunk) * p;
    std::vector<std::uint8_t> widths(static_cast<std::size_t>(trows));
    std::vector<std::int32_t> written(static_cast<std::size_t>(tcols));
    for (int r = 0; r < trows; ++r) {
      for (int c = 0; c < tcols; ++c) {
        const int ch = channel(t, r, c);
        std::int64_t& a = acc[static_cast<std::size_t>(r * tcols + c)];
        for (int e = e0; e < e1 && ch >= 0; ++e) {
          const std::int32_t w = e < k ? layer.weights[static_cast<std::size_t>(ch) * k + static_cast<std::size_t>(e)]
                                 : e < kw * p ? 0
                                              : golden::get_lane(pe_word(ch, e / p), e % p, mode);
          a += static_cast<std::int64_t>(w) * xe[static_cast<std::size_t>(e)];
        }
        golden::OutputStage pe_os = os;
        if (ap.col_shift) pe_os.shift = layer.shift(channel(t, 0, c));
        written[static_cast<std::size_t>(c)] =
            golden::get_lane(golden::set_lane(0, 0, mode, golden::output_value(a, mode, pe_os)), 0, mode);
      }
      widths[static_cast<std::size_t>(r)] = static_cast<std::uint8_t>(golden::output_group_width(written));
    }
    return widths;
  };

  int g = 0;  // chunks started so far: chunk g at ACT_BASE (g mod 2) x slot
  bool prefetched = false;
  for (int t = 0; t < n_tiles; ++t) {
    const std::vector<std::vector<int>>& tile = ap.tiles[static_cast<std::size_t>(t)];
    const int trows = tile_rows(tile), tcols = static_cast<int>(tile.size());
    for (int i = 0; i < n_chunks; ++i, ++g) {
      const int base = (g % 2) * ap.slot;
      if (!prefetched) load_chunk(t, i, base);
      const int n = std::min(ap.chunk, ap.steps - i * ap.chunk);
      write_cfg(rm::kRegROWS_ACT, rm::kRowsActField.of(static_cast<std::uint64_t>(trows)));
      write_cfg(rm::kRegCOLS_ACT, rm::kColsActField.of(static_cast<std::uint64_t>(tcols)));
      write_cfg(rm::kRegACT_BASE, rm::kActBaseField.of(static_cast<std::uint64_t>(base)));
      write_cfg(rm::kRegWGT_BASE, rm::kWgtBaseField.of(static_cast<std::uint64_t>(i * ap.chunk)));
      write_cfg(rm::kRegK, rm::kKField.of(static_cast<std::uint64_t>(n * p)));
      if (ap.col_shift) write_cfg(rm::kRegBIAS_BASE, rm::kBiasBaseField.of(static_cast<std::uint64_t>(t)));
      // The first chunk starts the accumulators at 0 (with COL_SHIFT: at the entries' bias 0, and the
      // column shifts latched); the others keep them.
      write_cfg(rm::kRegOUT_CFG,
                rm::kOutCfgBiasEnField.of(ap.col_shift ? 1 : 0) | rm::kOutCfgColShiftField.of(ap.col_shift ? 1 : 0) |
                    rm::kOutCfgReluField.of(layer.out.relu ? 1 : 0) |
                    rm::kOutCfgClampEnField.of(layer.out.clamp ? 1 : 0) | rm::kOutCfgAccKeepField.of(i > 0 ? 1 : 0));
      if (functional_ != nullptr) functional_->set_group_widths(partial_widths(t, i));
      write_reg(rm::kRegCTRL, rm::kCtrlStartField.of(1));
      // Overlapped transfers: the next chunk goes into the other half while this one computes.
      prefetched = false;
      const bool last = t == n_tiles - 1 && i == n_chunks - 1;
      if (transfer_ == Transfer::kOverlapped && ap.slot > 0 && !last) {
        if (i + 1 < n_chunks) {
          load_chunk(t, i + 1, ((g + 1) % 2) * ap.slot);
        } else {
          load_chunk(t + 1, 0, ((g + 1) % 2) * ap.slot);
        }
        prefetched = true;
      }
      const std::uint64_t busy = static_cast<std::uint64_t>(n) + rm::kBusyOverhead;
      const WaitResult wr = dev_->wait(busy + watchdog_slack_);
      if (wr.err) {
        throw AcceleratorError(
            fmt::format("array tile {} of {}, chunk {} of {} failed: {}", t, n_tiles, i, n_chunks, last_error_text()));
      }
      if (!wr.done) {
        throw AcceleratorError(
            fmt::format("watchdog: array tile {} of {}, chunk {} of {} not done after {} cycles "
                        "(a chunk takes {})",
                        t, n_tiles, i, n_chunks, wr.cycles, busy));
      }
    }
    // The outputs of the tile's channels: row r, column c holds channel tile[c][r].
    const int out_lines = ceil_div(ceil_div(tcols, p), kWordsPerLine);
    if (functional_ != nullptr) {
      functional_->count_lines(BusOp::kRead, static_cast<std::uint64_t>(wide ? out_lines : trows * out_lines),
                               static_cast<std::uint64_t>(wide ? hw_.rows : 1));
      continue;
    }
    std::vector<std::uint64_t> rows(static_cast<std::size_t>(trows) * static_cast<std::size_t>(out_lines));
    for (int l = 0; l < out_lines; ++l) {
      if (wide) read_wide(rm::kRegionOut, static_cast<std::uint32_t>(l), wide_);
      for (int r = 0; r < trows; ++r) {
        rows[static_cast<std::size_t>(r * out_lines + l)] =
            wide ? wide_[static_cast<std::size_t>(r)] : read_line(rm::kRegionOut, r, l);
      }
    }
    for (int r = 0; r < trows; ++r) {
      for (int c = 0; c < tcols; ++c) {
        const int ch = channel(t, r, c);
        if (ch < 0) continue;
        const std::uint64_t line = rows[static_cast<std::size_t>(r * out_lines + c / p / kWordsPerLine)];
        const auto word = static_cast<std::uint16_t>(line >> (16 * ((c / p) % kWordsPerLine)));
        std::uint16_t& dst = out.words[static_cast<std::size_t>(ch / p)];
        dst = golden::set_lane(dst, ch % p, mode, golden::get_lane(word, c % p, mode));
      }
    }
  }
}

}  // namespace bitscale::driver
