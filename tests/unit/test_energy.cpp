// The energy model (MACs, scratchpads, off-chip traffic), its tables and the off-chip traffic
// of a quantized network. Expected values are worked out by hand from the definitions in
// docs/ENERGY.md (or computed independently from the model's operators), not copied from the
// code's output.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/group_code.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/traffic_job.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

namespace fs = std::filesystem;

/// A table with round numbers: 4 / 2 / 1 pJ per MAC, 0.5 / 0.25 pJ per scratchpad word read /
/// written, 0.125 pJ per off-chip byte.
EnergyTable round_table() {
  EnergyTable t;
  t.source = "test";
  t.pj_per_mac16 = 4;
  t.pj_per_mac8 = 2;
  t.pj_per_mac4 = 1;
  t.pj_per_spad_read = 0.5;
  t.pj_per_spad_write = 0.25;
  t.pj_per_offchip_byte = 0.125;
  return t;
}

RunRecord run(std::uint64_t mac16, std::uint64_t mac8, std::uint64_t mac4, std::uint64_t rd, std::uint64_t wr,
              std::optional<std::uint64_t> offchip) {
  RunRecord r;
  driver::Counters c;
  c.mac16 = mac16, c.mac8 = mac8, c.mac4 = mac4, c.spad_rd = rd, c.spad_wr = wr;
  c.cycles = 12345, c.busy = 999, c.tiles = 7;  // cost nothing in this model
  r.counters = c;
  r.offchip_bytes = offchip;
  return r;
}

// ------------------------------------------------------------------ pricing

TEST(Energy, EnvisionTableFollowsThePublishedPowers) {
  const auto t = EnergyTable::envision();
  // Same throughput in every mode: energy per MAC is proportional to power.
  EXPECT_NEAR(t.pj_per_mac16 / t.pj_per_mac8, 290.0 / 56.0, 1e-9);
  EXPECT_NEAR(t.pj_per_mac8 / t.pj_per_mac4, 56.0 / 7.6, 1e-9);
  // 290 mW at 76 G operations/s, one MAC = 2 operations.
  EXPECT_NEAR(t.pj_per_mac16, 2 * 0.290 / 76e9 * 1e12, 1e-9);
  // The seed paper's model: no memory terms.
  EXPECT_EQ(t.pj_per_spad_read, 0.0);
  EXPECT_EQ(t.pj_per_spad_write, 0.0);
  EXPECT_EQ(t.pj_per_offchip_byte, 0.0);
}

TEST(Energy, MemoryTableAddsHorowitzMemoriesToTheEnvisionMacs) {
  const auto m = EnergyTable::envision_with_memory();
  const auto e = EnergyTable::envision();
  EXPECT_EQ(m.pj_per_mac16, e.pj_per_mac16);
  EXPECT_EQ(m.pj_per_mac8, e.pj_per_mac8);
  EXPECT_EQ(m.pj_per_mac4, e.pj_per_mac4);
  // DRAM: 1.3 nJ per 64-bit access = 1300 pJ / 8 bytes.
  EXPECT_DOUBLE_EQ(m.pj_per_offchip_byte, 162.5);
  // A 16 KB scratchpad bank between 8 KB (10 pJ) and 32 KB (20 pJ) per 64-bit read: both
  // published points follow 10 pJ * sqrt(size / 8 KB), so 16 KB costs 14.14 pJ per 64 bits,
  // a quarter of it per 16-bit word.
  EXPECT_NEAR(10.0 * std::sqrt(32.0 / 8.0), 20.0, 1e-12);
  EXPECT_NEAR(m.pj_per_spad_read, 14.142135623730951 / 4, 1e-9);
  EXPECT_EQ(m.pj_per_spad_write, m.pj_per_spad_read);
  EXPECT_NE(m.source.find("Horowitz"), std::string::npos);
  EXPECT_NO_THROW(m.validate());
  EXPECT_NO_THROW(e.validate());
}

