#include "examples/common/plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "examples/common/png.h"

namespace lf {

namespace {

// matplotlib's "tab10" colours: distinct, and readable on white.
const Rgb kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                        {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
const Rgb kBlack{0, 0, 0}, kGrid{225, 225, 225}, kMinorGrid{242, 242, 242}, kText{40, 40, 40};
constexpr int kScale = 2;  // font scale for labels: 10x14-pixel characters

struct Tick {
  double value;
  std::string label;  // empty: minor tick, grid line only
};

// One axis: data range [lo, hi] (in log10 units for a log axis) and its ticks.
struct Axis {
  bool log = false;
  double lo = 0, hi = 1;
  std::vector<Tick> ticks;
  double transform(double v) const { return log ? std::log10(v) : v; }
  bool usable(double v) const { return std::isfinite(v) && (!log || v > 0); }
};

// Tick label: short decimal when it reads well, else mantissa-exponent ("2e6", "1.5e-5").
std::string format_number(double v, int decimals) {
  if (v == 0) return "0";
  double a = std::abs(v);
  if (a >= 1e5 || a < 1e-3) {
    int e = int(std::floor(std::log10(a)));
    double m = v / std::pow(10.0, e);
    std::string ms = fmt::format("{:.2f}", m);
    while (ms.back() == '0') ms.pop_back();  // "2.50" -> "2.5", "1.00" -> "1."
    if (ms.back() == '.') ms.pop_back();
    return fmt::format("{}e{}", ms, e);
  }
  return fmt::format("{:.{}f}", v, std::max(0, decimals));
}

// Linear axis: a step of 1, 2 or 5 x 10^k giving about 6 ticks, and bounds rounded out to whole steps.
void linear_ticks(Axis& ax, double lo, double hi) {
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {  // one value: give it some room
    double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / 6, mag = std::pow(10.0, std::floor(std::log10(raw))), norm = raw / mag;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  ax.lo = std::floor(lo / step + 1e-9) * step;
  ax.hi = std::ceil(hi / step - 1e-9) * step;
  int decimals = int(-std::floor(std::log10(step) + 1e-9));
  for (int i = 0;; ++i) {
    double v = ax.lo + i * step;
    if (v > ax.hi + step * 1e-6) break;
    if (std::abs(v) < step * 1e-9) v = 0;  // no "-0.0"
    ax.ticks.push_back({v, format_number(v, decimals)});
  }
}

// Log axis: the data range (padded a little), labels on the powers of ten inside it (and on 2 and 5 x 10^k
// when it spans few decades), light grid lines on 2..9 x 10^k when there are few enough decades. If any
// label needs an exponent, all use one, so "1000" and "1e5" never sit on the same axis.
void log_ticks(Axis& ax, double lo, double hi) {
  double a = std::log10(lo), b = std::log10(hi);
  if (b - a < 1e-9) a -= 0.5, b += 0.5;
  double pad = 0.03 * (b - a);
  ax.lo = a - pad;
  ax.hi = b + pad;
  const double decades = ax.hi - ax.lo;
  const int e0 = int(std::floor(ax.lo)), e1 = int(std::ceil(ax.hi));
  const int label_every = std::max(1, int(decades / 8));  // at most ~8 decade labels
  const bool exponent = std::pow(10.0, std::ceil(ax.lo)) < 1e-3 || std::pow(10.0, std::floor(ax.hi)) >= 1e5;
  for (int e = e0; e <= e1; ++e) {
    for (int m = 1; m <= 9; ++m) {
      double v = e + std::log10(double(m));
      if (v < ax.lo - 1e-9 || v > ax.hi + 1e-9) continue;
      if (m > 1 && decades > 6) continue;
      bool label = m == 1 ? (e - e0) % label_every == 0 : decades < 0.7 || (decades <= 2.5 && (m == 2 || m == 5));
      std::string text;
      if (label && exponent) text = m == 1 ? fmt::format("1e{}", e) : fmt::format("{}e{}", m, e);
      else if (label) text = format_number(m * std::pow(10.0, e), std::max(0, -e));
      ax.ticks.push_back({v, text});
    }
  }
}

Axis make_axis(const std::vector<PlotSeries>& series, bool log, bool is_x) {
  Axis ax;
  ax.log = log;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      double v = is_x ? s.x[i] : s.y[i], other = is_x ? s.y[i] : s.x[i];
      if (!ax.usable(v) || !std::isfinite(other)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!(lo <= hi)) lo = log ? 1 : 0, hi = log ? 10 : 1;  // nothing to plot: a default frame
  if (log) log_ticks(ax, lo, hi);
  else linear_ticks(ax, lo, hi);
  return ax;
}

}  // namespace

Canvas render_line_plot(const std::vector<PlotSeries>& series, const PlotOptions& opt) {
  for (const auto& s : series)
    LF_CHECK(s.x.size() == s.y.size(), "plot: series '{}' has {} x values but {} y values", s.name, s.x.size(),
             s.y.size());
  LF_CHECK(opt.width >= 200 && opt.height >= 150, "plot: image size {}x{} is too small (min 200x150)", opt.width,
           opt.height);
  Axis ax = make_axis(series, opt.log_x, true), ay = make_axis(series, opt.log_y, false);
  Canvas c(opt.width, opt.height);
  const int ch = Canvas::text_height(kScale);

  // Layout: room on the left for the widest y tick label and the rotated y label, below for the x tick
  // labels and the x label, on top for the title.
  int ylab_w = 0;
  for (const auto& t : ay.ticks) ylab_w = std::max(ylab_w, Canvas::text_width(t.label, kScale));
  const int left = 16 + (opt.y_label.empty() ? 0 : ch + 14) + ylab_w + 10;
  const int top = opt.title.empty() ? 20 : 20 + Canvas::text_height(3) + 16;
  const int bottom = opt.height - (12 + ch + 10 + (opt.x_label.empty() ? 0 : ch + 14));
  const int right = opt.width - 24 - Canvas::text_width("0", kScale);  // room for a last x label's overhang
  LF_CHECK(right - left > 40 && bottom - top > 40, "plot: {}x{} leaves no room for the plot area", opt.width,
           opt.height);
  auto px = [&](double v) { return left + (ax.transform(v) - ax.lo) / (ax.hi - ax.lo) * (right - left); };
  auto py = [&](double v) { return bottom - (ay.transform(v) - ay.lo) / (ay.hi - ay.lo) * (bottom - top); };

  // Grid (minor first so major lines draw over them), then tick labels.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& t : ax.ticks) {
      bool major = !t.label.empty() || !ax.log;
      if (major != (pass == 1)) continue;
      double x = left + (t.value - ax.lo) / (ax.hi - ax.lo) * (right - left);
      c.fill_rect(int(std::lround(x)), top, int(std::lround(x)) + 1, bottom, major ? kGrid : kMinorGrid);
      if (!t.label.empty()) {
        c.fill_rect(int(std::lround(x)), bottom, int(std::lround(x)) + 1, bottom + 6, kBlack);
        c.text(int(std::lround(x)) - Canvas::text_width(t.label, kScale) / 2, bottom + 12, t.label, kText, kScale);
      }
    }
    for (const auto& t : ay.ticks) {
      bool major = !t.label.empty() || !ay.log;
      if (major != (pass == 1)) continue;
      double y = bottom - (t.value - ay.lo) / (ay.hi - ay.lo) * (bottom - top);
      c.fill_rect(left, int(std::lround(y)), right, int(std::lround(y)) + 1, major ? kGrid : kMinorGrid);
      if (!t.label.empty()) {
        c.fill_rect(left - 6, int(std::lround(y)), left, int(std::lround(y)) + 1, kBlack);
        c.text(left - 10 - Canvas::text_width(t.label, kScale), int(std::lround(y)) - ch / 2, t.label, kText, kScale);
      }
    }
  }
  // Frame.
  c.fill_rect(left, top, right + 1, top + 1, kBlack);
  c.fill_rect(left, bottom, right + 1, bottom + 1, kBlack);
  c.fill_rect(left, top, left + 1, bottom + 1, kBlack);
  c.fill_rect(right, top, right + 1, bottom + 1, kBlack);

