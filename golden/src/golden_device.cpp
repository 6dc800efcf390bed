// Register-level functional model of bsa_top, written from docs/ARCHITECTURE.md (bus, tile
// timing, START checks, bus errors, counters) and docs/NUMERICS.md (arithmetic).
//
// Model of time: every access() and every wait() cycle is one rising edge. Within an edge:
//   1. read data is taken from the state before the edge (registers, STATUS, counters);
//   2. the bus access is checked (address, read-only, busy, in that order) and, if legal,
//      applied (register/scratchpad write, STATUS w1c, CTRL.START checks, CTRL.CLEAR);
//   3. the tiles in flight advance by one edge, oldest first (table "A tile, cycle by cycle"): a
//      tile whose output edge this is writes its outputs and sets DONE unless a later tile has
//      started (so DONE set by completion wins over a w1c of DONE at the same edge); a tile
//      accumulates the products of all its words, after its initialisation, at its edge e(KW+1)
//      (it read them at e1 .. e(KW), and its read windows kept them unchanged; a tile started in
//      the previous one's last read accumulates after that one's output edge); a START accepted at
//      this edge latches the new tile after that (a START is accepted from the running tile's last
//      read on);
//   4. the counters add this edge's increments, or are zeroed if CTRL.CLEAR was written.
// The busy check of an access uses BUSY from before the edge: an access at the output edge
// of a tile still sees BUSY = 1.
//
// Counters (rules in counter_model.hpp, shared with the functional back-end): CNT_CYCLES and
// CNT_BUSY are exact at every edge. The other counters are attributed to the edges of the tile
// table (operand reads at e1..e(KW), products at e2..e(KW+1), output writes and TILES at
// e(KW+2), bias reads at e0), so their totals at the end
// of a tile are exactly the documented formulas; values read in the middle of a tile follow
// this attribution, which the documentation only implies (the regression compares counters
// between tiles).
#include "bitscale/golden/golden_device.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::golden {

namespace rm = bitscale::regmap;

namespace {

constexpr std::uint32_t kAddrMask = (1u << rm::kAddrW) - 1u;
constexpr std::uint32_t kLineMask = (1u << rm::kAddrBankLsb) - 1u;
constexpr std::uint32_t kBankMask = (1u << (rm::kAddrRegionLsb - rm::kAddrBankLsb)) - 1u;
constexpr int kWordsPerLine = static_cast<int>(rm::kLineWords);   // 16-bit words per 64-bit line
constexpr int kEntriesPerLine = static_cast<int>(rm::kLineBias);  // 32-bit bias entries per 64-bit line
// Access types from rtl/bsa_regs.def: configuration registers are the rw ones.
constexpr bool is_config(std::uint32_t index) { return rm::reg_access(index) == rm::Access::kRw; }
constexpr bool is_read_only(std::uint32_t index) { return rm::reg_access(index) == rm::Access::kRo; }

std::uint16_t line_word(std::uint64_t line, int w) { return static_cast<std::uint16_t>(line >> (16 * w)); }

void check_params(const DeviceParams& p) {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("GoldenDevice parameters: " + what); };
  if (p.rows < 1 || p.rows > 255) fail(fmt::format("rows = {} outside 1 .. 255", p.rows));
  if (p.cols < 4 || p.cols > 252 || p.cols % 4 != 0) {
    fail(fmt::format("cols = {} is not a multiple of 4 in 4 .. 252", p.cols));
  }
  const int max_words = kWordsPerLine * static_cast<int>(kLineMask + 1);
  for (const auto& [name, v] : {std::pair{"act_words", p.act_words}, std::pair{"wgt_words", p.wgt_words}}) {
    if (v < kWordsPerLine || v > max_words || !std::has_single_bit(static_cast<unsigned>(v))) {
      fail(fmt::format("{} = {} is not a power of two in {} .. {}", name, v, kWordsPerLine, max_words));
    }
  }
  const int max_entries = kEntriesPerLine * static_cast<int>(kLineMask + 1);
  if (p.bias_entries < kEntriesPerLine || p.bias_entries > max_entries || p.bias_entries % kEntriesPerLine != 0) {
    fail(fmt::format("bias_entries = {} is not even in {} .. {}", p.bias_entries, kEntriesPerLine, max_entries));
  }
}

}  // namespace

