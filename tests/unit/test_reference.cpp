// Shapes, layers, packed tensors and the reference convolution (docs/NUMERICS.md "Layers").
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/dv/generator.hpp"
#include "bitscale/golden/reference.hpp"
#include "test_seed.hpp"

namespace bitscale::golden {
namespace {

constexpr Mode kModes[] = {Mode::k16, Mode::k8, Mode::k4};

using bitscale::test::test_seed;

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(ConvShape, OutputSizeFormula) {
  ConvShape s;
  s.in_h = 8, s.in_w = 7, s.in_c = 3, s.out_c = 4, s.k_h = 3, s.k_w = 2;
  s.stride_h = 2, s.stride_w = 3, s.pad_top = 1, s.pad_bottom = 0, s.pad_left = 2, s.pad_right = 1;
  EXPECT_NO_THROW(s.validate());
  EXPECT_EQ(s.out_h(), (8 + 1 + 0 - 3) / 2 + 1);  // 4
  EXPECT_EQ(s.out_w(), (7 + 2 + 1 - 2) / 3 + 1);  // 3
  EXPECT_EQ(s.k(), 3 * 2 * 3);
  EXPECT_EQ(s.weight_count(), 4 * 18);
  EXPECT_EQ(s.macs(), std::int64_t{4} * 3 * 4 * 18);
  s.groups = 3;
  s.out_c = 6;
  EXPECT_NO_THROW(s.validate());
  EXPECT_EQ(s.k(), 3 * 2 * 1);
  EXPECT_EQ(s.to_string(), "in 8x7x3, out 6, k 3x2, stride 2x3, pad 1,2,0,1, groups 3");
  ConvShape fc;
  fc.in_c = 100, fc.out_c = 10;
  EXPECT_NO_THROW(fc.validate());
  EXPECT_EQ(fc.out_h(), 1);
  EXPECT_EQ(fc.out_w(), 1);
  EXPECT_EQ(fc.k(), 100);
}

TEST(ConvShape, ValidateNamesTheField) {
  const auto bad = [](auto mutate) {
    ConvShape s;
    s.in_h = s.in_w = 5, s.in_c = 4, s.out_c = 4, s.k_h = s.k_w = 3;
    mutate(s);
    return error_of([&] { s.validate(); });
  };
  EXPECT_NE(bad([](ConvShape& s) { s.in_h = 0; }).find("in_h = 0"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.in_w = -2; }).find("in_w = -2"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.in_c = 0; }).find("in_c"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.out_c = 0; }).find("out_c"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.stride_w = 0; }).find("stride_w = 0"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.pad_right = -1; }).find("pad_right = -1"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.groups = 3; }).find("groups = 3"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.groups = 4, s.out_c = 6; }).find("out_c = 6"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.k_h = 6; }).find("k_h = 6"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.k_w = 9, s.pad_left = 3; }).find("k_w = 9"), std::string::npos);
  EXPECT_EQ(bad([](ConvShape& s) { s.k_w = 8, s.pad_left = 3; }), "(no exception)");
  EXPECT_NE(bad([](ConvShape& s) { s.in_h = (1 << 16) + 1; }).find("in_h"), std::string::npos);
  EXPECT_NE(bad([](ConvShape& s) { s.k_h = 0; }).find("k_h = 0"), std::string::npos);
}

Layer small_layer(Mode m) {
  Layer l;
  l.mode = m;
  l.shape.in_h = l.shape.in_w = 3, l.shape.in_c = 2, l.shape.out_c = 2, l.shape.k_h = l.shape.k_w = 2;
  l.weights.assign(static_cast<std::size_t>(l.shape.weight_count()), 1);
  return l;
}

