// The portable driver: runs conv / fully-connected layers on the array through the Device
// contract (docs/ARCHITECTURE.md, docs/NUMERICS.md), following the pure tile plan of
// plan_tiles() (tile_plan.cpp).
//
// Every bus access is one clock edge of the device (microseconds on the RTL back-end),
// so the driver minimises them:
//   - the plan keeps weights (and activations where they fit) resident across tiles;
//   - configuration registers are shadowed: only values that change are written;
//   - only the scratchpad lines that hold data are written or read;
//   - STATUS is read only to explain an error (wait() reports done/err).
// The functional golden back-end runs the same plan against golden::FunctionalDevice: the
// data comes from the reference kernels, scratchpad transfers are only counted.
#include "bitscale/driver/accelerator.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/functional_device.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "lines.hpp"

namespace bitscale::driver {
namespace {

namespace rm = regmap;

constexpr int kWordsPerLine = static_cast<int>(rm::kLineWords);  // 16-bit words per scratchpad line
constexpr int kBiasPerLine = static_cast<int>(rm::kLineBias);    // 32-bit bias entries per line
// Configuration registers (shadowed, written only while idle) are the rw ones of rtl/bsa_regs.def.
constexpr bool is_config(std::uint32_t index) { return rm::reg_access(index) == rm::Access::kRw; }

constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

std::string region_name(std::uint32_t region) {
  switch (region) {
    case rm::kRegionCsr:
      return "CSR";
    case rm::kRegionAct:
      return "ACT";
    case rm::kRegionWgt:
      return "WGT";
    case rm::kRegionBias:
      return "BIAS";
    case rm::kRegionOut:
      return "OUT";
    default:
      return fmt::format("region {}", region);
  }
}

std::string reg_label(std::uint32_t index) {
  const std::string_view name = rm::reg_name(index);
  return name.empty() ? fmt::format("register index {}", index) : fmt::format("register {}", name);
}

using detail::line_of;

std::string layer_label(const golden::Layer& layer) {
  if (layer.approx.exact())
    return fmt::format("layer [{}; {}]", layer.shape.to_string(), golden::to_string(layer.mode));
  return fmt::format("layer [{}; {}, Ax-BxP {}]", layer.shape.to_string(), golden::to_string(layer.mode),
                     golden::to_string(layer.approx));
}

/// The device's geometry from HWCFG / HWCFG2 (fields of rtl/bsa_regs.def).
struct DecodedHw {
  HwConfig hw;
  int act_log2 = 0, wgt_log2 = 0;
};
DecodedHw decode_hwcfg(std::uint64_t cfg, std::uint64_t cfg2) {
  DecodedHw d;
  d.hw.rows = static_cast<int>(rm::kHwcfgRowsField.get(cfg));
  d.hw.cols = static_cast<int>(rm::kHwcfgColsField.get(cfg));
  d.act_log2 = static_cast<int>(rm::kHwcfgActLog2Field.get(cfg));
  d.wgt_log2 = static_cast<int>(rm::kHwcfgWgtLog2Field.get(cfg));
  d.hw.bias_entries = static_cast<int>(rm::kHwcfg2BiasEntriesField.get(cfg2));
  d.hw.acc_bits = static_cast<int>(rm::kHwcfg2AccWField.get(cfg2));
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Back-end names

std::string_view to_string(Backend b) {
  switch (b) {
    case Backend::kRtl:
      return "rtl";
    case Backend::kGoldenDevice:
      return "golden-device";
    case Backend::kGolden:
      return "golden";
  }
  return "?";
}

Backend parse_backend(std::string_view name) {
  for (const Backend b : {Backend::kRtl, Backend::kGoldenDevice, Backend::kGolden}) {
    if (name == to_string(b)) return b;
  }
  throw std::invalid_argument(fmt::format("unknown back-end '{}' (expected rtl, golden or golden-device)", name));
}

std::string_view to_string(Gating g) {
  switch (g) {
    case Gating::kOff:
      return "off";
    case Gating::kZeroBlocks:
      return "zero-blocks";
  }
  return "?";
}

Gating parse_gating(std::string_view name) {
  for (const Gating g : {Gating::kOff, Gating::kZeroBlocks}) {
    if (name == to_string(g)) return g;
  }
  throw std::invalid_argument(fmt::format("unknown gating '{}' (expected off or zero-blocks)", name));
}

std::string_view to_string(Port p) {
  switch (p) {
    case Port::kLine:
      return "line";
    case Port::kWide:
      return "wide";
    case Port::kRows:
      return "rows";
  }
  return "?";
}

Port parse_port(std::string_view name) {
  for (const Port p : {Port::kLine, Port::kWide, Port::kRows}) {
    if (name == to_string(p)) return p;
  }
  throw std::invalid_argument(fmt::format("unknown scratchpad port '{}' (expected line, wide or rows)", name));
}

// ---------------------------------------------------------------------------------------
// Counters

const std::array<std::uint64_t Counters::*, regmap::kNumCounters> Counters::kFields = [] {
  std::array<std::uint64_t Counters::*, regmap::kNumCounters> f{};
#define BITSCALE_COUNTER_MEMBER(name, index) f[index] = &Counters::name;
  BITSCALE_REGMAP_COUNTERS(BITSCALE_COUNTER_MEMBER)
#undef BITSCALE_COUNTER_MEMBER
  return f;
}();
// One field per counter of rtl/bsa_regs.def, nothing else (the fields are generated).
static_assert(sizeof(Counters) == regmap::kNumCounters * sizeof(std::uint64_t));

std::uint64_t Counters::macs(golden::Mode m) const { return this->*kFields[golden::mac_counter(m)]; }

std::array<std::uint64_t, 16> LayerGroupWidths::histogram() const {
  std::array<std::uint64_t, 16> h{};
  for (const std::uint8_t w : width) {
    if (w >= 1 && w <= 16) ++h[w - 1u];
  }
  return h;
}

Counters operator-(const Counters& a, const Counters& b) {
  Counters d;
  for (const auto f : Counters::kFields) d.*f = a.*f - b.*f;
  return d;
}

// ---------------------------------------------------------------------------------------
// Construction and low-level access

Accelerator::Accelerator(std::unique_ptr<Device> dev) : Accelerator(*dev) { owned_ = std::move(dev); }

Accelerator::Accelerator(const HwConfig& hw) : hw_(hw) {
  if (hw_.rows < 1 || hw_.cols < kWordsPerLine || hw_.cols % kWordsPerLine != 0 || hw_.act_words < 4 ||
      hw_.wgt_words < 4 || hw_.bias_entries < 2 || hw_.acc_bits != golden::kAccBits) {
    throw std::invalid_argument(fmt::format("functional accelerator: impossible geometry {}x{}", hw_.rows, hw_.cols));
  }
  auto dev = std::make_unique<golden::FunctionalDevice>(golden::DeviceParams{.rows = hw.rows,
                                                                             .cols = hw.cols,
                                                                             .act_words = hw.act_words,
                                                                             .wgt_words = hw.wgt_words,
                                                                             .bias_entries = hw.bias_entries});
  functional_ = dev.get();
  dev_ = dev.get();
  owned_ = std::move(dev);
}

Device& Accelerator::device() {
  if (functional_ != nullptr) throw std::logic_error("the functional golden back-end has no device");
  return *dev_;
}

std::string Accelerator::backend() const {
  if (functional_ != nullptr) return std::string(to_string(Backend::kGolden));
  return dev_->name() == "golden" ? std::string(to_string(Backend::kGoldenDevice)) : std::string(dev_->name());
}

Accelerator::Accelerator(Device& dev) : dev_(&dev) {
  const std::uint64_t id = read_reg(rm::kRegID);
  if (id != rm::kIdValue) {
    throw AcceleratorError(fmt::format("device '{}' is not a bitscale accelerator: ID reads 0x{:X}, expected 0x{:X}",
                                       dev_->name(), id, rm::kIdValue));
  }
  const std::uint64_t cfg = read_reg(rm::kRegHWCFG);
  const std::uint64_t cfg2 = read_reg(rm::kRegHWCFG2);
  const DecodedHw d = decode_hwcfg(cfg, cfg2);
  hw_ = d.hw;
  if (hw_.rows < 1 || hw_.cols < kWordsPerLine || hw_.cols % kWordsPerLine != 0 || d.act_log2 < 2 || d.act_log2 > 16 ||
      d.wgt_log2 < 2 || d.wgt_log2 > 16 || hw_.acc_bits < 1 || hw_.acc_bits > 64) {
    throw AcceleratorError(fmt::format("device '{}' reports an impossible geometry: HWCFG = 0x{:X}, HWCFG2 = 0x{:X}",
                                       dev_->name(), cfg, cfg2));
  }
  hw_.act_words = 1 << d.act_log2;
  hw_.wgt_words = 1 << d.wgt_log2;
}

std::string Accelerator::last_error_text() {
  const BusResponse st = dev_->read(bus_addr(rm::kRegionCsr, 0, rm::kRegSTATUS));
  if (st.err) return "STATUS unreadable";
  return std::string(rm::err_text(static_cast<std::uint32_t>(rm::kStatusCodeField.get(st.rdata))));
}

std::string Accelerator::recover() {
  invalidate_shadow();
  const std::uint32_t status = bus_addr(rm::kRegionCsr, 0, rm::kRegSTATUS);
  const BusResponse st = dev_->read(status);
  if (st.err) return "STATUS unreadable";
  if (rm::kStatusErrField.get(st.rdata) != 0 && dev_->write(status, rm::kStatusErrField.of(1)).err)
    return "STATUS.ERR could not be cleared";
  if (rm::kStatusBusyField.get(st.rdata) != 0) {
    const std::uint64_t longest =
        static_cast<std::uint64_t>(std::max(hw_.act_words, hw_.wgt_words)) + rm::kBusyOverhead + watchdog_slack_;
    const WaitResult w = dev_->wait(longest);
    if (!w.done) return fmt::format("a tile still runs after {} cycles{}", w.cycles, w.err ? " (another error)" : "");
  }
  if (dev_->write(status, rm::kStatusDoneField.of(1) | rm::kStatusErrField.of(1)).err)
    return "STATUS could not be cleared";
  return {};
}

void Accelerator::write_reg(std::uint32_t index, std::uint64_t value) {
  const BusResponse r = dev_->write(bus_addr(rm::kRegionCsr, 0, index), value);
  if (r.err) {
    invalidate_shadow();
    throw AcceleratorError(
        fmt::format("bus error writing {} = 0x{:X}: {}", reg_label(index), value, last_error_text()));
  }
  if (is_config(index) && index < kShadowRegs) {
    shadow_[index] = value;
    shadow_valid_ |= 1u << index;
  }
}

std::uint64_t Accelerator::read_reg(std::uint32_t index) {
  const BusResponse r = dev_->read(bus_addr(rm::kRegionCsr, 0, index));
  if (r.err) throw AcceleratorError(fmt::format("bus error reading {}: {}", reg_label(index), last_error_text()));
  return r.rdata;
}

void Accelerator::write_cfg(std::uint32_t index, std::uint64_t value) {
  if (index < kShadowRegs && (shadow_valid_ >> index & 1u) != 0 && shadow_[index] == value) return;
  write_reg(index, value);
}

void Accelerator::write_line(std::uint32_t region, std::uint32_t bank, std::uint32_t line, std::uint64_t data) {
  const BusResponse r = dev_->write(bus_addr(region, bank, line), data);
  if (r.err) {
    throw AcceleratorError(fmt::format("bus error writing {} scratchpad bank {} line {}: {}", region_name(region), bank,
                                       line, last_error_text()));
  }
}

std::uint64_t Accelerator::read_line(std::uint32_t region, std::uint32_t bank, std::uint32_t line) {
  const BusResponse r = dev_->read(bus_addr(region, bank, line));
  if (r.err) {
    throw AcceleratorError(fmt::format("bus error reading {} scratchpad bank {} line {}: {}", region_name(region), bank,
                                       line, last_error_text()));
  }
  return r.rdata;
}

void Accelerator::write_wide(std::uint32_t region, std::uint32_t line, std::span<std::uint64_t> lines) {
  const BusResponse r = dev_->access_wide(BusOp::kWrite, region, line, lines);
  if (r.err) {
    throw AcceleratorError(fmt::format("bus error writing {} scratchpad line {} (wide): {}", region_name(region), line,
                                       last_error_text()));
  }
}

void Accelerator::write_act_lines(int line0, int n, int rows, const std::uint16_t* words, std::size_t row_stride) {
  const int span = hw_.cols / kWordsPerLine;  // lines of a row beat
  const auto line_at = [&](int r, int l) {
    return r < rows
               ? line_of(words + static_cast<std::size_t>(r) * row_stride + static_cast<std::size_t>(l) * kWordsPerLine)
               : std::uint64_t{0};
  };
  std::uint64_t row_beats = 0, wide_beats = 0;
  for (int l = 0; l < n;) {
    const int line = line0 + l;
    if (port_ == Port::kRows && line % span == 0 && l + span <= n) {
      ++row_beats;
      if (functional_ == nullptr) {
        for (int r = 0; r < hw_.rows; ++r) {
          for (int s = 0; s < span; ++s) rows_[static_cast<std::size_t>(r * span + s)] = line_at(r, l + s);
        }
        if (dev_->write_rows(static_cast<std::uint32_t>(line), rows_).err) {
          throw AcceleratorError(fmt::format("bus error writing activation lines {}..{} (row beat): {}", line,
                                             line + span - 1, last_error_text()));
        }
      }
      l += span;
      continue;
    }
    ++wide_beats;
    if (functional_ == nullptr) {
      std::fill(wide_.begin(), wide_.end(), std::uint64_t{0});
      for (int r = 0; r < rows; ++r) wide_[static_cast<std::size_t>(r)] = line_at(r, l);
      write_wide(rm::kRegionAct, static_cast<std::uint32_t>(line), wide_);
    }
    ++l;
  }
  if (functional_ == nullptr) return;
  if (row_beats > 0) {
    functional_->count_lines(BusOp::kWrite, row_beats, static_cast<std::uint64_t>(hw_.rows) * span);
  }
  if (wide_beats > 0) functional_->count_lines(BusOp::kWrite, wide_beats, static_cast<std::uint64_t>(hw_.rows));
}

void Accelerator::read_wide(std::uint32_t region, std::uint32_t line, std::span<std::uint64_t> lines) {
  const BusResponse r = dev_->access_wide(BusOp::kRead, region, line, lines);
  if (r.err) {
    throw AcceleratorError(fmt::format("bus error reading {} scratchpad line {} (wide): {}", region_name(region), line,
                                       last_error_text()));
  }
}

// ---------------------------------------------------------------------------------------
// Counters

Counters Accelerator::counters() {
  Counters c;
  for (std::size_t i = 0; i < rm::kNumCounters; ++i) c.*Counters::kFields[i] = read_reg(rm::kCounters[i].reg);
  return c;
}

void Accelerator::clear_counters() { write_reg(rm::kRegCTRL, rm::kCtrlClearField.of(1)); }

// ---------------------------------------------------------------------------------------
// prepare

PreparedLayer Accelerator::prepare(const golden::Layer& layer) const {
  layer.validate();
  const golden::ConvShape& s = layer.shape;
  const int p = golden::lanes(layer.mode);
  const int k = s.k();
  const int kw = ceil_div(k, p);
  const int max_words = std::min(hw_.act_words, hw_.wgt_words);
  if (kw > max_words || !rm::kKField.fits(static_cast<std::uint64_t>(k))) {
    const std::uint64_t k_limit = std::min<std::uint64_t>(static_cast<std::uint64_t>(max_words) * p, rm::kKField.max());
    throw std::invalid_argument(fmt::format(
        "{}: K = {} (k_h*k_w*in_c/groups = {}*{}*{}) does not fit the device: a {} K-vector needs {} words "
        "({} lanes per word), the activation banks hold {} and the weight banks {} words, so K is at most {} "
        "in {} mode (the driver does not split K)",
        layer_label(layer), k, s.k_h, s.k_w, s.in_c / s.groups, golden::to_string(layer.mode), kw, p, hw_.act_words,
        hw_.wgt_words, k_limit, golden::to_string(layer.mode)));
  }
  const int n_shifts = layer.channel_shift.empty() ? 1 : s.out_c;  // out.shift, or one per channel
  for (int n = 0; n < n_shifts; ++n) {
    if (layer.shift(n) < 0 || layer.shift(n) >= hw_.acc_bits) {
      throw std::invalid_argument(
          fmt::format("{}: output shift {} (channel {}) outside 0..{} (the accumulator has {} bits)",
                      layer_label(layer), layer.shift(n), n, hw_.acc_bits - 1, hw_.acc_bits));
    }
  }
  if (!layer.bias.empty() && hw_.bias_entries < 1) {
    throw std::invalid_argument(
        fmt::format("{}: the layer has a bias but the device has no bias entries", layer_label(layer)));
  }

  PreparedLayer pl;
  pl.layer = layer;
  pl.k = k;
  pl.kw = kw;
  pl.kw_line = ceil_div(kw, kWordsPerLine) * kWordsPerLine;
  // Weights [out_c][k_h][k_w][in_c/groups] are already the K-vectors in im2col order
  // k = (ky*k_w + kx)*(in_c/groups) + ci, one per output channel.
  pl.wpacked.assign(static_cast<std::size_t>(s.out_c) * pl.kw_line, 0);
  const std::span<const std::int32_t> w(layer.weights);
  const std::span<std::uint16_t> dst(pl.wpacked);
  for (int n = 0; n < s.out_c; ++n) {
    golden::pack(w.subspan(static_cast<std::size_t>(n) * k, k), layer.mode,
                 dst.subspan(static_cast<std::size_t>(n) * pl.kw_line, kw));
  }
  return pl;
}

// ---------------------------------------------------------------------------------------
// run: checks, the plan, then per planned tile: loads, START, outputs

namespace {

/// Where run() is, for error messages (cheap to update, formatted only on error).
struct Where {
  const char* phase = "configuring";
  int group = 0, groups = 1;
  int m0 = -1, rows = 0, m_tile = 0, m_tiles = 0;
  int n0 = -1, cols = 0, n_tile = 0, n_tiles = 0;
  const std::vector<int>* order = nullptr;  ///< group-local channel of each n-tile position

  [[nodiscard]] std::string str() const {
    std::string s = fmt::format("while {}", phase);
    if (groups > 1) s += fmt::format(", group {} of {}", group, groups);
    if (m0 >= 0) s += fmt::format(", m-tile {} of {} (pixels {}..{})", m_tile, m_tiles, m0, m0 + rows - 1);
    if (n0 >= 0) {
      if (order == nullptr) {
        s += fmt::format(", n-tile {} of {} (group channels {}..{})", n_tile, n_tiles, n0, n0 + cols - 1);
      } else {  // per-channel shifts: the tile's channels are not consecutive
        s += fmt::format(", n-tile {} of {} ({} group channels from {})", n_tile, n_tiles, cols, (*order)[n0]);
      }
    }
    return s;
  }
  void at_m_tile(const PlannedTile& t) {
    m_tile = t.m_tile;
    m0 = t.m0;
    rows = t.rows;
  }
  void at_n_tile(int index, const NTile& nt) {
    n_tile = index;
    n0 = nt.pos;
    cols = nt.cols;
  }
};

/// im2col rows of the layer's input, packed in the device's K-vector format.
class Im2col {
 public:
  Im2col(const golden::Layer& layer, const golden::PackedTensor& in, int kw_line)
      : s_(layer.shape),
        mode_(layer.mode),
        values_(in.values()),
        kvec_(static_cast<std::size_t>(s_.k())),
        words_(static_cast<std::size_t>(kw_line)) {}

  /// The K-vector of output pixel m for group g, padding words zero.
  std::span<const std::uint16_t> row(int g, int m) {
    const int c_group = s_.in_c / s_.groups;
    const int oy = m / s_.out_w(), ox = m % s_.out_w();
    std::size_t pos = 0;
    for (int ky = 0; ky < s_.k_h; ++ky) {
      const int iy = oy * s_.stride_h + ky - s_.pad_top;
      for (int kx = 0; kx < s_.k_w; ++kx) {
        const int ix = ox * s_.stride_w + kx - s_.pad_left;
        if (iy < 0 || iy >= s_.in_h || ix < 0 || ix >= s_.in_w) {
          std::fill_n(kvec_.begin() + static_cast<std::ptrdiff_t>(pos), c_group, 0);
        } else {
          const auto src =
              values_.begin() + static_cast<std::ptrdiff_t>((static_cast<std::size_t>(iy) * s_.in_w + ix) * s_.in_c +
                                                            static_cast<std::size_t>(g) * c_group);
          std::copy_n(src, c_group, kvec_.begin() + static_cast<std::ptrdiff_t>(pos));
        }
        pos += static_cast<std::size_t>(c_group);
      }
    }
    std::fill(words_.begin(), words_.end(), 0);
    golden::pack(kvec_, mode_, std::span<std::uint16_t>(words_).first(golden::packed_words(kvec_.size(), mode_)));
    return words_;
  }

 private:
  const golden::ConvShape& s_;
  golden::Mode mode_;
  std::vector<std::int32_t> values_;
  std::vector<std::int32_t> kvec_;
  std::vector<std::uint16_t> words_;
};

}  // namespace

/// What the steps of one run() share.
struct Accelerator::RunState {
  const PreparedLayer& pl;
  const golden::Layer& layer;
  TilePlan plan;
  std::optional<Im2col> im2col;  ///< device back-ends, and the functional one with zero-block gating
  golden::PackedTensor& out;
  Where where;
  /// Functional back-end with zero-block gating: the im2col rows of the current m-tile (kw_line
  /// words each), for golden::tile_zero_skips.
  std::vector<std::uint16_t> zg_rows;
  int zg_group = -1, zg_m0 = -1;
  std::vector<int> ntile_offset;        ///< first output group (LayerGroupWidths) of each conv group
  std::vector<std::uint8_t> tile_gw;    ///< functional back-end: the group widths of the current tile
  std::vector<std::uint16_t> act_rows;  ///< wide port: the activation words of a tile's rows

  [[nodiscard]] const GroupPlan& group(const PlannedTile& t) const {
    return plan.groups[static_cast<std::size_t>(t.group)];
  }
  /// Index of the output group of row r of tile t in LayerGroupWidths::width.
  [[nodiscard]] std::size_t group_index(const PlannedTile& t, int r, int groups_per_pixel) const {
    return static_cast<std::size_t>(t.m0 + r) * static_cast<std::size_t>(groups_per_pixel) +
           static_cast<std::size_t>(ntile_offset[static_cast<std::size_t>(t.group)] + t.n_tile);
  }
};

void Accelerator::check_run(const PreparedLayer& pl, const golden::PackedTensor& in) const {
  const golden::Layer& layer = pl.layer;
  const golden::ConvShape& s = layer.shape;
  const golden::Mode mode = layer.mode;
  const int p = golden::lanes(mode);
  // The prepared layer may come from another device or be hand-made.
  if (pl.k != s.k() || pl.kw != ceil_div(pl.k, p) || pl.kw_line != ceil_div(pl.kw, kWordsPerLine) * kWordsPerLine ||
      pl.wpacked.size() != static_cast<std::size_t>(s.out_c) * pl.kw_line) {
    throw std::invalid_argument(
        fmt::format("{}: inconsistent PreparedLayer (k {}, kw {}, kw_line {}, {} words); "
                    "use Accelerator::prepare()",
                    layer_label(layer), pl.k, pl.kw, pl.kw_line, pl.wpacked.size()));
  }
  if (pl.kw > std::min(hw_.act_words, hw_.wgt_words)) {
    throw std::invalid_argument(
        fmt::format("{}: prepared for a larger device (K-vector of {} words; banks hold {} "
                    "activation and {} weight words)",
                    layer_label(layer), pl.kw, hw_.act_words, hw_.wgt_words));
  }
  if (in.h != s.in_h || in.w != s.in_w || in.c != s.in_c || in.mode != mode ||
      in.words.size() != static_cast<std::size_t>(in.h) * in.w * in.words_per_pixel()) {
    throw std::invalid_argument(fmt::format(
        "{}: input tensor is {}x{}x{} {} ({} words), the layer expects {}x{}x{} {} ({} words)", layer_label(layer),
        in.h, in.w, in.c, golden::to_string(in.mode), in.words.size(), s.in_h, s.in_w, s.in_c, golden::to_string(mode),
        static_cast<std::size_t>(s.in_h) * s.in_w * golden::packed_words(static_cast<std::size_t>(s.in_c), mode)));
  }
}

void Accelerator::write_layer_config(const golden::Layer& layer, bool dw, bool col_shift) {
  const golden::Mode mode = layer.mode;
  std::uint64_t out_cfg = 0;
  // OUT_CFG.COL_SHIFT (TilePlan::col_shift): the shifts come with the bias entries, read under BIAS_EN.
  out_cfg = rm::kOutCfgBiasEnField.put(out_cfg, layer.bias.empty() && !col_shift ? 0 : 1);
  out_cfg = rm::kOutCfgColShiftField.put(out_cfg, col_shift ? 1 : 0);
  out_cfg = rm::kOutCfgReluField.put(out_cfg, layer.out.relu ? 1 : 0);
  out_cfg = rm::kOutCfgClampEnField.put(out_cfg, layer.out.clamp ? 1 : 0);
  // The hardware clamps after saturation; a CLAMP_HI outside the mode's range would leak
  // out-of-range values, so saturate it (same result as the spec's min(sat(y), c)).
  const std::int32_t clamp_hi =
      std::clamp<std::int32_t>(layer.out.clamp_hi, golden::min_value(mode), golden::max_value(mode));
  // The mode and the layer's Ax-BxP configuration share the MODE register: one write per layer.
  // MODE.DW: the layer runs as depthwise-dataflow tiles (TilePlan::dw).
  write_cfg(rm::kRegMODE, rm::kModeField.of(golden::mode_code(mode)) | rm::kModeBlkskipField.of(layer.approx.skip) |
                              rm::kModeZgateField.of(gating_ == Gating::kZeroBlocks ? 1 : 0) |
                              rm::kModeDwField.of(dw ? 1 : 0));
  write_cfg(rm::kRegK, rm::kKField.of(static_cast<std::uint64_t>(layer.shape.k())));
  write_cfg(rm::kRegOUT_CFG, out_cfg);
  if (layer.out.clamp) write_cfg(rm::kRegCLAMP_HI, rm::kClampHiField.of(static_cast<std::uint16_t>(clamp_hi)));
}

void Accelerator::load_weights(RunState& st, const PlannedTile& t, int j0, int j1) {
  const golden::Layer& layer = st.layer;
  const GroupPlan& gp = st.group(t);
  const int n_group = layer.shape.out_c / layer.shape.groups;
  const int kwl = st.pl.kw_line;
  const auto ntile = [&](int j) -> const NTile& { return gp.ntiles[static_cast<std::size_t>(t.chunk_first + j)]; };
  // Weights: n-tile chunk_first + j at WGT_BASE j * kw_line, one output channel per column.
  st.where.phase = "loading weights";
  st.where.m0 = -1;
  for (int j = j0; j < j1; ++j) {
    const NTile& nt = ntile(j);
    st.where.at_n_tile(t.chunk_first + j, nt);
    if (functional_ != nullptr) {
      if (wide_port()) {  // a line of every column per beat
        functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(st.plan.lines_per_vec),
                                 static_cast<std::uint64_t>(hw_.cols));
      } else {
        functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(nt.cols) * st.plan.lines_per_vec);
      }
      continue;
    }
    if (wide_port()) {  // line l of every column in one beat (columns >= nt.cols: 0)
      for (int l = 0; l < st.plan.lines_per_vec; ++l) {
        std::fill(wide_.begin(), wide_.end(), std::uint64_t{0});
        for (int c = 0; c < nt.cols; ++c) {
          const std::size_t ch = static_cast<std::size_t>(t.group) * n_group +
                                 static_cast<std::size_t>(gp.order[static_cast<std::size_t>(nt.pos + c)]);
          wide_[static_cast<std::size_t>(c)] =
              line_of(st.pl.wpacked.data() + ch * kwl + static_cast<std::ptrdiff_t>(l) * kWordsPerLine);
        }
        write_wide(rm::kRegionWgt, static_cast<std::uint32_t>(j * st.plan.lines_per_vec + l), wide_);
      }
      continue;
    }
    for (int c = 0; c < nt.cols; ++c) {
      const std::size_t ch = static_cast<std::size_t>(t.group) * n_group +
                             static_cast<std::size_t>(gp.order[static_cast<std::size_t>(nt.pos + c)]);
      const std::uint16_t* src = st.pl.wpacked.data() + ch * kwl;
      const int line0 = j * st.plan.lines_per_vec;
      for (int l = 0; l < st.plan.lines_per_vec; ++l) {
        write_line(rm::kRegionWgt, c, line0 + l, line_of(src + static_cast<std::ptrdiff_t>(l) * kWordsPerLine));
      }
    }
  }
  if (layer.bias.empty() && !st.plan.col_shift) return;
  // Biases: n-tile chunk_first + j at BIAS_BASE j; column c of tile j holds a channel when c < its cols.
  // Per-column shifts: each entry holds its channel's shift and bias (golden::column_entry).
  st.where.phase = "loading biases";
  st.where.n0 = -1;
  const auto has = [&](int j, int c) { return j < t.chunk_count && c < ntile(j).cols; };
  const auto entry = [&](int j, int c) -> std::uint64_t {
    if (!has(j, c)) return 0;
    const int n = t.group * n_group + gp.order[static_cast<std::size_t>(ntile(j).pos + c)];
    const std::int32_t bias = layer.bias.empty() ? 0 : layer.bias[static_cast<std::size_t>(n)];
    if (st.plan.col_shift) return golden::column_entry(bias, layer.shift(n));
    return static_cast<std::uint32_t>(bias);
  };
  // The bias lines of the n-tiles from j0 on (a line holds the entries of n-tiles 2i and 2i + 1: it is
  // written with the even one).
  const int jb = (j0 + kBiasPerLine - 1) / kBiasPerLine * kBiasPerLine;
  if (wide_port()) {  // bias line j / 2 of every column in one beat
    for (int j = jb; j < j1; j += kBiasPerLine) {
      for (int c = 0; c < hw_.cols; ++c) wide_[static_cast<std::size_t>(c)] = entry(j, c) | (entry(j + 1, c) << 32);
      std::fill(wide_.begin() + hw_.cols, wide_.end(), std::uint64_t{0});
      write_wide(rm::kRegionBias, static_cast<std::uint32_t>(j / kBiasPerLine), wide_);
    }
    return;
  }
  for (int c = 0; c < hw_.cols; ++c) {
    for (int j = jb; j < j1; j += kBiasPerLine) {
      if (!has(j, c) && !has(j + 1, c)) continue;  // no channel in this column of the two tiles
      write_line(rm::kRegionBias, c, j / kBiasPerLine, entry(j, c) | (entry(j + 1, c) << 32));
    }
  }
}

void Accelerator::load_activations(RunState& st, const PlannedTile& t) {
  // im2col rows, one per array row, only the lines holding data.
  st.where.phase = "loading activations";
  st.where.at_m_tile(t);
  st.where.n0 = -1;
  if (st.plan.dw) {
    load_dw_activations(st, t);
    return;
  }
  const int line0 = t.act_base / kWordsPerLine;
  if (functional_ != nullptr) {
    if (wide_port()) {
      write_act_lines(line0, st.plan.lines_per_vec, t.rows, nullptr, 0);  // counts only
    } else {
      functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(t.rows) * st.plan.lines_per_vec);
    }
    return;
  }
  if (wide_port()) {  // line l of every row in one beat (rows >= t.rows: 0), or row beats
    const auto kwl = static_cast<std::size_t>(st.pl.kw_line);
    st.act_rows.resize(static_cast<std::size_t>(t.rows) * kwl);
    for (int r = 0; r < t.rows; ++r) {
      const std::span<const std::uint16_t> words = st.im2col->row(t.group, t.m0 + r);
      std::copy(words.begin(), words.end(), st.act_rows.begin() + static_cast<std::ptrdiff_t>(r * kwl));
    }
    write_act_lines(line0, st.plan.lines_per_vec, t.rows, st.act_rows.data(), kwl);
    return;
  }
  for (int r = 0; r < t.rows; ++r) {
    const std::span<const std::uint16_t> words = st.im2col->row(t.group, t.m0 + r);
    for (int l = 0; l < st.plan.lines_per_vec; ++l) {
      write_line(rm::kRegionAct, r, line0 + l, line_of(words.data() + static_cast<std::ptrdiff_t>(l) * kWordsPerLine));
    }
  }
}

