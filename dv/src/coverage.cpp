#include "bitscale/dv/coverage.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace bitscale::dv {

namespace {

// The coverpoints of one mode and their bins, in report order.
struct PointDef {
  const char* name;
  std::vector<std::string> bins;
};

std::vector<PointDef> point_defs(golden::Mode mode) {
  std::vector<std::string> lanes;
  for (int r = 0; r < golden::lanes(mode); ++r) lanes.push_back(std::to_string(r));
  return {
      {"kind", {"fc", "conv", "grouped", "depthwise"}},
      {"k", {"1", "2..64", "65..1024", "1025..90%_of_bank", "near_bank_limit"}},
      {"k_mod_lanes", lanes},
      {"rows", {"one_partial_tile", "whole_tiles", "ragged_last_tile"}},
      {"cols", {"one_partial_tile", "whole_tiles", "ragged_last_tile"}},
      {"shift", {"0", "1..15", "16..29", "30..47"}},
      {"relu", {"off", "on"}},
      {"clamp", {"off", "on"}},
      {"bias", {"none", "typical", "int32_extreme"}},
      {"shifts", {"per_layer", "per_channel"}},
      {"outputs", {"reach_min", "reach_max"}},
      {"tiles", {"1", "2..16", "17+"}},
  };
}

std::size_t mode_index(golden::Mode m) {
  return static_cast<std::size_t>(std::find(golden::kModes.begin(), golden::kModes.end(), m) - golden::kModes.begin());
}

// Rows or columns of a layer against the array size: one tile short of the size, whole tiles,
// or several tiles with a short last one.
std::string tiling_bin(int n, int size) {
  if (n < size) return "one_partial_tile";
  return n % size == 0 ? "whole_tiles" : "ragged_last_tile";
}

}  // namespace

int bank_k_limit(golden::Mode mode, int bank_words) { return bank_words * golden::lanes(mode); }

Coverage::Coverage(CoverGeometry g) : g_(g), sampled_(golden::kModes.size(), false) {
  for (const golden::Mode m : golden::kModes) {
    for (const PointDef& d : point_defs(m)) {
      CoverPoint p{m, d.name, {}};
      for (const std::string& b : d.bins) p.bins.push_back({b, 0});
      points_.push_back(std::move(p));
    }
  }
}

void Coverage::hit(golden::Mode mode, const std::string& point, const std::string& bin) {
  for (CoverPoint& p : points_) {
    if (p.mode != mode || p.name != point) continue;
    for (CoverBin& b : p.bins) {
      if (b.name == bin) {
        ++b.hits;
        return;
      }
    }
  }
  throw std::logic_error(fmt::format("coverage: no bin {} {}: {}", golden::to_string(mode), point, bin));
}

void Coverage::sample(const Case& c, const golden::PackedTensor& reference, const driver::Counters& counters) {
  const golden::Layer& l = c.layer;
  const golden::ConvShape& s = l.shape;
  const golden::Mode m = l.mode;
  sampled_[mode_index(m)] = true;
  hit(m, "kind", std::string(to_string(c.kind)));
  const int k = s.k(), limit = bank_k_limit(m, g_.bank_words);
  hit(m, "k",
      k == 1                    ? "1"
      : k <= 64                 ? "2..64"
      : k <= 1024               ? "65..1024"
      : 10LL * k <= 9LL * limit ? "1025..90%_of_bank"
                                : "near_bank_limit");
  hit(m, "k_mod_lanes", std::to_string(k % golden::lanes(m)));
  hit(m, "rows", tiling_bin(s.out_h() * s.out_w(), g_.rows));
  hit(m, "cols", tiling_bin(s.out_c, g_.cols));
  const auto shift_bin = [](int sh) { return sh == 0 ? "0" : sh <= 15 ? "1..15" : sh <= 29 ? "16..29" : "30..47"; };
  if (l.channel_shift.empty()) {
    hit(m, "shift", shift_bin(l.out.shift));
    hit(m, "shifts", "per_layer");
  } else {
    for (const int sh : l.channel_shift) hit(m, "shift", shift_bin(sh));
    hit(m, "shifts", "per_channel");
  }
  hit(m, "relu", l.out.relu ? "on" : "off");
  hit(m, "clamp", l.out.clamp ? "on" : "off");
  const bool extreme =
      std::any_of(l.bias.begin(), l.bias.end(), [](std::int32_t b) { return b == INT32_MIN || b == INT32_MAX; });
  hit(m, "bias", l.bias.empty() ? "none" : extreme ? "int32_extreme" : "typical");
  const std::vector<std::int32_t> v = reference.values();
  if (std::find(v.begin(), v.end(), golden::min_value(m)) != v.end()) hit(m, "outputs", "reach_min");
  if (std::find(v.begin(), v.end(), golden::max_value(m)) != v.end()) hit(m, "outputs", "reach_max");
  hit(m, "tiles", counters.tiles <= 1 ? "1" : counters.tiles <= 16 ? "2..16" : "17+");
}

