// Numeric spec (docs/NUMERICS.md): modes, packing, rounding, saturation, output stage.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/golden/numeric.hpp"
#include "test_seed.hpp"

namespace bitscale::golden {
namespace {

constexpr Mode kModes[] = {Mode::k16, Mode::k8, Mode::k4};

using bitscale::test::test_seed;

/// Independent packing formula: element e at bits [B*(e mod P) + B-1 : B*(e mod P)] of word e/P.
std::uint16_t pack_word_formula(const std::vector<std::int32_t>& lane_values, int b) {
  std::uint32_t w = 0;
  for (std::size_t l = 0; l < lane_values.size(); ++l) {
    w |= (static_cast<std::uint32_t>(lane_values[l]) & ((1u << b) - 1u)) << (b * static_cast<int>(l));
  }
  return static_cast<std::uint16_t>(w);
}

/// Independent sign extension of the B-bit field of `word` at lane `l`.
std::int32_t field_formula(std::uint16_t word, int l, int b) {
  const std::int64_t raw = (word >> (b * l)) & ((1 << b) - 1);
  return static_cast<std::int32_t>(raw >= (std::int64_t{1} << (b - 1)) ? raw - (std::int64_t{1} << b) : raw);
}

/// floor((acc + 2^(s-1)) / 2^s) with 128-bit arithmetic and an explicit floor.
std::int64_t round_shift_formula(std::int64_t acc, int s) {
  if (s == 0) return acc;
  const __int128 n = static_cast<__int128>(acc) + (static_cast<__int128>(1) << (s - 1));
  const __int128 d = static_cast<__int128>(1) << s;
  __int128 q = n / d;
  if (n % d != 0 && n < 0) q -= 1;
  return static_cast<std::int64_t>(q);
}

TEST(Numeric, ModeTable) {
  EXPECT_EQ(bits(Mode::k16), 16);
  EXPECT_EQ(bits(Mode::k8), 8);
  EXPECT_EQ(bits(Mode::k4), 4);
  EXPECT_EQ(lanes(Mode::k16), 1);
  EXPECT_EQ(lanes(Mode::k8), 2);
  EXPECT_EQ(lanes(Mode::k4), 4);
  EXPECT_EQ(min_value(Mode::k16), -32768);
  EXPECT_EQ(max_value(Mode::k16), 32767);
  EXPECT_EQ(min_value(Mode::k8), -128);
  EXPECT_EQ(max_value(Mode::k8), 127);
  EXPECT_EQ(min_value(Mode::k4), -8);
  EXPECT_EQ(max_value(Mode::k4), 7);
  EXPECT_EQ(static_cast<int>(Mode::k16), 0);  // MODE register encoding
  EXPECT_EQ(static_cast<int>(Mode::k8), 1);
  EXPECT_EQ(static_cast<int>(Mode::k4), 2);
  for (Mode m : kModes) EXPECT_EQ(mode_from_bits(bits(m)), m);
  for (int b : {0, 1, 2, 3, 5, 12, 32, -4}) EXPECT_THROW((void)mode_from_bits(b), std::invalid_argument) << b;
  EXPECT_EQ(to_string(Mode::k16), "16-bit");
  EXPECT_EQ(to_string(Mode::k8), "8-bit");
  EXPECT_EQ(to_string(Mode::k4), "4-bit");
  EXPECT_EQ(packed_words(0, Mode::k4), 0u);
  EXPECT_EQ(packed_words(5, Mode::k4), 2u);
  EXPECT_EQ(packed_words(5, Mode::k8), 3u);
  EXPECT_EQ(packed_words(5, Mode::k16), 5u);
}

// Every value in every lane, on top of several backgrounds: set_lane writes exactly its field,
// get_lane reads it back sign-extended, and the other lanes are untouched.
TEST(Numeric, SetGetLaneExhaustive) {
  for (Mode m : kModes) {
    const int b = bits(m);
    for (std::uint16_t background : {std::uint16_t{0}, std::uint16_t{0xFFFF}, std::uint16_t{0xA5C3}}) {
      for (int lane = 0; lane < lanes(m); ++lane) {
        for (std::int32_t v = min_value(m); v <= max_value(m); ++v) {
          const std::uint16_t w = set_lane(background, lane, m, v);
          ASSERT_EQ(get_lane(w, lane, m), v) << to_string(m) << " lane " << lane;
          ASSERT_EQ(field_formula(w, lane, b), v);
          const std::uint32_t field_mask = ((1u << b) - 1u) << (b * lane);
          ASSERT_EQ(w & ~field_mask & 0xFFFFu, background & ~field_mask & 0xFFFFu) << "other lanes changed";
        }
      }
    }
    EXPECT_THROW((void)get_lane(0, lanes(m), m), std::out_of_range);
    EXPECT_THROW((void)get_lane(0, -1, m), std::out_of_range);
    EXPECT_THROW((void)set_lane(0, lanes(m), m, 0), std::out_of_range);
  }
}

// Every 16-bit word in every mode: unpack then pack is the identity, and the unpacked lanes
// agree with the independent field formula (which covers every value in every lane).
TEST(Numeric, PackUnpackEveryWord) {
  for (Mode m : kModes) {
    const int p = lanes(m);
    std::vector<std::int32_t> vals(static_cast<std::size_t>(p));
    std::vector<std::uint16_t> out(1);
    for (std::uint32_t w = 0; w <= 0xFFFF; ++w) {
      const std::uint16_t word = static_cast<std::uint16_t>(w);
      unpack(std::span<const std::uint16_t>(&word, 1), m, vals);
      for (int l = 0; l < p; ++l) ASSERT_EQ(vals[static_cast<std::size_t>(l)], field_formula(word, l, bits(m)));
      ASSERT_EQ(pack_word_formula(vals, bits(m)), word);
      pack(vals, m, out);
      ASSERT_EQ(out[0], word) << to_string(m);
    }
  }
}

TEST(Numeric, PackVectorsRandom) {
  std::mt19937_64 rng(test_seed());
  for (Mode m : kModes) {
    const int p = lanes(m);
    for (int iter = 0; iter < 200; ++iter) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 37)(rng);
      std::vector<std::int32_t> v(n);
      for (auto& x : v) x = std::uniform_int_distribution<std::int32_t>(min_value(m), max_value(m))(rng);
      std::vector<std::uint16_t> words(packed_words(n, m) + 2, 0xBEEF);
      pack(v, m, words);
      for (std::size_t wi = 0; wi < packed_words(n, m); ++wi) {
        std::vector<std::int32_t> lanes_v(static_cast<std::size_t>(p), 0);  // unused lanes are 0
        for (int l = 0; l < p; ++l) {
          const std::size_t e = wi * static_cast<std::size_t>(p) + static_cast<std::size_t>(l);
          if (e < n) lanes_v[static_cast<std::size_t>(l)] = v[e];
        }
        ASSERT_EQ(words[wi], pack_word_formula(lanes_v, bits(m))) << "word " << wi;
      }
      EXPECT_EQ(words[packed_words(n, m)], 0xBEEF) << "pack wrote past its words";
      std::vector<std::int32_t> back(n);
      unpack(words, m, back);
      EXPECT_EQ(back, v);
    }
  }
}

