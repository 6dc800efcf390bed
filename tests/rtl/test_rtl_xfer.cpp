// Wide scratchpad beats and transfers overlapped with a tile (issue 9, docs/ARCHITECTURE.md "Bus") on
// the verilated RTL: layers through the driver on every schedule (serial/overlapped x line/wide) give
// the reference's outputs with every counter equal on the RTL, the golden device and the functional
// back-end, at the default geometry and at the other verilated ones; a write into a running tile's
// read window is refused with ERR_BUS_HAZARD (and trips the usage assertion), one outside it goes
// ahead while busy and is counted in CNT_OVERLAP.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/regress.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"
#include "three_backends.hpp"

namespace bitscale::rtl {
void PrintTo(const Geometry& g, std::ostream* os);  // test_rtl_geometry.cpp
}  // namespace bitscale::rtl

namespace {

using namespace bitscale;
namespace rm = bitscale::regmap;
using driver::bus_addr;
using driver::BusOp;

std::uint32_t csr(std::uint32_t i) { return bus_addr(rm::kRegionCsr, 0, i); }

TEST(RtlXfer, EverySchedulesLayersEqualOnRtlGoldenDeviceAndFunctional) {
  const std::uint64_t seed = test::test_seed(47);
  dv::LayerGenerator gen(seed, {.max_k = 300, .group_out = {1, 40}});
  rtl::RtlDevice rd;
  golden::GoldenDevice gold;
  driver::Accelerator r(rd), g(gold), f(driver::default_hw_config());
  std::uint64_t overlap = 0, wide_words = 0;
  for (int t = 0; t < 12; ++t) {
    const auto mode = static_cast<golden::Mode>(t % 3);
    const dv::Case c = gen.random_case(mode);
    const driver::PreparedLayer p = r.prepare(c.layer);
    const golden::PackedTensor ref = golden::conv2d(c.layer, c.input);
    for (const driver::Transfer tr : {driver::Transfer::kSerial, driver::Transfer::kOverlapped}) {
      for (const driver::Port po : {driver::Port::kLine, driver::Port::kWide, driver::Port::kRows}) {
        for (driver::Accelerator* a : {&r, &g, &f}) {
          a->set_transfer(tr);
          a->set_port(po);
        }
        dv::Scoreboard sb(seed);
        const driver::Counters dr = test::run_on_three(sb, r, g, f, p, c.input, ref);
        ASSERT_TRUE(sb.ok()) << t << " " << driver::to_string(tr) << " " << driver::to_string(po) << " "
                             << c.layer.shape.to_string() << "\n"
                             << sb.report();
        overlap += dr.overlap;
        if (po != driver::Port::kLine) wide_words += dr.spad_wr;
      }
    }
  }
  EXPECT_GT(overlap, 0u);
  EXPECT_GT(wide_words, 0u);
  EXPECT_EQ(rd.assertion_failures(), 0u);
}

/// The RTL (zeroed memories, as the golden device's: tiles may read lines never written) and the golden
/// device side by side: both(f) runs f on each and expects the same result.
struct Both {
  rtl::RtlDevice rd{[] {
    rtl::RtlOptions ro;
    ro.random_init = false;
    return ro;
  }()};
  golden::GoldenDevice gold;
  template <class F>
  auto operator()(F&& f) {
    const auto a = f(static_cast<driver::Device&>(rd));
    const auto b = f(static_cast<driver::Device&>(gold));
    EXPECT_EQ(a, b);
    return a;
  }
  /// The registers of an 8-bit tile, K = 40: 20 words from ACT_BASE 8 (lines 2 .. 6) and WGT_BASE 0
  /// (lines 0 .. 4); BIAS_EN, BIAS_BASE 3 (line 1). 22 busy edges once started.
  void configure_k40_tile() {
    for (const auto& [reg, v] :
         std::vector<std::pair<std::uint32_t, std::uint64_t>>{{rm::kRegMODE, rm::kModeField.of(rm::kMode8)},
                                                              {rm::kRegK, 40},
                                                              {rm::kRegROWS_ACT, 16},
                                                              {rm::kRegCOLS_ACT, 16},
                                                              {rm::kRegACT_BASE, 8},
                                                              {rm::kRegWGT_BASE, 0},
                                                              {rm::kRegBIAS_BASE, 3},
                                                              {rm::kRegOUT_CFG, rm::kOutCfgBiasEnField.of(1)}}) {
      (*this)([&](driver::Device& d) { return d.write(csr(reg), v).err; });
    }
  }
};

TEST(RtlXfer, HazardRefusedOverlapAcceptedAsOnTheGoldenDevice) {
  Both both;
  rtl::RtlDevice& rd = both.rd;
  both.configure_k40_tile();
  const std::uint64_t a0 = rd.assertion_failures();
  const std::uint64_t ov0 = both([](driver::Device& d) { return d.read(csr(rm::kRegCNT_OVERLAP)).rdata; });
  both([](driver::Device& d) { return d.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1)).err; });
  // Into the windows: refused with ERR_BUS_HAZARD, each tripping the usage assertion.
  const std::uint32_t hazards[] = {bus_addr(rm::kRegionAct, 0, 2), bus_addr(rm::kRegionAct, 15, 6),
                                   bus_addr(rm::kRegionWgt, 4, 4), bus_addr(rm::kRegionBias, 9, 1)};
  for (const std::uint32_t a : hazards) {
    EXPECT_TRUE(both([&](driver::Device& d) { return d.write(a, 0x55).err; })) << std::hex << a;
    EXPECT_EQ(both([](driver::Device& d) { return rm::kStatusCodeField.get(d.read(csr(rm::kRegSTATUS)).rdata); }),
              rm::kErrBusHazard);
  }
  EXPECT_EQ(rd.assertion_failures(), a0 + 4);
  both([](driver::Device& d) { return d.write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1)).err; });
  // Outside them: accepted while busy, narrow and wide.
  EXPECT_FALSE(both([](driver::Device& d) { return d.write(bus_addr(rm::kRegionAct, 3, 7), 0x77).err; }));
  EXPECT_FALSE(both([](driver::Device& d) { return d.write(bus_addr(rm::kRegionWgt, 3, 5), 0x78).err; }));
  std::vector<std::uint64_t> lines(16);
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i] = 0x100 + i;
  EXPECT_FALSE(both([&](driver::Device& d) {
    std::vector<std::uint64_t> l = lines;
    return d.access_wide(BusOp::kWrite, rm::kRegionBias, 2, l).err;
  }));
  EXPECT_FALSE(both([&](driver::Device& d) {
    std::vector<std::uint64_t> l = lines;
    return d.access_wide(BusOp::kWrite, rm::kRegionAct, 1, l).err;
  }));
  EXPECT_EQ(rd.assertion_failures(), a0 + 4) << "no assertion for accepted writes";
  const auto w = both([](driver::Device& d) {
    const driver::WaitResult r = d.wait(100);
    return std::pair{r.cycles, r.done};
  });
  EXPECT_TRUE(w.second);
  EXPECT_EQ(both([](driver::Device& d) { return d.read(csr(rm::kRegCNT_OVERLAP)).rdata; }), ov0 + 4);
  // The accepted writes landed; a wide read returns every bank's line.
  EXPECT_EQ(both([](driver::Device& d) { return d.read(bus_addr(rm::kRegionAct, 3, 7)).rdata; }), 0x77u);
  const auto back = both([](driver::Device& d) {
    std::vector<std::uint64_t> l(16);
    (void)d.access_wide(BusOp::kRead, rm::kRegionAct, 1, l);
    return l;
  });
  EXPECT_EQ(back, lines);
  // The tile's outputs: its operands were all 0 (lines never written, zero-initialised), so every
  // output is 0 on both, whatever was written outside the windows while it ran.
  for (std::uint32_t r = 0; r < 16; ++r) {
    for (std::uint32_t l = 0; l < 4; ++l) {
      EXPECT_EQ(both([&](driver::Device& d) { return d.read(bus_addr(rm::kRegionOut, r, l)).rdata; }), 0u)
          << "row " << r << " line " << l;
    }
  }
  const auto out = both([](driver::Device& d) {
    std::vector<std::uint64_t> l(16);
    (void)d.access_wide(BusOp::kRead, rm::kRegionOut, 0, l);
    return l;
  });
  EXPECT_EQ(out, std::vector<std::uint64_t>(16, 0));
}

