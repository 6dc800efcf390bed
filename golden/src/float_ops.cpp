#include "bitscale/golden/float_ops.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
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

FloatTensor conv2d(const FloatTensor& in, std::span<const float> weights, std::span<const float> bias, int out_c,
                   int groups, const Window& win, FloatActivation act) {
  if (groups <= 0 || in.c % groups != 0 || out_c % groups != 0) {
    throw std::invalid_argument(
        fmt::format("conv2d: channels in {} out {} not divisible by groups {}", in.c, out_c, groups));
  }
  const int cig = in.c / groups;
  const int cog = out_c / groups;
  const std::size_t kvec = static_cast<std::size_t>(win.k_h) * win.k_w * cig;
  if (weights.size() != kvec * static_cast<std::size_t>(out_c)) {
    throw std::invalid_argument(fmt::format("conv2d: {} weights, expected {}", weights.size(), kvec * out_c));
  }
  if (!bias.empty() && bias.size() != static_cast<std::size_t>(out_c)) {
    throw std::invalid_argument(fmt::format("conv2d: {} biases, expected {}", bias.size(), out_c));
  }
  const int oh = win.out_h(in.h), ow = win.out_w(in.w);
  FloatTensor out(oh, ow, out_c);
  for (int oy = 0; oy < oh; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      float* o = &out.data[(static_cast<std::size_t>(oy) * ow + ox) * out_c];
      for (int n = 0; n < out_c; ++n) o[n] = bias.empty() ? 0.0f : bias[n];
      for (int ky = 0; ky < win.k_h; ++ky) {
        const int iy = oy * win.stride_h + ky * win.dilation_h - win.pad_top;
        if (iy < 0 || iy >= in.h) continue;
        for (int kx = 0; kx < win.k_w; ++kx) {
          const int ix = ox * win.stride_w + kx * win.dilation_w - win.pad_left;
          if (ix < 0 || ix >= in.w) continue;
          const float* px = &in.data[(static_cast<std::size_t>(iy) * in.w + ix) * in.c];
          const std::size_t tap = (static_cast<std::size_t>(ky) * win.k_w + kx) * cig;
          for (int g = 0; g < groups; ++g) {
            const float* a = px + static_cast<std::size_t>(g) * cig;
            for (int j = 0; j < cog; ++j) {
              const int n = g * cog + j;
              const float* wv = weights.data() + static_cast<std::size_t>(n) * kvec + tap;
              float s = 0.0f;
              for (int ci = 0; ci < cig; ++ci) s += a[ci] * wv[ci];
              o[n] += s;
            }
          }
        }
      }
      for (int n = 0; n < out_c; ++n) o[n] = activate(o[n], act);
    }
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
  for (int o = 0; o < out; ++o) {
    const float* wv = weights.data() + static_cast<std::size_t>(o) * k;
    float s = bias.empty() ? 0.0f : bias[o];
    for (std::size_t i = 0; i < k; ++i) s += wv[i] * in[i];
    y[o] = activate(s, act);
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
