#include "bitscale/study/traffic_job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <span>
#include <utility>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/netbench.hpp"

namespace bitscale::study {

using quant::LayerGroups;
using quant::SerialCycles;
using quant::TensorGroups;

namespace {

// Per-image bits of a tensor under the three storages; the per-group scheme is chosen per layer
// over all images counted (one configuration per layer), plus one scheme bit per transfer.
struct PerImage {
  double uncompressed = 0, per_layer = 0, per_group = 0;
  PerImage& operator+=(const PerImage& o) {
    uncompressed += o.uncompressed;
    per_layer += o.per_layer;
    per_group += o.per_group;
    return *this;
  }
};

PerImage per_image(const TensorGroups& g, std::size_t transfers) {
  const auto n = static_cast<double>(std::max<std::size_t>(transfers, 1));
  const golden::dpred::TensorBits& b = g.bits;
  return {static_cast<double>(b.uncompressed) / n, static_cast<double>(b.per_layer) / n,
          (static_cast<double>(std::min(b.dense, b.zero_skip)) + n) / n};
}

nlohmann::ordered_json bits_json(const PerImage& p) {
  return {{"bits_uncompressed", p.uncompressed}, {"bits_per_layer", p.per_layer}, {"bits_per_group", p.per_group}};
}

nlohmann::ordered_json tensor_json(const TensorGroups& g, std::size_t transfers) {
  nlohmann::ordered_json j = bits_json(per_image(g, transfers));
  j["scheme"] = std::string(to_string(g.bits.scheme()));
  j["group_widths"] = std::vector<std::uint64_t>(g.widths.begin() + 1, g.widths.end());
  return j;
}

struct Totals {
  PerImage weights, activations;
  [[nodiscard]] PerImage all() const {
    PerImage a = weights;
    a += activations;
    return a;
  }
};

Totals totals(const TrafficOutcome& r) {
  Totals t;
  for (const TrafficLayer& l : r.layers) {
    t.weights += per_image(l.groups.weights, 1);
    t.activations += per_image(l.groups.input, r.images);
    t.activations += per_image(l.groups.output, r.images);
  }
  return t;
}

double pct(double a, double b) { return b > 0 ? 100.0 * a / b : 0.0; }

// Per image: the gating figures (sums over the images) divided by the images, and the fractions.
nlohmann::ordered_json gating_json(const quant::BlockGating& g, std::size_t images) {
  const double n = static_cast<double>(std::max<std::size_t>(images, 1)), all = static_cast<double>(g.block_products);
  const auto frac = [all](std::uint64_t v) { return all > 0 ? static_cast<double>(v) / all : 0.0; };
  return {{"block_products", static_cast<double>(g.block_products) / n},
          {"skippable", static_cast<double>(g.skippable) / n},
          {"activation_zero", static_cast<double>(g.activation_zero) / n},
          {"weight_zero", static_cast<double>(g.weight_zero) / n},
          {"zero_operand", static_cast<double>(g.zero_operand) / n},
          {"skippable_fraction", frac(g.skippable)},
          {"activation_zero_fraction", frac(g.activation_zero)},
          {"weight_zero_fraction", frac(g.weight_zero)},
          {"zero_operand_fraction", frac(g.zero_operand)}};
}

// "  12.5  80.0 ..." : the share of groups at each width 1..bits, in %.
std::string width_shares(const quant::WidthHistogram& h, int bits) {
  std::uint64_t total = 0;
  for (std::size_t w = 1; w < h.size(); ++w) total += h[w];
  std::string s;
  for (int w = 1; w <= bits; ++w)
    s += fmt::format(" {:>5.1f}", pct(static_cast<double>(h[static_cast<std::size_t>(w)]), static_cast<double>(total)));
  return s;
}

// One image's network figures: bits (weights once per image, activations in the scheme each
// layer uses over all images, plus its scheme bit) and cycles. Their means over the images are
// the totals of the report.
struct ImageFigures {
  double uncompressed = 0, per_layer = 0, per_group = 0, serial = 0, full_width = 0, array_busy = 0;
};

std::vector<ImageFigures> image_figures(const TrafficOutcome& r) {
  const Totals t = totals(r);
  std::vector<ImageFigures> out;
  out.reserve(r.per_image.size());
  for (const TrafficImage& im : r.per_image) {
    ImageFigures f{t.weights.uncompressed, t.weights.per_layer, t.weights.per_group, 0, 0, 0};
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
      for (const auto& [b, all] : {std::pair{&im.input[i], &r.layers[i].groups.input.bits},
                                   std::pair{&im.output[i], &r.layers[i].groups.output.bits}}) {
        f.uncompressed += static_cast<double>(b->uncompressed);
        f.per_layer += static_cast<double>(b->per_layer);
        f.per_group +=
            static_cast<double>(all->scheme() == golden::dpred::Scheme::kZeroSkip ? b->zero_skip : b->dense) + 1.0;
      }
    }
    f.serial = static_cast<double>(im.serial.serial);
    f.full_width = static_cast<double>(im.serial.full_width);
    f.array_busy = static_cast<double>(im.array_busy);
    out.push_back(f);
  }
  return out;
}

// sum(num) / sum(den) over the images, with its percentile interval over resampled images.
Estimate ratio(const std::vector<ImageFigures>& f, double ImageFigures::*num, double ImageFigures::*den,
               const Bootstrap& boot) {
  const auto on = [&](std::span<const std::uint32_t> idx) {
    double a = 0, b = 0;
    for (const std::uint32_t i : idx) {
      a += f[i].*num;
      b += f[i].*den;
    }
    return b > 0 ? a / b : 0.0;
  };
  std::vector<std::uint32_t> all(f.size());
  std::iota(all.begin(), all.end(), 0u);
  const double value = on(all);
  return {value, percentile_interval(replicate(Resamples(f.size(), boot), on), value)};
}

// The ratios the report and the JSON give with intervals.
struct Ratios {
  Estimate group_vs_uncompressed, group_vs_layer, serial_vs_full_width, serial_vs_array;
};

Ratios ratios(const TrafficOutcome& r) {
  const std::vector<ImageFigures> f = image_figures(r);
  if (f.empty()) return {};
  return {ratio(f, &ImageFigures::per_group, &ImageFigures::uncompressed, r.boot),
          ratio(f, &ImageFigures::per_group, &ImageFigures::per_layer, r.boot),
          ratio(f, &ImageFigures::serial, &ImageFigures::full_width, r.boot),
          ratio(f, &ImageFigures::serial, &ImageFigures::array_busy, r.boot)};
}

nlohmann::ordered_json estimate_json(const Estimate& e) { return {{"value", e.value}, {"ci95", {e.ci.lo, e.ci.hi}}}; }

}  // namespace

