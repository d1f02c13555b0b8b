// examples/common: the PNG line-plot writer (decoded back and checked chunk by chunk), and the CSV writer
// and progress line the examples log with.
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "examples/common/canvas.h"
#include "examples/common/csv.h"
#include "examples/common/plot.h"
#include "examples/common/png.h"
#include "examples/common/progress.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
}

// Checks the PNG structure and returns the decoded RGB pixels (filter bytes removed).
std::vector<uint8_t> decode_png(const std::vector<uint8_t>& png, int width, int height) {
  const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  REQUIRE(png.size() > 8);
  REQUIRE(std::equal(signature, signature + 8, png.begin()));
  std::vector<std::string> types;
  std::vector<uint8_t> idat;
  size_t pos = 8;
  while (pos < png.size()) {
    REQUIRE(pos + 12 <= png.size());
    const uint32_t len = be32(png, pos);
    REQUIRE(pos + 12 + len <= png.size());
    const std::string type(png.begin() + long(pos + 4), png.begin() + long(pos + 8));
    types.push_back(type);
    // The CRC covers type and data.
    uLong crc = crc32(crc32(0L, Z_NULL, 0), png.data() + pos + 4, uInt(4 + len));
    CHECK(be32(png, pos + 8 + len) == uint32_t(crc));
    const uint8_t* data = png.data() + pos + 8;
    if (type == "IHDR") {
      REQUIRE(len == 13);
      CHECK(be32(png, pos + 8) == uint32_t(width));
      CHECK(be32(png, pos + 12) == uint32_t(height));
      CHECK(data[8] == 8);   // bit depth
      CHECK(data[9] == 2);   // RGB
      CHECK(data[12] == 0);  // not interlaced
    }
    if (type == "IDAT") idat.insert(idat.end(), data, data + len);
    if (type == "IEND") CHECK(len == 0);
    pos += 12 + len;
  }
  CHECK(pos == png.size());
  REQUIRE(types.size() >= 3);
  CHECK(types.front() == "IHDR");
  CHECK(types.back() == "IEND");

  // Inflate: one filter byte + 3 bytes per pixel per row, exactly.
  const size_t expect = size_t(height) * (1 + 3 * size_t(width));
  std::vector<uint8_t> raw(expect + 16);
  uLongf raw_size = uLongf(raw.size());
  REQUIRE(uncompress(raw.data(), &raw_size, idat.data(), uLong(idat.size())) == Z_OK);
  CHECK(raw_size == expect);
  std::vector<uint8_t> rgb;
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = raw.data() + size_t(y) * (1 + 3 * size_t(width));
    CHECK(row[0] == 0);  // filter type None
    rgb.insert(rgb.end(), row + 1, row + 1 + 3 * width);
  }
  return rgb;
}

int64_t count_color(const Canvas& c, Rgb col) {
  int64_t n = 0;
  const auto& p = c.pixels();
  for (size_t i = 0; i < p.size(); i += 3) n += p[i] == col.r && p[i + 1] == col.g && p[i + 2] == col.b;
  return n;
}