void Accelerator::load_dw_activations(RunState& st, const PlannedTile& t) {
  // MODE.DW tile (docs/NUMERICS.md "Depthwise mode"): row r (output pixel m0 + r) holds, at word
  // ACT_BASE + k x Cols + c, word k of the K-vector (the kh x kw taps) of the tile's c-th channel;
  // only the lines of word steps k that hold channels c < cols are written.
  const int kw = st.pl.kw;
  const int lines_per_step = ceil_div(t.cols, kWordsPerLine);
  const int line0 = t.act_base / kWordsPerLine;
  const int step_lines = hw_.cols / kWordsPerLine;  // lines of one Cols-word row
  if (functional_ != nullptr) {
    if (port_ == Port::kRows) {  // one row beat per word step (ACT_BASE is a multiple of Cols)
      write_act_lines(line0, kw * step_lines, t.rows, nullptr, 0);
    } else if (wide_port()) {
      functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(kw) * lines_per_step,
                               static_cast<std::uint64_t>(hw_.rows));
    } else {
      functional_->count_lines(BusOp::kWrite, static_cast<std::uint64_t>(t.rows) * kw * lines_per_step);
    }
    return;
  }
  const GroupPlan& gp = st.group(t);
  const std::size_t row_words = static_cast<std::size_t>(kw) * static_cast<std::size_t>(hw_.cols);
  // Wide port: every row's words first (line l of word step k of all rows is one beat).
  st.act_rows.assign(wide_port() ? static_cast<std::size_t>(t.rows) * row_words : row_words, 0);
  for (int r = 0; r < t.rows; ++r) {
    const std::span<std::uint16_t> words(st.act_rows.data() + (wide_port() ? r * row_words : 0), row_words);
    std::fill(words.begin(), words.end(), std::uint16_t{0});
    for (int c = 0; c < t.cols; ++c) {
      const int ch = gp.order[static_cast<std::size_t>(t.pos + c)];  // depthwise: group = channel
      const std::span<const std::uint16_t> v = st.im2col->row(ch, t.m0 + r);
      for (int k = 0; k < kw; ++k) words[static_cast<std::size_t>(k) * hw_.cols + c] = v[static_cast<std::size_t>(k)];
    }
    if (wide_port()) continue;
    for (int k = 0; k < kw; ++k) {
      for (int l = 0; l < lines_per_step; ++l) {
        const std::uint16_t* src = words.data() + static_cast<std::ptrdiff_t>(k) * hw_.cols + l * kWordsPerLine;
        write_line(rm::kRegionAct, r, line0 + k * step_lines + l, line_of(src));
      }
    }
  }
  if (!wide_port()) return;
  if (port_ == Port::kRows) {
    write_act_lines(line0, kw * step_lines, t.rows, st.act_rows.data(), row_words);
    return;
  }
  std::fill(wide_.begin(), wide_.end(), std::uint64_t{0});
  for (int k = 0; k < kw; ++k) {
    for (int l = 0; l < lines_per_step; ++l) {
      for (int r = 0; r < t.rows; ++r) {
        wide_[static_cast<std::size_t>(r)] =
            line_of(st.act_rows.data() + r * row_words + static_cast<std::ptrdiff_t>(k) * hw_.cols + l * kWordsPerLine);
      }
      write_wide(rm::kRegionAct, static_cast<std::uint32_t>(line0 + k * step_lines + l), wide_);
    }
  }
}

