#include "bitscale/report/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>

#include "bitscale/report/escape.hpp"

namespace bitscale::report::svg {
namespace {

// Okabe-Ito palette (colour-blind safe), most distinct first; yellow last (weak on white).
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                    "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr std::size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
const char* colour(std::size_t i) { return kPalette[i % kPaletteSize]; }

constexpr const char* kText = "#222222";
constexpr const char* kAxis = "#444444";
constexpr const char* kGrid = "#e3e3e3";
constexpr const char* kNote = "#666666";
constexpr double kTitlePx = 14, kLabelPx = 13, kTickPx = 12;
constexpr double kHuge = 1e300;  // data beyond this is clamped so that spans stay finite

// A coordinate or length: at most two decimals, trailing zeros dropped, never -0/nan/inf.
std::string num(double v) {
  if (!std::isfinite(v)) v = 0;
  std::string s = fmt::format("{:.2f}", v);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

double clamp_huge(double v) { return std::clamp(v, -kHuge, kHuge); }

// Number of characters (UTF-8 code points) of s.
std::size_t code_points(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Estimated rendered width of s in a sans-serif font of `px` pixels.
double text_width(const std::string& s, double px) { return 0.6 * px * static_cast<double>(code_points(s)); }

// s, shortened with an ellipsis (at a code point boundary) so that it fits in max_px.
std::string fit(const std::string& s, double max_px, double px) {
  if (text_width(s, px) <= max_px) return s;
  const auto keep = static_cast<std::size_t>(std::max(0.0, max_px / (0.6 * px) - 1));
  std::size_t pos = 0, n = 0;
  while (pos < s.size() && n < keep) {
    ++pos;
    while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
    ++n;
  }
  return s.substr(0, pos) + "\xE2\x80\xA6";  // U+2026
}

// ---- axes ----

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks;
  int decimals = 1;
  bool general = false;  // very large or small numbers: {:.4g}
};

// An axis covering [mn, mx] with ticks at multiples of a 1-2-5 step, about `target` of them.
// exact: the axis is [mn, mx] itself (ticks inside it); otherwise it is widened to whole steps.
Axis make_axis(double mn, double mx, int target, bool include_zero, bool exact = false) {
  if (!std::isfinite(mn) || !std::isfinite(mx) || mn > mx) mn = 0, mx = 1;
  mn = clamp_huge(mn), mx = clamp_huge(mx);
  if (include_zero) mn = std::min(mn, 0.0), mx = std::max(mx, 0.0);
  const double mag = std::max(std::fabs(mn), std::fabs(mx));
  if (mx - mn <= 1e-12 * mag || mx - mn == 0) {  // a single value: a range around it
    const double d = mag > 0 ? 0.1 * mag : 1;
    if (include_zero && mn == 0 && mx == 0)
      mx = 1;
    else if (include_zero && mn == 0)
      mx += d;
    else if (include_zero && mx == 0)
      mn -= d;
    else
      mn -= d, mx += d;
    exact = false;
  }
  Axis a;
  const double raw = (mx - mn) / std::max(1, target);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / p;
  a.step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * p;
  const double eps = 1e-9;
  const double first = std::ceil(mn / a.step - eps), last = std::floor(mx / a.step + eps);
  if (exact) {
    a.lo = mn, a.hi = mx;
  } else {
    a.lo = std::floor(mn / a.step + eps) * a.step;
    a.hi = std::ceil(mx / a.step - eps) * a.step;
  }
  const double lo_i = exact ? first : std::round(a.lo / a.step), hi_i = exact ? last : std::round(a.hi / a.step);
  for (double i = lo_i; i <= hi_i + 0.5 && a.ticks.size() < 200; i += 1) {
    double t = i * a.step;
    if (std::fabs(t) < a.step * 1e-6) t = 0;
    a.ticks.push_back(t);
  }
  a.general = a.step < 1e-4 || std::max(std::fabs(a.lo), std::fabs(a.hi)) >= 1e7;
  a.decimals = std::clamp(static_cast<int>(-std::floor(std::log10(a.step) + 1e-9)), 0, 10);
  return a;
}

std::string tick_label(const Axis& a, double v) {
  std::string s = a.general ? fmt::format("{:.4g}", v) : fmt::format("{:.{}f}", v, a.decimals);
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // -0.0
  return s;
}

double max_tick_width(const Axis& a) {
  double w = 0;
  for (double t : a.ticks) w = std::max(w, text_width(tick_label(a, t), kTickPx));
  return w;
}

// Linear map of an axis onto pixels [p0, p1].
struct Scale {
  Axis axis;
  double p0 = 0, p1 = 1;
  double operator()(double v) const {
    const double span = axis.hi - axis.lo;
    return p0 + (clamp_huge(v) - axis.lo) / span * (p1 - p0);
  }
};

// ---- document ----

struct LegendItem {
  std::string name;
  std::string colour;
  enum Kind { kLine, kDashed, kBox, kBar, kMarker } kind = kLine;
  bool marker = false;
  bool band = false;  // a translucent band behind the line
};

struct Layout {
  double left = 0, top = 0, right = 0, bottom = 0;  // plot area
  double legend_top = 0;
  std::vector<std::vector<std::size_t>> legend_rows;
  std::vector<double> legend_widths;
};

constexpr double kLegendRow = 20, kSwatch = 24;

double legend_item_width(const LegendItem& it) { return kSwatch + 6 + text_width(it.name, kTickPx) + 18; }

class Doc {
 public:
  Doc(const Size& size, const std::string& title) : w_(size.width), h_(size.height) {
    out_ = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
        "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"{2}\">\n",
        w_, h_, num(kTickPx));
    out_ += fmt::format("<title>{}</title>\n", escape(title));
    out_ += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", w_, h_);
  }
  double width() const { return w_; }
  double height() const { return h_; }
  void raw(const std::string& s) { out_ += s; }
  void line(double x1, double y1, double x2, double y2, const char* stroke, double width = 1,
            const std::string& extra = "") {
    out_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n",
                        num(x1), num(y1), num(x2), num(y2), stroke, num(width), extra);
  }
  // anchor: start|middle|end; rotate: degrees about (x, y).
  void text(double x, double y, const std::string& s, double px, const char* anchor = "middle",
            const char* fill = kText, double rotate = 0, const std::string& extra = "") {
    std::string rot = rotate != 0 ? fmt::format(" transform=\"rotate({} {} {})\"", num(rotate), num(x), num(y)) : "";
    out_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\"{}{}>{}</text>\n",
                        num(x), num(y), num(px), anchor, fill, rot, extra, escape(s));
  }
  std::string finish() {
    out_ += "</svg>\n";
    return std::move(out_);
  }

