// Exact zero-block gating on the verilated array (MODE.ZGATE, docs/NUMERICS.md "Exact zero-block
// gating"): the regression with gating on every layer in every mode and with gating drawn per layer
// under random Ax-BxP masks, RTL against the golden device (per lane product) and the functional
// back-end (per tile), outputs and every counter, CNT_ZSKIP included; and one tile's counters
// worked out by hand.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/regress.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace bitscale::dv {
namespace {

using golden::Mode;

void expect_clean(const RegressResult& r, std::uint64_t per_run, std::size_t runs) {
  EXPECT_EQ(r.failed(), 0u);
  ASSERT_EQ(r.modes.size(), runs);
  for (const ModeSummary& s : r.modes) {
    EXPECT_EQ(s.layers, per_run) << summary_line(s);
    EXPECT_EQ(s.exact, per_run) << summary_line(s);
    for (const std::string& rep : s.reports) ADD_FAILURE() << rep;
  }
}

TEST(RtlZeroGating, RegressGatedInEveryMode) {
  RegressOptions opts;
  opts.seed = test::test_seed(23);
  opts.count = 40;
  opts.max_k = 600;
  opts.zero_gating = ZeroGating::kOn;
  const RegressResult r = run_regress(opts);
  expect_clean(r, opts.count, 3);
  for (const ModeSummary& s : r.modes) {
    EXPECT_EQ(s.gated_layers, opts.count) << summary_line(s);
    EXPECT_GT(s.zskip, 0u) << summary_line(s);
    EXPECT_NE(summary_line(s).find("layers zero-gated"), std::string::npos) << summary_line(s);
  }
}

TEST(RtlZeroGating, RegressGatingDrawnPerLayerWithRandomMasks) {
  RegressOptions opts;
  opts.seed = test::test_seed(29);
  opts.count = 40;
  opts.max_k = 600;
  opts.approx = "random";
  opts.zero_gating = ZeroGating::kRandom;
  const RegressResult r = run_regress(opts);
  expect_clean(r, opts.count, 3);
  for (const ModeSummary& s : r.modes) {
    EXPECT_GT(s.gated_layers, 0u) << summary_line(s);
    EXPECT_LT(s.gated_layers, opts.count) << summary_line(s);
  }
}

// One 8-bit tile on the RTL, counted by hand: a 1x1 convolution with 2 input channels (K = 2: one
// word of 2 lanes), 2 output pixels (rows) and 1 output channel (column).
//   pixel 0: (0x05, 0x30) -> blocks lane 0: a0 = 5, a1 = 0; lane 1: a0 = 0, a1 = 3
//   pixel 1: (0x00, 0x11) -> lane 0: 0, 0; lane 1: 1, 1
//   weights: (0x21, 0x40) -> lane 0: w0 = 1, w1 = 2; lane 1: w0 = 0, w1 = 4
// Computed block pairs (both blocks non-zero): pixel 0 lane 0: (0,0), (0,1) = 2; lane 1: (1,1) = 1;
// pixel 1 lane 0: none; lane 1: (0,1), (1,1) = 2. 5 computed of 2 x 2 x 4 = 16: 11 skipped.
TEST(RtlZeroGating, OneTileCountedByHand) {
  golden::Layer layer;
  layer.mode = Mode::k8;
  layer.shape.in_h = 1;
  layer.shape.in_w = 2;
  layer.shape.in_c = 2;
  layer.shape.out_c = 1;
  layer.weights = {0x21, 0x40};
  layer.out.shift = 0;
  const golden::PackedTensor in =
      golden::PackedTensor::from_values(1, 2, 2, Mode::k8, std::vector<int>{5, 0x30, 0, 0x11});
  auto acc = driver::make_accelerator(driver::Backend::kRtl);
  acc->set_gating(driver::Gating::kZeroBlocks);
  const driver::Counters c0 = acc->counters();
  const golden::PackedTensor out = acc->run(layer, in);
  const driver::Counters c = acc->counters() - c0;
  EXPECT_EQ(out.words, golden::conv2d(layer, in).words);
  EXPECT_EQ(c.mac8, 4u);
  EXPECT_EQ(c.blk, 5u);
  EXPECT_EQ(c.zskip, 11u);
}

}  // namespace
}  // namespace bitscale::dv
