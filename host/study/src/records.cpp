// Per-image records of the dynamic bit-width study: JSON lines, resumable recording, and the
// runner that fills them on the float baseline and the array back-ends.
#include "bitscale/study/records.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <system_error>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/study/runner.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"
#include "bitscale/util/parallel.hpp"

namespace bitscale::study {

using data::class_from_model_index;
using data::Image;
using data::ImageError;
using data::load_for_model;
using data::model_index;
using util::Json;
using util::json_string;
namespace {

/// Field access with errors naming the field.
struct Fields {
  const Json& obj;
  std::string where;
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(where + what); }
  const Json& need(std::string_view k) const {
    const auto it = obj.find(k);
    if (it == obj.end()) fail(fmt::format("missing \"{}\"", k));
    return *it;
  }
  bool boolean(std::string_view k) const {
    const Json& v = need(k);
    if (!v.is_boolean()) fail(fmt::format("\"{}\" has the wrong type", k));
    return v.get<bool>();
  }
  long long integer(std::string_view k) const {
    const Json& v = need(k);
    if (!v.is_number()) fail(fmt::format("\"{}\" has the wrong type", k));
    if (!v.is_number_integer()) fail(fmt::format("\"{}\" is not an integer", k));
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(LLONG_MAX))
      fail(fmt::format("\"{}\" is not an integer", k));
    return v.get<long long>();
  }
  std::uint64_t u64(std::string_view k) const {
    const Json& v = need(k);
    if (!v.is_number()) fail(fmt::format("\"{}\" has the wrong type", k));
    if (v.is_number_integer() && !v.is_number_unsigned()) fail(fmt::format("\"{}\" is negative", k));
    if (!v.is_number_unsigned()) fail(fmt::format("\"{}\" is not a counter", k));
    return v.get<std::uint64_t>();
  }
  /// Margins are float values written with their shortest text: read back as that float.
  double real(std::string_view k) const {
    const Json& v = need(k);
    if (!v.is_number()) fail(fmt::format("\"{}\" has the wrong type", k));
    return static_cast<double>(static_cast<float>(v.get<double>()));
  }
};

std::string run_json(const RunRecord& r) {
  std::string o = fmt::format(
      "{{\"top1\":{},\"correct1\":{},\"correct5\":{},\"margin\":{},\"max_prob\":{},\"entropy\":{}", r.top1, r.correct1,
      r.correct5, static_cast<float>(r.margin), static_cast<float>(r.max_prob), static_cast<float>(r.entropy));
  if (r.counters) {
    const auto& c = *r.counters;
    o += fmt::format(
        ",\"counters\":{{\"cycles\":{},\"busy\":{},\"array\":{},\"mac16\":{},\"mac8\":{},\"mac4\":{},"
        "\"spad_rd\":{},\"spad_wr\":{},\"tiles\":{},\"blk\":{},\"zskip\":{}}}",
        c.cycles, c.busy, c.array, c.mac16, c.mac8, c.mac4, c.spad_rd, c.spad_wr, c.tiles, c.blk, c.zskip);
    if (c.xfer != 0 || c.overlap != 0) {  // scratchpad beats (CNT_XFER, CNT_OVERLAP, issue 9), when counted
      o.pop_back();
      o += fmt::format(",\"xfer\":{},\"overlap\":{}}}", c.xfer, c.overlap);
    }
    // The group-width histogram (CNT_GW1 .. CNT_GW16, docs/NUMERICS.md), only when the run counted groups.
    const std::array<std::uint64_t, 16> gw{c.gw1, c.gw2,  c.gw3,  c.gw4,  c.gw5,  c.gw6,  c.gw7,  c.gw8,
                                           c.gw9, c.gw10, c.gw11, c.gw12, c.gw13, c.gw14, c.gw15, c.gw16};
    if (std::any_of(gw.begin(), gw.end(), [](std::uint64_t v) { return v != 0; })) {
      o.pop_back();
      o += fmt::format(",\"gw\":[{}]}}", fmt::join(gw, ","));
    }
  }
  if (r.offchip_bytes) o += fmt::format(",\"offchip_bytes\":{}", *r.offchip_bytes);
  return o + "}";
}

