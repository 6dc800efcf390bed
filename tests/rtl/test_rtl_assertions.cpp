// A failed RTL assertion during a layer stops the driver with an error naming the assertion
// (issue 12): the verilated model counts and names them, the Accelerator checks after every
// tile and when a tile fails.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"

namespace {

using bitscale::driver::BusOp;
using bitscale::driver::BusResponse;
using bitscale::driver::WaitResult;
namespace rm = bitscale::regmap;
namespace golden = bitscale::golden;

// The RTL, with one illegal bus access (a read past the last register, CNT_TILES: a bus error, which
// bsa_bus asserts against) slipped in before the n-th wait for a tile.
class IntrudingDevice : public bitscale::driver::Device {
 public:
  explicit IntrudingDevice(int nth_wait) : nth_(nth_wait) {}
  std::string_view name() const override { return rtl.name(); }
  BusResponse access(BusOp op, std::uint32_t addr, std::uint64_t wdata) override { return rtl.access(op, addr, wdata); }
  WaitResult wait(std::uint64_t max_cycles) override {
    if (++waits_ == nth_) (void)rtl.read(bitscale::driver::bus_addr(rm::kRegionCsr, 0, rm::kRegCntLast + 1));
    return rtl.wait(max_cycles);
  }
  std::uint64_t edges() const override { return rtl.edges(); }
  std::uint64_t assertion_failures() const override { return rtl.assertion_failures(); }
  std::vector<std::string> failed_assertions() const override { return rtl.failed_assertions(); }
  bitscale::rtl::RtlDevice rtl;

 private:
  int nth_;
  int waits_ = 0;
};

// Two tiles: 32 output channels of a 1x1 convolution.
golden::Layer two_tile_layer() {
  golden::Layer l;
  l.mode = golden::Mode::k8;
  l.shape.in_h = 4, l.shape.in_w = 4, l.shape.in_c = 8, l.shape.out_c = 32;
  l.weights.assign(32 * 8, 3);
  return l;
}

TEST(RtlAssertions, AFailedAssertionStopsTheLayerNamingIt) {
  IntrudingDevice dev(2);
  bitscale::driver::Accelerator acc(dev);
  const golden::Layer l = two_tile_layer();
  const auto p = acc.prepare(l);
  const auto in = golden::PackedTensor::from_values(4, 4, 8, golden::Mode::k8, std::vector<std::int32_t>(128, 1));
  try {
    (void)acc.run(p, in);
    FAIL() << "the run finished although an RTL assertion failed";
  } catch (const bitscale::driver::DeviceError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("1 RTL assertion(s) failed"), std::string::npos) << what;
    ASSERT_EQ(dev.rtl.failed_assertions().size(), 1u);
    EXPECT_NE(what.find(dev.rtl.failed_assertions().front()), std::string::npos) << what;
    EXPECT_NE(dev.rtl.failed_assertions().front().find("BusAddrMapped"), std::string::npos)
        << dev.rtl.failed_assertions().front();
  }
  EXPECT_EQ(dev.rtl.assertion_failures(), 1u);
}

TEST(RtlAssertions, ACleanRunNamesNone) {
  IntrudingDevice dev(0);  // never intrudes
  bitscale::driver::Accelerator acc(dev);
  const golden::Layer l = two_tile_layer();
  const auto in = golden::PackedTensor::from_values(4, 4, 8, golden::Mode::k8, std::vector<std::int32_t>(128, 1));
  EXPECT_EQ(acc.run(acc.prepare(l), in), golden::conv2d(l, in));
  EXPECT_EQ(dev.rtl.assertion_failures(), 0u);
  EXPECT_TRUE(dev.rtl.failed_assertions().empty());
}

}  // namespace
