#include "bitscale/quant/quant.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/util/json.hpp"

namespace bitscale::quant {

using golden::Mode;
using model::FloatTrace;
using model::Network;
using model::Op;
using model::OpType;
using model::Shape3;
namespace json = util::json;

int integer_length(double max_abs) {
  if (!(max_abs > 0.0) || !std::isfinite(max_abs)) {
    throw std::invalid_argument(fmt::format("integer_length of {}", max_abs));
  }
  return static_cast<int>(std::ceil(std::log2(max_abs))) + 1;
}

int fractional_length(double max_abs, int bits) {
  if (max_abs == 0.0) return bits - 1;
  return bits - integer_length(max_abs);
}

std::int32_t quantize_value(double x, int fl, Mode mode) {
  const double r = std::round(std::ldexp(x, fl));
  const double lo = golden::min_value(mode), hi = golden::max_value(mode);
  return static_cast<std::int32_t>(std::clamp(r, lo, hi));
}

std::int64_t rescale(std::int64_t v, int from_fl, int to_fl) {
  if (to_fl >= from_fl) return v * (std::int64_t{1} << (to_fl - from_fl));
  return golden::round_shift(v, from_fl - to_fl);
}

std::int64_t round_div(std::int64_t num, std::int64_t den) {
  const std::int64_t n = 2 * num + den, d = 2 * den;
  std::int64_t q = n / d;
  if ((n % d != 0) && (n < 0)) --q;  // floor
  return q;
}

// ---------------------------------------------------------------------------------------------
// Calibration

int Calibration::fractional_length(int tensor, int bits) const {
  if (tensor < 0 || static_cast<std::size_t>(tensor) >= fl.size() || fl[tensor].empty()) {
    throw std::out_of_range(
        fmt::format("calibration of '{}': tensor {} is not a calibrated activation", model, tensor));
  }
  for (std::size_t i = 0; i < std::size(kCalibrationBits); ++i) {
    if (kCalibrationBits[i] == bits) return fl[tensor][i];
  }
  throw std::out_of_range(fmt::format("calibration: no fractional lengths for {} bits", bits));
}

std::string Calibration::to_json(const Network& net) const {
  std::string o = "{\n  \"format\": \"bitscale-calibration-1\",\n";
  o += fmt::format("  \"model\": {},\n  \"rule\": \"FL = B - (ceil(log2(max_abs)) + 1); B - 1 if max_abs == 0\",\n",
                   json::quote(model));
  o += "  \"images\": [";
  for (std::size_t i = 0; i < images.size(); ++i) o += (i ? ", " : "") + json::quote(images[i]);
  o += "],\n  \"tensors\": [\n";
  bool first = true;
  for (std::size_t t = 0; t < max_abs.size(); ++t) {
    if (fl[t].empty()) continue;
    o += first ? "" : ",\n";
    first = false;
    o += fmt::format("    {{\"index\": {}, \"name\": {}, \"max_abs\": {:.17g}, \"fl\": {{", t,
                     json::quote(net.tensor_names().at(t)), max_abs[t]);
    for (std::size_t i = 0; i < std::size(kCalibrationBits); ++i) {
      o += fmt::format("{}\"{}\": {}", i ? ", " : "", kCalibrationBits[i], fl[t][i]);
    }
    o += "}}";
  }
  o += "\n  ]\n}\n";
  return o;
}

Calibration Calibration::from_json(std::string_view text, const Network& net, const std::string& source) {
  const json::Value root = json::parse(text, source);
  const auto fail = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", source, what)); };
  const auto num = [&](const json::Value* v, const std::string& what) {
    if (v->kind != json::Value::Kind::kNumber) throw fail(what + " is not a number");
    return v->number();
  };
  const json::Value* format = root.find("format");
  if (!format || format->text != "bitscale-calibration-1") throw fail("not a bitscale calibration (format)");
  Calibration c;
  if (const auto* m = root.find("model")) c.model = m->text;
  if (const auto* im = root.find("images")) {
    for (const auto& v : im->items) c.images.push_back(v.text);
  }
  const std::size_t n = net.tensor_names().size();
  c.max_abs.assign(n, -1.0);
  c.fl.assign(n, {});
  const json::Value* tensors = root.find("tensors");
  if (!tensors || tensors->kind != json::Value::Kind::kArray) throw fail("no \"tensors\" array");
  for (const auto& t : tensors->items) {
    const auto* idx = t.find("index");
    const auto* name = t.find("name");
    const auto* mx = t.find("max_abs");
    const auto* fls = t.find("fl");
    if (!idx || !name || !mx || !fls) throw fail("a tensor entry lacks index, name, max_abs or fl");
    const int i = static_cast<int>(num(idx, "a tensor index"));
    if (i < 0 || static_cast<std::size_t>(i) >= n) throw fail(fmt::format("tensor index {} out of range", i));
    if (net.tensor_names()[i] != name->text) {
      throw fail(fmt::format("tensor {} is '{}' in the file but '{}' in model {}", i, name->text, net.tensor_names()[i],
                             net.name()));
    }
    c.max_abs[i] = num(mx, "max_abs");
    for (int b : kCalibrationBits) {
      const auto* f = fls->find(std::to_string(b));
      if (!f) throw fail(fmt::format("tensor {} has no FL for {} bits", i, b));
      c.fl[i].push_back(static_cast<int>(num(f, "an FL")));
    }
  }
  for (const auto& op : net.ops()) {
    for (int t : op.inputs) {
      if (c.fl[t].empty()) throw fail(fmt::format("activation '{}' is not calibrated", net.tensor_names()[t]));
    }
  }
  return c;
}

void Calibration::save(const std::string& path, const Network& net) const {
  std::ofstream f(path, std::ios::binary);
  f << to_json(net);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot write the calibration", path));
}

Calibration Calibration::load(const std::string& path, const Network& net) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot read the calibration", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return from_json(ss.str(), net, path);
}