TEST(Layer, Validate) {
  for (Mode m : kModes) {
    Layer l = small_layer(m);
    EXPECT_NO_THROW(l.validate());
    l.weights[5] = max_value(m) + 1;
    EXPECT_NE(error_of([&] { l.validate(); }).find("weight 5"), std::string::npos);
    l.weights[5] = min_value(m);
    EXPECT_NO_THROW(l.validate());
    l.weights.pop_back();
    EXPECT_THROW(l.validate(), std::invalid_argument);
    l = small_layer(m);
    l.bias = {1};
    EXPECT_THROW(l.validate(), std::invalid_argument);
    l.bias = {INT32_MIN, INT32_MAX};
    EXPECT_NO_THROW(l.validate());
    l.out.shift = kAccBits;
    EXPECT_NE(error_of([&] { l.validate(); }).find("shift"), std::string::npos);
    l.out.shift = kAccBits - 1;
    l.channel_shift = {0, kAccBits - 1};  // out_c = 2
    EXPECT_NO_THROW(l.validate());
    l.channel_shift = {0, kAccBits};
    EXPECT_NE(error_of([&] { l.validate(); }).find("shift of channel 1"), std::string::npos);
    l.channel_shift = {3};
    EXPECT_NE(error_of([&] { l.validate(); }).find("channel shifts"), std::string::npos);
    l.channel_shift.clear();
    l.out.clamp = true;
    l.out.clamp_hi = -32768;  // any signed 16-bit value is accepted
    EXPECT_NO_THROW(l.validate());
    l.shape.groups = 2;
    EXPECT_THROW(l.validate(), std::invalid_argument);  // weight count changes with groups
  }
}

TEST(PackedTensor, RoundTripAndAccess) {
  std::mt19937_64 rng(test_seed());
  for (Mode m : kModes) {
    const int h = 3, w = 2, c = 7;  // c not a multiple of the lanes
    std::vector<std::int32_t> v(static_cast<std::size_t>(h * w * c));
    for (auto& x : v) x = std::uniform_int_distribution<std::int32_t>(min_value(m), max_value(m))(rng);
    const PackedTensor t = PackedTensor::from_values(h, w, c, m, v);
    EXPECT_EQ(t.words_per_pixel(), packed_words(7, m));
    EXPECT_EQ(t.words.size(), static_cast<std::size_t>(h * w) * t.words_per_pixel());
    EXPECT_EQ(t.values(), v);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int ch = 0; ch < c; ++ch) EXPECT_EQ(t.at(y, x, ch), v[static_cast<std::size_t>((y * w + x) * c + ch)]);
        // Unused lanes of the last word of each pixel are 0.
        const std::uint16_t last = t.words[static_cast<std::size_t>(y * w + x + 1) * t.words_per_pixel() - 1];
        for (int l = c % lanes(m) == 0 ? lanes(m) : c % lanes(m); l < lanes(m); ++l) EXPECT_EQ(get_lane(last, l, m), 0);
      }
    }
    PackedTensor z(h, w, c, m);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const int ch = static_cast<int>(i) % c, px = static_cast<int>(i) / c;
      z.set(px / w, px % w, ch, v[i]);
    }
    EXPECT_EQ(z, t);
    EXPECT_THROW((void)t.at(h, 0, 0), std::out_of_range);
    EXPECT_THROW((void)t.at(0, -1, 0), std::out_of_range);
    EXPECT_THROW((void)t.at(0, 0, c), std::out_of_range);
    EXPECT_THROW(z.set(0, 0, 0, max_value(m) + 1), std::out_of_range);
    EXPECT_THROW(z.set(0, w, 0, 0), std::out_of_range);
    v[4] = min_value(m) - 1;
    EXPECT_NE(error_of([&] { (void)PackedTensor::from_values(h, w, c, m, v); }).find("-"), std::string::npos);
    EXPECT_THROW((void)PackedTensor::from_values(h, w, c, m, std::vector<std::int32_t>(3)), std::invalid_argument);
  }
  EXPECT_THROW(PackedTensor(-1, 1, 1, Mode::k8), std::invalid_argument);
}

