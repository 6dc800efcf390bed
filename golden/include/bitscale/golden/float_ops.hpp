// Float32 reference kernels of the network operators (TensorFlow Lite semantics), batch 1:
// the "floating-point baseline" of bit-width experiments. Activations are HWC (NHWC with
// N = 1), convolution weights OHWI [out_c][k_h][k_w][in_c/groups], fully-connected weights
// [out][in]. Straight loops, float accumulation, no quantization anywhere.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bitscale::golden {

/// Float activation tensor, HWC.
struct FloatTensor {
  int h = 1, w = 1, c = 1;
  std::vector<float> data;  ///< h*w*c values

  FloatTensor() = default;
  FloatTensor(int h, int w, int c, float value = 0.0f);
  [[nodiscard]] std::size_t size() const { return data.size(); }
  [[nodiscard]] float& at(int y, int x, int ch) { return data[(static_cast<std::size_t>(y) * w + x) * c + ch]; }
  [[nodiscard]] float at(int y, int x, int ch) const { return data[(static_cast<std::size_t>(y) * w + x) * c + ch]; }
};

/// Fused activation of TFLite operators.
enum class FloatActivation : std::uint8_t { kNone, kRelu, kRelu6, kReluN1To1 };
float activate(float v, FloatActivation a);

/// Explicit padding amounts of one spatial dimension.
struct PadAmounts {
  int before = 0, after = 0;
};
/// TFLite's SAME rule: out = ceil(in / stride), total = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0),
/// before = total / 2 (rounded down), after = total - before.
PadAmounts same_padding(int in, int k, int stride, int dilation = 1);
/// Output size of a padded, strided, dilated window: (in + before + after - eff_k) / stride + 1
/// with eff_k = (k - 1) * dilation + 1; throws std::invalid_argument when the window does not fit.
int window_out_size(int in, int k, int stride, int dilation, PadAmounts pad);

/// Window geometry of convolutions and pools.
struct Window {
  int k_h = 1, k_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  [[nodiscard]] int out_h(int in_h) const;
  [[nodiscard]] int out_w(int in_w) const;
};

/// Grouped, dilated 2-D convolution; zero padding. weights: out_c * k_h * k_w * (in.c / groups)
/// values (OHWI); bias: empty or out_c values. Output channel n belongs to group
/// n / (out_c / groups). A depthwise convolution with multiplier m is groups = in.c,
/// out_c = in.c * m.
FloatTensor conv2d(const FloatTensor& in, std::span<const float> weights, std::span<const float> bias, int out_c,
                   int groups, const Window& win, FloatActivation act);
/// y[o] = act(bias[o] + sum_i w[o][i] x[i]); weights [out][in], bias empty or out values.
std::vector<float> fully_connected(std::span<const float> in, std::span<const float> weights,
                                   std::span<const float> bias, int out, FloatActivation act);
/// Element-wise a + b (same shape, or b with one element / one value per channel broadcast).
FloatTensor add(const FloatTensor& a, const FloatTensor& b, FloatActivation act);
/// Average pool: the average over the window cells that lie inside the input (padded cells
/// are not counted, TFLite semantics).
FloatTensor average_pool(const FloatTensor& in, const Window& win, FloatActivation act);
/// Max pool over the window cells inside the input.
FloatTensor max_pool(const FloatTensor& in, const Window& win, FloatActivation act);
/// Mean over H and W: a 1x1xC tensor.
FloatTensor mean_hw(const FloatTensor& in);
/// softmax(beta * x), computed with the maximum subtracted.
std::vector<float> softmax(std::span<const float> x, float beta = 1.0f);
/// Constant padding of H and W (value 0 by default) and optionally channels.
FloatTensor pad(const FloatTensor& in, PadAmounts h, PadAmounts w, PadAmounts c = {}, float value = 0.0f);
/// Concatenation along axis 0 (H), 1 (W) or 2 (C) of HWC tensors agreeing in the other axes.
FloatTensor concatenate(std::span<const FloatTensor> parts, int axis);

}  // namespace bitscale::golden
