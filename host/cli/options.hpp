// Option helpers of the bitscale commands: each binds one option (or one block that several
// commands share) directly into a field of a library job struct, with its help text and checks.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/dpred.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/shard.hpp"
#include "bitscale/study/sweep.hpp"

namespace bitscale::cli {

/// Refuses a negative count (CLI11's NonNegativeNumber names its bound as 1.8e308).
inline const CLI::Validator kNonNegative(
    [](std::string& s) -> std::string {
      double v = 0;
      if (!CLI::detail::lexical_cast(s, v)) return "'" + s + "' is not a number";
      return v < 0 ? "must be 0 or more, not " + s : std::string();
    },
    "NONNEGATIVE");

/// A count option (images, layers, ...): 0 or more, its default shown.
template <class T>
CLI::Option* add_count_option(CLI::App* cmd, const std::string& name, T& target, const std::string& help) {
  return cmd->add_option(name, target, help)->check(kNonNegative)->capture_default_str();
}

/// An option whose text `parse` turns into `target`; a text that `parse` refuses (by throwing)
/// is refused by CLI11 with the exception's message. `default_text` is shown in the help.
template <class T, class Parse>
CLI::Option* add_parsed_option(CLI::App* cmd, const std::string& name, T& target, Parse parse, const std::string& help,
                               const std::string& default_text) {
  CLI::Validator parses(
      [parse](std::string& s) -> std::string {
        try {
          (void)parse(s);
          return {};
        } catch (const std::exception& e) {
          return e.what();
        }
      },
      "");
  return cmd
      ->add_option_function<std::string>(
          name, [&target, parse](const std::string& s) { target = parse(s); }, help)
      ->check(parses)
      ->default_str(default_text);
}

/// An enumeration option: one of `names` (checked by CLI11), turned into `target` by `parse`.
template <class T, class Parse>
CLI::Option* add_choice_option(CLI::App* cmd, const std::string& name, T& target, Parse parse,
                               const std::vector<std::string>& names, const std::string& help,
                               const std::string& default_text) {
  return cmd
      ->add_option_function<std::string>(
          name, [&target, parse](const std::string& s) { target = parse(s); }, help)
      ->check(CLI::IsMember(names))
      ->default_str(default_text);
}

inline constexpr const char* kDefaultModelHelp =
    "TFLite or ONNX model, detected from the content (default: data/models/mobilenet_v1_0.25_128_quant.tflite)";
inline constexpr const char* kDefaultImagesHelp = "Image directory (default: data/images)";

/// --model: the network (data::DataPaths::model, or any model path).
inline CLI::Option* add_model_option(CLI::App* cmd, std::string& model, const std::string& help = kDefaultModelHelp) {
  return cmd->add_option("--model", model, help);
}
/// --images: the image directory.
inline CLI::Option* add_images_option(CLI::App* cmd, std::string& images,
                                      const std::string& help = kDefaultImagesHelp) {
  return cmd->add_option("--images", images, help);
}
/// --synsets: imagenet-synsets.tsv; `use` says what the command takes from it.
inline CLI::Option* add_synsets_option(CLI::App* cmd, std::string& synsets, const std::string& use) {
  return cmd->add_option("--synsets", synsets, "imagenet-synsets.tsv (" + use + ")");
}

/// --labels: a ground-truth labels file (data::LabelsFile), for images whose names carry no synset.
inline CLI::Option* add_labels_option(CLI::App* cmd, std::string& labels) {
  return cmd->add_option(
      "--labels", labels,
      "Ground-truth labels file: '<image> <class>' or '<image>,<class>' lines, the class a synset or "
      "an index 0..999 (e.g. Caffe's val.txt, Kaggle's LOC_val_solution.csv); without it, labels "
      "come from synsets in file names (n01440764_*.JPEG) or folder names (n01440764/*.JPEG)");
}

/// --jobs: threads (1..256).
inline CLI::Option* add_jobs_option(CLI::App* cmd, int& jobs,
                                    const std::string& help = "Threads, each with its own device") {
  return cmd->add_option("--jobs", jobs, help)->check(CLI::Range(1, 256))->capture_default_str();
}

/// --no-progress: clears `progress` (no progress line on the terminal).
inline CLI::Option* add_no_progress_flag(CLI::App* cmd, bool& progress) {
  return cmd->add_flag("!--no-progress", progress, "No progress line on the terminal");
}

/// --backend of the commands that run the float network too (float, golden, golden-device, rtl).
inline CLI::Option* add_backend_option(CLI::App* cmd, study::Backend& backend) {
  return add_choice_option(cmd, "--backend", backend, study::parse_backend, {"float", "golden", "golden-device", "rtl"},
                           "float (baseline), golden (fast functional golden model), golden-device (register-level "
                           "golden model) or rtl (verilated)",
                           study::to_string(backend));
}
/// --backend of the commands that run on the array only (golden, golden-device, rtl).
inline CLI::Option* add_array_backend_option(CLI::App* cmd, study::Backend& backend) {
  return add_choice_option(cmd, "--backend", backend, study::parse_backend, {"golden", "golden-device", "rtl"},
                           "Array back-end: golden, golden-device or rtl", study::to_string(backend));
}

/// --weight-fl: the weight fractional-length rule (docs/QUANTIZATION.md).
inline CLI::Option* add_weight_fl_option(CLI::App* cmd, quant::WeightFl& weight_fl) {
  return add_choice_option(
      cmd, "--weight-fl", weight_fl, quant::weight_fl_from_string, {"channel", "group", "layer"},
      "Weight fractional length per output 'channel', per 'group' of array columns (channels with\n"
      "similar FLs share one, no extra tiles) or per 'layer' (the seed paper's rule)",
      std::string(quant::to_string(weight_fl)));
}

/// --out of the resumable studies: their output directory (required).
inline CLI::Option* add_out_dir_option(CLI::App* cmd, std::string& out_dir) {
  return cmd->add_option("--out", out_dir, "Output directory (records, calibration, reports)")->required();
}

/// --stop-after of the resumable studies.
inline CLI::Option* add_stop_after_option(CLI::App* cmd, std::size_t& stop_after) {
  return cmd
      ->add_option("--stop-after", stop_after, "Stop after N new images (simulates an interruption; exit status 3)")
      ->check(kNonNegative);
}

/// --levels: precision levels, increasing (study::parse_levels).
inline CLI::Option* add_levels_option(CLI::App* cmd, std::vector<int>& levels, const std::string& help) {
  return add_parsed_option(cmd, "--levels", levels, study::parse_levels, help,
                           fmt::format("{}", fmt::join(levels, ",")));
}

/// --bits: the array's bit-width (4, 8 or 16).
inline CLI::Option* add_bits_option(CLI::App* cmd, int& bits, const std::string& help = "Bit-width on the array") {
  return cmd->add_option("--bits", bits, help)->check(CLI::IsMember({4, 8, 16}))->capture_default_str();
}

/// What runs a network, float or on the array: --bits, --weight-fl, --backend (eval, classify).
struct NetworkRunFields {
  study::Backend& backend;
  int& bits;
  quant::WeightFl& weight_fl;
};
inline void add_network_run_options(CLI::App* cmd, const NetworkRunFields& f) {
  add_bits_option(cmd, f.bits);
  add_weight_fl_option(cmd, f.weight_fl);
  add_backend_option(cmd, f.backend);
}

/// The calibration: --calib (JSON or image directory), --calib-limit and, when `save_calib` is
/// given, --save-calib.
struct CalibrationFields {
  std::string& calib;
  int& calib_limit;
  std::string* save_calib = nullptr;
};
inline void add_calibration_options(
    CLI::App* cmd, const CalibrationFields& f, const std::string& calib_help,
    const std::string& limit_help = "Calibration images (spread over the set; 0 = all)") {
  cmd->add_option("--calib", f.calib, calib_help);
  add_count_option(cmd, "--calib-limit", f.calib_limit, limit_help);
  if (f.save_calib) cmd->add_option("--save-calib", *f.save_calib, "Write the calibration to this JSON file");
}

/// --classifier, --rounding, --rounding-seed: the host-side quantization options of array runs
/// (docs/QUANTIZATION.md), bound into `q`.
inline void add_quantization_options(CLI::App* cmd, quant::QuantOptions& q) {
  add_choice_option(cmd, "--classifier", q.classifier, quant::classifier_precision_from_string, {"level", "16"},
                    "Precision of the classifier (last MAC layer): '16' in every level (logits, hence the\n"
                    "confidence, keep 16-bit resolution) or the precision of the 'level' (the seed paper)",
                    std::string(quant::to_string(q.classifier)));
  add_choice_option(cmd, "--rounding", q.rounding, quant::rounding_from_string, {"nearest", "stochastic"},
                    "Rounding of the weights and biases quantized on the host: to 'nearest' or 'stochastic'\n"
                    "(seeded by --rounding-seed); the array's requantization always rounds to nearest",
                    std::string(quant::to_string(q.rounding)));
  cmd->add_option("--rounding-seed", q.rounding_seed, "Seed of the stochastic rounding (reproducible)")
      ->check(kNonNegative)
      ->capture_default_str();
}

/// --shard I/N: record only shard I (1-based) of N of the selected images (study/shard.hpp).
inline CLI::Option* add_shard_option(CLI::App* cmd, study::Shard& shard) {
  return add_parsed_option(cmd, "--shard", shard, study::parse_shard,
                           "Record only shard I of N (1 <= I <= N) of the selected images: image k (0-based) of the\n"
                           "selection goes to shard k mod N + 1; into <records>.shard-I-of-N.jsonl under --out, no\n"
                           "outputs. Join the shards with `bitscale merge` (docs/SCALE_OUT.md)",
                           "none (all images)");
}

/// The Ax-BxP rungs of a ladder (docs/AXBXP.md): --approx-config (the "8s" rung's per-layer
/// configuration, an axbxp_config.json of `bitscale axbxp-search`) and --approx-compensation (of
/// the family rungs 8c1, ...). `compensation` null: the first option only (eval, classify take the
/// compensation recorded in the file).
inline void add_approx_options(CLI::App* cmd, std::string& config, quant::ApproxCompensation* compensation,
                               const std::string& help) {
  cmd->add_option("--approx-config", config, help)->check(CLI::ExistingFile);
  if (compensation) {
    add_choice_option(cmd, "--approx-compensation", *compensation, quant::approx_compensation_from_string,
                      {"none", "mean"},
                      "Compensation of the block products the family rungs (8c1, ...) skip: mean (block means of the\n"
                      "calibration images, added to the bias) or none (docs/NUMERICS.md)",
                      std::string(quant::to_string(*compensation)));
  }
}

/// --offchip and --dpred (docs/ENERGY.md, docs/DPRED.md "Combination with the controller") of the
/// commands that run the array for the controller.
struct DpredOptions {
  std::optional<quant::OffchipEncoding> offchip;  ///< --offchip (none: not given)
  bool dpred = false;                             ///< --dpred
  /// The off-chip encoding asked for (none: neither option given), and what --dpred sets on the
  /// devices (study::apply_dpred). Throws std::invalid_argument for --dpred with --offchip
  /// uncompressed.
  std::optional<quant::OffchipEncoding> resolve(driver::DeviceOptions& device) const {
    if (!dpred) return offchip;
    if (offchip == quant::OffchipEncoding::kUncompressed)
      throw std::invalid_argument("--dpred encodes the off-chip bytes per group: not with --offchip uncompressed");
    quant::OffchipEncoding e = quant::OffchipEncoding::kUncompressed;
    study::apply_dpred(e, device);
    return e;
  }
};

/// Adds --offchip and --dpred; `default_text`: the default shown for --offchip.
inline void add_dpred_options(CLI::App* cmd, DpredOptions& o, const std::string& default_text) {
  add_choice_option(cmd, "--offchip", o.offchip, quant::parse_offchip_encoding, {"uncompressed", "per-group"},
                    "Off-chip bytes of each array run, priced by --energy-model memory: uncompressed (every tensor\n"
                    "at the layer's width, from the shapes) or per-group (DPRed: weights and this image's activations\n"
                    "encoded in groups of 16; docs/DPRED.md)",
                    default_text);
  cmd->add_flag("--dpred", o.dpred,
                "DPRed: per-group off-chip encoding (= --offchip per-group) and exact zero-block gating in the\n"
                "array (docs/DPRED.md)");
}

}  // namespace bitscale::cli

