#pragma once
// Allocators hand out raw device memory and keep statistics: bytes in use now and at peak. The benchmarks
// read activation memory from these numbers, as the Linformer paper reports it.
//
// Both the CPU and the CUDA allocator cache freed blocks by size class, so a training loop that allocates
// the same shapes every step stops calling malloc/cudaMalloc after the first step.
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "core/device.h"

namespace lf {

struct MemoryStats {
  int64_t in_use = 0;    // bytes held by live tensors
  int64_t peak = 0;      // max of in_use since the last reset
  int64_t cached = 0;    // bytes freed by tensors but kept for reuse
  int64_t allocs = 0;    // allocate() calls
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  void* allocate(size_t bytes);
  void deallocate(void* ptr, size_t bytes);
  void empty_cache();  // returns cached blocks to the system
  MemoryStats stats();
  void reset_peak();

 protected:
  // The system calls underneath: malloc/free or cudaMalloc/cudaFree.
  virtual void* raw_alloc(size_t bytes) = 0;
  virtual void raw_free(void* ptr) = 0;

 private:
  static size_t round_size(size_t bytes);
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // size class -> cached blocks
  MemoryStats stats_;
};

Allocator& cpu_allocator();
// A device backend other than the CPU's registers its allocator here (the CUDA backend does so before main
// runs, backends/cuda/cuda_allocator.cpp), so core never calls up into backends/.
void register_allocator(DeviceType type, Allocator& allocator);
// The CPU's, or the one registered for d's type; throws when no backend registered one.
Allocator& allocator_for(Device d);

MemoryStats memory_stats(Device d = Device::cpu());
void reset_peak_memory(Device d = Device::cpu());

}  // namespace lf