 private:
  double w_, h_;
  std::string out_;
};

void check_size(const Size& s, const char* chart) {
  if (s.width < 160 || s.height < 120)
    throw std::invalid_argument(
        fmt::format("svg::{}: size {} x {} is too small (at least 160 x 120)", chart, s.width, s.height));
}

// Vertical layout: title, legend rows (wrapped to the width) and the plot's top and bottom.
Layout plan(const Size& size, const std::string& title, const std::vector<LegendItem>& legend, double bottom_need) {
  Layout l;
  double y = title.empty() ? 10 : 36;
  if (!legend.empty()) {
    const double avail = size.width - 20;
    std::vector<std::size_t> row;
    double rw = 0;
    for (std::size_t i = 0; i < legend.size(); ++i) {
      const double iw = std::min(legend_item_width(legend[i]), avail);
      if (!row.empty() && rw + iw > avail) {
        l.legend_rows.push_back(row), l.legend_widths.push_back(rw);
        row.clear(), rw = 0;
      }
      row.push_back(i), rw += iw;
    }
    l.legend_rows.push_back(row), l.legend_widths.push_back(rw);
    l.legend_top = y + 4;
    y = l.legend_top + kLegendRow * static_cast<double>(l.legend_rows.size());
  }
  l.top = y + 14;
  l.bottom = size.height - bottom_need;
  return l;
}

