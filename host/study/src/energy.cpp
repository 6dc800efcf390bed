#include "bitscale/study/energy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "bitscale/golden/numeric.hpp"

namespace bitscale::study {

namespace {

// Energy per MAC (pJ) from a power (mW) at a throughput (GOPS), one MAC = 2 operations.
double mac_pj(double power_mw, double gops) { return 2.0 * power_mw * 1e-3 / (gops * 1e9) * 1e12; }

// Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm:
// 64-bit SRAM reads of 10 pJ (8 KB) and 20 pJ (32 KB), i.e. ~ sqrt(size); a 16 KB bank:
// 10 * sqrt(2) pJ per 64 bits, a quarter of it per 16-bit word. DRAM: 1.3 nJ per 64 bits
// (the low end of his 1.3-2.6 nJ), per byte / 8.
const double kSpadWordPj = 10.0 * std::sqrt(2.0) / 4.0;
constexpr double kDramBytePj = 1300.0 / 8.0;

// The keys of a table file, in the order of the error messages.
constexpr std::array<const char*, 11> kKeys{
    "mac16_pj", "mac8_pj",      "mac4_pj",       "power16_mw",          "power8_mw", "power4_mw",
    "gops",     "spad_read_pj", "spad_write_pj", "offchip_pj_per_byte", "blk_share"};

}  // namespace

std::string_view to_string(EnergyModel m) { return m == EnergyModel::kMac ? "mac" : "memory"; }

EnergyModel parse_energy_model(std::string_view name) {
  for (const EnergyModel m : {EnergyModel::kMac, EnergyModel::kMemory}) {
    if (name == to_string(m)) return m;
  }
  throw std::invalid_argument(fmt::format("energy model '{}': expected 'mac' or 'memory'", name));
}

EnergyTable EnergyTable::envision() {
  EnergyTable t;
  t.source = "Envision (ISSCC 2017) at 76 GOPS: 16-bit 290 mW, 8-bit 56 mW, 4-bit 7.6 mW";
  t.pj_per_mac16 = mac_pj(290.0, 76.0);
  t.pj_per_mac8 = mac_pj(56.0, 76.0);
  t.pj_per_mac4 = mac_pj(7.6, 76.0);
  return t;
}

EnergyTable EnergyTable::envision_with_memory() {
  EnergyTable t = envision();
  t.source += fmt::format(
      "; memories after Horowitz (ISSCC 2014, 45 nm): scratchpad {:.2f} pJ per 16-bit word, DRAM {:.1f} pJ per byte",
      kSpadWordPj, kDramBytePj);
  t.pj_per_spad_read = kSpadWordPj;
  t.pj_per_spad_write = kSpadWordPj;
  t.pj_per_offchip_byte = kDramBytePj;
  return t;
}

EnergyTable EnergyTable::load(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(fmt::format("energy table '{}': cannot open", path));
  std::map<std::string, double> kv;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream ss(line);
    std::string key;
    if (!(ss >> key)) continue;
    double v = 0;
    std::string extra;
    if (!(ss >> v) || (ss >> extra) || !std::isfinite(v) || v < 0) {
      throw std::runtime_error(
          fmt::format("energy table '{}' line {}: expected '<key> <non-negative number>'", path, n));
    }
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known) throw std::runtime_error(fmt::format("energy table '{}' line {}: unknown key '{}'", path, n, key));
    if (!kv.emplace(key, v).second)
      throw std::runtime_error(fmt::format("energy table '{}' line {}: '{}' given twice", path, n, key));
  }
  if (kv.empty()) throw std::runtime_error(fmt::format("energy table '{}': empty (no '<key> <value>' line)", path));
  const auto has = [&](const char* k) { return kv.count(k) != 0; };
  const auto value = [&](const char* k) { return has(k) ? kv.at(k) : 0.0; };
  const bool by_power = has("power16_mw") || has("power8_mw") || has("power4_mw") || has("gops");
  const bool by_mac = has("mac16_pj") || has("mac8_pj") || has("mac4_pj");
  if (by_power && by_mac) {
    throw std::runtime_error(fmt::format(
        "energy table '{}': give the MAC energies either as mac*_pj or as power*_mw with gops, not both", path));
  }
  EnergyTable t;
  t.source = path;
  // A MAC energy of 0 is named by the key the file uses for it.
  std::array<const char*, 3> mac_keys{"mac16_pj", "mac8_pj", "mac4_pj"};
  if (by_power) {
    if (!(value("gops") > 0))
      throw std::runtime_error(fmt::format("energy table '{}': power entries need a positive 'gops'", path));
    mac_keys = {"power16_mw", "power8_mw", "power4_mw"};
    t.pj_per_mac16 = mac_pj(value("power16_mw"), value("gops"));
    t.pj_per_mac8 = mac_pj(value("power8_mw"), value("gops"));
    t.pj_per_mac4 = mac_pj(value("power4_mw"), value("gops"));
  } else {
    t.pj_per_mac16 = value("mac16_pj");
    t.pj_per_mac8 = value("mac8_pj");
    t.pj_per_mac4 = value("mac4_pj");
  }
  t.pj_per_spad_read = value("spad_read_pj");
  t.pj_per_spad_write = value("spad_write_pj");
  t.pj_per_offchip_byte = value("offchip_pj_per_byte");
  if (has("blk_share")) {
    t.blk_share = value("blk_share");
    if (t.blk_share > 1)
      throw std::runtime_error(
          fmt::format("energy table '{}': 'blk_share' is {} (a share: 0 .. 1)", path, t.blk_share));
  }
  const double macs[] = {t.pj_per_mac16, t.pj_per_mac8, t.pj_per_mac4};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!(macs[i] > 0)) {
      throw std::runtime_error(fmt::format(
          "energy table '{}': '{}' is {} (every MAC costs energy; the 16-bit one is the reference of the savings)",
          path, mac_keys[i], has(mac_keys[i]) ? "0" : "missing"));
    }
  }
  t.validate();
  return t;
}