TEST(Energy, HandComputedRunAndBreakdownSumsToTheTotal) {
  const EnergyTable t = round_table();
  const RunRecord r = run(10, 100, 1000, 8, 4, 64);
  const EnergyBreakdown b = energy_breakdown(r, t);
  EXPECT_DOUBLE_EQ(b.mac_pj, 10 * 4 + 100 * 2 + 1000 * 1);
  EXPECT_DOUBLE_EQ(b.spad_pj, 8 * 0.5 + 4 * 0.25);
  EXPECT_DOUBLE_EQ(b.offchip_pj, 64 * 0.125);
  EXPECT_DOUBLE_EQ(b.total(), 1240 + 5 + 8);
  EXPECT_DOUBLE_EQ(energy_pj(r, t), b.mac_pj + b.spad_pj + b.offchip_pj);
}

TEST(Energy, EnergyIsLinearInEveryCount) {
  const EnergyTable t = round_table();
  const RunRecord a = run(3, 5, 7, 11, 13, 17);
  const RunRecord b = run(19, 23, 29, 31, 37, 41);
  const RunRecord sum = run(22, 28, 36, 42, 50, 58);
  const RunRecord twice = run(6, 10, 14, 22, 26, 34);
  EXPECT_DOUBLE_EQ(energy_pj(sum, t), energy_pj(a, t) + energy_pj(b, t));
  EXPECT_DOUBLE_EQ(energy_pj(twice, t), 2 * energy_pj(a, t));
  // Each count alone is priced at its own entry.
  EXPECT_DOUBLE_EQ(energy_pj(run(1, 0, 0, 0, 0, 0), t), 4);
  EXPECT_DOUBLE_EQ(energy_pj(run(0, 1, 0, 0, 0, 0), t), 2);
  EXPECT_DOUBLE_EQ(energy_pj(run(0, 0, 1, 0, 0, 0), t), 1);
  EXPECT_DOUBLE_EQ(energy_pj(run(0, 0, 0, 1, 0, 0), t), 0.5);
  EXPECT_DOUBLE_EQ(energy_pj(run(0, 0, 0, 0, 1, 0), t), 0.25);
  EXPECT_DOUBLE_EQ(energy_pj(run(0, 0, 0, 0, 0, 1), t), 0.125);
  EXPECT_DOUBLE_EQ(energy_pj(run(0, 0, 0, 0, 0, 0), t), 0);
}

TEST(Energy, MacOnlyModelIgnoresMemoryAndMemoryModelNeedsTheOffchipBytes) {
  const EnergyTable t = round_table();
  const EnergyTable mac = t.mac_only();
  const RunRecord r = run(10, 100, 1000, 8, 4, 64);
  EXPECT_DOUBLE_EQ(energy_pj(r, mac), 1240);
  EXPECT_NE(mac.source.find("MAC terms only"), std::string::npos);
  // The Envision table has no memory terms: mac_only() changes nothing, not even the source
  // (today's outputs stay identical).
  EXPECT_EQ(EnergyTable::envision().mac_only().source, EnergyTable::envision().source);
  // A run recorded without its off-chip bytes: fine for the MAC-only model, refused by the
  // memory model (it would silently price the traffic at 0).
  const RunRecord old = run(10, 100, 1000, 8, 4, std::nullopt);
  EXPECT_DOUBLE_EQ(energy_pj(old, mac), 1240);
  EXPECT_THROW((void)energy_pj(old, t), std::invalid_argument);
  RunRecord float_run;
  EXPECT_THROW((void)energy_pj(float_run, mac), std::invalid_argument);
}

TEST(Energy, StudyTablesPerModel) {
  const EnergyTable mac = energy_table("", EnergyModel::kMac);
  EXPECT_EQ(mac.source, EnergyTable::envision().source);
  EXPECT_EQ(mac.pj_per_offchip_byte, 0.0);
  const EnergyTable mem = energy_table("", EnergyModel::kMemory);
  EXPECT_EQ(mem.pj_per_offchip_byte, EnergyTable::envision_with_memory().pj_per_offchip_byte);
  EXPECT_GT(mem.pj_per_spad_read, 0.0);
  EXPECT_EQ(parse_energy_model("mac"), EnergyModel::kMac);
  EXPECT_EQ(parse_energy_model(to_string(EnergyModel::kMemory)), EnergyModel::kMemory);
  EXPECT_THROW((void)parse_energy_model("dram"), std::invalid_argument);
}

// ------------------------------------------------------------------ table files

class EnergyFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("energy_tables"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }
  /// The message of the error loading `text`, or "" (a test failure) without one.
  std::string load_error(const std::string& name, const std::string& text) {
    const std::string p = write(name, text);
    try {
      (void)EnergyTable::load(p);
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(p), std::string::npos) << "the error names the file: " << what;
      return what;
    }
    ADD_FAILURE() << "no error for " << name;
    return "";
  }
  fs::path dir_;
};

TEST_F(EnergyFiles, LoadsBothFormsAndTheMemoryTerms) {
  const auto a = EnergyTable::load(write("a.txt",
                                         "# per MAC\nmac16_pj 3\nmac8_pj 1.5 # comment\nmac4_pj 0.5\nspad_read_pj 2\n"
                                         "offchip_pj_per_byte 160\n"));
  EXPECT_DOUBLE_EQ(a.pj_per_mac16, 3);
  EXPECT_DOUBLE_EQ(a.pj_per_mac8, 1.5);
  EXPECT_DOUBLE_EQ(a.pj_per_mac4, 0.5);
  EXPECT_DOUBLE_EQ(a.pj_per_spad_read, 2);
  EXPECT_DOUBLE_EQ(a.pj_per_spad_write, 0);
  EXPECT_DOUBLE_EQ(a.pj_per_offchip_byte, 160);
  const auto b = EnergyTable::load(write("b.txt", "power16_mw 290\npower8_mw 56\npower4_mw 7.6\ngops 76\n"));
  EXPECT_NEAR(b.pj_per_mac8, EnergyTable::envision().pj_per_mac8, 1e-12);
  // The file's memory terms are dropped by the MAC-only model, kept by the memory model.
  EXPECT_EQ(energy_table(write("c.txt", "mac16_pj 3\nmac8_pj 1\nmac4_pj 1\noffchip_pj_per_byte 9\n"), EnergyModel::kMac)
                .pj_per_offchip_byte,
            0.0);
  EXPECT_EQ(energy_table((dir_ / "c.txt").string(), EnergyModel::kMemory).pj_per_offchip_byte, 9.0);
}

TEST_F(EnergyFiles, MalformedLinesNameTheLine) {
  EXPECT_NE(load_error("c.txt", "mac16_pj three\n").find("line 1"), std::string::npos);
  EXPECT_NE(load_error("d.txt", "mac32_pj 1\n").find("unknown key 'mac32_pj'"), std::string::npos);
  EXPECT_NE(load_error("e.txt", "mac16_pj 1\nmac8_pj 1\nmac4_pj -1\n").find("line 3"), std::string::npos);
  EXPECT_NE(load_error("g.txt", "mac16_pj 1\nmac8_pj 1 2\n").find("line 2"), std::string::npos);
  EXPECT_NE(load_error("h.txt", "mac16_pj 1\nmac16_pj 2\n").find("given twice"), std::string::npos);
  EXPECT_NE(load_error("i.txt", "mac16_pj nan\n").find("line 1"), std::string::npos);
  EXPECT_THROW(EnergyTable::load((dir_ / "does-not-exist.txt").string()), std::runtime_error);
}

// Point 8 of issue 8: an empty or all-zero table reported "100 % saving".
TEST_F(EnergyFiles, EmptyAndZeroTablesAreRefusedNamingTheKey) {
  EXPECT_NE(load_error("empty.txt", "").find("empty"), std::string::npos);
  EXPECT_NE(load_error("comments.txt", "# nothing but a comment\n\n").find("empty"), std::string::npos);
  EXPECT_NE(load_error("zeros.txt", "mac16_pj 0\nmac8_pj 0\nmac4_pj 0\n").find("'mac16_pj' is 0"), std::string::npos);
  EXPECT_NE(load_error("ref0.txt", "mac16_pj 0\nmac8_pj 1\nmac4_pj 0.5\n").find("'mac16_pj' is 0"), std::string::npos);
  EXPECT_NE(load_error("free8.txt", "mac16_pj 7\nmac8_pj 0\nmac4_pj 0.5\n").find("'mac8_pj' is 0"), std::string::npos);
  EXPECT_NE(load_error("no4.txt", "mac16_pj 7\nmac8_pj 1\n").find("'mac4_pj' is missing"), std::string::npos);
  EXPECT_NE(load_error("memonly.txt", "offchip_pj_per_byte 100\n").find("'mac16_pj' is missing"), std::string::npos);
  EXPECT_NE(load_error("p0.txt", "power16_mw 0\npower8_mw 56\npower4_mw 7.6\ngops 76\n").find("'power16_mw' is 0"),
            std::string::npos);
  EXPECT_NE(load_error("f.txt", "power16_mw 290\n").find("gops"), std::string::npos);
  EXPECT_NE(
      load_error("both.txt", "power16_mw 290\npower8_mw 56\npower4_mw 7.6\ngops 76\nmac16_pj 3\n").find("not both"),
      std::string::npos);
}