struct GoldenDevice::State {
  explicit State(const DeviceParams& params)
      : p(params),
        act_lines(p.act_words / kWordsPerLine),
        wgt_lines(p.wgt_words / kWordsPerLine),
        bias_lines(p.bias_entries / kEntriesPerLine),
        out_lines(p.cols / kWordsPerLine),
        act(static_cast<std::size_t>(p.rows) * static_cast<std::size_t>(act_lines)),
        wgt(static_cast<std::size_t>(p.cols) * static_cast<std::size_t>(wgt_lines)),
        bias(static_cast<std::size_t>(p.cols) * static_cast<std::size_t>(bias_lines)),
        out(static_cast<std::size_t>(p.rows) * static_cast<std::size_t>(out_lines)),
        hdr(static_cast<std::size_t>(p.rows), 0),
        wide_in(static_cast<std::size_t>(std::max(p.rows, p.cols)), 0),
        wide_scratch(wide_in.size(), 0),
        row_in(static_cast<std::size_t>(p.rows) * static_cast<std::size_t>(p.cols / kWordsPerLine), 0),
        pe_acc(static_cast<std::size_t>(p.rows) * static_cast<std::size_t>(p.cols), 0),
        col_shift_q(static_cast<std::size_t>(p.cols), 0) {}

  /// A tile latched at its START (the registers and scratchpad lines it reads cannot change while
  /// it runs: such writes are refused with ERR_BUS_BUSY and ERR_BUS_HAZARD).
  struct Tile {
    Mode mode = Mode::k16;
    int k = 0, kw = 0, rows = 0, cols = 0;
    Approx approx;       ///< MODE.BLKSKIP
    bool zgate = false;  ///< MODE.ZGATE, in effect only without MODE.DW (docs/NUMERICS.md)
    bool dw = false;     ///< MODE.DW: PE (r, c) reads word ACT_BASE + k x Cols + c of bank r
    int act_base = 0, wgt_base = 0, bias_base = 0;
    bool bias_en = false;    ///< OUT_CFG.BIAS_EN without ACC_KEEP: the tile reads its bias entries
    bool col_shift = false;  ///< OUT_CFG.COL_SHIFT with BIAS_EN: per-column shifts from the bias entries
    bool keep = false;       ///< OUT_CFG.ACC_KEEP: the accumulators are not initialised
    OutputStage os;
    std::uint64_t phase = 0;  ///< edges since the START edge e0 (0 .. KW + 1 while it runs)
    /// Read windows (lines, in every bank): ACT act_lo .. act_hi, WGT wgt_lo .. wgt_hi, BIAS
    /// bias_base / 2 with BIAS_EN (docs/ARCHITECTURE.md "Bus").
    int act_lo = 0, act_hi = 0, wgt_lo = 0, wgt_hi = 0;
  };

  DeviceParams p;
  int act_lines, wgt_lines, bias_lines, out_lines;
  std::vector<std::uint64_t> act, wgt, bias, out;        ///< bank-major lines
  std::array<std::uint64_t, rm::kRegCntLast + 1> cfg{};  ///< configuration (rw) registers by index
  bool busy = false, done = false, err = false;
  std::uint32_t err_code = 0;
  CounterValues cnt{};
  Tile tile;                 ///< the last started tile (its read windows apply while BUSY)
  std::vector<Tile> flight;  ///< the started tiles before their output edge, oldest first (at most 3)
  std::uint64_t edges = 0;   ///< rising edges since construction

  std::vector<std::uint64_t> hdr;  ///< header line (line out_lines) of each output bank: its group width
  /// The wide write data port as last driven by access_wide (a narrow access() to bank ADDR_BANK_ALL
  /// writes it, as the RTL's held input), and a scratch line set for wide reads through access().
  std::vector<std::uint64_t> wide_in, wide_scratch;
  /// The row write data port as last driven by write_rows (bank r, line L + s at r x Cols/4 + s).
  std::vector<std::uint64_t> row_in;
  /// Every PE's accumulator (row-major, r x cols + c, all Rows x Cols of them) and every column's
  /// shift register, as the last tiles left them: OUT_CFG.ACC_KEEP tiles continue from them
  /// (docs/NUMERICS.md "Accumulating across tiles"). 0 at reset.
  std::vector<std::int64_t> pe_acc;
  std::vector<int> col_shift_q;

