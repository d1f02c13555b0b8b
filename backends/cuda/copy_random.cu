// copy, fill and random: the kernels that write a tensor without reading another one's math.
//
//   copy   src [n] (strided, any dtype) -> dst [n] (strided, any dtype)
//   fill   dst [n] (strided) = value
//   random dst [n] contiguous = element i of the Philox stream (seed, offset), shaped by kind
#include <cmath>

#include "backends/cuda/cuda_common.cuh"
#include "core/philox.h"

namespace lf::cuda {

// ---- copy ----
// One thread per element (grid-stride). kContig: both sides are plain [n] arrays, so the offsets are i.
template <typename S, typename D, bool kContig>
__global__ void copy_kernel(const S* src, D* dst, int64_t n, Strided<2> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    if constexpr (kContig) {
      dst[i] = math::convert<D>(src[i]);
    } else {
      int64_t off[2];
      strided_offsets(s, i, off);
      dst[off[1]] = math::convert<D>(src[off[0]]);
    }
  }
}

void launch_copy(KType src_type, const void* src, KType dst_type, void* dst, int64_t n, const Strided<2>& s) {
  if (n == 0) return;
  if (src_type == dst_type && s.contiguous()) {  // same bytes, both dense: the copy engine does it
    const size_t elem = src_type == KType::f32 ? 4 : 8;
    LF_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(n) * elem, cudaMemcpyDeviceToDevice, 0));
    return;
  }
  dispatch_all(src_type, [&](auto s_tag) {
    dispatch_all(dst_type, [&](auto d_tag) {
      using S = decltype(s_tag);
      using D = decltype(d_tag);
      const S* sp = static_cast<const S*>(src);
      D* dp = static_cast<D*>(dst);
      if (s.contiguous())
        copy_kernel<S, D, true><<<blocks_for(n), kThreads>>>(sp, dp, n, s);
      else
        copy_kernel<S, D, false><<<blocks_for(n), kThreads>>>(sp, dp, n, s);
      LF_CUDA_CHECK_LAUNCH("copy_kernel");
    });
  });
}

// ---- fill ----
template <typename T, bool kContig>
__global__ void fill_kernel(T* dst, int64_t n, T value, Strided<1> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[1] = {i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    dst[off[0]] = value;
  }
}

void launch_fill(KType type, void* dst, int64_t n, double value, const Strided<1>& s) {
  if (n == 0) return;
  if (value == 0.0 && !std::signbit(value) && s.contiguous()) {  // +0.0 is all zero bits in f32, f64 and i64
    LF_CUDA_CHECK(cudaMemsetAsync(dst, 0, size_t(n) * (type == KType::f32 ? 4 : 8), 0));
    return;
  }
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    if (s.contiguous())
      fill_kernel<T, true><<<blocks_for(n), kThreads>>>(static_cast<T*>(dst), n, math::convert<T>(value), s);
    else
      fill_kernel<T, false><<<blocks_for(n), kThreads>>>(static_cast<T*>(dst), n, math::convert<T>(value), s);
    LF_CUDA_CHECK_LAUNCH("fill_kernel");
  });
}

// ---- random ----
// The numbers must equal the CPU backend's, so every element is computed from the same formula on
// core/philox.h's functions: element i is stream position j = offset + i, i.e. lane j % 4 of Philox block
// j / 4. Uniform and Bernoulli use one 32-bit number per element, so a thread takes one Philox block
// (4 numbers for the price of one call) and writes the up to 4 elements that fall in [offset, offset + n).
//   uniform:   a + (b - a) * u               (u = uniform01, in [0, 1))
//   bernoulli: u < a ? b : 0                 (dropout: a = keep probability, b = 1 / keep probability)
template <typename T>
__global__ void random_bits_kernel(T* dst, int64_t n, bool bernoulli, double a, double b, uint64_t seed,
                                   uint64_t offset) {
  const uint64_t first_block = offset >> 2, end = offset + uint64_t(n);
  const int64_t nblocks = int64_t(((end - 1) >> 2) - first_block + 1);
  for (int64_t t = thread_index(); t < nblocks; t += thread_count()) {
    const uint64_t block = first_block + uint64_t(t);
    const Philox4 r = philox4x32_10(block, seed);
#pragma unroll
    for (int lane = 0; lane < 4; ++lane) {
      const uint64_t j = block * 4 + lane;
      if (j < offset || j >= end) continue;
      const float u = uniform01(r.v[lane]);
      dst[j - offset] = bernoulli ? (u < a ? T(b) : T(0)) : T(a + (b - a) * double(u));
    }
  }
}

// Normal: a + b * normal_at(i). normal_at pairs elements (2m, 2m+1) on one Box-Muller draw, so a thread
// takes a pair: both calls inline, and the compiler may share their Philox numbers and logarithm.
template <typename T>
__global__ void random_normal_kernel(T* dst, int64_t n, double mean, double std, uint64_t seed,
                                     uint64_t offset) {
  const int64_t npairs = (n + 1) / 2;
  for (int64_t p = thread_index(); p < npairs; p += thread_count()) {
    const int64_t i = 2 * p;
    dst[i] = T(mean + std * double(normal_at(seed, offset, uint64_t(i))));
    if (i + 1 < n) dst[i + 1] = T(mean + std * double(normal_at(seed, offset, uint64_t(i + 1))));
  }
}

void launch_random(KType type, void* dst, int64_t n, KRandom kind, double a, double b, uint64_t seed,
                   uint64_t offset) {
  if (n == 0) return;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dst);
    if (kind == KRandom::normal) {
      random_normal_kernel<T><<<blocks_for((n + 1) / 2), kThreads>>>(d, n, a, b, seed, offset);
      LF_CUDA_CHECK_LAUNCH("random_normal_kernel");
    } else {
      const int64_t nblocks = int64_t(((offset + uint64_t(n) - 1) >> 2) - (offset >> 2) + 1);
      random_bits_kernel<T>
          <<<blocks_for(nblocks), kThreads>>>(d, n, kind == KRandom::bernoulli, a, b, seed, offset);
      LF_CUDA_CHECK_LAUNCH("random_bits_kernel");
    }
  });
}

}  // namespace lf::cuda