TEST(Energy, BuiltInTablesAreValidatedToo) {
  EnergyTable t = round_table();
  EXPECT_NO_THROW(t.validate());
  t.pj_per_mac16 = 0;
  try {
    t.validate();
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'test'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'mac16_pj' is 0"), std::string::npos) << e.what();
  }
  t = round_table();
  t.pj_per_offchip_byte = -1;
  EXPECT_THROW(t.validate(), std::runtime_error);
  t = round_table();
  t.pj_per_spad_read = std::nan("");
  EXPECT_THROW(t.validate(), std::runtime_error);
  t = EnergyTable{};
  EXPECT_THROW(t.validate(), std::runtime_error);  // all zero
}

// ------------------------------------------------------------------ off-chip traffic

TEST(OffchipTraffic, PackedBytesRoundUpToWholeBytes) {
  EXPECT_EQ(quant::packed_bytes(0, 4), 0u);
  EXPECT_EQ(quant::packed_bytes(1, 4), 1u);
  EXPECT_EQ(quant::packed_bytes(3, 4), 2u);  // 12 bits
  EXPECT_EQ(quant::packed_bytes(4, 4), 2u);
  EXPECT_EQ(quant::packed_bytes(3, 8), 3u);
  EXPECT_EQ(quant::packed_bytes(3, 16), 6u);
}

/// A 1x1 convolution 8x8x16 -> 8x8x32 with a bias, in `mode`.
golden::Layer one_by_one(golden::Mode mode) {
  golden::Layer L;
  L.mode = mode;
  L.shape.in_h = 8, L.shape.in_w = 8, L.shape.in_c = 16, L.shape.out_c = 32;
  L.weights.assign(32 * 16, 0);
  L.bias.assign(32, 0);
  return L;
}

TEST(OffchipTraffic, OneByOneConvolutionByHand) {
  // 512 weights, 32 biases of 4 bytes, 8*8*16 = 1024 inputs, 8*8*32 = 2048 outputs.
  const quant::LayerTraffic t16 = quant::layer_traffic(one_by_one(golden::Mode::k16));
  EXPECT_EQ(t16, (quant::LayerTraffic{.weights = 1024, .bias = 128, .input = 2048, .output = 4096}));
  EXPECT_EQ(t16.total(), 7296u);
  const quant::LayerTraffic t8 = quant::layer_traffic(one_by_one(golden::Mode::k8));
  EXPECT_EQ(t8, (quant::LayerTraffic{.weights = 512, .bias = 128, .input = 1024, .output = 2048}));
  const quant::LayerTraffic t4 = quant::layer_traffic(one_by_one(golden::Mode::k4));
  EXPECT_EQ(t4, (quant::LayerTraffic{.weights = 256, .bias = 128, .input = 512, .output = 1024}));
  // Every operand halves from mode to mode; the 32-bit biases do not.
  EXPECT_EQ(t16.total() - t16.bias, 2 * (t8.total() - t8.bias));
  EXPECT_EQ(t8.total() - t8.bias, 2 * (t4.total() - t4.bias));
}