  // Title and axis labels.
  if (!opt.title.empty())
    c.text((left + right - Canvas::text_width(opt.title, 3)) / 2, 20, opt.title, kBlack, 3);
  if (!opt.x_label.empty())
    c.text((left + right - Canvas::text_width(opt.x_label, kScale)) / 2, opt.height - 12 - ch, opt.x_label, kBlack,
           kScale);
  if (!opt.y_label.empty())
    c.text(16, (top + bottom - Canvas::text_width(opt.y_label, kScale)) / 2, opt.y_label, kBlack, kScale, true);

  // Series, clipped to the plot area; a skipped point breaks the line.
  std::vector<std::pair<double, double>> drawn;  // projected points, to place the legend
  c.clip(left + 1, top + 1, right, bottom);
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    Rgb col = kPalette[k % std::size(kPalette)];
    bool have_prev = false;
    double qx = 0, qy = 0;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!ax.usable(s.x[i]) || !ay.usable(s.y[i])) {
        have_prev = false;
        continue;
      }
      double x = px(s.x[i]), y = py(s.y[i]);
      if (have_prev) {
        c.line(qx, qy, x, y, col, opt.line_width);
        int samples = int(std::hypot(x - qx, y - qy) / 8);  // every ~8 px, so long segments count too
        for (int j = 1; j <= samples; ++j)
          drawn.emplace_back(qx + (x - qx) * j / (samples + 1), qy + (y - qy) * j / (samples + 1));
      } else if (!opt.markers && (i + 1 == s.x.size() || !ax.usable(s.x[i + 1]) || !ay.usable(s.y[i + 1]))) {
        c.line(x, y, x, y, col, opt.line_width + 2);  // an isolated point (no segment on either side) still shows
      }
      if (opt.markers) c.line(x, y, x, y, col, opt.line_width + 4);
      drawn.emplace_back(x, y);
      qx = x, qy = y, have_prev = true;
    }
  }
  c.reset_clip();

  // Legend: a boxed list in the corner of the plot area that covers the fewest drawn points.
  std::vector<size_t> named;
  for (size_t k = 0; k < series.size(); ++k)
    if (!series[k].name.empty()) named.push_back(k);
  if (!named.empty()) {
    int text_w = 0;
    for (size_t k : named) text_w = std::max(text_w, Canvas::text_width(series[k].name, kScale));
    const int row_h = ch + 8, sample = 28;
    const int lw = 10 + sample + 8 + text_w + 10, lh = 8 + int(named.size()) * row_h;
    const int corners[4][2] = {{right - 10 - lw, top + 10}, {left + 10, top + 10}, {right - 10 - lw, bottom - 10 - lh},
                               {left + 10, bottom - 10 - lh}};
    int best = 0;
    size_t best_count = SIZE_MAX;
    for (int i = 0; i < 4; ++i) {
      size_t n = std::count_if(drawn.begin(), drawn.end(), [&](const auto& p) {
        return p.first >= corners[i][0] && p.first <= corners[i][0] + lw && p.second >= corners[i][1] &&
               p.second <= corners[i][1] + lh;
      });
      if (n < best_count) best = i, best_count = n;
    }
    const int lx = corners[best][0], ly = corners[best][1];
    c.fill_rect(lx, ly, lx + lw, ly + lh, {255, 255, 255});
    c.fill_rect(lx, ly, lx + lw, ly + 1, {160, 160, 160});
    c.fill_rect(lx, ly + lh - 1, lx + lw, ly + lh, {160, 160, 160});
    c.fill_rect(lx, ly, lx + 1, ly + lh, {160, 160, 160});
    c.fill_rect(lx + lw - 1, ly, lx + lw, ly + lh, {160, 160, 160});
    for (size_t r = 0; r < named.size(); ++r) {
      int y = ly + 8 + int(r) * row_h;
      Rgb col = kPalette[named[r] % std::size(kPalette)];
      c.line(lx + 10, y + ch / 2.0, lx + 10 + sample, y + ch / 2.0, col, opt.line_width + 1);
      if (opt.markers) c.line(lx + 10 + sample / 2.0, y + ch / 2.0, lx + 10 + sample / 2.0, y + ch / 2.0, col,
                              opt.line_width + 4);
      c.text(lx + 10 + sample + 8, y, series[named[r]].name, kText, kScale);
    }
  }
  return c;
}

void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& opt) {
  Canvas c = render_line_plot(series, opt);
  write_png(path, c.width(), c.height(), c.pixels());
}

}  // namespace lf
