// One prepared layer on the RTL, the golden device and the functional back-end (in that order):
// outputs against the reference and against the RTL's, counter increments against the RTL's, all
// recorded in a dv::Scoreboard. Used by the RTL tests of the transfer schedules and mappings.
#pragma once

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/tensor.hpp"

namespace bitscale::test {

/// Runs `p` on `in` on the three accelerators; returns the RTL's counter increments.
inline driver::Counters run_on_three(dv::Scoreboard& sb, driver::Accelerator& r, driver::Accelerator& g,
                                     driver::Accelerator& f, const driver::PreparedLayer& p,
                                     const golden::PackedTensor& in, const golden::PackedTensor& ref) {
  const auto r0 = r.counters(), g0 = g.counters(), f0 = f.counters();
  const golden::PackedTensor out_r = r.run(p, in), out_g = g.run(p, in), out_f = f.run(p, in);
  const auto dr = r.counters() - r0, dg = g.counters() - g0, df = f.counters() - f0;
  sb.compare("rtl", ref, out_r, {"reference", "rtl"});
  sb.compare("golden device", out_r, out_g, {"rtl", "golden device"});
  sb.compare("functional", out_r, out_f, {"rtl", "functional"});
  sb.compare("counters golden device", dr, dg, {"rtl", "golden device"});
  sb.compare("counters functional", dr, df, {"rtl", "functional"});
  return dr;
}

}  // namespace bitscale::test