TEST(OffchipTraffic, StridedPaddedAndDepthwiseConvolutions) {
  // 3x3 stride 2 pad 1 on 7x7x3 -> 4x4x8 ((7 + 2 - 3) / 2 + 1 = 4), no bias, 8-bit:
  // 8 * 27 = 216 weights, 147 inputs (the padding is not moved), 128 outputs.
  golden::Layer L;
  L.mode = golden::Mode::k8;
  L.shape.in_h = 7, L.shape.in_w = 7, L.shape.in_c = 3, L.shape.out_c = 8;
  L.shape.k_h = 3, L.shape.k_w = 3, L.shape.stride_h = 2, L.shape.stride_w = 2;
  L.shape.pad_top = L.shape.pad_left = L.shape.pad_bottom = L.shape.pad_right = 1;
  L.weights.assign(216, 0);
  EXPECT_EQ(quant::layer_traffic(L), (quant::LayerTraffic{.weights = 216, .bias = 0, .input = 147, .output = 128}));
  // Depthwise 3x3 pad 1 on 5x5x6, 4-bit: 6 * 9 = 54 weights = 27 bytes, 150 inputs = 75 bytes,
  // 150 outputs = 75 bytes, 6 biases = 24 bytes.
  golden::Layer D;
  D.mode = golden::Mode::k4;
  D.shape.in_h = 5, D.shape.in_w = 5, D.shape.in_c = 6, D.shape.out_c = 6, D.shape.groups = 6;
  D.shape.k_h = 3, D.shape.k_w = 3;
  D.shape.pad_top = D.shape.pad_left = D.shape.pad_bottom = D.shape.pad_right = 1;
  D.weights.assign(54, 0);
  D.bias.assign(6, 0);
  EXPECT_EQ(quant::layer_traffic(D), (quant::LayerTraffic{.weights = 27, .bias = 24, .input = 75, .output = 75}));
}

// The embedded default model and images, calibrated on one image.
class EmbeddedNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path data = fs::path(BITSCALE_SOURCE_DIR) / "data";
    const fs::path model_path = data / "models" / "mobilenet_v1_0.25_128_quant.tflite";
    if (!fs::exists(model_path)) GTEST_SKIP() << "no embedded data";
    net_.emplace(model::load_tflite(model_path.string()));
    images = data::list_images((data / "images").string());
    ASSERT_FALSE(images.empty());
    calib_.emplace(quant::calibrate_files(*net_, {images.front()}, 1));
  }
  [[nodiscard]] const model::Network& net() const { return *net_; }
  [[nodiscard]] const quant::Calibration& calib() const { return *calib_; }
  std::vector<std::string> images;

 private:
  std::optional<model::Network> net_;
  std::optional<quant::Calibration> calib_;
};
using OffchipTrafficEmbedded = EmbeddedNetwork;
using GroupTrafficEmbedded = EmbeddedNetwork;

// The embedded default network: the traffic of every mode equals an independent count from
// the model's operators (weights, biases, input and output tensor sizes of each MAC operator),
// and the engine records it in every array run.
TEST_F(OffchipTrafficEmbedded, EmbeddedNetworkMatchesItsOperatorsAndIsRecorded) {
  const model::Network& net = this->net();
  const quant::Calibration& calib = this->calib();
  const driver::Accelerator acc(driver::default_hw_config());
  std::uint64_t bias_bytes = 0, values = 0;
  for (const auto& op : net.ops()) {
    if (!op.is_mac()) continue;
    bias_bytes += 4 * op.bias.size();
    values += op.weights.size() +
              static_cast<std::uint64_t>(net.shapes()[static_cast<std::size_t>(op.inputs[0])].size()) +
              static_cast<std::uint64_t>(net.shapes()[static_cast<std::size_t>(op.output)].size());
  }
  ASSERT_GT(values, 0u);
  std::map<int, std::uint64_t> total;
  for (int bits : {16, 8}) {
    const quant::QuantizedNetwork q(net, calib, bits, acc);
    total[bits] = quant::offchip_bytes(q);
    // Whole bytes per tensor at 16 and 8 bits: values * bits / 8 plus the biases.
    EXPECT_EQ(total[bits], values * static_cast<std::uint64_t>(bits) / 8 + bias_bytes) << bits;
  }
  const quant::QuantizedNetwork q4(net, calib, 4, acc);
  total[4] = quant::offchip_bytes(q4);
  // 4 bits: half a byte per value, rounded up once per tensor at most (3 tensors per layer).
  EXPECT_GE(total[4], values / 2 + bias_bytes);
  EXPECT_LE(total[4], values / 2 + bias_bytes + 3 * q4.layers().size());

  // The engine records the same number in every array run (with the same quantization options as
  // q: classifier at the level), and the records keep it.
  const Engine engine(
      net,
      ArrayConfig{.backend = Backend::kGolden,
                  .bits = 8,
                  .calib = &calib,
                  .weight_fl = quant::WeightFl::kChannel,
                  .quantization = quant::QuantOptions{}},
      [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); });
  const data::Image img = data::load_for_model(images.front(), net.input_h(), net.input_w());
  const Prediction p = engine.session()->run(img.rgb);
  ASSERT_TRUE(p.offchip_bytes.has_value());
  EXPECT_EQ(*p.offchip_bytes, total[8]);
  ImageRecord r;
  r.file = "x.jpg";
  r.levels[8] = run_record(p, std::nullopt);
  EXPECT_EQ(r.levels[8].offchip_bytes, total[8]);
  const ImageRecord back = parse_record(to_json_line(r), "t", 1);
  EXPECT_EQ(back, r);
  EXPECT_NE(to_json_line(r).find("\"offchip_bytes\":" + std::to_string(total[8])), std::string::npos);
  // The float baseline moves nothing on the array.
  const Engine fl(net);
  EXPECT_FALSE(fl.session()->run(img.rgb).offchip_bytes.has_value());
}

