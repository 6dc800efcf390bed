// Reference layers: the convolution of docs/NUMERICS.md "Layers".
//
// conv2d_acc (fast, exact):
//  * the packed input is unpacked once into int16 HWC (every mode's values fit int16);
//  * depthwise layers (groups == in_c > 1) accumulate per channel, vectorised across channels,
//    in int32 over at most `tap_chunk` taps (chosen so no partial sum can overflow), then
//    into int64;
//  * all other layers: per group, weights are packed into 16-channel int16 panels, rows of the
//    im2col matrix (or the input pixels themselves for 1x1 stride-1 unpadded layers) go through
//    an int16 GEMM micro-kernel (gemm.hpp) with int32 sums over K chunks short enough to be
//    exact, added into int64. 16-bit operands are split as a = 256 * hi + lo (hi in -128..127,
//    lo in 0..255) so that no pairwise product sum (vpmaddwd) can overflow: two GEMMs.
//  * the bias is added in int64.
// conv2d_acc_naive: the direct loops, one int64 multiply-add per MAC (approx_product per MAC
// for an Ax-BxP layer).
// Ax-BxP layers (conv_approx): one exact layer per activation block ("block plane") through the
// paths above, shifted and summed.
#include "bitscale/golden/reference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "gemm.hpp"

namespace bitscale::golden {

namespace {

using detail::GemmKernel;
using detail::kGemmLdc;
using detail::kGemmMaxNB;
using detail::kGemmMR;
using detail::kGemmNR;

void check_input(const Layer& layer, const PackedTensor& in) {
  const ConvShape& s = layer.shape;
  if (in.h != s.in_h || in.w != s.in_w || in.c != s.in_c) {
    throw std::invalid_argument(
        fmt::format("input {}x{}x{} does not match the layer ({})", in.h, in.w, in.c, s.to_string()));
  }
  if (in.mode != layer.mode) {
    throw std::invalid_argument(fmt::format("input is {}, the layer is {}", to_string(in.mode), to_string(layer.mode)));
  }
}

// ---------------------------------------------------------------- kernel selection

struct KernelEntry {
  const char* name;
  GemmKernel fn;
};

std::vector<KernelEntry> available_kernels() {
  std::vector<KernelEntry> k;
#if defined(BITSCALE_GOLDEN_X86)
  __builtin_cpu_init();
  const bool avx512bw = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (avx512bw && __builtin_cpu_supports("avx512vnni")) k.push_back({"avx512vnni", detail::gemm_kernel_avx512vnni});
  if (avx512bw) k.push_back({"avx512bw", detail::gemm_kernel_avx512bw});
  if (__builtin_cpu_supports("avx2")) k.push_back({"avx2", detail::gemm_kernel_avx2});
#endif
  k.push_back({"generic", detail::gemm_kernel_generic});
  return k;
}

const std::vector<KernelEntry>& kernels() {
  static const std::vector<KernelEntry> k = available_kernels();
  return k;
}

std::atomic<std::size_t> g_kernel_index{0};  // index into kernels()

// ---------------------------------------------------------------- per-thread workspace

/// std::allocator whose value-less construct() default-initialises: resize() leaves trivial
/// elements uninitialised (for buffers every element of which is written before it is read).
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  explicit DefaultInitAllocator(const DefaultInitAllocator<U>& /*other*/) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    std::construct_at(p, std::forward<Args>(args)...);
  }
};

/// A growable buffer whose resize() does not zero-fill.
template <class T>
using Buffer = std::vector<T, DefaultInitAllocator<T>>;

/// The scratch buffers of conv2d, kept per thread across layers and images: after the largest
/// layer they are neither allocated nor page-faulted again.
struct Workspace {
  Buffer<std::int16_t> x;       ///< unpacked input, HWC
  Buffer<std::int16_t> xe;      ///< depthwise: input with channel n / mult at position n
  Buffer<std::int16_t> wt;      ///< depthwise: weights [tap][n]
  Buffer<std::int16_t> panel;   ///< GEMM: one group's weight panels
  Buffer<std::int16_t> abuf;    ///< GEMM: kGemmMR im2col rows (16-bit: the low bytes)
  Buffer<std::int16_t> ahi;     ///< GEMM, 16-bit: the high bytes of abuf
  Buffer<std::int16_t> row;     ///< dot path: one im2col row
  Buffer<std::int32_t> acc32;   ///< depthwise: int32 partial sums
  Buffer<std::int32_t> y;       ///< output stage results
  Buffer<std::int64_t> acc;     ///< accumulators, HWC
  Buffer<std::int64_t> bias;    ///< GEMM: bias in int64 (0 without bias)
  Buffer<std::int16_t> xplane;  ///< Ax-BxP: one block plane of the input, HWC
  Buffer<std::int64_t> pacc;    ///< Ax-BxP: the accumulators of one block plane
  Buffer<std::int64_t> sh;      ///< per-channel output stage: the shifts
  Buffer<std::int64_t> half;    ///< per-channel output stage: the rounding constants
};

Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

}  // namespace

/// What seal() packs once per layer (see reference.hpp), and the storage it was packed from.
struct detail::LayerKernels {
  const std::int32_t* weights = nullptr;
  std::size_t n_weights = 0;
  const std::int32_t* bias = nullptr;
  std::size_t n_bias = 0;
  ConvShape shape;
  Mode mode = Mode::k16;
  std::vector<std::int16_t> wt;      ///< depthwise: weights [tap][n]
  std::vector<std::int16_t> panels;  ///< GEMM: the weight panels of every group, group_stride apart
  std::size_t group_stride = 0;
  std::vector<std::int64_t> bias64;  ///< GEMM: bias in int64 (0 without bias)
};

