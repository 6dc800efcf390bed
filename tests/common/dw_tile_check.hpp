// A MODE.DW tile (docs/NUMERICS.md "Depthwise mode") written word by word over the bus of any
// device and checked against the spec's formula, computed here independently of the golden model:
//   y[r][c] = sat_B( sum over e < K of lane(e mod P) of ACT bank r word ACT_BASE + (e / P) * Cols + c
//                                    x lane(e mod P) of WGT bank c word WGT_BASE + e / P )
// with SHIFT 0 (no rounding), no bias, no ReLU or clamp, so the output stage is saturation only.
// Also the counters of the tile: ARRAY += KW, BUSY += KW + 2, SPAD_RD += KW * (ROWS_ACT * Cols +
// COLS_ACT) (every active row reads a whole Cols-word row per word step), the mode's MAC counter
// += ROWS_ACT * COLS_ACT * K.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bitscale/driver/device.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::test {

struct DwTileCase {
  int array_rows = 16, array_cols = 16;  ///< geometry of the device
  std::uint32_t mode_code = regmap::kMode8;
  int bits = 8, lanes = 2;  ///< of mode_code
  int k = 9, rows = 16, cols = 16;
  int act_base = 0;  ///< a multiple of array_cols
  int wgt_base = 4;  ///< a multiple of 4 (whole lines)
  std::uint32_t seed = 1;
};

/// Signed value of lane `l` of a `bits`-bit-lane word.
inline std::int64_t dw_lane(std::uint16_t word, int l, int bits) {
  const std::uint32_t v = (static_cast<std::uint32_t>(word) >> (l * bits)) & ((1u << bits) - 1u);
  return (v & (1u << (bits - 1))) ? static_cast<std::int64_t>(v) - (std::int64_t{1} << bits)
                                  : static_cast<std::int64_t>(v);
}

