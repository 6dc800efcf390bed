// A mixed-mode sequence of layers whose per-mode block-product counters (CNT_BLK16, CNT_BLK8,
// CNT_BLK4; rtl/bsa_regs.def) are worked out by hand, run on any back-end: the unit tests run it on
// the golden device and the functional back-end, tests/rtl on the verilated array.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/reference.hpp"

namespace bitscale::test {

// A 1x1 convolution of `pixels` output pixels (1 x pixels), `in_c` input and `out_c` output channels:
// one tile at the default 16x16 geometry, pixels x out_c x in_c MACs.
inline golden::Layer blk_layer(golden::Mode m, int pixels, int in_c, int out_c, golden::Approx x,
                               std::vector<std::int32_t> weights) {
  golden::Layer l;
  l.mode = m;
  l.shape.in_h = 1;
  l.shape.in_w = pixels;
  l.shape.in_c = in_c;
  l.shape.out_c = out_c;
  l.weights = std::move(weights);
  l.out.shift = 0;
  l.approx = x;
  return l;
}

inline golden::PackedTensor blk_input(golden::Mode m, int pixels, int in_c, std::vector<int> values) {
  return golden::PackedTensor::from_values(1, pixels, in_c, m, std::move(values));
}

// The sequence, each layer's counts derived from its shape and mask alone:
//   A 16-bit, 2 pixels x 2 channels x K 3 = 12 MACs, mask 0x0F0F skips the 8 pairs with i = 0 or
//     i = 2 (bits 4i + j): 16 - 8 = 8 kept per MAC: 96 block products in 16-bit mode.
//   B 8-bit, 1 pixel x 3 channels x K 4 = 12 MACs, family c1 (skip (0, 0)): 3 kept: 36 in 8-bit mode.
//   C 4-bit, 2 pixels x 1 channel x K 5 = 10 MACs, exact (one block per operand): 10 in 4-bit mode.
//   D 8-bit with zero-block gating on (the tile of RtlZeroGating.OneTileCountedByHand): 4 MACs,
//     5 block products computed, 11 gated (CNT_ZSKIP).
// Totals: BLK16 96, BLK8 36 + 5 = 41, BLK4 10; BLK = 147 = their sum; ZSKIP 11 (one counter).
inline void check_blocks_per_mode(driver::Accelerator& acc) {
  using golden::Mode;
  const driver::Counters c0 = acc.counters();
  const golden::Layer a = blk_layer(Mode::k16, 2, 3, 2, golden::Approx{0x0F0F}, {1000, -2000, 3000, 40, -50, 60});
  const golden::PackedTensor ain = blk_input(Mode::k16, 2, 3, {12345, -321, 7, 0, 32767, -32768});
  EXPECT_EQ(acc.run(a, ain).words, golden::conv2d(a, ain).words);
  const driver::Counters ca = acc.counters() - c0;
  EXPECT_EQ(ca.mac16, 12u);
  EXPECT_EQ(ca.blk16, 96u);
  EXPECT_EQ(ca.blk8 + ca.blk4, 0u);

  const golden::Layer b =
      blk_layer(Mode::k8, 1, 4, 3, golden::approx_family(Mode::k8, 1), {1, -2, 3, -4, 5, -6, 7, -8, 127, -128, 9, 10});
  const golden::PackedTensor bin = blk_input(Mode::k8, 1, 4, {100, -100, 55, 0});
  EXPECT_EQ(acc.run(b, bin).words, golden::conv2d(b, bin).words);

  const golden::Layer c = blk_layer(Mode::k4, 2, 5, 1, golden::Approx{}, {1, -2, 3, 7, -8});
  const golden::PackedTensor cin = blk_input(Mode::k4, 2, 5, {1, 2, 3, 4, 5, -1, -2, -3, -4, -8});
  EXPECT_EQ(acc.run(c, cin).words, golden::conv2d(c, cin).words);

  acc.set_gating(driver::Gating::kZeroBlocks);
  const golden::Layer d = blk_layer(Mode::k8, 2, 2, 1, golden::Approx{}, {0x21, 0x40});
  const golden::PackedTensor din = blk_input(Mode::k8, 2, 2, {5, 0x30, 0, 0x11});
  EXPECT_EQ(acc.run(d, din).words, golden::conv2d(d, din).words);
  acc.set_gating(driver::Gating::kOff);

  const driver::Counters n = acc.counters() - c0;
  EXPECT_EQ(n.mac16, 12u);
  EXPECT_EQ(n.mac8, 16u);
  EXPECT_EQ(n.mac4, 10u);
  EXPECT_EQ(n.blk16, 96u);
  EXPECT_EQ(n.blk8, 41u);
  EXPECT_EQ(n.blk4, 10u);
  EXPECT_EQ(n.blk, 147u);
  EXPECT_EQ(n.zskip, 11u);
  EXPECT_EQ(n.overlap, 0u);  // serial transfers (the default): no scratchpad beat while a tile runs
}

}  // namespace bitscale::test