TEST(OffchipTraffic, RecordsRejectAMalformedCount) {
  const std::string base =
      "{\"file\":\"a\",\"label\":1,\"levels\":{\"8\":{\"top1\":1,\"correct1\":true,\"correct5\":true,\"margin\":0.5,"
      "\"max_prob\":0.7,\"entropy\":0.1,\"offchip_bytes\":";
  EXPECT_EQ(parse_record(base + "123}}}", "f", 1).levels.at(8).offchip_bytes, 123u);
  EXPECT_THROW((void)parse_record(base + "-5}}}", "f", 1), StudyError);
  EXPECT_THROW((void)parse_record(base + "\"x\"}}}", "f", 1), StudyError);
}

// ------------------------------------------------------------------ DPRed per-group traffic

TEST(GroupTraffic, DepthwiseWeightsAreGroupedAcrossChannels) {
  // Depthwise 3x3 on 6 channels: OHWI with I = 1, w[o][t] = 9 o + t; grouped as [t][o].
  golden::Layer D;
  D.mode = golden::Mode::k8;
  D.shape.in_c = 6, D.shape.out_c = 6, D.shape.groups = 6, D.shape.k_h = 3, D.shape.k_w = 3;
  D.shape.in_h = D.shape.in_w = 3;
  for (int o = 0; o < 6; ++o) {
    for (int t = 0; t < 9; ++t) D.weights.push_back(9 * o + t);
  }
  EXPECT_EQ(quant::weight_grouping(D.shape).run, 6u);
  const std::vector<std::int32_t> g = quant::weights_in_group_order(D);
  for (int o = 0; o < 6; ++o) {
    for (int t = 0; t < 9; ++t) EXPECT_EQ(g[static_cast<std::size_t>(t * 6 + o)], 9 * o + t);
  }
  // A dense convolution keeps OHWI: runs of in_c / groups.
  golden::Layer L = one_by_one(golden::Mode::k8);
  EXPECT_EQ(quant::weight_grouping(L.shape).run, 16u);
  EXPECT_EQ(quant::weights_in_group_order(L), L.weights);
}