// About one y tick per 55 px of plot height.
int y_target(const Layout& l) { return std::max(2, static_cast<int>((l.bottom - l.top) / 55)); }

// Draws the title and fixes the horizontal margins.
void place(Doc& d, Layout& l, const std::string& title, double left_need, double right_need) {
  if (!title.empty())
    d.text(d.width() / 2, 26, fit(title, d.width() - 20, kTitlePx), kTitlePx, "middle", kText, 0,
           " font-weight=\"bold\"");
  l.left = left_need;
  l.right = d.width() - right_need;
}

void draw_legend(Doc& d, const Layout& l, const std::vector<LegendItem>& legend) {
  for (std::size_t r = 0; r < l.legend_rows.size(); ++r) {
    double x = (d.width() - l.legend_widths[r]) / 2 + 9;  // the row is centred (item has 18 px spacing)
    const double cy = l.legend_top + kLegendRow * static_cast<double>(r) + kLegendRow / 2;
    for (std::size_t i : l.legend_rows[r]) {
      const LegendItem& it = legend[i];
      const std::string c = it.colour;
      if (it.kind == LegendItem::kBox) {
        d.raw(
            fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"10\" fill=\"{}\" fill-opacity=\"0.3\" "
                        "stroke=\"{}\" stroke-width=\"1.5\"/>\n",
                        num(x + 2), num(cy - 5), num(kSwatch - 4), c, c));
      } else if (it.kind == LegendItem::kBar) {
        d.raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"10\" fill=\"{}\"/>\n", num(x + 2), num(cy - 5),
                          num(kSwatch - 4), c));
      } else if (it.kind == LegendItem::kMarker) {
        d.raw(fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"/>\n", num(x + kSwatch / 2), num(cy), c));
      } else {
        if (it.band)
          d.raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{}\" fill-opacity=\"0.2\"/>\n",
                            num(x), num(cy - 6), num(kSwatch), c));
        d.line(x, cy, x + kSwatch, cy, c.c_str(), 2, it.kind == LegendItem::kDashed ? " stroke-dasharray=\"6 3\"" : "");
        if (it.marker)
          d.raw(fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>\n", num(x + kSwatch / 2), num(cy), c));
      }
      const double avail = d.width() - 20 - kSwatch - 24;
      d.text(x + kSwatch + 6, cy + 4, fit(it.name, avail, kTickPx), kTickPx, "start");
      x += std::min(legend_item_width(it), d.width() - 20);
    }
  }
}

// Horizontal grid lines, tick labels and the axis title of a y axis; side: -1 left, +1 right.
void draw_y_axis(Doc& d, const Layout& l, const Scale& s, const std::string& label, int side, bool grid) {
  const double x = side < 0 ? l.left : l.right;
  for (double t : s.axis.ticks) {
    const double y = s(t);
    if (grid) d.line(l.left, y, l.right, y, kGrid);
    d.line(x, y, x + 5 * side, y, kAxis);
    d.text(x + 8 * side, y + 4, tick_label(s.axis, t), kTickPx, side < 0 ? "end" : "start", kText, 0,
           side < 0 ? " class=\"tick y\"" : " class=\"tick y2\"");
  }
  d.line(x, l.top, x, l.bottom, kAxis);
  if (!label.empty()) {
    const double tx = side < 0 ? 22 : d.width() - 12;
    d.text(tx, (l.top + l.bottom) / 2, fit(label, l.bottom - l.top, kLabelPx), kLabelPx, "middle", kText, -90);
  }
}

void draw_x_title(Doc& d, const Layout& l, const std::string& label, double y) {
  if (!label.empty()) d.text((l.left + l.right) / 2, y, fit(label, d.width() - 20, kLabelPx), kLabelPx);
}

void draw_note(Doc& d, const Layout& l, const std::string& note) {
  d.text((l.left + l.right) / 2, (l.top + l.bottom) / 2, note, kLabelPx, "middle", kNote, 0, " font-style=\"italic\"");
}

