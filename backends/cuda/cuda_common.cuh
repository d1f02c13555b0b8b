#pragma once
// Device-side helpers shared by the kernel files: launch geometry, strided offsets, dtype dispatch,
// float/double math overloads, and warp/block reductions. Included only by .cu files.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/kernels.h"

namespace lf::cuda {

// ---- launch geometry ----
constexpr int kThreads = 256;  // threads per block for elementwise and row kernels (8 warps)

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid-stride loop over `items` work items. The cap keeps the grid legal and lets each thread
// take several items when there are many; kernels loop, so any cap is correct.
inline unsigned blocks_for(int64_t items, int threads = kThreads) {
  return unsigned(std::max<int64_t>(1, std::min<int64_t>(ceil_div(items, threads), int64_t(1) << 16)));
}

// Number of multiprocessors of the current device, read once (used to size split reductions).
inline int sm_count() {
  static const int count = [] {
    int dev = 0, n = 0;
    LF_CUDA_CHECK(cudaGetDevice(&dev));
    LF_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    return n;
  }();
  return count;
}

__device__ __forceinline__ int64_t thread_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t thread_count() { return int64_t(gridDim.x) * blockDim.x; }

// ---- dtype dispatch: fn(T{}) with the C++ type behind a KType ----
template <typename Fn> void dispatch_all(KType t, Fn&& fn) {
  switch (t) {
    case KType::f32: fn(float{}); return;
    case KType::f64: fn(double{}); return;
    case KType::i64: fn(int64_t{}); return;
  }
}
// Floating types only; the callers in cuda_backend.cpp have already refused i64.
template <typename Fn> void dispatch_float(KType t, Fn&& fn) {
  if (t == KType::f64) fn(double{});
  else fn(float{});
}

// ---- strided offsets (see Strided in kernels.h) ----
// Peels dims off the linear index innermost first. Most index spaces fit in 32 bits, where the division
// is several times cheaper than the 64-bit one, so that case takes the fast branch. The loop is unrolled
// over kMaxDims so that the descriptor's arrays are indexed by constants (no local-memory copy).
template <int N> __device__ __forceinline__ void strided_offsets(const Strided<N>& s, int64_t i, int64_t (&off)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
  for (int d = 0; d < kMaxDims; ++d) {
    if (d == s.ndim) break;
    const int64_t size = s.size[d];
    int64_t q, r;
    if (((uint64_t(i) | uint64_t(size)) >> 32) == 0) {
      const uint32_t q32 = uint32_t(i) / uint32_t(size);
      q = q32;
      r = int64_t(uint32_t(i) - q32 * uint32_t(size));
    } else {
      q = i / size;
      r = i - q * size;
    }
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += r * s.stride[k][d];
    i = q;
  }
}

// ---- math: exp, log, erf, ... for float and double come from backends/scalar_math.h (lf::math), which the
// CPU backend shares; here only what has no host counterpart ----
namespace dm {
template <typename T> __device__ __forceinline__ T infinity() {
  if constexpr (std::is_same_v<T, float>) return __int_as_float(0x7f800000);
  else if constexpr (std::is_same_v<T, double>) return __longlong_as_double(0x7ff0000000000000LL);
  else return T(INT64_MAX);
}
// The identity of max: -inf for floating types, the smallest value for integers.
template <typename T> __device__ __forceinline__ T lowest() {
  if constexpr (std::is_integral_v<T>) return T(INT64_MIN);
  else return -infinity<T>();
}
}  // namespace dm

// ---- reductions ----
struct SumOp {
  template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
// A NaN anywhere makes the max NaN, as on the CPU (and the order of combination does not matter).
struct MaxOp {
  template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return (a != a || a > b) ? a : b; }
};

// All 32 lanes end with the reduction of the warp's values (butterfly: no broadcast step needed).
template <typename T, typename Op> __device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// All threads of a 1-D block (a multiple of 32 threads) end with the reduction of the block's values.
// Every thread of the block must call it (it has barriers).
template <typename T, typename Op> __device__ __forceinline__ T block_reduce(T v, Op op, T identity) {
  __shared__ T partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = warp_reduce(v, op);
  __syncthreads();  // an earlier block_reduce in this kernel may still be reading `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < nwarps ? partial[lane] : identity;
  return warp_reduce(v, op);  // every warp reduces the per-warp partials: all threads get the result
}

// Row kernels (softmax, layer norm, cross-entropy) give each row to a team: one warp when rows are short
// (kWarp, 8 rows per 256-thread block, no barriers), the whole block when they are long. Threads of a
// team stride through the row's columns with step width(), then reduce across the team.
template <bool kWarp> struct RowTeam {
  __device__ static int64_t first_row() {
    return kWarp ? int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32 : int64_t(blockIdx.x);
  }
  __device__ static int64_t row_step() { return kWarp ? int64_t(gridDim.x) * (blockDim.x / 32) : int64_t(gridDim.x); }
  __device__ static int lane() { return kWarp ? int(threadIdx.x & 31) : int(threadIdx.x); }
  __device__ static int width() { return kWarp ? 32 : int(blockDim.x); }
  template <typename T, typename Op> __device__ static T reduce(T v, Op op, T identity) {
    if constexpr (kWarp) return warp_reduce(v, op);
    else return block_reduce(v, op, identity);
  }
};
// Column reductions (layer_norm's dw/db, reduce_middle) use blocks of kColTile columns x kRowLanes rows:
// a warp reads 32 adjacent columns of one row, and the lanes' partial sums meet in shared memory.
constexpr int kColTile = 32, kRowLanes = 8;

// Warp teams for rows up to this many columns; longer rows get a block.
constexpr int64_t kWarpRowMax = 1024;
inline unsigned row_blocks(int64_t rows, bool warp) { return blocks_for(warp ? rows * 32 : rows * kThreads); }

}  // namespace lf::cuda