// The embedded network at 16 and 8 bits: each layer's recorded activations have the shapes'
// sizes, the groups the shapes imply (ceil(C / 16) per pixel), encode losslessly, and chain
// (a layer's input is the previous MAC layer's output where no host operator sits between).
TEST_F(GroupTrafficEmbedded, EmbeddedNetworkGroupsFollowTheShapesAndRoundTrip) {
  const model::Network& net = this->net();
  const quant::Calibration& calib = this->calib();
  driver::Accelerator acc(driver::default_hw_config());
  const data::Image img = data::load_for_model(images.back(), net.input_h(), net.input_w());
  for (int bits : {16, 8}) {
    const quant::QuantizedNetwork q(net, calib, bits, acc);
    EXPECT_THROW((void)quant::layer_groups(q, q.run(acc, img.rgb)), std::invalid_argument);
    const quant::QuantResult r = q.run(acc, img.rgb, {.record_mac_io = true});
    const std::vector<quant::LayerGroups> g = quant::layer_groups(q, r);
    ASSERT_EQ(g.size(), q.layers().size());
    for (std::size_t i = 0; i < g.size(); ++i) {
      const golden::ConvShape& s = q.layers()[i].prepared.layer.shape;
      const auto b = static_cast<std::uint64_t>(bits);
      const auto px_in = static_cast<std::uint64_t>(s.in_h * s.in_w),
                 px_out = static_cast<std::uint64_t>(s.out_h() * s.out_w());
      EXPECT_EQ(g[i].input.bits.uncompressed, px_in * static_cast<std::uint64_t>(s.in_c) * b) << i;
      EXPECT_EQ(g[i].output.bits.uncompressed, px_out * static_cast<std::uint64_t>(s.out_c) * b) << i;
      EXPECT_EQ(g[i].weights.bits.uncompressed, static_cast<std::uint64_t>(s.weight_count()) * b) << i;
      const auto groups = [](const quant::TensorGroups& t) {
        std::uint64_t n = 0;
        for (std::uint64_t c : t.widths) n += c;
        return n;
      };
      EXPECT_EQ(groups(g[i].input), px_in * static_cast<std::uint64_t>((s.in_c + 15) / 16)) << i;
      EXPECT_EQ(groups(g[i].output), px_out * static_cast<std::uint64_t>((s.out_c + 15) / 16)) << i;
      EXPECT_LE(g[i].input.bits.per_layer, g[i].input.bits.uncompressed);
      for (const auto* t : {&r.mac_io[i].input, &r.mac_io[i].output}) {
        const golden::dpred::Grouping run{.run = static_cast<std::size_t>(t == &r.mac_io[i].input ? s.in_c : s.out_c)};
        const golden::dpred::Encoded e = golden::dpred::encode(*t, bits, run);
        ASSERT_EQ(golden::dpred::decode(e.bytes, t->size(), bits, run), *t) << i;
      }
      if (i > 0 && s.in_h * s.in_w * s.in_c == static_cast<int>(r.mac_io[i - 1].output.size()) &&
          s.in_c == q.layers()[i - 1].prepared.layer.shape.out_c) {
        EXPECT_EQ(r.mac_io[i].input, r.mac_io[i - 1].output) << i;
      }
    }
  }
}

// `bitscale traffic`'s outcome: network totals are the sums of the layers' figures, per image.
TEST(GroupTraffic, JobTotalsAreTheSumsOfTheLayers) {
  const fs::path data = fs::path(BITSCALE_SOURCE_DIR) / "data";
  if (!fs::exists(data / "models" / "mobilenet_v1_0.25_128_quant.tflite")) GTEST_SKIP() << "no embedded data";
  study::TrafficJob job;
  job.bits = 16;
  job.limit = 2;
  job.calib_limit = 2;
  job.factory = [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); };
  const study::TrafficOutcome r = study::run_traffic(job);
  EXPECT_EQ(r.images, 2u);
  const nlohmann::json j = nlohmann::json::parse(study::traffic_json(r));
  ASSERT_EQ(j.at("layers").size(), r.layers.size());
  for (const char* key : {"bits_uncompressed", "bits_per_layer", "bits_per_group"}) {
    double sum = 0;
    for (const auto& l : j.at("layers")) {
      sum += l.at(key).get<double>();
      EXPECT_NEAR(l.at(key).get<double>(),
                  l.at("weights").at(key).get<double>() + l.at("input").at(key).get<double>() +
                      l.at("output").at(key).get<double>(),
                  1e-6 * l.at(key).get<double>());
    }
    EXPECT_NEAR(j.at("totals").at(key).get<double>(), sum, 1e-9 * sum) << key;
  }
  // At 16 bits the dynamic fixed point leaves every value's upper bits as sign copies in most
  // groups: per-group storage is well below uncompressed.
  EXPECT_LT(j.at("totals").at("bits_per_group").get<double>(), j.at("totals").at("bits_uncompressed").get<double>());
  // The intervals are over the images and contain their point; the point is the ratio of the totals.
  const auto& iv = j.at("intervals");
  EXPECT_EQ(iv.at("images").get<std::size_t>(), 2u);
  const auto& g = iv.at("per_group_vs_uncompressed");
  EXPECT_NEAR(g.at("value").get<double>(),
              j.at("totals").at("bits_per_group").get<double>() / j.at("totals").at("bits_uncompressed").get<double>(),
              1e-9);
  EXPECT_LE(g.at("ci95")[0].get<double>(), g.at("value").get<double>());
  EXPECT_GE(g.at("ci95")[1].get<double>(), g.at("value").get<double>());
  // Bit-serial: the network figures are the layers' sums, and no step lasts longer than the data
  // width, so no layer takes longer than the same design at full width.
  double serial = 0, full = 0, busy = 0;
  for (const auto& l : j.at("layers")) {
    const auto& b = l.at("bit_serial");
    EXPECT_LE(b.at("cycles").get<double>(), b.at("cycles_full_width").get<double>());
    serial += b.at("cycles").get<double>();
    full += b.at("cycles_full_width").get<double>();
    busy += b.at("array_busy_cycles").get<double>();
  }
  EXPECT_NEAR(j.at("bit_serial").at("cycles").get<double>(), serial, 1e-9 * serial);
  EXPECT_NEAR(j.at("bit_serial").at("cycles_full_width").get<double>(), full, 1e-9 * full);
  EXPECT_NEAR(j.at("bit_serial").at("array_busy_cycles").get<double>(), busy, 1e-9 * busy);
  EXPECT_LT(serial, full);
  EXPECT_GT(serial, 0);
}

