// The controller's energy with DPRed's per-group off-chip encoding (docs/ENERGY.md "Off-chip bytes
// encoded per group", docs/DPRED.md "Combination with the controller"): the per-group bytes of a
// network run against golden::dpred streams built independently here, the uncompressed default
// unchanged, and the off-chip choice in records headers, records and policies.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/group_code.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibration.hpp"
#include "bitscale/quant/quant.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/apply_job.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/eval.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/util/json_text.hpp"
#include "tflite_build.hpp"

namespace bitscale::study {
namespace {

namespace tflite = model::tflite;
using quant::OffchipEncoding;

// conv 3x3 (3 -> 20 channels, ReLU) -> depthwise 3x3 (20 channels, ReLU6) -> pointwise (20 -> 18)
// -> classifier head: 20 and 18 channels give two groups per pixel, the last one partial; the
// depthwise weights are grouped across filters.
constexpr int kSide = 7, kC1 = 20, kC2 = 18, kClasses = 10;

tflite::Model small_model(std::uint32_t seed) {
  std::mt19937 rng(seed);
  tflite::Model m;
  m.name = "dpred-small";
  const int in = test::add_image_input(m, kSide);
  const int w1 = test::add_tensor(m, {kC1, 3, 3, 3}, test::random_floats(kC1 * 27, rng, -0.5f, 0.5f));
  const int b1 = test::add_tensor(m, {kC1}, test::random_floats(kC1, rng, -0.2f, 0.2f));
  const int t1 = test::add_tensor(m, {1, kSide, kSide, kC1});
  m.ops.push_back(
      test::make_op(tflite::OpType::kConv2D, {in, w1, b1}, t1, tflite::Padding::kSame, tflite::Activation::kRelu));
  const int w2 = test::add_tensor(m, {1, 3, 3, kC1}, test::random_floats(9 * kC1, rng, -0.5f, 0.5f));
  const int b2 = test::add_tensor(m, {kC1}, test::random_floats(kC1, rng, -0.2f, 0.2f));
  const int t2 = test::add_tensor(m, {1, kSide, kSide, kC1});
  m.ops.push_back(test::make_op(tflite::OpType::kDepthwiseConv2D, {t1, w2, b2}, t2, tflite::Padding::kSame,
                                tflite::Activation::kRelu6));
  const int w3 = test::add_tensor(m, {kC2, 1, 1, kC1}, test::random_floats(kC2 * kC1, rng, -0.5f, 0.5f));
  const int b3 = test::add_tensor(m, {kC2}, test::random_floats(kC2, rng, -0.2f, 0.2f));
  const int t3 = test::add_tensor(m, {1, kSide, kSide, kC2});
  m.ops.push_back(
      test::make_op(tflite::OpType::kConv2D, {t2, w3, b3}, t3, tflite::Padding::kValid, tflite::Activation::kRelu));
  m.inputs = {in};
  m.outputs = {test::add_classifier_head(m, t3, kSide, kC2, kClasses, rng)};
  return m;
}

std::vector<std::uint8_t> random_image(std::mt19937& rng) {
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<std::uint8_t> v(static_cast<std::size_t>(kSide * kSide * 3));
  for (auto& x : v) x = static_cast<std::uint8_t>(d(rng));
  return v;
}

// Bytes of the stream golden::dpred::encode writes for `values` in runs of `run`.
std::uint64_t stream_bytes(const std::vector<std::int32_t>& values, int bits, int run) {
  return golden::dpred::encode(values, bits, {.run = static_cast<std::size_t>(run)}).bytes.size();
}

// The weights of a layer in DPRed's groups, rebuilt here from the OHWI layout: 16 consecutive
// input channels of one filter tap; a depthwise filter (one input channel) grouped across the
// filters at one tap instead, i.e. [kh][kw][C].
std::uint64_t weight_stream_bytes(const golden::Layer& l) {
  const golden::ConvShape& s = l.shape;
  const int bits = golden::bits(l.mode);
  if (s.in_c / s.groups != 1) return stream_bytes(l.weights, bits, s.in_c / s.groups);
  const int taps = s.k_h * s.k_w;
  std::vector<std::int32_t> by_tap;
  for (int t = 0; t < taps; ++t) {
    for (int o = 0; o < s.out_c; ++o) by_tap.push_back(l.weights[static_cast<std::size_t>(o * taps + t)]);
  }
  return stream_bytes(by_tap, bits, s.out_c);
}

class DpredOffchip : public ::testing::Test {
 protected:
  DpredOffchip() : net_(tflite::to_model(small_model(5))), acc_(driver::default_hw_config()) {
    std::mt19937 rng(6);
    quant::Calibrator cal(net_);
    for (int i = 0; i < 6; ++i) cal.add(random_image(rng), fmt::format("calib{}", i));
    calib_ = cal.result();
  }
  [[nodiscard]] Engine engine(int bits, std::optional<OffchipEncoding> offchip) const {
    ArrayConfig c{.backend = Backend::kGolden,
                  .bits = bits,
                  .calib = &calib_,
                  .weight_fl = quant::WeightFl::kChannel,
                  .quantization = quant::QuantOptions{},
                  .configure = {}};
    if (offchip) c.offchip = *offchip;
    return {net_, c,
            [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); }};
  }
  model::Network net_;
  quant::Calibration calib_;
  driver::Accelerator acc_;
};

// The per-group bytes of a run are the sum, over the MAC layers, of the encoded streams of the
// weights, the input and the output activations that run saw, plus the 32-bit biases: computed
// here from golden::dpred::encode's streams on the recorded tensors, and through the engine.
TEST_F(DpredOffchip, PerGroupBytesOfARunAreTheSumOfTheEncodedTensors) {
  std::mt19937 rng(7);
  for (int bits : {8, 16}) {
    const quant::QuantizedNetwork q(net_, calib_, bits, acc_);
    ASSERT_EQ(q.layers().size(), 4u);  // conv, depthwise, pointwise, classifier
    const Engine e = engine(bits, OffchipEncoding::kPerGroup);
    const auto session = e.session();
    std::vector<std::uint64_t> per_image;
    for (int image = 0; image < 3; ++image) {
      const std::vector<std::uint8_t> rgb = random_image(rng);
      const quant::QuantResult r = q.run(acc_, rgb, {.record_mac_io = true});
      ASSERT_EQ(r.mac_io.size(), q.layers().size());
      std::uint64_t expected = 0;
      for (std::size_t i = 0; i < q.layers().size(); ++i) {
        const golden::Layer& l = q.layers()[i].prepared.layer;
        const int b = golden::bits(l.mode);
        expected += weight_stream_bytes(l) + 4 * l.bias.size() + stream_bytes(r.mac_io[i].input, b, l.shape.in_c) +
                    stream_bytes(r.mac_io[i].output, b, l.shape.out_c);
      }
      EXPECT_EQ(quant::offchip_bytes(q, r, quant::weight_group_bytes(q)), expected) << bits << "-bit image " << image;
      const Prediction p = session->run(rgb);
      ASSERT_TRUE(p.offchip_bytes.has_value());
      EXPECT_EQ(*p.offchip_bytes, expected) << bits << "-bit image " << image << " through the engine";
      per_image.push_back(expected);
      // Nothing recorded is left in the prediction (the I/O is only encoded).
      EXPECT_TRUE(p.mac_outputs.empty());
    }
    // The activations differ from image to image, hence the bytes (random images: the ReLU
    // outputs of three images do not compress to the same size).
    EXPECT_FALSE(per_image[0] == per_image[1] && per_image[1] == per_image[2]) << bits;
  }
}

// The per-layer figures: weights the same for every image, the biases and the shapes'
// uncompressed counterparts as layer_traffic.
TEST_F(DpredOffchip, PerLayerTrafficKeepsWeightsStaticAndBiasesUncompressed) {
  std::mt19937 rng(8);
  const quant::QuantizedNetwork q(net_, calib_, 8, acc_);
  const std::vector<std::uint64_t> w = quant::weight_group_bytes(q);
  const quant::QuantResult a = q.run(acc_, random_image(rng), {.record_mac_io = true});
  const quant::QuantResult b = q.run(acc_, random_image(rng), {.record_mac_io = true});
  const auto ta = quant::layer_traffic_per_group(q, a, w), tb = quant::layer_traffic_per_group(q, b, w);
  const auto plain = quant::layer_traffic(q);
  ASSERT_EQ(ta.size(), plain.size());
  for (std::size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].weights, tb[i].weights) << i;
    EXPECT_EQ(ta[i].weights, weight_stream_bytes(q.layers()[i].prepared.layer)) << i;
    EXPECT_EQ(ta[i].bias, plain[i].bias) << i;
  }
  // Without the recorded I/O, or with the weights of another network, it is refused.
  EXPECT_THROW((void)quant::layer_traffic_per_group(q, q.run(acc_, random_image(rng)), w), std::invalid_argument);
  EXPECT_THROW((void)quant::layer_traffic_per_group(q, a, std::span(w).first(2)), std::invalid_argument);
}

