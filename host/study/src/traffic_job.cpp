#include "bitscale/study/traffic_job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/netbench.hpp"

namespace bitscale::study {

using quant::LayerGroups;
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
                          golden::bits(l.mode), LayerGroups{}});
  }
  for (const auto& f : files) {
    data::Image img;
    try {
      img = data::load_for_model(f, net.input_h(), net.input_w());
    } catch (const data::ImageError& e) {
      warn(fmt::format("{}: {}", f, e.what()));
      continue;
    }
    const quant::QuantResult r = q.run(*acc, img.rgb, {.record_mac_io = true});
    const std::vector<LayerGroups> g = quant::layer_groups(q, r);
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (out.images == 0) out.layers[i].groups.weights = g[i].weights;
      out.layers[i].groups.input += g[i].input;
      out.layers[i].groups.output += g[i].output;
    }
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
    layers.push_back(std::move(e));
  }
  j["layers"] = std::move(layers);
  const Totals t = totals(r);
  nlohmann::ordered_json tot = bits_json(t.all());
  tot["weights"] = bits_json(t.weights);
  tot["activations"] = bits_json(t.activations);
  j["totals"] = std::move(tot);
  return j.dump(1) + "\n";
}

}  // namespace bitscale::study