// Left margin for y tick labels of width tw and an optional title; same for the right side.
double left_margin(double tw, const std::string& label) { return (label.empty() ? 10 : 32) + tw + 10; }
double right_margin(double tw, const std::string& label) { return (label.empty() ? 10 : 32) + tw + 10; }

constexpr double kXTicks = 18;  // x tick label baseline below the plot
constexpr double kXTitle = 40;  // x title baseline below the plot

std::string format_value(const std::string& f, double v) {
  try {
    return fmt::format(fmt::runtime(f), v);
  } catch (const fmt::format_error& e) {
    throw std::invalid_argument(fmt::format("svg::bar_chart: invalid value_format \"{}\": {}", f, e.what()));
  }
}

}  // namespace

std::vector<long> bin_counts(const std::vector<double>& sample, double lo, double hi, int bins) {
  if (bins <= 0) throw std::invalid_argument(fmt::format("svg::histogram: bins must be positive (got {})", bins));
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
    throw std::invalid_argument(fmt::format("svg::histogram: need finite lo < hi (got lo {} hi {})", lo, hi));
  std::vector<long> counts(static_cast<std::size_t>(bins), 0);
  // Edge i is computed as lo + (hi - lo) * i / bins so that e.g. 0.3 is exactly edge 3 of 10.
  auto edge = [&](long i) { return lo + (hi - lo) * static_cast<double>(i) / bins; };
  for (double v : sample) {
    if (!std::isfinite(v) || v < lo || v > hi) continue;
    long i = static_cast<long>(std::floor((v - lo) / (hi - lo) * bins));
    i = std::clamp(i, 0L, static_cast<long>(bins) - 1);
    if (i > 0 && v < edge(i)) --i;
    if (i < bins - 1 && v >= edge(i + 1)) ++i;
    ++counts[static_cast<std::size_t>(i)];
  }
  return counts;
}