Calibrator::Calibrator(const Network& net) : net_(&net), max_abs_(net.shapes().size(), -1.0) {
  max_abs_[net.input_tensor()] = 0.0;
  for (const auto& op : net.ops()) {
    for (int t : op.inputs) max_abs_[t] = 0.0;
    max_abs_[op.output] = 0.0;
  }
}

void Calibrator::add(std::span<const std::uint8_t> rgb, const std::string& name) {
  const FloatTrace tr = net_->trace_float(rgb);
  for (std::size_t t = 0; t < max_abs_.size(); ++t) {
    if (max_abs_[t] < 0) continue;
    for (float v : tr.tensors[t].data) max_abs_[t] = std::max(max_abs_[t], static_cast<double>(std::fabs(v)));
  }
  images_.push_back(name);
}

void Calibrator::merge(const Calibrator& other) {
  for (std::size_t t = 0; t < max_abs_.size(); ++t) max_abs_[t] = std::max(max_abs_[t], other.max_abs_[t]);
  images_.insert(images_.end(), other.images_.begin(), other.images_.end());
}

Calibration Calibrator::result() const {
  if (images_.empty()) throw std::invalid_argument("calibration needs at least one image");
  Calibration c;
  c.model = net_->name();
  c.images = images_;
  c.max_abs = max_abs_;
  c.fl.assign(max_abs_.size(), {});
  for (std::size_t t = 0; t < max_abs_.size(); ++t) {
    if (max_abs_[t] < 0) continue;
    for (int b : kCalibrationBits) c.fl[t].push_back(fractional_length(max_abs_[t], b));
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Quantized network

namespace {

constexpr int kNoFl = -1000;

std::int32_t activate_fixed(std::int64_t v, golden::FloatActivation a, int fl, Mode m) {
  std::int64_t y = golden::saturate(v, m);
  const auto bound = [&](double real) {
    return static_cast<std::int64_t>(std::clamp(std::round(std::ldexp(real, fl)),
                                                static_cast<double>(golden::min_value(m)),
                                                static_cast<double>(golden::max_value(m))));
  };
  switch (a) {
    case golden::FloatActivation::kNone:
      break;
    case golden::FloatActivation::kRelu:
      y = std::max<std::int64_t>(y, 0);
      break;
    case golden::FloatActivation::kRelu6:
      y = std::min(std::max<std::int64_t>(y, 0), bound(6.0));
      break;
    case golden::FloatActivation::kReluN1To1:
      y = std::clamp(y, bound(-1.0), bound(1.0));
      break;
  }
  return static_cast<std::int32_t>(y);
}

struct QTensor {
  int fl = 0;
  std::vector<std::int32_t> v;
};

}  // namespace

std::string_view to_string(WeightFl w) {
  switch (w) {
    case WeightFl::kLayer:
      return "layer";
    case WeightFl::kChannel:
      return "channel";
    case WeightFl::kGroup:
      break;
  }
  return "group";
}

WeightFl weight_fl_from_string(std::string_view s) {
  for (const WeightFl w : {WeightFl::kLayer, WeightFl::kChannel, WeightFl::kGroup}) {
    if (s == to_string(w)) return w;
  }
  throw std::invalid_argument(fmt::format("weight FL granularity '{}': expected 'layer', 'channel' or 'group'", s));
}

QuantizedNetwork::QuantizedNetwork(const Network& net, const Calibration& calib, int bits,
                                   const driver::Accelerator& acc, WeightFl weight_fl)
    : net_(&net), mode_(golden::mode_from_bits(bits)), weight_fl_(weight_fl) {
  const auto& shapes = net.shapes();
  const auto& ops = net.ops();
  fl_.assign(shapes.size(), kNoFl);
  op_layer_.assign(ops.size(), -1);
  add_constant_.resize(ops.size());
  add_constant_fl_.assign(ops.size(), 0);
  const auto cal = [&](int t) { return calib.fractional_length(t, bits); };
  fl_[net.input_tensor()] = cal(net.input_tensor());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const int fl_in = fl_.at(op.inputs.at(0));
    if (fl_in == kNoFl) throw std::logic_error(fmt::format("{}: op {} reads an unplanned tensor", net.name(), i));
    int fl_out = kNoFl;
    if (op.is_mac()) {
      const Shape3 is = shapes[op.inputs[0]];
      golden::Layer L;
      L.mode = mode_;
      if (op.type == OpType::kFullyConnected) {
        L.shape.in_h = 1, L.shape.in_w = 1, L.shape.in_c = static_cast<int>(is.size());
      } else {
        if (op.win.dilation_h != 1 || op.win.dilation_w != 1) {
          throw std::invalid_argument(fmt::format("{}: op {} ('{}'): the array has no dilated convolution", net.name(),
                                                  i, net.tensor_names()[op.output]));
        }
        L.shape.in_h = is.h, L.shape.in_w = is.w, L.shape.in_c = is.c;
        L.shape.k_h = op.win.k_h, L.shape.k_w = op.win.k_w;
        L.shape.stride_h = op.win.stride_h, L.shape.stride_w = op.win.stride_w;
        L.shape.pad_top = op.win.pad_top, L.shape.pad_left = op.win.pad_left;
        L.shape.pad_bottom = op.win.pad_bottom, L.shape.pad_right = op.win.pad_right;
        L.shape.groups = op.groups;
      }
      L.shape.out_c = op.out_c;
      // Weight FL per layer, or per output channel (the same rule on each channel's weights).
      // The bias register is 32 bits: when round(b * 2^(FL_in + FL_w)) would not fit, FL_w is
      // lowered until the largest bias does (docs/QUANTIZATION.md).
      const int n_ch = op.out_c;
      const std::size_t per_ch = op.weights.size() / static_cast<std::size_t>(n_ch);
      const int n_fl = weight_fl_ == WeightFl::kLayer ? 1 : n_ch;
      std::vector<int> fl_w(static_cast<std::size_t>(n_fl));
      for (int f = 0; f < n_fl; ++f) {
        const std::size_t c0 = n_fl == 1 ? 0 : static_cast<std::size_t>(f), c1 = n_fl == 1 ? n_ch : c0 + 1;
        double wmax = 0, bmax = 0;
        for (std::size_t k = c0 * per_ch; k < c1 * per_ch; ++k)
          wmax = std::max(wmax, static_cast<double>(std::fabs(op.weights[k])));
        for (std::size_t c = c0; c < c1 && !op.bias.empty(); ++c)
          bmax = std::max(bmax, static_cast<double>(std::fabs(op.bias[c])));
        int& fl = fl_w[static_cast<std::size_t>(f)];
        fl = fractional_length(wmax, bits);
        while (bmax > 0 && std::round(std::ldexp(bmax, fl_in + fl)) > 2147483647.0) --fl;
      }
      if (weight_fl_ == WeightFl::kGroup) {
        // Per group of array columns: the channels of each convolution group, ordered by FL,
        // cut into groups of `cols`; a group takes its smallest FL, so that the driver's n-tiles
        // (one shift each) are as many as with one shift per layer.
        const int cols = acc.hw().cols, ng = n_ch / op.groups;
        std::vector<int> order(static_cast<std::size_t>(ng));
        for (int g = 0; g < op.groups; ++g) {
          const auto fl_of = [&](int c) -> int& { return fl_w[static_cast<std::size_t>(g * ng + c)]; };
          std::iota(order.begin(), order.end(), 0);
          std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return fl_of(a) < fl_of(b); });
          for (int i = 0; i < ng; ++i)
            fl_of(order[static_cast<std::size_t>(i)]) = fl_of(order[static_cast<std::size_t>(i - i % cols)]);
        }
      }
      // A calibrated FL_out finer than the accumulator gains nothing: FL_out := FL_acc (shift 0).
      fl_out = std::min(cal(op.output), fl_in + *std::min_element(fl_w.begin(), fl_w.end()));
      // Shifts stay inside the accumulator: FL_w <= 47 + FL_out - FL_in (lowers tiny-weight FLs).
      for (int& fl : fl_w) fl = std::min(fl, golden::kAccBits - 1 + fl_out - fl_in);
      const int fl_w_min = *std::min_element(fl_w.begin(), fl_w.end());
      const auto fl_w_of = [&](std::size_t c) { return fl_w[n_fl == 1 ? 0 : c]; };
      L.weights.resize(op.weights.size());
      for (std::size_t k = 0; k < op.weights.size(); ++k)
        L.weights[k] = quantize_value(op.weights[k], fl_w_of(k / per_ch), mode_);
      if (!op.bias.empty()) {
        L.bias.resize(op.bias.size());
        for (std::size_t k = 0; k < op.bias.size(); ++k) {
          const double r = std::round(std::ldexp(static_cast<double>(op.bias[k]), fl_in + fl_w_of(k)));
          L.bias[k] = static_cast<std::int32_t>(std::clamp(r, double{std::numeric_limits<std::int32_t>::min()},
                                                           double{std::numeric_limits<std::int32_t>::max()}));
        }
      }
      L.out.shift = fl_in + fl_w_min - fl_out;
      if (n_fl > 1) {
        L.channel_shift.resize(static_cast<std::size_t>(n_ch));
        for (std::size_t c = 0; c < L.channel_shift.size(); ++c) L.channel_shift[c] = fl_in + fl_w[c] - fl_out;
      }
      const auto clamp_to_mode = [&](double real) {
        return static_cast<std::int16_t>(
            std::min(std::round(std::ldexp(real, fl_out)), static_cast<double>(golden::max_value(mode_))));
      };
      switch (op.act) {
        case golden::FloatActivation::kNone:
          break;
        case golden::FloatActivation::kRelu:
          L.out.relu = true;
          break;
        case golden::FloatActivation::kRelu6:
          L.out.relu = true, L.out.clamp = true, L.out.clamp_hi = clamp_to_mode(6.0);
          break;
        case golden::FloatActivation::kReluN1To1:  // upper bound on the array, lower bound on the host
          L.out.clamp = true, L.out.clamp_hi = clamp_to_mode(1.0);
          break;
      }
      QuantLayer ql;
      ql.op = static_cast<int>(i);
      ql.fl_in = fl_in, ql.fl_w = fl_w_min, ql.fl_out = fl_out;
      if (n_fl > 1) ql.channel_fl_w = fl_w;
      ql.prepared = acc.prepare(L);
      op_layer_[i] = static_cast<int>(layers_.size());
      layers_.push_back(std::move(ql));
    } else {
      switch (op.type) {
        case OpType::kAdd:
          fl_out = cal(op.output);
          if (op.has_constant) {
            double m = 0;
            for (float v : op.constant.data) m = std::max(m, static_cast<double>(std::fabs(v)));
            add_constant_fl_[i] = fractional_length(m, bits);
            for (float v : op.constant.data) add_constant_[i].push_back(quantize_value(v, add_constant_fl_[i], mode_));
          }
          break;
        case OpType::kAveragePool2D:
        case OpType::kMean:
        case OpType::kConcatenation:
          fl_out = cal(op.output);
          break;
        case OpType::kSoftmax:
          fl_out = fl_in;  // float probabilities; the FL is unused
          break;
        default:  // max pool, pad, reshape, squeeze, quantize, dequantize: values pass unchanged
          fl_out = fl_in;
          break;
      }
    }
    fl_[op.output] = fl_out;
  }
}

