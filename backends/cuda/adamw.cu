// AdamW (Loshchilov & Hutter, decoupled weight decay) over every parameter in one launch.
//
// For each element, with g the gradient and t the step:
//   p -= lr * wd * p                               decoupled weight decay
//   m  = b1 m + (1 - b1) g                         first moment
//   v  = b2 v + (1 - b2) g^2                       second moment
//   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)    bias-corrected update, bcN = 1 - bN^t
//
// A model has many small tensors (biases, norms) and a few big ones; a launch per tensor would spend more
// time launching than updating. So the launcher copies a table of the tensors (pointers, sizes, and
// where each starts in one concatenated index space) to the device, and one grid-stride kernel walks the
// concatenation; a thread finds its tensor by binary search over the starts (a handful of L1 hits).
#include <cmath>
#include <vector>

#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

namespace {
struct DeviceSlot {
  void* param;
  const void* grad;
  void* m;
  void* v;
  int64_t start;  // first index of this tensor in the concatenation
  int64_t n;
};
}  // namespace

// The update written exactly as the CPU backend's (cpu_adamw.cpp), constants precomputed in double:
//   p = p * (1 - lr wd) - lr * (m * inv_bc1) / (sqrt(v * inv_bc2) + eps)
template <typename T> struct AdamWTyped {
  T decay, b1, b2, c1, c2, inv_bc1, inv_bc2, lr, eps;  // c = 1 - b, inv_bc = 1 / (1 - b^step)
};

template <typename T>
__global__ void adamw_kernel(const DeviceSlot* slots, int64_t count, int64_t total, AdamWTyped<T> h) {
  for (int64_t e = thread_index(); e < total; e += thread_count()) {
    int64_t lo = 0, hi = count - 1;  // the last slot whose start <= e
    while (lo < hi) {
      const int64_t mid = (lo + hi + 1) / 2;
      if (slots[mid].start <= e) lo = mid;
      else hi = mid - 1;
    }
    const DeviceSlot& s = slots[lo];
    const int64_t i = e - s.start;
    T* p = static_cast<T*>(s.param);
    T* m = static_cast<T*>(s.m);
    T* v = static_cast<T*>(s.v);
    const T g = static_cast<const T*>(s.grad)[i];
    const T mi = h.b1 * m[i] + h.c1 * g;
    const T vi = h.b2 * v[i] + h.c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * h.decay - h.lr * (mi * h.inv_bc1) / (math::sqrt(vi * h.inv_bc2) + h.eps);
  }
}

void launch_adamw(KType type, const AdamWTensors* tensors, int64_t count, const AdamWConsts& h) {
  std::vector<DeviceSlot> table;
  table.reserve(size_t(count));
  int64_t total = 0;
  for (int64_t k = 0; k < count; ++k) {
    const AdamWTensors& t = tensors[k];
    if (t.n == 0) continue;  // empty tensors would share a start with the next one
    table.push_back({t.param, t.grad, t.m, t.v, total, t.n});
    total += t.n;
  }
  if (total == 0) return;
  // The table travels with the launch on the default stream: the copy from pageable memory is staged
  // before cudaMemcpyAsync returns, so `table` may die right after, and the kernel runs after the copy.
  Scratch device_table(table.size() * sizeof(DeviceSlot));
  LF_CUDA_CHECK(cudaMemcpyAsync(device_table.as<DeviceSlot>(), table.data(), table.size() * sizeof(DeviceSlot),
                                cudaMemcpyHostToDevice, 0));
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    const AdamWTyped<T> ht{T(1.0 - h.lr * h.weight_decay),
                           T(h.beta1),
                           T(h.beta2),
                           T(1.0 - h.beta1),
                           T(1.0 - h.beta2),
                           T(1.0 / (1.0 - std::pow(h.beta1, double(h.step)))),
                           T(1.0 / (1.0 - std::pow(h.beta2, double(h.step)))),
                           T(h.lr),
                           T(h.eps)};
    adamw_kernel<T><<<blocks_for(total), kThreads>>>(device_table.as<DeviceSlot>(), int64_t(table.size()), total, ht);
    LF_CUDA_CHECK_LAUNCH("adamw_kernel");
  });
}

}  // namespace lf::cuda