namespace {

using detail::LayerKernels;

bool same_shape(const ConvShape& a, const ConvShape& b) {
  return a.in_h == b.in_h && a.in_w == b.in_w && a.in_c == b.in_c && a.out_c == b.out_c && a.k_h == b.k_h &&
         a.k_w == b.k_w && a.stride_h == b.stride_h && a.stride_w == b.stride_w && a.pad_top == b.pad_top &&
         a.pad_left == b.pad_left && a.pad_bottom == b.pad_bottom && a.pad_right == b.pad_right && a.groups == b.groups;
}

/// The layer's packed operands if they still describe it, else nullptr.
const LayerKernels* sealed(const Layer& l) {
  const LayerKernels* k = l.kernels.get();
  if (k == nullptr || k->weights != l.weights.data() || k->n_weights != l.weights.size() || k->bias != l.bias.data() ||
      k->n_bias != l.bias.size() || k->mode != l.mode || !same_shape(k->shape, l.shape)) {
    return nullptr;
  }
  return k;
}

// ---------------------------------------------------------------- unpack / pack

/// Unpacks the n * lanes(m) values of n whole words.
void unpack_words(const std::uint16_t* __restrict src, std::size_t n, Mode m, std::int16_t* __restrict dst) {
  switch (m) {
    case Mode::k16:
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::int16_t>(src[i]);
      break;
    case Mode::k8:
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint16_t w = src[i];
        dst[2 * i] = static_cast<std::int8_t>(static_cast<std::uint8_t>(w));
        dst[2 * i + 1] = static_cast<std::int8_t>(static_cast<std::uint8_t>(w >> 8));
      }
      break;
    case Mode::k4:
      for (std::size_t i = 0; i < n; ++i) {
        const auto w = static_cast<std::int16_t>(src[i]);
        // Nibble l moved to the top 4 bits, then an arithmetic shift: sign extension.
        dst[4 * i] = static_cast<std::int16_t>(static_cast<std::int16_t>(w << 12) >> 12);
        dst[4 * i + 1] = static_cast<std::int16_t>(static_cast<std::int16_t>(w << 8) >> 12);
        dst[4 * i + 2] = static_cast<std::int16_t>(static_cast<std::int16_t>(w << 4) >> 12);
        dst[4 * i + 3] = static_cast<std::int16_t>(w >> 12);
      }
      break;
  }
}

/// Packs n whole words of lanes(m) values each (values in range).
void pack_words(const std::int32_t* __restrict y, std::size_t n, Mode m, std::uint16_t* __restrict dst) {
  switch (m) {
    case Mode::k16:
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::uint16_t>(y[i]);
      break;
    case Mode::k8:
      for (std::size_t i = 0; i < n; ++i) {
        dst[i] = static_cast<std::uint16_t>((static_cast<std::uint32_t>(y[2 * i]) & 0xFFu) |
                                            ((static_cast<std::uint32_t>(y[2 * i + 1]) & 0xFFu) << 8));
      }
      break;
    case Mode::k4:
      for (std::size_t i = 0; i < n; ++i) {
        dst[i] = static_cast<std::uint16_t>((static_cast<std::uint32_t>(y[4 * i]) & 0xFu) |
                                            ((static_cast<std::uint32_t>(y[4 * i + 1]) & 0xFu) << 4) |
                                            ((static_cast<std::uint32_t>(y[4 * i + 2]) & 0xFu) << 8) |
                                            ((static_cast<std::uint32_t>(y[4 * i + 3]) & 0xFu) << 12));
      }
      break;
  }
}

/// The input's values as int16, HWC (the don't-care lanes of each pixel's last word ignored).
/// Returns x.data().
const std::int16_t* unpack_i16(const PackedTensor& in, Buffer<std::int16_t>& x) {
  const std::size_t pixels = static_cast<std::size_t>(in.h) * static_cast<std::size_t>(in.w);
  const std::size_t wpp = in.words_per_pixel();
  if (in.words.size() != pixels * wpp) {
    throw std::logic_error(
        fmt::format("PackedTensor {}x{}x{}: {} words, expected {}", in.h, in.w, in.c, in.words.size(), pixels * wpp));
  }
  const std::size_t c = static_cast<std::size_t>(in.c), p = static_cast<std::size_t>(lanes(in.mode));
  x.resize(pixels * c);
  if (c % p == 0) {  // no partial words: one dense run
    unpack_words(in.words.data(), in.words.size(), in.mode, x.data());
    return x.data();
  }
  const std::size_t full = c / p;
  for (std::size_t px = 0; px < pixels; ++px) {
    const std::uint16_t* src = in.words.data() + px * wpp;
    std::int16_t* dst = x.data() + px * c;
    unpack_words(src, full, in.mode, dst);
    for (std::size_t e = full * p; e < c; ++e) {
      dst[e] = static_cast<std::int16_t>(get_lane(src[full], static_cast<int>(e - full * p), in.mode));
    }
  }
  return x.data();
}

// ---------------------------------------------------------------- depthwise

struct DepthwiseArgs {
  const std::int16_t* x;   // input HWC with n channels (input channel of output n already expanded)
  const std::int16_t* wt;  // weights [tap][n]
  std::int64_t* out;       // [ho][wo][n], holds the bias on entry
  std::int32_t* acc32;     // n scratch
  int in_h, in_w, n;
  int k_h, k_w, stride_h, stride_w, pad_top, pad_left, out_h, out_w;
  int tap_chunk;  // taps summed in int32 before adding into int64
};

}  // namespace

