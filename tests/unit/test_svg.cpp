// SVG charts: well-formed standalone documents, geometry of bars/lines/histogram bins,
// determinism, degenerate and invalid input.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/report/html.hpp"
#include "bitscale/report/svg.hpp"

namespace bitscale::report::svg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Minimal well-formedness check: every tag is closed in order, attribute values are quoted and
// contain no '<', text contains no bare '<' or unknown entity. Returns "" or the first problem.
std::string check_xml(const std::string& s) {
  std::vector<std::string> stack;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      static const std::regex entity("^&(amp|lt|gt|quot|apos|#[0-9]+);");
      std::smatch m;
      const std::string rest = s.substr(i, 12);
      if (!std::regex_search(rest, m, entity)) return fmt::format("bad entity at {}", i);
      i += m.length(0);
      continue;
    }
    if (s[i] != '<') {
      if (s[i] == '>') return fmt::format("bare '>' at {}", i);
      ++i;
      continue;
    }
    // A tag: find its end outside quoted attribute values.
    std::size_t j = i + 1;
    bool quoted = false;
    while (j < s.size() && (quoted || s[j] != '>')) {
      if (s[j] == '"') quoted = !quoted;
      if (quoted && s[j] == '<') return fmt::format("'<' in attribute at {}", j);
      ++j;
    }
    if (j >= s.size()) return "unterminated tag";
    const std::string tag = s.substr(i + 1, j - i - 1);
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return fmt::format("unbalanced </{}>", tag.substr(1));
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = j + 1;
  }
  if (!stack.empty()) return fmt::format("unclosed <{}>", stack.back());
  return "";
}

// Checks shared by every document.
void expect_valid(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg.substr(0, 80);
  ASSERT_GE(svg.size(), 7u);
  std::string end = svg;
  while (!end.empty() && std::isspace(static_cast<unsigned char>(end.back()))) end.pop_back();
  EXPECT_TRUE(end.size() >= 6 && end.compare(end.size() - 6, 6, "</svg>") == 0);
  EXPECT_NE(svg.find("viewBox=\"0 0 "), std::string::npos);
  EXPECT_NE(svg.find("version=\"1.1\""), std::string::npos);
  EXPECT_EQ(check_xml(svg), "");
  std::string lower = svg;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_EQ(lower.find("nan"), std::string::npos);
  EXPECT_EQ(lower.find("inf"), std::string::npos);
}

// Values of attribute `attr` of all elements whose start tag contains `marker`.
std::vector<std::string> attrs(const std::string& svg, const std::string& marker, const std::string& attr) {
  std::vector<std::string> r;
  const std::regex tag("<[^>]*>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::string t = it->str();
    if (t.find(marker) == std::string::npos) continue;
    const std::regex a(" " + attr + "=\"([^\"]*)\"");
    std::smatch m;
    if (std::regex_search(t, m, a)) r.push_back(m[1]);
  }
  return r;
}

std::vector<double> numbers(const std::vector<std::string>& v) {
  std::vector<double> r;
  for (const auto& s : v) r.push_back(std::stod(s));
  return r;
}

