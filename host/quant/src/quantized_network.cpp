#include "bitscale/quant/quantized_network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/quant/fixed_point.hpp"
#include "host_ops.hpp"

namespace bitscale::quant {

using golden::Mode;
using host::QTensor;
using model::Network;
using model::Op;
using model::OpType;
using model::Shape3;

namespace {

constexpr int kNoFl = -1000;

/// The stochastic-rounding stream of operator `op` quantized at `bits`: the draws depend only
/// on the seed, the operator and its bit-width (not on threads or on the order of construction).
std::uint64_t stream(std::size_t op, int bits) {
  return (static_cast<std::uint64_t>(op) << 8) | static_cast<std::uint64_t>(bits);
}

/// The array's geometry of MAC operator `i` (fully connected: a 1x1 convolution on a 1x1xK
/// input). Throws std::invalid_argument for a dilated convolution.
golden::ConvShape layer_shape(const Network& net, std::size_t i) {
  const Op& op = net.ops()[i];
  const Shape3 is = net.shapes()[op.inputs[0]];
  golden::ConvShape s;
  if (op.type == OpType::kFullyConnected) {
    s.in_h = 1, s.in_w = 1, s.in_c = static_cast<int>(is.size());
  } else {
    if (op.win.dilation_h != 1 || op.win.dilation_w != 1) {
      throw std::invalid_argument(fmt::format("{}: op {} ('{}'): the array has no dilated convolution", net.name(), i,
                                              net.tensor_names()[op.output]));
    }
    s.in_h = is.h, s.in_w = is.w, s.in_c = is.c;
    s.k_h = op.win.k_h, s.k_w = op.win.k_w;
    s.stride_h = op.win.stride_h, s.stride_w = op.win.stride_w;
    s.pad_top = op.win.pad_top, s.pad_left = op.win.pad_left;
    s.pad_bottom = op.win.pad_bottom, s.pad_right = op.win.pad_right;
    s.groups = op.groups;
  }
  s.out_c = op.out_c;
  return s;
}

/// The weights' FLs of a MAC operator before the accumulator limit: one (kLayer) or one per
/// output channel from the max |w|, each lowered until round(b * 2^(FL_in + FL_w)) of the
/// largest bias fits the 32-bit bias register; kGroup then shares an FL per block of `cols`
/// channels of each convolution group, ordered by FL, a block taking its smallest FL (as many
/// n-tiles, one shift each, as with one FL per layer).
std::vector<int> weight_fls(const Op& op, int bits, int fl_in, WeightFl weight_fl, int cols) {
  const int n_ch = op.out_c;
  const std::size_t per_ch = op.weights.size() / static_cast<std::size_t>(n_ch);
  const int n_fl = weight_fl == WeightFl::kLayer ? 1 : n_ch;
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
  if (weight_fl == WeightFl::kGroup) {
    const int ng = n_ch / op.groups;
    std::vector<int> order(static_cast<std::size_t>(ng));
    for (int g = 0; g < op.groups; ++g) {
      const auto fl_of = [&](int c) -> int& { return fl_w[static_cast<std::size_t>(g * ng + c)]; };
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return fl_of(a) < fl_of(b); });
      for (int i = 0; i < ng; ++i)
        fl_of(order[static_cast<std::size_t>(i)]) = fl_of(order[static_cast<std::size_t>(i - i % cols)]);
    }
  }
  return fl_w;
}

/// The array's output stage for a fused activation at `fl_out`: ReLU and the upper clamp on
/// the array (RELU_N1_TO_1's lower bound is applied on the host).
golden::OutputStage output_stage(golden::FloatActivation act, int fl_out, Mode mode) {
  const auto clamp_to_mode = [&](double real) {
    return static_cast<std::int16_t>(
        std::min(std::round(std::ldexp(real, fl_out)), static_cast<double>(golden::max_value(mode))));
  };
  golden::OutputStage out;
  switch (act) {
    case golden::FloatActivation::kNone:
      break;
    case golden::FloatActivation::kRelu:
      out.relu = true;
      break;
    case golden::FloatActivation::kRelu6:
      out.relu = true, out.clamp = true, out.clamp_hi = clamp_to_mode(6.0);
      break;
    case golden::FloatActivation::kReluN1To1:
      out.clamp = true, out.clamp_hi = clamp_to_mode(1.0);
      break;
  }
  return out;
}

