//
// reduce: x contiguous, viewed as [outer, R, inner] -> out [outer, inner], the sum or the max over R.
//
//   inner == 1 is a row reduction (sum over the last dims, after the ops layer moved them to the end);
//   inner > 1 reduces over a middle block of dims in place, e.g. a bias gradient: the column sums of
//   dy [B*T, C] are [outer = 1, R = B*T, inner = C]. Each output column then accumulates whole rows of
//   x, read in memory order, where a row reduction would first need a transposing copy of x.
//
// Sums are accumulated in double, also for f32 (converting 4 floats per instruction is nearly free next
// to reading them from memory): a million-element f32 mean is then exact to float precision, where a
// float accumulator drifts by ~1e-3 and even 8-lane float vectors by ~1e-5.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"
#include "backends/scalar_math.h"

namespace lf {

namespace {

// The accumulator type of a sum: double for floats, uint64 for i64 (an i64 sum wraps around modulo 2^64, as
// in PyTorch, and unsigned arithmetic does that without signed overflow's undefined behaviour).
template <typename T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

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
    uint64_t total = 0;
#pragma omp simd reduction(+ : total)
    for (int64_t i = 0; i < n; ++i) total += uint64_t(x[i]);
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

// acc[j] op= x[r, j] for rows r in [r0, r1) and columns j < w of a matrix with row stride ld.
template <typename T, typename Acc>
void reduce_columns(ReduceOp op, const T* x, Acc* acc, int64_t r0, int64_t r1, int64_t ld, int64_t w) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = x + r * ld;
    if (op == ReduceOp::sum) {
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) acc[j] = math::wrap_add(acc[j], Acc(row[j]));
    } else {
      for (int64_t j = 0; j < w; ++j) acc[j] = (row[j] > acc[j] || row[j] != row[j]) ? Acc(row[j]) : acc[j];
    }
  }
}

template <typename T>
void reduce_middle(ReduceOp op, const T* x, T* out, int64_t outer, int64_t R, int64_t inner) {
  // Sums accumulate in SumAcc (double for floats), maxima in T itself. NaN wins a max (it never loses a
  // comparison above, and `row[j] != row[j]` lets it in).
  using Acc = std::conditional_t<std::is_floating_point_v<T>, SumAcc<T>, T>;
  const Acc start = op == ReduceOp::sum ? Acc(0) : Acc(empty_max<T>());
  // Work item = (o, tile of kTile columns): walks all R rows of its tile with the accumulators on the
  // stack. Rows are read in kTile-element runs, long enough to stream.
  constexpr int64_t kTile = 256;
  const int64_t tiles = (inner + kTile - 1) / kTile, items = outer * tiles;
  const int threads = cpu::max_threads();
  if (items >= 2 * threads || R * inner < 2 * cpu::kGrain) {
    cpu::parallel_for(items, std::max<int64_t>(1, cpu::kGrain / (R * std::min(inner, kTile))),
                      [&](int64_t lo, int64_t hi) {
                        Acc acc[kTile];
                        for (int64_t item = lo; item < hi; ++item) {
                          const int64_t o = item / tiles, j0 = item % tiles * kTile;
                          const int64_t w = std::min(kTile, inner - j0);
                          std::fill(acc, acc + w, start);
                          reduce_columns(op, x + o * R * inner + j0, acc, 0, R, inner, w);
                          for (int64_t j = 0; j < w; ++j) out[o * inner + j0 + j] = T(acc[j]);
                        }
                      });
    return;
  }
  // Few, long blocks (a bias gradient: outer = 1, R = rows, inner = columns): split the rows between the
  // threads, each summing whole rows into its own partial columns, then combine the partials.
  std::vector<std::vector<Acc>> part(static_cast<size_t>(threads),
                                     std::vector<Acc>(static_cast<size_t>(inner)));
  for (int64_t o = 0; o < outer; ++o) {
    for (auto& p : part) std::fill(p.begin(), p.end(), start);
    const T* block = x + o * R * inner;
    cpu::parallel_for_t(R, std::max<int64_t>(1, cpu::kGrain / inner), [&](int t, int64_t lo, int64_t hi) {
      reduce_columns(op, block, part[size_t(t)].data(), lo, hi, inner, inner);
    });
    for (int64_t j = 0; j < inner; ++j) {
      Acc a = part[0][size_t(j)];
      for (int t = 1; t < threads; ++t) {
        Acc b = part[size_t(t)][size_t(j)];
        a = op == ReduceOp::sum ? math::wrap_add(a, b) : ((b > a || b != b) && a == a ? b : a);
      }
      out[o * inner + j] = T(a);
    }
  }
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x_in, const Tensor& out, int64_t inner) {
  const char* name = op == ReduceOp::sum ? "sum" : "max";
  const int64_t R = checked_reduce(name, x_in, out, inner), outputs = out.numel(), outer = outputs / inner;
  if (outputs == 0) return;
  check_output(DeviceType::cpu, name, "output", out, x_in.dtype(), outputs);
  Tensor x = contiguous_input(cpu_backend(), x_in);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x.raw_data());
    T* op_out = static_cast<T*>(out.raw_data());
    if (inner == 1 || R == 0)
      reduce_typed<T>(op, xp, op_out, outputs, R);  // R == 0: sums are 0, maxima the identity
    else
      reduce_middle<T>(op, xp, op_out, outer, R, inner);
  });
}

}  // namespace lf
