// DPRed per-group precision (docs/DPRED.md): widths, sizes worked out by hand, lossless round
// trips (exhaustive on small groups, random tensors), and corrupt streams refused with the offset.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "bitscale/golden/group_code.hpp"

namespace bitscale::golden::dpred {
namespace {

TEST(GroupCode, MinWidthIsTheSmallestTwosComplementWidth) {
  // w bits hold -2^(w-1) .. 2^(w-1)-1.
  EXPECT_EQ(min_width(0), 1);
  EXPECT_EQ(min_width(-1), 1);
  EXPECT_EQ(min_width(1), 2);
  EXPECT_EQ(min_width(-2), 2);
  EXPECT_EQ(min_width(2), 3);
  EXPECT_EQ(min_width(127), 8);
  EXPECT_EQ(min_width(-128), 8);
  EXPECT_EQ(min_width(128), 9);
  EXPECT_EQ(min_width(32767), 16);
  EXPECT_EQ(min_width(-32768), 16);
  // Against the definition, for every 16-bit value.
  for (std::int32_t v = -32768; v <= 32767; ++v) {
    const int w = min_width(v);
    ASSERT_TRUE(v >= -(1 << (w - 1)) && v < (1 << (w - 1))) << v;
    if (w > 1) {
      ASSERT_FALSE(v >= -(1 << (w - 2)) && v < (1 << (w - 2))) << v;
    }
  }
  EXPECT_EQ(group_width(std::vector<std::int32_t>{}), 1);
  EXPECT_EQ(group_width(std::vector<std::int32_t>{0, 0, 0}), 1);
  EXPECT_EQ(group_width(std::vector<std::int32_t>{0, 3, -5, 1}), 4);
}

TEST(GroupCode, HeaderIsLog2OfTheDataWidth) {
  EXPECT_EQ(header_bits(16), 4);
  EXPECT_EQ(header_bits(8), 3);
  EXPECT_EQ(header_bits(4), 2);
  EXPECT_THROW((void)header_bits(12), std::invalid_argument);
}

TEST(GroupCode, SizesWorkedOutByHand) {
  // 16 zeros at 8 bits: dense 3 + 16 x 1 = 19; zero-skip 16 + 3 + 0 = 19: a tie stays dense.
  std::vector<std::int32_t> z(16, 0);
  TensorBits t = tensor_bits(z, 8, {});
  EXPECT_EQ(t.uncompressed, 128u);
  EXPECT_EQ(t.per_layer, 16u);
  EXPECT_EQ(t.dense, 19u);
  EXPECT_EQ(t.zero_skip, 19u);
  EXPECT_EQ(t.scheme(), Scheme::kDense);
  EXPECT_EQ(t.per_group(), 20u);
  // One 5 (4 bits) and 15 zeros: dense 3 + 64 = 67, zero-skip 16 + 3 + 4 = 23.
  z[7] = 5;
  t = tensor_bits(z, 8, {});
  EXPECT_EQ(t.dense, 67u);
  EXPECT_EQ(t.zero_skip, 23u);
  EXPECT_EQ(t.per_group(), 24u);
  EXPECT_EQ(encode(z, 8, {}).bits, 24u);
  EXPECT_EQ(encode(z, 8, {}).bytes.size(), 3u);
  // Runs of 20 values at 16 bits: groups of 16 and 4 per run. Run 1: 16 x 3 (width 3 for 3),
  // then 4 x -1 (width 1); run 2: the same. Dense: 2 x ((4 + 48) + (4 + 4)) = 120.
  std::vector<std::int32_t> r;
  for (int run = 0; run < 2; ++run) {
    r.insert(r.end(), 16, 3);
    r.insert(r.end(), 4, -1);
  }
  std::vector<std::uint8_t> widths;
  t = tensor_bits(r, 16, {.run = 20}, &widths);
  EXPECT_EQ(t.dense, 120u);
  EXPECT_EQ(t.zero_skip, 2u * ((16 + 4 + 48) + (4 + 4 + 4)));
  EXPECT_EQ(widths, (std::vector<std::uint8_t>{3, 1, 3, 1}));
  EXPECT_EQ(t.per_layer, 40u * 3);
}

TEST(GroupCode, BitLayoutOfASmallStream) {
  // One value -1 at 8 bits, runs of 1: dense (1 + 3 + 1 = 5 bits < zero-skip 1 + 1 + 3 + 1).
  // Bits LSB first: scheme 0, header 000 (width 1), value 1 -> 0b00010000.
  const Encoded e = encode(std::vector<std::int32_t>{-1}, 8, {.run = 1});
  EXPECT_EQ(e.scheme, Scheme::kDense);
  EXPECT_EQ(e.bits, 5u);
  EXPECT_EQ(e.bytes, (std::vector<std::uint8_t>{0x10}));
  // Zero-skip: [0, 6] at 4 bits in one group: map 10 (LSB first: 0, 1), header 11 (width 4),
  // value 0110. Stream: scheme 1 | map 0,1 | header 1,1 | 0,1,1,0 -> bits 1,0,1,1,1,0,1,1,0.
  // Dense would be 1 + 2 + 8 = 11 bits, zero-skip 1 + 2 + 2 + 4 = 9.
  const Encoded z = encode(std::vector<std::int32_t>{0, 6}, 4, {.run = 2});
  EXPECT_EQ(z.scheme, Scheme::kZeroSkip);
  EXPECT_EQ(z.bits, 9u);
  EXPECT_EQ(z.bytes, (std::vector<std::uint8_t>{0b11011101, 0b0}));
}

TEST(GroupCode, RoundTripIsExhaustiveOnSmallGroups) {
  // Every 4-bit triple, as one group and as a run of 2 plus a run of 1.
  for (int a = -8; a < 8; ++a) {
    for (int b = -8; b < 8; ++b) {
      for (int c = -8; c < 8; ++c) {
        const std::vector<std::int32_t> v{a, b, c};
        for (std::size_t run : {std::size_t{3}, std::size_t{2}}) {
          const Encoded e = encode(v, 4, {.run = run});
          ASSERT_EQ(e.bits, tensor_bits(v, 4, {.run = run}).per_group());
          ASSERT_EQ(decode(e.bytes, 3, 4, {.run = run}), v) << a << "," << b << "," << c;
        }
      }
    }
  }
  // Every 8-bit value alone and beside a zero.
  for (int a = -128; a < 128; ++a) {
    for (const std::vector<std::int32_t>& v : {std::vector<std::int32_t>{a}, std::vector<std::int32_t>{0, a}}) {
      const Encoded e = encode(v, 8, {});
      ASSERT_EQ(decode(e.bytes, v.size(), 8, {}), v) << a;
    }
  }
}

TEST(GroupCode, RoundTripOnRandomTensorsOfBothSchemes) {
  std::mt19937 rng(11);
  for (int data_bits : {4, 8, 16}) {
    for (double zero_fraction : {0.0, 0.5, 0.9}) {
      std::geometric_distribution<int> mag(0.3);
      std::bernoulli_distribution zero(zero_fraction), neg(0.5);
      const std::int32_t hi = (1 << (data_bits - 1)) - 1;
      std::vector<std::int32_t> v(27 * 37);
      for (auto& x : v) {
        const int m = std::min<int>(mag(rng), hi);
        x = zero(rng) ? 0 : (neg(rng) ? -m - 1 : m);
      }
      const Grouping g{.run = 27};
      const Encoded e = encode(v, data_bits, g);
      EXPECT_EQ(decode(e.bytes, v.size(), data_bits, g), v);
      const TensorBits t = tensor_bits(v, data_bits, g);
      EXPECT_EQ(e.bits, t.per_group());
      EXPECT_EQ(e.bytes.size(), (e.bits + 7) / 8);
      if (zero_fraction == 0.9) {
        EXPECT_EQ(e.scheme, Scheme::kZeroSkip);
      }
      if (zero_fraction == 0.0) {
        EXPECT_EQ(e.scheme, Scheme::kDense);
      }
    }
  }
}

TEST(GroupCode, BadInputIsRefusedNamingWhere) {
  try {
    (void)encode(std::vector<std::int32_t>{1, 2, 200}, 8, {});
    FAIL() << "out-of-range value accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("index 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)encode(std::vector<std::int32_t>{1}, 8, {.run = 0}), std::invalid_argument);
  EXPECT_THROW((void)decode(std::vector<std::uint8_t>{0}, 1, 5, {}), std::invalid_argument);