/// A MAC operator as a golden::Layer in `mode`: weights at their FLs (one, or one per output
/// channel), biases at FL_in + FL_w (saturated to 32 bits), shifts to FL_out; rounded to nearest,
/// or stochastically with draws from `rng` (weights in order, then biases) when it is given.
golden::Layer lower_mac(const Op& op, const golden::ConvShape& shape, Mode mode, int fl_in, std::span<const int> fl_w,
                        int fl_out, std::mt19937_64* rng) {
  golden::Layer L;
  L.mode = mode;
  L.shape = shape;
  const std::size_t per_ch = op.weights.size() / static_cast<std::size_t>(op.out_c);
  const bool per_channel = fl_w.size() > 1;
  const auto fl_w_of = [&](std::size_t c) { return fl_w[per_channel ? c : 0]; };
  L.weights.resize(op.weights.size());
  for (std::size_t k = 0; k < op.weights.size(); ++k)
    L.weights[k] = rng ? quantize_stochastic(op.weights[k], fl_w_of(k / per_ch), mode, *rng)
                       : quantize_value(op.weights[k], fl_w_of(k / per_ch), mode);
  L.bias.resize(op.bias.size());
  for (std::size_t k = 0; k < op.bias.size(); ++k) {
    const double y = std::ldexp(static_cast<double>(op.bias[k]), fl_in + fl_w_of(k));
    const double r = rng ? round_stochastic(y, *rng) : std::round(y);
    L.bias[k] = static_cast<std::int32_t>(std::clamp(r, double{std::numeric_limits<std::int32_t>::min()},
                                                     double{std::numeric_limits<std::int32_t>::max()}));
  }
  L.out = output_stage(op.act, fl_out, mode);
  L.out.shift = fl_in + *std::min_element(fl_w.begin(), fl_w.end()) - fl_out;
  if (per_channel) {
    L.channel_shift.resize(fl_w.size());
    for (std::size_t c = 0; c < L.channel_shift.size(); ++c) L.channel_shift[c] = fl_in + fl_w[c] - fl_out;
  }
  return L;
}

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

std::string_view to_string(ClassifierPrecision c) { return c == ClassifierPrecision::kWide ? "16" : "level"; }

ClassifierPrecision classifier_precision_from_string(std::string_view s) {
  for (const ClassifierPrecision c : {ClassifierPrecision::kLevel, ClassifierPrecision::kWide}) {
    if (s == to_string(c)) return c;
  }
  throw std::invalid_argument(fmt::format("classifier precision '{}': expected 'level' or '16'", s));
}

std::string describe(const QuantOptions& o) {
  const std::string cls = o.classifier == ClassifierPrecision::kWide ? "classifier 16-bit" : "classifier at the level";
  if (o.rounding == Rounding::kStochastic)
    return fmt::format("{}, stochastic rounding (seed {})", cls, o.rounding_seed);
  return cls + ", round to nearest";
}

WeightFl weight_fl_from_string(std::string_view s) {
  for (const WeightFl w : {WeightFl::kLayer, WeightFl::kChannel, WeightFl::kGroup}) {
    if (s == to_string(w)) return w;
  }
  throw std::invalid_argument(fmt::format("weight FL granularity '{}': expected 'layer', 'channel' or 'group'", s));
}

QuantizedNetwork::QuantizedNetwork(const Network& net, const Calibration& calib, int bits,
                                   const driver::Accelerator& acc, WeightFl weight_fl, const QuantOptions& options)
    : net_(&net), mode_(golden::mode_from_bits(bits)), weight_fl_(weight_fl), options_(options) {
  const auto& ops = net.ops();
  // The classifier (last MAC operator) and everything after it at 16 bits with kWide.
  op_mode_.assign(ops.size(), mode_);
  if (options_.classifier == ClassifierPrecision::kWide) {
    for (std::size_t i = ops.size(); i-- > 0;) {
      if (!ops[i].is_mac()) continue;
      std::fill(op_mode_.begin() + static_cast<std::ptrdiff_t>(i), op_mode_.end(), Mode::k16);
      break;
    }
  }
  fl_.assign(net.shapes().size(), kNoFl);
  op_layer_.assign(ops.size(), -1);
  add_constant_.resize(ops.size());
  add_constant_fl_.assign(ops.size(), 0);
  fl_[net.input_tensor()] = calib.fractional_length(net.input_tensor(), bits);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const int fl_in = fl_.at(op.inputs.at(0));
    if (fl_in == kNoFl) throw std::logic_error(fmt::format("{}: op {} reads an unplanned tensor", net.name(), i));
    if (op.is_mac()) {
      op_layer_[i] = static_cast<int>(layers_.size());
      layers_.push_back(plan_mac(i, fl_in, calib, acc));
      fl_[op.output] = layers_.back().fl_out;
    } else {
      fl_[op.output] = plan_host_op(i, fl_in, calib);
    }
  }
  // Validated and packed once here rather than on every image (the layers no longer move).
  for (QuantLayer& ql : layers_) golden::seal(ql.prepared.layer);
  for (const QuantLayer& ql : layers_) exact_bias_.push_back(ql.prepared.layer.bias);
}

