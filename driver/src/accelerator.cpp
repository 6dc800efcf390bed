// The portable driver: tiles conv / fully-connected layers onto the array through the
// Device contract (docs/ARCHITECTURE.md, docs/NUMERICS.md).
//
// Every bus access is one clock edge of the device (microseconds on the RTL back-end),
// so the driver minimises them:
//   - weights stay resident: as many n-tiles (Cols output channels each) as fit the weight
//     and bias banks are loaded once and reused for every m-tile (Rows output pixels);
//   - when the weights need several chunks and all m-tiles fit the activation banks, the
//     activations stay resident too (loaded during the first chunk only);
//   - configuration registers are shadowed: only values that change are written;
//   - the n-tiles of an m-tile are visited in serpentine order (fewer base changes);
//   - only the scratchpad lines that hold data are written or read;
//   - STATUS is read only to explain an error (wait() reports done/err).
#include "bitscale/driver/accelerator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::driver {
namespace {

constexpr int kWordsPerLine = 4;               // 16-bit words per 64-bit scratchpad line
constexpr int kBiasPerLine = 2;                // 32-bit bias entries per line
constexpr std::uint64_t kField16Max = 0xFFFF;  // K, ACT_BASE, WGT_BASE, BIAS_BASE fields
constexpr std::uint32_t kFirstCfgReg = regmap::kRegIRQ_EN;
constexpr std::uint32_t kLastCfgReg = regmap::kRegCLAMP_HI;

constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }
constexpr std::uint64_t bit(std::uint32_t b) { return std::uint64_t{1} << b; }

std::string region_name(std::uint32_t region) {
  switch (region) {
    case regmap::kRegionCsr:
      return "CSR";
    case regmap::kRegionAct:
      return "ACT";
    case regmap::kRegionWgt:
      return "WGT";
    case regmap::kRegionBias:
      return "BIAS";
    case regmap::kRegionOut:
      return "OUT";
    default:
      return fmt::format("region {}", region);
  }
}

std::string reg_label(std::uint32_t index) {
  const std::string_view name = regmap::reg_name(index);
  return name.empty() ? fmt::format("register index {}", index) : fmt::format("register {}", name);
}

/// Four consecutive 16-bit words as one scratchpad line (word 0 in the low bits).
std::uint64_t line_of(const std::uint16_t* w) {
  return std::uint64_t{w[0]} | (std::uint64_t{w[1]} << 16) | (std::uint64_t{w[2]} << 32) | (std::uint64_t{w[3]} << 48);
}

std::string layer_label(const golden::Layer& layer) {
  return fmt::format("layer [{}; {}]", layer.shape.to_string(), golden::to_string(layer.mode));
}

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
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Counters

std::uint64_t Counters::macs(golden::Mode m) const {
  switch (m) {
    case golden::Mode::k16:
      return mac16;
    case golden::Mode::k8:
      return mac8;
    case golden::Mode::k4:
      return mac4;
  }
  return 0;
}

Counters operator-(const Counters& a, const Counters& b) {
  Counters d;
  d.cycles = a.cycles - b.cycles;
  d.busy = a.busy - b.busy;
  d.array = a.array - b.array;
  d.mac16 = a.mac16 - b.mac16;
  d.mac8 = a.mac8 - b.mac8;
  d.mac4 = a.mac4 - b.mac4;
  d.spad_rd = a.spad_rd - b.spad_rd;
  d.spad_wr = a.spad_wr - b.spad_wr;
  d.tiles = a.tiles - b.tiles;
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
}

Device& Accelerator::device() {
  if (dev_ == nullptr) throw std::logic_error("the functional golden back-end has no device");
  return *dev_;
}

std::string Accelerator::backend() const {
  if (dev_ == nullptr) return "golden";
  return dev_->name() == "golden" ? "golden-device" : std::string(dev_->name());
}

