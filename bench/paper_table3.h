#pragma once
// The Linformer paper (Wang et al. 2020, arXiv 2006.04768), Table 3: inference time saved and memory saved
// against a standard Transformer, on one 16 GB V100 with random inputs, a full forward pass, the largest batch
// that fits, layerwise sharing. Copied from the paper so the benchmark can print it beside our figures.
#include <cstdint>

namespace lf::paper {

struct Table3Row {
  int64_t n, k;
  double time_saved, memory_saved;
};

inline constexpr Table3Row kTable3[] = {
    {512, 128, 1.5, 1.7},
    {512, 256, 1.3, 1.5},
    {1024, 128, 1.7, 3.0},
    {1024, 256, 1.6, 2.9},
    {1024, 512, 1.3, 1.8},
    {2048, 128, 2.6, 6.1},
    {2048, 256, 2.4, 5.6},
    {2048, 512, 2.1, 3.6},
    {2048, 1024, 1.3, 2.0},
    {4096, 128, 3.4, 14},
    {4096, 256, 3.2, 13},
    {4096, 512, 2.8, 8.3},
    {4096, 1024, 2.2, 4.3},
    {4096, 2048, 1.3, 2.3},
    {8192, 128, 5.5, 28},
    {8192, 256, 5.0, 26},
    {8192, 512, 4.4, 17},
    {8192, 1024, 3.5, 8.5},
    {8192, 2048, 2.1, 4.5},
    {16384, 128, 8.6, 56},
    {16384, 256, 7.8, 48},
    {16384, 512, 7.0, 32},
    {16384, 1024, 5.6, 16},
    {16384, 2048, 3.3, 8},
    {32768, 128, 13, 56},
    {32768, 256, 12, 48},
    {32768, 512, 11, 36},
    {32768, 1024, 8.8, 18},
    {32768, 2048, 5.0, 16},
    {65536, 128, 20, 60},
    {65536, 256, 18, 52},
    {65536, 512, 16, 40},
    {65536, 1024, 14, 20},
    {65536, 2048, 7.9, 18},
};

// The entry for (n, k), or nullptr when the paper has none.
inline const Table3Row* table3(int64_t n, int64_t k) {
  for (const Table3Row& r : kTable3)
    if (r.n == n && r.k == k) return &r;
  return nullptr;
}

}  // namespace lf::paper