  std::uint64_t& act_line(int bank, int line) { return act[static_cast<std::size_t>(bank * act_lines + line)]; }
  std::uint64_t& wgt_line(int bank, int line) { return wgt[static_cast<std::size_t>(bank * wgt_lines + line)]; }
  std::uint64_t& bias_line(int bank, int line) { return bias[static_cast<std::size_t>(bank * bias_lines + line)]; }
  std::uint64_t& out_line(int bank, int line) { return out[static_cast<std::size_t>(bank * out_lines + line)]; }

  [[nodiscard]] std::uint64_t status() const {
    return rm::kStatusBusyField.of(busy ? 1 : 0) | rm::kStatusDoneField.of(done ? 1 : 0) |
           rm::kStatusErrField.of(err ? 1 : 0) | rm::kStatusCodeField.of(err_code);
  }

  [[nodiscard]] std::uint64_t hwcfg() const {
    return rm::kHwcfgRowsField.of(static_cast<std::uint64_t>(p.rows)) |
           rm::kHwcfgColsField.of(static_cast<std::uint64_t>(p.cols)) |
           rm::kHwcfgActLog2Field.of(std::countr_zero(static_cast<unsigned>(p.act_words))) |
           rm::kHwcfgWgtLog2Field.of(std::countr_zero(static_cast<unsigned>(p.wgt_words)));
  }

  [[nodiscard]] std::uint64_t read_csr(std::uint32_t index) const {
    switch (index) {
      case rm::kRegID:
        return rm::kIdValue;
      case rm::kRegHWCFG:
        return hwcfg();
      case rm::kRegHWCFG2:
        return rm::kHwcfg2BiasEntriesField.of(static_cast<std::uint64_t>(p.bias_entries)) |
               rm::kHwcfg2AccWField.of(rm::kAccW);
      case rm::kRegCTRL:
        return 0;
      case rm::kRegSTATUS:
        return status();
      default:
        if (is_config(index)) return cfg[index];
        return cnt[index - rm::kRegCntFirst];
    }
  }

  /// The number of banks of a scratchpad region (the banks a wide beat moves).
  [[nodiscard]] int region_banks(std::uint32_t region) const {
    return region == rm::kRegionWgt || region == rm::kRegionBias ? p.cols : p.rows;
  }

  /// Whether `line` of `region` (any bank), or with `span` > 1 one of lines `line` .. `line` + span - 1,
  /// is in a read window of the running tile.
  [[nodiscard]] bool in_tile_window(std::uint32_t region, std::uint32_t line, int span = 1) const {
    const int l = static_cast<int>(line);
    switch (region) {
      case rm::kRegionAct:
        return l + span - 1 >= tile.act_lo && l <= tile.act_hi;
      case rm::kRegionWgt:
        return l >= tile.wgt_lo && l <= tile.wgt_hi;
      case rm::kRegionBias:
        return tile.bias_en && l == tile.bias_base / kEntriesPerLine;
      default:
        return false;
    }
  }

  /// ERR_BUS_* code of an access (0 if legal), checked as documented: address, read-only, busy
  /// (scratchpad reads), hazard (scratchpad writes into the running tile's read windows).
  [[nodiscard]] std::uint32_t bus_check(bool write, std::uint32_t region, std::uint32_t bank,
                                        std::uint32_t line) const {
    std::uint32_t banks = 0, lines = 0;
    switch (region) {
      case rm::kRegionCsr:
        if (bank != 0 || line > rm::kRegCntLast) return rm::kErrBusAddr;
        if (write && is_read_only(line)) return rm::kErrBusRo;
        if (write && is_config(line) && busy) return rm::kErrBusBusy;
        return rm::kErrNone;
      case rm::kRegionAct:
        banks = p.rows, lines = act_lines;
        break;
      case rm::kRegionWgt:
        banks = p.cols, lines = wgt_lines;
        break;
      case rm::kRegionBias:
        banks = p.cols, lines = bias_lines;
        break;
      case rm::kRegionOut:
        banks = p.rows, lines = out_lines + 1;  // + the group-width header line
        break;
      default:
        return rm::kErrBusAddr;
    }
    // A row beat (ADDR_BANK_ROWS): an activation write at a multiple of Cols/4 lines.
    const int row_span = p.cols / kWordsPerLine;
    const bool rows_beat = bank == rm::kAddrBankRows && region == rm::kRegionAct && write &&
                           line % static_cast<std::uint32_t>(row_span) == 0;
    if ((bank >= banks && bank != rm::kAddrBankAll && !rows_beat) || line >= lines) return rm::kErrBusAddr;
    if (write && region == rm::kRegionOut) return rm::kErrBusRo;
    if (busy && !write && region != rm::kRegionOut) return rm::kErrBusBusy;  // OUT reads go ahead
    if (busy && in_tile_window(region, line, rows_beat ? row_span : 1)) return rm::kErrBusHazard;
    return rm::kErrNone;
  }