Accelerator::Accelerator(Device& dev) : dev_(&dev) {
  const std::uint64_t id = read_reg(regmap::kRegID);
  if (id != regmap::kIdValue) {
    throw AcceleratorError(fmt::format("device '{}' is not a bitscale accelerator: ID reads 0x{:X}, expected 0x{:X}",
                                       dev_->name(), id, regmap::kIdValue));
  }
  const std::uint64_t cfg = read_reg(regmap::kRegHWCFG);
  const std::uint64_t cfg2 = read_reg(regmap::kRegHWCFG2);
  const auto field = [](std::uint64_t v, int lsb) { return static_cast<int>((v >> lsb) & 0xFF); };
  const int act_log2 = field(cfg, 16);
  const int wgt_log2 = field(cfg, 24);
  hw_.rows = field(cfg, 0);
  hw_.cols = field(cfg, 8);
  hw_.bias_entries = static_cast<int>(cfg2 & 0xFFFF);
  hw_.acc_bits = field(cfg2, 16);
  if (hw_.rows < 1 || hw_.cols < kWordsPerLine || hw_.cols % kWordsPerLine != 0 || act_log2 < 2 || act_log2 > 16 ||
      wgt_log2 < 2 || wgt_log2 > 16 || hw_.acc_bits < 1 || hw_.acc_bits > 64) {
    throw AcceleratorError(fmt::format("device '{}' reports an impossible geometry: HWCFG = 0x{:X}, HWCFG2 = 0x{:X}",
                                       dev_->name(), cfg, cfg2));
  }
  hw_.act_words = 1 << act_log2;
  hw_.wgt_words = 1 << wgt_log2;
}

std::string Accelerator::last_error_text() {
  const BusResponse st = access(false, bus_addr(regmap::kRegionCsr, 0, regmap::kRegSTATUS), 0);
  if (st.err) return "STATUS unreadable";
  const auto code = static_cast<std::uint32_t>((st.rdata >> regmap::kStatusCodeLsb) & 0xFF);
  return std::string(regmap::err_text(code));
}

void Accelerator::write_reg(std::uint32_t index, std::uint64_t value) {
  const BusResponse r = access(true, bus_addr(regmap::kRegionCsr, 0, index), value);
  if (r.err) {
    invalidate_shadow();
    throw AcceleratorError(
        fmt::format("bus error writing {} = 0x{:X}: {}", reg_label(index), value, last_error_text()));
  }
  if (index >= kFirstCfgReg && index <= kLastCfgReg) {
    shadow_[index] = value;
    shadow_valid_ |= 1u << index;
  }
}

std::uint64_t Accelerator::read_reg(std::uint32_t index) {
  const BusResponse r = access(false, bus_addr(regmap::kRegionCsr, 0, index), 0);
  if (r.err) throw AcceleratorError(fmt::format("bus error reading {}: {}", reg_label(index), last_error_text()));
  return r.rdata;
}

void Accelerator::write_cfg(std::uint32_t index, std::uint64_t value) {
  if ((shadow_valid_ >> index & 1u) != 0 && shadow_[index] == value) return;
  write_reg(index, value);
}

void Accelerator::write_line(std::uint32_t region, std::uint32_t bank, std::uint32_t line, std::uint64_t data) {
  const BusResponse r = access(true, bus_addr(region, bank, line), data);
  if (r.err) {
    throw AcceleratorError(fmt::format("bus error writing {} scratchpad bank {} line {}: {}", region_name(region), bank,
                                       line, last_error_text()));
  }
}

std::uint64_t Accelerator::read_line(std::uint32_t region, std::uint32_t bank, std::uint32_t line) {
  const BusResponse r = access(false, bus_addr(region, bank, line), 0);
  if (r.err) {
    throw AcceleratorError(fmt::format("bus error reading {} scratchpad bank {} line {}: {}", region_name(region), bank,
                                       line, last_error_text()));
  }
  return r.rdata;
}