QuantResult QuantizedNetwork::run(driver::Accelerator& acc, std::span<const std::uint8_t> rgb,
                                  const QuantRunOptions& opts) const {
  const Network& net = *net_;
  const auto& shapes = net.shapes();
  const auto& ops = net.ops();
  QuantResult res;
  std::vector<QTensor> t(shapes.size());
  std::vector<float> softmax_out;
  {
    const golden::FloatTensor x = net.input_values(rgb);
    QTensor& q = t[net.input_tensor()];
    q.fl = fl_[net.input_tensor()];
    q.v.resize(x.data.size());
    for (std::size_t k = 0; k < x.data.size(); ++k) q.v[k] = quantize_value(x.data[k], q.fl, mode_);
  }
  acc.clear_counters();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const QTensor& x = t[op.inputs[0]];
    const Shape3 is = shapes[op.inputs[0]];
    const Shape3 os = shapes[op.output];
    QTensor y;
    y.fl = fl_[op.output];
    if (op_layer_[i] >= 0) {
      const QuantLayer& ql = layers_[op_layer_[i]];
      const auto& sh = ql.prepared.layer.shape;
      const auto in = golden::PackedTensor::from_values(sh.in_h, sh.in_w, sh.in_c, mode_, x.v);
      const driver::Counters c0 = opts.record_layer_counters ? acc.counters() : driver::Counters{};
      golden::PackedTensor out = acc.run(ql.prepared, in);
      if (opts.record_layer_counters) res.layer_counters.push_back(acc.counters() - c0);
      y.v = out.values();
      if (op.act == golden::FloatActivation::kReluN1To1) {
        for (auto& v : y.v) v = activate_fixed(v, op.act, y.fl, mode_);
      }
      if (opts.record_mac_outputs) res.mac_outputs.push_back(std::move(out));
    } else {
      switch (op.type) {
        case OpType::kAdd: {
          const bool cst = op.has_constant;
          const std::vector<std::int32_t>& bv = cst ? add_constant_[i] : t[op.inputs.at(1)].v;
          const int bfl = cst ? add_constant_fl_[i] : t[op.inputs.at(1)].fl;
          const int common = std::max({x.fl, bfl, y.fl});
          const std::size_t n = x.v.size();
          if (bv.size() != n && bv.size() != 1 && bv.size() != static_cast<std::size_t>(is.c)) {
            throw std::invalid_argument(fmt::format("{}: ADD op {}: operands do not broadcast", net.name(), i));
          }
          y.v.resize(n);
          for (std::size_t k = 0; k < n; ++k) {
            const std::int32_t b = bv.size() == n ? bv[k] : bv.size() == 1 ? bv[0] : bv[k % is.c];
            const std::int64_t s = rescale(x.v[k], x.fl, common) + rescale(b, bfl, common);
            y.v[k] = activate_fixed(rescale(s, common, y.fl), op.act, y.fl, mode_);
          }
          break;
        }
        case OpType::kAveragePool2D:
        case OpType::kMaxPool2D: {
          const bool avg = op.type == OpType::kAveragePool2D;
          const auto& w = op.win;
          y.v.assign(static_cast<std::size_t>(os.size()), 0);
          const int d = y.fl - x.fl;
          for (int oy = 0; oy < os.h; ++oy) {
            for (int ox = 0; ox < os.w; ++ox) {
              for (int ch = 0; ch < os.c; ++ch) {
                std::int64_t acc_v = avg ? 0 : std::numeric_limits<std::int64_t>::min();
                std::int64_t count = 0;
                for (int ky = 0; ky < w.k_h; ++ky) {
                  const int iy = oy * w.stride_h + ky * w.dilation_h - w.pad_top;
                  if (iy < 0 || iy >= is.h) continue;
                  for (int kx = 0; kx < w.k_w; ++kx) {
                    const int ix = ox * w.stride_w + kx * w.dilation_w - w.pad_left;
                    if (ix < 0 || ix >= is.w) continue;
                    const std::int64_t v = x.v[(static_cast<std::size_t>(iy) * is.w + ix) * is.c + ch];
                    acc_v = avg ? acc_v + v : std::max(acc_v, v);
                    ++count;
                  }
                }
                std::int64_t r = acc_v;
                if (avg) r = round_div(acc_v * (std::int64_t{1} << std::max(d, 0)), count << std::max(-d, 0));
                y.v[(static_cast<std::size_t>(oy) * os.w + ox) * os.c + ch] = activate_fixed(r, op.act, y.fl, mode_);
              }
            }
          }
          break;
        }
        case OpType::kMean: {
          const int d = y.fl - x.fl;
          const std::int64_t count = static_cast<std::int64_t>(is.h) * is.w;
          std::vector<std::int64_t> s(static_cast<std::size_t>(is.c), 0);
          for (std::size_t k = 0; k < x.v.size(); ++k) s[k % is.c] += x.v[k];
          y.v.resize(s.size());
          for (std::size_t ch = 0; ch < s.size(); ++ch) {
            y.v[ch] = golden::saturate(round_div(s[ch] * (std::int64_t{1} << std::max(d, 0)), count << std::max(-d, 0)),
                                       mode_);
          }
          break;
        }
        case OpType::kPad: {
          y.v.assign(static_cast<std::size_t>(os.size()), 0);
          for (int yy = 0; yy < is.h; ++yy) {
            for (int xx = 0; xx < is.w; ++xx) {
              for (int ch = 0; ch < is.c; ++ch) {
                y.v[(static_cast<std::size_t>(yy + op.pad_h.before) * os.w + xx + op.pad_w.before) * os.c + ch +
                    op.pad_c.before] = x.v[(static_cast<std::size_t>(yy) * is.w + xx) * is.c + ch];
              }
            }
          }
          break;
        }
        case OpType::kConcatenation: {
          y.v.assign(static_cast<std::size_t>(os.size()), 0);
          int offset = 0;
          for (int ti : op.inputs) {
            const QTensor& p = t[ti];
            const Shape3 ps = shapes[ti];
            for (int yy = 0; yy < ps.h; ++yy) {
              for (int xx = 0; xx < ps.w; ++xx) {
                for (int ch = 0; ch < ps.c; ++ch) {
                  const int oy = yy + (op.axis == 0 ? offset : 0), ox = xx + (op.axis == 1 ? offset : 0),
                            oc = ch + (op.axis == 2 ? offset : 0);
                  y.v[(static_cast<std::size_t>(oy) * os.w + ox) * os.c + oc] = golden::saturate(
                      rescale(p.v[(static_cast<std::size_t>(yy) * ps.w + xx) * ps.c + ch], p.fl, y.fl), mode_);
                }
              }
            }
            offset += op.axis == 0 ? ps.h : op.axis == 1 ? ps.w : ps.c;
          }
          break;
        }
        case OpType::kSoftmax: {
          std::vector<float> f(x.v.size());
          for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<float>(std::ldexp(x.v[k], -x.fl));
          softmax_out = golden::softmax(f, op.beta);
          y.v = x.v;  // placeholder: nothing integer reads a softmax output
          break;
        }
        default:  // reshape, squeeze, quantize, dequantize
          y.v = x.v;
          break;
      }
    }
    t[op.output] = std::move(y);
    // Free tensors no later operator reads (keeps memory flat on big models).
  }
  res.counters = acc.counters();
  if (net.ends_in_softmax()) {
    res.probabilities = std::move(softmax_out);
  } else {
    const QTensor& o = t[net.output_tensor()];
    std::vector<float> f(o.v.size());
    for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<float>(std::ldexp(o.v[k], -o.fl));
    res.probabilities = golden::softmax(f);
  }
  return res;
}

}  // namespace bitscale::quant
