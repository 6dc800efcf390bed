#include "bitscale/study/confirm.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <map>
#include <ranges>
#include <vector>

#include "bitscale/study/axbxp.hpp"

namespace bitscale::study {

std::string one_line_report(const dv::Scoreboard& sb) {
  std::string s;
  for (const dv::Comparison& c : sb.comparisons()) {
    if (c.ok()) continue;
    s += fmt::format("{}{} ({} vs {}): {}", s.empty() ? "" : "; ", c.what, c.actual_name, c.expected_name, c.summary());
  }
  return s;
}

dv::Scoreboard compare_array_runs(const ImageRecord& golden, const ImageRecord& rtl) {
  dv::Scoreboard sb;
  const dv::Sides sides{"golden", "rtl"};
  const auto flag = [](bool b) -> std::uint64_t { return b ? 1 : 0; };
  const auto value = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  sb.compare(golden.file, "same file", 1, flag(golden.file == rtl.file), sides);
  sb.compare(golden.file, "label", value(golden.label.value_or(-1)), value(rtl.label.value_or(-1)), sides);
  sb.compare(golden.file, "labelled", flag(golden.label.has_value()), flag(rtl.label.has_value()), sides);
  sb.compare(golden.file, "same error", 1, flag(golden.error == rtl.error), sides);
  sb.compare(golden.file, "levels", golden.levels.size(), rtl.levels.size(), sides);
  for (const auto& [bits, g] : golden.levels) {
    const std::string what = fmt::format("{} at {} bits", golden.file, level_name(bits));
    const auto it = rtl.levels.find(bits);
    if (it == rtl.levels.end()) {
      sb.compare(what, "recorded", 1, 0, sides);
      continue;
    }
    const RunRecord& r = it->second;
    sb.compare(what, "top1", value(g.top1), value(r.top1), sides);
    sb.compare(what, "correct1", flag(g.correct1), flag(r.correct1), sides);
    sb.compare(what, "correct5", flag(g.correct5), flag(r.correct5), sides);
    sb.compare(what, "margin bits", std::bit_cast<std::uint64_t>(g.margin), std::bit_cast<std::uint64_t>(r.margin),
               sides);
    sb.compare(what, "max_prob bits", std::bit_cast<std::uint64_t>(g.max_prob),
               std::bit_cast<std::uint64_t>(r.max_prob), sides);
    sb.compare(what, "entropy bits", std::bit_cast<std::uint64_t>(g.entropy), std::bit_cast<std::uint64_t>(r.entropy),
               sides);
    sb.compare(what, "counters recorded", flag(g.counters.has_value()), flag(r.counters.has_value()), sides);
    if (g.counters && r.counters) sb.compare(what, *g.counters, *r.counters, sides);
  }
  return sb;
}

std::string confirm_records_header(const ConfirmSetup& setup, int level) {
  std::string h = records_header("rtl-confirm", setup.model_name, to_string(setup.run.backend), {level},
                                 setup.calibration_id, setup.weight_fl_name, setup.run.quantization, setup.run.offchip);
  const std::vector<int> levels{level};
  const std::string extra = rung_header_fields(levels, setup.approx_compensation, setup.approx_config_hash);
  if (extra.empty()) return h;
  h.pop_back();
  return h + extra + "}";
}

namespace {

/// Every bit-width of setup.run.bits on the RTL, merged into one record per image (of setup.shard
/// of the files); what each bit-width's shard holds into `done`.
std::vector<ImageRecord> record_on_rtl(const ConfirmSetup& setup, std::vector<ShardDone>* done = nullptr) {
  RecordOptions ro = setup.record;
  ro.stop_after = 0;
  std::vector<ImageRecord> merged;
  for (int b : setup.run.bits) {
    RunSetup one = setup.run;
    one.run_float = false;
    one.bits = {b};
    const Runner rtl(one, setup.label_of);
    ro.progress = [&](std::size_t n, std::size_t total) {
      if (setup.progress) setup.progress(b, n, total);
    };
    const ShardRecording where{.path = setup.out_dir + fmt::format("/rtl_confirm_{}.jsonl", level_name(b)),
                               .header = confirm_records_header(setup, b),
                               .files = setup.files,
                               .shard = setup.shard,
                               .model_hash = setup.model_hash};
    const auto rb = record_shard(where, rtl.workers(), ro);
    if (done) done->push_back(shard_done(where, rb));
    if (setup.done) setup.done(b);
    if (merged.empty()) {
      merged = rb.records;
    } else {
      for (std::size_t i = 0; i < merged.size(); ++i) merged[i].levels[b] = rb.records.at(i).levels.at(b);
    }
  }
  return merged;
}

}  // namespace

Confirmation confirm_on_rtl(const ConfirmSetup& setup, const std::vector<ImageRecord>& golden, const SweepInput& in,
                            std::optional<double> chosen) {
  const std::vector<ImageRecord> rtl = record_on_rtl(setup);
  std::map<std::string, const ImageRecord*> by_file;
  for (const auto& g : golden) by_file[g.file] = &g;
  Confirmation c;
  c.images = setup.files.size();
  std::vector<ImageRecord> gsub, rsub;
  for (const auto& x : rtl) {
    const ImageRecord& g = *by_file.at(x.file);
    const dv::Scoreboard sb = compare_array_runs(g, x);
    c.same += sb.ok();
    if (!sb.ok() && setup.record.warn)
      setup.record.warn(
          fmt::format("rtl confirmation: {} differs from the golden record: {}", x.file, one_line_report(sb)));
    ImageRecord y = x;
    y.fp = g.fp;
    gsub.push_back(g);
    rsub.push_back(std::move(y));
  }
  SweepInput gi = in, ri = in;
  gi.records = sweep_records(gsub, in.levels);
  ri.records = sweep_records(rsub, in.levels);
  c.markdown = fmt::format(
      "### RTL confirmation\n\nThe first {} evaluation images re-run on the verilated RTL back-end at {} bits: "
      "**{} of {}** have identical top-1, correctness, score margin and hardware counters at every bit-width.\n\n"
      "| T_h | golden: top-1 correct, energy (pJ) | RTL: top-1 correct, energy (pJ) | same decisions "
      "|\n|---|---|---|---|\n",
      c.images, fmt::join(setup.run.bits | std::views::transform(level_name), "/"), c.same, c.images);
  std::vector<double> ts{0.0, 0.5, 1.0};
  if (chosen) ts.insert(ts.begin() + 1, *chosen);
  c.all_same = c.same == c.images;
  for (double t : ts) {
    const auto pg = evaluate(gi, t);
    const auto pr = evaluate(ri, t);
    const bool eq = pg.correct == pr.correct && pg.energy_pj == pr.energy_pj && pg.accepted == pr.accepted;
    c.all_same = c.all_same && eq;
    c.markdown += fmt::format("| {:.4f} | {}, {:.6g} | {}, {:.6g} | {} |\n", t, pg.correct, pg.energy_pj, pr.correct,
                              pr.energy_pj, eq ? "yes" : "NO");
  }
  c.markdown += "\n";
  return c;
}

std::vector<ShardDone> record_confirmation_shard(const ConfirmSetup& setup) {
  std::vector<ShardDone> done;
  (void)record_on_rtl(setup, &done);
  return done;
}

}  // namespace bitscale::study
