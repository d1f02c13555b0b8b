#pragma once
// A heatmap as a PNG: one cell per value of a rows x cols table, coloured from white (the lowest value
// shown) to dark blue (the highest), with the value printed in each cell and the row and column indices
// along the axes. The spectrum program draws the paper's Figure 1 (right) with it: layers x heads.
#include <string>
#include <vector>

#include "examples/common/canvas.h"

namespace lf {

struct HeatmapOptions {
  std::string title, row_label, col_label;
  double lo = 0, hi = 1;  // the colour scale's ends; values outside are clamped
  int decimals = 2;       // digits of the value printed in each cell
};

// values[r][c], every row the same length. Throws lf::Error for an empty or ragged table.
Canvas render_heatmap(const std::vector<std::vector<double>>& values, const HeatmapOptions& opt);
// Renders and writes an RGB PNG; throws lf::Error naming the file when it cannot be written.
void write_heatmap(const std::string& path, const std::vector<std::vector<double>>& values,
                   const HeatmapOptions& opt);

}  // namespace lf
