// DPRed per-group precision (Delmas Lascorz et al., 2018; docs/DPRED.md): the width a group of
// values needs, and the lossless off-chip encoding of a tensor in groups of 16 values, dense or
// zero-skipping, chosen per tensor. The rules follow the authors' simulator DNNsim
// (core/src/DynamicStripes.cpp, ShapeShifter.cpp); the bit layout is this project's, written
// down in docs/DPRED.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace bitscale::golden::dpred {

/// Values per group: 16 consecutive channels of one activation pixel, or 16 consecutive input
/// channels of one filter at one (kx, ky).
inline constexpr int kGroupSize = 16;

/// Bits of the minimal two's-complement representation of v, sign included (0 and -1: 1 bit,
/// 1: 2 bits, 127 and -128: 8 bits).
[[nodiscard]] int min_width(std::int32_t v);

/// Width of a group: the largest min_width of its values (an empty or all-zero group: 1).
[[nodiscard]] int group_width(std::span<const std::int32_t> group);

/// Bits of a group's width header for `data_bits`-bit data: log2(data_bits) (4 for 16-bit data,
/// 3 for 8-bit, 2 for 4-bit); the header stores width - 1.
[[nodiscard]] int header_bits(int data_bits);

/// The two ways a group is stored off-chip.
enum class Scheme : std::uint8_t {
  kDense,     ///< header + n x width bits
  kZeroSkip,  ///< n-bit non-zero map + header + width bits per non-zero value
};
[[nodiscard]] std::string_view to_string(Scheme s);

/// How a tensor is cut into groups: runs of `run` consecutive values (the channels of one pixel,
/// the input channels of one filter tap), each cut into groups of kGroupSize values, the last
/// group of a run holding the remainder.
struct Grouping {
  std::size_t run = kGroupSize;
};

/// Sizes in bits of one tensor under each storage.
struct TensorBits {
  std::uint64_t values = 0;        ///< number of values
  std::uint64_t uncompressed = 0;  ///< values x data_bits
  std::uint64_t per_layer = 0;     ///< values x the tensor's widest value (one precision per tensor)
  std::uint64_t dense = 0;         ///< per-group, dense
  std::uint64_t zero_skip = 0;     ///< per-group, zero-skipping
  /// The encoded size: 1 scheme bit + the smaller of dense and zero_skip (docs/DPRED.md).
  [[nodiscard]] std::uint64_t per_group() const;
  [[nodiscard]] Scheme scheme() const { return zero_skip < dense ? Scheme::kZeroSkip : Scheme::kDense; }
};

/// Sizes of `values` (each in the signed `data_bits` range; data_bits 4, 8 or 16) grouped by `g`,
/// without building the stream. `widths`, if given, receives each group's width in stream order.
/// Throws std::invalid_argument naming the first value out of range or a bad grouping.
[[nodiscard]] TensorBits tensor_bits(std::span<const std::int32_t> values, int data_bits, Grouping g,
                                     std::vector<std::uint8_t>* widths = nullptr);

/// An encoded tensor: the bit stream (LSB first within each byte, zero-padded to a byte).
struct Encoded {
  Scheme scheme = Scheme::kDense;
  std::uint64_t bits = 0;  ///< meaningful bits (= TensorBits::per_group())
  std::vector<std::uint8_t> bytes;
};

/// Encodes `values` in the smaller scheme (dense on a tie). Same errors as tensor_bits.
[[nodiscard]] Encoded encode(std::span<const std::int32_t> values, int data_bits, Grouping g);
/// Encodes `values` in the given scheme (decode reads either).
[[nodiscard]] Encoded encode(std::span<const std::int32_t> values, int data_bits, Grouping g, Scheme scheme);

/// A stream that is not the encoding of `count` values: names the bit offset and what is wrong.
class DecodeError : public std::runtime_error {
 public:
  DecodeError(std::uint64_t bit_offset, const std::string& what);
  [[nodiscard]] std::uint64_t bit_offset() const { return bit_offset_; }

 private:
  std::uint64_t bit_offset_;
};

/// The `count` values of `stream` (as encode wrote it for the same data_bits and grouping).
/// Accepts exactly the streams encode writes (in either scheme): a truncated stream, trailing bytes or
/// non-zero padding, a group header wider than its values need, or a value the non-zero map calls
/// non-zero that is zero throw DecodeError.
[[nodiscard]] std::vector<std::int32_t> decode(std::span<const std::uint8_t> stream, std::size_t count, int data_bits,
                                               Grouping g);

}  // namespace bitscale::golden::dpred
