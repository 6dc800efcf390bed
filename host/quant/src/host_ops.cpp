#include "host_ops.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "bitscale/quant/fixed_point.hpp"

namespace bitscale::quant::host {

using model::Shape3;

void add(const QTensor& a, std::span<const std::int32_t> b, int b_fl, int channels, int fl_out,
         golden::FloatActivation act, golden::Mode m, const std::string& where, std::vector<std::int32_t>& y) {
  const int common = std::max({a.fl, b_fl, fl_out});
  const std::size_t n = a.v.size();
  if (b.size() != n && b.size() != 1 && b.size() != static_cast<std::size_t>(channels)) {
    throw std::invalid_argument(fmt::format("{}: operands do not broadcast", where));
  }
  y.resize(n);  // every value written
  for (std::size_t k = 0; k < n; ++k) {
    const std::int32_t bk = b.size() == n ? b[k] : b.size() == 1 ? b[0] : b[k % channels];
    const std::int64_t s = rescale(a.v[k], a.fl, common) + rescale(bk, b_fl, common);
    y[k] = activate_fixed(rescale(s, common, fl_out), act, fl_out, m);
  }
}

void pool(const QTensor& x, const Shape3& is, const Shape3& os, const golden::Window& w, bool average, int fl_out,
          golden::FloatActivation act, golden::Mode m, std::vector<std::int32_t>& y) {
  y.resize(static_cast<std::size_t>(os.size()));  // every value written
  const int d = fl_out - x.fl;
  for (int oy = 0; oy < os.h; ++oy) {
    for (int ox = 0; ox < os.w; ++ox) {
      for (int ch = 0; ch < os.c; ++ch) {
        std::int64_t acc = average ? 0 : std::numeric_limits<std::int64_t>::min();
        std::int64_t count = 0;
        for (int ky = 0; ky < w.k_h; ++ky) {
          const int iy = oy * w.stride_h + ky * w.dilation_h - w.pad_top;
          if (iy < 0 || iy >= is.h) continue;
          for (int kx = 0; kx < w.k_w; ++kx) {
            const int ix = ox * w.stride_w + kx * w.dilation_w - w.pad_left;
            if (ix < 0 || ix >= is.w) continue;
            const std::int64_t v = x.v[(static_cast<std::size_t>(iy) * is.w + ix) * is.c + ch];
            acc = average ? acc + v : std::max(acc, v);
            ++count;
          }
        }
        std::int64_t r = acc;
        if (average) r = round_div(acc * (std::int64_t{1} << std::max(d, 0)), count << std::max(-d, 0));
        y[(static_cast<std::size_t>(oy) * os.w + ox) * os.c + ch] = activate_fixed(r, act, fl_out, m);
      }
    }
  }
}

void mean_hw(const QTensor& x, const Shape3& is, int fl_out, golden::Mode m, std::vector<std::int32_t>& y) {
  const int d = fl_out - x.fl;
  const std::int64_t count = static_cast<std::int64_t>(is.h) * is.w;
  std::vector<std::int64_t> s(static_cast<std::size_t>(is.c), 0);
  for (std::size_t k = 0; k < x.v.size(); ++k) s[k % is.c] += x.v[k];
  y.resize(s.size());
  for (std::size_t ch = 0; ch < s.size(); ++ch) {
    y[ch] = golden::saturate(round_div(s[ch] * (std::int64_t{1} << std::max(d, 0)), count << std::max(-d, 0)), m);
  }
}

void pad(const QTensor& x, const Shape3& is, const Shape3& os, const golden::PadAmounts& ph,
         const golden::PadAmounts& pw, const golden::PadAmounts& pc, std::vector<std::int32_t>& y) {
  y.assign(static_cast<std::size_t>(os.size()), 0);
  for (int yy = 0; yy < is.h; ++yy) {
    for (int xx = 0; xx < is.w; ++xx) {
      for (int ch = 0; ch < is.c; ++ch) {
        y[(static_cast<std::size_t>(yy + ph.before) * os.w + xx + pw.before) * os.c + ch + pc.before] =
            x.v[(static_cast<std::size_t>(yy) * is.w + xx) * is.c + ch];
      }
    }
  }
}

void concatenate(std::span<const QTensor* const> parts, std::span<const Shape3> shapes, int axis, const Shape3& os,
                 int fl_out, golden::Mode m, std::vector<std::int32_t>& y) {
  y.assign(static_cast<std::size_t>(os.size()), 0);
  int offset = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const QTensor& p = *parts[i];
    const Shape3& ps = shapes[i];
    for (int yy = 0; yy < ps.h; ++yy) {
      for (int xx = 0; xx < ps.w; ++xx) {
        for (int ch = 0; ch < ps.c; ++ch) {
          const int oy = yy + (axis == 0 ? offset : 0), ox = xx + (axis == 1 ? offset : 0),
                    oc = ch + (axis == 2 ? offset : 0);
          y[(static_cast<std::size_t>(oy) * os.w + ox) * os.c + oc] =
              golden::saturate(rescale(p.v[(static_cast<std::size_t>(yy) * ps.w + xx) * ps.c + ch], p.fl, fl_out), m);
        }
      }
    }
    offset += axis == 0 ? ps.h : axis == 1 ? ps.w : ps.c;
  }
}

std::vector<float> to_float(const QTensor& x) {
  std::vector<float> f(x.v.size());
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<float>(std::ldexp(x.v[k], -x.fl));
  return f;
}

}  // namespace bitscale::quant::host
