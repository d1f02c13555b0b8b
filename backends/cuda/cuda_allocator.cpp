// The CUDA allocator: cudaMalloc/cudaFree under the caching and statistics of lf::Allocator
// (core/allocator.cpp), so a training loop stops calling cudaMalloc (which is slow and synchronises)
// after its first step, and memory_stats(Device::cuda()) reports activation memory like on the CPU.
#include "core/allocator.h"

#include <cuda_runtime.h>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/kernels.h"

namespace lf {

namespace {
class CudaAllocator final : public Allocator {
  // nullptr on out-of-memory, so that Allocator::allocate can empty its cache and try once more.
  void* raw_alloc(size_t bytes) override {
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky: clear it so the next launch check does not report it
      return nullptr;
    }
    LF_CUDA_CHECK(err);
    return p;
  }
  // Called from destructors (Storage), so it must not throw. cudaFree fails only when the runtime is
  // shutting down (tensors in static storage) or after an earlier fault, which the next checked call reports.
  void raw_free(void* p) override {
    if (cudaFree(p) != cudaSuccess) cudaGetLastError();
  }
};
}  // namespace

// The one CUDA allocator (Scratch below and Tensor storage through allocator_for share it).
Allocator& cuda_allocator() {
  static CudaAllocator* a = new CudaAllocator();  // never destroyed: tensors may outlive static destruction
  return *a;
}

// Registered with core before main() runs. This file is in every program that can reach the CUDA backend:
// backends/backend.cpp calls cuda_backend(), whose kernels allocate through Scratch, defined below.
const bool kRegistered = (register_allocator(DeviceType::cuda, cuda_allocator()), true);

namespace cuda {

Scratch::Scratch(size_t bytes) : ptr_(cuda_allocator().allocate(bytes)), bytes_(bytes) {}
Scratch::~Scratch() { cuda_allocator().deallocate(ptr_, bytes_); }

}  // namespace cuda
}  // namespace lf