std::string bar_chart(const BarChart& c) {
  check_size(c.size, "bar_chart");
  const bool grouped = !c.groups.empty();
  if (grouped && !c.values.empty()) throw std::invalid_argument("svg::bar_chart: give values or groups, not both");
  if (!grouped && c.categories.size() != c.values.size())
    throw std::invalid_argument(
        fmt::format("svg::bar_chart: {} categories but {} values", c.categories.size(), c.values.size()));
  // One row of values per series (a single unnamed one without groups).
  std::vector<std::vector<double>> rows;
  if (grouped) {
    for (std::size_t k = 0; k < c.groups.size(); ++k) {
      if (c.groups[k].values.size() != c.categories.size())
        throw std::invalid_argument(fmt::format("svg::bar_chart: series {} (\"{}\") has {} values but {} categories", k,
                                                c.groups[k].name, c.groups[k].values.size(), c.categories.size()));
      rows.push_back(c.groups[k].values);
    }
  } else {
    rows.push_back(c.values);
  }
  const std::size_t ns = rows.size();
  std::vector<std::vector<std::string>> labels(ns);
  double mn = std::numeric_limits<double>::infinity(), mx = -mn;
  for (std::size_t k = 0; k < ns; ++k) {
    for (double v : rows[k]) {
      labels[k].push_back(std::isfinite(v) ? format_value(c.value_format, v) : "n/a");
      if (std::isfinite(v)) mn = std::min(mn, clamp_huge(v)), mx = std::max(mx, clamp_huge(v));
    }
  }
  const bool any = mn <= mx;
  if (!any) mn = 0, mx = 1;
  // Headroom for the value labels above (below) the highest (lowest) bar.
  const double span = std::max(mx, 0.0) - std::min(mn, 0.0);
  if (mx > 0) mx += 0.1 * span;
  if (mn < 0) mn -= 0.1 * span;

  std::vector<LegendItem> legend;
  if (grouped)
    for (std::size_t k = 0; k < ns; ++k)
      legend.push_back(
          {c.groups[k].name.empty() ? fmt::format("series {}", k + 1) : c.groups[k].name, colour(k), LegendItem::kBar});

  Doc d(c.size, c.title);
  // Category labels: horizontal if they fit their band, else rotated by 35 degrees.
  const std::size_t n = c.categories.size();
  const double plot_w_est = c.size.width - 90;
  const double band_est = n ? plot_w_est / static_cast<double>(n) : plot_w_est;
  double max_lw = 0;
  for (const auto& s : c.categories) max_lw = std::max(max_lw, text_width(s, kTickPx));
  const bool rotate = max_lw > band_est - 6;
  const double max_rot = 150;                                                  // rotated labels are cut to this width
  const double rot_drop = rotate ? std::min(max_lw, max_rot) * 0.574 + 4 : 0;  // sin(35)
  const double bottom = (c.x_label.empty() ? 26 : 48) + rot_drop;

  Layout l = plan(c.size, c.title, legend, bottom);
  const Axis ya = make_axis(mn, mx, y_target(l), true);
  place(d, l, c.title, left_margin(max_tick_width(ya), c.y_label), 20);
  Scale ys{ya, l.bottom, l.top};
  draw_y_axis(d, l, ys, c.y_label, -1, true);
  const double y0 = ys(0);
  d.line(l.left, y0, l.right, y0, kAxis);

  // Each category's band: the bars take its middle 60 % (grouped: side by side, a small gap).
  const double band = n ? (l.right - l.left) / static_cast<double>(n) : 0;
  const double sub = band * 0.6 / static_cast<double>(ns);
  const double bar_w = grouped ? sub * 0.9 : sub;
  for (std::size_t k = 0; k < ns; ++k) {
    const std::string bar_class = grouped ? fmt::format("bar s{}", k) : std::string("bar");
    d.raw(fmt::format("<g fill=\"{}\">\n", colour(k)));
    for (std::size_t i = 0; i < n; ++i) {
      const double v = rows[k][i];
      if (!std::isfinite(v)) continue;
      const double yv = ys(v);
      const double x = l.left + band * (static_cast<double>(i) + 0.2) + sub * static_cast<double>(k);
      d.raw(fmt::format("<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", bar_class, num(x),
                        num(std::min(yv, y0)), num(bar_w), num(std::fabs(y0 - yv))));
    }
    d.raw("</g>\n");
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double cx = l.left + band * (static_cast<double>(i) + 0.5);
    for (std::size_t k = 0; k < ns; ++k) {
      const double v = rows[k][i];
      const double bx =
          grouped ? l.left + band * (static_cast<double>(i) + 0.2) + sub * (static_cast<double>(k) + 0.45) : cx;
      const double yv = std::isfinite(v) ? ys(v) : y0;
      const double ty = (std::isfinite(v) && v < 0) ? yv + 15 : yv - 5;
      const double room = grouped ? std::max(sub, band / static_cast<double>(ns)) : band;
      d.text(bx, ty, fit(labels[k][i], room, kTickPx), kTickPx, "middle", kText, 0,
             grouped ? fmt::format(" class=\"value s{}\"", k) : std::string(" class=\"value\""));
    }
    if (rotate)
      d.text(cx + 4, l.bottom + 14, fit(c.categories[i], max_rot, kTickPx), kTickPx, "end", kText, -35);
    else
      d.text(cx, l.bottom + kXTicks, c.categories[i], kTickPx);
  }
  draw_x_title(d, l, c.x_label, l.bottom + (rotate ? rot_drop + 30 : kXTitle));
  draw_legend(d, l, legend);
  if (!any) draw_note(d, l, "no data");
  return d.finish();
}

