#include "core/allocator.h"

#include <cstdlib>

namespace lf {

// Blocks are rounded up so that near-equal requests share a size class: to 512 bytes below 1 MiB,
// to 1/8 of the next power of two above (at most 12.5% waste on large tensors).
size_t Allocator::round_size(size_t bytes) {
  // No device has 2^62 bytes; refusing larger requests here also keeps the rounding below from overflowing.
  LF_CHECK(bytes <= (size_t(1) << 62), "allocate: {} bytes is more than any device holds", bytes);
  if (bytes == 0) bytes = 1;
  if (bytes < (1u << 20)) return (bytes + 511) & ~size_t(511);
  size_t p = 1;
  while (p < bytes) p <<= 1;
  size_t step = p / 8;
  return (bytes + step - 1) / step * step;
}

void* Allocator::allocate(size_t bytes) {
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  void* p = nullptr;
  auto it = free_.find(size);
  if (it != free_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    stats_.cached -= int64_t(size);
  } else {
    p = raw_alloc(size);
    if (!p && stats_.cached > 0) {  // out of memory: give the cache back and try once more
      for (auto& [s, blocks] : free_)
        for (void* b : blocks) raw_free(b);
      free_.clear();
      stats_.cached = 0;
      p = raw_alloc(size);
    }
    LF_CHECK(p, "allocate: out of memory asking for {} bytes ({} in use)", size, stats_.in_use);
  }
  stats_.in_use += int64_t(size);
  stats_.peak = std::max(stats_.peak, stats_.in_use);
  stats_.allocs++;
  return p;
}

void Allocator::deallocate(void* ptr, size_t bytes) {
  if (!ptr) return;
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  free_[size].push_back(ptr);
  stats_.in_use -= int64_t(size);
  stats_.cached += int64_t(size);
}

void Allocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [s, blocks] : free_)
    for (void* b : blocks) raw_free(b);
  free_.clear();
  stats_.cached = 0;
}

MemoryStats Allocator::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Allocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak = stats_.in_use;
}

namespace {
class CpuAllocator final : public Allocator {
  // 64-byte alignment: a cache line, and enough for any SIMD load the compiler emits.
  void* raw_alloc(size_t bytes) override { return std::aligned_alloc(64, (bytes + 63) & ~size_t(63)); }
  void raw_free(void* p) override { std::free(p); }
};
}  // namespace

Allocator& cpu_allocator() {
  static CpuAllocator* a = new CpuAllocator();  // never destroyed: tensors may outlive static destruction
  return *a;
}

namespace {
// One slot per DeviceType. Written during static initialisation (before main), read afterwards.
Allocator*& registered(DeviceType type) {
  static Allocator* slots[2] = {nullptr, nullptr};
  return slots[size_t(type)];
}
}  // namespace

void register_allocator(DeviceType type, Allocator& allocator) { registered(type) = &allocator; }

Allocator& allocator_for(Device d) {
  if (d.is_cpu()) return cpu_allocator();
  Allocator* a = registered(d.type);
  LF_CHECK(a, "allocator: device {} is not available: this build has no CUDA backend", d);
  return *a;
}

MemoryStats memory_stats(Device d) { return allocator_for(d).stats(); }
void reset_peak_memory(Device d) { allocator_for(d).reset_peak(); }

}  // namespace lf