// Texts of <text> elements whose start tag contains `marker`.
std::vector<std::string> texts(const std::string& svg, const std::string& marker) {
  std::vector<std::string> r;
  const std::regex text("<text([^>]*)>([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), text); it != std::sregex_iterator(); ++it)
    if ((*it)[1].str().find(marker) != std::string::npos) r.push_back((*it)[2]);
  return r;
}

// Throws f() std::invalid_argument whose message contains `what`?
template <class F>
void expect_invalid(F f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no exception, expected one about " << what;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

BarChart bit_widths() {
  BarChart c;
  c.title = "Minimum bit-width per image";
  c.x_label = "minimum bit-width";
  c.y_label = "images (%)";
  c.categories = {"4-bit", "8-bit", "16-bit", "none"};
  c.values = {10, 20, 40, 5};
  return c;
}

LineChart threshold_sweep() {
  LineChart c;
  c.title = "Accuracy and energy vs threshold";
  c.x_label = "threshold T_h";
  c.y_label = "top-1 accuracy (%)";
  c.y2_label = "relative energy";
  Series acc{"top-1 accuracy", {}, {}}, energy{"relative energy", {}, {}, true};
  for (int i = 0; i <= 20; ++i) {
    const double t = i / 20.0;
    acc.x.push_back(t), acc.y.push_back(60 + 10 * std::sqrt(t));
    energy.x.push_back(t), energy.y.push_back(0.2 + 0.8 * t * t);
  }
  c.series = {acc, energy};
  c.vlines = {{0.35, "T_h = 0.35"}};
  return c;
}

Histogram margins() {
  Histogram h;
  h.title = "Score margin";
  h.x_label = "score margin (top-1 - top-2)";
  h.y_label = "fraction of images";
  h.names = {"easy", "difficult"};
  std::vector<double> easy, hard;
  for (int i = 0; i < 200; ++i) {
    easy.push_back(std::fmod(0.37 * i * i * 0.013 + 0.5, 1.0) * 0.5 + 0.5 * (i % 7) / 7.0);
    hard.push_back(std::pow(std::fmod(i * 0.6180339887, 1.0), 2.5));
  }
  h.samples = {easy, hard};
  return h;
}

TEST(SvgEscape, SpecialCharacters) {
  EXPECT_EQ(report::escape("a<b & c>\"d\""), "a&lt;b &amp; c&gt;&quot;d&quot;");
  EXPECT_EQ(report::escape("plain"), "plain");
  EXPECT_EQ(report::escape(std::string("x\x01y\tz")), "xy\tz");
  EXPECT_EQ(report::escape("T\xE2\x82\x95"), "T\xE2\x82\x95");  // UTF-8 kept
}

TEST(SvgBar, WellFormedWithTitleLabelsAndCategories) {
  BarChart c = bit_widths();
  c.title = "a<b & c";
  const std::string svg = bar_chart(c);
  expect_valid(svg);
  EXPECT_NE(svg.find("a&lt;b &amp; c"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
  EXPECT_NE(svg.find("width=\"640\" height=\"400\""), std::string::npos);
  EXPECT_NE(svg.find("font-family=\"sans-serif\""), std::string::npos);
  for (const char* s : {"4-bit", "8-bit", "16-bit", "none", "minimum bit-width", "images (%)"})
    EXPECT_NE(svg.find(s), std::string::npos) << s;
  EXPECT_EQ(texts(svg, "class=\"value\""), (std::vector<std::string>{"10.0", "20.0", "40.0", "5.0"}));
}

TEST(SvgBar, HeightsProportionalToValues) {
  const std::string svg = bar_chart(bit_widths());
  const auto h = numbers(attrs(svg, "class=\"bar\"", "height"));
  ASSERT_EQ(h.size(), 4u);
  EXPECT_NEAR(h[1], 2 * h[0], 0.02);
  EXPECT_NEAR(h[2], 4 * h[0], 0.02);
  EXPECT_NEAR(h[3], 0.5 * h[0], 0.02);
  // All bars stand on the same baseline.
  const auto y = numbers(attrs(svg, "class=\"bar\"", "y"));
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(y[i] + h[i], y[0] + h[0], 0.02);
  // Nice y ticks: 1-2-5 steps starting at 0.
  const auto ticks = texts(svg, "class=\"tick y\"");
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_EQ(ticks[0], "0");
  const double step = std::stod(ticks[1]) - std::stod(ticks[0]);
  const double mant = step / std::pow(10, std::floor(std::log10(step)));
  EXPECT_TRUE(std::fabs(mant - 1) < 1e-9 || std::fabs(mant - 2) < 1e-9 || std::fabs(mant - 5) < 1e-9) << step;
}

TEST(SvgBar, NegativeAndDegenerateValues) {
  BarChart c = bit_widths();
  c.values = {-3, 2, 0, kNaN};
  std::string svg = bar_chart(c);
  expect_valid(svg);
  EXPECT_EQ(attrs(svg, "class=\"bar\"", "height").size(), 3u);  // NaN: no bar
  EXPECT_NE(svg.find(">n/a<"), std::string::npos);
  const auto h = numbers(attrs(svg, "class=\"bar\"", "height"));
  EXPECT_NEAR(h[0], 1.5 * h[1], 0.02);

  c.values = {7, 7, 7, 7};  // all equal
  expect_valid(bar_chart(c));
  c.values = {0, 0, 0, 0};  // zero range
  expect_valid(bar_chart(c));
  c.values = {1e308, -1e308, 1, kInf};
  expect_valid(bar_chart(c));
  c.categories = {"only"}, c.values = {3};
  expect_valid(bar_chart(c));

  BarChart empty;
  empty.title = "nothing";
  svg = bar_chart(empty);
  expect_valid(svg);
  EXPECT_NE(svg.find("no data"), std::string::npos);
}

TEST(SvgBar, LongCategoryLabelsAreRotated) {
  BarChart c = bit_widths();
  c.categories = {"a very long category name", "another very long category name", "third long name", "x"};
  const std::string svg = bar_chart(c);
  expect_valid(svg);
  EXPECT_NE(svg.find("rotate(-35"), std::string::npos);
}

TEST(SvgBar, InvalidInputThrows) {
  BarChart c = bit_widths();
  c.values.pop_back();
  expect_invalid([&] { bar_chart(c); }, "4 categories but 3 values");
  c = bit_widths();
  c.value_format = "{:q}";
  expect_invalid([&] { bar_chart(c); }, "value_format");
  c = bit_widths();
  c.size = {100, 50};
  expect_invalid([&] { bar_chart(c); }, "too small");
}

TEST(SvgLine, PointsMapMonotonically) {
  LineChart c;
  c.title = "monotone";
  c.series = {{"s", {0, 1, 2, 3, 4}, {1, 3, 4, 8, 9}}};
  const std::string svg = line_chart(c);
  expect_valid(svg);
  const auto pts = attrs(svg, "class=\"line\"", "points");
  ASSERT_EQ(pts.size(), 1u);
  std::vector<double> xs, ys;
  const std::regex pair("(-?[0-9.]+),(-?[0-9.]+)");
  for (auto it = std::sregex_iterator(pts[0].begin(), pts[0].end(), pair); it != std::sregex_iterator(); ++it)
    xs.push_back(std::stod((*it)[1])), ys.push_back(std::stod((*it)[2]));
  ASSERT_EQ(xs.size(), 5u);
  for (std::size_t i = 1; i < xs.size(); ++i) {
    EXPECT_GT(xs[i], xs[i - 1]);
    EXPECT_LT(ys[i], ys[i - 1]);  // larger y is higher up, i.e. smaller SVG y
  }
  // Linear: equal x steps are equal pixel steps; y distances proportional.
  EXPECT_NEAR(xs[1] - xs[0], xs[4] - xs[3], 0.02);
  EXPECT_NEAR(ys[0] - ys[3], 3.5 * (ys[0] - ys[1]), 0.05);
  EXPECT_EQ(attrs(svg, "<circle", "cx").size(), 5u);
  EXPECT_EQ(svg.find("(right)"), std::string::npos);  // no legend for one series
}

TEST(SvgLine, SecondAxisLegendAndThresholdMarker) {
  const std::string svg = line_chart(threshold_sweep());
  expect_valid(svg);
  for (const char* s : {"top-1 accuracy (%)", "relative energy (right)", "T_h = 0.35", "threshold T_h"})
    EXPECT_NE(svg.find(s), std::string::npos) << s;
  EXPECT_FALSE(texts(svg, "class=\"tick y2\"").empty());
  EXPECT_EQ(attrs(svg, "class=\"vline\"", "x1").size(), 1u);
  // The x axis of [0, 1] gets ticks 0.0 ... 1.0 in nice steps, the marker lies between them.
  const auto xt = texts(svg, "class=\"tick x\"");
  ASSERT_GE(xt.size(), 3u);
  EXPECT_EQ(xt.front(), "0.0");
  EXPECT_EQ(xt.back(), "1.0");
  const double vx = std::stod(attrs(svg, "class=\"vline\"", "x1")[0]);
  const auto line_pts = attrs(svg, "class=\"line\"", "points");
  ASSERT_EQ(line_pts.size(), 2u);
  const double x0 = std::stod(line_pts[0].substr(0, line_pts[0].find(',')));
  const std::string last = line_pts[0].substr(line_pts[0].rfind(' ') + 1);
  const double x1 = std::stod(last.substr(0, last.find(',')));
  EXPECT_NEAR(vx, x0 + 0.35 * (x1 - x0), 0.02);
  EXPECT_NE(svg.find("stroke-dasharray=\"6 3\""), std::string::npos);  // right-axis series dashed
}

TEST(SvgLine, DegenerateInputs) {
  LineChart c;
  c.title = "empty";
  std::string svg = line_chart(c);
  expect_valid(svg);
  EXPECT_NE(svg.find("no data"), std::string::npos);

  c.series = {{"one", {0.5}, {0.7}}};
  svg = line_chart(c);
  expect_valid(svg);
  EXPECT_EQ(attrs(svg, "<circle", "cx").size(), 1u);

  c.series = {{"flat", {0, 1, 2}, {3, 3, 3}}, {"empty", {}, {}}};
  expect_valid(line_chart(c));
  c.series = {{"zero", {1, 1, 1}, {0, 0, 0}, false, false}};
  expect_valid(line_chart(c));
  c.series = {{"neg", {-5, -2, 0}, {-1e-3, -2e-3, -4e-3}}};
  expect_valid(line_chart(c));
  c.series = {{"gaps", {0, 1, kNaN, 3, 4, 5}, {1, 2, 3, kInf, 5, 6}}};
  svg = line_chart(c);
  expect_valid(svg);
  EXPECT_EQ(attrs(svg, "class=\"line\"", "points").size(), 2u);
  c.vlines = {{kNaN, "bad"}, {2.5, ""}};
  expect_valid(line_chart(c));
  c.series = {{"huge", {0, 1}, {1e12, 3e12}}, {"tiny", {0, 1}, {1e-9, 2e-9}, true}};
  expect_valid(line_chart(c));
}

TEST(SvgLine, InvalidInputThrows) {
  LineChart c = threshold_sweep();
  c.series[1].y.pop_back();
  expect_invalid([&] { line_chart(c); }, "\"relative energy\") has 21 x values but 20 y values");
}

TEST(SvgHistogram, BinCountsIncludingEdgesAndHi) {
  // Bins of width 0.25 over [0, 1]: [0,.25) [.25,.5) [.5,.75) [.75,1].
  const std::vector<double> v = {0, 0.1, 0.25, 0.3, 0.5, 0.5, 0.74999, 0.75, 1.0, -0.1, 1.1, kNaN};
  EXPECT_EQ(bin_counts(v, 0, 1, 4), (std::vector<long>{2, 2, 3, 2}));
  // Decimal edges that are not exact binary fractions land in the upper bin.
  const std::vector<double> tenths = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  EXPECT_EQ(bin_counts(tenths, 0, 1, 10), (std::vector<long>{0, 1, 1, 1, 1, 1, 1, 1, 1, 2}));
  EXPECT_EQ(bin_counts({-1, 0, 1, 2, 3}, -1, 3, 2), (std::vector<long>{2, 3}));
  EXPECT_EQ(bin_counts({}, 0, 1, 3), (std::vector<long>{0, 0, 0}));
}

TEST(SvgHistogram, BarHeightsMatchCounts) {
  Histogram h;
  h.samples = {{0, 0.1, 0.25, 0.3, 0.5, 0.5, 0.74999, 0.75, 1.0}};
  h.bins = 4;
  h.normalize = false;
  std::string svg = histogram(h);
  expect_valid(svg);
  auto heights = numbers(attrs(svg, "class=\"bar\"", "height"));
  ASSERT_EQ(heights.size(), 4u);
  const std::vector<double> counts = {2, 2, 3, 2};
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(heights[i], heights[2] * counts[i] / 3, 0.02) << i;
  // Bars tile [lo, hi] without gaps.
  const auto x = numbers(attrs(svg, "class=\"bar\"", "x"));
  const auto w = numbers(attrs(svg, "class=\"bar\"", "width"));
  for (std::size_t i = 1; i < 4; ++i) EXPECT_NEAR(x[i], x[i - 1] + w[i - 1], 0.02);

  // Normalised: same shape, fractions of the sample (y ticks below 1).
  h.normalize = true;
  svg = histogram(h);
  heights = numbers(attrs(svg, "class=\"bar\"", "height"));
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(heights[i], heights[2] * counts[i] / 3, 0.02) << i;
  for (const auto& t : texts(svg, "class=\"tick y\"")) EXPECT_LE(std::stod(t), 1.0);
}

TEST(SvgHistogram, OverlaidSamplesWithLegendAndNote) {
  Histogram h = margins();
  h.samples[0].push_back(1.5);
  h.samples[1].push_back(-0.5);
  const std::string svg = histogram(h);
  expect_valid(svg);
  EXPECT_EQ(attrs(svg, "class=\"bar\"", "height").size(), 40u);
  EXPECT_EQ(attrs(svg, "class=\"step", "points").size(), 2u);
  for (const char* s : {">easy<", ">difficult<", "2 values outside [0, 1] not shown", "fraction of images"})
    EXPECT_NE(svg.find(s), std::string::npos) << s;
}

TEST(SvgHistogram, DegenerateInputs) {
  Histogram h;
  h.title = "empty";
  std::string svg = histogram(h);
  expect_valid(svg);
  EXPECT_NE(svg.find("no data"), std::string::npos);
  h.samples = {{}, {}};
  expect_valid(histogram(h));
  h.samples = {{0.5}};
  expect_valid(histogram(h));
  h.samples = {{0.3, 0.3, 0.3}};
  h.bins = 1;
  expect_valid(histogram(h));
  h.samples = {{-5, -4, -3}};
  h.lo = -10, h.hi = -1, h.bins = 9;
  expect_valid(histogram(h));
  h.samples = {{kNaN, kInf}};
  expect_valid(histogram(h));
}

TEST(SvgHistogram, InvalidInputThrows) {
  Histogram h = margins();
  h.bins = 0;
  expect_invalid([&] { histogram(h); }, "bins must be positive");
  h = margins();
  h.lo = 1, h.hi = 1;
  expect_invalid([&] { histogram(h); }, "lo < hi");
  h = margins();
  h.hi = kNaN;
  expect_invalid([&] { histogram(h); }, "lo < hi");
  h = margins();
  h.names = {"only one"};
  expect_invalid([&] { histogram(h); }, "1 names but 2 samples");
  expect_invalid([] { bin_counts({1}, 0, 1, -3); }, "bins must be positive");
}

TEST(SvgAll, Deterministic) {
  EXPECT_EQ(bar_chart(bit_widths()), bar_chart(bit_widths()));
  EXPECT_EQ(line_chart(threshold_sweep()), line_chart(threshold_sweep()));
  EXPECT_EQ(histogram(margins()), histogram(margins()));
  // Compact numbers: at most two decimals in coordinates.
  const std::string svg = line_chart(threshold_sweep());
  EXPECT_EQ(std::regex_search(svg, std::regex("[0-9]\\.[0-9]{3}")), false);
}

TEST(SvgAll, LongTextIsShortened) {
  BarChart c = bit_widths();
  c.title = std::string(300, 'W');
  const std::string svg = bar_chart(c);
  expect_valid(svg);
  EXPECT_EQ(svg.find(std::string(120, 'W')), svg.find("<title>") + 7);  // only the <title> element has it all
  EXPECT_NE(svg.find("\xE2\x80\xA6"), std::string::npos);
}

// Writes one chart of each kind to $BITSCALE_SVG_DEMO_DIR (for looking at them).
TEST(SvgAll, DemoFiles) {
  const char* dir = std::getenv("BITSCALE_SVG_DEMO_DIR");
  if (!dir) GTEST_SKIP() << "set BITSCALE_SVG_DEMO_DIR to write demo charts";
  BarChart b = bit_widths();
  b.values = {31.2, 42.5, 20.1, 6.2};
  std::ofstream(std::string(dir) + "/bar.svg") << bar_chart(b);
  std::ofstream(std::string(dir) + "/line.svg") << line_chart(threshold_sweep());
  std::ofstream(std::string(dir) + "/hist.svg") << histogram(margins());
  LineChart e;
  e.title = "empty";
  std::ofstream(std::string(dir) + "/empty.svg") << line_chart(e);
  BarChart n = bit_widths();
  n.title = "Negative values and long category names";
  n.categories = {"a very long category name", "another long category", "x", "none of the above"};
  n.values = {-12.5, 30, 0, 7};
  std::ofstream(std::string(dir) + "/bar_neg.svg") << bar_chart(n);
  LineChart many;
  many.title = "Many series in a small chart with a rather long title that needs shortening";
  many.size = {360, 260};
  many.x_label = "x";
  many.y_label = "y";
  for (int k = 0; k < 7; ++k)
    many.series.push_back({fmt::format("series number {}", k), {0, 1, 2}, {1.0 * k, k + 0.5, k * 0.7}});
  many.series.push_back({"single", {1.5}, {3}});
  many.vlines = {{1.9, "chosen threshold"}};
  std::ofstream(std::string(dir) + "/line_many.svg") << line_chart(many);
  Histogram o = margins();
  o.samples[0].push_back(2);
  o.normalize = false;
  o.y_label = "images";
  std::ofstream(std::string(dir) + "/hist_counts.svg") << histogram(o);
}

}  // namespace
}  // namespace bitscale::report::svg