TEST(Numeric, PackErrors) {
  std::vector<std::int32_t> v = {1, 2, 3, 8, 4};
  std::vector<std::uint16_t> words(2);
  try {
    pack(v, Mode::k4, words);
    FAIL() << "no exception for 8 in 4-bit mode";
  } catch (const std::out_of_range& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("index 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("8"), std::string::npos) << msg;
  }
  std::vector<std::uint16_t> w1(1), w2(2), w3(3);
  v[3] = -129;
  EXPECT_THROW(pack(v, Mode::k8, w3), std::out_of_range);
  v[3] = 0;
  EXPECT_THROW(pack(v, Mode::k4, w1), std::out_of_range);  // needs 2 words
  std::vector<std::int32_t> out(5);
  EXPECT_THROW(unpack(std::vector<std::uint16_t>(4), Mode::k16, out), std::out_of_range);
  v = {-32768, 32767};
  EXPECT_NO_THROW(pack(v, Mode::k16, w2));
  v = {32768};
  EXPECT_THROW(pack(v, Mode::k16, w1), std::out_of_range);
}

// pack checks the range once per call and packs whole words in a separate loop: long vectors
// (vectorised body plus a partial last word) still match the field formula, and an error names
// the first value out of range, not the smallest or the largest.
TEST(Numeric, PackLongVectorsAndFirstError) {
  std::mt19937_64 rng(test_seed());
  for (Mode m : kModes) {
    const int p = lanes(m);
    for (const std::size_t n : {std::size_t{1000}, std::size_t{1001}, std::size_t{1003}}) {
      std::vector<std::int32_t> v(n);
      for (auto& x : v) x = std::uniform_int_distribution<std::int32_t>(min_value(m), max_value(m))(rng);
      std::vector<std::uint16_t> words(packed_words(n, m));
      pack(v, m, words);
      for (std::size_t wi = 0; wi < words.size(); ++wi) {
        std::vector<std::int32_t> lanes_v(static_cast<std::size_t>(p), 0);
        for (std::size_t l = 0; l < static_cast<std::size_t>(p); ++l) {
          if (wi * static_cast<std::size_t>(p) + l < n) lanes_v[l] = v[wi * static_cast<std::size_t>(p) + l];
        }
        ASSERT_EQ(words[wi], pack_word_formula(lanes_v, bits(m))) << to_string(m) << " word " << wi;
      }
      std::vector<std::int32_t> back(n);
      unpack(words, m, back);
      EXPECT_EQ(back, v);
      v[700] = max_value(m) + 1;
      v[900] = min_value(m) - 5;  // further out, but later
      try {
        pack(v, m, words);
        ADD_FAILURE() << "no exception for " << v[700] << " in " << to_string(m);
      } catch (const std::out_of_range& e) {
        EXPECT_NE(std::string(e.what()).find("index 700"), std::string::npos) << e.what();
      }
    }
  }
}

TEST(Numeric, RoundShiftWorkedExamples) {
  // docs/NUMERICS.md: s = 1 maps 3 -> 2, -3 -> -1, 5 -> 3, -5 -> -2.
  EXPECT_EQ(round_shift(3, 1), 2);
  EXPECT_EQ(round_shift(-3, 1), -1);
  EXPECT_EQ(round_shift(5, 1), 3);
  EXPECT_EQ(round_shift(-5, 1), -2);
  EXPECT_EQ(round_shift(-1, 1), 0);   // -0.5 rounds up to 0
  EXPECT_EQ(round_shift(1, 1), 1);    // 0.5 rounds up to 1
  EXPECT_EQ(round_shift(-6, 2), -1);  // -1.5 -> -1
  EXPECT_EQ(round_shift(-7, 2), -2);  // -1.75 -> -2
  EXPECT_EQ(round_shift(123456789, 0), 123456789);
  EXPECT_EQ(round_shift(-123456789, 0), -123456789);
  EXPECT_THROW((void)round_shift(1, -1), std::invalid_argument);
  EXPECT_THROW((void)round_shift(1, kAccBits), std::invalid_argument);
}

TEST(Numeric, RoundShiftMatchesFloorFormula) {
  std::mt19937_64 rng(test_seed());
  const std::int64_t lim = (std::int64_t{1} << 47) - 1;
  std::vector<std::int64_t> accs = {0, 1, -1, 2, -2, lim, -lim - 1, lim - 1, -lim};
  for (int s = 1; s < kAccBits; ++s) {  // exact ties and their neighbours
    const std::int64_t h = std::int64_t{1} << (s - 1);
    for (std::int64_t m : {std::int64_t{-3}, std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}, std::int64_t{5}}) {
      for (std::int64_t d : {std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}}) accs.push_back(m * 2 * h + h + d);
    }
  }
  std::uniform_int_distribution<std::int64_t> any(-lim - 1, lim);
  for (int i = 0; i < 4000; ++i) accs.push_back(any(rng));
  for (int i = 0; i < 1000; ++i) accs.push_back(any(rng) >> std::uniform_int_distribution<int>(0, 46)(rng));
  for (std::int64_t acc : accs) {
    for (int s = 0; s < kAccBits; ++s) {
      ASSERT_EQ(round_shift(acc, s), round_shift_formula(acc, s)) << "acc " << acc << " s " << s;
    }
  }
  // Ties go up: (2m+1) * 2^(s-1) -> m + 1.
  for (int s = 1; s < kAccBits; ++s) {
    for (std::int64_t m = -4; m <= 4; ++m) {
      ASSERT_EQ(round_shift((2 * m + 1) * (std::int64_t{1} << (s - 1)), s), m + 1) << "m " << m << " s " << s;
    }
  }
}

