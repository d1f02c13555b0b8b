// Gather and scatter-add along one dim: x viewed as [outer, n, inner], idx i64 [nidx].
//
//   index_select: out [outer, nidx, inner],  out[o, i, :]  = x[o, idx[i], :]     (embedding lookup)
//   index_add:    out [outer, n, inner],     out[o, idx[i], :] += src[o, i, :]   (embedding backward)
//
// One thread per element of the [outer, nidx, inner] side; consecutive threads walk the inner dim, so a
// row of an embedding table is read (or accumulated) with coalesced accesses. Repeated indices make
// index_add threads collide on the same element: atomicAdd (f64 atomics need sm_60, we build for 80+).
// The ops range-check the indices first with check_indices (check_indices_kernel below), which records a
// failure on the device for the host to raise at its next synchronisation: no round trip per call. The
// kernels still never dereference an index outside [0, n) (select writes 0, add skips it), so the work
// queued before the error is raised gives wrong numbers, not a memory fault that would kill the context.
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

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

// The first failure wins the slot (atomicCAS on the id); only its winner writes the value, which the host
// reads after the stream has drained.
__global__ void check_indices_kernel(const int64_t* idx, int64_t n, int64_t limit, bool has_skip,
                                     int64_t skip, unsigned int id, CheckSlot* slot) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    const int64_t v = idx[i];
    if ((has_skip && v == skip) || (v >= 0 && v < limit)) continue;
    if (atomicCAS(&slot->id, 0u, id) == 0u) slot->value = v;
  }
}

void launch_index_select(KType type, const void* x, const int64_t* idx, int64_t nidx, void* out, int64_t outer,
                         int64_t n, int64_t inner) {
  const int64_t total = outer * nidx * inner;
  if (total == 0) return;
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    index_select_kernel<T><<<blocks_for(total), kThreads>>>(static_cast<const T*>(x), idx, nidx, static_cast<T*>(out),
                                                            outer, n, inner);
    LF_CUDA_CHECK_LAUNCH("index_select_kernel");
  });
}

void launch_index_add(KType type, const void* src, const int64_t* idx, int64_t nidx, void* out, int64_t outer,
                      int64_t n, int64_t inner) {
  const int64_t total = outer * nidx * inner;
  if (total == 0) return;
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    index_add_kernel<T><<<blocks_for(total), kThreads>>>(static_cast<const T*>(src), idx, nidx, static_cast<T*>(out),
                                                         outer, n, inner);
    LF_CUDA_CHECK_LAUNCH("index_add_kernel");
  });
}

void launch_check_indices(const int64_t* idx, int64_t n, int64_t limit, bool has_skip, int64_t skip,
                          unsigned int id, CheckSlot* slot) {
  if (n == 0) return;
  check_indices_kernel<<<blocks_for(n), kThreads>>>(idx, n, limit, has_skip, skip, id, slot);
  LF_CUDA_CHECK_LAUNCH("check_indices_kernel");
}

}  // namespace lf::cuda