// --offchip uncompressed (the default) reproduces today's energies exactly: the engine records the
// shapes' bytes, and a record prices as MACs + scratchpads + those bytes, by hand.
TEST_F(DpredOffchip, UncompressedIsTheDefaultAndPricesExactlyAsBefore) {
  std::mt19937 rng(9);
  const EnergyTable t = EnergyTable::envision_with_memory();
  for (int bits : {8, 16}) {
    const quant::QuantizedNetwork q(net_, calib_, bits, acc_);
    const std::vector<std::uint8_t> rgb = random_image(rng);
    const Prediction def = engine(bits, std::nullopt).session()->run(rgb);
    const Prediction unc = engine(bits, OffchipEncoding::kUncompressed).session()->run(rgb);
    ASSERT_TRUE(def.offchip_bytes && unc.offchip_bytes && def.counters && unc.counters);
    std::uint64_t shapes = 0;
    for (const quant::LayerTraffic& l : quant::layer_traffic(q)) shapes += l.total();
    EXPECT_EQ(*def.offchip_bytes, shapes);
    EXPECT_EQ(*unc.offchip_bytes, shapes);
    const RunRecord rd = run_record(def, std::nullopt), ru = run_record(unc, std::nullopt);
    EXPECT_EQ(rd, ru);
    const driver::Counters& c = *def.counters;
    const double by_hand =
        static_cast<double>(c.mac16) * t.pj_per_mac16 + static_cast<double>(c.mac8) * t.pj_per_mac8 +
        static_cast<double>(c.mac4) * t.pj_per_mac4 + static_cast<double>(c.spad_rd) * t.pj_per_spad_read +
        static_cast<double>(c.spad_wr) * t.pj_per_spad_write + static_cast<double>(shapes) * t.pj_per_offchip_byte;
    EXPECT_DOUBLE_EQ(energy_pj(ru, t), by_hand) << bits;
    // The per-group run of the same image executes the same MACs: only the off-chip term moves.
    const Prediction pg = engine(bits, OffchipEncoding::kPerGroup).session()->run(rgb);
    EXPECT_EQ(pg.counters, def.counters);
    EXPECT_EQ(pg.probabilities, def.probabilities);
    const RunRecord rp = run_record(pg, std::nullopt);
    EXPECT_DOUBLE_EQ(energy_pj(rp, t) - energy_pj(ru, t),
                     (static_cast<double>(*pg.offchip_bytes) - static_cast<double>(shapes)) * t.pj_per_offchip_byte);
  }
}