TEST(Numeric, SaturateEdges) {
  for (Mode m : kModes) {
    const std::int64_t lo = min_value(m), hi = max_value(m);
    EXPECT_EQ(saturate(lo, m), lo);
    EXPECT_EQ(saturate(hi, m), hi);
    EXPECT_EQ(saturate(lo - 1, m), lo);
    EXPECT_EQ(saturate(hi + 1, m), hi);
    EXPECT_EQ(saturate(0, m), 0);
    EXPECT_EQ(saturate(std::numeric_limits<std::int64_t>::max(), m), hi);
    EXPECT_EQ(saturate(std::numeric_limits<std::int64_t>::min(), m), lo);
    EXPECT_EQ(saturate(std::int64_t{1} << 40, m), hi);
    EXPECT_EQ(saturate(-(std::int64_t{1} << 40), m), lo);
    for (std::int64_t v = lo; v <= hi; v += (hi - lo) / 17 + 1) EXPECT_EQ(saturate(v, m), v);
  }
}

TEST(Numeric, OutputStageOrder) {
  // CLAMP_HI < 0 with RELU: ReLU first, then the clamp: every output is CLAMP_HI.
  OutputStage os{.shift = 3, .relu = true, .clamp = true, .clamp_hi = -3};
  for (std::int64_t acc :
       {std::int64_t{-100000}, std::int64_t{-1}, std::int64_t{0}, std::int64_t{5}, std::int64_t{1} << 40}) {
    for (Mode m : kModes) EXPECT_EQ(output_value(acc, m, os), -3) << acc;
  }
  // Shift and round before saturating: 255 >> 1 rounds to 128, saturates to 127 in 8-bit.
  EXPECT_EQ(output_value(255, Mode::k8, {.shift = 1}), 127);
  EXPECT_EQ(output_value(-257, Mode::k8, {.shift = 1}), -128);
  EXPECT_EQ(output_value(-258, Mode::k8, {.shift = 1}), -128);
  EXPECT_EQ(output_value(-259, Mode::k8, {.shift = 1}), -128);  // -129.5 -> -129 -> saturated
  EXPECT_EQ(output_value(-255, Mode::k8, {.shift = 1}), -127);  // -127.5 -> -127
  // Saturate before the clamp: a clamp above the range changes nothing.
  EXPECT_EQ(output_value(1000, Mode::k4, {.clamp = true, .clamp_hi = 100}), 7);
  EXPECT_EQ(output_value(1000, Mode::k4, {.clamp = true, .clamp_hi = 5}), 5);
  EXPECT_EQ(output_value(-1000, Mode::k4, {.relu = true}), 0);
  EXPECT_EQ(output_value(-1000, Mode::k4, {}), -8);
  // ReLU6 with 2 fractional bits in 8-bit mode: clamp at 24.
  const OutputStage relu6{.shift = 0, .relu = true, .clamp = true, .clamp_hi = 24};
  EXPECT_EQ(output_value(23, Mode::k8, relu6), 23);
  EXPECT_EQ(output_value(25, Mode::k8, relu6), 24);
  EXPECT_EQ(output_value(-25, Mode::k8, relu6), 0);
  // The layer stage saturates clamp_hi to the mode's range.
  const OutputStage low{.shift = 0, .relu = false, .clamp = true, .clamp_hi = -100};
  EXPECT_EQ(layer_output_stage(low, Mode::k4).clamp_hi, -8);
  EXPECT_EQ(layer_output_stage(low, Mode::k8).clamp_hi, -100);
  EXPECT_EQ(layer_output_stage({.clamp_hi = 32767}, Mode::k8).clamp_hi, 127);
  EXPECT_EQ(output_value(0, Mode::k4, low), -100);  // the raw stage leaves the range (low bits packed)
  EXPECT_EQ(output_value(0, Mode::k4, layer_output_stage(low, Mode::k4)), -8);
}

