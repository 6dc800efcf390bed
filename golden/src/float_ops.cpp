#include "bitscale/golden/float_ops.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace bitscale::golden {

FloatTensor::FloatTensor(int h_, int w_, int c_, float value)
    : h(h_), w(w_), c(c_), data(static_cast<std::size_t>(h_) * w_ * c_, value) {
  if (h_ <= 0 || w_ <= 0 || c_ <= 0) {
    throw std::invalid_argument(fmt::format("float tensor: non-positive shape {}x{}x{}", h_, w_, c_));
  }
}

float activate(float v, FloatActivation a) {
  switch (a) {
    case FloatActivation::kNone:
      return v;
    case FloatActivation::kRelu:
      return std::max(v, 0.0f);
    case FloatActivation::kRelu6:
      return std::min(std::max(v, 0.0f), 6.0f);
    case FloatActivation::kReluN1To1:
      return std::min(std::max(v, -1.0f), 1.0f);
  }
  return v;
}

PadAmounts same_padding(int in, int k, int stride, int dilation) {
  if (in <= 0 || k <= 0 || stride <= 0 || dilation <= 0) {
    throw std::invalid_argument(
        fmt::format("SAME padding: bad geometry in {} k {} stride {} dilation {}", in, k, stride, dilation));
  }
  const int out = (in + stride - 1) / stride;
  const int eff_k = (k - 1) * dilation + 1;
  const int total = std::max((out - 1) * stride + eff_k - in, 0);
  return {total / 2, total - total / 2};
}

int window_out_size(int in, int k, int stride, int dilation, PadAmounts pad) {
  const int eff_k = (k - 1) * dilation + 1;
  const int span = in + pad.before + pad.after - eff_k;
  if (stride <= 0 || span < 0) {
    throw std::invalid_argument(fmt::format("window {} (dilation {}) does not fit input {} padded by {},{}", k,
                                            dilation, in, pad.before, pad.after));
  }
  return span / stride + 1;
}

int Window::out_h(int in_h) const { return window_out_size(in_h, k_h, stride_h, dilation_h, {pad_top, pad_bottom}); }
int Window::out_w(int in_w) const { return window_out_size(in_w, k_w, stride_w, dilation_w, {pad_left, pad_right}); }

namespace {

// No vector type crosses a call (the helpers are always inlined, also into the ISA clones): -Wpsabi
// warns about an ABI that is never used.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
/// Eight floats; GCC/Clang vector extension (one ymm register with AVX, two xmm without).
using V8 = float __attribute__((vector_size(32)));

[[gnu::always_inline]] inline V8 load8(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline float hsum8(const V8& v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/// A scratch vector per thread, reused across calls (every element written before it is read).
std::vector<float>& scratch(int which) {
  thread_local std::vector<float> s[2];
  return s[which];
}

}  // namespace

namespace detail {

/// c[r][j] = sum_{i < k} a_r[i] * w_j[i] for the 3 rows a_r (row stride lda) and the 4 weight
/// vectors w_j (stride ldw): 12 dot products sharing their loads, 8 lanes of k at a time, lanes
/// summed at the end (float rounding differs from a sequential sum). Callers pad missing rows or
/// columns by repeating a valid pointer.
#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void float_dot_3x4(const float* a, std::size_t lda, const float* w, std::size_t ldw, std::size_t k, float* c) {
  const float* a0 = a;
  const float* a1 = a + lda;
  const float* a2 = a + 2 * lda;
  const float* w0 = w;
  const float* w1 = w + ldw;
  const float* w2 = w + 2 * ldw;
  const float* w3 = w + 3 * ldw;
  V8 c00{}, c01{}, c02{}, c03{}, c10{}, c11{}, c12{}, c13{}, c20{}, c21{}, c22{}, c23{};
  std::size_t i = 0;
  for (; i + 8 <= k; i += 8) {
    const V8 x0 = load8(a0 + i), x1 = load8(a1 + i), x2 = load8(a2 + i);
    V8 v = load8(w0 + i);
    c00 += x0 * v, c10 += x1 * v, c20 += x2 * v;
    v = load8(w1 + i);
    c01 += x0 * v, c11 += x1 * v, c21 += x2 * v;
    v = load8(w2 + i);
    c02 += x0 * v, c12 += x1 * v, c22 += x2 * v;
    v = load8(w3 + i);
    c03 += x0 * v, c13 += x1 * v, c23 += x2 * v;
  }
  float r[12] = {hsum8(c00), hsum8(c01), hsum8(c02), hsum8(c03), hsum8(c10), hsum8(c11),
                 hsum8(c12), hsum8(c13), hsum8(c20), hsum8(c21), hsum8(c22), hsum8(c23)};
  for (; i < k; ++i) {
    const float x[3] = {a0[i], a1[i], a2[i]};
    const float ww[4] = {w0[i], w1[i], w2[i], w3[i]};
    for (int rr = 0; rr < 3; ++rr)
      for (int j = 0; j < 4; ++j) r[rr * 4 + j] += x[rr] * ww[j];
  }
  std::memcpy(c, r, sizeof r);
}

/// Depthwise taps of one output pixel, vectorised across the n channels: o[i] += a[i] * w[i].
#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void float_madd(const float* __restrict a, const float* __restrict w, std::size_t n, float* __restrict o) {
  for (std::size_t i = 0; i < n; ++i) o[i] += a[i] * w[i];
}

}  // namespace detail