RunRecord parse_run(const Json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + "not an object");
  const Fields f{j, where};
  RunRecord r;
  r.top1 = static_cast<int>(f.integer("top1"));
  r.correct1 = f.boolean("correct1");
  r.correct5 = f.boolean("correct5");
  r.margin = f.real("margin");
  r.max_prob = f.real("max_prob");
  r.entropy = f.real("entropy");
  if (const auto c = j.find("counters"); c != j.end()) {
    if (!c->is_object()) throw std::runtime_error(where + "\"counters\" is not an object");
    const Fields g{*c, where + "counters: "};
    driver::Counters k;
    k.cycles = g.u64("cycles");
    k.busy = g.u64("busy");
    k.array = g.u64("array");
    k.mac16 = g.u64("mac16");
    k.mac8 = g.u64("mac8");
    k.mac4 = g.u64("mac4");
    k.spad_rd = g.u64("spad_rd");
    k.spad_wr = g.u64("spad_wr");
    k.tiles = g.u64("tiles");
    k.blk = c->contains("blk") ? g.u64("blk") : 0;  // block products (CNT_BLK); absent in older records
    k.zskip =
        c->contains("zskip") ? g.u64("zskip") : 0;     // zero-block gating skips (CNT_ZSKIP); absent in older records
    k.xfer = c->contains("xfer") ? g.u64("xfer") : 0;  // absent in older records
    k.overlap = c->contains("overlap") ? g.u64("overlap") : 0;  // absent in older records
    if (const auto gw = c->find("gw"); gw != c->end()) {        // CNT_GW1 .. CNT_GW16; absent in older records
      if (!gw->is_array() || gw->size() != 16) throw std::runtime_error(where + "counters: \"gw\" is not 16 counts");
      std::uint64_t* const f[] = {&k.gw1, &k.gw2,  &k.gw3,  &k.gw4,  &k.gw5,  &k.gw6,  &k.gw7,  &k.gw8,
                                  &k.gw9, &k.gw10, &k.gw11, &k.gw12, &k.gw13, &k.gw14, &k.gw15, &k.gw16};
      for (std::size_t i = 0; i < 16; ++i) {
        if (!(*gw)[i].is_number_unsigned()) throw std::runtime_error(where + "counters: \"gw\" holds a non-count");
        *f[i] = (*gw)[i].get<std::uint64_t>();
      }
    }
    r.counters = k;
  }
  if (j.contains("offchip_bytes")) r.offchip_bytes = f.u64("offchip_bytes");
  return r;
}

struct FileScan {
  std::string header;
  std::vector<std::pair<std::size_t, std::string>> lines;  ///< (line number, text), after the header
  std::size_t complete_bytes = 0;                          ///< up to the last '\n'
  std::size_t size = 0;
};

FileScan scan(const std::string& path) {
  std::string t;
  try {
    t = util::read_file(path);
  } catch (const std::runtime_error&) {
    throw StudyError(fmt::format("{}: cannot read the results file", path));
  }
  FileScan s;
  s.size = t.size();
  const std::size_t last_nl = t.rfind('\n');
  s.complete_bytes = last_nl == std::string::npos ? 0 : last_nl + 1;
  std::size_t pos = 0, no = 0;
  while (pos < s.complete_bytes) {
    const std::size_t nl = t.find('\n', pos);
    std::string line = t.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++no;
    if (no == 1) {
      s.header = line;
    } else if (!line.empty()) {
      s.lines.emplace_back(no, std::move(line));
    }
    pos = nl + 1;
  }
  return s;
}

/// A resume refused: what differs, and what to do.
StudyError refused(const std::string& path, const std::string& what) {
  return StudyError(
      fmt::format("{}: {}; resume with the same options and inputs, or use another output directory "
                  "(or remove the file)",
                  path, what));
}

/// The records already in `path` (resume): the header must equal `header` (checked before
/// anything is changed), every complete line must parse, then a partial last line is cut off.
/// Returns false when the file holds nothing yet (a fresh start).
bool load_existing(const std::string& path, const std::string& header, const RecordOptions& opts,
                   std::map<std::string, ImageRecord>& done, RecordResult& res) {
  if (!std::filesystem::exists(path)) return false;
  const FileScan s = scan(path);
  if (s.complete_bytes > 0) {
    if (const std::string diff = header_difference(s.header, header); !diff.empty()) throw refused(path, diff);
  }
  for (const auto& [no, text] : s.lines) {
    ImageRecord r = parse_record(text, path, no);
    const std::string name = r.file;
    if (!done.emplace(name, std::move(r)).second) {
      throw StudyError(fmt::format("{}:{}: second record of {}", path, no, name));
    }
  }
  if (s.complete_bytes != s.size) {
    // An interrupted write: cut the partial line off.
    std::filesystem::resize_file(path, s.complete_bytes);
    res.truncated_bytes = s.size - s.complete_bytes;
    if (opts.warn) opts.warn(fmt::format("{}: removed an incomplete last line ({} bytes)", path, res.truncated_bytes));
  }
  return s.complete_bytes > 0;
}

}  // namespace