// Whole-word channel counts are packed as one dense run; an error still names the pixel.
TEST(PackedTensor, DenseRunNamesThePixel) {
  for (Mode m : kModes) {
    const int h = 2, w = 3, c = 8;  // a multiple of every mode's lanes
    std::vector<std::int32_t> v(static_cast<std::size_t>(h * w * c), min_value(m));
    const PackedTensor t = PackedTensor::from_values(h, w, c, m, v);
    EXPECT_EQ(t.values(), v);
    EXPECT_EQ(t.at(1, 2, 7), min_value(m));
    v[static_cast<std::size_t>((1 * w + 2) * c + 5)] = max_value(m) + 1;  // pixel (y 1, x 2), channel 5
    const std::string msg = error_of([&] { (void)PackedTensor::from_values(h, w, c, m, v); });
    EXPECT_NE(msg.find("pixel (y 1, x 2)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("index 5"), std::string::npos) << msg;
  }
}

/// Independent reference: materialise the zero-padded input in doubles, then apply the docs'
/// formula with the group mapping and the output stage via floor on doubles.
struct NaiveResult {
  std::vector<double> acc;
  std::vector<std::int32_t> out;
};

NaiveResult naive_conv(const Layer& l, const std::vector<std::int32_t>& in) {
  const ConvShape& s = l.shape;
  const int hp = s.in_h + s.pad_top + s.pad_bottom, wp = s.in_w + s.pad_left + s.pad_right;
  std::vector<double> padded(static_cast<std::size_t>(hp * wp * s.in_c), 0.0);
  for (int y = 0; y < s.in_h; ++y)
    for (int x = 0; x < s.in_w; ++x)
      for (int c = 0; c < s.in_c; ++c)
        padded[static_cast<std::size_t>(((y + s.pad_top) * wp + x + s.pad_left) * s.in_c + c)] =
            in[static_cast<std::size_t>((y * s.in_w + x) * s.in_c + c)];
  const int ho = (hp - s.k_h) / s.stride_h + 1, wo = (wp - s.k_w) / s.stride_w + 1;
  const int cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  NaiveResult r;
  for (int oy = 0; oy < ho; ++oy) {
    for (int ox = 0; ox < wo; ++ox) {
      for (int n = 0; n < s.out_c; ++n) {
        const int g = n / cout_g;
        double acc = l.bias.empty() ? 0.0 : l.bias[static_cast<std::size_t>(n)];
        for (int ci = 0; ci < cin_g; ++ci)  // a different loop order than the im2col order
          for (int kx = 0; kx < s.k_w; ++kx)
            for (int ky = 0; ky < s.k_h; ++ky)
              acc += padded[static_cast<std::size_t>(((oy * s.stride_h + ky) * wp + ox * s.stride_w + kx) * s.in_c +
                                                     g * cin_g + ci)] *
                     l.weights[static_cast<std::size_t>(((n * s.k_h + ky) * s.k_w + kx) * cin_g + ci)];
        r.acc.push_back(acc);
        const double sh = l.channel_shift.empty() ? l.out.shift : l.channel_shift[static_cast<std::size_t>(n)];
        double y = sh == 0 ? acc : std::floor((acc + std::exp2(sh - 1)) / std::exp2(sh));
        y = std::fmin(std::fmax(y, min_value(l.mode)), max_value(l.mode));
        if (l.out.relu) y = std::fmax(y, 0.0);
        if (l.out.clamp) {
          const double hi = std::fmin(std::fmax(l.out.clamp_hi, min_value(l.mode)), max_value(l.mode));
          y = std::fmin(y, hi);
        }
        r.out.push_back(static_cast<std::int32_t>(y));
      }
    }
  }
  return r;
}

TEST(Reference, ConvMatchesNaiveRandom) {
  // The regression's layers, plus stride 3, padding beyond the kernel (outputs that see only
  // padding) and tensors of one extreme value.
  dv::LayerGenerator gen(test_seed(), {.stride = {1, 3}, .extra_pad = 2, .one_extreme = 0.1});
  int saturated = 0, total = 0;
  for (int iter = 0; iter < 300; ++iter) {
    const dv::Case c = gen.random_case(kModes[iter % 3]);
    const Layer& l = c.layer;
    const ConvShape& s = l.shape;
    ASSERT_NO_THROW(l.validate()) << s.to_string();
    const std::vector<std::int32_t> in = c.input.values();
    const PackedTensor& pin = c.input;
    SCOPED_TRACE(s.to_string() + " " + to_string(l.mode) + " iter " + std::to_string(iter));

    const NaiveResult want = naive_conv(l, in);
    const std::vector<std::int64_t> acc = conv2d_acc(l, pin);
    ASSERT_EQ(acc.size(), want.acc.size());
    for (std::size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(static_cast<double>(acc[i]), want.acc[i]) << "acc " << i;
    const PackedTensor out = conv2d(l, pin);
    ASSERT_EQ(out.h, s.out_h());
    ASSERT_EQ(out.w, s.out_w());
    ASSERT_EQ(out.c, s.out_c);
    ASSERT_EQ(out.mode, l.mode);
    ASSERT_EQ(out.values(), want.out);
    for (std::int32_t v : want.out) {
      saturated += (v == min_value(l.mode) || v == max_value(l.mode)) ? 1 : 0;
      ++total;
    }
  }
  std::cout << "saturated outputs: " << saturated << " of " << total << std::endl;
  EXPECT_GT(saturated, 0);
  EXPECT_LT(saturated, total);
}

TEST(Reference, FullyConnectedIsADotProduct) {
  dv::LayerGenerator gen(test_seed());
  for (Mode m : kModes) {
    Layer l;
    l.mode = m;
    l.shape.in_c = 37, l.shape.out_c = 5;
    l.weights = gen.values(m, 37 * 5);
    l.bias = {1, -2, 3, -4, 5};
    const std::vector<std::int32_t> in = gen.values(m, 37);
    const auto acc = conv2d_acc(l, PackedTensor::from_values(1, 1, 37, m, in));
    for (int n = 0; n < 5; ++n) {
      std::int64_t want = l.bias[static_cast<std::size_t>(n)];
      for (int k = 0; k < 37; ++k)
        want += std::int64_t{in[static_cast<std::size_t>(k)]} * l.weights[static_cast<std::size_t>(n * 37 + k)];
      EXPECT_EQ(acc[static_cast<std::size_t>(n)], want);
    }
  }
}

TEST(Reference, PaddingReadsZeros) {
  // All-ones 2x2 kernel on an all-ones 2x2 input, padded only at the top and left: each output
  // counts the real input pixels under its window.
  Layer l;
  l.mode = Mode::k8;
  l.shape.in_h = l.shape.in_w = 2, l.shape.in_c = 1, l.shape.out_c = 1, l.shape.k_h = l.shape.k_w = 2;
  l.shape.pad_top = l.shape.pad_left = 1;  // asymmetric: no bottom/right padding
  l.weights.assign(4, 1);
  const auto acc = conv2d_acc(l, PackedTensor::from_values(2, 2, 1, Mode::k8, std::vector<std::int32_t>(4, 1)));
  ASSERT_EQ(l.shape.out_h(), 2);
  ASSERT_EQ(l.shape.out_w(), 2);
  EXPECT_EQ(acc, (std::vector<std::int64_t>{1, 2, 2, 4}));
}

TEST(Reference, RejectsMismatchedInput) {
  Layer l = small_layer(Mode::k8);
  EXPECT_THROW((void)conv2d(l, PackedTensor(3, 3, 2, Mode::k4)), std::invalid_argument);
  EXPECT_THROW((void)conv2d(l, PackedTensor(3, 4, 2, Mode::k8)), std::invalid_argument);
  EXPECT_NO_THROW((void)conv2d(l, PackedTensor(3, 3, 2, Mode::k8)));
  l.weights[0] = 300;
  EXPECT_THROW((void)conv2d(l, PackedTensor(3, 3, 2, Mode::k8)), std::invalid_argument);
}

// ---------------------------------------------------------------- fast path vs direct loops

/// The packed output the spec defines for accumulators `acc` (output_value of every one, with the
/// shift of its channel).
PackedTensor expected_output(const Layer& l, const std::vector<std::int64_t>& acc) {
  OutputStage os = layer_output_stage(l.out, l.mode);
  std::vector<std::int32_t> y(acc.size());
  for (std::size_t i = 0; i < acc.size(); ++i) {
    os.shift = l.shift(static_cast<int>(i % static_cast<std::size_t>(l.shape.out_c)));
    y[i] = output_value(acc[i], l.mode, os);
  }
  return PackedTensor::from_values(l.shape.out_h(), l.shape.out_w(), l.shape.out_c, l.mode, y);
}

/// Restores the default GEMM kernel when a test that switches kernels ends.
struct KernelGuard {
  ~KernelGuard() { set_gemm_kernel(gemm_kernels().front()); }
};

/// Checks conv2d_acc against conv2d_acc_naive and conv2d against the output stage, with every
/// GEMM kernel of this CPU; returns the naive accumulators.
std::vector<std::int64_t> expect_fast_equals_naive(const Layer& l, const PackedTensor& in) {
  KernelGuard guard;
  const std::vector<std::int64_t> want = conv2d_acc_naive(l, in);
  const PackedTensor want_out = expected_output(l, want);
  for (const std::string& k : gemm_kernels()) {
    set_gemm_kernel(k);
    SCOPED_TRACE("kernel " + k);
    const std::vector<std::int64_t> got = conv2d_acc(l, in);
    EXPECT_EQ(got.size(), want.size());
    if (got != want) {
      for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
        if (got[i] != want[i]) {
          ADD_FAILURE() << "acc " << i << ": fast " << got[i] << ", naive " << want[i];
          break;
        }
      }
    }
    EXPECT_TRUE(conv2d(l, in) == want_out) << "packed output differs";
  }
  return want;
}

TEST(Reference, GemmKernelSelection) {
  const std::vector<std::string> k = gemm_kernels();
  ASSERT_FALSE(k.empty());
  EXPECT_EQ(k.back(), "generic");
  EXPECT_EQ(gemm_kernel(), k.front());
  std::cout << "GEMM kernels on this CPU:";
  for (const auto& n : k) std::cout << " " << n;
  std::cout << std::endl;
  KernelGuard guard;
  EXPECT_THROW(set_gemm_kernel("sse9"), std::invalid_argument);
  set_gemm_kernel("generic");
  EXPECT_EQ(gemm_kernel(), "generic");
}

/// The regression's layers, wider: kernels up to 5x5, stride 3, padding beyond the kernel, more
/// channels (K and N across the GEMM kernels' tiles), biases at the ends of the 32-bit range and
/// tensors of one extreme value.
constexpr dv::GeneratorOptions kWide{.max_k = 700,
                                     .max_channels = 70,
                                     .max_out = 90,
                                     .group_out = {1, 20},
                                     .multiplier = {1, 3},
                                     .kernel = {1, 5},
                                     .stride = {1, 3},
                                     .extra_pad = 2,
                                     .extreme_bias = 0.25,
                                     .one_extreme = 0.2};

TEST(Reference, FastEqualsNaiveRandomLayers) {
  // Half of the layers pointwise (1x1, stride 1, unpadded: the direct GEMM rows).
  dv::GeneratorOptions pointwise = kWide;
  pointwise.kernel = pointwise.stride = {1, 1};
  pointwise.extra_pad = 0;
  const std::uint64_t seed = test_seed();
  dv::LayerGenerator gens[] = {dv::LayerGenerator(seed, kWide), dv::LayerGenerator(seed + 1, pointwise)};
  for (int iter = 0; iter < 600; ++iter) {
    const Mode mode = kModes[iter % 3];
    const dv::Case c = gens[(iter / 3) % 2].random_case(mode);
    ASSERT_NO_THROW(c.layer.validate()) << c.layer.shape.to_string();
    SCOPED_TRACE(c.layer.shape.to_string() + " " + to_string(mode) + " " + std::string(dv::to_string(c.kind)) +
                 " iter " + std::to_string(iter));
    expect_fast_equals_naive(c.layer, c.input);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(Reference, FastIgnoresDontCareInputLanes) {
  dv::LayerGenerator gen(test_seed(), kWide);
  for (Mode m : {Mode::k8, Mode::k4}) {
    for (int i = 0; i < 5; ++i) {
      const dv::Case c = gen.random_case(m);
      const Layer& l = c.layer;
      PackedTensor in = c.input;
      const std::vector<std::int64_t> want = conv2d_acc(l, in);
      const int used = l.shape.in_c % lanes(m);
      if (used == 0) continue;
      const std::uint16_t garbage = static_cast<std::uint16_t>(~((1u << (bits(m) * used)) - 1u));
      for (std::size_t px = 0; px < static_cast<std::size_t>(in.h * in.w); ++px) {
        in.words[(px + 1) * in.words_per_pixel() - 1] |= static_cast<std::uint16_t>(gen.rng()() & garbage);
      }
      EXPECT_EQ(conv2d_acc(l, in), want) << l.shape.to_string() << " " << to_string(m);
      EXPECT_EQ(conv2d_acc_naive(l, in), want);
    }
  }
}

// conv2d keeps its scratch buffers per thread and does not clear them: every call must see
// nothing of the earlier ones (a depthwise layer without bias after a larger one with a bias,
// GEMM and dot-product layers after larger ones, and back).
TEST(Reference, BuffersReusedAcrossCalls) {
  std::mt19937_64 rng(test_seed());
  const auto make = [&](Mode m, int hw, int in_c, int out_c, int groups, int k, bool bias) {
    Layer l;
    l.mode = m;
    ConvShape& s = l.shape;
    s.in_h = s.in_w = hw, s.in_c = in_c, s.out_c = out_c, s.groups = groups, s.k_h = s.k_w = k;
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = k / 2;
    l.weights.resize(static_cast<std::size_t>(s.weight_count()));
    for (auto& w : l.weights) w = std::uniform_int_distribution<std::int32_t>(min_value(m), max_value(m))(rng);
    if (bias) {
      l.bias.resize(static_cast<std::size_t>(out_c));
      for (auto& b : l.bias) b = std::uniform_int_distribution<std::int32_t>(-100000, 100000)(rng);
    }
    l.out.shift = bits(m) / 2;
    return l;
  };
  const auto input = [&](const Layer& l) {
    const ConvShape& s = l.shape;
    std::vector<std::int32_t> v(static_cast<std::size_t>(s.in_h * s.in_w * s.in_c));
    for (auto& x : v) x = std::uniform_int_distribution<std::int32_t>(min_value(l.mode), max_value(l.mode))(rng);
    return PackedTensor::from_values(s.in_h, s.in_w, s.in_c, l.mode, v);
  };
  for (Mode m : kModes) {
    const std::vector<Layer> layers = {
        make(m, 9, 24, 24, 24, 3, true),   // depthwise, bias
        make(m, 5, 16, 16, 16, 3, false),  // smaller depthwise, no bias
        make(m, 8, 40, 48, 1, 1, true),    // GEMM
        make(m, 4, 20, 20, 1, 3, false),   // smaller GEMM, no bias
        make(m, 1, 64, 10, 1, 1, false),   // dot products
        make(m, 9, 24, 48, 24, 3, false),  // depthwise, channel multiplier 2
        make(m, 5, 16, 16, 16, 3, false),
    };
    for (const Layer& l : layers) {
      SCOPED_TRACE(l.shape.to_string() + " " + to_string(m));
      expect_fast_equals_naive(l, input(l));
    }
  }
}

/// All operands at one extreme: each accumulator is bias + (number of real taps) * a * w.
void check_extreme_layer(Layer l, std::int32_t a, std::int32_t w, std::int32_t bias) {
  const ConvShape& s = l.shape;
  l.weights.assign(static_cast<std::size_t>(s.weight_count()), w);
  l.bias.assign(static_cast<std::size_t>(s.out_c), bias);
  const PackedTensor in = PackedTensor::from_values(
      s.in_h, s.in_w, s.in_c, l.mode,
      std::vector<std::int32_t>(
          static_cast<std::size_t>(s.in_h) * static_cast<std::size_t>(s.in_w) * static_cast<std::size_t>(s.in_c), a));
  SCOPED_TRACE(s.to_string() + " " + to_string(l.mode) + " a " + std::to_string(a) + " w " + std::to_string(w) +
               " bias " + std::to_string(bias));
  const std::vector<std::int64_t> acc = expect_fast_equals_naive(l, in);
  // Output pixel (0, 0) of an unpadded layer sees k() real taps.
  ASSERT_EQ(s.pad_top + s.pad_left, 0);
  EXPECT_EQ(acc[0], std::int64_t{bias} + std::int64_t{s.k()} * a * w);
}

TEST(Reference, FastExactWhereInt32WouldOverflow) {
  // 16-bit: K = 4608 products of 2^30 (sum 2^42.2); every pairwise sum of two (-32768)^2 is 2^31.
  // (Inputs of 3x3 give one output pixel, the dot-product path; 4x4 give 4, the GEMM path.)
  Layer l;
  l.mode = Mode::k16;
  l.shape.in_c = 512, l.shape.out_c = 20, l.shape.k_h = l.shape.k_w = 3;
  for (int hw : {3, 4}) {
    l.shape.in_h = l.shape.in_w = hw;
    for (std::int32_t bias : {INT32_MIN, INT32_MAX, 0}) {
      check_extreme_layer(l, -32768, -32768, bias);
      check_extreme_layer(l, -32768, 32767, bias);
      check_extreme_layer(l, 32767, 32767, bias);
    }
  }
  // Odd K, groups, padding (pixel (0,0) has no padding on its top/left only if pads are 0).
  l.shape.in_c = 2 * 257, l.shape.groups = 2, l.shape.out_c = 6, l.shape.pad_bottom = l.shape.pad_right = 1;
  check_extreme_layer(l, -32768, -32768, INT32_MAX);
  // 16-bit depthwise: 25 taps of 2^30.
  Layer dw;
  dw.mode = Mode::k16;
  dw.shape.in_h = dw.shape.in_w = 6, dw.shape.in_c = dw.shape.groups = 33, dw.shape.out_c = 66;
  dw.shape.k_h = dw.shape.k_w = 5, dw.shape.stride_h = 2;
  check_extreme_layer(dw, -32768, -32768, INT32_MAX);
  check_extreme_layer(dw, 32767, -32768, INT32_MIN);
  // 8-bit: K = 3 * 65536 = 196608 products of 2^14 (sum 3 * 2^30): beyond one int32 chunk.
  Layer big;
  big.mode = Mode::k8;
  big.shape.in_h = 3, big.shape.in_w = 1, big.shape.in_c = 65536, big.shape.out_c = 2, big.shape.k_h = 3;
  check_extreme_layer(big, -128, -128, INT32_MAX);
  check_extreme_layer(big, -128, 127, INT32_MIN);
  big.shape.in_h = 5;  // 3 output pixels: the GEMM path
  check_extreme_layer(big, -128, -128, INT32_MAX);
  // 8-bit 1x1 on many pixels (the direct path), 4-bit FC with a long K.
  Layer pw;
  pw.mode = Mode::k8;
  pw.shape.in_h = 5, pw.shape.in_w = 7, pw.shape.in_c = 1024, pw.shape.out_c = 70;
  check_extreme_layer(pw, -128, -128, INT32_MAX);
  Layer fc;
  fc.mode = Mode::k4;
  fc.shape.in_c = 65535, fc.shape.out_c = 3;
  check_extreme_layer(fc, -8, -8, INT32_MAX);
  check_extreme_layer(fc, -8, 7, INT32_MIN);
}

}  // namespace
}  // namespace bitscale::golden