  std::vector<std::int32_t> v(16, 0);
  v[3] = 5;
  const Encoded e = encode(v, 8, {});  // zero-skip: scheme 1, map 16 bits (bit 3 set), header 3, value 4 bits
  ASSERT_EQ(e.scheme, Scheme::kZeroSkip);
  // Truncated (24 bits, the last byte dropped): the non-zero map at bit 1 no longer fits.
  std::vector<std::uint8_t> s(e.bytes.begin(), e.bytes.end() - 1);
  try {
    (void)decode(s, 16, 8, {});
    FAIL() << "truncated stream accepted";
  } catch (const DecodeError& d) {
    EXPECT_EQ(d.bit_offset(), 1u);
    EXPECT_NE(std::string(d.what()).find("truncated"), std::string::npos);
  }
  // A trailing byte.
  s = e.bytes;
  s.push_back(0);
  EXPECT_THROW((void)decode(s, 16, 8, {}), DecodeError);
  // Read as 15 values, the stream no longer parses (the header takes map bit 15: width 7).
  EXPECT_THROW((void)decode(e.bytes, 15, 8, {}), DecodeError);
  // The value made zero although the map says non-zero: bits 20..23 cleared.
  s = e.bytes;
  s[2] = static_cast<std::uint8_t>(s[2] & 0x0f);
  try {
    (void)decode(s, 16, 8, {});
    FAIL() << "zero marked non-zero accepted";
  } catch (const DecodeError& d) {
    EXPECT_EQ(d.bit_offset(), 20u);
  }
  // A header wider than needed: dense [1] (width 2) rewritten with header 2 (width 3).
  const Encoded one = encode(std::vector<std::int32_t>{1}, 8, {.run = 1});  // 0 | 001 | 01
  ASSERT_EQ(one.bytes, (std::vector<std::uint8_t>{0b00010010}));
  try {
    (void)decode(std::vector<std::uint8_t>{0b00010100}, 1, 8, {.run = 1});  // 0 | 010 | 100 (value 1 in 3 bits)
    FAIL() << "non-canonical header accepted";
  } catch (const DecodeError& d) {
    EXPECT_EQ(d.bit_offset(), 1u);
  }
  // Padding bits set.
  EXPECT_THROW((void)decode(std::vector<std::uint8_t>{0b10010010}, 1, 8, {.run = 1}), DecodeError);
  EXPECT_THROW((void)decode(std::vector<std::uint8_t>{}, 1, 8, {}), DecodeError);
}

// Bounded fuzzing: random bytes and single-bit flips of valid streams either decode or throw
// DecodeError; whatever decodes re-encodes, in the stream's scheme, to the same bytes (the code
// is canonical given the scheme).
TEST(GroupCode, CorruptStreamsNeverCrashAndDecodedOnesAreCanonical) {
  std::mt19937 rng(2018);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 40);
  std::size_t decoded = 0, refused = 0;
  const auto check = [&](const std::vector<std::uint8_t>& s, std::size_t count, int bits, Grouping g) {
    try {
      const auto v = decode(s, count, bits, g);
      ASSERT_EQ(v.size(), count);
      ASSERT_EQ(encode(v, bits, g, (s[0] & 1u) ? Scheme::kZeroSkip : Scheme::kDense).bytes, s);
      ++decoded;
    } catch (const DecodeError&) {
      ++refused;
    }
  };
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> s(static_cast<std::size_t>(len(rng)));
    for (auto& b : s) b = static_cast<std::uint8_t>(byte(rng));
    const int bits = (i % 3 == 0) ? 4 : (i % 3 == 1 ? 8 : 16);
    check(s, static_cast<std::size_t>(i % 19), bits, {.run = static_cast<std::size_t>(1 + i % 23)});
  }
  std::vector<std::int32_t> v(40);
  for (int i = 0; i < 400; ++i) {
    for (auto& x : v) x = (byte(rng) < 128) ? 0 : byte(rng) - 128;
    const Encoded e = encode(v, 8, {.run = 20});
    for (std::uint64_t bit = 0; bit < e.bits; bit += 3) {
      std::vector<std::uint8_t> s = e.bytes;
      s[bit / 8] = static_cast<std::uint8_t>(s[bit / 8] ^ (1u << (bit % 8)));
      check(s, v.size(), 8, {.run = 20});
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(decoded, 0u);
}

}  // namespace
}  // namespace bitscale::golden::dpred