std::size_t Coverage::bins() const {
  std::size_t n = 0;
  for (const CoverPoint& p : points_)
    if (sampled_[mode_index(p.mode)]) n += p.bins.size();
  return n;
}

std::size_t Coverage::hit() const {
  std::size_t n = 0;
  for (const CoverPoint& p : points_) {
    if (!sampled_[mode_index(p.mode)]) continue;
    n += static_cast<std::size_t>(
        std::count_if(p.bins.begin(), p.bins.end(), [](const CoverBin& b) { return b.hits > 0; }));
  }
  return n;
}

std::vector<std::string> Coverage::holes() const {
  std::vector<std::string> out;
  for (const CoverPoint& p : points_) {
    if (!sampled_[mode_index(p.mode)]) continue;
    for (const CoverBin& b : p.bins)
      if (b.hits == 0) out.push_back(fmt::format("{} {}: {}", golden::to_string(p.mode), p.name, b.name));
  }
  return out;
}

std::string Coverage::report() const {
  std::string s = fmt::format("coverage: {} of {} bins\n", hit(), bins());
  const std::vector<std::string> h = holes();
  if (!h.empty()) s += fmt::format("holes: {}\n", fmt::join(h, "; "));
  return s;
}

nlohmann::ordered_json Coverage::to_json() const {
  nlohmann::ordered_json j = {{"bins", bins()}, {"hit", hit()}, {"holes", holes()}};
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const CoverPoint& p : points_) {
    if (!sampled_[mode_index(p.mode)]) continue;
    nlohmann::ordered_json bins = nlohmann::ordered_json::object();
    for (const CoverBin& b : p.bins) bins[b.name] = b.hits;
    points.push_back({{"mode", golden::bits(p.mode)}, {"point", p.name}, {"bins", std::move(bins)}});
  }
  j["points"] = std::move(points);
  return j;
}

// ---- bus coverage ----

namespace {

int log2_floor(int n) {
  int b = 0;
  while ((2 << b) <= n) ++b;
  return b;
}

std::vector<std::string> bit_bins(int n_values) {
  std::vector<std::string> v;
  for (int b = 0; b < log2_floor(n_values); ++b) v.push_back(std::to_string(b));
  return v;
}

std::vector<PointDef> bus_point_defs(const BusGeometry& g) {
  const std::vector<std::string> align = {"0", "1", "2", "3", "ends_at_bank_end"};
  return {
      {"irq_en", {"none", "done", "err", "both"}},
      {"irq", {"done", "err"}},
      {"status_w1c", {"done", "err"}},
      {"clear", {"idle", "busy", "with_start"}},
      {"bus_error", {"addr", "busy", "ro", "hazard"}},
      {"start_refused", {"busy", "mode", "k", "shape", "shift", "bias", "approx", "dw"}},
      {"while_busy", {"config_write", "spad_write", "spad_read", "counter_read", "status_read"}},
      {"spad_read", {"act", "wgt", "bias", "out"}},
      {"wait", {"done", "already_set", "err", "timeout"}},
      {"recovery", {"after_bus_error", "after_refused_start"}},
      {"tile_mode", {"16-bit", "8-bit", "4-bit"}},
      {"act_base_align", align},
      {"wgt_base_align", align},
      {"act_base_bit", bit_bins(g.act_words)},
      {"wgt_base_bit", bit_bins(g.wgt_words)},
      {"bias_base_bit", bit_bins(g.bias_entries)},
      {"spad_line_bit", bit_bins(std::max(g.act_words, g.wgt_words) / static_cast<int>(regmap::kLineWords))},
      {"spad_bank_bit", bit_bins(std::max(g.rows, g.cols))},
      // Wide beats (bank ADDR_BANK_ALL) and scratchpad writes that went ahead while a tile ran (issue 9).
      {"xfer", {"wide_write", "wide_read", "overlap_write", "overlap_wide_write"}},
      // STARTs that carried their bases (CTRL.LOAD), and accepted STARTs in the DRAIN or the output
      // cycle of the running tile (docs/ARCHITECTURE.md "A tile, cycle by cycle").
      {"start", {"load", "in_last_read", "in_drain", "in_output"}},
  };
}

const char* error_bin(std::uint64_t code) {
  switch (code) {
    case regmap::kErrStartBusy:
      return "busy";
    case regmap::kErrBadMode:
      return "mode";
    case regmap::kErrBadK:
      return "k";
    case regmap::kErrBadShape:
      return "shape";
    case regmap::kErrBadShift:
      return "shift";
    case regmap::kErrBadBias:
      return "bias";
    case regmap::kErrBadApprox:
      return "approx";
    case regmap::kErrBadDw:
      return "dw";
    case regmap::kErrBusAddr:
      return "addr";
    case regmap::kErrBusBusy:
      return "busy";
    case regmap::kErrBusRo:
      return "ro";
    case regmap::kErrBusHazard:
      return "hazard";
    default:
      return nullptr;
  }
}

bool is_bus_error(std::uint64_t code) {
  return code == regmap::kErrBusAddr || code == regmap::kErrBusBusy || code == regmap::kErrBusRo ||
         code == regmap::kErrBusHazard;
}

bool is_config_reg(std::uint32_t idx) { return idx >= regmap::kRegIRQ_EN && idx < regmap::kRegCntFirst; }

}  // namespace