namespace {

// The tile registers other than the bases (which come with the START): ROWS_ACT, COLS_ACT, SHIFT.
std::array<std::pair<std::uint32_t, std::uint64_t>, 3> tile_regs(const PlannedTile& t) {
  return {{{rm::kRegROWS_ACT, rm::kRowsActField.of(static_cast<std::uint64_t>(t.rows))},
           {rm::kRegCOLS_ACT, rm::kColsActField.of(static_cast<std::uint64_t>(t.cols))},
           {rm::kRegSHIFT, rm::kShiftField.of(static_cast<std::uint64_t>(t.shift))}}};
}

}  // namespace

bool Accelerator::tile_regs_hold(const PlannedTile& t) const {
  return std::ranges::all_of(tile_regs(t), [&](const auto& r) {
    return (shadow_valid_ >> r.first & 1u) != 0 && shadow_[r.first] == r.second;
  });
}

void Accelerator::start_tile(RunState& st, const PlannedTile& t) {
  st.where.at_m_tile(t);
  st.where.at_n_tile(t.n_tile, st.group(t).ntiles[static_cast<std::size_t>(t.n_tile)]);
  st.where.phase = "starting a tile";
  for (const auto& [index, value] : tile_regs(t)) write_cfg(index, value);
  // MODE.ZGATE has no effect on MODE.DW tiles (docs/NUMERICS.md): nothing to count there.
  if (functional_ != nullptr && gating_ == Gating::kZeroBlocks && !st.plan.dw) count_functional_zero_skips(st, t);
  // The functional back-end counts the group widths (CNT_GW*) from the outputs it already has.
  if (functional_ != nullptr) {
    st.tile_gw = tile_widths(st, t);
    functional_->set_group_widths(st.tile_gw);
  }
  // CTRL.LOAD: the bases come with the START, one beat (docs/ARCHITECTURE.md "A tile, cycle by cycle").
  const auto act = static_cast<std::uint64_t>(t.act_base), wgt = static_cast<std::uint64_t>(t.wgt_base),
             bias = static_cast<std::uint64_t>(t.bias_base);
  write_reg(rm::kRegCTRL, rm::kCtrlStartField.of(1) | rm::kCtrlLoadField.of(1) | rm::kCtrlActBaseField.of(act) |
                              rm::kCtrlWgtBaseField.of(wgt) | rm::kCtrlBiasBaseField.of(bias));
  for (const auto& [index, value] :
       {std::pair{rm::kRegACT_BASE, rm::kActBaseField.of(act)}, std::pair{rm::kRegWGT_BASE, rm::kWgtBaseField.of(wgt)},
        std::pair{rm::kRegBIAS_BASE, rm::kBiasBaseField.of(bias)}}) {
    shadow_[index] = value;
    shadow_valid_ |= 1u << index;
  }
}

