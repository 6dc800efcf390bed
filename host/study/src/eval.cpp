#include "bitscale/study/eval.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <utility>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/study/confirm.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/util/csv.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"
#include "bitscale/util/parallel.hpp"

namespace bitscale::study {

using util::csv_field;
using util::json_string;

namespace {

/// Class of a model output (-1 = background).
int out_class(int output_index) { return data::class_from_model_index(output_index).value_or(-1); }

/// The energy of an array row (shortest round-trip text of the double).
double row_energy_pj(const Prediction& p, const EnergyTable& t) {
  return energy_breakdown(*p.counters, p.offchip_bytes.value_or(0), t).total();
}

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

EvalWriter::EvalWriter(std::ostream& out, EvalFormat format, bool compare, std::function<std::string(int)> class_name,
                       std::optional<EnergyTable> energy, bool offchip_column)
    : out_(out),
      format_(format),
      compare_(compare),
      class_name_(std::move(class_name)),
      energy_(std::move(energy)),
      offchip_(offchip_column && energy_) {
  if (format_ == EvalFormat::kCsv) {
    out_ << "file,label,top1,top2,top3,top4,top5,p1,p2,p3,p4,p5,margin,top1_correct,top5_correct,top1_name,"
            "cycles,mac16,mac8,mac4,"
         << (energy_ ? "blk,energy_pj," : "") << (offchip_ ? "offchip_bytes," : "") << "error"
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
        if (energy_) line += fmt::format(",\"blk\":{},\"energy_pj\":{}", p.counters->blk, row_energy_pj(p, *energy_));
        if (offchip_) line += fmt::format(",\"offchip_bytes\":{}", p.offchip_bytes.value_or(0));
      }
    }
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
      if (energy_) line += fmt::format(",{},{}", p.counters->blk, row_energy_pj(p, *energy_));
      if (offchip_) line += fmt::format(",{}", p.offchip_bytes.value_or(0));
    } else {
      line += ",,,,";
      if (energy_) line += ",,";
      if (offchip_) line += ",";
    }
  } else {
    line += ",,,,,,,,,,,,,,,,,,";
    if (energy_) line += ",,";
    if (offchip_) line += ",";
  }
  line += "," + csv_field(r.error);
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

void add_to_totals(EvalTotals& t, const EvalRow& r, bool compared) { count(t, r, compared); }

std::string eval_record_line(const EvalRow& r) {
  std::string o = fmt::format("{{\"file\":{},\"label\":{}", json_string(r.file),
                              r.label ? std::to_string(*r.label) : std::string("null"));
  if (r.pred) {
    const Prediction& p = *r.pred;
    o += fmt::format(",\"top5\":[{}],\"p\":[{}],\"margin\":{}", fmt::join(p.top.index, ","), fmt::join(p.top.prob, ","),
                     p.margin);
    if (p.counters) {
      const auto& c = *p.counters;
      o += fmt::format(
          ",\"counters\":{{\"cycles\":{},\"busy\":{},\"array\":{},\"mac16\":{},\"mac8\":{},\"mac4\":{},"
          "\"spad_rd\":{},\"spad_wr\":{},\"tiles\":{},\"blk\":{},\"zskip\":{},\"blk16\":{},\"blk8\":{},\"blk4\":{}}}",
          c.cycles, c.busy, c.array, c.mac16, c.mac8, c.mac4, c.spad_rd, c.spad_wr, c.tiles, c.blk, c.zskip, c.blk16,
          c.blk8, c.blk4);
    }
    if (p.offchip_bytes) o += fmt::format(",\"offchip_bytes\":{}", *p.offchip_bytes);
  }
  if (!r.error.empty()) o += ",\"error\":" + json_string(r.error);
  if (!r.compare.empty()) o += ",\"compare\":" + json_string(r.compare);
  return o + fmt::format(",\"seconds\":{:.4f}}}", r.seconds);
}