BusCoverage::BusCoverage(BusGeometry g)
    : g_(g), cfg_(regmap::kRegCntFirst, 0), errors_(16, 0), start_cfg_(regmap::kRegCntFirst, 0) {
  for (const PointDef& d : bus_point_defs(g_)) {
    CoverPoint p{golden::Mode::k16, d.name, {}};
    for (const std::string& b : d.bins) p.bins.push_back({b, 0});
    points_.push_back(std::move(p));
  }
}

void BusCoverage::hit(const std::string& point, const std::string& bin) {
  for (CoverPoint& p : points_) {
    if (p.name != point) continue;
    for (CoverBin& b : p.bins) {
      if (b.name == bin) {
        ++b.hits;
        return;
      }
    }
  }
  throw std::logic_error(fmt::format("bus coverage: no bin {}: {}", point, bin));
}

void BusCoverage::advance(std::uint64_t edges) {
  edge_ += edges;
  if (tile_mode_ < 0 || edge_ < tile_end_) return;
  advance_to_end();
}

void BusCoverage::advance_to_end() {
  last_end_ = tile_end_;
  ++tiles_;
  hit("tile_mode", golden::to_string(golden::kModes[static_cast<std::size_t>(tile_mode_)]));
  if (tile_after_error_ != 0) hit("recovery", tile_after_error_ == 1 ? "after_bus_error" : "after_refused_start");
  tile_mode_ = -1;
  tile_after_error_ = 0;
}