namespace detail {

// Vectorised across channels; cloned per ISA (resolved once at load time).
#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void depthwise_run(const DepthwiseArgs& d) {
  const std::size_t n = static_cast<std::size_t>(d.n);
  std::int32_t* __restrict acc = d.acc32;
  for (int oy = 0; oy < d.out_h; ++oy) {
    for (int ox = 0; ox < d.out_w; ++ox) {
      std::int64_t* __restrict o =
          d.out + (static_cast<std::size_t>(oy) * static_cast<std::size_t>(d.out_w) + static_cast<std::size_t>(ox)) * n;
      int taps = 0;
      for (std::size_t i = 0; i < n; ++i) acc[i] = 0;
      for (int ky = 0; ky < d.k_h; ++ky) {
        const int iy = oy * d.stride_h + ky - d.pad_top;
        if (iy < 0 || iy >= d.in_h) continue;
        for (int kx = 0; kx < d.k_w; ++kx) {
          const int ix = ox * d.stride_w + kx - d.pad_left;
          if (ix < 0 || ix >= d.in_w) continue;
          const std::int16_t* __restrict a =
              d.x +
              (static_cast<std::size_t>(iy) * static_cast<std::size_t>(d.in_w) + static_cast<std::size_t>(ix)) * n;
          const std::int16_t* __restrict w = d.wt + static_cast<std::size_t>(ky * d.k_w + kx) * n;
          for (std::size_t i = 0; i < n; ++i)
            acc[i] += static_cast<std::int32_t>(a[i]) * static_cast<std::int32_t>(w[i]);
          if (++taps == d.tap_chunk) {
            for (std::size_t i = 0; i < n; ++i) o[i] += acc[i];
            for (std::size_t i = 0; i < n; ++i) acc[i] = 0;
            taps = 0;
          }
        }
      }
      if (taps != 0) {
        for (std::size_t i = 0; i < n; ++i) o[i] += acc[i];
      }
    }
  }
}

}  // namespace detail

namespace {

/// Largest |a * w| of the mode: 2^(2B-2).
std::int64_t max_product(Mode m) { return std::int64_t{1} << (2 * bits(m) - 2); }

/// The operand ranges a layer path must handle: 16-bit operands split for the GEMM kernels, and the
/// largest |a * w| (the int32 chunk lengths are derived from it).
struct Arith {
  bool split16 = false;
  std::int64_t max_prod = 0;
};
Arith arith_of(Mode m) { return {m == Mode::k16, max_product(m)}; }

/// Depthwise weights [n][tap] as int16 [tap][n] (taps * out_c values into wt).
void depthwise_taps(const Layer& layer, std::int16_t* wt) {
  const std::size_t n = static_cast<std::size_t>(layer.shape.out_c);
  const std::size_t taps = static_cast<std::size_t>(layer.shape.k_h) * static_cast<std::size_t>(layer.shape.k_w);
  for (std::size_t c = 0; c < n; ++c)
    for (std::size_t t = 0; t < taps; ++t) wt[t * n + c] = static_cast<std::int16_t>(layer.weights[c * taps + t]);
}

void conv_depthwise(const Layer& layer, const LayerKernels* pk, const std::int16_t* x, std::int64_t* acc, Workspace& ws,
                    const Arith& ar) {
  const ConvShape& s = layer.shape;
  const int n = s.out_c, mult = s.out_c / s.in_c, taps = s.k_h * s.k_w;
  Buffer<std::int16_t>& xe = ws.xe;
  const std::int16_t* xp = x;
  if (mult > 1) {
    const std::size_t pixels = static_cast<std::size_t>(s.in_h) * static_cast<std::size_t>(s.in_w);
    xe.resize(pixels * static_cast<std::size_t>(n));
    for (std::size_t px = 0; px < pixels; ++px)
      for (int c = 0; c < n; ++c)
        xe[px * static_cast<std::size_t>(n) + static_cast<std::size_t>(c)] =
            x[px * static_cast<std::size_t>(s.in_c) + static_cast<std::size_t>(c / mult)];
    xp = xe.data();
  }
  const std::int16_t* wtp = nullptr;
  if (pk != nullptr) {
    wtp = pk->wt.data();
  } else {
    Buffer<std::int16_t>& wt = ws.wt;
    wt.resize(static_cast<std::size_t>(taps) * static_cast<std::size_t>(n));
    depthwise_taps(layer, wt.data());
    wtp = wt.data();
  }
  Buffer<std::int32_t>& acc32 = ws.acc32;
  acc32.resize(static_cast<std::size_t>(n));
  DepthwiseArgs d{};
  d.x = xp, d.wt = wtp, d.out = acc, d.acc32 = acc32.data();
  d.in_h = s.in_h, d.in_w = s.in_w, d.n = n;
  d.k_h = s.k_h, d.k_w = s.k_w, d.stride_h = s.stride_h, d.stride_w = s.stride_w;
  d.pad_top = s.pad_top, d.pad_left = s.pad_left, d.out_h = s.out_h(), d.out_w = s.out_w();
  // |sum of t products| <= t * 2^(2B-2) must stay <= INT32_MAX.
  d.tap_chunk = static_cast<int>(std::min<std::int64_t>(INT32_MAX / ar.max_prod, INT32_MAX));
  detail::depthwise_run(d);
}

// ---------------------------------------------------------------- GEMM path

/// Weights of group g as 16-channel panels (gemm.hpp layout), K padded to kp (even) with 0: ntiles *
/// (kp / 2) * 2 * kGemmNR values into panel.
void pack_weights(const Layer& layer, int g, int ng, int k, int kp, int ntiles, std::int16_t* panel) {
  const std::size_t pairs = static_cast<std::size_t>(kp / 2);
  const std::size_t tile_stride = pairs * 2 * kGemmNR;
  std::fill_n(panel, static_cast<std::size_t>(ntiles) * tile_stride, std::int16_t{0});
  for (int n = 0; n < ng; ++n) {
    const std::int32_t* src = layer.weights.data() + static_cast<std::size_t>(g * ng + n) * static_cast<std::size_t>(k);
    std::int16_t* dst =
        panel + static_cast<std::size_t>(n / kGemmNR) * tile_stride + 2 * static_cast<std::size_t>(n % kGemmNR);
    for (int i = 0; i < k; ++i) {
      dst[static_cast<std::size_t>(i >> 1) * 2 * kGemmNR + static_cast<std::size_t>(i & 1)] =
          static_cast<std::int16_t>(src[i]);
    }
  }
}

/// im2col row of output pixel m (k = (ky * kw + kx) * cg + ci of group g; zeros for padding),
/// k values then kp - k zeros.
void im2col_row(const ConvShape& s, const std::int16_t* x, std::size_t m, int g, int kp, std::int16_t* row) {
  const int cg = s.in_c / s.groups, wo = s.out_w();
  const int oy = static_cast<int>(m / static_cast<std::size_t>(wo));
  const int ox = static_cast<int>(m % static_cast<std::size_t>(wo));
  std::int16_t* dst = row;
  for (int ky = 0; ky < s.k_h; ++ky) {
    const int iy = oy * s.stride_h + ky - s.pad_top;
    if (iy < 0 || iy >= s.in_h) {
      std::memset(dst, 0, static_cast<std::size_t>(s.k_w) * static_cast<std::size_t>(cg) * sizeof(std::int16_t));
      dst += static_cast<std::size_t>(s.k_w) * static_cast<std::size_t>(cg);
      continue;
    }
    for (int kx = 0; kx < s.k_w; ++kx, dst += cg) {
      const int ix = ox * s.stride_w + kx - s.pad_left;
      if (ix < 0 || ix >= s.in_w) {
        std::memset(dst, 0, static_cast<std::size_t>(cg) * sizeof(std::int16_t));
      } else {
        std::memcpy(
            dst,
            x +
                (static_cast<std::size_t>(iy) * static_cast<std::size_t>(s.in_w) + static_cast<std::size_t>(ix)) *
                    static_cast<std::size_t>(s.in_c) +
                static_cast<std::size_t>(g) * static_cast<std::size_t>(cg),
            static_cast<std::size_t>(cg) * sizeof(std::int16_t));
      }
    }
  }
  for (int i = s.k(); i < kp; ++i) row[i] = 0;
}

}  // namespace