void Accelerator::wait_until(std::uint64_t edge) {
  const std::uint64_t now = dev_->edges();
  if (now >= edge) return;
  const WaitResult wr = dev_->wait(edge - now);
  if (wr.err) throw AcceleratorError(fmt::format("tile failed: {}", last_error_text()));
}

bool Accelerator::can_prefetch(const RunState& st, const PlannedTile& cur, const PlannedTile& next) const {
  // cur's ACT read window (docs/ARCHITECTURE.md "Bus") against the lines next's load writes.
  const int act_words = st.pl.kw * (st.plan.dw ? hw_.cols : 1);
  const int lo = cur.act_base / kWordsPerLine, hi = (cur.act_base + act_words - 1) / kWordsPerLine;
  const int n_lo = next.act_base / kWordsPerLine;
  const int n_hi = n_lo + (st.plan.dw ? act_words / kWordsPerLine : st.plan.lines_per_vec) - 1;
  return n_hi < lo || n_lo > hi;
}

void Accelerator::wait_tile(RunState& st, const PlannedTile& t) {
  st.where.at_m_tile(t);
  st.where.at_n_tile(t.n_tile, st.group(t).ntiles[static_cast<std::size_t>(t.n_tile)]);
  st.where.phase = "waiting for a tile";
  const std::uint64_t busy = static_cast<std::uint64_t>(st.pl.kw) + rm::kBusyOverhead;
  const WaitResult wr = dev_->wait(busy + watchdog_slack_);
  if (wr.err) throw AcceleratorError(fmt::format("tile failed: {}", last_error_text()));
  if (!wr.done) {
    throw AcceleratorError(fmt::format("watchdog: tile not done after {} cycles (a tile takes {})", wr.cycles, busy));
  }
}

