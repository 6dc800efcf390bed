// Layer descriptions and packed activation tensors.
#include "bitscale/golden/tensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "vector_ops.hpp"

namespace bitscale::golden {

namespace {

/// Largest size accepted for any dimension, padding or stride.
constexpr int kMaxDim = 1 << 16;
/// Largest dot-product length and weight count accepted (far beyond any bank, but keeps every
/// derived size inside int / int64 arithmetic).
constexpr std::int64_t kMaxK = std::int64_t{1} << 24;
constexpr std::int64_t kMaxWeights = std::int64_t{1} << 30;

/// floor(a / b) for b > 0.
int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

void check_range(const char* field, int v, int lo, int hi) {
  if (v < lo || v > hi) {
    throw std::invalid_argument(fmt::format("ConvShape: {} = {} outside {} .. {}", field, v, lo, hi));
  }
}

}  // namespace

int ConvShape::out_h() const { return floor_div(in_h + pad_top + pad_bottom - k_h, stride_h) + 1; }
int ConvShape::out_w() const { return floor_div(in_w + pad_left + pad_right - k_w, stride_w) + 1; }
int ConvShape::k() const { return k_h * k_w * (in_c / groups); }
std::int64_t ConvShape::weight_count() const { return std::int64_t{out_c} * k(); }
std::int64_t ConvShape::macs() const { return std::int64_t{out_h()} * out_w() * out_c * k(); }

void ConvShape::validate() const {
  check_range("in_h", in_h, 1, kMaxDim);
  check_range("in_w", in_w, 1, kMaxDim);
  check_range("in_c", in_c, 1, kMaxDim);
  check_range("out_c", out_c, 1, kMaxDim);
  check_range("k_h", k_h, 1, kMaxDim);
  check_range("k_w", k_w, 1, kMaxDim);
  check_range("stride_h", stride_h, 1, kMaxDim);
  check_range("stride_w", stride_w, 1, kMaxDim);
  check_range("pad_top", pad_top, 0, kMaxDim);
  check_range("pad_left", pad_left, 0, kMaxDim);
  check_range("pad_bottom", pad_bottom, 0, kMaxDim);
  check_range("pad_right", pad_right, 0, kMaxDim);
  check_range("groups", groups, 1, kMaxDim);
  if (in_c % groups != 0) {
    throw std::invalid_argument(fmt::format("ConvShape: in_c = {} not divisible by groups = {}", in_c, groups));
  }
  if (out_c % groups != 0) {
    throw std::invalid_argument(fmt::format("ConvShape: out_c = {} not divisible by groups = {}", out_c, groups));
  }
  if (k_h > in_h + pad_top + pad_bottom) {
    throw std::invalid_argument(
        fmt::format("ConvShape: k_h = {} larger than the padded input height {}", k_h, in_h + pad_top + pad_bottom));
  }
  if (k_w > in_w + pad_left + pad_right) {
    throw std::invalid_argument(
        fmt::format("ConvShape: k_w = {} larger than the padded input width {}", k_w, in_w + pad_left + pad_right));
  }
  const std::int64_t kk = std::int64_t{k_h} * k_w * (in_c / groups);
  if (kk > kMaxK) throw std::invalid_argument(fmt::format("ConvShape: k = {} larger than {}", kk, kMaxK));
  if (kk * out_c > kMaxWeights) {
    throw std::invalid_argument(fmt::format("ConvShape: {} weights, more than {}", kk * out_c, kMaxWeights));
  }
}

std::string ConvShape::to_string() const {
  return fmt::format("in {}x{}x{}, out {}, k {}x{}, stride {}x{}, pad {},{},{},{}, groups {}", in_h, in_w, in_c, out_c,
                     k_h, k_w, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, groups);
}

void Layer::validate() const {
  shape.validate();
  if (static_cast<std::int64_t>(weights.size()) != shape.weight_count()) {
    throw std::invalid_argument(fmt::format("Layer ({}): {} weights, expected out_c * k = {}", shape.to_string(),
                                            weights.size(), shape.weight_count()));
  }
  // One min/max pass (vectorised: this runs on every layer call); the search only on failure.
  const auto [lo, hi] = detail::minmax_i32(weights.data(), weights.size());
  for (std::size_t i = 0; (lo < min_value(mode) || hi > max_value(mode)) && i < weights.size(); ++i) {
    if (weights[i] < min_value(mode) || weights[i] > max_value(mode)) {
      throw std::invalid_argument(fmt::format("Layer: weight {} = {} outside the {} range {} .. {}", i, weights[i],
                                              to_string(mode), min_value(mode), max_value(mode)));
    }
  }
  if (!bias.empty() && static_cast<int>(bias.size()) != shape.out_c) {
    throw std::invalid_argument(
        fmt::format("Layer: {} bias values, expected 0 or out_c = {}", bias.size(), shape.out_c));
  }
  if (out.shift < 0 || out.shift >= kAccBits) {
    throw std::invalid_argument(fmt::format("Layer: shift = {} outside 0 .. {}", out.shift, kAccBits - 1));
  }
  if (!channel_shift.empty() && static_cast<int>(channel_shift.size()) != shape.out_c) {
    throw std::invalid_argument(
        fmt::format("Layer: {} channel shifts, expected 0 or out_c = {}", channel_shift.size(), shape.out_c));
  }
  for (std::size_t n = 0; n < channel_shift.size(); ++n) {
    if (channel_shift[n] < 0 || channel_shift[n] >= kAccBits) {
      throw std::invalid_argument(
          fmt::format("Layer: shift of channel {} = {} outside 0 .. {}", n, channel_shift[n], kAccBits - 1));
    }
  }
  if (!approx_legal(approx, mode)) {
    throw std::invalid_argument(
        fmt::format("Layer: Ax-BxP skip mask {:#06x} has bits outside the {} block grid {:#06x}", approx.skip,
                    to_string(mode), approx_grid(mode)));
  }
  // clamp_hi: any signed 16-bit value (it is saturated to the mode's range when applied).
}

namespace {

void check_shape(int h, int w, int c) {
  if (h < 0 || w < 0 || c < 0 || h > kMaxDim || w > kMaxDim || c > kMaxDim) {
    throw std::invalid_argument(fmt::format("PackedTensor: shape {}x{}x{} outside 0 .. {}", h, w, c, kMaxDim));
  }
}

}  // namespace

PackedTensor::PackedTensor(int height, int width, int channels, Mode m) : h(height), w(width), c(channels), mode(m) {
  check_shape(h, w, c);
  words.assign(static_cast<std::size_t>(h) * static_cast<std::size_t>(w) * words_per_pixel(), 0);
}

PackedTensor PackedTensor::from_values(int h, int w, int c, Mode mode, std::span<const std::int32_t> values) {
  PackedTensor t;
  t.assign_values(h, w, c, mode, values);
  return t;
}

void PackedTensor::assign_values(int height, int width, int channels, Mode m, std::span<const std::int32_t> values) {
  check_shape(height, width, channels);
  const std::size_t pixels = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  const std::size_t n = pixels * static_cast<std::size_t>(channels);
  if (values.size() != n) {
    throw std::invalid_argument(fmt::format("PackedTensor::from_values: {} values for shape {}x{}x{} ({} expected)",
                                            values.size(), height, width, channels, n));
  }
  h = height, w = width, c = channels, mode = m;
  const std::size_t wpp = words_per_pixel();
  words.resize(pixels * wpp);  // every word is written below (unused lanes 0)
  const std::span<std::uint16_t> dst(words);
  const auto pack_pixel = [&](std::size_t px) {
    pack(values.subspan(px * static_cast<std::size_t>(c), static_cast<std::size_t>(c)), mode,
         dst.subspan(px * wpp, wpp));
  };
  try {
    if (static_cast<std::size_t>(c) % static_cast<std::size_t>(lanes(mode)) == 0) {
      pack(values, mode, dst);  // no partial words: one dense run, one range check
    } else {
      for (std::size_t px = 0; px < pixels; ++px) pack_pixel(px);
    }
  } catch (const std::out_of_range&) {  // name the pixel
    for (std::size_t px = 0; px < pixels; ++px) {
      try {
        pack_pixel(px);
      } catch (const std::out_of_range& e) {
        throw std::out_of_range(fmt::format("PackedTensor::from_values: pixel (y {}, x {}): {}",
                                            px / static_cast<std::size_t>(w), px % static_cast<std::size_t>(w),
                                            e.what()));
      }
    }
    throw;
  }
}

std::vector<std::int32_t> PackedTensor::values() const {
  std::vector<std::int32_t> out;
  values(out);
  return out;
}

void PackedTensor::values(std::vector<std::int32_t>& out) const {
  const std::size_t pixels = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  const std::size_t wpp = words_per_pixel();
  if (words.size() != pixels * wpp) {
    throw std::logic_error(
        fmt::format("PackedTensor {}x{}x{}: {} words, expected {}", h, w, c, words.size(), pixels * wpp));
  }
  out.resize(pixels * static_cast<std::size_t>(c));
  if (static_cast<std::size_t>(c) % static_cast<std::size_t>(lanes(mode)) == 0) {  // one dense run
    unpack(words, mode, out);
    return;
  }
  for (std::size_t px = 0; px < pixels; ++px) {
    unpack(std::span<const std::uint16_t>(words).subspan(px * wpp, wpp), mode,
           std::span<std::int32_t>(out).subspan(px * static_cast<std::size_t>(c), static_cast<std::size_t>(c)));
  }
}

namespace {

std::size_t element_word(const PackedTensor& t, int y, int x, int ch) {
  if (y < 0 || y >= t.h || x < 0 || x >= t.w || ch < 0 || ch >= t.c) {
    throw std::out_of_range(
        fmt::format("PackedTensor: element (y {}, x {}, c {}) outside shape {}x{}x{}", y, x, ch, t.h, t.w, t.c));
  }
  const std::size_t idx = (static_cast<std::size_t>(y) * static_cast<std::size_t>(t.w) + static_cast<std::size_t>(x)) *
                              t.words_per_pixel() +
                          static_cast<std::size_t>(ch / lanes(t.mode));
  if (idx >= t.words.size()) {
    throw std::out_of_range(fmt::format("PackedTensor: word {} beyond its {} words", idx, t.words.size()));
  }
  return idx;
}

}  // namespace

std::int32_t PackedTensor::at(int y, int x, int ch) const {
  return get_lane(words[element_word(*this, y, x, ch)], ch % lanes(mode), mode);
}

void PackedTensor::set(int y, int x, int ch, std::int32_t v) {
  const std::size_t idx = element_word(*this, y, x, ch);
  if (v < min_value(mode) || v > max_value(mode)) {
    throw std::out_of_range(
        fmt::format("PackedTensor::set: value {} at (y {}, x {}, c {}) outside the {} range {} .. {}", v, y, x, ch,
                    to_string(mode), min_value(mode), max_value(mode)));
  }
  words[idx] = set_lane(words[idx], ch % lanes(mode), mode, v);
}

}  // namespace bitscale::golden