TEST(DpredOffchipNames, RoundTripAndRefusal) {
  for (const OffchipEncoding e : {OffchipEncoding::kUncompressed, OffchipEncoding::kPerGroup})
    EXPECT_EQ(quant::parse_offchip_encoding(quant::to_string(e)), e);
  EXPECT_EQ(quant::to_string(OffchipEncoding::kPerGroup), "per-group");
  try {
    (void)quant::parse_offchip_encoding("zip");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'zip'"), std::string::npos) << e.what();
  }
}

// Records made with the default keep their header (earlier records stay resumable); per-group
// adds a field, and a resume across the two is refused naming it.
TEST(DpredOffchipRecords, HeaderNamesTheChoiceOnlyWhenNotTheDefault) {
  const quant::QuantOptions qo{};
  const std::string before = records_header("sweep", "m.tflite", "golden", {8, 16}, "c", "channel", qo);
  EXPECT_EQ(records_header("sweep", "m.tflite", "golden", {8, 16}, "c", "channel", qo, OffchipEncoding::kUncompressed),
            before);
  const std::string pg =
      records_header("sweep", "m.tflite", "golden", {8, 16}, "c", "channel", qo, OffchipEncoding::kPerGroup);
  EXPECT_NE(pg.find("\"offchip\":\"per-group\""), std::string::npos) << pg;
  EXPECT_NE(header_difference(before, pg).find("offchip"), std::string::npos);
  EXPECT_NE(header_difference(pg, before).find("offchip"), std::string::npos);
}

