#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
// generator. The i-th block of four 32-bit numbers of stream (seed) is philox(counter = i, key = seed):
// no state to carry between threads, so a CPU loop and a CUDA kernel that ask for element j of the
// stream get the same number. Dropout masks and rand/randn therefore agree across devices.
#include <cstdint>

#include "core/host_device.h"

namespace lf {

struct Philox4 {
  uint32_t v[4];
};

LF_HD Philox4 philox4x32_10(uint64_t counter, uint64_t seed) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c0;  // multiply, keep both halves
    uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n1 = uint32_t(p1);
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1, n3 = uint32_t(p0);
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += 0x9E3779B9u;  // the Weyl sequence bumps the key each round
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Element `i` of the stream (seed, offset): block (offset + i) / 4, lane (offset + i) % 4.
LF_HD uint32_t philox_at(uint64_t seed, uint64_t offset, uint64_t i) {
  uint64_t j = offset + i;
  return philox4x32_10(j >> 2, seed).v[j & 3];
}

// 24 random bits -> float in [0, 1).
LF_HD float uniform01(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }
// Box-Muller on elements 2m and 2m+1 of the stream gives two normals; element i takes the cos or sin half.
LF_HD float normal_at(uint64_t seed, uint64_t offset, uint64_t i) {
  uint64_t m = i & ~uint64_t(1);
  float u1 = (float(philox_at(seed, offset, m) >> 8) + 1.0f) * (1.0f / 16777216.0f);  // (0, 1]: log is finite
  float u2 = uniform01(philox_at(seed, offset, m + 1));
  float r = sqrtf(-2.0f * logf(u1));
  float a = 6.283185307179586f * u2;
  return (i & 1) ? r * sinf(a) : r * cosf(a);
}

}  // namespace lf
