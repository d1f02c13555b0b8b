#pragma once
// A minimal PNG writer: 8-bit RGB, no interlacing, every row with filter 0 ("None"), one zlib-compressed
// IDAT chunk. Enough for plots; needs nothing but zlib (deflate and crc32).
//
//   PNG = 8-byte signature, then chunks: [u32 length][4-byte type][data][u32 CRC32 of type+data]
//         IHDR (width, height, bit depth 8, colour type 2 = RGB), IDAT (zlib stream), IEND.
#include <cstdint>
#include <string>
#include <vector>

namespace lf {

// rgb: height rows of width pixels, 3 bytes each (R, G, B), top row first.
std::vector<uint8_t> encode_png(int width, int height, const std::vector<uint8_t>& rgb);
// Writes encode_png(...) to `path`; throws lf::Error naming the file when it cannot.
void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

}  // namespace lf