  std::uint64_t& spad_line(std::uint32_t region, std::uint32_t bank, std::uint32_t line) {
    const int b = static_cast<int>(bank), l = static_cast<int>(line);
    switch (region) {
      case rm::kRegionAct:
        return act_line(b, l);
      case rm::kRegionWgt:
        return wgt_line(b, l);
      case rm::kRegionBias:
        return bias_line(b, l);
      default:
        return l == out_lines ? hdr[bank] : out_line(b, l);
    }
  }

  /// The last started tile still reads operands after this edge (edges e1 .. e(KW-1)): a START is
  /// refused. From its last read, edge e(KW), on a START goes ahead.
  [[nodiscard]] bool reading() const {
    return !flight.empty() && flight.back().phase + 1 < static_cast<std::uint64_t>(flight.back().kw);
  }
  /// START checks in the documented order; 0 if the tile may start.
  [[nodiscard]] std::uint32_t start_check() const {
    if (reading()) return rm::kErrStartBusy;
    const std::optional<Mode> mode = mode_of_code(static_cast<std::uint32_t>(rm::kModeField.get(cfg[rm::kRegMODE])));
    if (!mode) return rm::kErrBadMode;
    const std::uint64_t k = cfg[rm::kRegK];
    const std::uint64_t kw = packed_words(k, *mode);
    const bool dw = rm::kModeDwField.get(cfg[rm::kRegMODE]) != 0;
    const std::uint64_t act_step = dw ? static_cast<std::uint64_t>(p.cols) : 1;  // words per word step
    if (k == 0 || cfg[rm::kRegACT_BASE] + kw * act_step > static_cast<std::uint64_t>(p.act_words) ||
        cfg[rm::kRegWGT_BASE] + kw > static_cast<std::uint64_t>(p.wgt_words)) {
      return rm::kErrBadK;
    }
    const std::uint64_t r = cfg[rm::kRegROWS_ACT], c = cfg[rm::kRegCOLS_ACT];
    if (r < 1 || r > static_cast<std::uint64_t>(p.rows) || c < 1 || c > static_cast<std::uint64_t>(p.cols)) {
      return rm::kErrBadShape;
    }
    if (cfg[rm::kRegSHIFT] >= rm::kAccW) return rm::kErrBadShift;
    if (rm::kOutCfgBiasEnField.get(cfg[rm::kRegOUT_CFG]) != 0 &&
        rm::kOutCfgAccKeepField.get(cfg[rm::kRegOUT_CFG]) == 0 &&
        cfg[rm::kRegBIAS_BASE] >= static_cast<std::uint64_t>(p.bias_entries)) {
      return rm::kErrBadBias;
    }
    if (!approx_legal(approx_of(cfg[rm::kRegMODE]), *mode)) return rm::kErrBadApprox;
    if (dw && cfg[rm::kRegACT_BASE] % static_cast<std::uint64_t>(p.cols) != 0) return rm::kErrBadDw;
    return rm::kErrNone;
  }