QuantLayer QuantizedNetwork::plan_mac(std::size_t i, int fl_in, const Calibration& calib,
                                      const driver::Accelerator& acc) const {
  const Op& op = net_->ops()[i];
  const Mode mode = op_mode_[i];
  const int bits = golden::bits(mode);
  const golden::ConvShape shape = layer_shape(*net_, i);
  std::vector<int> fl_w = weight_fls(op, bits, fl_in, weight_fl_, acc.hw().cols);
  // A calibrated FL_out finer than the accumulator gains nothing: FL_out := FL_acc (shift 0).
  const int fl_out =
      std::min(calib.fractional_length(op.output, bits), fl_in + *std::min_element(fl_w.begin(), fl_w.end()));
  // Shifts stay inside the accumulator: FL_w <= 47 + FL_out - FL_in (lowers tiny-weight FLs).
  for (int& fl : fl_w) fl = std::min(fl, golden::kAccBits - 1 + fl_out - fl_in);
  QuantLayer ql;
  ql.op = static_cast<int>(i);
  ql.fl_in = fl_in, ql.fl_w = *std::min_element(fl_w.begin(), fl_w.end()), ql.fl_out = fl_out;
  if (fl_w.size() > 1) ql.channel_fl_w = fl_w;
  std::mt19937_64 rng;
  const bool stochastic = options_.rounding == Rounding::kStochastic;
  if (stochastic) rng = rounding_generator(options_.rounding_seed, stream(i, bits));
  ql.prepared = acc.prepare(lower_mac(op, shape, mode, fl_in, fl_w, fl_out, stochastic ? &rng : nullptr));
  return ql;
}

int QuantizedNetwork::plan_host_op(std::size_t i, int fl_in, const Calibration& calib) {
  const Op& op = net_->ops()[i];
  const Mode mode = op_mode_[i];
  const int bits = golden::bits(mode);
  switch (op.type) {
    case OpType::kAdd: {
      const int fl_out = calib.fractional_length(op.output, bits);
      if (op.has_constant) {
        double m = 0;
        for (float v : op.constant.data) m = std::max(m, static_cast<double>(std::fabs(v)));
        add_constant_fl_[i] = fractional_length(m, bits);
        std::mt19937_64 rng;
        const bool stochastic = options_.rounding == Rounding::kStochastic;
        if (stochastic) rng = rounding_generator(options_.rounding_seed, stream(i, bits));
        for (float v : op.constant.data) {
          add_constant_[i].push_back(stochastic ? quantize_stochastic(v, add_constant_fl_[i], mode, rng)
                                                : quantize_value(v, add_constant_fl_[i], mode));
        }
      }
      return fl_out;
    }
    case OpType::kAveragePool2D:
    case OpType::kMean:
    case OpType::kConcatenation:
      return calib.fractional_length(op.output, bits);
    default:  // max pool, pad, reshape: values pass unchanged; softmax: float probabilities (FL unused)
      return fl_in;
  }
}

