// `bitscale eval`: a directory of images through a network, one result row per image
// (CSV or JSON lines, written and flushed as each image finishes), top-1/top-5 summary.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/util/json.hpp"
#include "command.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct EvalOptions {
  std::string model, images, backend = "float", calib, save_calib, out, synsets, split = "auto";
  std::string weight_fl = "channel";
  int bits = 8;
  int limit = 0;
  int jobs = 1;
  int calib_limit = 50;
  bool compare_backends = false;
  bool progress = true;
};

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

/// Class of a model output (-1 = background).
int out_class(int output_index) { return class_from_model_index(output_index).value_or(-1); }

struct Row {
  std::string file;
  std::optional<int> label;
  std::optional<Prediction> pred;
  std::string error;
  std::string compare;  ///< --compare-backends: "match" or what differs
  double seconds = 0;
};

/// Word-for-word comparison of two runs' MAC layer outputs and counters.
std::string compare_runs(const Prediction& a, const Prediction& b, const QuantizedNetwork& q) {
  if (a.mac_outputs.size() != b.mac_outputs.size()) return "different numbers of MAC layers";
  std::string diffs;
  for (std::size_t l = 0; l < a.mac_outputs.size(); ++l) {
    const auto& x = a.mac_outputs[l];
    const auto& y = b.mac_outputs[l];
    if (x == y) continue;
    std::size_t bad = 0, first = 0;
    for (std::size_t w = 0; w < std::min(x.words.size(), y.words.size()); ++w) {
      if (x.words[w] != y.words[w] && bad++ == 0) first = w;
    }
    diffs += fmt::format("{}layer {} (op {}): {} of {} words differ, first word {}", diffs.empty() ? "" : "; ", l,
                         q.layers()[l].op, bad, x.words.size(), first);
  }
  if (a.counters && b.counters && !(*a.counters == *b.counters)) {
    diffs += fmt::format("{}counters differ (cycles {} vs {})", diffs.empty() ? "" : "; ", a.counters->cycles,
                         b.counters->cycles);
  }
  return diffs.empty() ? fmt::format("match ({} layers)", a.mac_outputs.size()) : diffs;
}

class RowWriter {
 public:
  RowWriter(const std::string& path, bool compare, const std::optional<Synsets>& syn) : compare_(compare), syn_(syn) {
    json_ = path.size() >= 6 && (path.ends_with(".jsonl") || path.ends_with(".json"));
    if (!path.empty()) {
      file_.open(path, std::ios::binary | std::ios::trunc);
      if (!file_) throw std::runtime_error(fmt::format("{}: cannot write the results", path));
    }
    if (!json_) {
      std::string h =
          "file,label,top1,top2,top3,top4,top5,p1,p2,p3,p4,p5,margin,top1_correct,top5_correct,top1_name,"
          "cycles,mac16,mac8,mac4,seconds,error";
      if (compare_) h += ",compare";
      out() << h << '\n';
      out().flush();
    }
  }
  std::ostream& out() { return file_.is_open() ? static_cast<std::ostream&>(file_) : std::cout; }

  void write(const Row& r) {
    std::string line;
    const std::string label = r.label ? std::to_string(*r.label) : "";
    if (json_) {
      line = fmt::format("{{\"file\":{},\"label\":{}", json::quote(r.file), r.label ? label : "null");
      if (r.pred) {
        const auto& p = *r.pred;
        line += ",\"top5\":[";
        for (std::size_t i = 0; i < p.top.index.size(); ++i) {
          const int c = out_class(p.top.index[i]);
          line += fmt::format("{}{{\"class\":{},\"name\":{},\"p\":{:.6g}}}", i ? "," : "", c, json::quote(name(c)),
                              p.top.prob[i]);
        }
        line += fmt::format("],\"margin\":{:.6g}", p.margin);
        if (r.label) {
          line += fmt::format(",\"top1_correct\":{},\"top5_correct\":{}", correct(p, *r.label, 1) ? "true" : "false",
                              correct(p, *r.label, 5) ? "true" : "false");
        }
        if (p.counters) {
          line += fmt::format(",\"cycles\":{},\"macs\":{{\"16\":{},\"8\":{},\"4\":{}}}", p.counters->cycles,
                              p.counters->mac16, p.counters->mac8, p.counters->mac4);
        }
      }
      line += fmt::format(",\"seconds\":{:.4f}", r.seconds);
      if (!r.error.empty()) line += ",\"error\":" + json::quote(r.error);
      if (compare_) line += ",\"compare\":" + json::quote(r.compare);
      line += "}";
    } else {
      line = csv_field(r.file) + "," + label;
      if (r.pred) {
        const auto& p = *r.pred;
        for (int i = 0; i < 5; ++i) {
          line += "," + (i < static_cast<int>(p.top.index.size()) ? std::to_string(out_class(p.top.index[i])) : "");
        }
        for (int i = 0; i < 5; ++i) {
          line += "," + (i < static_cast<int>(p.top.prob.size()) ? fmt::format("{:.6g}", p.top.prob[i]) : "");
        }
        line += fmt::format(",{:.6g}", p.margin);
        line += r.label ? fmt::format(",{},{}", int{correct(p, *r.label, 1)}, int{correct(p, *r.label, 5)}) : ",,";
        line += "," + csv_field(p.top.index.empty() ? "" : name(out_class(p.top.index[0])));
        if (p.counters) {
          line +=
              fmt::format(",{},{},{},{}", p.counters->cycles, p.counters->mac16, p.counters->mac8, p.counters->mac4);
        } else {
          line += ",,,,";
        }
      } else {
        line += ",,,,,,,,,,,,,,,,,,";
      }
      line += fmt::format(",{:.4f},{}", r.seconds, csv_field(r.error));
      if (compare_) line += "," + csv_field(r.compare);
    }
    out() << line << '\n';
    out().flush();
  }

