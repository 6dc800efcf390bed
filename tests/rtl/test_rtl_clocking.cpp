// How the RTL harness clocks the verilated model (issue 9): one eval() per clock cycle where the
// result is the same as evaluating both edges, and the same bus behaviour, cycle counts and
// assertion reports with either clocking.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/driver/device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"

namespace {

namespace rm = bitscale::regmap;
namespace rtl = bitscale::rtl;
using bitscale::driver::bus_addr;
using bitscale::driver::BusResponse;
using bitscale::driver::WaitResult;

constexpr std::uint32_t csr(std::uint32_t reg) { return bus_addr(rm::kRegionCsr, 0, reg); }

rtl::RtlOptions options(rtl::Clocking c) {
  rtl::RtlOptions o;
  o.clocking = c;
  o.random_init = false;
  return o;
}

// A full-array 16-bit tile of K words: one lane per word, so KW = K.
void start_tile(rtl::RtlDeviceBase& dev, std::uint64_t k) {
  ASSERT_FALSE(dev.write(csr(rm::kRegMODE), rm::kMode16).err);
  ASSERT_FALSE(dev.write(csr(rm::kRegK), k).err);
  ASSERT_FALSE(dev.write(csr(rm::kRegROWS_ACT), rm::kDefaultRows).err);
  ASSERT_FALSE(dev.write(csr(rm::kRegCOLS_ACT), rm::kDefaultCols).err);
  ASSERT_FALSE(dev.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1)).err);
}

TEST(RtlClocking, OneEvalPerCycleWhileATileRuns) {
  constexpr std::uint64_t kK = 4096;
  rtl::RtlDevice one(options(rtl::Clocking::kPosedge));
  rtl::RtlDevice two(options(rtl::Clocking::kBothEdges));
  ASSERT_EQ(one.clocking(), rtl::Clocking::kPosedge);
  start_tile(one, kK);
  start_tile(two, kK);
  const std::uint64_t e1 = one.evals(), e2 = two.evals();
  const WaitResult w1 = one.wait(1u << 20), w2 = two.wait(1u << 20);
  ASSERT_TRUE(w1.done && !w1.err);
  ASSERT_TRUE(w2.done && !w2.err);
  // docs/ARCHITECTURE.md "A tile, cycle by cycle": busy for KW + BUSY_OVERHEAD edges after the START's.
  EXPECT_EQ(w1.cycles, kK + rm::kBusyOverhead);
  EXPECT_EQ(w2.cycles, w1.cycles);
  EXPECT_EQ(one.cycles(), two.cycles());
  // Both edges: two evaluations per cycle. Rising edge only: one per cycle, plus the falling edge of
  // the first cycle in the checking build (its inputs changed: the bus went idle after the START).
  EXPECT_EQ(two.evals() - e2, 2 * w2.cycles);
  const std::uint64_t extra = rtl::rtl_build() == rtl::RtlBuild::kCheck ? 1 : 0;
  EXPECT_EQ(one.evals() - e1, w1.cycles + extra);
  // The same counters (array cycles, busy cycles, ...) on both.
  for (std::uint32_t r = rm::kRegCntFirst; r <= rm::kRegCntLast; ++r) {
    const BusResponse a = one.read(csr(r)), b = two.read(csr(r));
    EXPECT_FALSE(a.err);
    EXPECT_EQ(a.rdata, b.rdata) << "counter register " << r;
  }
}