void Accelerator::count_functional_zero_skips(RunState& st, const PlannedTile& t) {
  // The operands the tile would read: im2col rows of its pixels (kept for the n-tiles of one
  // m-tile) and the packed weights of its channels, in the column order of the plan.
  const int kwl = st.pl.kw_line;
  if (st.zg_group != t.group || st.zg_m0 != t.m0) {
    st.zg_rows.resize(static_cast<std::size_t>(t.rows) * static_cast<std::size_t>(kwl));
    for (int r = 0; r < t.rows; ++r) {
      const std::span<const std::uint16_t> words = st.im2col->row(t.group, t.m0 + r);
      std::copy(words.begin(), words.end(), st.zg_rows.begin() + static_cast<std::ptrdiff_t>(r) * kwl);
    }
    st.zg_group = t.group;
    st.zg_m0 = t.m0;
  }
  std::vector<const std::uint16_t*> act(static_cast<std::size_t>(t.rows)), wgt(static_cast<std::size_t>(t.cols));
  for (int r = 0; r < t.rows; ++r)
    act[static_cast<std::size_t>(r)] = st.zg_rows.data() + static_cast<std::ptrdiff_t>(r) * kwl;
  const GroupPlan& gp = st.group(t);
  const int n_group = st.layer.shape.out_c / st.layer.shape.groups;
  for (int c = 0; c < t.cols; ++c) {
    const std::size_t ch = static_cast<std::size_t>(t.group) * n_group +
                           static_cast<std::size_t>(gp.order[static_cast<std::size_t>(t.pos + c)]);
    wgt[static_cast<std::size_t>(c)] = st.pl.wpacked.data() + ch * static_cast<std::size_t>(kwl);
  }
  golden::TileCounts tc;
  tc.mode = st.layer.mode;
  tc.k = st.pl.k;
  tc.rows = t.rows;
  tc.cols = t.cols;
  tc.approx = st.layer.approx;
  tc.zgate = true;
  functional_->set_tile_zero_skips(golden::tile_zero_skips(tc, act, wgt));
}