#pragma GCC diagnostic pop

namespace {

void activate_all(float* o, std::size_t n, FloatActivation act) {
  switch (act) {
    case FloatActivation::kNone:
      return;
    case FloatActivation::kRelu:
      for (std::size_t i = 0; i < n; ++i) o[i] = std::max(o[i], 0.0f);
      return;
    case FloatActivation::kRelu6:
      for (std::size_t i = 0; i < n; ++i) o[i] = std::min(std::max(o[i], 0.0f), 6.0f);
      return;
    case FloatActivation::kReluN1To1:
      for (std::size_t i = 0; i < n; ++i) o[i] = std::min(std::max(o[i], -1.0f), 1.0f);
      return;
  }
}

/// Depthwise (groups == in.c, one input channel per group, multiplier out_c / in.c): per output
/// pixel, bias then the taps in (ky, kx) order, each a vector multiply-add across the channels.
void conv_depthwise_f(const FloatTensor& in, std::span<const float> weights, std::span<const float> bias,
                      const Window& win, FloatActivation act, FloatTensor& out) {
  const std::size_t n = static_cast<std::size_t>(out.c);
  const int mult = out.c / in.c;
  const std::size_t taps = static_cast<std::size_t>(win.k_h) * static_cast<std::size_t>(win.k_w);
  // Weights [n][tap] -> [tap][n].
  std::vector<float>& wt = scratch(0);
  wt.resize(taps * n);
  for (std::size_t c = 0; c < n; ++c)
    for (std::size_t t = 0; t < taps; ++t) wt[t * n + c] = weights[c * taps + t];
  // Multiplier > 1: input channel c / mult at position c.
  const float* x = in.data.data();
  if (mult > 1) {
    std::vector<float>& xe = scratch(1);
    const std::size_t pixels = static_cast<std::size_t>(in.h) * static_cast<std::size_t>(in.w);
    xe.resize(pixels * n);
    for (std::size_t p = 0; p < pixels; ++p)
      for (std::size_t c = 0; c < n; ++c)
        xe[p * n + c] = in.data[p * static_cast<std::size_t>(in.c) + c / static_cast<std::size_t>(mult)];
    x = xe.data();
  }
  for (int oy = 0; oy < out.h; ++oy) {
    for (int ox = 0; ox < out.w; ++ox) {
      float* o = &out.data[(static_cast<std::size_t>(oy) * static_cast<std::size_t>(out.w) + ox) * n];
      if (bias.empty()) {
        std::fill_n(o, n, 0.0f);
      } else {
        std::copy(bias.begin(), bias.end(), o);
      }
      for (int ky = 0; ky < win.k_h; ++ky) {
        const int iy = oy * win.stride_h + ky * win.dilation_h - win.pad_top;
        if (iy < 0 || iy >= in.h) continue;
        for (int kx = 0; kx < win.k_w; ++kx) {
          const int ix = ox * win.stride_w + kx * win.dilation_w - win.pad_left;
          if (ix < 0 || ix >= in.w) continue;
          const float* a = x + (static_cast<std::size_t>(iy) * static_cast<std::size_t>(in.w) + ix) * n;
          detail::float_madd(a, wt.data() + (static_cast<std::size_t>(ky) * win.k_w + kx) * n, n, o);
        }
      }
      activate_all(o, n, act);
    }
  }
}

/// im2col row of output pixel (oy, ox) for group g: k = (ky * k_w + kx) * cig + ci, zeros in
/// the padding (the order of the OHWI weights).
void im2col_row_f(const FloatTensor& in, const Window& win, int cig, int g, int oy, int ox, float* row) {
  const std::size_t cg = static_cast<std::size_t>(cig);
  for (int ky = 0; ky < win.k_h; ++ky) {
    const int iy = oy * win.stride_h + ky * win.dilation_h - win.pad_top;
    for (int kx = 0; kx < win.k_w; ++kx, row += cg) {
      const int ix = ox * win.stride_w + kx * win.dilation_w - win.pad_left;
      if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
        std::fill_n(row, cg, 0.0f);
      } else {
        const float* src = &in.data[(static_cast<std::size_t>(iy) * static_cast<std::size_t>(in.w) + ix) *
                                        static_cast<std::size_t>(in.c) +
                                    static_cast<std::size_t>(g) * cg];
        std::copy_n(src, cg, row);
      }
    }
  }
}

