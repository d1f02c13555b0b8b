// Gather and scatter-add along one dim: x viewed as [outer, n, inner], idx i64 [nidx].
//
//   index_select: out [outer, nidx, inner],  out[o, i, :]  = x[o, idx[i], :]     (embedding lookup)
//   index_add:    out [outer, n, inner],     out[o, idx[i], :] += src[o, i, :]   (embedding backward)
//
// One thread per element of the [outer, nidx, inner] side; consecutive threads walk the inner dim, so a
// row of an embedding table is read (or accumulated) with coalesced accesses. Repeated indices make
// index_add threads collide on the same element: atomicAdd (f64 atomics need sm_60, we build for 80+).
// A first pass checks the indices (an out-of-range one would read or write outside the tensor, a fault
// that kills the CUDA context) and the launcher copies its verdict back: like the CPU backend, nothing is
// written when one is bad, and the caller throws naming the first. That copy waits for the GPU, once
// per call. The kernels still skip bad indices, so even a mistake here cannot touch foreign memory.
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

// bad[0] = how many indices are outside [0, n), bad[1] = the smallest position of one (starts at ~0).
__global__ void check_indices_kernel(const int64_t* idx, int64_t nidx, int64_t n, unsigned long long* bad) {
  for (int64_t i = thread_index(); i < nidx; i += thread_count()) {
    const int64_t v = idx[i];
    if (v < 0 || v >= n) {
      atomicAdd(&bad[0], 1ull);
      atomicMin(&bad[1], static_cast<unsigned long long>(i));
    }
  }
}

template <typename T>
__global__ void index_select_kernel(const T* x, const int64_t* idx, int64_t nidx, T* out, int64_t outer, int64_t n,
                                    int64_t inner) {
  const int64_t total = outer * nidx * inner;
  for (int64_t e = thread_index(); e < total; e += thread_count()) {
    const int64_t j = e % inner, i = (e / inner) % nidx, o = e / (inner * nidx);
    const int64_t v = idx[i];
    out[e] = (v >= 0 && v < n) ? x[(o * n + v) * inner + j] : T(0);
  }
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {  // two's complement: unsigned add is the same
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

template <typename T>
__global__ void index_add_kernel(const T* src, const int64_t* idx, int64_t nidx, T* out, int64_t outer, int64_t n,
                                 int64_t inner) {
  const int64_t total = outer * nidx * inner;
  for (int64_t e = thread_index(); e < total; e += thread_count()) {
    const int64_t j = e % inner, i = (e / inner) % nidx, o = e / (inner * nidx);
    const int64_t v = idx[i];
    if (v >= 0 && v < n) atomic_add(&out[(o * n + v) * inner + j], src[e]);
  }
}

namespace {

// Checks idx against [0, n) (waits for the GPU), then runs `launch` only when every index is in range.
template <typename Launch> BadIndices with_index_check(const int64_t* idx, int64_t nidx, int64_t n, Launch&& launch) {
  BadIndices result;
  if (nidx > 0) {
    Scratch scratch(2 * sizeof(unsigned long long));
    unsigned long long* bad = scratch.as<unsigned long long>();
    LF_CUDA_CHECK(cudaMemsetAsync(&bad[0], 0, sizeof(unsigned long long), 0));     // count = 0
    LF_CUDA_CHECK(cudaMemsetAsync(&bad[1], 0xff, sizeof(unsigned long long), 0));  // position = ~0
    check_indices_kernel<<<blocks_for(nidx), kThreads>>>(idx, nidx, n, bad);
    LF_CUDA_CHECK_LAUNCH("check_indices_kernel");
    unsigned long long host[2] = {0ull, 0ull};
    LF_CUDA_CHECK(cudaMemcpy(host, bad, sizeof(host), cudaMemcpyDeviceToHost));
    if (host[0] > 0) {
      result.count = int64_t(host[0]);
      result.position = int64_t(host[1]);
      LF_CUDA_CHECK(cudaMemcpy(&result.value, idx + result.position, sizeof(int64_t), cudaMemcpyDeviceToHost));
      return result;
    }
  }
  launch();
  return result;
}

}  // namespace

BadIndices launch_index_select(KType type, const void* x, const int64_t* idx, int64_t nidx, void* out, int64_t outer,
                               int64_t n, int64_t inner) {
  return with_index_check(idx, nidx, n, [&] {
    const int64_t total = outer * nidx * inner;
    if (total == 0) return;
    dispatch_all(type, [&](auto tag) {
      using T = decltype(tag);
      index_select_kernel<T><<<blocks_for(total), kThreads>>>(static_cast<const T*>(x), idx, nidx, static_cast<T*>(out),
                                                              outer, n, inner);
      LF_CUDA_CHECK_LAUNCH("index_select_kernel");
    });
  });
}

BadIndices launch_index_add(KType type, const void* src, const int64_t* idx, int64_t nidx, void* out, int64_t outer,
                            int64_t n, int64_t inner) {
  return with_index_check(idx, nidx, n, [&] {
    const int64_t total = outer * nidx * inner;
    if (total == 0) return;
    dispatch_all(type, [&](auto tag) {
      using T = decltype(tag);
      index_add_kernel<T><<<blocks_for(total), kThreads>>>(static_cast<const T*>(src), idx, nidx, static_cast<T*>(out),
                                                           outer, n, inner);
      LF_CUDA_CHECK_LAUNCH("index_add_kernel");
    });
  });
}

}  // namespace lf::cuda