TrafficOutcome run_traffic(const TrafficJob& job, const std::function<void(const std::string&)>& warn_cb) {
  const auto warn = warn_cb ? warn_cb : [](const std::string&) {};
  const data::DataPaths d = data::resolve_data_paths(job.data);
  TrafficOutcome out;
  out.model = d.need_model();
  out.bits = job.bits;
  const model::Model model = model::load_model(out.model);
  const model::Network net(model);
  const auto split = data::split_even_odd(data::list_images(d.need_images(), warn));
  std::vector<std::string> files = split.evaluation;
  if (job.limit > 0 && static_cast<std::size_t>(job.limit) < files.size())
    files.resize(static_cast<std::size_t>(job.limit));
  if (files.empty()) throw std::invalid_argument(fmt::format("{}: no images at odd positions", d.need_images()));
  const quant::Calibration calib =
      quant::obtain_calibration(net, job.calib, split.calibration, job.calib_limit, 2, warn);
  if (!job.factory) throw std::invalid_argument("traffic: no accelerator factory");
  const auto acc = job.factory(driver::Backend::kGolden);
  const quant::QuantizedNetwork q(net, calib, job.bits, *acc, job.weight_fl, job.quantization);
  for (std::size_t i = 0; i < q.layers().size(); ++i) {
    const golden::Layer& l = q.layers()[i].prepared.layer;
    out.layers.push_back({fmt::format("#{} {} {}x{}x{}->{}", i, layer_kind(l.shape), l.shape.in_h, l.shape.in_w,
                                      l.shape.in_c, l.shape.out_c),
                          golden::bits(l.mode),
                          LayerGroups{},
                          {},
                          0,
                          {},
                          {}});
  }
  for (const auto& f : files) {
    data::Image img;
    try {
      img = data::load_for_model(f, net.input_h(), net.input_w());
    } catch (const data::ImageError& e) {
      warn(fmt::format("{}: {}", f, e.what()));
      continue;
    }
    const quant::QuantResult r = q.run(*acc, img.rgb, {.record_layer_counters = true, .record_mac_io = true});
    const std::vector<LayerGroups> g = quant::layer_groups(q, r);
    TrafficImage im;
    for (std::size_t i = 0; i < g.size(); ++i) {
      TrafficLayer& l = out.layers[i];
      if (out.images == 0) l.groups.weights = g[i].weights;
      l.groups.input += g[i].input;
      l.groups.output += g[i].output;
      const quant::SerialCycles c =
          quant::bit_serial_cycles(q.layers()[i].prepared.layer.shape, r.mac_io[i].input, l.bits);
      l.serial += c;
      l.array_busy += r.layer_counters[i].busy;
      for (std::size_t w = 0; w < l.detector.size(); ++w)
        l.detector[w] += r.layer_counters[i].*driver::Counters::kFields[regmap::kCntGw1 + w];
      l.gating += quant::block_gating(q.layers()[i].prepared.layer.shape, r.mac_io[i].input,
                                      q.layers()[i].prepared.layer.weights, l.bits);
      im.input.push_back(g[i].input.bits);
      im.output.push_back(g[i].output.bits);
      im.serial += c;
      im.array_busy += r.layer_counters[i].busy;
    }
    out.per_image.push_back(std::move(im));
    ++out.images;
  }
  if (out.images == 0) throw std::runtime_error(fmt::format("{}: no readable image", d.need_images()));
  return out;
}