  static bool correct(const Prediction& p, int label, int k) {
    for (int i = 0; i < k && i < static_cast<int>(p.top.index.size()); ++i) {
      if (p.top.index[i] == model_index(label)) return true;
    }
    return false;
  }

 private:
  std::string name(int c) const {
    if (c < 0) return "background";
    return syn_ ? syn_->name(c) : "";
  }
  bool json_ = false;
  bool compare_;
  const std::optional<Synsets>& syn_;
  std::ofstream file_;
};

int run_eval(const EvalOptions& o) {
  const auto warn = [](const std::string& w) { fmt::print(stderr, "{}\n", w); };
  const DataPaths d = default_data_paths();
  const std::string model_path = o.model.empty() ? d.model : o.model;
  const std::string image_dir = o.images.empty() ? d.images : o.images;
  if (model_path.empty()) throw std::invalid_argument("no --model given and no default model found");
  if (image_dir.empty()) throw std::invalid_argument("no --images given and no default image directory found");
  const Model model = load_tflite(model_path);
  const Network net(model);
  std::optional<Synsets> syn;
  const std::string syn_path = o.synsets.empty() ? d.synsets : o.synsets;
  if (!syn_path.empty()) syn.emplace(syn_path);

  const bool on_array = o.backend != "float" || o.compare_backends;
  const std::vector<std::string> all = list_images(image_dir);
  const bool split = o.split == "even-odd" || (o.split == "auto" && on_array && o.calib.empty());
  const Split halves = split ? split_even_odd(all) : Split{{}, all};
  std::vector<std::string> files = halves.evaluation;

  std::unique_ptr<Calibration> calib;
  if (on_array) {
    const auto t0 = std::chrono::steady_clock::now();
    calib = std::make_unique<Calibration>(
        obtain_calibration(net, o.calib, halves.calibration, o.calib_limit, o.jobs, warn));
    if (!o.save_calib.empty()) calib->save(o.save_calib, net);
    // Never evaluate an image the calibration saw (e.g. a --calib JSON made from this directory).
    const std::set<std::string> seen(calib->images.begin(), calib->images.end());
    const auto before = files.size();
    std::erase_if(files, [&](const std::string& f) { return seen.contains(f); });
    if (files.size() != before)
      fmt::print(stderr, "excluded {} calibration images from the evaluation\n", before - files.size());
    fmt::print(stderr, "calibration: {} images ({:.1f} s){}\n", calib->images.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
               split && o.calib.empty() ? ", the even positions of the directory; evaluating the odd ones" : "");
  }
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < files.size()) files.resize(static_cast<std::size_t>(o.limit));
  std::string backend = o.backend;
  std::string other;
  if (o.compare_backends) {
    if (backend == "float") backend = "golden";
    other = backend == "golden" ? "rtl" : "golden";
  }
  const auto factory = [](const std::string& b) { return [b]() { return driver::make_accelerator(b); }; };
  const WeightFl wfl = weight_fl_from_string(o.weight_fl);
  const Engine engine(net, backend, o.bits, calib.get(), factory(backend), wfl);
  std::unique_ptr<Engine> engine2;
  if (!other.empty()) engine2 = std::make_unique<Engine>(net, other, o.bits, calib.get(), factory(other), wfl);

  RowWriter writer(o.out, o.compare_backends, syn);
  const int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(std::max<std::size_t>(files.size(), 1))));
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  std::size_t done = 0, errors = 0, labelled = 0, top1 = 0, top5 = 0, compared = 0, matched = 0;
  std::uint64_t cycles = 0;
  std::exception_ptr fatal;
  Progress progress(o.progress);
  const auto t_start = std::chrono::steady_clock::now();

  const auto worker = [&]() {
    try {
      auto s1 = engine.session();
      std::unique_ptr<Engine::Session> s2 = engine2 ? engine2->session() : nullptr;
      for (std::size_t i = next++; i < files.size(); i = next++) {
        Row r;
        r.file = files[i];
        if (syn) r.label = label_from_filename(r.file, *syn);
        const auto t0 = std::chrono::steady_clock::now();
        try {
          const Image img = load_for_model(r.file, net.input_h(), net.input_w());
          r.pred = s1->run(img.rgb, s2 != nullptr);
          if (s2) {
            const Prediction p2 = s2->run(img.rgb, true);
            r.compare = compare_runs(*r.pred, p2, *engine.quantized());
            r.pred->mac_outputs.clear();
          }
        } catch (const ImageError& e) {
          r.error = e.what();
        }
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::lock_guard lock(mu);
        writer.write(r);
        ++done;
        if (!r.pred) {
          ++errors;
        } else {
          if (r.label) {
            ++labelled;
            top1 += RowWriter::correct(*r.pred, *r.label, 1);
            top5 += RowWriter::correct(*r.pred, *r.label, 5);
          }
          if (r.pred->counters) cycles += r.pred->counters->cycles;
          if (s2) {
            ++compared;
            matched += r.compare.starts_with("match");
          }
        }
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        progress.update(fmt::format("{}/{} images, top-1 {:.1f}%, {:.1f} images/s", done, files.size(),
                                    labelled ? 100.0 * top1 / labelled : 0.0, done / std::max(el, 1e-9)));
      }
    } catch (...) {
      std::lock_guard lock(mu);
      fatal = std::current_exception();
      next = files.size();
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  progress.finish();
  if (fatal) std::rethrow_exception(fatal);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

  std::FILE* sum = o.out.empty() ? stderr : stdout;
  fmt::print(sum, "model {} ({} MACs/image), back-end {}{}, {} images from {}\n", model_path, net.macs(), backend,
             engine.on_array() ? fmt::format(" {}-bit (weight FL per {})", o.bits, o.weight_fl) : "", files.size(),
             image_dir);
  fmt::print(sum, "top-1 {:.2f}% ({}/{}), top-5 {:.2f}% ({}/{}) over labelled images; {} errors\n",
             labelled ? 100.0 * top1 / labelled : 0.0, top1, labelled, labelled ? 100.0 * top5 / labelled : 0.0, top5,
             labelled, errors);
  fmt::print(sum, "{:.2f} images/s ({:.1f} s, {} jobs)", (done - errors) / std::max(secs, 1e-9), secs, jobs);
  if (engine.on_array() && done > errors)
    fmt::print(sum, ", {:.0f} array cycles/image", double(cycles) / (done - errors));
  fmt::print(sum, "\n");
  if (o.compare_backends) {
    fmt::print(sum, "{} vs {}: every MAC layer output and counter matched on {} of {} images\n", backend, other,
               matched, compared);
    if (matched != compared) return 1;
  }
  return 0;
}

const RegisterCommand kEval([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a directory of images: one row per image (file, label, top-5, probabilities, score margin,\n"
      "cycles, MACs per mode) as CSV or JSON lines (--out *.jsonl), written as each image finishes, then\n"
      "top-1/top-5 and images/s. Images that fail to decode get an error row. On the array without --calib,\n"
      "the even positions of the sorted directory calibrate and the odd ones are evaluated.");
  cmd->add_option("--model", o->model, "TFLite model (default: data/models/mobilenet_v1_0.25_128_quant.tflite)");
  cmd->add_option("--images", o->images, "Image directory (default: data/images)");
  cmd->add_option("--bits", o->bits, "Bit-width on the array")->check(CLI::IsMember({4, 8, 16}))->capture_default_str();
  add_weight_fl_option(cmd, o->weight_fl);
  cmd->add_option("--backend", o->backend,
                  "float (baseline), golden (fast functional golden model), golden-device (register-level golden "
                  "model) or rtl (verilated)")
      ->check(CLI::IsMember({"float", "golden", "golden-device", "rtl"}))
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "Evaluate at most N images (0 = all)")->capture_default_str();
  cmd->add_option("--jobs", o->jobs, "Threads, each with its own device")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--calib", o->calib, "Calibration: a JSON file (from --save-calib) or an image directory");
  cmd->add_option("--calib-limit", o->calib_limit, "Calibration images (spread over the set; 0 = all)")
      ->capture_default_str();
  cmd->add_option("--save-calib", o->save_calib, "Write the calibration to this JSON file");
  cmd->add_option("--split", o->split,
                  "auto: even/odd split when calibrating from the evaluated directory; even-odd: always\n"
                  "(same evaluation half for float); none: evaluate every image")
      ->check(CLI::IsMember({"auto", "even-odd", "none"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Results file: .csv or .jsonl (default: CSV on stdout, summary on stderr)");
  cmd->add_option("--synsets", o->synsets, "imagenet-synsets.tsv (labels from file names, class names)");
  cmd->add_flag("--compare-backends", o->compare_backends,
                "Run every image on both golden and rtl and compare every MAC layer's output word for word\n"
                "and the counters (exit status 1 on any difference)");
  cmd->add_flag("!--no-progress", o->progress, "No progress line on the terminal");
  return [o]() { return run_eval(*o); };
});

}  // namespace
}  // namespace bitscale::cli
