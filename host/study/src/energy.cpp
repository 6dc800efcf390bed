#include "bitscale/study/energy.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace bitscale::study {

namespace {

// Energy per MAC (pJ) from a power (mW) at a throughput (GOPS), one MAC = 2 operations.
double mac_pj(double power_mw, double gops) { return 2.0 * power_mw * 1e-3 / (gops * 1e9) * 1e12; }

}  // namespace

EnergyTable EnergyTable::envision() {
  EnergyTable t;
  t.source = "Envision (ISSCC 2017) at 76 GOPS: 16-bit 290 mW, 8-bit 56 mW, 4-bit 7.6 mW";
  t.pj_per_mac16 = mac_pj(290.0, 76.0);
  t.pj_per_mac8 = mac_pj(56.0, 76.0);
  t.pj_per_mac4 = mac_pj(7.6, 76.0);
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
    static const char* kKeys[] = {"mac16_pj",   "mac8_pj",   "mac4_pj",   "spad_read_pj", "spad_write_pj",
                                  "power16_mw", "power8_mw", "power4_mw", "gops"};
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known) throw std::runtime_error(fmt::format("energy table '{}' line {}: unknown key '{}'", path, n, key));
    kv[key] = v;
  }
  EnergyTable t;
  t.source = path;
  const bool by_power = kv.count("power16_mw") || kv.count("power8_mw") || kv.count("power4_mw");
  if (by_power) {
    if (!kv.count("gops") || kv["gops"] <= 0) {
      throw std::runtime_error(fmt::format("energy table '{}': power entries need a positive 'gops'", path));
    }
    t.pj_per_mac16 = mac_pj(kv["power16_mw"], kv["gops"]);
    t.pj_per_mac8 = mac_pj(kv["power8_mw"], kv["gops"]);
    t.pj_per_mac4 = mac_pj(kv["power4_mw"], kv["gops"]);
  } else {
    t.pj_per_mac16 = kv["mac16_pj"];
    t.pj_per_mac8 = kv["mac8_pj"];
    t.pj_per_mac4 = kv["mac4_pj"];
  }
  t.pj_per_spad_read = kv["spad_read_pj"];
  t.pj_per_spad_write = kv["spad_write_pj"];
  return t;
}

double energy_pj(const driver::Counters& c, const EnergyTable& t) {
  return static_cast<double>(c.mac16) * t.pj_per_mac16 + static_cast<double>(c.mac8) * t.pj_per_mac8 +
         static_cast<double>(c.mac4) * t.pj_per_mac4 + static_cast<double>(c.spad_rd) * t.pj_per_spad_read +
         static_cast<double>(c.spad_wr) * t.pj_per_spad_write;
}

}  // namespace bitscale::study