void Accelerator::read_outputs(RunState& st, const PlannedTile& t) {
  // Rows 0 .. rows-1, only the lines holding the tile's cols values.
  st.where.phase = "reading outputs";
  const golden::Mode mode = st.layer.mode;
  const int p = golden::lanes(mode);
  const int out_lines = ceil_div(ceil_div(t.cols, p), kWordsPerLine);
  const bool wide = wide_port();
  if (functional_ != nullptr) {
    if (wide) {
      functional_->count_lines(BusOp::kRead, static_cast<std::uint64_t>(out_lines),
                               static_cast<std::uint64_t>(hw_.rows));
    } else {
      functional_->count_lines(BusOp::kRead, static_cast<std::uint64_t>(t.rows) * out_lines);
    }
    if (gw_readback_ == GroupWidthReadback::kOn) {  // the header lines
      if (wide) {
        functional_->count_lines(BusOp::kRead, 1, static_cast<std::uint64_t>(hw_.rows));
      } else {
        functional_->count_lines(BusOp::kRead, static_cast<std::uint64_t>(t.rows));
      }
      store_widths(st, t, tile_widths(st, t));  // t may be the tile before the running one (overlapped reads)
    }
    return;
  }
  const GroupPlan& gp = st.group(t);
  const int ch0 = t.group * (st.layer.shape.out_c / st.layer.shape.groups);
  const std::size_t out_wpp = st.out.words_per_pixel();
  // Wide port: line l of every row in one beat, rows kept in out_rows (row r, line l at r x out_lines + l).
  std::vector<std::uint64_t> out_rows;
  if (wide) {
    out_rows.resize(static_cast<std::size_t>(t.rows) * static_cast<std::size_t>(out_lines));
    for (int l = 0; l < out_lines; ++l) {
      read_wide(rm::kRegionOut, static_cast<std::uint32_t>(l), wide_);
      for (int r = 0; r < t.rows; ++r)
        out_rows[static_cast<std::size_t>(r * out_lines + l)] = wide_[static_cast<std::size_t>(r)];
    }
  }
  for (int r = 0; r < t.rows; ++r) {
    const std::size_t pix = static_cast<std::size_t>(t.m0 + r) * out_wpp;
    for (int l = 0; l < out_lines; ++l) {
      const std::uint64_t line =
          wide ? out_rows[static_cast<std::size_t>(r * out_lines + l)] : read_line(rm::kRegionOut, r, l);
      const int c_end = std::min(t.cols, (l + 1) * kWordsPerLine * p);
      for (int c = l * kWordsPerLine * p; c < c_end; ++c) {
        const auto word = static_cast<std::uint16_t>(line >> (16 * ((c / p) % kWordsPerLine)));
        const std::int32_t v = golden::get_lane(word, c % p, mode);
        const int ch = ch0 + gp.order[static_cast<std::size_t>(t.pos + c)];
        std::uint16_t& dst = st.out.words[pix + static_cast<std::size_t>(ch / p)];
        dst = golden::set_lane(dst, ch % p, mode, v);
      }
    }
  }
  if (gw_readback_ == GroupWidthReadback::kOn) {
    // The header line (line Cols / 4) of each active row: its group width in bits [4:0].
    st.where.phase = "reading group widths";
    std::vector<std::uint8_t> widths(static_cast<std::size_t>(t.rows));
    const auto hdr_line = static_cast<std::uint32_t>(hw_.cols / kWordsPerLine);
    if (wide) read_wide(rm::kRegionOut, hdr_line, wide_);
    for (int r = 0; r < t.rows; ++r) {
      const std::uint64_t line = wide ? wide_[static_cast<std::size_t>(r)]
                                      : read_line(rm::kRegionOut, static_cast<std::uint32_t>(r), hdr_line);
      widths[static_cast<std::size_t>(r)] = static_cast<std::uint8_t>(line);
      if (line < 1 || line > 16) {
        throw AcceleratorError(fmt::format("header line of output row {} reads 0x{:X}, not a width 1 .. 16", r, line));
      }
    }
    store_widths(st, t, widths);
  }
}

