//
// random: element i of dst is a function of element i of the Philox stream (seed, offset) (core/philox.h),
// so the numbers do not depend on how the work is split between threads, or on the device:
//   u_i = uniform01(philox_at(seed, offset, i))   (24 random bits -> float in [0, 1))
//   uniform:   dst[i] = T(a + (b - a) * double(u_i))
//   normal:    dst[i] = T(a + b * double(normal_at(seed, offset, i)))
//   bernoulli: dst[i] = double(u_i) < a ? T(b) : T(0)        (dropout's keep-mask, scaled)
//
// Dropout draws a mask for every activation of every step, so uniform and bernoulli generate the raw
// stream in bulk: one Philox block gives four consecutive stream elements, and with AVX2 eight blocks
// are computed at once in vector registers (the 32x32->64-bit products of Philox have no portable
// vector form, hence the intrinsics; other CPUs take the scalar loop, with identical results).
#include <cmath>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"
#include "backends/scalar_math.h"
#include "core/philox.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace lf {

namespace {

#if defined(__AVX2__)
// hi and lo halves of the 32x32 -> 64-bit products a[l] * m for 8 lanes.
inline void mulhilo8(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  __m256i even = _mm256_mul_epu32(a, m);                        // lanes 0,2,4,6 as 64-bit products
  __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);  // lanes 1,3,5,7
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_mullo_epi32(a, m);
}

// Philox4x32-10 of the 8 counters b0 .. b0+7, written in stream order (block-major) to out[0..32).
void philox8(uint64_t b0, uint64_t seed, uint32_t* out) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // The low words b0 + l may wrap past 2^32 inside the group: carry into the high words.
  const __m256i base = _mm256_set1_epi32(int(uint32_t(b0))), sign = _mm256_set1_epi32(INT32_MIN);
  __m256i c0 = _mm256_add_epi32(base, lane);
  // carry = -1 where c0 < low word of b0 as unsigned numbers (flip the sign bits, compare signed)
  __m256i carry = _mm256_cmpgt_epi32(_mm256_xor_si256(base, sign), _mm256_xor_si256(c0, sign));
  __m256i c1 = _mm256_sub_epi32(_mm256_set1_epi32(int(uint32_t(b0 >> 32))), carry);
  __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
  const __m256i m0 = _mm256_set1_epi32(int(0xD2511F53u)), m1 = _mm256_set1_epi32(int(0xCD9E8D57u));
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    __m256i hi0, lo0, hi1, lo1;
    mulhilo8(c0, m0, hi0, lo0);
    mulhilo8(c2, m1, hi1, lo1);
    __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(int(k0)));
    __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(int(k1)));
    c0 = n0, c1 = lo1, c2 = n2, c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  // 4x8 transpose: word k of block l -> out[4 l + k].
  __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
  __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
  __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // blocks 0|4, 1|5
  __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // blocks 2|6, 3|7
  __m256i* o = reinterpret_cast<__m256i*>(out);
  _mm256_storeu_si256(o + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
  _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
  _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
  _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
}
#endif

// raw[4 j + k] = word k of Philox block (b0 + j), j < nblocks: stream elements 4 b0 .. 4 (b0 + nblocks) - 1.
void philox_blocks(uint64_t b0, int64_t nblocks, uint64_t seed, uint32_t* raw) {
  int64_t j = 0;
#if defined(__AVX2__)
  for (; j + 8 <= nblocks; j += 8) philox8(b0 + uint64_t(j), seed, raw + 4 * j);
#endif
  for (; j < nblocks; ++j) {
    Philox4 r = philox4x32_10(b0 + uint64_t(j), seed);
    for (int k = 0; k < 4; ++k) raw[4 * j + k] = r.v[k];
  }
}

// dst[i] = f(stream element offset + i) for i in [lo, hi), generated 1024 elements at a time.
template <typename T, typename F>
void philox_map(T* dst, int64_t lo, int64_t hi, GeneratorState at, F f) {
  constexpr int64_t kBlocks = 256;
  alignas(32) uint32_t raw[4 * kBlocks];
  uint64_t first = at.offset + uint64_t(lo);
  const uint64_t last = at.offset + uint64_t(hi);  // stream elements [first, last)
  while (first < last) {
    const uint64_t b0 = first >> 2;
    const int64_t nblocks = std::min<int64_t>(kBlocks, int64_t(((last - 1) >> 2) - b0 + 1));
    philox_blocks(b0, nblocks, at.seed, raw);
    const uint64_t end = std::min<uint64_t>(last, (b0 + uint64_t(nblocks)) << 2);
    T* o = dst + (first - at.offset);
    const uint32_t* r = raw + (first - (b0 << 2));
    const int64_t n = int64_t(end - first);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(r[i]);
    first = end;
  }
}

}  // namespace

void CpuBackend::random(const Tensor& dst, RandomKind kind, double a, double b, GeneratorState at) {
  LF_CHECK(dst.defined(), "random: undefined tensor");
  LF_CHECK(dst.is_contiguous(), "random: dst {} must be contiguous", shape_str(dst.shape()));
  dispatch_float(dst.dtype(), "random", [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(dst.raw_data());
    cpu::parallel_for(dst.numel(), cpu::kGrain / 4, [&](int64_t lo, int64_t hi) {
      switch (kind) {
        case RandomKind::uniform:
          philox_map(p, lo, hi, at, [a, b](uint32_t x) LF_VEC_INLINE_LAMBDA {
            return T(a + (b - a) * double(uniform01(x)));
          });
          break;
        case RandomKind::bernoulli: {
          // double(u) < a with u = (x >> 8) / 2^24, in integers: (x >> 8) < ceil(a * 2^24).
          const double clamped = a > 0 ? std::min(a, 1.0) : 0.0;  // a NaN keeps nothing, as u < NaN is false
          const uint32_t threshold = uint32_t(std::ceil(clamped * 16777216.0));
          const T keep = T(b);
          philox_map(p, lo, hi, at, [threshold, keep](uint32_t x) LF_VEC_INLINE_LAMBDA {
            return (x >> 8) < threshold ? keep : T(0);
          });
          break;
        }
        case RandomKind::normal:
          // normal_at pairs stream elements (2m, 2m+1) through Box-Muller (libm log/sin/cos); it only
          // initialises weights, so the per-element call is fast enough.
          for (int64_t i = lo; i < hi; ++i)
            p[i] = T(a + b * double(normal_at(at.seed, at.offset, uint64_t(i))));
          break;
      }
    });
  });
}

}  // namespace lf
