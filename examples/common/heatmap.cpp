#include "examples/common/heatmap.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "examples/common/png.h"

namespace lf {

namespace {
constexpr int kScale = 2;  // font scale of labels and cell values
constexpr Rgb kText{40, 40, 40};

// White at t = 0 to a dark blue at t = 1.
Rgb shade(double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto mix = [&](int a, int b) { return uint8_t(std::lround(a + (b - a) * t)); };
  return {mix(255, 8), mix(255, 48), mix(255, 107)};
}
}  // namespace

Canvas render_heatmap(const std::vector<std::vector<double>>& values, const HeatmapOptions& opt) {
  LF_CHECK(!values.empty() && !values[0].empty(), "heatmap: no values to draw");
  const size_t rows = values.size(), cols = values[0].size();
  for (const auto& r : values)
    LF_CHECK(r.size() == cols, "heatmap: rows of {} and {} values; every row needs the same length", cols,
             r.size());
  const std::string sample = fmt::format("{:.{}f}", 0.0, opt.decimals);
  const int cell_w = std::max(48, Canvas::text_width(sample, kScale) + 16), cell_h = 36;
  const int ch = Canvas::text_height(kScale);
  const int left = 40 + Canvas::text_width(std::to_string(rows - 1), kScale) + ch;
  const int top = opt.title.empty() ? 20 : 20 + Canvas::text_height(3) + 16;
  // Wide enough for the cells and for the title (a small table under a long title).
  const int width = std::max(left + int(cols) * cell_w + 24, Canvas::text_width(opt.title, 3) + 40);
  const int height = top + int(rows) * cell_h + 3 * ch + 36;
  Canvas c(width, height);
  const double span = opt.hi > opt.lo ? opt.hi - opt.lo : 1.0;
  for (size_t r = 0; r < rows; ++r)
    for (size_t k = 0; k < cols; ++k) {
      const double v = values[r][k], t = (v - opt.lo) / span;
      const int x0 = left + int(k) * cell_w, y0 = top + int(r) * cell_h;
      c.fill_rect(x0, y0, x0 + cell_w - 2, y0 + cell_h - 2, shade(t));
      const std::string s = std::isfinite(v) ? fmt::format("{:.{}f}", v, opt.decimals) : "-";
      const Rgb ink = t > 0.55 ? Rgb{255, 255, 255} : kText;
      c.text(x0 + (cell_w - 2 - Canvas::text_width(s, kScale)) / 2, y0 + (cell_h - 2 - ch) / 2, s, ink,
             kScale);
    }
  for (size_t r = 0; r < rows; ++r) {
    const std::string s = std::to_string(r);
    c.text(left - 8 - Canvas::text_width(s, kScale), top + int(r) * cell_h + (cell_h - ch) / 2, s, kText,
           kScale);
  }
  for (size_t k = 0; k < cols; ++k) {
    const std::string s = std::to_string(k);
    c.text(left + int(k) * cell_w + (cell_w - Canvas::text_width(s, kScale)) / 2,
           top + int(rows) * cell_h + 6, s, kText, kScale);
  }
  if (!opt.title.empty()) c.text((width - Canvas::text_width(opt.title, 3)) / 2, 20, opt.title, {0, 0, 0}, 3);
  if (!opt.col_label.empty())
    c.text(left + (int(cols) * cell_w - Canvas::text_width(opt.col_label, kScale)) / 2, height - 12 - ch,
           opt.col_label, {0, 0, 0}, kScale);
  if (!opt.row_label.empty())
    c.text(12, top + (int(rows) * cell_h - Canvas::text_width(opt.row_label, kScale)) / 2, opt.row_label,
           {0, 0, 0}, kScale, true);
  return c;
}

void write_heatmap(const std::string& path, const std::vector<std::vector<double>>& values,
                   const HeatmapOptions& opt) {
  Canvas c = render_heatmap(values, opt);
  write_png(path, c.width(), c.height(), c.pixels());
}

}  // namespace lf