void BusCoverage::on_status(std::uint64_t status) {
  namespace rm = regmap;
  const bool st_busy = rm::kStatusBusyField.get(status) != 0, st_err = rm::kStatusErrField.get(status) != 0;
  const std::uint64_t code = rm::kStatusCodeField.get(status);
  if (pending_start_ && st_busy && !st_err) {  // the START of the edge before began a tile
    // START at edge e0 = edge_ - 2 (this read is edge_ - 1). A tile still running then was in its
    // last read (e0 = its last busy edge but two), DRAIN or output cycle (its last busy edge); it is
    // counted as completed now.
    if (tile_mode_ >= 0) advance_to_end();
    const std::uint64_t e0 = edge_ - 2;
    if (e0 + 3 == last_end_) hit("start", "in_last_read");
    if (e0 + 2 == last_end_) hit("start", "in_drain");
    if (e0 + 1 == last_end_) hit("start", "in_output");
    for (const std::uint32_t r : {rm::kRegACT_BASE, rm::kRegWGT_BASE, rm::kRegBIAS_BASE}) cfg_[r] = start_cfg_[r];
    if (start_load_) hit("start", "load");
    const auto mode = golden::mode_of_code(static_cast<std::uint32_t>(rm::kModeField.get(start_cfg_[rm::kRegMODE])));
    if (mode) {
      const int p = golden::lanes(*mode);
      const std::uint64_t k = start_cfg_[rm::kRegK], kw = (k + static_cast<std::uint64_t>(p) - 1) / p;
      // START at edge e0 = edge_ - 2 (this read is edge_ - 1); BUSY through edge e0 + kw + OVERHEAD.
      tile_end_ = edge_ - 2 + kw + rm::kBusyOverhead + 1;
      tile_mode_ = static_cast<int>(golden::mode_code(*mode));
      tile_after_error_ = last_error_;
      last_error_ = 0;
      const auto base_bins = [&](const char* align, const char* bit, std::uint64_t base, int words) {
        hit(align, base + kw == static_cast<std::uint64_t>(words) ? "ends_at_bank_end" : std::to_string(base % 4));
        for (int b = 0; b < log2_floor(words); ++b)
          if ((base >> b) & 1) hit(bit, std::to_string(b));
      };
      base_bins("act_base_align", "act_base_bit", start_cfg_[rm::kRegACT_BASE], g_.act_words);
      base_bins("wgt_base_align", "wgt_base_bit", start_cfg_[rm::kRegWGT_BASE], g_.wgt_words);
      if (rm::kOutCfgBiasEnField.get(start_cfg_[rm::kRegOUT_CFG]) != 0) {
        const std::uint64_t bb = start_cfg_[rm::kRegBIAS_BASE];
        for (int b = 0; b < log2_floor(g_.bias_entries); ++b)
          if ((bb >> b) & 1) hit("bias_base_bit", std::to_string(b));
      }
    }
  } else if ((pending_start_ || pending_bus_error_) && st_err) {
    const char* bin = error_bin(code);
    if (bin != nullptr && is_bus_error(code) == pending_bus_error_) {
      hit(pending_bus_error_ ? "bus_error" : "start_refused", bin);
      ++errors_[code];
      last_error_ = pending_bus_error_ ? 1 : 2;
    }
  }
  pending_start_ = pending_bus_error_ = false;
  status_ = status;
  status_edge_ = edge_;
}

void BusCoverage::sample_access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata,
                                const driver::BusResponse& rsp) {
  namespace rm = regmap;
  const bool write = op == driver::BusOp::kWrite, busy_now = busy();
  const std::uint32_t region = addr >> rm::kAddrRegionLsb;
  const std::uint32_t bank = (addr >> rm::kAddrBankLsb) & ((1u << (rm::kAddrRegionLsb - rm::kAddrBankLsb)) - 1);
  const std::uint32_t line = addr & ((1u << rm::kAddrBankLsb) - 1);
  const bool status_read = region == rm::kRegionCsr && bank == 0 && line == rm::kRegSTATUS && !write && !rsp.err;
  // An error or START whose STATUS read did not follow is not binned.
  if (!status_read) pending_start_ = pending_bus_error_ = false;
  if (region == rm::kRegionCsr && bank == 0) {
    if (write && is_config_reg(line) && busy_now) hit("while_busy", "config_write");
    if (!write && line >= rm::kRegCntFirst && line <= rm::kRegCntLast && busy_now && !rsp.err)
      hit("while_busy", "counter_read");
    if (status_read && rm::kStatusBusyField.get(rsp.rdata) != 0) hit("while_busy", "status_read");
    if (write && !rsp.err) {
      if (is_config_reg(line)) cfg_[line] = wdata & rm::reg_mask(line);
      if (line == rm::kRegIRQ_EN) {
        static const char* const kIrq[] = {"none", "done", "err", "both"};
        hit("irq_en", kIrq[wdata & 3]);
      } else if (line == rm::kRegSTATUS) {
        if (rm::kStatusDoneField.get(wdata) != 0 && rm::kStatusDoneField.get(status_) != 0) hit("status_w1c", "done");
        if (rm::kStatusErrField.get(wdata) != 0 && rm::kStatusErrField.get(status_) != 0) hit("status_w1c", "err");
        status_ &= ~(wdata & (rm::kStatusDoneField.of(1) | rm::kStatusErrField.of(1)));
      } else if (line == rm::kRegCTRL) {
        const bool start = rm::kCtrlStartField.get(wdata) != 0;
        if (rm::kCtrlClearField.get(wdata) != 0) hit("clear", start ? "with_start" : busy_now ? "busy" : "idle");
        if (start) {
          pending_start_ = true;
          start_cfg_ = cfg_;
          // CTRL.LOAD: the START carries its bases (the registers keep them if it is accepted).
          start_load_ = rm::kCtrlLoadField.get(wdata) != 0;
          if (start_load_) {
            start_cfg_[rm::kRegACT_BASE] = rm::kCtrlActBaseField.get(wdata);
            start_cfg_[rm::kRegWGT_BASE] = rm::kCtrlWgtBaseField.get(wdata);
            start_cfg_[rm::kRegBIAS_BASE] = rm::kCtrlBiasBaseField.get(wdata);
          }
        }
      }
    }
  } else if (region >= rm::kRegionAct && region <= rm::kRegionOut) {
    if (busy_now) hit("while_busy", write ? "spad_write" : "spad_read");
    if (!rsp.err) {
      static const char* const kRegion[] = {"act", "wgt", "bias", "out"};
      const bool wide = bank == rm::kAddrBankAll;
      if (wide) hit("xfer", write ? "wide_write" : "wide_read");
      if (write && busy_now) hit("xfer", wide ? "overlap_wide_write" : "overlap_write");
      if (!write) hit("spad_read", kRegion[region - rm::kRegionAct]);
      for (int b = 0; b < log2_floor(std::max(g_.act_words, g_.wgt_words) / static_cast<int>(rm::kLineWords)); ++b)
        if ((line >> b) & 1) hit("spad_line_bit", std::to_string(b));
      for (int b = 0; b < log2_floor(std::max(g_.rows, g_.cols)) && !wide; ++b)
        if ((bank >> b) & 1) hit("spad_bank_bit", std::to_string(b));
    }
  }
  if (rsp.err) pending_bus_error_ = true;
  advance(1);
  if (status_read) on_status(rsp.rdata);
}