namespace detail {

/// Exact sum of a[i] * w[i]: int32 partial sums over `chunk` products (each |a*w| <= 2^30
/// fits int32; chunk * max |a*w| <= INT32_MAX), added into int64.
#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
std::int64_t
dot_i16_i32(const std::int16_t* __restrict a, const std::int32_t* __restrict w, std::size_t k, std::size_t chunk) {
  std::int64_t total = 0;
  if (chunk < 64) {
    for (std::size_t i = 0; i < k; ++i) total += static_cast<std::int64_t>(a[i]) * w[i];
    return total;
  }
  for (std::size_t i0 = 0; i0 < k; i0 += chunk) {
    const std::size_t i1 = std::min(k, i0 + chunk);
    std::int32_t sum = 0;
    for (std::size_t i = i0; i < i1; ++i) sum += a[i] * w[i];
    total += sum;
  }
  return total;
}

}  // namespace detail

namespace {

/// Few output pixels (fully-connected layers): dot products straight on the layer's weights,
/// no weight packing.
void conv_dot(const Layer& layer, const std::int16_t* x, std::int64_t* acc, Buffer<std::int16_t>& row,
              const Arith& ar) {
  const ConvShape& s = layer.shape;
  const std::size_t m_total = static_cast<std::size_t>(s.out_h()) * static_cast<std::size_t>(s.out_w());
  const int ng = s.out_c / s.groups, k = s.k();
  const auto chunk = static_cast<std::size_t>(INT32_MAX / ar.max_prod);
  row.resize(static_cast<std::size_t>(k));
  for (std::size_t m = 0; m < m_total; ++m) {
    for (int g = 0; g < s.groups; ++g) {
      im2col_row(s, x, m, g, k, row.data());
      for (int j = 0; j < ng; ++j) {
        const int n = g * ng + j;
        std::int64_t& o = acc[m * static_cast<std::size_t>(s.out_c) + static_cast<std::size_t>(n)];
        o = (layer.bias.empty() ? 0 : layer.bias[static_cast<std::size_t>(n)]) +
            detail::dot_i16_i32(row.data(),
                                layer.weights.data() + static_cast<std::size_t>(n) * static_cast<std::size_t>(k),
                                static_cast<std::size_t>(k), chunk);
      }
    }
  }
}

/// The output stage fused into the GEMM epilogue: y = min(max((acc + half[n]) >> sh[n], lo), hi) per
/// output channel n, written as int32 into y (HWC) instead of the int64 accumulators.
struct FusedStage {
  const std::int64_t* sh;
  const std::int64_t* half;
  std::int64_t lo, hi;
  std::int32_t* y;
};

}  // namespace

namespace detail {

/// One epilogue row of the fused stage: y[j] = stage(bias[j] + c[j]).
#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void fused_stage_row(const std::int64_t* __restrict bias, const std::int32_t* __restrict c,
                     const std::int64_t* __restrict sh, const std::int64_t* __restrict half, std::int64_t lo,
                     std::int64_t hi, int n, std::int32_t* __restrict y) {
  for (int j = 0; j < n; ++j)
    y[j] = static_cast<std::int32_t>(std::min(std::max((bias[j] + c[j] + half[j]) >> sh[j], lo), hi));
}

}  // namespace detail

