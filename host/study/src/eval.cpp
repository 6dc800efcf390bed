#include "bitscale/study/eval.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/study/confirm.hpp"
#include "bitscale/util/csv.hpp"
#include "bitscale/util/json_text.hpp"
#include "bitscale/util/parallel.hpp"

namespace bitscale::study {

using util::csv_field;
using util::json_string;

namespace {

/// Class of a model output (-1 = background).
int out_class(int output_index) { return data::class_from_model_index(output_index).value_or(-1); }

}  // namespace

bool correct(const Prediction& p, int label, int k) {
  for (int i = 0; i < k && i < static_cast<int>(p.top.index.size()); ++i) {
    if (p.top.index[i] == data::model_index(label)) return true;
  }
  return false;
}

std::string compare_runs(const Prediction& a, const Prediction& b, const quant::QuantizedNetwork& q) {
  if (a.mac_outputs.size() != b.mac_outputs.size()) return "different numbers of MAC layers";
  dv::Scoreboard sb;
  for (std::size_t l = 0; l < a.mac_outputs.size(); ++l) {
    sb.compare(fmt::format("layer {} (op {})", l, q.layers()[l].op), a.mac_outputs[l], b.mac_outputs[l]);
  }
  if (a.counters && b.counters) sb.compare("counters", *a.counters, *b.counters);
  return sb.ok() ? fmt::format("match ({} layers)", a.mac_outputs.size()) : one_line_report(sb);
}

EvalFormat eval_format_for(const std::string& path) {
  return path.ends_with(".jsonl") || path.ends_with(".json") ? EvalFormat::kJsonLines : EvalFormat::kCsv;
}

EvalWriter::EvalWriter(std::ostream& out, EvalFormat format, bool compare, std::function<std::string(int)> class_name)
    : out_(out), format_(format), compare_(compare), class_name_(std::move(class_name)) {
  if (format_ == EvalFormat::kCsv) {
    out_ << "file,label,top1,top2,top3,top4,top5,p1,p2,p3,p4,p5,margin,top1_correct,top5_correct,top1_name,"
            "cycles,mac16,mac8,mac4,seconds,error"
         << (compare_ ? ",compare" : "") << '\n';
    out_.flush();
  }
}

void EvalWriter::write(const EvalRow& r) {
  out_ << line(r) << '\n';
  out_.flush();
}

std::string EvalWriter::line(const EvalRow& r) const {
  std::string line;
  const std::string label = r.label ? std::to_string(*r.label) : "";
  if (format_ == EvalFormat::kJsonLines) {
    line = fmt::format("{{\"file\":{},\"label\":{}", json_string(r.file), r.label ? label : "null");
    if (r.pred) {
      const auto& p = *r.pred;
      line += ",\"top5\":[";
      for (std::size_t i = 0; i < p.top.index.size(); ++i) {
        const int c = out_class(p.top.index[i]);
        line += fmt::format("{}{{\"class\":{},\"name\":{},\"p\":{:.6g}}}", i ? "," : "", c, json_string(class_name_(c)),
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
    if (!r.error.empty()) line += ",\"error\":" + json_string(r.error);
    if (compare_) line += ",\"compare\":" + json_string(r.compare);
    return line + "}";
  }
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
    line += "," + csv_field(p.top.index.empty() ? "" : class_name_(out_class(p.top.index[0])));
    if (p.counters) {
      line += fmt::format(",{},{},{},{}", p.counters->cycles, p.counters->mac16, p.counters->mac8, p.counters->mac4);
    } else {
      line += ",,,,";
    }
  } else {
    line += ",,,,,,,,,,,,,,,,,,";
  }
  line += fmt::format(",{:.4f},{}", r.seconds, csv_field(r.error));
  if (compare_) line += "," + csv_field(r.compare);
  return line;
}

namespace {

/// The sessions of one thread.
struct Sessions {
  std::unique_ptr<Engine::Session> first, second;
};

EvalRow evaluate_one(const EvalConfig& cfg, Sessions& s, const std::string& file) {
  EvalRow r;
  r.file = file;
  if (cfg.label_of) r.label = cfg.label_of(file);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    const data::Image img = data::load_for_model(file, cfg.net->input_h(), cfg.net->input_w());
    r.pred = s.first->run(img.rgb, s.second != nullptr);
    if (s.second) {
      const Prediction p2 = s.second->run(img.rgb, true);
      r.compare = compare_runs(*r.pred, p2, *cfg.engine->quantized());
      r.pred->mac_outputs.clear();
    }
  } catch (const data::ImageError& e) {
    r.error = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void count(EvalTotals& t, const EvalRow& r, bool compared) {
  ++t.done;
  if (!r.pred) {
    ++t.errors;
    return;
  }
  if (r.label) {
    ++t.labelled;
    t.top1 += correct(*r.pred, *r.label, 1);
    t.top5 += correct(*r.pred, *r.label, 5);
  }
  if (r.pred->counters) t.cycles += r.pred->counters->cycles;
  if (compared) {
    ++t.compared;
    t.matched += r.compare.starts_with("match");
  }
}

}  // namespace

EvalTotals evaluate_images(const EvalConfig& cfg,
                           const std::function<void(const EvalRow&, const EvalTotals&)>& on_row) {
  if (!cfg.net || !cfg.engine) throw std::invalid_argument("evaluate_images: no network or engine");
  EvalTotals totals;
  if (cfg.files.empty()) return totals;
  util::ordered_parallel(
      cfg.files.size(), cfg.jobs,
      [&cfg]() {
        return Sessions{cfg.engine->session(), cfg.compare_with ? cfg.compare_with->session() : nullptr};
      },
      [&cfg](Sessions& s, std::size_t i) { return evaluate_one(cfg, s, cfg.files[i]); },
      [&](EvalRow&& r) {
        count(totals, r, cfg.compare_with != nullptr);
        if (on_row) on_row(r, totals);
        return true;
      });
  return totals;
}

}  // namespace bitscale::study