void BusCoverage::sample_wait(std::uint64_t max_cycles, const driver::WaitResult& r) {
  pending_start_ = pending_bus_error_ = false;
  if (r.err) {
    hit("wait", "err");
  } else if (r.done) {
    hit("wait", r.cycles > 0 ? "done" : "already_set");
  } else if (max_cycles > 0) {
    hit("wait", "timeout");
  }
  advance(r.cycles);
}

void BusCoverage::sample_irq(bool irq) {
  namespace rm = regmap;
  // Only right after a STATUS read of an idle device: nothing can have changed since.
  if (!irq || status_edge_ != edge_ || rm::kStatusBusyField.get(status_) != 0) return;
  const std::uint64_t en = cfg_[rm::kRegIRQ_EN];
  if (rm::kStatusDoneField.get(status_) != 0 && rm::kIrqEnDoneField.get(en) != 0) hit("irq", "done");
  if (rm::kStatusErrField.get(status_) != 0 && rm::kIrqEnErrField.get(en) != 0) hit("irq", "err");
}

std::size_t BusCoverage::bins() const {
  std::size_t n = 0;
  for (const CoverPoint& p : points_) n += p.bins.size();
  return n;
}

std::size_t BusCoverage::hit() const {
  std::size_t n = 0;
  for (const CoverPoint& p : points_)
    n += static_cast<std::size_t>(
        std::count_if(p.bins.begin(), p.bins.end(), [](const CoverBin& b) { return b.hits > 0; }));
  return n;
}

std::vector<std::string> BusCoverage::holes() const {
  std::vector<std::string> out;
  for (const CoverPoint& p : points_)
    for (const CoverBin& b : p.bins)
      if (b.hits == 0) out.push_back(fmt::format("{}: {}", p.name, b.name));
  return out;
}

std::string BusCoverage::report() const {
  std::string s = fmt::format("bus coverage: {} of {} bins\n", hit(), bins());
  const std::vector<std::string> h = holes();
  if (!h.empty()) s += fmt::format("holes: {}\n", fmt::join(h, "; "));
  return s;
}

nlohmann::ordered_json BusCoverage::to_json() const {
  nlohmann::ordered_json j = {{"bins", bins()}, {"hit", hit()}, {"holes", holes()}};
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const CoverPoint& p : points_) {
    nlohmann::ordered_json bins = nlohmann::ordered_json::object();
    for (const CoverBin& b : p.bins) bins[b.name] = b.hits;
    points.push_back({{"point", p.name}, {"bins", std::move(bins)}});
  }
  j["points"] = std::move(points);
  return j;
}

}  // namespace bitscale::dv