// Row beats (bank ADDR_BANK_ROWS, docs/ARCHITECTURE.md "Bus"): Cols/4 activation lines of every row per
// beat, writes at a multiple of Cols/4 lines only; refused like any access into a running tile's window.
TEST(RtlXfer, RowBeatsOnRtlAsOnGoldenDevice) {
  Both both;
  rtl::RtlDevice& rd = both.rd;
  const auto code = [&]() {
    return both([](driver::Device& d) { return rm::kStatusCodeField.get(d.read(csr(rm::kRegSTATUS)).rdata); });
  };
  std::vector<std::uint64_t> lines(16 * 4);
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i] = 0xABC0000ull + i;
  const auto rows = [&](std::uint32_t line) {
    return both([&](driver::Device& d) { return d.write_rows(line, lines).err; });
  };
  const std::uint64_t wr0 = both([](driver::Device& d) { return d.read(csr(rm::kRegCNT_SPAD_WR)).rdata; });
  EXPECT_FALSE(rows(8));
  EXPECT_EQ(both([](driver::Device& d) { return d.read(csr(rm::kRegCNT_SPAD_WR)).rdata; }), wr0 + 16 * 16);
  for (std::uint32_t r : {0u, 7u, 15u}) {
    for (std::uint32_t s = 0; s < 4; ++s) {
      EXPECT_EQ(both([&](driver::Device& d) { return d.read(bus_addr(rm::kRegionAct, r, 8 + s)).rdata; }),
                lines[r * 4 + s])
          << "row " << r << " line " << 8 + s;
    }
  }
  // Misaligned, a read, another region: ERR_BUS_ADDR.
  EXPECT_TRUE(rows(9));
  EXPECT_EQ(code(), rm::kErrBusAddr);
  EXPECT_TRUE(both([](driver::Device& d) { return d.read(bus_addr(rm::kRegionAct, rm::kAddrBankRows, 4)).err; }));
  EXPECT_EQ(code(), rm::kErrBusAddr);
  EXPECT_TRUE(both([](driver::Device& d) { return d.write(bus_addr(rm::kRegionWgt, rm::kAddrBankRows, 4), 1).err; }));
  EXPECT_EQ(code(), rm::kErrBusAddr);
  both([](driver::Device& d) { return d.write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1)).err; });
  // A tile reading ACT lines 2 .. 6: row beats over lines 0 .. 3 and 4 .. 7 meet it, 8 .. 11 does not.
  both.configure_k40_tile();
  const std::uint64_t a0 = rd.assertion_failures();
  both([](driver::Device& d) { return d.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1)).err; });
  EXPECT_TRUE(rows(0));
  EXPECT_EQ(code(), rm::kErrBusHazard);
  EXPECT_TRUE(rows(4));
  EXPECT_EQ(code(), rm::kErrBusHazard);
  EXPECT_EQ(rd.assertion_failures(), a0 + 2);
  both([](driver::Device& d) { return d.write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1)).err; });
  const std::uint64_t ov0 = both([](driver::Device& d) { return d.read(csr(rm::kRegCNT_OVERLAP)).rdata; });
  EXPECT_FALSE(rows(12));
  EXPECT_EQ(both([](driver::Device& d) { return d.read(csr(rm::kRegCNT_OVERLAP)).rdata; }), ov0 + 1);
  EXPECT_TRUE(both([](driver::Device& d) { return d.wait(100).done; }));
  EXPECT_EQ(rd.assertion_failures(), a0 + 2);
}