/// All other convolutions: per group, blocks of 3 output pixels (im2col rows, or the input pixels
/// themselves for a 1x1 stride-1 unpadded single-group layer) times blocks of 4 output channels.
void conv_gemm_f(const FloatTensor& in, std::span<const float> weights, std::span<const float> bias, int groups,
                 const Window& win, FloatActivation act, FloatTensor& out) {
  const int cig = in.c / groups, cog = out.c / groups;
  const std::size_t kvec = static_cast<std::size_t>(win.k_h) * static_cast<std::size_t>(win.k_w) * cig;
  const std::size_t m_total = static_cast<std::size_t>(out.h) * static_cast<std::size_t>(out.w);
  const std::size_t nc = static_cast<std::size_t>(out.c);
  const bool direct = win.k_h == 1 && win.k_w == 1 && win.stride_h == 1 && win.stride_w == 1 && win.pad_top == 0 &&
                      win.pad_left == 0 && win.pad_bottom == 0 && win.pad_right == 0 && groups == 1 && out.h == in.h &&
                      out.w == in.w;
  std::vector<float>& rows = scratch(0);
  rows.resize(3 * kvec);
  float c[12];
  for (int g = 0; g < groups; ++g) {
    for (std::size_t m0 = 0; m0 < m_total; m0 += 3) {
      const int nr = static_cast<int>(std::min<std::size_t>(3, m_total - m0));
      const float* a = rows.data();
      std::size_t lda = kvec;
      if (direct) {
        a = in.data.data() + m0 * kvec;
        // Missing rows repeat the first one (their results are dropped).
        if (nr < 3) {
          for (int r = 0; r < 3; ++r) std::copy_n(a + (r < nr ? r : 0) * kvec, kvec, rows.data() + r * kvec);
          a = rows.data();
        }
      } else {
        for (int r = 0; r < 3; ++r) {
          const std::size_t m = m0 + static_cast<std::size_t>(r < nr ? r : 0);
          im2col_row_f(in, win, cig, g, static_cast<int>(m / static_cast<std::size_t>(out.w)),
                       static_cast<int>(m % static_cast<std::size_t>(out.w)), rows.data() + r * kvec);
        }
      }
      for (int j0 = 0; j0 < cog; j0 += 4) {
        const int nj = std::min(4, cog - j0);
        const std::size_t n0 = static_cast<std::size_t>(g) * cog + j0;
        const float* w = weights.data() + n0 * kvec;
        if (nj == 4) {
          detail::float_dot_3x4(a, lda, w, kvec, kvec, c);
        } else {  // fewer than 4 channels left: a copy padded by repeating the first
          std::vector<float>& wpad = scratch(1);
          wpad.resize(4 * kvec);
          for (int j = 0; j < 4; ++j)
            std::copy_n(w + static_cast<std::size_t>(j < nj ? j : 0) * kvec, kvec, wpad.data() + j * kvec);
          detail::float_dot_3x4(a, lda, wpad.data(), kvec, kvec, c);
        }
        for (int r = 0; r < nr; ++r) {
          float* o = &out.data[(m0 + static_cast<std::size_t>(r)) * nc + n0];
          for (int j = 0; j < nj; ++j)
            o[j] = (bias.empty() ? 0.0f : bias[n0 + static_cast<std::size_t>(j)]) + c[r * 4 + j];
          activate_all(o, static_cast<std::size_t>(nj), act);
        }
      }
    }
  }
}

}  // namespace