std::string header_difference(const std::string& recorded, const std::string& expected,
                              std::span<const std::string> ignore) {
  if (recorded == expected) return "";
  Json r, e;
  try {
    r = util::parse_json(recorded);
    e = util::parse_json(expected);
  } catch (const std::exception&) {
  }
  if (!r.is_object() || !e.is_object())
    return fmt::format("recorded with header {}, this run expects {}", recorded, expected);
  const auto ignored = [&ignore](const std::string& k) {
    return std::find(ignore.begin(), ignore.end(), k) != ignore.end();
  };
  std::vector<std::string> diffs;
  for (const auto& [k, v] : e.items()) {
    if (ignored(k)) continue;
    const auto it = r.find(k);
    if (it == r.end()) {
      diffs.push_back(fmt::format("recorded without {}, this run uses {}", k, v.dump()));
    } else if (*it != v) {
      diffs.push_back(fmt::format("recorded with {} {}, this run uses {}", k, it->dump(), v.dump()));
    }
  }
  for (const auto& [k, v] : r.items()) {
    if (!ignored(k) && !e.contains(k))
      diffs.push_back(fmt::format("recorded with {} {}, this run has none", k, v.dump()));
  }
  return fmt::format("{}", fmt::join(diffs, "; "));
}

void check_resumable(const std::string& path, const std::string& header, std::span<const std::string> ignore) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  const FileScan s = scan(path);
  if (s.complete_bytes == 0) return;
  if (const std::string diff = header_difference(s.header, header, ignore); !diff.empty()) throw refused(path, diff);
}

std::set<std::string> recorded_files(const std::string& path) {
  std::set<std::string> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  for (const auto& [no, text] : scan(path).lines) out.insert(parse_record(text, path, no).file);
  return out;
}

std::string to_json_line(const ImageRecord& r) {
  std::string o =
      fmt::format("{{\"file\":{},\"label\":{}", json_string(r.file), r.label ? std::to_string(*r.label) : "null");
  if (!r.error.empty()) o += ",\"error\":" + json_string(r.error);
  if (r.fp) o += ",\"float\":" + run_json(*r.fp);
  o += ",\"levels\":{";
  bool first = true;
  for (const auto& [bits, run] : r.levels) {
    o += fmt::format("{}\"{}\":{}", first ? "" : ",", level_name(bits), run_json(run));
    first = false;
  }
  o += "}";
  if (r.static16) o += ",\"static16\":" + run_json(*r.static16);
  return o + "}";
}

ImageRecord parse_record(std::string_view line, const std::string& source, std::size_t line_no) {
  const std::string where = fmt::format("{}:{}: ", source, line_no);
  try {
    const Json j = util::parse_json(line);
    if (!j.is_object()) throw std::runtime_error("a record must be a JSON object");
    const Fields f{j, ""};
    ImageRecord r;
    const Json& file = f.need("file");
    if (!file.is_string()) f.fail("\"file\" has the wrong type");
    r.file = file.get<std::string>();
    if (r.file.empty()) throw std::runtime_error("empty \"file\"");
    if (!f.need("label").is_null()) r.label = static_cast<int>(f.integer("label"));
    if (const auto e = j.find("error"); e != j.end()) {
      if (!e->is_string()) throw std::runtime_error("\"error\" is not a string");
      r.error = e->get<std::string>();
    }
    if (const auto fp = j.find("float"); fp != j.end()) r.fp = parse_run(*fp, "float: ");
    const Json& lv = f.need("levels");
    if (!lv.is_object()) f.fail("\"levels\" has the wrong type");
    for (const auto& [k, v] : lv.items()) {
      int level = 0;
      try {
        level = level_code(parse_rung(k));
      } catch (const std::invalid_argument&) {
        throw std::runtime_error(fmt::format("level \"{}\" is not one of {} nor an Ax-BxP rung (8c1, 8s, ...)", k,
                                             fmt::join(kPrecisions, ", ")));
      }
      r.levels[level] = parse_run(v, fmt::format("level {}: ", k));
    }
    if (const auto s16 = j.find("static16"); s16 != j.end()) r.static16 = parse_run(*s16, "static16: ");
    return r;
  } catch (const std::exception& e) {
    throw StudyError(where + e.what());
  }
}

