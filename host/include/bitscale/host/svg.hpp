// Self-contained SVG charts drawn by the project itself (no plotting program needed): bar
// charts, line charts with one or two y axes, and overlaid histograms. Each function returns a
// complete standalone SVG document (UTF-8 text) with title, axis labels, ticks and a legend.
#pragma once

#include <string>
#include <vector>

namespace bitscale::host::svg {

struct Size {
  int width = 640;
  int height = 400;
};

/// One bar per category, with its value printed above the bar.
struct BarChart {
  std::string title, x_label, y_label;
  std::vector<std::string> categories;
  std::vector<double> values;        ///< same length as categories
  std::string value_format = "{:.1f}";  ///< fmt format of the printed values
  Size size;
};
std::string bar_chart(const BarChart& c);

struct Series {
  std::string name;
  std::vector<double> x, y;  ///< same length
  bool right_axis = false;   ///< plot against the right y axis (line_chart with y2_label)
  bool markers = true;
};

/// Lines through (x, y) points; a second y axis on the right when any series has right_axis.
/// Optional vertical marker lines (e.g. the chosen threshold) with labels.
struct LineChart {
  std::string title, x_label, y_label, y2_label;
  std::vector<Series> series;
  std::vector<std::pair<double, std::string>> vlines;
  Size size;
};
std::string line_chart(const LineChart& c);

/// Overlaid histograms of several samples over the same bins (e.g. score margins of easy and
/// difficult images), as outlined step curves or translucent bars, optionally normalised to
/// fractions of each sample.
struct Histogram {
  std::string title, x_label, y_label;
  std::vector<std::string> names;
  std::vector<std::vector<double>> samples;
  double lo = 0, hi = 1;
  int bins = 20;
  bool normalize = true;
  Size size;
};
std::string histogram(const Histogram& h);

/// Escapes &, <, >, " for SVG/XML text.
std::string escape(const std::string& s);

}  // namespace bitscale::host::svg