  /// Edge e0 of a legal START: latch the tile, set BUSY, clear DONE/ERR/ERR_CODE.
  void start(CounterValues& inc) {
    Tile t;
    t.mode = *mode_of_code(static_cast<std::uint32_t>(rm::kModeField.get(cfg[rm::kRegMODE])));  // start_check()
    t.approx = approx_of(cfg[rm::kRegMODE]);
    t.dw = rm::kModeDwField.get(cfg[rm::kRegMODE]) != 0;
    t.zgate = rm::kModeZgateField.get(cfg[rm::kRegMODE]) != 0 && !t.dw;  // no zero-block gating in DW mode
    t.k = static_cast<int>(cfg[rm::kRegK]);
    t.kw = (t.k + lanes(t.mode) - 1) / lanes(t.mode);
    t.rows = static_cast<int>(cfg[rm::kRegROWS_ACT]);
    t.cols = static_cast<int>(cfg[rm::kRegCOLS_ACT]);
    t.act_base = static_cast<int>(cfg[rm::kRegACT_BASE]);
    t.wgt_base = static_cast<int>(cfg[rm::kRegWGT_BASE]);
    t.bias_base = static_cast<int>(cfg[rm::kRegBIAS_BASE]);
    const std::uint64_t oc = cfg[rm::kRegOUT_CFG];
    t.keep = rm::kOutCfgAccKeepField.get(oc) != 0;
    t.bias_en = rm::kOutCfgBiasEnField.get(oc) != 0 && !t.keep;
    t.col_shift = rm::kOutCfgBiasEnField.get(oc) != 0 && rm::kOutCfgColShiftField.get(oc) != 0;
    t.os.shift = static_cast<int>(cfg[rm::kRegSHIFT]);
    t.os.relu = rm::kOutCfgReluField.get(oc) != 0;
    t.os.clamp = rm::kOutCfgClampEnField.get(oc) != 0;
    t.os.clamp_hi = static_cast<std::int16_t>(static_cast<std::uint16_t>(cfg[rm::kRegCLAMP_HI]));
    t.phase = 0;
    const int act_words = t.kw * (t.dw ? p.cols : 1);
    t.act_lo = t.act_base / kWordsPerLine;
    t.act_hi = (t.act_base + act_words - 1) / kWordsPerLine;
    t.wgt_lo = t.wgt_base / kWordsPerLine;
    t.wgt_hi = (t.wgt_base + t.kw - 1) / kWordsPerLine;
    tile = t;
    flight.push_back(t);
    busy = true;
    done = false;
    err = false;
    err_code = rm::kErrNone;
  }

  [[nodiscard]] TileCounts counts(const Tile& t) const {
    return {t.mode, t.k, t.rows, t.cols, t.bias_en, t.approx, t.zgate, t.dw, p.cols};
  }
  /// The Ax-BxP configuration of a MODE register value.
  static Approx approx_of(std::uint64_t mode_reg) {
    return {static_cast<std::uint16_t>(rm::kModeBlkskipField.get(mode_reg))};
  }

  /// One edge of the tiles in flight, oldest first (edges e1 .. e(KW+BUSY_OVERHEAD) of the tile
  /// table). `starting`: a START is accepted at this edge.
  void advance_tiles(CounterValues& inc, bool starting) {
    for (auto it = flight.begin(); it != flight.end();) {
      Tile& t = *it;
      const std::uint64_t j = ++t.phase, kw = static_cast<std::uint64_t>(t.kw);
      count_tile_edge(inc, counts(t), j);
      if (t.zgate && j >= 2 && j <= kw + 1) count_zero_gating(inc, t.mode, word_zero_skips(t, static_cast<int>(j - 2)));
      if (j == kw + 1) accumulate_tile(t);  // its last products
      if (j == kw + 2) {                    // outputs written; DONE unless a later tile runs or starts now
        write_outputs(inc, t);
        it = flight.erase(it);
        if (flight.empty() && !starting) done = true;
        continue;
      }
      ++it;
    }
  }

  /// CNT_ZSKIP of word `wi` of tile `t` (its products are accumulated at edge e(wi+2)), from the
  /// definition: zero_gated_blocks of every valid lane product of every active PE.
  std::uint64_t word_zero_skips(const Tile& t, int wi) {
    const int p = lanes(t.mode), valid = std::min(p, t.k - wi * p);
    const int aw_i = t.act_base + wi, ww_i = t.wgt_base + wi;  // word of every active bank
    std::uint64_t n = 0;
    for (int r = 0; r < t.rows; ++r) {
      const std::uint16_t aw = line_word(act_line(r, aw_i / kWordsPerLine), aw_i % kWordsPerLine);
      for (int c = 0; c < t.cols; ++c) {
        const std::uint16_t ww = line_word(wgt_line(c, ww_i / kWordsPerLine), ww_i % kWordsPerLine);
        for (int l = 0; l < valid; ++l) {
          n += static_cast<std::uint64_t>(
              zero_gated_blocks(get_lane(aw, l, t.mode), get_lane(ww, l, t.mode), t.mode, t.approx));
        }
      }
    }
    return n;
  }

  /// The K-element vector of a bank starting at word `base` (lanes past K ignored).
  static void load_vector(const std::vector<std::uint64_t>& lines, int first_line, int base, int k, Mode m,
                          std::int32_t* dst) {
    const int p = lanes(m);
    for (int e = 0; e < k; ++e) {
      const int w = base + e / p;
      const std::uint16_t word =
          line_word(lines[static_cast<std::size_t>(first_line + w / kWordsPerLine)], w % kWordsPerLine);
      dst[e] = get_lane(word, e % p, m);
    }
  }