RunRecord run_record(const Prediction& p, std::optional<int> label) {
  RunRecord r;
  r.top1 = p.top.index.empty() ? -1 : class_from_model_index(p.top.index[0]).value_or(-1);
  r.margin = static_cast<double>(p.margin);
  r.max_prob = static_cast<double>(p.max_prob);
  r.entropy = static_cast<double>(p.entropy);
  if (label) {
    for (std::size_t i = 0; i < p.top.index.size() && i < 5; ++i) {
      if (p.top.index[i] == model_index(*label)) {
        r.correct5 = true;
        if (i == 0) r.correct1 = true;
      }
    }
  }
  r.counters = p.counters;
  r.offchip_bytes = p.offchip_bytes;
  return r;
}

std::vector<ImageRecord> read_records(const std::string& path, std::string* header) {
  const FileScan s = scan(path);
  if (s.complete_bytes != s.size) {
    throw StudyError(
        fmt::format("{}:{}: incomplete last line (an interrupted run: resume it)", path, s.lines.size() + 2));
  }
  if (header) *header = s.header;
  std::vector<ImageRecord> out;
  for (const auto& [no, text] : s.lines) out.push_back(parse_record(text, path, no));
  return out;
}

RecordResult record_images(const std::string& path, const std::string& header, const std::vector<std::string>& files,
                           const WorkerFactory& make_worker, const RecordOptions& opts) {
  RecordResult res;
  std::map<std::string, ImageRecord> done;
  const bool fresh = !load_existing(path, header, opts, done, res);
  const std::set<std::string> wanted(files.begin(), files.end());
  for (const auto& [f, r] : done) {
    if (!wanted.contains(f) && opts.warn)
      opts.warn(fmt::format("{}: ignoring the record of {} (not in the image list)", path, f));
  }
  std::vector<std::string> todo;
  for (const auto& f : files) {
    if (!done.contains(f)) todo.push_back(f);
  }
  res.resumed = files.size() - todo.size();

  std::ofstream out(path, fresh ? (std::ios::binary | std::ios::trunc) : (std::ios::binary | std::ios::app));
  if (!out) throw StudyError(fmt::format("{}: cannot write the results file", path));
  if (fresh) {
    out << header << '\n';
    out.flush();
  }
  // One flushed line per image, in list order.
  std::size_t written = 0;
  res.computed = util::ordered_parallel(
      todo.size(), opts.jobs, make_worker,
      [&todo](const std::function<ImageRecord(const std::string&)>& work, std::size_t i) { return work(todo[i]); },
      [&](ImageRecord&& r) {
        out << to_json_line(r) << '\n';
        out.flush();
        if (!out) throw StudyError(fmt::format("{}: write error", path));
        const std::string file = r.file;
        done.emplace(file, std::move(r));
        ++written;
        if (opts.progress) opts.progress(res.resumed + written, files.size());
        return !(opts.stop_after && written >= opts.stop_after);
      });
  for (const auto& f : files) {
    auto it = done.find(f);
    if (it != done.end()) res.records.push_back(it->second);
  }
  std::sort(res.records.begin(), res.records.end(),
            [](const ImageRecord& a, const ImageRecord& b) { return a.file < b.file; });
  res.complete = res.records.size() == files.size();
  return res;
}

