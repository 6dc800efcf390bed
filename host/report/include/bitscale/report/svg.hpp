// Self-contained SVG charts drawn by the project itself (no plotting program needed): bar
// charts, line charts with one or two y axes, and overlaid histograms. Each function returns a
// complete standalone SVG 1.1 document (UTF-8 text, starting with <svg and ending with </svg>
// and a newline, no XML declaration so it can be inlined in HTML) with title, axis labels,
// ticks at 1-2-5 steps and, for several series, a legend above the plot area.
//
// Output is deterministic (same input -> byte-identical text): coordinates are printed with at
// most two decimals. Degenerate data (no data, one point, all-equal values, negative values)
// gives a valid chart, with a "no data" note when nothing can be drawn; non-finite data values
// are left out (a line is broken there). Inconsistent input (mismatched lengths, bins <= 0,
// lo >= hi, a size below 160 x 120, an invalid value_format) throws std::invalid_argument
// naming the chart and the problem.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bitscale::report::svg {

struct Size {
  int width = 640;
  int height = 400;
};

/// One series of a grouped bar chart: a name (legend) and one value per category.
struct BarSeries {
  std::string name;
  std::vector<double> values;
};

/// One bar per category, with its value printed above the bar (below it for a negative value).
/// With `groups` (instead of `values`), each category gets one bar per series side by side, in
/// the series' colours (class "bar s<k>"), with a legend of the series names.
struct BarChart {
  std::string title, x_label, y_label;
  std::vector<std::string> categories;
  std::vector<double> values;           ///< same length as categories (or empty with groups)
  std::vector<BarSeries> groups;        ///< grouped bars: each series as long as categories
  std::string value_format = "{:.1f}";  ///< fmt format of the printed values
  Size size;
};
std::string bar_chart(const BarChart& c);

struct Series {
  std::string name;
  std::vector<double> x{}, y{};  ///< same length
  bool right_axis = false;       ///< plot against the right y axis (line_chart with y2_label)
  bool markers = true;
  /// An interval band around the line (e.g. a 95 % confidence interval): empty, or lo and hi as
  /// long as x; drawn as a translucent area in the series' colour (class "band"), broken where
  /// a bound is not finite.
  std::vector<double> lo{}, hi{};
  bool line = true;     ///< false: markers only (isolated points, e.g. a reference)
  bool dashed = false;  ///< a dashed line (as right-axis series are)
};

/// Lines through (x, y) points; a second y axis on the right when any series has right_axis
/// (those series are drawn dashed and marked "(right)" in the legend).
/// Optional vertical marker lines (e.g. the chosen threshold) and horizontal ones on the left
/// axis (e.g. a target), with labels.
struct LineChart {
  std::string title, x_label, y_label, y2_label;
  std::vector<Series> series;
  std::vector<std::pair<double, std::string>> vlines;
  std::vector<std::pair<double, std::string>> hlines;
  bool y_include_zero = false;   ///< left y axis starts at (or includes) 0
  bool y2_include_zero = false;  ///< right y axis starts at (or includes) 0
  Size size;
};
std::string line_chart(const LineChart& c);

/// Overlaid histograms of several samples over the same bins (e.g. score margins of easy and
/// difficult images), as translucent bars with an outlined step curve, optionally normalised to
/// fractions of each sample (of its finite values). Bins are [lo + i w, lo + (i+1) w) with
/// w = (hi - lo) / bins; hi itself goes in the last bin; values outside [lo, hi] are not drawn
/// (a note says how many).
struct Histogram {
  std::string title, x_label, y_label;
  std::vector<std::string> names;  ///< empty, or one per sample (legend)
  std::vector<std::vector<double>> samples;
  double lo = 0, hi = 1;
  int bins = 20;
  bool normalize = true;
  Size size;
};
std::string histogram(const Histogram& h);

/// Counts of `sample` in the bins of a Histogram (see there); non-finite values and values
/// outside [lo, hi] are not counted. Throws std::invalid_argument for bins <= 0 or !(lo < hi).
std::vector<long> bin_counts(const std::vector<double>& sample, double lo, double hi, int bins);

}  // namespace bitscale::report::svg
