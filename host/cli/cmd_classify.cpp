// `bitscale classify`: one image through a network on the float baseline or on the array.
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/study/engine.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

struct ClassifyOptions {
  std::string model, image, backend = "float", calib, save_calib, synsets, weight_fl = "channel";
  int bits = 8;
  int calib_limit = 50;
  int jobs = 2;
};

std::string class_name(int output_index, const std::optional<Synsets>& syn) {
  const auto c = class_from_model_index(output_index);
  if (!c) return "background";
  return syn ? syn->name(*c) : fmt::format("class {}", *c);
}

int run_classify(const ClassifyOptions& o) {
  const DataPaths d = resolve_data_paths({o.model, {}, o.synsets});
  const std::string& model_path = d.need_model();
  const Model model = load_tflite(model_path);
  const Network net(model);
  std::optional<Synsets> syn;
  if (!d.synsets.empty()) syn.emplace(d.synsets);

  const Backend backend = parse_backend(o.backend);
  std::unique_ptr<Calibration> calib;
  std::unique_ptr<Engine> engine;
  if (on_array(backend)) {
    std::vector<std::string> defaults;
    if (o.calib.empty()) {
      if (d.images.empty()) throw std::invalid_argument("no --calib given and no default image directory");
      // The calibration half of the default images, never the image being classified.
      defaults = split_even_odd(list_images(d.images)).calibration;
      exclude_calibration_images(defaults, std::vector<std::string>{o.image});
    }
    calib = std::make_unique<Calibration>(obtain_calibration(
        net, o.calib, defaults, o.calib_limit, o.jobs, [](const std::string& w) { fmt::print(stderr, "{}\n", w); }));
    if (!o.save_calib.empty()) calib->save(o.save_calib, net);
    engine = std::make_unique<Engine>(
        net,
        ArrayConfig{
            .backend = backend, .bits = o.bits, .calib = calib.get(), .weight_fl = weight_fl_from_string(o.weight_fl)},
        accelerator_factory());
  } else {
    engine = std::make_unique<Engine>(net);
  }
  const Image img = load_for_model(o.image, net.input_h(), net.input_w());
  auto session = engine->session();
  const Prediction p = session->run(img.rgb);

  fmt::print("{}: {} on {}{}\n", o.image, model_path, o.backend,
             engine->on_array() ? fmt::format(" ({}-bit, weight FL per {}, calibrated on {} images)", o.bits,
                                              o.weight_fl, calib->images.size())
                                : "");
  if (syn) {
    if (const auto label = label_from_filename(o.image, *syn)) {
      fmt::print("label: {} {}\n", *label, syn->name(*label));
    }
  }
  for (std::size_t i = 0; i < p.top.index.size(); ++i) {
    const int k = p.top.index[i];
    const auto c = class_from_model_index(k);
    fmt::print("  {}. {:>4}  {:.6f}  {}\n", i + 1, c ? fmt::format("{}", *c) : std::string("-"), p.top.prob[i],
               class_name(k, syn));
  }
  fmt::print("score margin P(top1) - P(top2): {:.6f}\n", p.margin);
  if (p.counters) {
    fmt::print("array: {} cycles, {} MACs ({}-bit)\n", p.counters->cycles, p.counters->macs_total(), o.bits);
  }
  return 0;
}

const RegisterCommand kClassify([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<ClassifyOptions>();
  auto* cmd = app.add_subcommand(
      "classify",
      "Classify one image: the float baseline (--backend float) or dynamic fixed point on the array through\n"
      "the driver (--backend golden|rtl, --bits 4|8|16; docs/QUANTIZATION.md). Prints the top-5 classes\n"
      "and the score margin P(top1) - P(top2).");
  cmd->add_option("--model", o->model, "TFLite model (default: data/models/mobilenet_v1_0.25_128_quant.tflite)");
  cmd->add_option("--image", o->image, "JPEG image")->required();
  cmd->add_option("--bits", o->bits, "Bit-width on the array")->check(CLI::IsMember({4, 8, 16}))->capture_default_str();
  add_weight_fl_option(cmd, o->weight_fl);
  cmd->add_option("--backend", o->backend,
                  "float (baseline), golden (fast functional golden model), golden-device (register-level golden "
                  "model) or rtl (verilated)")
      ->check(CLI::IsMember({"float", "golden", "golden-device", "rtl"}))
      ->capture_default_str();
  cmd->add_option("--calib", o->calib,
                  "Calibration: a JSON file (from --save-calib) or an image directory (default: the even-position\n"
                  "half of the default image directory)");
  cmd->add_option("--calib-limit", o->calib_limit, "Calibration images (spread over the set; 0 = all)")
      ->capture_default_str();
  cmd->add_option("--save-calib", o->save_calib, "Write the calibration to this JSON file");
  cmd->add_option("--synsets", o->synsets, "imagenet-synsets.tsv (class names and labels)");
  cmd->add_option("--jobs", o->jobs, "Threads for the calibration")->check(CLI::Range(1, 256))->capture_default_str();
  return [o]() { return run_classify(*o); };
});

}  // namespace
}  // namespace bitscale::cli
