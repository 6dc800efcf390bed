// `bitscale classify`: one image through a network on the float baseline or on the array.
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bitscale/data/labels.hpp"
#include "bitscale/study/classify_job.hpp"
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

std::string class_name(int output_index, const std::optional<data::Synsets>& syn) {
  const auto c = data::class_from_model_index(output_index);
  if (!c) return "background";
  return syn ? syn->name(*c) : fmt::format("class {}", *c);
}

int run_classify(const ClassifyOptions& o) {
  study::ClassifyJob job;
  job.data = {o.model, {}, o.synsets};
  job.image = o.image;
  job.backend = study::parse_backend(o.backend);
  job.bits = o.bits;
  job.weight_fl = quant::weight_fl_from_string(o.weight_fl);
  job.calib = o.calib;
  job.save_calib = o.save_calib;
  job.calib_limit = o.calib_limit;
  job.jobs = o.jobs;
  job.factory = accelerator_factory();
  const study::ClassifyOutcome r =
      study::run_classify(job, [](const std::string& w) { fmt::print(stderr, "{}\n", w); });
  const std::optional<data::Synsets>& syn = r.synsets;
  const study::Prediction& p = r.prediction;

  fmt::print("{}: {} on {}{}\n", o.image, r.model_path, o.backend,
             r.on_array ? fmt::format(" ({}-bit, weight FL per {}, calibrated on {} images)", o.bits, o.weight_fl,
                                      r.calib_images)
                        : "");
  if (r.label) fmt::print("label: {} {}\n", *r.label, syn->name(*r.label));
  for (std::size_t i = 0; i < p.top.index.size(); ++i) {
    const int k = p.top.index[i];
    const auto c = data::class_from_model_index(k);
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