namespace {

/// With `fs`, the caller guarantees one pass and one K chunk (no 16-bit split, pairs <= chunk), and
/// acc is not written.
void conv_gemm(const Layer& layer, const LayerKernels* pk, const std::int16_t* x, std::int64_t* acc, Workspace& ws,
               const Arith& ar, const FusedStage* fs) {
  const ConvShape& s = layer.shape;
  const GemmKernel kern = kernels()[g_kernel_index.load(std::memory_order_relaxed)].fn;
  const bool split16 = ar.split16;
  const int ho = s.out_h(), wo = s.out_w();
  const std::size_t m_total = static_cast<std::size_t>(ho) * static_cast<std::size_t>(wo);
  const int ng = s.out_c / s.groups;
  const int k = s.k(), kp = (k + 1) & ~1, pairs = kp / 2;
  const int ntiles = (ng + kGemmNR - 1) / kGemmNR;
  const std::size_t tile_stride = static_cast<std::size_t>(pairs) * 2 * kGemmNR;
  const std::size_t out_c = static_cast<std::size_t>(s.out_c);
  // Largest |a * w| of one operand pair as the kernel sees it, and the number of k-pairs
  // whose sum stays within int32: 2 * chunk * bound <= INT32_MAX.
  const std::int64_t bound = split16 ? std::int64_t{255} * 32768 : ar.max_prod;
  const int chunk = static_cast<int>(std::min<std::int64_t>(INT32_MAX / (2 * bound), INT32_MAX));
  // 1x1, stride 1, no padding, one group: rows of A are the input pixels themselves.
  const bool direct = !split16 && s.k_h == 1 && s.k_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
                      s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0 && s.groups == 1 && k % 2 == 0;

  const std::int64_t* bias = nullptr;
  if (pk != nullptr) {
    bias = pk->bias64.data();
  } else {
    ws.bias.assign(out_c, 0);
    for (std::size_t i = 0; i < layer.bias.size(); ++i) ws.bias[i] = layer.bias[i];
    bias = ws.bias.data();
  }
  Buffer<std::int16_t>& abuf = ws.abuf;
  abuf.resize(static_cast<std::size_t>(kGemmMR) * static_cast<std::size_t>(kp));
  Buffer<std::int16_t>& ahi = ws.ahi;
  ahi.resize(split16 ? abuf.size() : 0);
  alignas(64) std::int32_t cbuf[kGemmMR * kGemmLdc];

  for (int g = 0; g < s.groups; ++g) {
    const std::int16_t* panel = nullptr;
    if (pk != nullptr) {
      panel = pk->panels.data() + static_cast<std::size_t>(g) * pk->group_stride;
    } else {
      ws.panel.resize(static_cast<std::size_t>(ntiles) * tile_stride);
      pack_weights(layer, g, ng, k, kp, ntiles, ws.panel.data());
      panel = ws.panel.data();
    }
    for (std::size_t m0 = 0; m0 < m_total; m0 += kGemmMR) {
      const int rows = static_cast<int>(std::min<std::size_t>(kGemmMR, m_total - m0));
      const std::int16_t* a = abuf.data();
      std::size_t lda = static_cast<std::size_t>(kp);
      if (direct && rows == kGemmMR) {
        a = x + m0 * static_cast<std::size_t>(k);
        lda = static_cast<std::size_t>(k);
      } else {
        for (int r = 0; r < kGemmMR; ++r) {
          std::int16_t* row = abuf.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(kp);
          if (r < rows) {
            im2col_row(s, x, m0 + static_cast<std::size_t>(r), g, kp, row);
          } else {
            std::memset(row, 0, static_cast<std::size_t>(kp) * sizeof(std::int16_t));
          }
        }
        if (split16) {  // a = 256 * hi + lo: abuf becomes lo (0..255), ahi gets hi (-128..127)
          for (std::size_t i = 0; i < abuf.size(); ++i) {
            const std::int16_t v = abuf[i];
            ahi[i] = static_cast<std::int16_t>(v >> 8);
            abuf[i] = static_cast<std::int16_t>(v & 0xFF);
          }
        }
      }
      for (int t0 = 0; t0 < ntiles; t0 += kGemmMaxNB) {
        const int nb = std::min(kGemmMaxNB, ntiles - t0);
        const int n0 = t0 * kGemmNR;
        const int nvalid = std::min(nb * kGemmNR, ng - n0);
        const std::int16_t* wt = panel + static_cast<std::size_t>(t0) * tile_stride;
        for (int p0 = 0; p0 < pairs; p0 += chunk) {
          const int np = std::min(chunk, pairs - p0);
          for (int pass = 0; pass < (split16 ? 2 : 1); ++pass) {
            const std::int16_t* ap = (pass == 0 ? a : ahi.data()) + 2 * static_cast<std::size_t>(p0);
            kern(ap, lda, wt + static_cast<std::size_t>(p0) * 2 * kGemmNR, tile_stride, np, nb, cbuf);
            const int sh = pass == 0 ? 0 : 8;
            const bool first = p0 == 0 && pass == 0;
            const std::int64_t* bn = bias + g * ng + n0;
            for (int r = 0; r < rows; ++r) {
              if (fs != nullptr) {
                const std::size_t n_at = static_cast<std::size_t>(g * ng + n0);
                detail::fused_stage_row(bn, cbuf + r * kGemmLdc, fs->sh + n_at, fs->half + n_at, fs->lo, fs->hi, nvalid,
                                        fs->y + (m0 + static_cast<std::size_t>(r)) * out_c + n_at);
                continue;
              }
              std::int64_t* o =
                  acc + (m0 + static_cast<std::size_t>(r)) * out_c + static_cast<std::size_t>(g * ng + n0);
              const std::int32_t* c = cbuf + r * kGemmLdc;
              if (first) {
                for (int j = 0; j < nvalid; ++j) o[j] = bn[j] + c[j];
              } else {
                for (int j = 0; j < nvalid; ++j) o[j] += static_cast<std::int64_t>(c[j]) * (std::int64_t{1} << sh);
              }
            }
          }
        }
      }
    }
  }
}

/// The output stage of layer_output_stage(os, m) as y = min(max(round_shift(acc), lo), hi):
/// saturate to [min, max], ReLU (max with 0) and clamp (min with clamp_hi, itself in range)
/// compose to one interval because min <= 0 <= max; when clamp_hi < lo every y is clamp_hi,
/// which min(max(., lo), hi) also gives.
struct StageBounds {
  int shift;
  std::int64_t lo, hi;
};

StageBounds stage_bounds(const Layer& l) {
  const OutputStage os = layer_output_stage(l.out, l.mode);
  if (os.shift < 0 || os.shift >= kAccBits) {
    throw std::invalid_argument(fmt::format("shift {} outside 0 .. {}", os.shift, kAccBits - 1));
  }
  return {os.shift, os.relu ? 0 : min_value(l.mode), os.clamp ? os.clamp_hi : max_value(l.mode)};
}

}  // namespace

