//
// reduce: x contiguous [M, R] -> out [M], the sum or the max of each row.
//
// Sums are accumulated in double, also for f32 (converting 4 floats per instruction is nearly free next
// to reading them from memory): a million-element f32 mean is then exact to float precision, where a
// float accumulator drifts by ~1e-3 and even 8-lane float vectors by ~1e-5.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"

namespace lf {

namespace {

// The accumulator type of a sum: double for floats, int64 for i64.
template <typename T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <typename T>
SumAcc<T> sum_range(const T* x, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    // 16 double lanes: the compiler makes them 4 independent vector accumulators (no add-latency chain),
    // and double accumulation keeps a float sum exact to ~1e-16 relative per step.
    double acc[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      for (int l = 0; l < 16; ++l) acc[l] += double(x[i + l]);
    double total = 0;
    for (; i < n; ++i) total += double(x[i]);
    for (int l = 0; l < 16; ++l) total += acc[l];
    return total;
  } else {
    int64_t total = 0;
#pragma omp simd reduction(+ : total)
    for (int64_t i = 0; i < n; ++i) total += x[i];
    return total;
  }
}

// Max of n >= 1 elements; a NaN anywhere makes the result NaN (as in PyTorch).
template <typename T>
T max_range(const T* x, int64_t n) {
  T m = x[0];
  if constexpr (std::is_floating_point_v<T>) {
    int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t i = 0; i < n; ++i) {
      m = x[i] > m ? x[i] : m;
      nan |= x[i] != x[i];
    }
    return nan ? std::numeric_limits<T>::quiet_NaN() : m;
  } else {
#pragma omp simd reduction(max : m)
    for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
  }
}

template <typename T>
T empty_max() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  return std::numeric_limits<T>::lowest();
}

template <typename T>
void reduce_typed(ReduceOp op, const T* x, T* out, int64_t rows, int64_t cols) {
  if (cols == 0) {
    for (int64_t r = 0; r < rows; ++r) out[r] = op == ReduceOp::sum ? T(0) : empty_max<T>();
    return;
  }
  int threads = cpu::max_threads();
  if (rows >= 2 * threads || rows * cols < 2 * cpu::kGrain) {
    // Many rows: each thread takes a block of whole rows.
    cpu::parallel_for(rows, std::max<int64_t>(1, cpu::kGrain / cols), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r)
        out[r] = op == ReduceOp::sum ? T(sum_range(x + r * cols, cols)) : max_range(x + r * cols, cols);
    });
    return;
  }
  // Few long rows (e.g. the sum of a whole tensor): split each row between the threads, then combine.
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * cols;
    std::vector<SumAcc<T>> sums(threads, 0);
    std::vector<T> maxes(threads, row[0]);
    cpu::parallel_for_t(cols, cpu::kGrain, [&](int t, int64_t lo, int64_t hi) {
      if (op == ReduceOp::sum)
        sums[t] = sum_range(row + lo, hi - lo);
      else
        maxes[t] = max_range(row + lo, hi - lo);
    });
    if (op == ReduceOp::sum) {
      SumAcc<T> s = 0;
      for (auto v : sums) s += v;
      out[r] = T(s);
    } else {
      out[r] = max_range(maxes.data(), threads);
    }
  }
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x_in, const Tensor& out) {
  const char* name = op == ReduceOp::sum ? "sum" : "max";
  LF_CHECK(x_in.defined() && out.defined(), "{}: undefined tensor", name);
  const int64_t rows = out.numel();
  LF_CHECK(rows > 0 ? x_in.numel() % rows == 0 : x_in.numel() == 0,
           "{}: input {} does not split into {} rows", name, shape_str(x_in.shape()), rows);
  if (rows == 0) return;
  const int64_t cols = x_in.numel() / rows;
  cpu::check_output(name, "output", out, x_in.dtype(), rows);
  Tensor x = cpu::contiguous_input(x_in);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    reduce_typed<T>(op, static_cast<const T*>(x.raw_data()), static_cast<T*>(out.raw_data()), rows, cols);
  });
}

}  // namespace lf