std::string temp_file(const std::string& name) {
  return (fs::temp_directory_path() / fmt::format("lf_test_plot_{}_{}", ::getpid(), name)).string();
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("plot: encode_png writes valid chunks that decode to the pixels") {
  std::vector<uint8_t> rgb(7 * 5 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = uint8_t(i * 37);
  std::vector<uint8_t> png = encode_png(7, 5, rgb);
  CHECK(decode_png(png, 7, 5) == rgb);
  CHECK_ERROR(encode_png(7, 5, std::vector<uint8_t>(10)), "7x5", "105 bytes", "got 10");
  CHECK_ERROR(encode_png(0, 5, {}), "0x5");
}

TEST_CASE("plot: a loss plot with two series and a legend") {
  PlotSeries train{"train", {}, {}}, valid{"valid", {}, {}};
  for (int i = 0; i <= 300; ++i) {
    train.x.push_back(i);
    train.y.push_back(4.0 * std::exp(-i / 60.0) + 1.0);
  }
  for (int i = 0; i <= 300; i += 50) {
    valid.x.push_back(i);
    valid.y.push_back(4.0 * std::exp(-i / 60.0) + 1.2);
  }
  PlotOptions opt;
  opt.title = "loss";
  opt.x_label = "step";
  opt.y_label = "loss";
  opt.width = 640;
  opt.height = 400;
  Canvas c = render_line_plot({train, valid}, opt);
  CHECK(c.width() == 640);
  CHECK(c.height() == 400);
  // Both series colours (tab10 blue and orange) are drawn, the frame and text in black.
  CHECK(count_color(c, {31, 119, 180}) > 300);
  CHECK(count_color(c, {255, 127, 14}) > 300);
  CHECK(count_color(c, {0, 0, 0}) > 1000);

  const std::string path = temp_file("loss.png");
  write_line_plot(path, {train, valid}, opt);
  std::vector<uint8_t> rgb = decode_png(read_file_bytes(path), 640, 400);
  CHECK(rgb == c.pixels());
  fs::remove(path);
}

TEST_CASE("plot: log-log axes, markers, and points a log axis cannot show") {
  PlotSeries a{"standard", {128, 256, 512, 1024, 4096}, {0.1, 0.4, 1.6, 6.4, 102.4}};
  PlotSeries b{"linformer", {128, 256, 512, 1024, 4096}, {0.5, 1.0, -1.0, NAN, 16.0}};  // -1 and NaN skipped
  PlotOptions opt;
  opt.log_x = opt.log_y = true;
  opt.markers = true;
  Canvas c = render_line_plot({a, b}, opt);
  CHECK(count_color(c, {31, 119, 180}) > 100);
  CHECK(count_color(c, {255, 127, 14}) > 50);
  CHECK(decode_png(encode_png(c.width(), c.height(), c.pixels()), c.width(), c.height()) == c.pixels());
}

TEST_CASE("plot: empty and degenerate inputs still give a frame; bad input is refused") {
  Canvas empty = render_line_plot({});
  CHECK(count_color(empty, {0, 0, 0}) > 500);  // frame and tick labels
  Canvas flat = render_line_plot({{"const", {1, 2, 3}, {5, 5, 5}}});
  CHECK(count_color(flat, {31, 119, 180}) > 100);
  Canvas single = render_line_plot({{"", {3}, {3}}});  // one point, no legend entry
  CHECK(count_color(single, {31, 119, 180}) > 0);
  CHECK_ERROR(render_line_plot({{"bad", {1, 2, 3}, {1, 2}}}), "'bad'", "3 x values", "2 y values");
  PlotOptions tiny;
  tiny.width = 50;
  CHECK_ERROR(render_line_plot({}, tiny), "50x560");
  CHECK_ERROR(write_line_plot("/nonexistent_dir_lf/p.png", {}), "/nonexistent_dir_lf/p.png");
}

TEST_CASE("plot: canvas lines and text") {
  Canvas c(40, 20);
  c.line(2, 10, 38, 10, {255, 0, 0}, 2.0);
  CHECK(c.pixels()[(10 * 40 + 20) * 3] == 255);
  CHECK(c.pixels()[(10 * 40 + 20) * 3 + 1] < 50);  // red, not white
  CHECK(c.pixels()[(2 * 40 + 20) * 3 + 1] == 255);  // far from the line: untouched
  CHECK(Canvas::text_width("abc", 2) == 34);
  Canvas t(20, 10);
  t.text(1, 1, "1", {0, 0, 0});
  CHECK(count_color(t, {0, 0, 0}) == 10);  // the 5x7 glyph of '1' has 10 pixels set
}

TEST_CASE("csv: header, quoting, numbers, append") {
  const std::string path = temp_file("log.csv");
  {
    CsvWriter w(path, {"step", "loss", "note"});
    w.row({1, 0.5, "plain"});
    w.row({2, 3e-5f, "a, \"quoted\" note"});
    w.row({int64_t(3), NAN, true});
    CHECK_ERROR(w.row({1, 2}), "2 cells", "3 columns");
  }
  {
    CsvWriter w(path, {"step", "loss", "note"}, /*append=*/true);
    w.row({4, 0.25, ""});
  }
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text == "step,loss,note\n1,0.5,plain\n2,3e-05,\"a, \"\"quoted\"\" note\"\n3,nan,1\n4,0.25,\n");
  CHECK_ERROR(CsvWriter(path, {"step", "acc"}, true), path.c_str(), "step,loss,note");
  fs::remove(path);
  CHECK_ERROR(CsvWriter("/nonexistent_dir_lf/x.csv", {"a"}), "/nonexistent_dir_lf/x.csv");
}

TEST_CASE("progress: plain lines when not a terminal, a redrawn bar when it is") {
  const std::string path = temp_file("progress.txt");
  auto run = [&](int tty) {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    {
      Progress p(4, "train", "tok", f, tty, /*line_interval_s=*/3600);
      for (int s = 1; s <= 4; ++s) {
        p.update(s, 2.0 / s, 100);
        if (s == 2) p.message("eval 0.5");
      }
      p.finish();
    }
    std::fclose(f);
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  // Plain: the first step, the message, and the last step (the interval suppresses the rest).
  std::string plain = run(0);
  INFO(plain);
  CHECK(plain.find('\r') == std::string::npos);
  CHECK(std::count(plain.begin(), plain.end(), '\n') == 3);
  CHECK(plain.find("train 1/4  25% | loss 2.0000 |") == 0);
  CHECK(plain.find("eval 0.5\n") != std::string::npos);
  CHECK(plain.find("4/4 100% | loss 0.5000") != std::string::npos);
  CHECK(plain.find("tok/s") != std::string::npos);

  std::string bar = run(1);
  CHECK(bar.find("\rtrain [######") == 0);
  CHECK(bar.find("[########################] 4/4 100%") != std::string::npos);
  CHECK(bar.back() == '\n');
  fs::remove(path);

  CHECK(Progress::format_duration(59) == "0:59");
  CHECK(Progress::format_duration(3723) == "1:02:03");
  CHECK(Progress::format_duration(90061) == "1d 01:01:01");
  CHECK(Progress::format_rate(18234) == "18.2k");
  CHECK(Progress::format_rate(3.1e6) == "3.10M");
}