namespace detail {

#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void output_stage_run(const std::int64_t* __restrict acc, std::size_t n, int shift, std::int64_t lo, std::int64_t hi,
                      std::int32_t* __restrict y) {
  if (shift == 0) {
    for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<std::int32_t>(std::min(std::max(acc[i], lo), hi));
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t r = (acc[i] >> shift) + ((acc[i] >> (shift - 1)) & 1);  // round half up
      y[i] = static_cast<std::int32_t>(std::min(std::max(r, lo), hi));
    }
  }
}

/// Per-channel shifts: acc is pixels x nc (HWC); channel c rounds with half[c] = 2^(s-1) (0 for
/// s = 0) and shifts by sh[c]: (acc + half) >> s is floor((acc + 2^(s-1)) / 2^s) exactly, and
/// cannot overflow (|acc| < 2^47, half < 2^47).
#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void output_stage_run_channels(const std::int64_t* __restrict acc, std::size_t pixels, std::size_t nc,
                               const std::int64_t* __restrict sh, const std::int64_t* __restrict half,
                               std::int64_t lo, std::int64_t hi, std::int32_t* __restrict y) {
  for (std::size_t p = 0; p < pixels; ++p) {
    const std::int64_t* a = acc + p * nc;
    std::int32_t* o = y + p * nc;
    for (std::size_t c = 0; c < nc; ++c)
      o[c] = static_cast<std::int32_t>(std::min(std::max((a[c] + half[c]) >> sh[c], lo), hi));
  }
}

}  // namespace detail

namespace {

/// The accumulators of `layer` on the int16 input x (HWC) into acc (out_h * out_w * out_c values),
/// bias included, by the fastest path for its shape; `ar` bounds the operands.
void conv_dispatch(const Layer& layer, const LayerKernels* pk, const std::int16_t* x, std::int64_t* acc, Workspace& ws,
                   const Arith& ar) {
  const ConvShape& s = layer.shape;
  const std::size_t m = static_cast<std::size_t>(s.out_h()) * static_cast<std::size_t>(s.out_w());
  const std::size_t n = static_cast<std::size_t>(s.out_c);
  if (s.groups > 1 && s.groups == s.in_c) {
    if (layer.bias.empty()) {
      std::fill_n(acc, m * n, std::int64_t{0});
    } else {
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) acc[i * n + j] = layer.bias[j];
    }
    conv_depthwise(layer, pk, x, acc, ws, ar);
  } else if (m <= 2) {
    conv_dot(layer, x, acc, ws.row, ar);
  } else {
    conv_gemm(layer, pk, x, acc, ws, ar, nullptr);
  }
}

/// Ax-BxP (docs/NUMERICS.md): acc = bias + sum_k a_k (x) w_k with the kept block products only.
/// Grouped by activation block i: sum_{(i,j) kept} a_i w_j 2^(4(i+j)) = 2^(4i) a_i w'_i with the
/// masked weight w'_i = sum_{j: (i,j) kept} w_j 2^(4j), so each activation block with a kept pair
/// is one exact layer of the same shape ("block plane": input a_i in -8 .. 15, weights w'_i in
/// -2^(B-1) .. 2^(B-1) - 1, both int16) through the fast paths, shifted by 4i and summed.
void conv_approx(const Layer& layer, const std::int16_t* x, std::int64_t* acc, Workspace& ws) {
  const ConvShape& s = layer.shape;
  const Mode mode = layer.mode;
  const int nb = blocks(mode);
  const std::size_t m = static_cast<std::size_t>(s.out_h()) * static_cast<std::size_t>(s.out_w());
  const std::size_t n = static_cast<std::size_t>(s.out_c);
  const std::size_t nx =
      static_cast<std::size_t>(s.in_h) * static_cast<std::size_t>(s.in_w) * static_cast<std::size_t>(s.in_c);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) acc[i * n + j] = layer.bias.empty() ? 0 : layer.bias[j];
  Layer plane;
  plane.shape = s;
  plane.mode = mode;
  plane.weights.resize(layer.weights.size());
  // |a_i| <= 15 and |w'_i| <= 2^(B-1): no 16-bit split needed.
  const Arith ar{false, std::int64_t{15} << (bits(mode) - 1)};
  ws.xplane.resize(nx);
  ws.pacc.resize(m * n);
  for (int i = 0; i < nb; ++i) {
    bool any = false;
    for (int j = 0; j < nb; ++j) any = any || !layer.approx.skips(i, j);
    if (!any) continue;
    for (std::size_t e = 0; e < layer.weights.size(); ++e) {
      std::int32_t wp = 0;
      for (int j = 0; j < nb; ++j) {
        if (!layer.approx.skips(i, j)) wp += block_of(layer.weights[e], j, mode) * (1 << (4 * j));
      }
      plane.weights[e] = wp;
    }
    for (std::size_t e = 0; e < nx; ++e) ws.xplane[e] = static_cast<std::int16_t>(block_of(x[e], i, mode));
    conv_dispatch(plane, nullptr, ws.xplane.data(), ws.pacc.data(), ws, ar);
    for (std::size_t e = 0; e < m * n; ++e) acc[e] += ws.pacc[e] * (std::int64_t{1} << (4 * i));
  }
}