  /// DW mode (docs/NUMERICS.md "Depthwise mode"): the K-element activation vector of PE (r, c) of
  /// tile `t`, lane e at lane e mod P of word ACT_BASE + (e / P) x Cols + c of bank r.
  void load_dw_vector(const Tile& t, int r, int c, std::int32_t* dst) {
    const int np = lanes(t.mode);
    for (int e = 0; e < t.k; ++e) {
      const int w = t.act_base + (e / np) * p.cols + c;
      dst[e] = get_lane(line_word(act_line(r, w / kWordsPerLine), w % kWordsPerLine), e % np, t.mode);
    }
  }

  /// Tile t's arithmetic up to its accumulators (docs/NUMERICS.md): the initialisation (not with
  /// ACC_KEEP) and every product, from the operands its read windows kept unchanged.
  void accumulate_tile(const Tile& t) {
    const auto k = static_cast<std::size_t>(t.k);
    std::vector<std::int32_t> a(static_cast<std::size_t>(t.rows) * k), w(static_cast<std::size_t>(t.cols) * k);
    for (int r = 0; r < t.rows; ++r) load_vector(act, r * act_lines, t.act_base, t.k, t.mode, &a[r * k]);
    // DW mode: one activation vector per PE (row-major, r x cols + c) instead of one per row.
    std::vector<std::int32_t> a_dw(t.dw ? static_cast<std::size_t>(t.rows * t.cols) * k : 0);
    for (int r = 0; r < t.rows && t.dw; ++r) {
      for (int c = 0; c < t.cols; ++c) load_dw_vector(t, r, c, &a_dw[static_cast<std::size_t>(r * t.cols + c) * k]);
    }
    for (int c = 0; c < t.cols; ++c) load_vector(wgt, c * wgt_lines, t.wgt_base, t.k, t.mode, &w[c * k]);
    // Initialisation (not with ACC_KEEP): every PE of column c starts at the column's bias, every
    // column's shift register takes its entry's shift; columns past COLS_ACT (bias bank not read)
    // and tiles without BIAS_EN start at 0 with shift 0 (docs/NUMERICS.md "Accumulating across tiles").
    if (!t.keep) {
      for (int c = 0; c < p.cols; ++c) {
        std::uint32_t entry = 0;
        if (t.bias_en && c < t.cols) {
          const std::uint64_t line = bias_line(c, t.bias_base / kEntriesPerLine);
          entry = static_cast<std::uint32_t>(line >> (32 * (t.bias_base % kEntriesPerLine)));
        }
        const ColumnEntry ce = split_column_entry(entry);  // docs/NUMERICS.md "Per-column shifts"
        col_shift_q[static_cast<std::size_t>(c)] = ce.shift;
        const std::int64_t init = t.col_shift ? std::int64_t{ce.bias} : std::int64_t{static_cast<std::int32_t>(entry)};
        for (int r = 0; r < p.rows; ++r) pe_acc[static_cast<std::size_t>(r * p.cols + c)] = init;
      }
    }
    for (int r = 0; r < t.rows; ++r) {
      const std::int32_t* ar = &a[r * k];  // the row's vector (broadcast), or the PE's in DW mode
      for (int c = 0; c < t.cols; ++c) {
        const std::int32_t* wc = &w[c * k];
        if (t.dw) ar = &a_dw[static_cast<std::size_t>(r * t.cols + c) * k];
        std::int64_t& acc = pe_acc[static_cast<std::size_t>(r * p.cols + c)];
        if (t.approx.exact()) {
          for (std::size_t e = 0; e < k; ++e) acc += static_cast<std::int64_t>(ar[e]) * wc[e];
        } else {
          for (std::size_t e = 0; e < k; ++e) acc += approx_product(ar[e], wc[e], t.mode, t.approx);
        }
      }
    }
  }