// ---------------------------------------------------------------------------------------
// Bus access: the device, or the functional back-end's counter model of it

namespace {

void add(Counters& a, const Counters& b) {
  a.cycles += b.cycles;
  a.busy += b.busy;
  a.array += b.array;
  a.mac16 += b.mac16;
  a.mac8 += b.mac8;
  a.mac4 += b.mac4;
  a.spad_rd += b.spad_rd;
  a.spad_wr += b.spad_wr;
  a.tiles += b.tiles;
}

int log2_exact(int v) {
  int l = 0;
  while ((1 << l) < v) ++l;
  return l;
}

}  // namespace

BusResponse Accelerator::access(bool write, std::uint32_t addr, std::uint64_t wdata) {
  if (dev_ != nullptr) return dev_->access(write, addr, wdata);
  // Counter model of docs/ARCHITECTURE.md: every access is one edge; a counter read returns
  // the value from before its edge; CLEAR drops the increments of its edge.
  namespace rm = regmap;
  BusResponse r;
  Counters inc;
  inc.cycles = 1;
  const std::uint32_t region = addr >> rm::kAddrRegionLsb;
  const std::uint32_t index = addr & 0xFFFu;
  if (region != rm::kRegionCsr) {
    (write ? inc.spad_wr : inc.spad_rd) += 4;
  } else if (!write) {
    const std::uint64_t c[] = {model_.cycles, model_.busy,    model_.array,   model_.mac16, model_.mac8,
                               model_.mac4,   model_.spad_rd, model_.spad_wr, model_.tiles};
    if (index >= rm::kRegCNT_CYCLES && index <= rm::kRegCNT_TILES) {
      r.rdata = c[index - rm::kRegCNT_CYCLES];
    } else if (index == rm::kRegID) {
      r.rdata = rm::kIdValue;
    } else if (index == rm::kRegHWCFG) {
      r.rdata = static_cast<std::uint64_t>(hw_.rows) | static_cast<std::uint64_t>(hw_.cols) << 8 |
                static_cast<std::uint64_t>(log2_exact(hw_.act_words)) << 16 |
                static_cast<std::uint64_t>(log2_exact(hw_.wgt_words)) << 24;
    } else if (index == rm::kRegHWCFG2) {
      r.rdata = static_cast<std::uint64_t>(hw_.bias_entries) | static_cast<std::uint64_t>(hw_.acc_bits) << 16;
    } else if (index < kShadowRegs && (shadow_valid_ >> index & 1u) != 0) {
      r.rdata = shadow_[index];
    }
  } else if (index == rm::kRegCTRL) {
    if ((wdata & bit(rm::kCtrlStart)) != 0) {
      tile_pending_ = true;
      if ((shadow_[rm::kRegOUT_CFG] & bit(rm::kOutCfgBiasEn)) != 0) inc.spad_rd += 2 * shadow_[rm::kRegCOLS_ACT];
    }
    if ((wdata & bit(rm::kCtrlClear)) != 0) {
      model_ = Counters{};
      return r;
    }
  }
  add(model_, inc);
  return r;
}

WaitResult Accelerator::wait_tile(std::uint64_t limit) {
  if (dev_ != nullptr) return dev_->wait(limit);
  namespace rm = regmap;
  WaitResult w;
  if (!tile_pending_) {
    w.cycles = limit;  // nothing running: the watchdog would expire
    return w;
  }
  tile_pending_ = false;
  const auto mode = static_cast<golden::Mode>(shadow_[rm::kRegMODE]);
  const std::uint64_t p = static_cast<std::uint64_t>(golden::lanes(mode));
  const std::uint64_t k = shadow_[rm::kRegK], rows = shadow_[rm::kRegROWS_ACT], cols = shadow_[rm::kRegCOLS_ACT];
  const std::uint64_t kw = (k + p - 1) / p;
  Counters inc;
  inc.cycles = inc.busy = kw + rm::kBusyOverhead;
  inc.array = kw;
  (mode == golden::Mode::k16 ? inc.mac16 : mode == golden::Mode::k8 ? inc.mac8 : inc.mac4) = rows * cols * k;
  inc.spad_rd = kw * (rows + cols);
  inc.spad_wr = rows * ((cols + p - 1) / p);
  inc.tiles = 1;
  add(model_, inc);
  w.cycles = inc.cycles;
  w.done = true;
  return w;
}