TEST(Numeric, OutputStageRandomVsFormula) {
  std::mt19937_64 rng(test_seed());
  for (int i = 0; i < 20000; ++i) {
    const Mode m = kModes[i % 3];
    OutputStage os;
    os.shift = std::uniform_int_distribution<int>(0, kAccBits - 1)(rng);
    os.relu = (rng() & 1) != 0;
    os.clamp = (rng() & 2) != 0;
    os.clamp_hi = static_cast<std::int16_t>(rng());
    const int mag = std::uniform_int_distribution<int>(0, 46)(rng);
    const std::int64_t acc =
        std::uniform_int_distribution<std::int64_t>(-(std::int64_t{1} << mag), std::int64_t{1} << mag)(rng);
    // Independent: long double floor of the real quotient, then the listed steps.
    const long double q = std::floor((static_cast<long double>(acc) + (os.shift ? std::ldexp(1.0L, os.shift - 1) : 0)) /
                                     std::ldexp(1.0L, os.shift));
    long double y = std::fmin(std::fmax(q, min_value(m)), max_value(m));
    if (os.relu) y = std::fmax(y, 0);
    if (os.clamp) y = std::fmin(y, static_cast<long double>(os.clamp_hi));
    ASSERT_EQ(output_value(acc, m, os), static_cast<std::int32_t>(y))
        << "acc " << acc << " shift " << os.shift << " " << to_string(m);
    const std::int32_t v = output_value(acc, m, layer_output_stage(os, m));
    ASSERT_GE(v, min_value(m));
    ASSERT_LE(v, max_value(m));
  }
}

}  // namespace
}  // namespace bitscale::golden