// Bit-serial estimate by hand (16 windows x 16 filters x 16 lanes; a step lasts its widest group).
TEST(BitSerial, OneByOneConvolutionStepsLastTheirWidestGroup) {
  golden::ConvShape s;
  s.in_h = 1, s.in_w = 2, s.in_c = 16, s.out_c = 16;
  std::vector<std::int32_t> in(32, 0);
  in[3] = 5;    // pixel 0: 0101 and a sign bit, 4 bits
  in[16] = -1;  // pixel 1: 1 bit
  // One step (2 windows, one tap, one channel group, one filter set): the wider of 4 and 1.
  EXPECT_EQ(quant::bit_serial_cycles(s, in, 8), (quant::SerialCycles{4, 8}));
  in[20] = -128;  // 8 bits
  EXPECT_EQ(quant::bit_serial_cycles(s, in, 8), (quant::SerialCycles{8, 8}));
  // 40 filters: 3 sets of 16, each the same steps.
  s.out_c = 40;
  EXPECT_EQ(quant::bit_serial_cycles(s, in, 16), (quant::SerialCycles{24, 48}));
  // 20 input channels: two channel groups per pixel (16 + 4).
  s.in_c = 20, s.out_c = 16;
  std::vector<std::int32_t> in20(40, 0);
  in20[17] = 100;  // pixel 0, second group: 1100100 and a sign bit, 8 bits
  in20[20] = 7;    // pixel 1, first group: 4 bits
  EXPECT_EQ(quant::bit_serial_cycles(s, in20, 16), (quant::SerialCycles{4 + 8, 32}));
}

TEST(BitSerial, PaddedDepthwiseAndFullyConnected) {
  // Depthwise 3x3, pad 1, 4x4x32: 16 windows (one set), 9 taps, 2 channel groups = 18 steps of
  // width 1 on zeros. One value of width 8 at pixel (0, 0) is read by the taps (ky, kx) with
  // ky, kx in {0, 1} (window (1 - ky, 1 - kx)): 4 steps of its channel group last 8.
  golden::ConvShape d;
  d.in_h = d.in_w = 4, d.in_c = d.out_c = d.groups = 32, d.k_h = d.k_w = 3;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
  std::vector<std::int32_t> in(4 * 4 * 32, 0);
  EXPECT_EQ(quant::bit_serial_cycles(d, in, 8), (quant::SerialCycles{18, 144}));
  in[3] = 100;
  EXPECT_EQ(quant::bit_serial_cycles(d, in, 8), (quant::SerialCycles{18 + 4 * 7, 144}));
  // Fully connected, 32 inputs, 300 outputs: one window, 16 filter sets side by side (256
  // filters per step), so 2 sets x 2 channel groups.
  golden::ConvShape fc;
  fc.in_c = 32, fc.out_c = 300;
  std::vector<std::int32_t> v(32, 0);
  v[0] = 1;    // group 0: 2 bits
  v[31] = -3;  // group 1: 3 bits
  EXPECT_EQ(quant::bit_serial_cycles(fc, v, 8), (quant::SerialCycles{2 * (2 + 3), 2 * 2 * 8}));
  // A wrong input size is refused, naming the shape.
  try {
    (void)quant::bit_serial_cycles(fc, std::vector<std::int32_t>(31, 0), 8);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("31 input values"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitscale::study