void QuantizedNetwork::run_host_op(std::size_t i, std::span<const QTensor> t, int fl_out,
                                   std::vector<std::int32_t>& y) const {
  const Network& net = *net_;
  const Op& op = net.ops()[i];
  const Mode mode = op_mode_[i];
  const QTensor& x = t[op.inputs[0]];
  const Shape3 is = net.shapes()[op.inputs[0]];
  const Shape3 os = net.shapes()[op.output];
  switch (op.type) {
    case OpType::kAdd: {
      const bool cst = op.has_constant;
      const std::span<const std::int32_t> b = cst ? add_constant_[i] : t[op.inputs.at(1)].v;
      const int b_fl = cst ? add_constant_fl_[i] : t[op.inputs.at(1)].fl;
      host::add(x, b, b_fl, is.c, fl_out, op.act, mode, fmt::format("{}: ADD op {}", net.name(), i), y);
      return;
    }
    case OpType::kAveragePool2D:
    case OpType::kMaxPool2D:
      host::pool(x, is, os, op.win, op.type == OpType::kAveragePool2D, fl_out, op.act, mode, y);
      return;
    case OpType::kMean:
      host::mean_hw(x, is, fl_out, mode, y);
      return;
    case OpType::kPad:
      host::pad(x, is, os, op.pad_h, op.pad_w, op.pad_c, y);
      return;
    case OpType::kConcatenation: {
      std::vector<const QTensor*> parts;
      std::vector<Shape3> shapes;
      for (int ti : op.inputs) parts.push_back(&t[ti]), shapes.push_back(net.shapes()[ti]);
      host::concatenate(parts, shapes, op.axis, os, fl_out, mode, y);
      return;
    }
    default:    // reshape; softmax (a placeholder: its float probabilities are computed in run)
      y = x.v;  // reuses the storage of y
  }
}

QuantResult QuantizedNetwork::run(driver::Accelerator& acc, std::span<const std::uint8_t> rgb,
                                  const QuantRunOptions& opts) const {
  const Network& net = *net_;
  const auto& ops = net.ops();
  QuantResult res;
  // The tensors of the previous image run on this thread, overwritten in place: the shapes are
  // the same from image to image, so after the first one the MAC outputs need neither an
  // allocation nor fresh (page-faulted) memory. Every tensor an operator reads was written
  // earlier in this run (operators are in topological order).
  thread_local std::vector<QTensor> scratch;
  std::vector<QTensor>& t = scratch;
  t.resize(net.shapes().size());
  {
    const golden::FloatTensor x = net.input_values(rgb);
    QTensor& q = t[net.input_tensor()];
    q.fl = fl_[net.input_tensor()];
    q.v.resize(x.data.size());
    // quantize_value(x, fl, mode) with the scale hoisted: ldexp(x, fl) == x * 2^fl exactly (a
    // float times a power of two in double), then the same rounding and clamp.
    const double scale = std::ldexp(1.0, q.fl);
    const double lo = golden::min_value(mode_), hi = golden::max_value(mode_);
    for (std::size_t k = 0; k < x.data.size(); ++k)
      q.v[k] = static_cast<std::int32_t>(std::clamp(std::round(static_cast<double>(x.data[k]) * scale), lo, hi));
  }
  acc.clear_counters();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    QTensor& y = t[op.output];
    y.fl = fl_[op.output];
    if (op_layer_[i] >= 0) {
      run_mac(acc, layers_[op_layer_[i]], t[op.inputs[0]], opts, res, y.v);
      // RELU_N1_TO_1: the array clamps above, the host below.
      if (op.act == golden::FloatActivation::kReluN1To1) {
        for (auto& v : y.v) v = activate_fixed(v, op.act, y.fl, op_mode_[i]);
      }
      if (opts.record_mac_io) res.mac_io.push_back({t[op.inputs[0]].v, y.v});
    } else {
      run_host_op(i, t, y.fl, y.v);
    }
  }
  res.counters = acc.counters();
  if (net.ends_in_softmax()) {
    const Op& last = ops.back();
    res.probabilities = golden::softmax(host::to_float(t[last.inputs[0]]), last.beta);
  } else {
    res.probabilities = golden::softmax(host::to_float(t[net.output_tensor()]));
  }
  return res;
}