std::string line_chart(const LineChart& c) {
  check_size(c.size, "line_chart");
  bool has_right = false;
  double xmn = std::numeric_limits<double>::infinity(), xmx = -xmn;
  double ymn[2] = {xmn, xmn}, ymx[2] = {xmx, xmx};
  bool any = false;
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    if (s.x.size() != s.y.size())
      throw std::invalid_argument(fmt::format("svg::line_chart: series {} (\"{}\") has {} x values but {} y values", k,
                                              s.name, s.x.size(), s.y.size()));
    if ((!s.lo.empty() || !s.hi.empty()) && (s.lo.size() != s.x.size() || s.hi.size() != s.x.size()))
      throw std::invalid_argument(
          fmt::format("svg::line_chart: series {} (\"{}\") has {} x values but a band of {} lo and {} hi values", k,
                      s.name, s.x.size(), s.lo.size(), s.hi.size()));
    has_right |= s.right_axis;
    const int a = s.right_axis ? 1 : 0;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      any = true;
      xmn = std::min(xmn, s.x[i]), xmx = std::max(xmx, s.x[i]);
      ymn[a] = std::min(ymn[a], s.y[i]), ymx[a] = std::max(ymx[a], s.y[i]);
      if (!s.lo.empty() && std::isfinite(s.lo[i]) && std::isfinite(s.hi[i]))
        ymn[a] = std::min({ymn[a], s.lo[i], s.hi[i]}), ymx[a] = std::max({ymx[a], s.lo[i], s.hi[i]});
    }
  }
  for (const auto& [x, label] : c.vlines)
    if (std::isfinite(x)) xmn = std::min(xmn, x), xmx = std::max(xmx, x);
  for (const auto& [y, label] : c.hlines)
    if (std::isfinite(y)) ymn[0] = std::min(ymn[0], y), ymx[0] = std::max(ymx[0], y);

  std::vector<LegendItem> legend;
  if (c.series.size() >= 2 || (has_right && !c.series.empty())) {
    for (std::size_t k = 0; k < c.series.size(); ++k) {
      const Series& s = c.series[k];
      std::string name = s.name.empty() ? fmt::format("series {}", k + 1) : s.name;
      if (s.right_axis) name += " (right)";
      const auto kind = !s.line                      ? LegendItem::kMarker
                        : (s.right_axis || s.dashed) ? LegendItem::kDashed
                                                     : LegendItem::kLine;
      legend.push_back({name, colour(k), kind, s.markers, !s.lo.empty()});
    }
  }

  Doc d(c.size, c.title);
  Layout l = plan(c.size, c.title, legend, c.x_label.empty() ? 28 : 50);
  const Axis ya = make_axis(ymn[0], ymx[0], y_target(l), c.y_include_zero);
  const Axis y2a = make_axis(ymn[1], ymx[1], y_target(l), c.y2_include_zero);
  const double lm = left_margin(max_tick_width(ya), c.y_label);
  const double rm = has_right ? right_margin(max_tick_width(y2a), c.y2_label) : 24;
  const int xtarget = std::max(2, static_cast<int>((c.size.width - lm - rm) / 80));
  const Axis xa = make_axis(xmn, xmx, xtarget, false);
  place(d, l, c.title, lm, rm);
  const Scale xs{xa, l.left, l.right}, ys{ya, l.bottom, l.top}, y2s{y2a, l.bottom, l.top};

  for (double t : xa.ticks) {
    const double x = xs(t);
    d.line(x, l.top, x, l.bottom, kGrid);
    d.line(x, l.bottom, x, l.bottom + 5, kAxis);
    d.text(x, l.bottom + kXTicks, tick_label(xa, t), kTickPx, "middle", kText, 0, " class=\"tick x\"");
  }
  draw_y_axis(d, l, ys, c.y_label, -1, true);
  if (has_right) draw_y_axis(d, l, y2s, c.y2_label, 1, false);
  d.line(l.left, l.bottom, l.right, l.bottom, kAxis);
  draw_x_title(d, l, c.x_label, l.bottom + kXTitle);

  // Bands first, below every line: one polygon per run of finite points.
  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    if (s.lo.empty()) continue;
    const Scale& sy = s.right_axis ? y2s : ys;
    std::vector<std::vector<std::size_t>> runs(1);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.lo[i]) && std::isfinite(s.hi[i]))
        runs.back().push_back(i);
      else if (!runs.back().empty())
        runs.emplace_back();
    }
    for (const auto& run : runs) {
      if (run.size() < 2) continue;
      std::string pts;
      for (std::size_t i : run)
        pts += fmt::format("{}{},{}", pts.empty() ? "" : " ", num(xs(s.x[i])), num(sy(std::max(s.lo[i], s.hi[i]))));
      for (auto it = run.rbegin(); it != run.rend(); ++it)
        pts += fmt::format(" {},{}", num(xs(s.x[*it])), num(sy(std::min(s.lo[*it], s.hi[*it]))));
      d.raw(
          fmt::format("<polygon class=\"band s{}\" points=\"{}\" fill=\"{}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n",
                      k, pts, colour(k)));
    }
  }
  for (const auto& [y, label] : c.hlines) {
    if (!std::isfinite(y)) continue;
    const double py = ys(y);
    d.line(l.left, py, l.right, py, "#555555", 1.5, " stroke-dasharray=\"4 3\" class=\"hline\"");
    if (!label.empty()) d.text(l.right - 4, py - 4, fit(label, 0.6 * (l.right - l.left), kTickPx), kTickPx, "end");
  }

  for (std::size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    const Scale& sy = s.right_axis ? y2s : ys;
    const char* col = colour(k);
    d.raw(fmt::format("<g class=\"series s{}\" stroke=\"{}\" fill=\"{}\">\n", k, col, col));
    // Polylines between non-finite points; isolated points always get a marker.
    std::vector<std::vector<std::size_t>> runs(1);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        runs.back().push_back(i);
      else if (!runs.back().empty())
        runs.emplace_back();
    }
    for (const auto& run : runs) {
      if (run.size() < 2 || !s.line) continue;
      std::string pts;
      for (std::size_t i : run) pts += fmt::format("{}{},{}", pts.empty() ? "" : " ", num(xs(s.x[i])), num(sy(s.y[i])));
      d.raw(fmt::format("<polyline class=\"line\" points=\"{}\" fill=\"none\" stroke-width=\"2\"{}/>\n", pts,
                        (s.right_axis || s.dashed) ? " stroke-dasharray=\"6 3\"" : ""));
    }
    for (const auto& run : runs)
      if (s.markers || run.size() == 1 || !s.line)
        for (std::size_t i : run)
          d.raw(fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" stroke=\"none\"/>\n", num(xs(s.x[i])),
                            num(sy(s.y[i])), s.line ? 3 : 5));
    d.raw("</g>\n");
  }

  for (const auto& [x, label] : c.vlines) {
    if (!std::isfinite(x)) continue;
    const double px = xs(x);
    d.line(px, l.top, px, l.bottom, "#555555", 1.5, " stroke-dasharray=\"4 3\" class=\"vline\"");
    if (label.empty()) continue;
    const bool left_side = px > l.left + 0.7 * (l.right - l.left);
    const std::string t = fit(label, 0.45 * (l.right - l.left), kTickPx);
    const double tw = text_width(t, kTickPx);
    const double tx = left_side ? px - 5 : px + 5;
    d.raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\n",
                      num(left_side ? tx - tw - 2 : tx - 2), num(l.top + 2), num(tw + 4)));
    d.text(tx, l.top + 14, t, kTickPx, left_side ? "end" : "start");
  }
  draw_legend(d, l, legend);
  if (!any) draw_note(d, l, "no data");
  return d.finish();
}