std::vector<std::uint8_t> Accelerator::tile_widths(const RunState& st, const PlannedTile& t) const {
  const golden::Mode mode = st.layer.mode;
  const int p = golden::lanes(mode);
  const GroupPlan& gp = st.group(t);
  const int ch0 = t.group * (st.layer.shape.out_c / st.layer.shape.groups);
  const std::size_t out_wpp = st.out.words_per_pixel();
  // golden::output_group_width of each row without a lane read and a call per output (this runs on
  // every tile of the functional back-end): the largest min_width of a row is the bit width of the
  // OR of its values' magnitudes (v when v >= 0, ~v otherwise) plus the sign bit.
  const int b = golden::bits(mode);
  const std::uint32_t lane_mask = (1u << b) - 1u, sign = 1u << (b - 1);
  std::vector<std::size_t> word_of(static_cast<std::size_t>(t.cols));
  std::vector<int> shift_of(static_cast<std::size_t>(t.cols));
  for (int c = 0; c < t.cols; ++c) {
    const int ch = ch0 + gp.order[static_cast<std::size_t>(t.pos + c)];
    word_of[static_cast<std::size_t>(c)] = static_cast<std::size_t>(ch / p);
    shift_of[static_cast<std::size_t>(c)] = b * (ch % p);
  }
  std::vector<std::uint8_t> widths(static_cast<std::size_t>(t.rows));
  for (int r = 0; r < t.rows; ++r) {
    const std::uint16_t* px = st.out.words.data() + static_cast<std::size_t>(t.m0 + r) * out_wpp;
    std::uint32_t magnitude = 0;
    for (int c = 0; c < t.cols; ++c) {
      const std::uint32_t raw =
          (std::uint32_t{px[word_of[static_cast<std::size_t>(c)]]} >> shift_of[static_cast<std::size_t>(c)]) &
          lane_mask;
      magnitude |= (raw & sign) != 0 ? ~raw & lane_mask : raw;
    }
    widths[static_cast<std::size_t>(r)] = static_cast<std::uint8_t>(std::bit_width(magnitude) + 1);
  }
  return widths;
}

void Accelerator::store_widths(const RunState& st, const PlannedTile& t, std::span<const std::uint8_t> widths) {
  for (int r = 0; r < t.rows; ++r) {
    gw_.width[st.group_index(t, r, gw_.groups_per_pixel)] = widths[static_cast<std::size_t>(r)];
  }
}

golden::PackedTensor Accelerator::run(const PreparedLayer& pl, const golden::PackedTensor& in) {
  golden::PackedTensor out;
  run(pl, in, out);
  return out;
}