EnergyTable EnergyTable::mac_only() const {
  EnergyTable t = *this;
  const bool dropped = pj_per_spad_read != 0 || pj_per_spad_write != 0 || pj_per_offchip_byte != 0;
  t.pj_per_spad_read = t.pj_per_spad_write = t.pj_per_offchip_byte = 0;
  if (dropped) t.source += " (MAC terms only)";
  return t;
}

void EnergyTable::validate() const {
  const std::pair<const char*, double> terms[] = {{"mac16_pj", pj_per_mac16},
                                                  {"mac8_pj", pj_per_mac8},
                                                  {"mac4_pj", pj_per_mac4},
                                                  {"spad_read_pj", pj_per_spad_read},
                                                  {"spad_write_pj", pj_per_spad_write},
                                                  {"offchip_pj_per_byte", pj_per_offchip_byte}};
  for (const auto& [key, v] : terms) {
    if (!std::isfinite(v) || v < 0)
      throw std::runtime_error(fmt::format("energy table '{}': '{}' is {} (must be >= 0)", source, key, v));
  }
  if (!std::isfinite(blk_share) || blk_share < 0 || blk_share > 1)
    throw std::runtime_error(fmt::format("energy table '{}': 'blk_share' is {} (a share: 0 .. 1)", source, blk_share));
  for (std::size_t i = 0; i < 3; ++i) {
    if (terms[i].second == 0) {
      throw std::runtime_error(fmt::format(
          "energy table '{}': '{}' is 0 (every MAC costs energy; the 16-bit one is the reference of the savings)",
          source, terms[i].first));
    }
  }
}

EnergyTable energy_table(const std::string& path, EnergyModel model) {
  EnergyTable t = !path.empty()                   ? EnergyTable::load(path)
                  : model == EnergyModel::kMemory ? EnergyTable::envision_with_memory()
                                                  : EnergyTable::envision();
  if (model == EnergyModel::kMac) t = t.mac_only();
  t.validate();
  return t;
}

bool has_mode_blocks(const driver::Counters& c) { return c.blk16 != 0 || c.blk8 != 0 || c.blk4 != 0; }

std::uint64_t skipped_blocks(const driver::Counters& c, golden::Mode m) {
  if (c.blk16 + c.blk8 + c.blk4 != c.blk) {
    throw std::invalid_argument(
        fmt::format("inconsistent counters: CNT_BLK16 + CNT_BLK8 + CNT_BLK4 = {} + {} + {} but CNT_BLK = {}", c.blk16,
                    c.blk8, c.blk4, c.blk));
  }
  const auto nb = static_cast<std::uint64_t>(golden::blocks(m));
  const std::uint64_t all = c.macs(m) * nb * nb;
  const std::uint64_t done = m == golden::Mode::k16 ? c.blk16 : m == golden::Mode::k8 ? c.blk8 : c.blk4;
  if (done > all) {
    throw std::invalid_argument(
        fmt::format("inconsistent counters: {} block products computed in {}-bit mode (CNT_BLK{}) but its {} MACs "
                    "have only {}",
                    done, golden::bits(m), golden::bits(m), c.macs(m), all));
  }
  return all - done;
}

