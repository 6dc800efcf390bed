#include "bench.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/study/engine.hpp"
#include "command.hpp"

namespace bitscale::cli {

using data::default_data_paths;
using data::Image;
using data::list_images;
using data::load_for_model;
using data::split_even_odd;
using data::spread;
using model::load_tflite;
using model::Network;
using quant::Calibration;
using quant::QuantLayer;
using quant::QuantResult;
using quant::QuantRunOptions;
using quant::WeightFl;
using study::ArrayConfig;
using study::Backend;
using study::Engine;

namespace {

std::string layer_kind(const QuantLayer& ql) {
  const auto& s = ql.prepared.layer.shape;
  if (s.groups > 1 && s.groups == s.in_c) return "depthwise";
  if (s.groups > 1) return "grouped conv";
  if (s.in_h == 1 && s.in_w == 1 && s.k_h == 1 && s.k_w == 1) return "fully connected";
  if (s.k_h == 1 && s.k_w == 1) return "pointwise conv (1x1)";
  return fmt::format("conv {}x{}", s.k_h, s.k_w);
}

void add(LayerTypeFigures& a, const driver::Counters& c) {
  a.layers += 1;
  a.macs += c.macs_total();
  a.array += c.array;
  a.busy += c.busy;
  a.cycles += c.cycles;
}

// The value rounded to `decimals` (the precision the figures are written with).
double rounded(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

}  // namespace

double NetBenchResult::utilization(const LayerTypeFigures& f) const {
  return f.array ? static_cast<double>(f.macs) / (static_cast<double>(f.array) * pes * lanes) : 0.0;
}

NetBenchResult run_netbench(const NetBenchOptions& o) {
  using Clock = std::chrono::steady_clock;
  const data::DataPaths d = default_data_paths();
  NetBenchResult r;
  r.model = o.model.empty() ? d.model : o.model;
  r.bits = o.bits;
  const std::string image_dir = o.images.empty() ? d.images : o.images;
  if (r.model.empty() || image_dir.empty()) throw std::invalid_argument("no --model/--images and no default data");
  const model::Model model = load_tflite(r.model);
  const Network net(model);
  r.macs_per_image = net.macs();
  const auto split = split_even_odd(list_images(image_dir));
  const Calibration calib = quant::obtain_calibration(net, o.calib, split.calibration, o.calib_limit, 2,
                                                      [](const std::string& w) { fmt::print(stderr, "{}\n", w); });
  std::vector<Image> imgs;
  for (const auto& f : spread(split.evaluation, std::max(o.golden_images, o.rtl_images))) {
    try {
      imgs.push_back(load_for_model(f, net.input_h(), net.input_w()));
    } catch (const std::exception& e) {
      fmt::print(stderr, "skipping {}: {}\n", f, e.what());
    }
  }
  if (imgs.empty()) throw std::runtime_error(fmt::format("no decodable image in '{}'", image_dir));

  // Golden (functional) back-end, one thread.
  const WeightFl wfl = quant::weight_fl_from_string(o.weight_fl);
  const study::AcceleratorFactory factory = accelerator_factory();
  const Engine golden(net, ArrayConfig{.backend = Backend::kGolden, .bits = o.bits, .calib = &calib, .weight_fl = wfl},
                      factory);
  auto gs = golden.session();
  r.golden_images = std::max(1, std::min<int>(o.golden_images, static_cast<int>(imgs.size())));
  const auto t0 = Clock::now();
  for (int i = 0; i < r.golden_images; ++i) (void)gs->run(imgs[static_cast<std::size_t>(i)].rgb);
  r.golden_s = std::chrono::duration<double>(Clock::now() - t0).count() / r.golden_images;

  // Utilization per layer type (counters of one image on the functional back-end = the RTL's).
  auto acc = driver::make_accelerator(driver::Backend::kGolden);
  QuantRunOptions ro;
  ro.record_layer_counters = true;
  const QuantResult q = golden.quantized()->run(*acc, imgs[0].rgb, ro);
  r.pes = static_cast<double>(acc->hw().rows) * acc->hw().cols;
  r.lanes = 16 / o.bits;
  std::map<std::string, LayerTypeFigures> by_kind;
  for (std::size_t i = 0; i < q.layer_counters.size(); ++i) {
    const std::string kind = layer_kind(golden.quantized()->layers()[i]);
    by_kind[kind].type = kind;
    add(by_kind[kind], q.layer_counters[i]);
    add(r.total, q.layer_counters[i]);
  }
  for (auto& [kind, f] : by_kind) r.types.push_back(std::move(f));

  // RTL back-end.
  if (o.rtl_images > 0) {
    const Engine rtl(net, ArrayConfig{.backend = Backend::kRtl, .bits = o.bits, .calib = &calib, .weight_fl = wfl},
                     factory);
    auto rs = rtl.session();
    r.rtl_images = std::min<int>(o.rtl_images, static_cast<int>(imgs.size()));
    const auto t1 = Clock::now();
    for (int i = 0; i < r.rtl_images; ++i) {
      const auto p = rs->run(imgs[static_cast<std::size_t>(i)].rgb);
      if (p.counters) r.rtl_cycles = p.counters->cycles;
    }
    r.rtl_s = std::chrono::duration<double>(Clock::now() - t1).count() / r.rtl_images;
  }
  return r;
}

std::string netbench_report(const NetBenchResult& r) {
  std::string s = fmt::format("model {} ({} MACs/image), {}-bit\n", r.model, r.macs_per_image, r.bits);
  s += fmt::format("golden: {:.1f} images/s on one core ({:.1f} ms per image, {} images)\n", 1.0 / r.golden_s,
                   r.golden_s * 1e3, r.golden_images);
  s += fmt::format("array utilization per layer type (MACs / (array cycles x {} PEs x {} lanes)):\n", r.pes, r.lanes);
  s += fmt::format("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>9} {:>9}\n", "layer type", "layers", "MACs", "array cyc",
                   "all cycles", "util", "of time");
  for (const LayerTypeFigures& a : r.types) {
    s += fmt::format("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>8.1f}% {:>8.1f}%\n", a.type, a.layers, a.macs, a.array,
                     a.cycles, 100 * r.utilization(a),
                     100.0 * static_cast<double>(a.cycles) / static_cast<double>(r.total.cycles));
  }
  s += fmt::format("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>8.1f}%\n", "all MAC layers", r.total.layers, r.total.macs,
                   r.total.array, r.total.cycles, 100 * r.utilization(r.total));
  if (r.rtl_images > 0) {
    s += fmt::format("rtl: {:.2f} s per image ({} cycles per image, {:.0f} simulated cycles/s, {} images)\n", r.rtl_s,
                     r.rtl_cycles, static_cast<double>(r.rtl_cycles) / r.rtl_s, r.rtl_images);
  }
  return s;
}

nlohmann::ordered_json netbench_json(const NetBenchResult& r) {
  auto types = nlohmann::ordered_json::array();
  for (const LayerTypeFigures& a : r.types) {
    types.push_back({{"type", a.type},
                     {"layers", a.layers},
                     {"macs", a.macs},
                     {"array_cycles", a.array},
                     {"cycles", a.cycles},
                     {"utilization", rounded(r.utilization(a), 4)}});
  }
  return {{"model", r.model},
          {"bits", r.bits},
          {"golden_images_per_s", rounded(1.0 / r.golden_s, 3)},
          {"rtl_s_per_image", rounded(r.rtl_s, 3)},
          {"rtl_cycles_per_image", r.rtl_cycles},
          {"utilization", rounded(r.utilization(r.total), 4)},
          {"layer_types", types}};
}

}  // namespace bitscale::cli