/// Runs the tile on `dev` and checks outputs and counters; returns the output words (row-major,
/// array_cols / lanes words per row) so that two devices can also be compared with each other.
inline std::vector<std::uint16_t> check_dw_tile(driver::Device& dev, const DwTileCase& t) {
  namespace rm = regmap;
  using driver::bus_addr;
  using driver::BusOp;
  const auto wr = [&](std::uint32_t reg, std::uint64_t v) {
    EXPECT_FALSE(dev.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, reg), v).err) << rm::reg_name(reg);
  };
  const auto rd = [&](std::uint32_t reg) {
    return dev.access(BusOp::kRead, bus_addr(rm::kRegionCsr, 0, reg), 0).rdata;
  };
  const int kw = (t.k + t.lanes - 1) / t.lanes;
  const int row_words = kw * t.array_cols;
  std::mt19937 rng(t.seed);
  const auto word = [&] { return static_cast<std::uint16_t>(rng()); };
  // Activations: kw rows of Cols words per array row; weights: kw words per column. Random words,
  // lanes past K included (they must not count).
  std::vector<std::vector<std::uint16_t>> act(static_cast<std::size_t>(t.rows)), wgt(static_cast<std::size_t>(t.cols));
  for (auto& a : act) {
    a.resize(static_cast<std::size_t>(row_words));
    for (auto& w : a) w = word();
  }
  for (auto& v : wgt) {
    v.resize(static_cast<std::size_t>((kw + 3) / 4 * 4));
    for (auto& w : v) w = word();
  }
  const auto line = [](const std::vector<std::uint16_t>& v, std::size_t i) {
    std::uint64_t l = 0;
    for (std::size_t j = 0; j < 4; ++j) l |= std::uint64_t{v[4 * i + j]} << (16 * j);
    return l;
  };
  for (int r = 0; r < t.rows; ++r) {
    for (std::size_t i = 0; i < act[static_cast<std::size_t>(r)].size() / 4; ++i) {
      const auto a = bus_addr(rm::kRegionAct, static_cast<std::uint32_t>(r),
                              static_cast<std::uint32_t>(t.act_base / 4 + static_cast<int>(i)));
      EXPECT_FALSE(dev.access(BusOp::kWrite, a, line(act[static_cast<std::size_t>(r)], i)).err);
    }
  }
  for (int c = 0; c < t.cols; ++c) {
    for (std::size_t i = 0; i < wgt[static_cast<std::size_t>(c)].size() / 4; ++i) {
      const auto a = bus_addr(rm::kRegionWgt, static_cast<std::uint32_t>(c),
                              static_cast<std::uint32_t>(t.wgt_base / 4 + static_cast<int>(i)));
      EXPECT_FALSE(dev.access(BusOp::kWrite, a, line(wgt[static_cast<std::size_t>(c)], i)).err);
    }
  }
  wr(rm::kRegMODE, rm::kModeField.of(t.mode_code) | rm::kModeDwField.of(1));
  wr(rm::kRegK, static_cast<std::uint64_t>(t.k));
  wr(rm::kRegROWS_ACT, static_cast<std::uint64_t>(t.rows));
  wr(rm::kRegCOLS_ACT, static_cast<std::uint64_t>(t.cols));
  wr(rm::kRegACT_BASE, static_cast<std::uint64_t>(t.act_base));
  wr(rm::kRegWGT_BASE, static_cast<std::uint64_t>(t.wgt_base));
  wr(rm::kRegSHIFT, 0);
  wr(rm::kRegOUT_CFG, 0);
  const std::uint64_t array0 = rd(rm::kRegCNT_ARRAY), busy0 = rd(rm::kRegCNT_BUSY);
  const std::uint32_t mac_reg = t.bits == 16 ? rm::kRegCNT_MAC16 : t.bits == 8 ? rm::kRegCNT_MAC8 : rm::kRegCNT_MAC4;
  const std::uint64_t mac0 = rd(mac_reg);
  const std::uint64_t spad_rd0 = rd(rm::kRegCNT_SPAD_RD);
  wr(rm::kRegCTRL, rm::kCtrlStartField.of(1));
  const driver::WaitResult w = dev.wait(static_cast<std::uint64_t>(kw) + 100);
  EXPECT_TRUE(w.done);
  EXPECT_FALSE(w.err) << "STATUS " << rd(rm::kRegSTATUS);
  EXPECT_EQ(rd(rm::kRegCNT_ARRAY) - array0, static_cast<std::uint64_t>(kw));
  EXPECT_EQ(rd(rm::kRegCNT_BUSY) - busy0, static_cast<std::uint64_t>(kw) + rm::kBusyOverhead);
  EXPECT_EQ(rd(mac_reg) - mac0, static_cast<std::uint64_t>(t.rows) * t.cols * t.k);
  EXPECT_EQ(rd(rm::kRegCNT_SPAD_RD) - spad_rd0,
            static_cast<std::uint64_t>(kw) * (static_cast<std::uint64_t>(t.rows) * t.array_cols + t.cols));

  const std::int64_t hi = (std::int64_t{1} << (t.bits - 1)) - 1, lo = -hi - 1;
  const int out_words = t.array_cols / t.lanes;
  std::vector<std::uint16_t> out(static_cast<std::size_t>(t.rows * out_words));
  for (int r = 0; r < t.rows; ++r) {
    for (int l = 0; l < (out_words + 3) / 4; ++l) {
      const std::uint64_t v =
          dev.access(BusOp::kRead,
                     bus_addr(rm::kRegionOut, static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(l)), 0)
              .rdata;
      for (int j = 0; j < 4 && 4 * l + j < out_words; ++j)
        out[static_cast<std::size_t>(r * out_words + 4 * l + j)] = static_cast<std::uint16_t>(v >> (16 * j));
    }
    for (int c = 0; c < t.cols; ++c) {
      std::int64_t acc = 0;
      for (int e = 0; e < t.k; ++e) {
        const int step = e / t.lanes, lane = e % t.lanes;
        acc +=
            dw_lane(act[static_cast<std::size_t>(r)][static_cast<std::size_t>(step * t.array_cols + c)], lane, t.bits) *
            dw_lane(wgt[static_cast<std::size_t>(c)][static_cast<std::size_t>(step)], lane, t.bits);
      }
      const std::int64_t expected = std::clamp(acc, lo, hi);
      const std::uint16_t ow = out[static_cast<std::size_t>(r * out_words + c / t.lanes)];
      EXPECT_EQ(dw_lane(ow, c % t.lanes, t.bits), expected) << "row " << r << " column " << c << " K " << t.k;
    }
  }
  return out;
}

}  // namespace bitscale::test

