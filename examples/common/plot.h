#pragma once
// Line plots as PNG files with no dependency beyond zlib: training curves (loss vs step) and benchmark
// curves (time or memory vs sequence length, usually log-log, as in the Linformer paper's figures).
//
//   lf::PlotOptions opt;  opt.title = "MLM loss";  opt.x_label = "step";  opt.y_label = "loss";
//   lf::write_line_plot("loss.png", {{"train", steps, train_loss}, {"valid", vsteps, valid_loss}}, opt);
//
// Axes get "nice" ticks (1, 2, 5 x 10^k; powers of ten on log axes), light grid lines and labels; the legend
// goes into whichever corner of the plot area has the fewest data points. Non-finite points (and
// non-positive ones on a log axis) are skipped and break the line.
#include <string>
#include <vector>

#include "examples/common/canvas.h"

namespace lf {

struct PlotSeries {
  std::string name;  // legend entry; series with an empty name are drawn but not listed
  std::vector<double> x, y;
};

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  int width = 900, height = 560;
  bool markers = false;    // also draw a dot at each point (for curves with few points, e.g. benchmarks)
  double line_width = 2.0;
};

// Draws the plot onto a new canvas (what write_line_plot encodes; tests inspect it directly).
Canvas render_line_plot(const std::vector<PlotSeries>& series, const PlotOptions& opt = {});
// Renders and writes an RGB PNG; throws lf::Error naming the file when it cannot be written, or when a
// series has x and y of different lengths.
void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& opt = {});

}  // namespace lf
