#pragma once
// lf::Profiler: where does a training step spend its time? While a Profiler is alive, every backend
// primitive call (forward and backward kernels alike) and every autograd Node's backward is timed.
//
//   { lf::Profiler prof;  train_step();  fmt::print("{}", prof.table()); }
//
// It works by wrapping the device's Backend in a decorator that times each call (synchronizing asynchronous
// devices first), so no op and no kernel carries profiling code.
#include <string>
#include <vector>

#include "backends/backend.h"

namespace lf {

class Profiler {
 public:
  Profiler();   // starts collecting; profilers do not nest
  ~Profiler();  // stops
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  struct Entry {
    std::string name;  // "kernel gemm", "kernel binary.mul", "backward matmul", ...
    int64_t calls = 0;
    double seconds = 0;
  };
  std::vector<Entry> entries() const;  // slowest first
  // A table: name, calls, total ms, ms per call, share of the kernel time.
  std::string table() const;
};

namespace profiler {
bool active();
void add(const std::string& name, double seconds);
// The profiling decorator around `inner` (backend_for returns it while a Profiler is alive).
Backend& wrap(Backend& inner);
}  // namespace profiler

}  // namespace lf
