// The interrupt pin and a reset in the middle of a tile, on the verilated bsa_top
// (docs/REGISTERS.md: irq_o = DONE && IRQ_EN.DONE || ERR && IRQ_EN.ERR; rst_ni).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/driver/device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace {

using bitscale::driver::bus_addr;
using bitscale::driver::BusOp;
namespace rm = bitscale::regmap;
namespace golden = bitscale::golden;

std::uint32_t csr(std::uint32_t idx) { return bus_addr(rm::kRegionCsr, 0, idx); }

std::uint64_t read(bitscale::rtl::RtlDevice& dev, std::uint32_t idx) {
  const auto r = dev.access(BusOp::kRead, csr(idx), 0);
  EXPECT_FALSE(r.err) << rm::reg_name(idx);
  return r.rdata;
}

void write(bitscale::rtl::RtlDevice& dev, std::uint32_t idx, std::uint64_t v) {
  EXPECT_FALSE(dev.access(BusOp::kWrite, csr(idx), v).err) << rm::reg_name(idx);
}

// A legal tile of K elements over the whole array (the scratchpads hold whatever they hold).
void start_tile(bitscale::rtl::RtlDevice& dev, std::uint32_t mode, std::uint64_t k) {
  write(dev, rm::kRegMODE, mode);
  write(dev, rm::kRegK, k);
  write(dev, rm::kRegROWS_ACT, 16);
  write(dev, rm::kRegCOLS_ACT, 16);
  write(dev, rm::kRegCTRL, std::uint64_t{1} << rm::kCtrlStart);
}

TEST(RtlIrq, FollowsDoneAndErrThroughTheirEnables) {
  bitscale::rtl::RtlDevice dev;
  EXPECT_FALSE(dev.irq()) << "after reset";
  start_tile(dev, rm::kMode8, 64);
  const auto w = dev.wait(100000);
  ASSERT_TRUE(w.done);
  EXPECT_TRUE((read(dev, rm::kRegSTATUS) >> rm::kStatusDone) & 1);
  EXPECT_FALSE(dev.irq()) << "DONE without IRQ_EN.DONE";
  write(dev, rm::kRegIRQ_EN, std::uint64_t{1} << rm::kIrqEnDone);
  EXPECT_TRUE(dev.irq()) << "DONE with IRQ_EN.DONE";
  write(dev, rm::kRegSTATUS, std::uint64_t{1} << rm::kStatusDone);  // write 1 to clear
  EXPECT_FALSE(dev.irq()) << "DONE cleared";
  EXPECT_EQ(dev.assertion_failures(), 0u);

  // ERR: a read past the last register; only IRQ_EN.ERR raises the pin.
  write(dev, rm::kRegIRQ_EN, std::uint64_t{1} << rm::kIrqEnDone);
  EXPECT_TRUE(dev.access(BusOp::kRead, csr(rm::kRegCntLast + 1), 0).err);
  EXPECT_TRUE((read(dev, rm::kRegSTATUS) >> rm::kStatusErr) & 1);
  EXPECT_FALSE(dev.irq()) << "ERR without IRQ_EN.ERR";
  write(dev, rm::kRegIRQ_EN, std::uint64_t{1} << rm::kIrqEnErr);
  EXPECT_TRUE(dev.irq()) << "ERR with IRQ_EN.ERR";
  write(dev, rm::kRegSTATUS, std::uint64_t{1} << rm::kStatusErr);
  EXPECT_FALSE(dev.irq()) << "ERR cleared";
  EXPECT_EQ((read(dev, rm::kRegSTATUS) >> rm::kStatusErr) & 1, 0u);
}

TEST(RtlReset, MidTileResetAbandonsTheTileAndTheNextLayerIsExact) {
  bitscale::rtl::RtlDevice dev;
  write(dev, rm::kRegIRQ_EN, 3);
  start_tile(dev, rm::kMode16, 4096);
  const auto w = dev.wait(200);
  ASSERT_FALSE(w.done) << "a 4096-cycle tile cannot finish in 200 cycles";
  ASSERT_TRUE((read(dev, rm::kRegSTATUS) >> rm::kStatusBusy) & 1);
  dev.reset();
  EXPECT_EQ(dev.cycles(), 0u);
  EXPECT_FALSE(dev.irq());
  EXPECT_EQ(read(dev, rm::kRegSTATUS), 0u) << "not busy, no DONE, no ERR";
  for (std::uint32_t idx : {rm::kRegIRQ_EN, rm::kRegMODE, rm::kRegK, rm::kRegROWS_ACT, rm::kRegCOLS_ACT}) {
    EXPECT_EQ(read(dev, idx), 0u) << rm::reg_name(idx) << " keeps a value across reset";
  }
  EXPECT_EQ(read(dev, rm::kRegCNT_TILES), 0u);
  EXPECT_EQ(read(dev, rm::kRegCNT_ARRAY), 0u) << "the abandoned tile is not counted after reset";
  // Nothing waits for the abandoned tile: a layer right after it is exact.
  golden::Layer l;
  l.mode = golden::Mode::k8;
  l.shape.in_h = l.shape.in_w = 6;
  l.shape.in_c = 24;
  l.shape.out_c = 20;
  l.shape.k_h = l.shape.k_w = 3;
  l.out.shift = 10;
  std::mt19937_64 rng(bitscale::test::test_seed(31));
  std::uniform_int_distribution<int> v(golden::min_value(l.mode), golden::max_value(l.mode));
  l.weights.resize(static_cast<std::size_t>(l.shape.weight_count()));
  for (auto& x : l.weights) x = v(rng);
  std::vector<std::int32_t> in(6 * 6 * 24);
  for (auto& x : in) x = v(rng);
  const auto input = golden::PackedTensor::from_values(6, 6, 24, l.mode, in);
  bitscale::driver::Accelerator acc(dev);
  const auto out = acc.run(acc.prepare(l), input);
  EXPECT_TRUE(out == golden::conv2d(l, input)) << "layer after a mid-tile reset differs from the reference";
  EXPECT_EQ(dev.assertion_failures(), 0u);
}

}  // namespace