namespace bitscale::test {

/// The START refusals of MODE.DW (docs/ARCHITECTURE.md): with a legal 8-bit configuration of K 9
/// (KW 5), ACT_BASE not a multiple of Cols -> ERR_BAD_DW; ACT_BASE + KW x Cols past the bank ->
/// ERR_BAD_K (checked before the alignment); the last aligned base that fits -> accepted.
inline void check_dw_refusals(driver::Device& dev, int array_cols, int act_words) {
  namespace rm = regmap;
  using driver::bus_addr;
  using driver::BusOp;
  const auto wr = [&](std::uint32_t reg, std::uint64_t v) {
    EXPECT_FALSE(dev.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, reg), v).err) << rm::reg_name(reg);
  };
  const auto code = [&] {
    return rm::kStatusCodeField.get(dev.access(BusOp::kRead, bus_addr(rm::kRegionCsr, 0, rm::kRegSTATUS), 0).rdata);
  };
  const auto start = [&] {
    wr(rm::kRegCTRL, rm::kCtrlStartField.of(1));
    return code();
  };
  const int kw = 5;
  wr(rm::kRegMODE, rm::kModeField.of(rm::kMode8) | rm::kModeDwField.of(1));
  wr(rm::kRegK, 9);
  wr(rm::kRegROWS_ACT, 1);
  wr(rm::kRegCOLS_ACT, static_cast<std::uint64_t>(array_cols));
  wr(rm::kRegWGT_BASE, 0);
  wr(rm::kRegSHIFT, 0);
  wr(rm::kRegOUT_CFG, 0);
  for (const int misaligned : {1, 4, array_cols / 2, array_cols + 4, 3 * array_cols - 1}) {
    if (misaligned % array_cols == 0) continue;
    wr(rm::kRegACT_BASE, static_cast<std::uint64_t>(misaligned));
    EXPECT_EQ(start(), rm::kErrBadDw) << "ACT_BASE " << misaligned;
  }
  const int last = act_words - kw * array_cols;  // KW rows of Cols words end at the bank's end
  wr(rm::kRegACT_BASE, static_cast<std::uint64_t>(last + array_cols));
  EXPECT_EQ(start(), rm::kErrBadK) << "ACT_BASE + KW x Cols past the bank";
  wr(rm::kRegACT_BASE, static_cast<std::uint64_t>(last + 1));  // misaligned and past the end: K first
  EXPECT_EQ(start(), rm::kErrBadK) << "the range is checked before the alignment";
  // Without DW, the same base is legal (KW words from it fit).
  wr(rm::kRegMODE, rm::kModeField.of(rm::kMode8));
  wr(rm::kRegACT_BASE, static_cast<std::uint64_t>(last + array_cols));
  EXPECT_EQ(start(), rm::kErrNone);
  EXPECT_TRUE(dev.wait(100).done);
  wr(rm::kRegMODE, rm::kModeField.of(rm::kMode8) | rm::kModeDwField.of(1));
  wr(rm::kRegACT_BASE, static_cast<std::uint64_t>(last));
  EXPECT_EQ(start(), rm::kErrNone) << "the last aligned base";
  const driver::WaitResult w = dev.wait(100);
  EXPECT_TRUE(w.done);
  EXPECT_FALSE(w.err);
}

}  // namespace bitscale::test