// Legal and illegal accesses (each refused one fires an assertion of bsa_top at its own edge) give
// the same responses, STATUS, interrupt pin, cycle count and assertion reports with both clockings.
TEST(RtlClocking, BothClockingsAgreeAccessByAccess) {
  rtl::RtlDevice one(options(rtl::Clocking::kPosedge));
  rtl::RtlDevice two(options(rtl::Clocking::kBothEdges));
  struct Op {
    bool write;
    std::uint32_t addr;
    std::uint64_t data;
    bool error;             ///< the access itself is refused (docs/ARCHITECTURE.md "Bus")
    const char* assertion;  ///< the assertion it fires at its edge, or ""
  };
  const std::vector<Op> ops = {
      {true, csr(rm::kRegIRQ_EN), 3, false, ""},
      {false, csr(rm::kRegCntLast + 1), 0, true, "BusAddrMapped"},  // unmapped register
      {true, csr(rm::kRegSTATUS), rm::kStatusErrField.of(1), false, ""},
      {true, csr(rm::kRegHWCFG), 1, true, "BusNoWriteReadOnly"},  // read-only register
      {true, csr(rm::kRegMODE), 3, false, ""},                    // MODE 3: not a legal mode
      {true, csr(rm::kRegK), 64, false, ""},
      {true, csr(rm::kRegROWS_ACT), 4, false, ""},
      {true, csr(rm::kRegCOLS_ACT), 4, false, ""},
      {true, csr(rm::kRegCTRL), rm::kCtrlStartField.of(1), false, "StartConfigLegal"},  // refused START
      {false, csr(rm::kRegSTATUS), 0, false, ""},
      {true, csr(rm::kRegMODE), rm::kMode8, false, ""},
      {true, csr(rm::kRegCTRL), rm::kCtrlStartField.of(1), false, ""},
      {true, bus_addr(rm::kRegionAct, 0, 0), 0x1234, true, "BusNoHazard"},  // while busy, into the tile's ACT window
      {false, csr(rm::kRegSTATUS), 0, false, ""},
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const std::uint64_t f1 = one.assertion_failures(), f2 = two.assertion_failures();
    const BusResponse a = op.write ? one.write(op.addr, op.data) : one.read(op.addr);
    const BusResponse b = op.write ? two.write(op.addr, op.data) : two.read(op.addr);
    SCOPED_TRACE("access " + std::to_string(i));
    EXPECT_EQ(a.err, op.error);
    EXPECT_EQ(a.err, b.err);
    EXPECT_EQ(a.rdata, b.rdata);
    EXPECT_EQ(one.irq(), two.irq());
    EXPECT_EQ(one.cycles(), two.cycles());
    if (rtl::rtl_build() == rtl::RtlBuild::kCheck) {
      const std::uint64_t expected = std::string(op.assertion).empty() ? 0 : 1;
      EXPECT_EQ(one.assertion_failures() - f1, expected);
      EXPECT_EQ(two.assertion_failures() - f2, expected);
      if (expected != 0) {
        ASSERT_FALSE(one.failed_assertions().empty());
        EXPECT_NE(one.failed_assertions().back().find(op.assertion), std::string::npos)
            << one.failed_assertions().back();
      }
    }
  }
  const WaitResult w1 = one.wait(1000), w2 = two.wait(1000);
  EXPECT_EQ(w1.cycles, w2.cycles);
  EXPECT_EQ(w1.done, w2.done);
  EXPECT_EQ(w1.err, w2.err);
  EXPECT_TRUE(w1.err);  // the refused scratchpad access left STATUS.ERR set (sticky)
  EXPECT_EQ(one.failed_assertions(), two.failed_assertions());
  EXPECT_EQ(one.assertion_failures(), two.assertion_failures());
}

TEST(RtlClocking, TheEnvironmentChoosesTheDefaultAndABadValueIsNamed) {
  ASSERT_EQ(setenv("BITSCALE_RTL_CLOCKING", "both-edges", 1), 0);
  EXPECT_EQ(rtl::RtlOptions{}.clocking, rtl::Clocking::kBothEdges);
  ASSERT_EQ(setenv("BITSCALE_RTL_CLOCKING", "sometimes", 1), 0);
  try {
    (void)rtl::default_clocking();
    ADD_FAILURE() << "BITSCALE_RTL_CLOCKING=sometimes was accepted";
  } catch (const bitscale::driver::DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("BITSCALE_RTL_CLOCKING is 'sometimes'"), std::string::npos) << e.what();
  }
  ASSERT_EQ(unsetenv("BITSCALE_RTL_CLOCKING"), 0);
  EXPECT_EQ(rtl::RtlOptions{}.clocking, rtl::Clocking::kPosedge);
}

}  // namespace

// The RTL, with one refused bus access (a read past the last register) slipped in before the second
// wait for a tile, unseen by the driver: only the sticky STATUS.ERR (pin err_o) tells.
class IntrudingDevice : public bitscale::driver::Device {
 public:
  std::string_view name() const override { return rtl.name(); }
  BusResponse access(bitscale::driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) override {
    return rtl.access(op, addr, wdata);
  }
  WaitResult wait(std::uint64_t max_cycles) override {
    if (++waits_ == 2) (void)rtl.read(csr(rm::kRegCntLast + 1));
    return rtl.wait(max_cycles);
  }
  std::uint64_t edges() const override { return rtl.edges(); }
  std::uint64_t assertion_failures() const override { return rtl.assertion_failures(); }
  std::vector<std::string> failed_assertions() const override { return rtl.failed_assertions(); }
  rtl::RtlDevice rtl;

 private:
  int waits_ = 0;
};

// In either build (the fast one has no assertions) the driver stops the layer at the tile whose wait
// reports the error; the checking build also names the assertion.
TEST(RtlClocking, TheStickyErrorStopsALayerInEitherBuild) {
  namespace golden = bitscale::golden;
  golden::Layer l;  // 1x1 convolution with 32 output channels: two tiles of 16 columns
  l.mode = golden::Mode::k8;
  l.shape.in_h = 4, l.shape.in_w = 4, l.shape.in_c = 8, l.shape.out_c = 32;
  l.weights.assign(32 * 8, 3);
  const auto in = golden::PackedTensor::from_values(4, 4, 8, golden::Mode::k8, std::vector<std::int32_t>(128, 1));
  IntrudingDevice dev;
  bitscale::driver::Accelerator acc(dev);
  try {
    (void)acc.run(acc.prepare(l), in);
    FAIL() << "the layer finished although an access failed";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tile failed"), std::string::npos) << what;
    if (rtl::rtl_build() == rtl::RtlBuild::kCheck) {
      EXPECT_NE(what.find("BusAddrMapped"), std::string::npos) << what;
    }
  }
}