// A record's static 16-bit reference survives the text, and apply prices an image's saving
// against it when the image did not run at 16 bits.
TEST(DpredOffchipRecords, Static16ReferenceRoundTripsAndIsTheSavingsReference) {
  const auto run = [](std::uint64_t mac, std::uint64_t bytes, bool sixteen) {
    RunRecord r;
    r.top1 = 3, r.correct1 = true, r.margin = 0.5;
    driver::Counters c;
    (sixteen ? c.mac16 : c.mac8) = mac;
    r.counters = c;
    r.offchip_bytes = bytes;
    return r;
  };
  ImageRecord rec;
  rec.file = "a.JPEG";
  rec.label = 3;
  rec.fp = RunRecord{};
  rec.fp->top1 = 3;
  rec.fp->correct1 = true;
  rec.levels[8] = run(100, 40, false);
  rec.static16 = run(100, 70, true);
  const std::string line = to_json_line(rec);
  EXPECT_NE(line.find("\"static16\":"), std::string::npos) << line;
  EXPECT_EQ(parse_record(line, "t", 2), rec);

  EnergyTable t;
  t.source = "round";
  t.pj_per_mac16 = 4, t.pj_per_mac8 = 2, t.pj_per_mac4 = 1, t.pj_per_offchip_byte = 0.5;
  Policy p;
  p.levels = {8, 16};
  p.threshold = 0.25;
  const ApplyRow row = apply_row(rec, p, t, /*energy16_pj=*/1e9);
  EXPECT_DOUBLE_EQ(row.energy_pj, 100 * 2 + 40 * 0.5);
  EXPECT_DOUBLE_EQ(row.energy16_pj, 100 * 4 + 70 * 0.5);  // the image's own, not the fallback
  rec.static16.reset();
  EXPECT_DOUBLE_EQ(apply_row(rec, p, t, 1e9).energy16_pj, 1e9);
  // An escalated image's own 16-bit run comes first.
  rec.levels[16] = run(100, 60, true);
  rec.static16 = run(100, 70, true);
  EXPECT_DOUBLE_EQ(apply_row(rec, p, t, 1e9).energy16_pj, 100 * 4 + 60 * 0.5);
}

// The policy records the choice; an older policy without it reads as uncompressed; a bad value is
// refused naming the field.
TEST(DpredOffchipPolicy, PolicyRecordsTheChoice) {
  Policy p;
  p.model_file = "m.tflite";
  p.model_path = "m.tflite";
  p.model_hash = "0123456789abcdef";
  p.calibration =
      util::parse_json(R"({"format":"bitscale-calibration-1","model":"m","images":["a.jpg"],"tensors":[]})").dump();
  p.levels = {8, 16};
  p.threshold = 0.5;
  p.energy_model = EnergyModel::kMemory;
  p.offchip = OffchipEncoding::kPerGroup;
  const std::string text = to_json(p);
  EXPECT_NE(text.find("\"offchip\":\"per-group\""), std::string::npos) << text;
  EXPECT_EQ(parse_policy(text, "p.json"), p);
  std::string old = text;
  old.erase(old.find("  \"offchip\":\"per-group\",\n"), std::string("  \"offchip\":\"per-group\",\n").size());
  EXPECT_EQ(parse_policy(old, "p.json").offchip, OffchipEncoding::kUncompressed);
  std::string bad = text;
  bad.replace(bad.find("per-group"), 9, "gzip");
  try {
    (void)parse_policy(bad, "p.json");
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("p.json: offchip:"), std::string::npos) << e.what();
  }
}

// eval's records keep each run's off-chip bytes, so resumed rows price as computed ones.
TEST(DpredOffchipRecords, EvalRecordsKeepTheOffchipBytes) {
  EvalRow r;
  r.file = "a.JPEG";
  r.label = 1;
  Prediction p;
  p.top.index = {2, 5};
  p.top.prob = {0.75f, 0.25f};
  p.margin = 0.5f;
  p.counters = driver::Counters{};
  p.counters->mac8 = 10;
  p.offchip_bytes = 1234;
  r.pred = p;
  const EvalRow back = parse_eval_record(eval_record_line(r), "e", 2);
  ASSERT_TRUE(back.pred.has_value());
  EXPECT_EQ(back.pred->offchip_bytes, std::optional<std::uint64_t>(1234));
}

}  // namespace
}  // namespace bitscale::study