Runner::Runner(const RunSetup& setup, LabelOf label_of, std::optional<Escalation> escalation)
    : setup_(setup), label_of_(std::move(label_of)), escalation_(escalation) {
  if (!setup_.net) throw std::invalid_argument("study runner: no network");
  if (setup_.run_float) float_ = std::make_unique<Engine>(*setup_.net);
  for (int b : setup_.bits) {
    if (!setup_.calib) throw std::invalid_argument("study runner: array runs need a calibration");
    if (!level_exact(b) && !setup_.configure)
      throw std::invalid_argument(fmt::format("study runner: level {} needs its Ax-BxP configuration", level_name(b)));
    std::function<void(quant::QuantizedNetwork&, driver::Accelerator&)> configure;
    if (setup_.configure)
      configure = [this, b](quant::QuantizedNetwork& q, driver::Accelerator& acc) { setup_.configure(b, q, acc); };
    engines_[b] = std::make_unique<Engine>(*setup_.net,
                                           ArrayConfig{.backend = setup_.backend,
                                                       .bits = level_bits(b),
                                                       .calib = setup_.calib,
                                                       .weight_fl = setup_.weight_fl,
                                                       .quantization = setup_.quantization,
                                                       .configure = configure,
                                                       .offchip = setup_.offchip},
                                           setup_.factory);
  }
  if (setup_.static16) {
    if (!escalation_) throw std::invalid_argument("study runner: a static 16-bit reference needs an escalation");
    if (!setup_.calib) throw std::invalid_argument("study runner: array runs need a calibration");
    if (!engines_.contains(16))
      static16_ = std::make_unique<Engine>(*setup_.net,
                                           ArrayConfig{.backend = setup_.backend,
                                                       .bits = 16,
                                                       .calib = setup_.calib,
                                                       .weight_fl = setup_.weight_fl,
                                                       .quantization = setup_.quantization,
                                                       .configure = {},
                                                       .offchip = setup_.offchip},
                                           setup_.factory);
  }
  if (escalation_) controller_.emplace(setup_.bits, escalation_->threshold);
}

Runner::~Runner() = default;

RunRecord Runner::run_level(int bits, const std::string& file) const {
  const auto it = engines_.find(bits);
  if (it == engines_.end()) throw std::invalid_argument(fmt::format("study runner: no {}-bit engine", bits));
  const Image img = load_for_model(file, setup_.net->input_h(), setup_.net->input_w());
  return run_record(it->second->session()->run(img.rgb), std::nullopt);
}

WorkerFactory Runner::workers() const {
  return [this]() -> std::function<ImageRecord(const std::string&)> {
    auto fs = std::shared_ptr<Engine::Session>(float_ ? float_->session().release() : nullptr);
    using Sessions = std::map<int, std::unique_ptr<Engine::Session>>;
    auto sessions = std::make_shared<Sessions>();
    for (const auto& [b, e] : engines_) (*sessions)[b] = e->session();
    auto s16 = std::shared_ptr<Engine::Session>(static16_ ? static16_->session().release() : nullptr);
    return [this, fs, sessions, s16](const std::string& file) {
      ImageRecord r;
      r.file = file;
      if (label_of_) r.label = label_of_(file);
      try {
        const Image img = load_for_model(file, setup_.net->input_h(), setup_.net->input_w());
        if (fs) r.fp = run_record(fs->run(img.rgb), r.label);
        const auto run = [&](int b) -> RunRecord& {
          return r.levels[b] = run_record(sessions->at(b)->run(img.rgb), r.label);
        };
        if (controller_) {
          (void)controller_->decide([&](int b) { return confidence(run(b), escalation_->metric); });
          if (setup_.static16 && !r.levels.contains(16))
            r.static16 = run_record((s16 ? *s16 : *sessions->at(16)).run(img.rgb), r.label);
        } else {
          for (const auto& [b, s] : *sessions) run(b);
        }
      } catch (const ImageError& e) {
        r.error = e.what();
        r.fp.reset();
        r.levels.clear();
        r.static16.reset();
      }
      return r;
    };
  };
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string records_header(const std::string& kind, const std::string& model, const std::string& backend,
                           const std::vector<int>& bits, const std::string& calibration_id,
                           const std::string& weight_fl, const std::optional<quant::QuantOptions>& quantization,
                           quant::OffchipEncoding offchip) {
  std::string wfl = weight_fl.empty() ? "" : fmt::format(",\"weight_fl\":{}", json_string(weight_fl));
  if (quantization) {
    wfl +=
        fmt::format(",\"classifier\":{},\"rounding\":{}", json_string(std::string(to_string(quantization->classifier))),
                    json_string(std::string(to_string(quantization->rounding))));
    if (quantization->rounding == quant::Rounding::kStochastic)
      wfl += fmt::format(",\"rounding_seed\":{}", quantization->rounding_seed);
  }
  if (offchip != quant::OffchipEncoding::kUncompressed)
    wfl += fmt::format(",\"offchip\":{}", json_string(std::string(quant::to_string(offchip))));
  return fmt::format(
      "{{\"format\":\"bitscale-study-records-2\",\"kind\":{},\"model\":{},\"backend\":{},\"bits\":[{}],"
      "\"calibration\":{}{}}}",
      json_string(kind), json_string(model), json_string(backend), fmt::join(bits, ","), json_string(calibration_id),
      wfl);
}

}  // namespace bitscale::study
