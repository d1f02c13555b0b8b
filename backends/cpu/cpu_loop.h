#pragma once
// The two loop skeletons every CPU kernel is built from.
//
// 1. parallel_for(n, grain, fn): splits [0, n) into one contiguous range per OpenMP thread and calls
//    fn(lo, hi) on each; below `grain` items it runs fn(0, n) on the calling thread, because waking a
//    thread team costs a few microseconds, more than a small kernel takes. Called from inside another
//    parallel region it runs serially (no nested teams).
//
// 2. strided_for<N>(shape, {strides of N operands}, grain, run): walks N same-shape strided views
//    (operand 0 is the output) in row-major order. The views are first simplified (plan_loop,
//    backends/kernel_args.h, which the CUDA backend shares):
//      - size-1 dims are dropped,
//      - dims are ordered so the output's strides decrease (a transposed output is written in order),
//      - neighbouring dims that are contiguous with each other *in every operand* are merged,
//    so a contiguous tensor becomes one long dim, and `a [M, C] + b [C]` (b expanded: strides [0, 1])
//    stays [M, C] with b's row re-read per row. The innermost dim is then handed to
//    run(off, st, len): `len` elements starting at element offsets off[k], stepping st[k]. The kernel
//    branches once per run on st (all 1: contiguous, vectorised; some 0: a broadcast scalar), so the
//    hot loops are tight and the index bookkeeping happens once per run, not once per element.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "backends/kernel_args.h"  // LoopPlan, plan_loop: the dims merged

namespace lf::cpu {

// Elements below which a cheap elementwise loop stays on one thread. Costlier per-element work
// (exp, erf, a whole row of softmax) passes a smaller grain.
constexpr int64_t kGrain = 32768;

inline int max_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

// fn(t, lo, hi) for one contiguous block [lo, hi) per thread; t < max_threads() indexes per-thread scratch.
template <typename Fn>
void parallel_for_t(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t threads = std::min<int64_t>(max_threads(), (n + grain - 1) / grain);
  if (threads <= 1) {
    fn(0, int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(int(threads))
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t lo = n * t / nt, hi = n * (t + 1) / nt;
    if (lo < hi) fn(int(t), lo, hi);
  }
}

// fn(lo, hi) for one contiguous block of [0, n) per thread.
template <typename Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  parallel_for_t(n, grain, [&](int, int64_t lo, int64_t hi) { fn(lo, hi); });
}

// Calls run(off, st, len) for the runs of the innermost dim that cover flat elements [lo, hi).
template <size_t N, typename Run>
void for_each_run(const LoopPlan<N>& p, int64_t lo, int64_t hi, Run&& run) {
  const int nd = int(p.shape.size());
  const int64_t inner = p.shape[nd - 1];
  const std::array<int64_t, N>& ist = p.strides[nd - 1];
  // Multi-index of element `lo`, and the offsets of the start of its row.
  std::vector<int64_t> idx(nd, 0);
  int64_t rem = lo / inner, j = lo % inner;
  std::array<int64_t, N> row{};
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = rem % p.shape[d];
    rem /= p.shape[d];
    for (size_t k = 0; k < N; ++k) row[k] += idx[d] * p.strides[d][k];
  }
  int64_t pos = lo;
  while (pos < hi) {
    int64_t len = std::min(inner - j, hi - pos);
    std::array<int64_t, N> off;
    for (size_t k = 0; k < N; ++k) off[k] = row[k] + j * ist[k];
    run(off, ist, len);
    pos += len;
    j = 0;
    // Odometer step over the outer dims.
    for (int d = nd - 2; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) row[k] += p.strides[d][k];
      if (++idx[d] < p.shape[d]) break;
      for (size_t k = 0; k < N; ++k) row[k] -= p.shape[d] * p.strides[d][k];
      idx[d] = 0;
    }
  }
}

template <size_t N, typename Run>
void strided_for(const Shape& shape, const std::array<const Shape*, N>& strides, int64_t grain, Run&& run) {
  LoopPlan<N> p = plan_loop<N>(shape, strides, /*by_first_operand=*/true);
  if (p.numel == 0) return;
  parallel_for(p.numel, grain, [&](int64_t lo, int64_t hi) { for_each_run(p, lo, hi, run); });
}

}  // namespace lf::cpu
