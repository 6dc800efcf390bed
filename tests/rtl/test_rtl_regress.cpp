// The regression of `bitscale regress` as a library call: a few layers per mode are bit-exact,
// the totals are those of the generated layers, and the JSON summary carries them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/regress.hpp"
#include "test_seed.hpp"

namespace bitscale::dv {
namespace {

TEST(Regress, FewLayersPerModeAreBitExact) {
  RegressOptions opts;
  opts.seed = test::test_seed(3);
  opts.count = 12;
  opts.first = 5;
  opts.max_k = 600;
  std::vector<std::string> mismatches;
  int modes_done = 0;
  RegressObserver observer;
  observer.mismatch = [&](const std::string& line) { mismatches.push_back(line); };
  observer.mode_done = [&](const ModeSummary&) { ++modes_done; };
  const RegressResult r = run_regress(opts, observer);
  EXPECT_EQ(r.failed(), 0u);
  EXPECT_TRUE(mismatches.empty()) << mismatches.front();
  EXPECT_EQ(modes_done, 3);
  ASSERT_EQ(r.modes.size(), 3u);
  const auto j = nlohmann::json::parse(summary_json(opts, r));
  EXPECT_EQ(j["seed"], opts.seed);
  for (std::size_t m = 0; m < r.modes.size(); ++m) {
    const ModeSummary& s = r.modes[m];
    EXPECT_EQ(s.mode, opts.modes[m]);
    EXPECT_EQ(s.layers, opts.count);
    EXPECT_EQ(s.exact, opts.count);
    // The MACs and per-channel-shift layers of the same layers, drawn again.
    std::uint64_t macs = 0, channel_shifts = 0;
    for (std::uint64_t i = opts.first; i < opts.first + opts.count; ++i) {
      const Case c = LayerGenerator(case_seed(opts.seed, s.mode, i), generator_options(opts, 8192)).random_case(s.mode);
      macs += static_cast<std::uint64_t>(c.layer.shape.macs());
      channel_shifts += c.layer.channel_shift.empty() ? 0 : 1;
    }
    EXPECT_EQ(s.macs, macs);
    EXPECT_EQ(s.channel_shifts, channel_shifts);
    EXPECT_GE(s.tiles, s.layers);
    EXPECT_GT(s.rtl_cycles, s.tiles);
    EXPECT_EQ(j["modes"][m]["bits"], golden::bits(s.mode));
    EXPECT_EQ(j["modes"][m]["macs"], s.macs);
    EXPECT_EQ(j["modes"][m]["tiles"], s.tiles);
    EXPECT_EQ(j["modes"][m]["bit_exact"], s.exact);
    EXPECT_TRUE(j["modes"][m]["reports"].empty());
  }
  EXPECT_NE(summary_line(r.modes[1]).find("regress  8-bit: 12 layers, 12 bit-exact"), std::string::npos)
      << summary_line(r.modes[1]);
}

}  // namespace
}  // namespace bitscale::dv
