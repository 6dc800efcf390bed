// Layer descriptions and packed activation tensors shared by golden, driver and host.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bitscale/golden/numeric.hpp"

namespace bitscale::golden {

namespace detail {
struct LayerKernels;  // golden/src/reference.cpp
}  // namespace detail

/// Shape of a (grouped) 2-D convolution; a fully-connected layer is a 1x1 convolution
/// on a 1x1xK input. Layouts: input HWC, weights [out_c][k_h][k_w][in_c/groups], output HWC.
struct ConvShape {
  int in_h = 1, in_w = 1, in_c = 1;
  int out_c = 1;
  int k_h = 1, k_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int groups = 1;

  [[nodiscard]] int out_h() const;
  [[nodiscard]] int out_w() const;
  /// Dot-product length of one output: k_h * k_w * in_c / groups.
  [[nodiscard]] int k() const;
  /// Number of weights: out_c * k().
  [[nodiscard]] std::int64_t weight_count() const;
  /// Multiply-accumulates of the layer: out_h * out_w * out_c * k().
  [[nodiscard]] std::int64_t macs() const;
  /// Throws std::invalid_argument naming the first impossible field
  /// (non-positive sizes, channels not divisible by groups, kernel larger than padded input...).
  void validate() const;
  /// "in 8x8x3, out 16, k 3x3, stride 1x1, pad 1,1,1,1, groups 1"
  [[nodiscard]] std::string to_string() const;
};

/// A quantized layer: weights and outputs in `mode`, bias in the accumulator domain.
struct Layer {
  ConvShape shape;
  Mode mode = Mode::k16;
  std::vector<std::int32_t> weights;  ///< shape.weight_count() values in the mode's range
  std::vector<std::int32_t> bias;     ///< empty (no bias) or out_c values (signed 32-bit)
  OutputStage out;
  /// Per-channel precision: empty (every output channel uses out.shift) or out_c shifts, one
  /// per output channel, replacing out.shift (docs/NUMERICS.md, "Per-channel shifts").
  std::vector<int> channel_shift;
  /// Ax-BxP configuration of the layer (docs/NUMERICS.md, "Approximate block products"): the block
  /// products skipped in every product of the layer; default exact. Must be legal in `mode`.
  Approx approx;
  /// The reference kernels' operands packed once by golden::seal() (reference.hpp), shared by copies;
  /// used only while the weights and the bias are the storage they were packed from. Empty: packed
  /// on every call.
  std::shared_ptr<const detail::LayerKernels> kernels;
  /// The shift of output channel n.
  [[nodiscard]] int shift(int n) const {
    return channel_shift.empty() ? out.shift : channel_shift[static_cast<std::size_t>(n)];
  }
  /// shape.validate(), sizes, weight ranges, output stage ranges; throws std::invalid_argument.
  void validate() const;
};

/// Activation tensor, HWC, packed along channels: each pixel takes packed_words(c) words.
struct PackedTensor {
  int h = 0, w = 0, c = 0;
  Mode mode = Mode::k16;
  std::vector<std::uint16_t> words;

  PackedTensor() = default;
  /// Zero tensor of the given shape.
  PackedTensor(int h, int w, int c, Mode mode);
  /// Pack HWC values (h*w*c of them, each in range).
  static PackedTensor from_values(int h, int w, int c, Mode mode, std::span<const std::int32_t> values);
  /// Same as `*this = from_values(...)`, reusing the storage of `words` (no allocation when it
  /// already holds as many words: for buffers reused across images).
  void assign_values(int h, int w, int c, Mode mode, std::span<const std::int32_t> values);
  [[nodiscard]] std::vector<std::int32_t> values() const;
  /// The values into `out`, resized to h*w*c (no allocation when it already has that size).
  void values(std::vector<std::int32_t>& out) const;
  [[nodiscard]] std::size_t words_per_pixel() const { return packed_words(static_cast<std::size_t>(c), mode); }
  [[nodiscard]] std::int32_t at(int y, int x, int ch) const;
  void set(int y, int x, int ch, std::int32_t v);
  friend bool operator==(const PackedTensor&, const PackedTensor&) = default;
};

}  // namespace bitscale::golden
