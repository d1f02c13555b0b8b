// Cross-entropy on logits, log-softmax and NLL fused: logits [rows, C] contiguous, target i64 [rows].
//
// Forward, one team per row:
//   lse = m + log(sum_c exp(logits[c] - m)),  m = max_c logits[c]       (saved for backward)
//   loss = lse - logits[target]     (= -log softmax(logits)[target]); 0 when target == ignore_index
// A target outside [0, C) that is not ignore_index is a user error that the op's check_indices reports
// (deferred, index.cu); here its loss is 0, and logits[target] is never read.
// Backward, one thread per element (no reductions left):
//   dlogits[c] = scale * (exp(logits[c] - lse) - (c == target)),  0 on ignored (and bad) rows
// scale (g / count) is read from device memory: the host never waits for it.
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

template <typename T, bool kWarp>
__global__ void cross_entropy_forward_kernel(const T* logits, const int64_t* target, int64_t ignore_index,
                                             T* loss, T* lse, int64_t rows, int64_t cols) {
  using Team = RowTeam<kWarp>;
  for (int64_t row = Team::first_row(); row < rows; row += Team::row_step()) {
    const T* xr = logits + row * cols;
    T m = dm::lowest<T>();
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) m = MaxOp{}(m, xr[c]);
    m = Team::reduce(m, MaxOp{}, dm::lowest<T>());
    T s = T(0);
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) s += math::exp(xr[c] - m);
    s = Team::reduce(s, SumOp{}, T(0));
    if (Team::lane() == 0) {
      const T row_lse = m + math::log(s);
      const int64_t t = target[row];
      lse[row] = row_lse;
      loss[row] = (t == ignore_index || t < 0 || t >= cols) ? T(0) : row_lse - xr[t];
    }
  }
}

template <typename T>
__global__ void cross_entropy_backward_kernel(const T* logits, const int64_t* target, const T* lse,
                                              int64_t ignore_index, const T* scale_p, T* dlogits,
                                              int64_t rows, int64_t cols) {
  const int64_t total = rows * cols;
  const T scale = *scale_p;
  for (int64_t i = thread_index(); i < total; i += thread_count()) {
    const int64_t row = i / cols, c = i - row * cols;
    const int64_t t = target[row];
    if (t == ignore_index || t < 0 || t >= cols) {
      dlogits[i] = T(0);
    } else {
      const T d = scale * math::exp(logits[i] - lse[row]);  // scale * softmax probability
      dlogits[i] = c == t ? d - scale : d;
    }
  }
}

void launch_cross_entropy_forward(KType type, const void* logits, const int64_t* target, int64_t ignore_index,
                                  void* loss, void* lse, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  const bool warp = cols <= kWarpRowMax;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    const T* lp = static_cast<const T*>(logits);
    T* lossp = static_cast<T*>(loss);
    T* lsep = static_cast<T*>(lse);
    if (warp) {
      cross_entropy_forward_kernel<T, true>
          <<<row_blocks(rows, true), kThreads>>>(lp, target, ignore_index, lossp, lsep, rows, cols);
    } else {
      cross_entropy_forward_kernel<T, false>
          <<<row_blocks(rows, false), kThreads>>>(lp, target, ignore_index, lossp, lsep, rows, cols);
    }
    LF_CUDA_CHECK_LAUNCH("cross_entropy_forward_kernel");
  });
}

void launch_cross_entropy_backward(KType type, const void* logits, const int64_t* target, const void* lse,
                                   int64_t ignore_index, const void* scale, void* dlogits, int64_t rows,
                                   int64_t cols) {
  if (rows == 0 || cols == 0) return;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_backward_kernel<T><<<blocks_for(rows * cols), kThreads>>>(
        static_cast<const T*>(logits), target, static_cast<const T*>(lse), ignore_index,
        static_cast<const T*>(scale), static_cast<T*>(dlogits), rows, cols);
    LF_CUDA_CHECK_LAUNCH("cross_entropy_backward_kernel");
  });
}

}  // namespace lf::cuda