EvalRow parse_eval_record(std::string_view line, const std::string& source, std::size_t line_no) {
  const std::string where = fmt::format("{}:{}: ", source, line_no);
  const auto fail = [&where](const std::string& what) -> void {
    throw StudyError(where + "not an eval record: " + what);
  };
  util::Json j;
  try {
    j = util::parse_json(std::string(line), source);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (!j.is_object()) fail("not a JSON object");
  EvalRow r;
  try {
    if (!j.contains("file") || !j["file"].is_string()) fail("no \"file\"");
    r.file = j["file"].get<std::string>();
    if (!j.contains("label")) fail("no \"label\"");
    if (!j["label"].is_null()) r.label = j["label"].get<int>();
    if (j.contains("top5")) {
      Prediction p;
      p.top.index = j.at("top5").get<std::vector<int>>();
      for (const double v : j.at("p").get<std::vector<double>>()) p.top.prob.push_back(static_cast<float>(v));
      if (p.top.index.size() != p.top.prob.size()) fail("\"top5\" and \"p\" differ in length");
      p.margin = static_cast<float>(j.at("margin").get<double>());
      if (const auto c = j.find("counters"); c != j.end()) {
        driver::Counters k;
        k.cycles = c->at("cycles").get<std::uint64_t>();
        k.busy = c->at("busy").get<std::uint64_t>();
        k.array = c->at("array").get<std::uint64_t>();
        k.mac16 = c->at("mac16").get<std::uint64_t>();
        k.mac8 = c->at("mac8").get<std::uint64_t>();
        k.mac4 = c->at("mac4").get<std::uint64_t>();
        k.spad_rd = c->at("spad_rd").get<std::uint64_t>();
        k.spad_wr = c->at("spad_wr").get<std::uint64_t>();
        k.tiles = c->at("tiles").get<std::uint64_t>();
        k.blk = c->at("blk").get<std::uint64_t>();
        k.zskip = c->contains("zskip") ? c->at("zskip").get<std::uint64_t>() : 0;  // absent in older records
        for (const auto& [key, field] :
             {std::pair{"blk16", &driver::Counters::blk16}, std::pair{"blk8", &driver::Counters::blk8},
              std::pair{"blk4", &driver::Counters::blk4}}) {
          k.*field = c->contains(key) ? c->at(key).get<std::uint64_t>() : 0;  // absent in older records
        }
        p.counters = k;
      }
      // The run's off-chip bytes (absent in records made before they were recorded).
      if (const auto b = j.find("offchip_bytes"); b != j.end()) p.offchip_bytes = b->get<std::uint64_t>();
      r.pred = std::move(p);
    }
    if (j.contains("error")) r.error = j["error"].get<std::string>();
    if (j.contains("compare")) r.compare = j["compare"].get<std::string>();
    r.seconds = j.at("seconds").get<double>();
  } catch (const util::Json::exception& e) {
    fail(e.what());
  }
  if (!r.pred && r.error.empty()) fail("neither a prediction (\"top5\") nor an \"error\"");
  return r;
}

std::map<std::string, EvalRow> read_eval_records(const std::string& path, const std::string& header,
                                                 const std::function<void(const std::string&)>& warn) {
  std::map<std::string, EvalRow> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  check_resumable(path, header);  // the header, or a StudyError naming what differs
  const std::string text = util::read_file(path);
  const std::size_t last_nl = text.rfind('\n');
  const std::size_t complete = last_nl == std::string::npos ? 0 : last_nl + 1;
  if (complete != text.size()) {  // an interrupted write: cut the partial line off
    std::filesystem::resize_file(path, complete);
    if (warn) warn(fmt::format("{}: removed an incomplete last line ({} bytes)", path, text.size() - complete));
  }
  std::size_t no = 0;
  for (std::size_t pos = 0; pos < complete;) {
    const std::size_t nl = text.find('\n', pos);
    const std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (++no == 1 || line.empty()) continue;
    EvalRow r = parse_eval_record(line, path, no);
    const std::string file = r.file;
    if (!out.emplace(file, std::move(r)).second)
      throw StudyError(fmt::format("{}:{}: second record of {}", path, no, file));
  }
  return out;
}

}  // namespace bitscale::study
