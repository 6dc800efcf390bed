// `bitscale netbench`: whole-network performance figures of one model: golden images per
// second, RTL seconds per image, and array utilization per layer type from the counters.
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/study/engine.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

struct NetBenchOptions {
  std::string model, images, calib, json, weight_fl = "channel";
  int bits = 8;
  int golden_images = 20;
  int rtl_images = 1;
  int calib_limit = 50;
};

std::string layer_kind(const QuantLayer& ql) {
  const auto& s = ql.prepared.layer.shape;
  if (s.groups > 1 && s.groups == s.in_c) return "depthwise";
  if (s.groups > 1) return "grouped conv";
  if (s.in_h == 1 && s.in_w == 1 && s.k_h == 1 && s.k_w == 1) return "fully connected";
  if (s.k_h == 1 && s.k_w == 1) return "pointwise conv (1x1)";
  return fmt::format("conv {}x{}", s.k_h, s.k_w);
}

int run_netbench(const NetBenchOptions& o) {
  using Clock = std::chrono::steady_clock;
  const DataPaths d = default_data_paths();
  const std::string model_path = o.model.empty() ? d.model : o.model;
  const std::string image_dir = o.images.empty() ? d.images : o.images;
  if (model_path.empty() || image_dir.empty()) throw std::invalid_argument("no --model/--images and no default data");
  const Model model = load_tflite(model_path);
  const Network net(model);
  const auto split = split_even_odd(list_images(image_dir));
  const Calibration calib = obtain_calibration(net, o.calib, split.calibration, o.calib_limit, 2,
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
  fmt::print("model {} ({} MACs/image), {}-bit\n", model_path, net.macs(), o.bits);

  // Golden (functional) back-end, one thread.
  const WeightFl wfl = weight_fl_from_string(o.weight_fl);
  const Engine golden(net, ArrayConfig{.backend = Backend::kGolden, .bits = o.bits, .calib = &calib, .weight_fl = wfl},
                      accelerator_factory());
  auto gs = golden.session();
  const int ng = std::max(1, std::min<int>(o.golden_images, static_cast<int>(imgs.size())));
  const auto t0 = Clock::now();
  for (int i = 0; i < ng; ++i) (void)gs->run(imgs[static_cast<std::size_t>(i)].rgb);
  const double golden_s = std::chrono::duration<double>(Clock::now() - t0).count() / ng;
  fmt::print("golden: {:.1f} images/s on one core ({:.1f} ms per image, {} images)\n", 1.0 / golden_s, golden_s * 1e3,
             ng);

  // Utilization per layer type (counters of one image on the functional back-end = the RTL's).
  auto acc = driver::make_accelerator("golden");
  QuantRunOptions ro;
  ro.record_layer_counters = true;
  const QuantResult r = golden.quantized()->run(*acc, imgs[0].rgb, ro);
  struct Agg {
    int layers = 0;
    std::uint64_t macs = 0, array = 0, busy = 0, cycles = 0;
  };
  std::map<std::string, Agg> by_kind;
  Agg total;
  const double pes = static_cast<double>(acc->hw().rows) * acc->hw().cols;
  const int lanes = 16 / o.bits;
  for (std::size_t i = 0; i < r.layer_counters.size(); ++i) {
    const auto& c = r.layer_counters[i];
    for (Agg* a : {&by_kind[layer_kind(golden.quantized()->layers()[i])], &total}) {
      a->layers += 1;
      a->macs += c.macs_total();
      a->array += c.array;
      a->busy += c.busy;
      a->cycles += c.cycles;
    }
  }
  fmt::print("array utilization per layer type (MACs / (array cycles x {} PEs x {} lanes)):\n", pes, lanes);
  fmt::print("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>9} {:>9}\n", "layer type", "layers", "MACs", "array cyc",
             "all cycles", "util", "of time");
  std::string json_rows;
  for (const auto& [kind, a] : by_kind) {
    const double util = a.array ? static_cast<double>(a.macs) / (static_cast<double>(a.array) * pes * lanes) : 0.0;
    fmt::print("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>8.1f}% {:>8.1f}%\n", kind, a.layers, a.macs, a.array, a.cycles,
               100 * util, 100.0 * static_cast<double>(a.cycles) / static_cast<double>(total.cycles));
    json_rows += fmt::format(
        "{}{{\"type\": \"{}\", \"layers\": {}, \"macs\": {}, \"array_cycles\": {}, \"cycles\": {}, "
        "\"utilization\": {:.4f}}}",
        json_rows.empty() ? "" : ", ", kind, a.layers, a.macs, a.array, a.cycles, util);
  }
  const double util_all = static_cast<double>(total.macs) / (static_cast<double>(total.array) * pes * lanes);
  fmt::print("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>8.1f}%\n", "all MAC layers", total.layers, total.macs, total.array,
             total.cycles, 100 * util_all);

  // RTL back-end.
  double rtl_s = 0;
  std::uint64_t rtl_cycles = 0;
  if (o.rtl_images > 0) {
    const Engine rtl(net, ArrayConfig{.backend = Backend::kRtl, .bits = o.bits, .calib = &calib, .weight_fl = wfl},
                     accelerator_factory());
    auto rs = rtl.session();
    const int nr = std::min<int>(o.rtl_images, static_cast<int>(imgs.size()));
    const auto t1 = Clock::now();
    for (int i = 0; i < nr; ++i) {
      const auto p = rs->run(imgs[static_cast<std::size_t>(i)].rgb);
      if (p.counters) rtl_cycles = p.counters->cycles;
    }
    rtl_s = std::chrono::duration<double>(Clock::now() - t1).count() / nr;
    fmt::print("rtl: {:.2f} s per image ({} cycles per image, {:.0f} simulated cycles/s, {} images)\n", rtl_s,
               rtl_cycles, static_cast<double>(rtl_cycles) / rtl_s, nr);
  }
  if (!o.json.empty()) {
    std::ofstream f(o.json);
    if (!f) throw std::runtime_error(fmt::format("cannot write '{}'", o.json));
    f << fmt::format(
        "{{\"model\": \"{}\", \"bits\": {}, \"golden_images_per_s\": {:.3f}, \"rtl_s_per_image\": {:.3f}, "
        "\"rtl_cycles_per_image\": {}, \"utilization\": {:.4f}, \"layer_types\": [{}]}}\n",
        model_path, o.bits, 1.0 / golden_s, rtl_s, rtl_cycles, util_all, json_rows);
  }
  return 0;
}

const RegisterCommand kNetBench([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<NetBenchOptions>();
  auto* cmd = app.add_subcommand(
      "netbench",
      "Whole-network figures of one model at one bit-width: golden (functional) images per second on one core,\n"
      "RTL seconds per image, and the array utilization per layer type from the performance counters.");
  cmd->add_option("--model", o->model, "TFLite model (default: the embedded MobileNet v1 0.25/128)");
  cmd->add_option("--images", o->images, "Image directory (even positions calibrate, odd ones are timed)");
  cmd->add_option("--bits", o->bits, "Bit-width")->check(CLI::IsMember({4, 8, 16}))->capture_default_str();
  add_weight_fl_option(cmd, o->weight_fl);
  cmd->add_option("--golden-images", o->golden_images, "Images timed on the golden back-end")->capture_default_str();
  cmd->add_option("--rtl-images", o->rtl_images, "Images timed on the RTL back-end (0 = skip)")->capture_default_str();
  cmd->add_option("--calib", o->calib, "Calibration JSON or image directory");
  cmd->add_option("--json", o->json, "Write the figures to this JSON file");
  return [o]() { return run_netbench(*o); };
});

}  // namespace
}  // namespace bitscale::cli
