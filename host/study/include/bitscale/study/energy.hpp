// Energy model: energy of an image = sum over the executions it needed of
// (MACs in each mode x energy per MAC of that mode) + scratchpad words read and written x
// energy per word. Operation counts come from the back-end's performance counters.
#pragma once

#include <string>

#include "bitscale/driver/accelerator.hpp"

namespace bitscale::study {

struct EnergyTable {
  std::string source;       ///< where the numbers come from
  double pj_per_mac16 = 0;  ///< energy of one 16-bit multiply-accumulate (pJ)
  double pj_per_mac8 = 0;
  double pj_per_mac4 = 0;
  double pj_per_spad_read = 0;   ///< per 16-bit scratchpad word read (pJ)
  double pj_per_spad_write = 0;  ///< per 16-bit scratchpad word written (pJ)

  /// The default: Envision (Moons et al., ISSCC 2017) as used by the seed paper, power at a
  /// constant 76 GOPS: 16-bit 290 mW, 8-bit 56 mW, 4-bit 7.6 mW; one MAC = 2 operations, so
  /// E_MAC = 2 * P / 76e9 (7.63, 1.47, 0.200 pJ). Chip-level power already includes the
  /// on-chip memories, so the scratchpad terms are 0 in this table.
  static EnergyTable envision();
  /// A table from a text file of `key value` lines (# comments): mac16_pj, mac8_pj, mac4_pj,
  /// spad_read_pj, spad_write_pj (missing keys are 0; unknown keys are an error), or the
  /// Envision table's form: power16_mw, power8_mw, power4_mw, gops. Throws
  /// std::runtime_error naming the file and line on anything malformed.
  static EnergyTable load(const std::string& path);
};

/// Energy in pJ of the work recorded in `c` (a difference of counter snapshots).
double energy_pj(const driver::Counters& c, const EnergyTable& t);

}  // namespace bitscale::study