void Accelerator::run(const PreparedLayer& pl, const golden::PackedTensor& in, golden::PackedTensor& out) {
  if (&out == &in) throw std::invalid_argument("Accelerator::run: the output tensor is the input tensor");
  if (!unusable_.empty())
    throw AcceleratorError(
        fmt::format("{}: the device is unusable since an earlier error ({})", dev_->name(), unusable_));
  check_run(pl, in);
  const golden::Layer& layer = pl.layer;
  const golden::ConvShape& s = layer.shape;
  RunState st{
      pl, layer, plan_tiles(pl, hw_, dw_mapping_, transfer_, shift_mapping_), std::nullopt, out, {}, {}, -1, -1, {},
      {}, {}};
  wide_.assign(static_cast<std::size_t>(std::max(hw_.rows, hw_.cols)), 0);
  rows_.assign(static_cast<std::size_t>(hw_.rows) * static_cast<std::size_t>(hw_.cols / kWordsPerLine), 0);
  int groups_per_pixel = 0;
  for (const GroupPlan& gp : st.plan.groups) {
    st.ntile_offset.push_back(groups_per_pixel);
    groups_per_pixel += static_cast<int>(gp.ntiles.size());
  }
  gw_ = {};
  if (gw_readback_ == GroupWidthReadback::kOn) {
    gw_.pixels = st.plan.m_total;
    gw_.groups_per_pixel = groups_per_pixel;
    gw_.width.assign(static_cast<std::size_t>(gw_.pixels) * static_cast<std::size_t>(groups_per_pixel), 0);
  }
  // One-pixel layers under PixelMapping::kArray (not with group-width read-back: its groups are n-tiles).
  std::optional<ArrayPlan> array_plan;
  if (pixel_mapping_ == PixelMapping::kArray && gw_readback_ == GroupWidthReadback::kOff) {
    array_plan = plan_array(pl, hw_, transfer_);
  }
  // The functional back-end computes the data with the reference kernels; the steps then
  // only keep the counters.
  if (functional_ != nullptr) {
    golden::conv2d(layer, in, st.out);
    if (gating_ == Gating::kZeroBlocks || array_plan) st.im2col.emplace(layer, in, pl.kw_line);
  } else {
    st.im2col.emplace(layer, in, pl.kw_line);
    st.out = golden::PackedTensor(s.out_h(), s.out_w(), s.out_c, layer.mode);
  }
  st.where.groups = st.plan.dw ? 1 : s.groups;
  st.where.m_tiles = st.plan.m_tiles;
  invalidate_shadow();  // the device may have been used by someone else since the last run
  // A failed RTL assertion ends the run: the data may still look right, the design is not.
  const std::uint64_t asserts0 = dev_->assertion_failures();
  const auto failed_assertions = [&]() -> std::string {
    const std::uint64_t n = dev_->assertion_failures();
    if (n == asserts0) return {};
    const std::vector<std::string> names = dev_->failed_assertions();
    const auto fresh = std::min<std::size_t>(names.size(), static_cast<std::size_t>(n - asserts0));
    return fmt::format("{} {} RTL assertion(s) failed{}{}", dev_->name(), n - asserts0, fresh ? ": " : "",
                       fmt::join(names.end() - static_cast<std::ptrdiff_t>(fresh), names.end(), ", "));
  };
  try {
    if (array_plan) {
      st.where.phase = "running the layer as array tiles";
      const std::span<const std::uint16_t> x = st.im2col->row(0, 0);
      run_array(pl, *array_plan, x.first(static_cast<std::size_t>(pl.kw)), st.out);
      if (std::string a = failed_assertions(); !a.empty()) throw DeviceError(a);
      return;
    }
    write_layer_config(layer, st.plan.dw, st.plan.col_shift);
    int group = -1;
    bool prefetched = false;  // the activations of the tile were written while the previous one ran
    // Transfer::kOverlapped: the previous tile (started, outputs unread) and its START edge. Its
    // outputs are written at edge prev_start + busy and can be read from the next edge until the
    // output edge of the tile after it (docs/ARCHITECTURE.md "A tile, cycle by cycle").
    const PlannedTile* prev = nullptr;
    std::uint64_t prev_start = 0;
    int weights_loaded = 0;  // n-tiles of the current weight chunk loaded (overlapped transfers)
    const std::uint64_t busy = static_cast<std::uint64_t>(st.pl.kw) + rm::kBusyOverhead;
    // Bus beats of read_outputs(t).
    const auto output_beats = [&](const PlannedTile& t) -> std::uint64_t {
      const auto lines =
          static_cast<std::uint64_t>(ceil_div(ceil_div(t.cols, golden::lanes(layer.mode)), kWordsPerLine));
      const bool wide = wide_port();
      const std::uint64_t gw = gw_readback_ == GroupWidthReadback::kOn ? (wide ? 1 : t.rows) : 0;
      return (wide ? lines : lines * static_cast<std::uint64_t>(t.rows)) + gw;
    };
    for (std::size_t i = 0; i < st.plan.tiles.size(); ++i) {
      const PlannedTile& t = st.plan.tiles[i];
      if (t.group != group) {
        group = t.group;
        st.where.group = group;
        st.where.n_tiles = static_cast<int>(st.group(t).ntiles.size());
        st.where.order = layer.channel_shift.empty() || st.plan.col_shift ? nullptr : &st.group(t).order;
      }
      if (transfer_ != Transfer::kOverlapped) {
        if (t.load_weights) load_weights(st, t, 0, t.chunk_count);
        if (t.load_acts) load_activations(st, t);
        start_tile(st, t);
        wait_tile(st, t);
        read_outputs(st, t);
        if (std::string a = failed_assertions(); !a.empty()) throw DeviceError(a);
        continue;
      }
      // Overlapped: the START goes in with the previous tile's last read (or later) when nothing is
      // to be loaded and the tile registers hold; otherwise the previous tile completes first.
      const bool ready = !t.load_weights && (!t.load_acts || prefetched) && tile_regs_hold(t);
      if (prev != nullptr && !ready) wait_tile(st, *prev);
      // A chunk's weights: the first n-tile's now, each next one while the tile before it runs.
      if (t.load_weights) {
        load_weights(st, t, 0, 1);
        weights_loaded = 1;
      }
      if (t.load_acts && !prefetched) load_activations(st, t);
      if (!ready) {
        for (const auto& [index, value] : tile_regs(t)) write_cfg(index, value);
      }
      if (prev != nullptr) {
        // The previous tile's outputs are read after this START if the reads end by this tile's
        // output edge, else now.
        const std::uint64_t s = std::max(dev_->edges() + 1, prev_start + st.pl.kw);  // this START's edge
        const std::uint64_t first_read = std::max(s + 1, prev_start + busy + 1);
        if (first_read + output_beats(*prev) > s + busy + 1) {
          wait_until(prev_start + busy);
          read_outputs(st, *prev);
          prev = nullptr;
        } else {
          wait_until(s - 1);
        }
      }
      start_tile(st, t);
      const std::uint64_t t_start = dev_->edges();
      if (prev != nullptr) {
        wait_until(prev_start + busy);
        read_outputs(st, *prev);
      }
      // The next tile's activations go in while this one computes (the plan's ping-pong ACT_BASE
      // keeps them out of its read window), and so do its weights when its n-tile of the chunk is not
      // loaded yet (its WGT_BASE slot and bias line are not this tile's).
      prefetched = false;
      if (i + 1 < st.plan.tiles.size()) {
        const PlannedTile& next = st.plan.tiles[i + 1];
        const int slot = next.n_tile - next.chunk_first;
        if (!next.load_weights && next.group == t.group && slot >= weights_loaded) {
          load_weights(st, next, weights_loaded, slot + 1);
          weights_loaded = slot + 1;
        }
        if (next.load_acts && !next.load_weights && next.group == t.group && can_prefetch(st, t, next)) {
          load_activations(st, next);
          prefetched = true;
        }
      }
      prev = &t;
      prev_start = t_start;
      if (std::string a = failed_assertions(); !a.empty()) throw DeviceError(a);
    }
    if (prev != nullptr) {
      wait_tile(st, *prev);
      read_outputs(st, *prev);
    }
  } catch (const AcceleratorError& e) {
    unusable_ = recover();
    const std::string after =
        unusable_.empty() ? "" : fmt::format("; the device could not be recovered: {}", unusable_);
    if (std::string a = failed_assertions(); !a.empty())
      throw DeviceError(fmt::format("{}; then: {} ({}, {}){}", a, e.what(), layer_label(layer), st.where.str(), after));
    throw AcceleratorError(fmt::format("{} ({}, {}){}", e.what(), layer_label(layer), st.where.str(), after));
  } catch (const DeviceError& e) {
    invalidate_shadow();
    throw DeviceError(fmt::format("{} ({}, {})", e.what(), layer_label(layer), st.where.str()));
  }
}

}  // namespace bitscale::driver

namespace bitscale::driver {

HwConfig default_hw_config() {
  HwConfig hw;
  hw.rows = static_cast<int>(rm::kDefaultRows);
  hw.cols = static_cast<int>(rm::kDefaultCols);
  hw.act_words = static_cast<int>(rm::kDefaultActWords);
  hw.wgt_words = static_cast<int>(rm::kDefaultWgtWords);
  hw.bias_entries = static_cast<int>(rm::kDefaultBiasEntries);
  hw.acc_bits = static_cast<int>(rm::kAccW);
  return hw;
}

}  // namespace bitscale::driver