std::string histogram(const Histogram& h) {
  check_size(h.size, "histogram");
  if (!h.names.empty() && h.names.size() != h.samples.size())
    throw std::invalid_argument(
        fmt::format("svg::histogram: {} names but {} samples", h.names.size(), h.samples.size()));
  const auto ns = h.samples.size();
  std::vector<std::vector<double>> heights(ns);
  long outside = 0, finite_total = 0;
  double ymax = 0;
  for (std::size_t k = 0; k < ns; ++k) {
    const std::vector<long> counts = bin_counts(h.samples[k], h.lo, h.hi, h.bins);  // validates bins, lo, hi
    long finite = 0, in = 0;
    for (double v : h.samples[k]) finite += std::isfinite(v) ? 1 : 0;
    for (long n : counts) in += n;
    outside += finite - in, finite_total += finite;
    for (long n : counts) {
      const double v =
          h.normalize ? (finite ? static_cast<double>(n) / static_cast<double>(finite) : 0) : static_cast<double>(n);
      heights[k].push_back(v);
      ymax = std::max(ymax, v);
    }
  }
  if (ns == 0) (void)bin_counts({}, h.lo, h.hi, h.bins);  // validate parameters anyway

  std::vector<LegendItem> legend;
  if (ns >= 2 || !h.names.empty())
    for (std::size_t k = 0; k < ns; ++k)
      legend.push_back({h.names.empty() || h.names[k].empty() ? fmt::format("sample {}", k + 1) : h.names[k], colour(k),
                        LegendItem::kBox, false});

  Doc d(h.size, h.title);
  const std::string note = outside > 0 ? fmt::format("{} value{} outside [{:g}, {:g}] not shown", outside,
                                                     outside == 1 ? "" : "s", h.lo, h.hi)
                                       : "";
  Layout l = plan(h.size, h.title, legend, (h.x_label.empty() ? 28 : 50) + (note.empty() ? 0 : 18));
  const Axis ya = make_axis(0, ymax * 1.05, y_target(l), true);  // headroom above the tallest bar
  const double lm = left_margin(max_tick_width(ya), h.y_label);
  const double rm = 24;
  const int xtarget = std::max(2, static_cast<int>((h.size.width - lm - rm) / 80));
  const Axis xa = make_axis(h.lo, h.hi, xtarget, false, true);
  place(d, l, h.title, lm, rm);
  const Scale xs{xa, l.left, l.right}, ys{ya, l.bottom, l.top};

  for (double t : xa.ticks) {
    const double x = xs(t);
    d.line(x, l.top, x, l.bottom, kGrid);
    d.line(x, l.bottom, x, l.bottom + 5, kAxis);
    d.text(x, l.bottom + kXTicks, tick_label(xa, t), kTickPx, "middle", kText, 0, " class=\"tick x\"");
  }
  draw_y_axis(d, l, ys, h.y_label, -1, true);
  draw_x_title(d, l, h.x_label, l.bottom + kXTitle);
  if (!note.empty()) d.text(l.right, d.height() - 8, note, kTickPx, "end", kNote);

  const auto edge = [&](int i) { return h.lo + (h.hi - h.lo) * i / h.bins; };
  const double y0 = ys(0);
  for (std::size_t k = 0; k < ns; ++k) {
    const char* col = colour(k);
    d.raw(fmt::format("<g class=\"series s{}\" fill=\"{}\" fill-opacity=\"0.3\" stroke=\"none\">\n", k, col));
    for (int i = 0; i < h.bins; ++i) {
      const double x0 = xs(edge(i)), x1 = xs(edge(i + 1)), yv = ys(heights[k][static_cast<std::size_t>(i)]);
      d.raw(fmt::format("<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n", num(x0), num(yv),
                        num(x1 - x0), num(y0 - yv)));
    }
    d.raw("</g>\n");
  }
  for (std::size_t k = 0; k < ns; ++k) {  // outlines above all fills
    std::string pts = fmt::format("{},{}", num(xs(h.lo)), num(y0));
    for (int i = 0; i < h.bins; ++i) {
      const double yv = ys(heights[k][static_cast<std::size_t>(i)]);
      pts += fmt::format(" {},{} {},{}", num(xs(edge(i))), num(yv), num(xs(edge(i + 1))), num(yv));
    }
    pts += fmt::format(" {},{}", num(xs(h.hi)), num(y0));
    d.raw(fmt::format("<polyline class=\"step s{}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"/>\n",
                      k, pts, colour(k)));
  }
  d.line(l.left, l.bottom, l.right, l.bottom, kAxis);
  draw_legend(d, l, legend);
  if (finite_total == 0) draw_note(d, l, "no data");
  return d.finish();
}

}  // namespace bitscale::report::svg