  /// The output edge of tile `t`: the output stage of every active PE (docs/NUMERICS.md), the output
  /// rows and their group widths (header lines, CNT_GW*).
  void write_outputs(CounterValues& inc, const Tile& t) {
    static_assert((1u << rm::kOutHdrGwW) > 16, "a header holds widths up to 16");
    const int np = lanes(t.mode);
    std::vector<std::uint16_t> row(static_cast<std::size_t>(p.cols));
    std::vector<std::int32_t> written(static_cast<std::size_t>(t.cols));  // the row's outputs as written
    std::vector<std::uint8_t> widths(static_cast<std::size_t>(t.rows));
    std::fill(hdr.begin(), hdr.end(), std::uint64_t{0});  // rows the tile does not write: width 0
    for (int r = 0; r < t.rows; ++r) {
      std::fill(row.begin(), row.end(), std::uint16_t{0});
      for (int c = 0; c < t.cols; ++c) {
        const std::int64_t acc = pe_acc[static_cast<std::size_t>(r * p.cols + c)];
        // Pack the low B bits of y (docs/NUMERICS.md step 5), also when CLAMP_HI is below the range.
        std::uint16_t& word = row[static_cast<std::size_t>(c / np)];
        OutputStage os = t.os;
        if (t.col_shift) os.shift = col_shift_q[static_cast<std::size_t>(c)];
        word = set_lane(word, c % np, t.mode, output_value(acc, t.mode, os));
        written[static_cast<std::size_t>(c)] = get_lane(word, c % np, t.mode);
      }
      for (int l = 0; l < out_lines; ++l) {
        std::uint64_t line = 0;
        for (int i = 0; i < kWordsPerLine; ++i) {
          line |= static_cast<std::uint64_t>(row[static_cast<std::size_t>(l * kWordsPerLine + i)]) << (16 * i);
        }
        out_line(r, l) = line;
      }
      // Group-width detector (docs/NUMERICS.md): the header line holds the row's width.
      const int gw = output_group_width(written);
      widths[static_cast<std::size_t>(r)] = static_cast<std::uint8_t>(gw);
      hdr[static_cast<std::size_t>(r)] = static_cast<std::uint64_t>(gw);
    }
    count_group_widths(inc, widths);
  }

  /// One rising edge, with or without a bus access.
  /// `wide`: the lines of a wide beat (bank ADDR_BANK_ALL), max(rows, cols) of them.
  driver::BusResponse edge(bool req, bool write, std::uint32_t addr, std::uint64_t wdata,
                           std::span<std::uint64_t> wide = {}) {
    driver::BusResponse resp;
    CounterValues inc{};
    ++edges;
    count_edge(inc, busy);  // BUSY before the edge
    const bool tile_running = busy;
    bool clear = false, starting = false;
    if (req) {
      addr &= kAddrMask;
      const std::uint32_t region = addr >> rm::kAddrRegionLsb;
      const std::uint32_t bank = (addr >> rm::kAddrBankLsb) & kBankMask;
      const std::uint32_t line = addr & kLineMask;
      const std::uint32_t code = bus_check(write, region, bank, line);
      if (code != rm::kErrNone) {
        resp.err = true;
        err = true;
        err_code = code;
      } else if (region == rm::kRegionCsr) {
        if (!write) {
          resp.rdata = read_csr(line);
        } else if (line == rm::kRegCTRL) {
          clear = rm::kCtrlClearField.get(wdata) != 0;
          if (rm::kCtrlStartField.get(wdata) != 0) {
            // CTRL.LOAD: the START is checked with the bases of the write, which the registers keep
            // only if it is accepted.
            const std::array<std::uint64_t, 3> bases{cfg[rm::kRegACT_BASE], cfg[rm::kRegWGT_BASE],
                                                     cfg[rm::kRegBIAS_BASE]};
            const bool load = rm::kCtrlLoadField.get(wdata) != 0;
            if (load) {
              cfg[rm::kRegACT_BASE] = rm::kCtrlActBaseField.get(wdata);
              cfg[rm::kRegWGT_BASE] = rm::kCtrlWgtBaseField.get(wdata);
              cfg[rm::kRegBIAS_BASE] = rm::kCtrlBiasBaseField.get(wdata);
            }
            const std::uint32_t refusal = start_check();
            if (refusal != rm::kErrNone) {
              err = true;
              err_code = refusal;
              cfg[rm::kRegACT_BASE] = bases[0];
              cfg[rm::kRegWGT_BASE] = bases[1];
              cfg[rm::kRegBIAS_BASE] = bases[2];
            } else {
              starting = true;  // latched after the tiles' edge (below)
            }
          }
        } else if (line == rm::kRegSTATUS) {
          if (rm::kStatusDoneField.get(wdata) != 0) done = false;
          if (rm::kStatusErrField.get(wdata) != 0) err = false;
        } else {
          cfg[line] = wdata & rm::reg_mask(line);
        }
      } else if (bank == rm::kAddrBankRows) {  // row beat: Cols/4 lines of every activation bank
        const int span = p.cols / kWordsPerLine;
        for (int r = 0; r < p.rows; ++r) {
          for (int s = 0; s < span; ++s) {
            act_line(r, static_cast<int>(line) + s) = row_in[static_cast<std::size_t>(r * span + s)];
          }
        }
        count_spad_lines(inc, true, 1, static_cast<std::uint64_t>(p.rows * span));
        if (tile_running) count_overlap(inc, 1);
      } else if (bank == rm::kAddrBankAll) {  // wide beat: line `line` of every bank of the region
        if (wide.empty()) wide = write ? std::span<std::uint64_t>(wide_in) : std::span<std::uint64_t>(wide_scratch);
        const int nb = region_banks(region);
        for (int b = 0; b < nb; ++b) {
          std::uint64_t& l = spad_line(region, static_cast<std::uint32_t>(b), line);
          if (write) {
            l = wide[static_cast<std::size_t>(b)];
          } else {
            wide[static_cast<std::size_t>(b)] = l;
          }
        }
        count_spad_lines(inc, write, 1, static_cast<std::uint64_t>(nb));
        if (tile_running) count_overlap(inc, 1);
      } else {
        std::uint64_t& l = spad_line(region, bank, line);
        if (write) {
          l = wdata;
        } else {
          resp.rdata = l;
        }
        count_spad_lines(inc, write);
        if (tile_running) count_overlap(inc, 1);
      }
    }
    advance_tiles(inc, starting);
    busy = !flight.empty();
    if (starting) start(inc);
    for (std::size_t i = 0; i < cnt.size(); ++i) cnt[i] = clear ? 0 : cnt[i] + inc[i];
    return resp;
  }
};