void Accelerator::count_lines(bool write, std::uint64_t n) {
  model_.cycles += n;
  (write ? model_.spad_wr : model_.spad_rd) += 4 * n;
}

// ---------------------------------------------------------------------------------------
// Counters

Counters Accelerator::counters() {
  Counters c;
  c.cycles = read_reg(regmap::kRegCNT_CYCLES);
  c.busy = read_reg(regmap::kRegCNT_BUSY);
  c.array = read_reg(regmap::kRegCNT_ARRAY);
  c.mac16 = read_reg(regmap::kRegCNT_MAC16);
  c.mac8 = read_reg(regmap::kRegCNT_MAC8);
  c.mac4 = read_reg(regmap::kRegCNT_MAC4);
  c.spad_rd = read_reg(regmap::kRegCNT_SPAD_RD);
  c.spad_wr = read_reg(regmap::kRegCNT_SPAD_WR);
  c.tiles = read_reg(regmap::kRegCNT_TILES);
  return c;
}

void Accelerator::clear_counters() { write_reg(regmap::kRegCTRL, bit(regmap::kCtrlClear)); }

// ---------------------------------------------------------------------------------------
// prepare

PreparedLayer Accelerator::prepare(const golden::Layer& layer) const {
  layer.validate();
  const golden::ConvShape& s = layer.shape;
  const int p = golden::lanes(layer.mode);
  const int k = s.k();
  const int kw = ceil_div(k, p);
  const int max_words = std::min(hw_.act_words, hw_.wgt_words);
  if (kw > max_words || static_cast<std::uint64_t>(k) > kField16Max) {
    const std::uint64_t k_limit = std::min<std::uint64_t>(static_cast<std::uint64_t>(max_words) * p, kField16Max);
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
// run

golden::PackedTensor Accelerator::run(const PreparedLayer& pl, const golden::PackedTensor& in) {
  const golden::Layer& layer = pl.layer;
  const golden::ConvShape& s = layer.shape;
  const golden::Mode mode = layer.mode;
  const int p = golden::lanes(mode);

  // --- checks (the prepared layer may come from another device or be hand-made) ---
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

  // --- geometry ---
  const int rows_hw = hw_.rows, cols_hw = hw_.cols;
  const int k = pl.k, kw = pl.kw, kwl = pl.kw_line;
  const int lines_per_vec = kwl / kWordsPerLine;
  const int out_h = s.out_h(), out_w = s.out_w();
  const int m_total = out_h * out_w;
  const int groups = s.groups;
  const int n_group = s.out_c / groups;  // output channels per group
  const int c_group = s.in_c / groups;   // input channels per group
  const int m_tiles = ceil_div(m_total, rows_hw);
  const bool has_bias = !layer.bias.empty();
  const int base_slots = static_cast<int>(kField16Max / static_cast<std::uint64_t>(kwl)) + 1;  // base <= 0xFFFF

  // n-tiles of a group: up to cols_hw of its channels sharing one shift (SHIFT is per tile).
  // Without per-channel shifts they are the consecutive ranges n0 .. n0 + cols_hw - 1; with
  // them, the group's channels are ordered by shift (stable) and cut into runs of one shift.
  struct NTile {
    int pos, cols, shift;  ///< first position in `order`, channel count, SHIFT
  };
  std::vector<int> order(static_cast<std::size_t>(n_group));
  std::vector<NTile> ntiles;
  const auto plan_group = [&](int g) {
    std::iota(order.begin(), order.end(), 0);
    const auto shift_of = [&](int c) { return layer.shift(g * n_group + c); };
    if (!layer.channel_shift.empty()) {
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return shift_of(a) < shift_of(b); });
    }
    ntiles.clear();
    for (int i = 0; i < n_group;) {
      const int sh = shift_of(order[static_cast<std::size_t>(i)]);
      int j = i + 1;
      while (j < n_group && j - i < cols_hw && shift_of(order[static_cast<std::size_t>(j)]) == sh) ++j;
      ntiles.push_back({i, j - i, sh});
      i = j;
    }
  };

  // --- per-layer register values ---
  std::uint64_t out_cfg = 0;
  if (has_bias) out_cfg |= bit(regmap::kOutCfgBiasEn);
  if (layer.out.relu) out_cfg |= bit(regmap::kOutCfgRelu);
  if (layer.out.clamp) out_cfg |= bit(regmap::kOutCfgClampEn);
  // The hardware clamps after saturation; a CLAMP_HI outside the mode's range would leak
  // out-of-range values, so saturate it (same result as the spec's min(sat(y), c)).
  const std::int32_t clamp_hi =
      std::clamp<std::int32_t>(layer.out.clamp_hi, golden::min_value(mode), golden::max_value(mode));

  const bool functional = dev_ == nullptr;
  // The functional back-end computes the data with the reference kernels; the loops below
  // then only keep the counters.
  const std::vector<std::int32_t> in_values = functional ? std::vector<std::int32_t>{} : in.values();
  golden::PackedTensor out = functional ? golden::conv2d(layer, in) : golden::PackedTensor(out_h, out_w, s.out_c, mode);
  const std::size_t out_wpp = out.words_per_pixel();

  std::vector<std::int32_t> kvec(static_cast<std::size_t>(k));
  std::vector<std::uint16_t> words(static_cast<std::size_t>(kwl));

  // im2col row of output pixel m for group g, packed into `words` (padding words zero).
  const auto build_row = [&](int g, int m) {
    const int oy = m / out_w, ox = m % out_w;
    std::size_t pos = 0;
    for (int ky = 0; ky < s.k_h; ++ky) {
      const int iy = oy * s.stride_h + ky - s.pad_top;
      for (int kx = 0; kx < s.k_w; ++kx) {
        const int ix = ox * s.stride_w + kx - s.pad_left;
        if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) {
          std::fill_n(kvec.begin() + static_cast<std::ptrdiff_t>(pos), c_group, 0);
        } else {
          const auto src =
              in_values.begin() + static_cast<std::ptrdiff_t>((static_cast<std::size_t>(iy) * s.in_w + ix) * s.in_c +
                                                              static_cast<std::size_t>(g) * c_group);
          std::copy_n(src, c_group, kvec.begin() + static_cast<std::ptrdiff_t>(pos));
        }
        pos += static_cast<std::size_t>(c_group);
      }
    }
    std::fill(words.begin(), words.end(), 0);
    golden::pack(kvec, mode, std::span<std::uint16_t>(words).first(static_cast<std::size_t>(kw)));
  };

  Where where;
  where.groups = groups;
  where.m_tiles = m_tiles;
  if (!layer.channel_shift.empty()) where.order = &order;
  invalidate_shadow();  // the device may have been used by someone else since the last run
  try {
    write_cfg(regmap::kRegMODE, static_cast<std::uint64_t>(mode));
    write_cfg(regmap::kRegK, static_cast<std::uint64_t>(k));
    write_cfg(regmap::kRegOUT_CFG, out_cfg);
    if (layer.out.clamp) write_cfg(regmap::kRegCLAMP_HI, static_cast<std::uint16_t>(clamp_hi));

    for (int g = 0; g < groups; ++g) {
      where.group = g;
      plan_group(g);
      const int n_tiles = static_cast<int>(ntiles.size());
      where.n_tiles = n_tiles;
      // n-tiles whose weights (and biases) are resident at once.
      int chunk = std::min({n_tiles, hw_.wgt_words / kwl, base_slots});
      if (has_bias) chunk = std::min(chunk, hw_.bias_entries);
      const int n_chunks = ceil_div(n_tiles, chunk);
      // With several weight chunks, keep all m-tiles' activations resident if they fit.
      const bool act_resident = n_chunks > 1 && m_tiles <= std::min(hw_.act_words / kwl, base_slots);
      for (int nt0 = 0; nt0 < n_tiles; nt0 += chunk) {
        const int cnt = std::min(chunk, n_tiles - nt0);
        const bool load_acts = !act_resident || nt0 == 0;

        // --- weights and biases of the chunk: n-tile j at WGT_BASE j*kwl, BIAS_BASE j ---
        where.phase = "loading weights";
        where.m0 = -1;
        for (int j = 0; j < cnt; ++j) {
          const NTile& t = ntiles[static_cast<std::size_t>(nt0 + j)];
          const int n0 = t.pos;
          const int cols = t.cols;
          where.n_tile = nt0 + j;
          where.n0 = n0;
          where.cols = cols;
          if (functional) {
            count_lines(true, static_cast<std::uint64_t>(cols) * lines_per_vec);
            continue;
          }
          for (int c = 0; c < cols; ++c) {
            const std::size_t ch = static_cast<std::size_t>(g) * n_group +
                                   static_cast<std::size_t>(order[static_cast<std::size_t>(n0 + c)]);
            const std::uint16_t* src = pl.wpacked.data() + ch * kwl;
            const int line0 = j * lines_per_vec;
            for (int l = 0; l < lines_per_vec; ++l) {
              write_line(regmap::kRegionWgt, c, line0 + l,
                         line_of(src + static_cast<std::ptrdiff_t>(l) * kWordsPerLine));
            }
          }
        }
        if (has_bias) {
          where.phase = "loading biases";
          where.n0 = -1;
          // Column c of chunk tile j holds a channel when c < its cols.
          const auto has = [&](int j, int c) { return j < cnt && c < ntiles[static_cast<std::size_t>(nt0 + j)].cols; };
          const auto entry = [&](int j, int c) -> std::uint64_t {
            if (!has(j, c)) return 0;
            const int n = order[static_cast<std::size_t>(ntiles[static_cast<std::size_t>(nt0 + j)].pos + c)];
            return static_cast<std::uint32_t>(layer.bias[static_cast<std::size_t>(g) * n_group + n]);
          };
          for (int c = 0; c < cols_hw; ++c) {
            for (int j = 0; j < cnt; j += kBiasPerLine) {
              if (!has(j, c) && !has(j + 1, c)) continue;  // no channel in this column of the two tiles
              write_line(regmap::kRegionBias, c, j / kBiasPerLine, entry(j, c) | (entry(j + 1, c) << 32));
            }
          }
        }

        for (int mt = 0; mt < m_tiles; ++mt) {
          const int m0 = mt * rows_hw;
          const int rows = std::min(rows_hw, m_total - m0);
          const int act_base = act_resident ? mt * kwl : 0;
          where.m_tile = mt;
          where.m0 = m0;
          where.rows = rows;
          where.n0 = -1;

          // --- activations: im2col rows, one per array row, only the lines holding data ---
          if (load_acts) {
            where.phase = "loading activations";
            const int line0 = act_base / kWordsPerLine;
            if (functional) count_lines(true, static_cast<std::uint64_t>(rows) * lines_per_vec);
            for (int r = 0; r < rows && !functional; ++r) {
              build_row(g, m0 + r);
              for (int l = 0; l < lines_per_vec; ++l) {
                write_line(regmap::kRegionAct, r, line0 + l,
                           line_of(words.data() + static_cast<std::ptrdiff_t>(l) * kWordsPerLine));
              }
            }
          }

          // --- tiles, serpentine over the chunk's n-tiles ---
          for (int jj = 0; jj < cnt; ++jj) {
            const int j = (mt % 2 == 0) ? jj : cnt - 1 - jj;
            const NTile& t = ntiles[static_cast<std::size_t>(nt0 + j)];
            const int n0 = t.pos;
            const int cols = t.cols;
            where.n_tile = nt0 + j;
            where.n0 = n0;
            where.cols = cols;
            where.phase = "starting a tile";
            write_cfg(regmap::kRegROWS_ACT, static_cast<std::uint64_t>(rows));
            write_cfg(regmap::kRegCOLS_ACT, static_cast<std::uint64_t>(cols));
            write_cfg(regmap::kRegACT_BASE, static_cast<std::uint64_t>(act_base));
            write_cfg(regmap::kRegWGT_BASE, static_cast<std::uint64_t>(j) * kwl);
            if (has_bias) write_cfg(regmap::kRegBIAS_BASE, static_cast<std::uint64_t>(j));
            write_cfg(regmap::kRegSHIFT, static_cast<std::uint64_t>(t.shift));
            write_reg(regmap::kRegCTRL, bit(regmap::kCtrlStart));

            where.phase = "waiting for a tile";
            const std::uint64_t limit = static_cast<std::uint64_t>(kw) + regmap::kBusyOverhead + watchdog_slack_;
            const WaitResult wr = wait_tile(limit);
            if (wr.err) throw AcceleratorError(fmt::format("tile failed: {}", last_error_text()));
            if (!wr.done) {
              throw AcceleratorError(fmt::format("watchdog: tile not done after {} cycles (a tile takes {})", wr.cycles,
                                                 kw + regmap::kBusyOverhead));
            }

            // --- outputs: rows 0..rows-1, only the lines holding the cols values ---
            where.phase = "reading outputs";
            const int out_words = ceil_div(cols, p);
            const int out_lines = ceil_div(out_words, kWordsPerLine);
            const int ch0 = g * n_group;
            if (functional) count_lines(false, static_cast<std::uint64_t>(rows) * out_lines);
            for (int r = 0; r < rows && !functional; ++r) {
              const std::size_t pix = static_cast<std::size_t>(m0 + r) * out_wpp;
              for (int l = 0; l < out_lines; ++l) {
                const std::uint64_t line = read_line(regmap::kRegionOut, r, l);
                const int c_end = std::min(cols, (l + 1) * kWordsPerLine * p);
                for (int c = l * kWordsPerLine * p; c < c_end; ++c) {
                  const auto word = static_cast<std::uint16_t>(line >> (16 * ((c / p) % kWordsPerLine)));
                  const std::int32_t v = golden::get_lane(word, c % p, mode);
                  const int ch = ch0 + order[static_cast<std::size_t>(n0 + c)];
                  std::uint16_t& dst = out.words[pix + static_cast<std::size_t>(ch / p)];
                  dst = golden::set_lane(dst, ch % p, mode, v);
                }
              }
            }
          }
        }
      }
    }
  } catch (const AcceleratorError& e) {
    invalidate_shadow();
    throw AcceleratorError(fmt::format("{} ({}, {})", e.what(), layer_label(layer), where.str()));
  } catch (const DeviceError& e) {
    invalidate_shadow();
    throw DeviceError(fmt::format("{} ({}, {})", e.what(), layer_label(layer), where.str()));
  }
  return out;
}

}  // namespace bitscale::driver

namespace bitscale::driver {

HwConfig default_hw_config() {
  const golden::DeviceParams p;  // the defaults are those of the verilated bsa_top
  HwConfig hw;
  hw.rows = p.rows;
  hw.cols = p.cols;
  hw.act_words = p.act_words;
  hw.wgt_words = p.wgt_words;
  hw.bias_entries = p.bias_entries;
  hw.acc_bits = golden::kAccBits;
  return hw;
}

}  // namespace bitscale::driver