/// Layer::validate()'s checks of the fields seal() does not cover (they may change after it).
void validate_unsealed_fields(const Layer& l) {
  if (l.out.shift < 0 || l.out.shift >= kAccBits) {
    throw std::invalid_argument(fmt::format("Layer: shift = {} outside 0 .. {}", l.out.shift, kAccBits - 1));
  }
  if (!l.channel_shift.empty() && static_cast<int>(l.channel_shift.size()) != l.shape.out_c) {
    throw std::invalid_argument(
        fmt::format("Layer: {} channel shifts, expected 0 or out_c = {}", l.channel_shift.size(), l.shape.out_c));
  }
  for (std::size_t n = 0; n < l.channel_shift.size(); ++n) {
    if (l.channel_shift[n] < 0 || l.channel_shift[n] >= kAccBits) {
      throw std::invalid_argument(
          fmt::format("Layer: shift of channel {} = {} outside 0 .. {}", n, l.channel_shift[n], kAccBits - 1));
    }
  }
  if (!approx_legal(l.approx, l.mode)) {
    throw std::invalid_argument(
        fmt::format("Layer: Ax-BxP skip mask {:#06x} has bits outside the {} block grid {:#06x}", l.approx.skip,
                    to_string(l.mode), approx_grid(l.mode)));
  }
}

/// The per-channel shifts and rounding constants of the layer's output stage into ws.sh, ws.half (out.shift
/// for every channel without channel shifts).
void stage_channels(const Layer& layer, Workspace& ws) {
  const std::size_t nc = static_cast<std::size_t>(layer.shape.out_c);
  ws.sh.resize(nc), ws.half.resize(nc);
  for (std::size_t c = 0; c < nc; ++c) {
    ws.sh[c] = layer.shift(static_cast<int>(c));
    ws.half[c] = ws.sh[c] == 0 ? 0 : std::int64_t{1} << (ws.sh[c] - 1);
  }
}

/// The accumulators of the layer on `in` into ws.acc (out_h * out_w * out_c values, HWC). With `fuse`,
/// a GEMM layer that needs one pass over one K chunk (not 16-bit) goes through the output stage in
/// the GEMM epilogue instead, into ws.y: then returns true and ws.acc is not written.
bool conv2d_acc_into(const Layer& layer, const PackedTensor& in, Workspace& ws, bool fuse = false) {
  const LayerKernels* pk = sealed(layer);
  if (pk == nullptr) {
    layer.validate();
  } else {
    validate_unsealed_fields(layer);
  }
  check_input(layer, in);
  const ConvShape& s = layer.shape;
  const std::int16_t* x = unpack_i16(in, ws.x);
  const std::size_t m = static_cast<std::size_t>(s.out_h()) * static_cast<std::size_t>(s.out_w());
  const Arith ar = arith_of(layer.mode);
  const bool gemm = !(s.groups > 1 && s.groups == s.in_c) && m > 2;  // conv_dispatch's choice
  const int pairs = (s.k() + 1) / 2;
  if (fuse && layer.approx.exact() && gemm && !ar.split16 && std::int64_t{pairs} * 2 * ar.max_prod <= INT32_MAX) {
    const StageBounds b = stage_bounds(layer);
    stage_channels(layer, ws);
    ws.y.resize(m * static_cast<std::size_t>(s.out_c));  // every value written by the epilogue
    const FusedStage fs{ws.sh.data(), ws.half.data(), b.lo, b.hi, ws.y.data()};
    conv_gemm(layer, pk, x, nullptr, ws, ar, &fs);
    return true;
  }
  ws.acc.resize(m * static_cast<std::size_t>(s.out_c));  // every path writes every accumulator
  if (layer.approx.exact()) {
    conv_dispatch(layer, pk, x, ws.acc.data(), ws, arith_of(layer.mode));
  } else {
    conv_approx(layer, x, ws.acc.data(), ws);
  }
  return false;
}

}  // namespace

std::vector<std::int64_t> conv2d_acc(const Layer& layer, const PackedTensor& in) {
  Workspace& ws = workspace();
  conv2d_acc_into(layer, in, ws);
  return {ws.acc.begin(), ws.acc.end()};
}

std::vector<std::int64_t> conv2d_acc_naive(const Layer& layer, const PackedTensor& in) {
  layer.validate();
  check_input(layer, in);
  const ConvShape& s = layer.shape;
  const std::vector<std::int32_t> x = in.values();  // HWC, unpacked once
  const int ho = s.out_h(), wo = s.out_w();
  const int cg = s.in_c / s.groups;   // input channels per group
  const int ng = s.out_c / s.groups;  // output channels per group
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
            const std::int32_t* w = &layer.weights[((static_cast<std::size_t>(n) * static_cast<std::size_t>(s.k_h) +
                                                     static_cast<std::size_t>(ky)) *
                                                        static_cast<std::size_t>(s.k_w) +
                                                    static_cast<std::size_t>(kx)) *
                                                   static_cast<std::size_t>(cg)];
            if (layer.approx.exact()) {
              for (int ci = 0; ci < cg; ++ci) sum += static_cast<std::int64_t>(a[ci]) * w[ci];
            } else {  // the block-product twin, one product at a time
              for (int ci = 0; ci < cg; ++ci) sum += approx_product(a[ci], w[ci], layer.mode, layer.approx);
            }
          }
        }
        acc[o] = sum;
      }
    }
  }
  return acc;
}