GoldenDevice::GoldenDevice(const DeviceParams& params) {
  check_params(params);
  s_ = std::make_unique<State>(params);
}

GoldenDevice::~GoldenDevice() = default;

driver::BusResponse GoldenDevice::access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) {
  if (addr > kAddrMask) {
    throw driver::DeviceError(fmt::format("golden: bus address {:#x} does not fit the {}-bit bus", addr, rm::kAddrW));
  }
  return s_->edge(true, op == driver::BusOp::kWrite, addr, wdata);
}

driver::BusResponse GoldenDevice::access_wide(driver::BusOp op, std::uint32_t region, std::uint32_t line,
                                              std::span<std::uint64_t> lines) {
  const std::size_t n = s_->wide_in.size();
  if (lines.size() != n) {
    throw driver::DeviceError(
        fmt::format("golden: a wide beat moves {} lines (max(rows, cols)), not {}", n, lines.size()));
  }
  const std::uint32_t addr = driver::bus_addr(region, rm::kAddrBankAll, line);
  if (addr > kAddrMask || line > kLineMask) {
    throw driver::DeviceError(
        fmt::format("golden: wide beat region {} line {} does not fit the {}-bit bus", region, line, rm::kAddrW));
  }
  const bool write = op == driver::BusOp::kWrite;
  if (write) {
    std::copy(lines.begin(), lines.end(), s_->wide_in.begin());
  } else {
    std::fill(lines.begin(), lines.end(), std::uint64_t{0});
  }
  return s_->edge(true, write, addr, 0, write ? std::span<std::uint64_t>(s_->wide_in) : lines);
}

driver::BusResponse GoldenDevice::write_rows(std::uint32_t line, std::span<const std::uint64_t> lines) {
  if (lines.size() != s_->row_in.size()) {
    throw driver::DeviceError(
        fmt::format("golden: a row beat moves {} lines (rows x cols/4), not {}", s_->row_in.size(), lines.size()));
  }
  const std::uint32_t addr = driver::bus_addr(rm::kRegionAct, rm::kAddrBankRows, line);
  if (addr > kAddrMask || line > kLineMask) {
    throw driver::DeviceError(fmt::format("golden: row beat line {} does not fit the {}-bit bus", line, rm::kAddrW));
  }
  std::copy(lines.begin(), lines.end(), s_->row_in.begin());
  return s_->edge(true, true, addr, 0);
}

std::uint64_t GoldenDevice::edges() const { return s_->edges; }

driver::WaitResult GoldenDevice::wait(std::uint64_t max_cycles) {
  driver::WaitResult r;
  while (r.cycles < max_cycles && !s_->done && !s_->err) {
    s_->edge(false, false, 0, 0);
    ++r.cycles;
  }
  r.done = s_->done;
  r.err = s_->err;
  return r;
}

}  // namespace bitscale::golden
