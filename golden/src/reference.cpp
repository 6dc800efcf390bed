// Reference layers: the convolution of docs/NUMERICS.md "Layers" as direct loops.
#include "bitscale/golden/reference.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace bitscale::golden {

namespace {

void check_input(const Layer& layer, const PackedTensor& in) {
  const ConvShape& s = layer.shape;
  if (in.h != s.in_h || in.w != s.in_w || in.c != s.in_c) {
    throw std::invalid_argument(
        fmt::format("input {}x{}x{} does not match the layer ({})", in.h, in.w, in.c, s.to_string()));
  }
  if (in.mode != layer.mode) {
    throw std::invalid_argument(
        fmt::format("input is {}, the layer is {}", to_string(in.mode), to_string(layer.mode)));
  }
}

}  // namespace

std::vector<std::int64_t> conv2d_acc(const Layer& layer, const PackedTensor& in) {
  layer.validate();
  check_input(layer, in);
  const ConvShape& s = layer.shape;
  const std::vector<std::int32_t> x = in.values();  // HWC, unpacked once
  const int ho = s.out_h(), wo = s.out_w();
  const int cg = s.in_c / s.groups;      // input channels per group
  const int ng = s.out_c / s.groups;     // output channels per group
  std::vector<std::int64_t> acc(static_cast<std::size_t>(ho) * static_cast<std::size_t>(wo) *
                                static_cast<std::size_t>(s.out_c));
  std::size_t o = 0;
  for (int oy = 0; oy < ho; ++oy) {
    for (int ox = 0; ox < wo; ++ox) {
      for (int n = 0; n < s.out_c; ++n, ++o) {
        const int g = n / ng;
        std::int64_t sum = layer.bias.empty() ? 0 : layer.bias[static_cast<std::size_t>(n)];
        for (int ky = 0; ky < s.k_h; ++ky) {
          const int iy = oy * s.stride_h + ky - s.pad_top;
          if (iy < 0 || iy >= s.in_h) continue;  // padding: zeros
          for (int kx = 0; kx < s.k_w; ++kx) {
            const int ix = ox * s.stride_w + kx - s.pad_left;
            if (ix < 0 || ix >= s.in_w) continue;
            const std::int32_t* a =
                &x[(static_cast<std::size_t>(iy) * static_cast<std::size_t>(s.in_w) + static_cast<std::size_t>(ix)) *
                       static_cast<std::size_t>(s.in_c) +
                   static_cast<std::size_t>(g) * static_cast<std::size_t>(cg)];
            const std::int32_t* w =
                &layer.weights[((static_cast<std::size_t>(n) * static_cast<std::size_t>(s.k_h) +
                                 static_cast<std::size_t>(ky)) *
                                    static_cast<std::size_t>(s.k_w) +
                                static_cast<std::size_t>(kx)) *
                               static_cast<std::size_t>(cg)];
            for (int ci = 0; ci < cg; ++ci) sum += static_cast<std::int64_t>(a[ci]) * w[ci];
          }
        }
        acc[o] = sum;
      }
    }
  }
  return acc;
}

PackedTensor conv2d(const Layer& layer, const PackedTensor& in) {
  const std::vector<std::int64_t> acc = conv2d_acc(layer, in);
  const ConvShape& s = layer.shape;
  const OutputStage os = layer_output_stage(layer.out, layer.mode);
  std::vector<std::int32_t> y(acc.size());
  for (std::size_t i = 0; i < acc.size(); ++i) y[i] = output_value(acc[i], layer.mode, os);
  return PackedTensor::from_values(s.out_h(), s.out_w(), s.out_c, layer.mode, y);
}

}  // namespace bitscale::golden