void conv2d(const Layer& layer, const PackedTensor& in, PackedTensor& out) {
  Workspace& ws = workspace();
  const bool fused = conv2d_acc_into(layer, in, ws, true);
  const Buffer<std::int64_t>& acc = ws.acc;
  const ConvShape& s = layer.shape;
  const StageBounds b = stage_bounds(layer);
  Buffer<std::int32_t>& y = ws.y;
  if (fused) {
    // ws.y holds the outputs already
  } else if (layer.channel_shift.empty()) {
    y.resize(acc.size());  // every value written by the output stage
    detail::output_stage_run(acc.data(), acc.size(), b.shift, b.lo, b.hi, y.data());
  } else {
    const std::size_t nc = static_cast<std::size_t>(s.out_c);
    Buffer<std::int64_t>& sh = ws.sh;
    Buffer<std::int64_t>& half = ws.half;
    sh.resize(nc), half.resize(nc);
    for (std::size_t c = 0; c < nc; ++c) {
      sh[c] = layer.channel_shift[c];
      half[c] = sh[c] == 0 ? 0 : std::int64_t{1} << (sh[c] - 1);
    }
    y.resize(acc.size());
    detail::output_stage_run_channels(acc.data(), acc.size() / nc, nc, sh.data(), half.data(), b.lo, b.hi, y.data());
  }
  out.h = s.out_h(), out.w = s.out_w(), out.c = s.out_c, out.mode = layer.mode;
  out.words.resize(static_cast<std::size_t>(out.h) * static_cast<std::size_t>(out.w) * out.words_per_pixel());
  const std::size_t pixels = static_cast<std::size_t>(out.h) * static_cast<std::size_t>(out.w);
  const std::size_t c = static_cast<std::size_t>(s.out_c), wpp = out.words_per_pixel();
  const std::size_t p = static_cast<std::size_t>(lanes(layer.mode));
  if (c % p == 0) {
    pack_words(y.data(), out.words.size(), layer.mode, out.words.data());
    return;
  }
  const std::size_t full = c / p;
  for (std::size_t px = 0; px < pixels; ++px) {
    const std::int32_t* src = y.data() + px * c;
    std::uint16_t* dst = out.words.data() + px * wpp;
    pack_words(src, full, layer.mode, dst);
    dst[full] = 0;  // lanes beyond c stay 0
    for (std::size_t e = full * p; e < c; ++e) {
      dst[full] = set_lane(dst[full], static_cast<int>(e - full * p), layer.mode, src[e]);
    }
  }
}

void seal(Layer& layer) {
  layer.validate();
  auto k = std::make_shared<LayerKernels>();
  const ConvShape& s = layer.shape;
  k->weights = layer.weights.data(), k->n_weights = layer.weights.size();
  k->bias = layer.bias.data(), k->n_bias = layer.bias.size();
  k->shape = s, k->mode = layer.mode;
  const std::size_t m = static_cast<std::size_t>(s.out_h()) * static_cast<std::size_t>(s.out_w());
  // The same choice of path as conv_dispatch (the dot path reads the weights as they are).
  if (s.groups > 1 && s.groups == s.in_c) {
    k->wt.resize(static_cast<std::size_t>(s.k_h) * static_cast<std::size_t>(s.k_w) * static_cast<std::size_t>(s.out_c));
    depthwise_taps(layer, k->wt.data());
  } else if (m > 2) {
    const int ng = s.out_c / s.groups, kk = s.k(), kp = (kk + 1) & ~1;
    const int ntiles = (ng + kGemmNR - 1) / kGemmNR;
    k->group_stride = static_cast<std::size_t>(ntiles) * static_cast<std::size_t>(kp / 2) * 2 * kGemmNR;
    k->panels.resize(static_cast<std::size_t>(s.groups) * k->group_stride);
    for (int g = 0; g < s.groups; ++g)
      pack_weights(layer, g, ng, kk, kp, ntiles, k->panels.data() + static_cast<std::size_t>(g) * k->group_stride);
    k->bias64.assign(static_cast<std::size_t>(s.out_c), 0);
    for (std::size_t i = 0; i < layer.bias.size(); ++i) k->bias64[i] = layer.bias[i];
  }
  layer.kernels = std::move(k);
}

PackedTensor conv2d(const Layer& layer, const PackedTensor& in) {
  PackedTensor out;
  conv2d(layer, in, out);
  return out;
}

std::vector<std::string> gemm_kernels() {
  std::vector<std::string> names;
  for (const KernelEntry& k : kernels()) names.emplace_back(k.name);
  return names;
}

std::string gemm_kernel() { return kernels()[g_kernel_index.load(std::memory_order_relaxed)].name; }

void set_gemm_kernel(std::string_view name) {
  const auto& k = kernels();
  for (std::size_t i = 0; i < k.size(); ++i) {
    if (name == k[i].name) {
      g_kernel_index.store(i, std::memory_order_relaxed);
      return;
    }
  }
  throw std::invalid_argument(fmt::format("GEMM kernel '{}' is not available on this CPU (available: {})", name,
                                          fmt::join(gemm_kernels(), ", ")));
}

}  // namespace bitscale::golden

namespace bitscale::golden {

double int16_mac_peak(std::string_view kernel, double seconds) {
  const auto& k = kernels();
  if (std::none_of(k.begin(), k.end(), [&](const KernelEntry& e) { return kernel == e.name; })) {
    throw std::invalid_argument(
        fmt::format("int16 MAC peak: GEMM kernel '{}' is not available on this CPU (available: {})", kernel,
                    fmt::join(gemm_kernels(), ", ")));
  }
  std::uint64_t (*loop)(std::uint64_t) = nullptr;
#if defined(BITSCALE_GOLDEN_X86)
  if (kernel == "avx512vnni") loop = detail::mac_peak_avx512vnni;
  if (kernel == "avx512bw") loop = detail::mac_peak_avx512bw;
  if (kernel == "avx2") loop = detail::mac_peak_avx2;
#endif
  if (loop == nullptr) {
    throw std::invalid_argument(
        fmt::format("int16 MAC peak: kernel '{}' has no SIMD MAC instruction to measure", kernel));
  }
  using Clock = std::chrono::steady_clock;
  loop(1 << 16);  // warm-up: clock ramp and the AVX-512 licence
  std::uint64_t macs = 0;
  const auto t0 = Clock::now();
  double el = 0;
  do {
    macs += loop(1 << 20);
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (el < seconds);
  return static_cast<double>(macs) / el;
}

}  // namespace bitscale::golden