namespace bitscale::cli {
/// --zero-gating: exact zero-block gating (MODE.ZGATE) on the array back-ends; outputs do not change,
/// CNT_BLK / CNT_ZSKIP and the MAC energy do (docs/NUMERICS.md, docs/ENERGY.md).
inline CLI::Option* add_zero_gating_flag(CLI::App* cmd, driver::Gating& gating) {
  return cmd->add_flag_callback(
      "--zero-gating", [&gating] { gating = driver::Gating::kZeroBlocks; },
      "Exact zero-block gating in the array (MODE.ZGATE): block products of an all-zero 4-bit operand block\n"
      "are not computed (counted in CNT_ZSKIP, priced as skipped); outputs are unchanged");
}

/// --transfer and --port: how the driver moves scratchpad lines on the array back-ends (issue 9,
/// docs/ARCHITECTURE.md "Bus"); outputs do not change, only the cycles and the transfer counters.
inline void add_transfer_options(CLI::App* cmd, driver::Transfer& transfer, driver::Port& port) {
  add_choice_option(cmd, "--transfer", transfer, driver::parse_transfer, {"serial", "overlapped"},
                    "Scratchpad transfers while the array is idle (serial) or the next tile's activations\n"
                    "written while a tile computes (overlapped: ping-pong halves of the activation banks)",
                    std::string(driver::to_string(transfer)));
  add_choice_option(cmd, "--port", port, driver::parse_port, {"line", "wide", "rows"},
                    "One 64-bit scratchpad line per bus beat (line), line L of every bank of a region per\n"
                    "beat (wide), or as wide with activation rows of Cols words per bank and beat (rows)",
                    std::string(driver::to_string(port)));
}
}  // namespace bitscale::cli