FloatTensor conv2d(const FloatTensor& in, std::span<const float> weights, std::span<const float> bias, int out_c,
                   int groups, const Window& win, FloatActivation act) {
  if (groups <= 0 || in.c % groups != 0 || out_c % groups != 0) {
    throw std::invalid_argument(
        fmt::format("conv2d: channels in {} out {} not divisible by groups {}", in.c, out_c, groups));
  }
  const int cig = in.c / groups;
  const std::size_t kvec = static_cast<std::size_t>(win.k_h) * win.k_w * cig;
  if (weights.size() != kvec * static_cast<std::size_t>(out_c)) {
    throw std::invalid_argument(fmt::format("conv2d: {} weights, expected {}", weights.size(), kvec * out_c));
  }
  if (!bias.empty() && bias.size() != static_cast<std::size_t>(out_c)) {
    throw std::invalid_argument(fmt::format("conv2d: {} biases, expected {}", bias.size(), out_c));
  }
  const int oh = win.out_h(in.h), ow = win.out_w(in.w);
  FloatTensor out(oh, ow, out_c);
  if (groups == in.c && cig == 1) {
    conv_depthwise_f(in, weights, bias, win, act, out);
  } else {
    conv_gemm_f(in, weights, bias, groups, win, act, out);
  }
  return out;
}

std::vector<float> fully_connected(std::span<const float> in, std::span<const float> weights,
                                   std::span<const float> bias, int out, FloatActivation act) {
  const std::size_t k = in.size();
  if (out <= 0 || weights.size() != k * static_cast<std::size_t>(out)) {
    throw std::invalid_argument(
        fmt::format("fully_connected: {} weights for {} inputs x {} outputs", weights.size(), k, out));
  }
  if (!bias.empty() && bias.size() != static_cast<std::size_t>(out)) {
    throw std::invalid_argument(fmt::format("fully_connected: {} biases, expected {}", bias.size(), out));
  }
  std::vector<float> y(static_cast<std::size_t>(out));
  // One input row (the kernel's three rows all read it) times blocks of 4 outputs.
  float c[12];
  std::vector<float> wpad;
  for (int o0 = 0; o0 < out; o0 += 4) {
    const int nj = std::min(4, out - o0);
    const float* w = weights.data() + static_cast<std::size_t>(o0) * k;
    if (nj < 4) {
      wpad.resize(4 * k);
      for (int j = 0; j < 4; ++j) std::copy_n(w + static_cast<std::size_t>(j < nj ? j : 0) * k, k, wpad.data() + j * k);
      w = wpad.data();
    }
    detail::float_dot_3x4(in.data(), 0, w, k, k, c);
    for (int j = 0; j < nj; ++j) {
      const std::size_t o = static_cast<std::size_t>(o0 + j);
      y[o] = activate((bias.empty() ? 0.0f : bias[o]) + c[j], act);
    }
  }
  return y;
}

FloatTensor add(const FloatTensor& a, const FloatTensor& b, FloatActivation act) {
  FloatTensor out = a;
  if (b.size() == a.size() && b.h == a.h && b.w == a.w) {
    for (std::size_t i = 0; i < out.size(); ++i) out.data[i] = activate(a.data[i] + b.data[i], act);
  } else if (b.size() == 1) {
    for (auto& v : out.data) v = activate(v + b.data[0], act);
  } else if (b.size() == static_cast<std::size_t>(a.c)) {
    for (std::size_t i = 0; i < out.size(); ++i) out.data[i] = activate(a.data[i] + b.data[i % a.c], act);
  } else {
    throw std::invalid_argument(
        fmt::format("add: shapes {}x{}x{} and {}x{}x{} do not broadcast", a.h, a.w, a.c, b.h, b.w, b.c));
  }
  return out;
}