class RtlXferGeometry : public ::testing::TestWithParam<rtl::Geometry> {};

TEST_P(RtlXferGeometry, RegressWithRandomTransfersAndHazardProbes) {
  const rtl::Geometry geo = GetParam();
  dv::RegressOptions opts;
  opts.seed = test::test_seed(53);
  opts.rows = geo.rows;
  opts.cols = geo.cols;
  opts.count = 40;
  opts.first = 1000;  // other layers than the other regressions'
  opts.max_k = 600;
  opts.xfer = dv::Xfer::kRandom;
  const dv::RegressResult res = dv::run_regress(opts);
  EXPECT_EQ(res.failed(), 0u) << rtl::to_string(geo);
  std::uint64_t overlapped = 0, wide = 0, hazards = 0;
  for (const dv::ModeSummary& s : res.modes) {
    for (const std::string& rep : s.reports) ADD_FAILURE() << rep;
    EXPECT_EQ(s.exact, opts.count) << dv::summary_line(s);
    overlapped += s.overlapped_layers;
    wide += s.wide_layers;
    hazards += s.hazards;
  }
  EXPECT_GT(overlapped, 0u);
  EXPECT_GT(wide, 0u);
  // Every probe writes into its tile's ACT window: each one is refused.
  EXPECT_EQ(hazards, opts.count * res.modes.size());
}

INSTANTIATE_TEST_SUITE_P(Built, RtlXferGeometry, ::testing::ValuesIn(rtl::rtl_geometries()),
                         [](const ::testing::TestParamInfo<rtl::Geometry>& i) { return rtl::to_string(i.param); });

}  // namespace