std::string traffic_report(const TrafficOutcome& r) {
  std::string s = fmt::format(
      "model {}, {}-bit, {} images: off-chip bits per image, uncompressed / one precision per tensor / "
      "per group of 16 (DPRed)\n",
      r.model, r.bits, r.images);
  s += fmt::format("  {:<40} {:>12} {:>8} {:>8}   {:>12} {:>8} {:>8}\n", "layer", "weights", "layer", "group",
                   "activations", "layer", "group");
  for (const TrafficLayer& l : r.layers) {
    const PerImage w = per_image(l.groups.weights, 1);
    PerImage a = per_image(l.groups.input, r.images);
    a += per_image(l.groups.output, r.images);
    s += fmt::format("  {:<40} {:>12.0f} {:>7.1f}% {:>7.1f}%   {:>12.0f} {:>7.1f}% {:>7.1f}%\n", l.name, w.uncompressed,
                     pct(w.per_layer, w.uncompressed), pct(w.per_group, w.uncompressed), a.uncompressed,
                     pct(a.per_layer, a.uncompressed), pct(a.per_group, a.uncompressed));
  }
  const Totals t = totals(r);
  const PerImage all = t.all();
  for (const auto& [name, p] : {std::pair{"weights", t.weights}, {"activations", t.activations}, {"total", all}}) {
    s += fmt::format(
        "{:<12} {:>14.0f} bits uncompressed; per layer {:.1f} %, per group {:.1f} % of uncompressed "
        "({:.1f} % of per layer)\n",
        name, p.uncompressed, pct(p.per_layer, p.uncompressed), pct(p.per_group, p.uncompressed),
        pct(p.per_group, p.per_layer));
  }
  const Ratios q = ratios(r);
  const auto pct_ci = [](const Estimate& e) {
    return fmt::format("{:.1f} % [{:.1f}, {:.1f}]", 100 * e.value, 100 * e.ci.lo, 100 * e.ci.hi);
  };
  s += fmt::format(
      "per group: {} of uncompressed, {} of per layer (95 % intervals over the {} images; the weights are the same "
      "for every image)\n",
      pct_ci(q.group_vs_uncompressed), pct_ci(q.group_vs_layer), r.images);
  SerialCycles c;
  std::uint64_t busy = 0;
  const double n_img = static_cast<double>(std::max<std::size_t>(r.images, 1));
  s += fmt::format(
      "bit-serial estimate, cycles per image (16 windows x 16 filters x 16 lanes, same peak as the array):\n");
  s += fmt::format("  {:<40} {:>12} {:>12} {:>12}\n", "layer", "serial", "full width", "array busy");
  for (const TrafficLayer& l : r.layers) {
    s += fmt::format("  {:<40} {:>12.0f} {:>12.0f} {:>12.0f}\n", l.name, static_cast<double>(l.serial.serial) / n_img,
                     static_cast<double>(l.serial.full_width) / n_img, static_cast<double>(l.array_busy) / n_img);
    c += l.serial;
    busy += l.array_busy;
  }
  s += fmt::format("  {:<40} {:>12.0f} {:>12.0f} {:>12.0f}\n", "network", static_cast<double>(c.serial) / n_img,
                   static_cast<double>(c.full_width) / n_img, static_cast<double>(busy) / n_img);
  s += fmt::format(
      "bit-serial: {} of the same design at the full {} bits, {} of this array's busy cycles ({}-bit mode)\n",
      pct_ci(q.serial_vs_full_width), r.bits, pct_ci(q.serial_vs_array), r.bits);
  s += fmt::format(
      "group widths per layer: % of the groups of 16 at width 1, 2, .. up to the layer's data width (two's "
      "complement with sign; activations: input and output over the images)\n");
  for (const TrafficLayer& l : r.layers) {
    quant::TensorGroups act = l.groups.input;
    act += l.groups.output;
    s += fmt::format("  {:<40} weights    {}\n  {:<40} activations{}\n", l.name,
                     width_shares(l.groups.weights.widths, l.bits), "", width_shares(act.widths, l.bits));
  }
  s += fmt::format(
      "output group widths, DPRed's groups of 16 consecutive channels (golden) vs the array's width detector "
      "(CNT_GW: one group per output row of a tile = the channels of one n-tile at one pixel), % at width 1, 2, ..\n");
  for (const TrafficLayer& l : r.layers) {
    quant::WidthHistogram hw{};
    std::copy(l.detector.begin(), l.detector.end(), hw.begin() + 1);
    s += fmt::format("  {:<40} dpred      {}\n  {:<40} detector   {}\n", l.name,
                     width_shares(l.groups.output.widths, l.bits), "", width_shares(hw, l.bits));
  }
  quant::BlockGating gate;
  s += fmt::format(
      "exact gating estimate (from golden; no zero-block detector in the RTL yet): 4-bit block products per image "
      "whose activation or weight block is all zero (zero operand: of them, those of multiplies with a zero "
      "activation or weight, which whole-value zero skipping would find too)\n");
  s += fmt::format("  {:<40} {:>14} {:>10} {:>10} {:>10} {:>12}\n", "layer", "block products", "skippable", "act. zero",
                   "wgt. zero", "zero operand");
  const auto gate_line = [&](const std::string& name, const quant::BlockGating& g) {
    const double all = static_cast<double>(g.block_products);
    return fmt::format("  {:<40} {:>14.0f} {:>9.1f}% {:>9.1f}% {:>9.1f}% {:>11.1f}%\n", name, all / n_img,
                       pct(static_cast<double>(g.skippable), all), pct(static_cast<double>(g.activation_zero), all),
                       pct(static_cast<double>(g.weight_zero), all), pct(static_cast<double>(g.zero_operand), all));
  };
  for (const TrafficLayer& l : r.layers) {
    s += gate_line(l.name, l.gating);
    gate += l.gating;
  }
  s += gate_line("network", gate);
  return s;
}

