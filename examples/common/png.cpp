#include "examples/common/png.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace lf {

static void put_u32(std::vector<uint8_t>& out, uint32_t v) {  // PNG integers are big-endian
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

// Appends one chunk; the CRC covers the type and the data, not the length.
static void put_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  put_u32(out, uint32_t(data.size()));
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, out.data() + start, uInt(out.size() - start));
  put_u32(out, uint32_t(crc));
}

std::vector<uint8_t> encode_png(int width, int height, const std::vector<uint8_t>& rgb) {
  LF_CHECK(width > 0 && height > 0, "encode_png: image size must be positive, got {}x{}", width, height);
  const size_t row = size_t(width) * 3;
  LF_CHECK(rgb.size() == row * size_t(height), "encode_png: {}x{} RGB needs {} bytes, got {}", width, height,
           row * size_t(height), rgb.size());

  // Raw scanlines: a filter-type byte (0 = none) before each row.
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * size_t(height));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), rgb.begin() + long(y * row), rgb.begin() + long((y + 1) * row));
  }
  uLongf zsize = compressBound(uLong(raw.size()));
  std::vector<uint8_t> z(zsize);
  LF_CHECK(compress2(z.data(), &zsize, raw.data(), uLong(raw.size()), 9) == Z_OK, "encode_png: deflate failed");
  z.resize(zsize);

  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, uint32_t(width));
  put_u32(ihdr, uint32_t(height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // bit depth 8, RGB, deflate, adaptive filtering, no interlace
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", z);
  put_chunk(out, "IEND", {});
  return out;
}

void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  std::vector<uint8_t> png = encode_png(width, height, rgb);
  FILE* f = std::fopen(path.c_str(), "wb");
  LF_CHECK(f, "write_png: cannot open {} for writing: {}", path, std::strerror(errno));
  bool ok = std::fwrite(png.data(), 1, png.size(), f) == png.size();
  ok = (std::fclose(f) == 0) && ok;
  LF_CHECK(ok, "write_png: writing {} failed: {}", path, std::strerror(errno));
}

}  // namespace lf