void QuantizedNetwork::run_mac(driver::Accelerator& acc, const QuantLayer& ql, const QTensor& x,
                               const QuantRunOptions& opts, QuantResult& res, std::vector<std::int32_t>& y) const {
  const auto& sh = ql.prepared.layer.shape;
  thread_local golden::PackedTensor in, out;  // their words are reused across layers and images
  in.assign_values(sh.in_h, sh.in_w, sh.in_c, ql.prepared.layer.mode, x.v);
  const driver::Counters c0 = opts.record_layer_counters ? acc.counters() : driver::Counters{};
  if (opts.record_group_widths) {
    // Read-back for this layer only; the accelerator's own setting is restored, also on an error.
    struct Restore {
      driver::Accelerator& a;
      driver::GroupWidthReadback g;
      ~Restore() { a.set_group_width_readback(g); }
    } restore{acc, acc.group_width_readback()};
    acc.set_group_width_readback(driver::GroupWidthReadback::kOn);
    acc.run(ql.prepared, in, out);
    res.group_widths.push_back(acc.group_widths());
  } else {
    acc.run(ql.prepared, in, out);
  }
  if (opts.record_layer_counters) res.layer_counters.push_back(acc.counters() - c0);
  out.values(y);
  if (opts.record_mac_outputs) res.mac_outputs.push_back(out);
}

}  // namespace bitscale::quant

namespace bitscale::quant {

void QuantizedNetwork::set_approx(std::size_t layer, golden::Approx approx) {
  if (layer >= layers_.size()) {
    throw std::invalid_argument(
        fmt::format("Ax-BxP configuration of MAC layer {}: the network has {} MAC layers", layer, layers_.size()));
  }
  golden::Layer& l = layers_[layer].prepared.layer;
  if (!golden::approx_legal(approx, l.mode)) {
    throw std::invalid_argument(fmt::format("Ax-BxP configuration {} of MAC layer {} (op {}) is not legal in {} mode",
                                            golden::to_string(approx), layer, layers_[layer].op,
                                            golden::to_string(l.mode)));
  }
  l.approx = approx;  // the packed weights do not depend on it
  apply_bias(layer);
}

}  // namespace bitscale::quant

namespace bitscale::quant {

std::string_view to_string(ApproxCompensation c) { return c == ApproxCompensation::kMean ? "mean" : "none"; }

ApproxCompensation approx_compensation_from_string(std::string_view s) {
  if (s == "none") return ApproxCompensation::kNone;
  if (s == "mean") return ApproxCompensation::kMean;
  throw std::invalid_argument(fmt::format("Ax-BxP compensation '{}': expected none or mean", s));
}

std::vector<std::int64_t> approx_compensation(const golden::Layer& layer, golden::Approx x,
                                              std::span<const double> mean) {
  const golden::ConvShape& s = layer.shape;
  const int nb = golden::blocks(layer.mode);
  if (mean.size() != static_cast<std::size_t>(s.in_c) * static_cast<std::size_t>(nb)) {
    throw std::invalid_argument(
        fmt::format("Ax-BxP compensation: {} block means for a layer of {} input channels x {} "
                    "blocks ({})",
                    mean.size(), s.in_c, nb, s.to_string()));
  }
  std::vector<std::int64_t> comp(static_cast<std::size_t>(s.out_c), 0);
  if (x.exact()) return comp;
  // v(kh, kw): fraction of the output pixels whose tap reads the input (not the zero padding).
  const int oh = s.out_h(), ow = s.out_w();
  const auto valid = [](int out, int stride, int pad, int k, int in) {
    int n = 0;
    for (int o = 0; o < out; ++o) {
      const int p = o * stride - pad + k;
      n += (p >= 0 && p < in) ? 1 : 0;
    }
    return n;
  };
  std::vector<double> v(static_cast<std::size_t>(s.k_h) * static_cast<std::size_t>(s.k_w));
  for (int kh = 0; kh < s.k_h; ++kh) {
    for (int kw = 0; kw < s.k_w; ++kw) {
      v[static_cast<std::size_t>(kh * s.k_w + kw)] =
          static_cast<double>(valid(oh, s.stride_h, s.pad_top, kh, s.in_h)) *
          static_cast<double>(valid(ow, s.stride_w, s.pad_left, kw, s.in_w)) / (static_cast<double>(oh) * ow);
    }
  }
  const int cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  for (int n = 0; n < s.out_c; ++n) {
    const int g = n / cout_g;
    double sum = 0;
    for (int kh = 0; kh < s.k_h; ++kh) {
      for (int kw = 0; kw < s.k_w; ++kw) {
        const double vk = v[static_cast<std::size_t>(kh * s.k_w + kw)];
        for (int ci = 0; ci < cin_g; ++ci) {
          const std::int32_t w = layer.weights[((static_cast<std::size_t>(n) * s.k_h + kh) * s.k_w + kw) * cin_g + ci];
          const std::size_t c = static_cast<std::size_t>(g * cin_g + ci);
          for (int i = 0; i < nb; ++i) {
            for (int j = 0; j < nb; ++j) {
              if (!x.skips(i, j)) continue;
              sum += vk * mean[c * nb + i] * golden::block_of(w, j, layer.mode) * std::ldexp(1.0, 4 * (i + j));
            }
          }
        }
      }
    }
    comp[static_cast<std::size_t>(n)] = std::llround(sum);
  }
  return comp;
}

void QuantizedNetwork::apply_bias(std::size_t layer) {
  golden::Layer& l = layers_[layer].prepared.layer;
  const std::vector<std::int32_t>& base = exact_bias_[layer];
  std::vector<std::int32_t> bias = base;
  if (compensation_ == ApproxCompensation::kMean && !l.approx.exact()) {
    const std::vector<std::int64_t> comp = approx_compensation(l, l.approx, means_.mean.at(layer));
    bias.assign(comp.size(), 0);
    for (std::size_t n = 0; n < comp.size(); ++n) {
      const std::int64_t b = (base.empty() ? 0 : std::int64_t{base[n]}) + comp[n];
      if (b < std::numeric_limits<std::int32_t>::min() || b > std::numeric_limits<std::int32_t>::max()) {
        throw std::overflow_error(fmt::format(
            "Ax-BxP compensation of MAC layer {} (op {}), output channel {}: bias {} + compensation {} = {} is "
            "outside the signed 32-bit bias range",
            layer, layers_[layer].op, n, base.empty() ? 0 : base[n], comp[n], b));
      }
      bias[n] = static_cast<std::int32_t>(b);
    }
  }
  if (bias != l.bias) {
    l.bias = std::move(bias);
    golden::seal(l);  // the packed bias is stale
  }
}

void QuantizedNetwork::set_compensation(ApproxCompensation c, BlockMeans means) {
  if (c == ApproxCompensation::kMean) {
    if (means.mean.size() != layers_.size()) {
      throw std::invalid_argument(fmt::format("Ax-BxP compensation: block means of {} MAC layers for a network of {}",
                                              means.mean.size(), layers_.size()));
    }
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const golden::Layer& l = layers_[i].prepared.layer;
      const std::size_t want =
          static_cast<std::size_t>(l.shape.in_c) * static_cast<std::size_t>(golden::blocks(l.mode));
      if (means.mean[i].size() != want) {
        throw std::invalid_argument(
            fmt::format("Ax-BxP compensation: {} block means for MAC layer {} (op {}), which "
                        "has {} input channels x {} blocks",
                        means.mean[i].size(), i, layers_[i].op, l.shape.in_c, golden::blocks(l.mode)));
      }
    }
  }
  compensation_ = c;
  means_ = std::move(means);
  for (std::size_t i = 0; i < layers_.size(); ++i) apply_bias(i);
}