std::uint64_t skipped_blocks(const driver::Counters& c) {
  if (has_mode_blocks(c)) {
    std::uint64_t s = 0;
    for (const golden::Mode m : {golden::Mode::k16, golden::Mode::k8, golden::Mode::k4}) s += skipped_blocks(c, m);
    return s;
  }
  // CNT_BLK = 0: records made before the counter existed (exact), unless zero-block gating skipped
  // every block product (CNT_ZSKIP counts them; CNT_BLK counts only those computed).
  if (c.blk == 0 && c.zskip == 0) return 0;
  std::uint64_t all = 0;
  for (const golden::Mode m : {golden::Mode::k16, golden::Mode::k8, golden::Mode::k4}) {
    const auto nb = static_cast<std::uint64_t>(golden::blocks(m));
    all += c.macs(m) * nb * nb;
  }
  if (c.blk > all) {
    throw std::invalid_argument(fmt::format(
        "inconsistent counters: {} block products computed (CNT_BLK) but the MACs have only {}", c.blk, all));
  }
  return all - c.blk;
}

double skipped_mac_pj(const driver::Counters& c, const EnergyTable& t) {
  std::uint64_t left = skipped_blocks(c);
  if (left == 0 || t.blk_share == 0) return 0;
  if (has_mode_blocks(c)) {  // exact: each mode's skipped block products at its own price
    double saved = 0;
    for (const auto& [m, e] : {std::pair{golden::Mode::k16, t.pj_per_mac16}, std::pair{golden::Mode::k8, t.pj_per_mac8},
                               std::pair{golden::Mode::k4, t.pj_per_mac4}}) {
      const auto nb = static_cast<double>(golden::blocks(m));
      saved += static_cast<double>(skipped_blocks(c, m)) * e / (nb * nb);
    }
    return t.blk_share * saved;
  }
  // Records without the per-mode counters: CNT_BLK attributed to the cheapest modes first.
  struct Slot {
    double pj_per_block;
    std::uint64_t capacity;
  };
  std::array<Slot, 3> slots{};
  std::size_t n = 0;
  for (const auto& [m, e] : {std::pair{golden::Mode::k16, t.pj_per_mac16}, std::pair{golden::Mode::k8, t.pj_per_mac8},
                             std::pair{golden::Mode::k4, t.pj_per_mac4}}) {
    const auto nb = static_cast<std::uint64_t>(golden::blocks(m));
    slots[n++] = Slot{e / static_cast<double>(nb * nb), c.macs(m) * nb * nb};
  }
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) { return a.pj_per_block < b.pj_per_block; });
  double saved = 0;
  for (const Slot& s : slots) {
    const std::uint64_t here = std::min(left, s.capacity);
    saved += static_cast<double>(here) * s.pj_per_block;
    left -= here;
  }
  return t.blk_share * saved;
}

EnergyBreakdown energy_breakdown(const driver::Counters& c, std::optional<std::uint64_t> offchip_bytes,
                                 const EnergyTable& t) {
  if (t.pj_per_offchip_byte != 0 && !offchip_bytes) {
    throw std::invalid_argument(
        "an array run without its off-chip bytes cannot be priced with the memory terms (records made before "
        "bitscale recorded \"offchip_bytes\": record them again)");
  }
  EnergyBreakdown e;
  e.mac_pj = static_cast<double>(c.mac16) * t.pj_per_mac16 + static_cast<double>(c.mac8) * t.pj_per_mac8 +
             static_cast<double>(c.mac4) * t.pj_per_mac4;
  // Exact runs (nothing skipped) subtract nothing: their price is the one of the exact model.
  e.mac_saved_pj = skipped_mac_pj(c, t);
  if (e.mac_saved_pj != 0) e.mac_pj -= e.mac_saved_pj;
  e.spad_pj =
      static_cast<double>(c.spad_rd) * t.pj_per_spad_read + static_cast<double>(c.spad_wr) * t.pj_per_spad_write;
  e.offchip_pj = static_cast<double>(offchip_bytes.value_or(0)) * t.pj_per_offchip_byte;
  return e;
}

EnergyBreakdown energy_breakdown(const RunRecord& r, const EnergyTable& t) {
  if (!r.counters) throw std::invalid_argument("energy of a run without counters (not an array run)");
  return energy_breakdown(*r.counters, r.offchip_bytes, t);
}

double energy_pj(const RunRecord& r, const EnergyTable& t) { return energy_breakdown(r, t).total(); }

}  // namespace bitscale::study
