#pragma once
// An RGB raster to draw plots on: filled rectangles, anti-aliased thick lines, and text in a built-in
// 5x7 pixel font (printable ASCII, plus one row below for descenders), scaled by an integer factor.
// Coordinates: x right, y down, pixel centres at integer + 0.5.
#include <cstdint>
#include <string>
#include <vector>

namespace lf {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return w_; }
  int height() const { return h_; }
  const std::vector<uint8_t>& pixels() const { return px_; }  // row-major RGB, for write_png

  // Blends `c` over pixel (x, y) with opacity a in [0, 1]; outside the canvas or the clip box: ignored.
  void blend(int x, int y, Rgb c, double a);
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);  // [x0, x1) x [y0, y1)
  // A segment `width` pixels thick with round ends, edges anti-aliased by pixel-centre distance.
  void line(double x0, double y0, double x1, double y1, Rgb c, double width = 1.0);
  // Text with its top-left corner at (x, y); each font pixel becomes a scale x scale block.
  // vertical = true draws it rotated 90 degrees counter-clockwise (reading bottom to top), for y labels.
  void text(int x, int y, const std::string& s, Rgb c, int scale = 1, bool vertical = false);
  static int text_width(const std::string& s, int scale = 1) { return s.empty() ? 0 : int(s.size()) * 6 * scale - scale; }
  static int text_height(int scale = 1) { return 7 * scale; }  // cap height; descenders go 1 row lower

  // Drawing outside [x0, x1) x [y0, y1) is dropped until reset_clip() (lines stay inside the plot area).
  void clip(int x0, int y0, int x1, int y1);
  void reset_clip();

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
  int cx0_, cy0_, cx1_, cy1_;
};

}  // namespace lf