std::string traffic_json(const TrafficOutcome& r) {
  nlohmann::ordered_json j;
  j["format"] = "bitscale-traffic-1";
  j["model"] = r.model;
  j["bits"] = r.bits;
  j["images"] = r.images;
  j["group_size"] = golden::dpred::kGroupSize;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const TrafficLayer& l : r.layers) {
    PerImage sum = per_image(l.groups.weights, 1);
    sum += per_image(l.groups.input, r.images);
    sum += per_image(l.groups.output, r.images);
    nlohmann::ordered_json e = {{"name", l.name}, {"bits", l.bits}};
    e.update(bits_json(sum));
    e["weights"] = tensor_json(l.groups.weights, 1);
    e["input"] = tensor_json(l.groups.input, r.images);
    e["output"] = tensor_json(l.groups.output, r.images);
    // The hardware detector's groups (output rows of the tiles), widths 1 .. 16 like group_widths.
    e["output"]["detector_group_widths"] = std::vector<std::uint64_t>(l.detector.begin(), l.detector.end());
    const double n = static_cast<double>(std::max<std::size_t>(r.images, 1));
    e["bit_serial"] = {{"cycles", static_cast<double>(l.serial.serial) / n},
                       {"cycles_full_width", static_cast<double>(l.serial.full_width) / n},
                       {"array_busy_cycles", static_cast<double>(l.array_busy) / n}};
    e["gating"] = gating_json(l.gating, r.images);
    layers.push_back(std::move(e));
  }
  j["layers"] = std::move(layers);
  const Totals t = totals(r);
  nlohmann::ordered_json tot = bits_json(t.all());
  tot["weights"] = bits_json(t.weights);
  tot["activations"] = bits_json(t.activations);
  j["totals"] = std::move(tot);
  const Ratios q = ratios(r);
  SerialCycles c;
  std::uint64_t busy = 0;
  for (const TrafficLayer& l : r.layers) {
    c += l.serial;
    busy += l.array_busy;
  }
  const double n = static_cast<double>(std::max<std::size_t>(r.images, 1));
  j["bit_serial"] = {{"cycles", static_cast<double>(c.serial) / n},
                     {"cycles_full_width", static_cast<double>(c.full_width) / n},
                     {"array_busy_cycles", static_cast<double>(busy) / n}};
  quant::BlockGating gate;
  for (const TrafficLayer& l : r.layers) gate += l.gating;
  j["gating"] = gating_json(gate, r.images);
  j["intervals"] = {{"images", r.images},
                    {"level", 0.95},
                    {"resamples", r.boot.resamples},
                    {"per_group_vs_uncompressed", estimate_json(q.group_vs_uncompressed)},
                    {"per_group_vs_per_layer", estimate_json(q.group_vs_layer)},
                    {"serial_vs_full_width", estimate_json(q.serial_vs_full_width)},
                    {"serial_vs_array_busy", estimate_json(q.serial_vs_array)}};
  return j.dump(1) + "\n";
}

}  // namespace bitscale::study