BlockMeans measure_block_means(const QuantizedNetwork& q, driver::Accelerator& acc,
                               std::span<const std::vector<std::uint8_t>> images) {
  if (images.empty()) throw std::invalid_argument("Ax-BxP block means: no calibration image");
  const auto& layers = q.layers();
  std::vector<std::vector<double>> sum(layers.size());
  std::vector<std::uint64_t> pixels(layers.size(), 0);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const golden::Layer& g = layers[l].prepared.layer;
    sum[l].assign(static_cast<std::size_t>(g.shape.in_c) * static_cast<std::size_t>(golden::blocks(g.mode)), 0.0);
  }
  QuantRunOptions opts;
  opts.record_mac_io = true;
  for (const auto& rgb : images) {
    const QuantResult res = q.run(acc, rgb, opts);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const golden::Layer& g = layers[l].prepared.layer;
      const int nb = golden::blocks(g.mode);
      const auto in_c = static_cast<std::size_t>(g.shape.in_c);
      const std::vector<std::int32_t>& in = res.mac_io.at(l).input;
      for (std::size_t e = 0; e < in.size(); ++e) {
        const std::size_t c = e % in_c;
        for (int i = 0; i < nb; ++i) sum[l][c * nb + i] += golden::block_of(in[e], i, g.mode);
      }
      pixels[l] += in.size() / in_c;
    }
  }
  BlockMeans m;
  m.images = images.size();
  m.mean = std::move(sum);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    for (double& v : m.mean[l]) v /= static_cast<double>(pixels[l]);
  }
  return m;
}

}  // namespace bitscale::quant
