// The vectorised float kernels (golden/src/float_ops.cpp) against the direct formulas in double:
// every path (3x4 blocks with partial row and column blocks, the direct 1x1 path, K shorter and
// longer than a vector with a tail, depthwise with a multiplier, fully connected) and the fused
// activations. The kernels sum K in 8 partial sums, so the check is a float error bound: a few
// ulps of sum |a * w| (each of the K products and additions adds at most one rounding).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "bitscale/golden/float_ops.hpp"
#include "tflite_build.hpp"

namespace bitscale {
namespace {

using golden::FloatActivation;
using golden::FloatTensor;
using golden::Window;
using test::random_floats;

double act_ref(double v, FloatActivation a) {
  switch (a) {
    case FloatActivation::kNone:
      return v;
    case FloatActivation::kRelu:
      return std::max(v, 0.0);
    case FloatActivation::kRelu6:
      return std::min(std::max(v, 0.0), 6.0);
    case FloatActivation::kReluN1To1:
      return std::min(std::max(v, -1.0), 1.0);
  }
  return v;
}

struct ConvCase {
  int h, w, in_c, out_c, groups;
  Window win;
  FloatActivation act;
};

Window window(int k, int stride, int dil, int pad_lo, int pad_hi) {
  Window w;
  w.k_h = w.k_w = k;
  w.stride_h = w.stride_w = stride;
  w.dilation_h = w.dilation_w = dil;
  w.pad_top = w.pad_left = pad_lo;
  w.pad_bottom = w.pad_right = pad_hi;
  return w;
}

TEST(FloatKernels, Conv2dEveryPathWithinTheFloatErrorBound) {
  const std::vector<ConvCase> cases = {
      {5, 5, 19, 7, 1, window(1, 1, 1, 0, 0), FloatActivation::kNone},      // direct 1x1: 25 rows, 7 channels
      {4, 4, 40, 13, 1, window(1, 1, 1, 0, 0), FloatActivation::kRelu6},    // direct 1x1, K = 5 vectors
      {7, 6, 3, 10, 1, window(3, 2, 1, 1, 1), FloatActivation::kRelu},      // first-layer shape: K = 27
      {6, 6, 8, 6, 2, window(3, 1, 2, 2, 2), FloatActivation::kReluN1To1},  // grouped, dilated
      {9, 8, 12, 12, 12, window(3, 2, 1, 1, 1), FloatActivation::kRelu6},   // depthwise, stride 2
      {6, 5, 5, 10, 5, window(3, 1, 2, 2, 1), FloatActivation::kNone},      // depthwise, multiplier 2, dilated
      {3, 3, 70, 5, 1, window(3, 1, 1, 1, 1), FloatActivation::kNone},      // K = 630 with a tail
  };
  std::mt19937 rng(17);
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const ConvCase& c = cases[ci];
    FloatTensor in(c.h, c.w, c.in_c);
    in.data = random_floats(in.size(), rng);
    const int cig = c.in_c / c.groups, cog = c.out_c / c.groups;
    const auto wts = random_floats(static_cast<std::size_t>(c.out_c) * c.win.k_h * c.win.k_w * cig, rng);
    const auto bias = random_floats(static_cast<std::size_t>(c.out_c), rng);
    const FloatTensor out = golden::conv2d(in, wts, bias, c.out_c, c.groups, c.win, c.act);
    ASSERT_EQ(out.h, c.win.out_h(c.h));
    ASSERT_EQ(out.w, c.win.out_w(c.w));
    ASSERT_EQ(out.c, c.out_c);
    for (int y = 0; y < out.h; ++y) {
      for (int x = 0; x < out.w; ++x) {
        for (int n = 0; n < c.out_c; ++n) {
          const int g = n / cog;
          double s = bias[static_cast<std::size_t>(n)], mag = std::fabs(s);
          for (int ky = 0; ky < c.win.k_h; ++ky) {
            for (int kx = 0; kx < c.win.k_w; ++kx) {
              const int iy = y * c.win.stride_h + ky * c.win.dilation_h - c.win.pad_top;
              const int ix = x * c.win.stride_w + kx * c.win.dilation_w - c.win.pad_left;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int i = 0; i < cig; ++i) {
                const double p = static_cast<double>(in.at(iy, ix, g * cig + i)) *
                                 wts[((static_cast<std::size_t>(n) * c.win.k_h + ky) * c.win.k_w + kx) * cig + i];
                s += p;
                mag += std::fabs(p);
              }
            }
          }
          const int k = c.win.k_h * c.win.k_w * cig;
          const double tol = (k + 2) * 6e-8 * mag + 1e-7;  // (K + 2) roundings of at most 2^-24 of the magnitude
          ASSERT_NEAR(out.at(y, x, n), act_ref(s, c.act), tol) << "case " << ci << " at " << y << "," << x << "," << n;
        }
      }
    }
  }
}

TEST(FloatKernels, FullyConnectedWithinTheFloatErrorBound) {
  std::mt19937 rng(23);
  for (const auto& [k, n] : {std::pair{37, 13}, std::pair{8, 4}, std::pair{1280, 1001}, std::pair{3, 1}}) {
    const auto x = random_floats(static_cast<std::size_t>(k), rng);
    const auto w = random_floats(static_cast<std::size_t>(k) * n, rng);
    const auto b = random_floats(static_cast<std::size_t>(n), rng);
    const std::vector<float> y = golden::fully_connected(x, w, b, n, FloatActivation::kRelu);
    ASSERT_EQ(y.size(), static_cast<std::size_t>(n));
    for (int o = 0; o < n; ++o) {
      double s = b[static_cast<std::size_t>(o)], mag = std::fabs(s);
      for (int i = 0; i < k; ++i) {
        const double p = static_cast<double>(x[static_cast<std::size_t>(i)]) *
                         w[static_cast<std::size_t>(o) * static_cast<std::size_t>(k) + static_cast<std::size_t>(i)];
        s += p;
        mag += std::fabs(p);
      }
      ASSERT_NEAR(y[static_cast<std::size_t>(o)], std::max(s, 0.0), (k + 2) * 6e-8 * mag + 1e-7) << k << "x" << n;
    }
  }
}

}  // namespace
}  // namespace bitscale