namespace {

template <typename Reduce>
FloatTensor pool(const FloatTensor& in, const Window& win, FloatActivation act, Reduce reduce) {
  const int oh = win.out_h(in.h), ow = win.out_w(in.w);
  FloatTensor out(oh, ow, in.c);
  std::vector<float> cells;
  for (int oy = 0; oy < oh; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      for (int ch = 0; ch < in.c; ++ch) {
        cells.clear();
        for (int ky = 0; ky < win.k_h; ++ky) {
          const int iy = oy * win.stride_h + ky * win.dilation_h - win.pad_top;
          if (iy < 0 || iy >= in.h) continue;
          for (int kx = 0; kx < win.k_w; ++kx) {
            const int ix = ox * win.stride_w + kx * win.dilation_w - win.pad_left;
            if (ix < 0 || ix >= in.w) continue;
            cells.push_back(in.at(iy, ix, ch));
          }
        }
        if (cells.empty()) throw std::invalid_argument("pool: a window lies entirely in the padding");
        out.at(oy, ox, ch) = activate(reduce(cells), act);
      }
    }
  }
  return out;
}

}  // namespace

FloatTensor average_pool(const FloatTensor& in, const Window& win, FloatActivation act) {
  return pool(in, win, act, [](const std::vector<float>& v) {
    float s = 0.0f;
    for (float x : v) s += x;
    return s / static_cast<float>(v.size());
  });
}

FloatTensor max_pool(const FloatTensor& in, const Window& win, FloatActivation act) {
  return pool(in, win, act, [](const std::vector<float>& v) { return *std::max_element(v.begin(), v.end()); });
}

FloatTensor mean_hw(const FloatTensor& in) {
  FloatTensor out(1, 1, in.c);
  std::vector<double> s(static_cast<std::size_t>(in.c), 0.0);
  for (std::size_t i = 0; i < in.size(); ++i) s[i % in.c] += in.data[i];
  const double n = static_cast<double>(in.h) * in.w;
  for (int ch = 0; ch < in.c; ++ch) out.data[ch] = static_cast<float>(s[ch] / n);
  return out;
}

std::vector<float> softmax(std::span<const float> x, float beta) {
  std::vector<float> y(x.size());
  if (x.empty()) return y;
  const float mx = *std::max_element(x.begin(), x.end());
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    y[i] = std::exp(beta * (x[i] - mx));
    sum += y[i];
  }
  for (auto& v : y) v = static_cast<float>(v / sum);
  return y;
}

FloatTensor pad(const FloatTensor& in, PadAmounts ph, PadAmounts pw, PadAmounts pc, float value) {
  if (ph.before < 0 || ph.after < 0 || pw.before < 0 || pw.after < 0 || pc.before < 0 || pc.after < 0) {
    throw std::invalid_argument("pad: negative padding");
  }
  FloatTensor out(in.h + ph.before + ph.after, in.w + pw.before + pw.after, in.c + pc.before + pc.after, value);
  for (int y = 0; y < in.h; ++y) {
    for (int x = 0; x < in.w; ++x) {
      for (int ch = 0; ch < in.c; ++ch) out.at(y + ph.before, x + pw.before, ch + pc.before) = in.at(y, x, ch);
    }
  }
  return out;
}

FloatTensor concatenate(std::span<const FloatTensor> parts, int axis) {
  if (parts.empty()) throw std::invalid_argument("concatenate: no inputs");
  if (axis < 0 || axis > 2) throw std::invalid_argument(fmt::format("concatenate: axis {} of an HWC tensor", axis));
  int h = parts[0].h, w = parts[0].w, c = parts[0].c;
  int total = 0;
  for (const auto& p : parts) {
    const int dims[3] = {p.h, p.w, p.c};
    const int ref[3] = {h, w, c};
    for (int d = 0; d < 3; ++d) {
      if (d != axis && dims[d] != ref[d]) {
        throw std::invalid_argument(
            fmt::format("concatenate: {}x{}x{} does not match {}x{}x{} along axis {}", p.h, p.w, p.c, h, w, c, d));
      }
    }
    total += dims[axis];
  }
  FloatTensor out(axis == 0 ? total : h, axis == 1 ? total : w, axis == 2 ? total : c);
  int offset = 0;
  for (const auto& p : parts) {
    for (int y = 0; y < p.h; ++y) {
      for (int x = 0; x < p.w; ++x) {
        for (int ch = 0; ch < p.c; ++ch) {
          out.at(y + (axis == 0 ? offset : 0), x + (axis == 1 ? offset : 0), ch + (axis == 2 ? offset : 0)) =
              p.at(y, x, ch);
        }
      }
    }
    offset += axis == 0 ? p.h : axis == 1 ? p.w : p.c;
  }
  return out;
}

}  // namespace bitscale::golden
