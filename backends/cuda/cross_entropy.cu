// Cross-entropy on logits, log-softmax and NLL fused: logits [rows, C] contiguous, target i64 [rows].
//
// Forward, one team per row:
//   lse = m + log(sum_c exp(logits[c] - m)),  m = max_c logits[c]       (saved for backward)
//   loss = lse - logits[target]     (= -log softmax(logits)[target]); 0 when target == ignore_index
// A target outside [0, C) that is not ignore_index is a user error: its loss is 0 and it is counted in a
// device counter that the launcher copies back, so the op can throw with the count.
// Backward, one thread per element (no reductions left):
//   dlogits[c] = scale * (exp(logits[c] - lse) - (c == target)),  0 on ignored (and bad) rows
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

template <typename T, bool kWarp>
__global__ void cross_entropy_forward_kernel(const T* logits, const int64_t* target, int64_t ignore_index, T* loss,
                                             T* lse, int64_t rows, int64_t cols, unsigned long long* bad) {
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
      if (t == ignore_index) {
        loss[row] = T(0);
      } else if (t < 0 || t >= cols) {
        loss[row] = T(0);
        atomicAdd(bad, 1ull);
      } else {
        loss[row] = row_lse - xr[t];
      }
    }
  }
}

template <typename T>
__global__ void cross_entropy_backward_kernel(const T* logits, const int64_t* target, const T* lse,
                                              int64_t ignore_index, T scale, T* dlogits, int64_t rows, int64_t cols) {
  const int64_t total = rows * cols;
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

int64_t launch_cross_entropy_forward(KType type, const void* logits, const int64_t* target, int64_t ignore_index,
                                     void* loss, void* lse, int64_t rows, int64_t cols) {
  if (rows == 0) return 0;
  Scratch bad_count(sizeof(unsigned long long));
  unsigned long long* bad = bad_count.as<unsigned long long>();
  LF_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(unsigned long long), 0));
  const bool warp = cols <= kWarpRowMax;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    const T* lp = static_cast<const T*>(logits);
    T* lossp = static_cast<T*>(loss);
    T* lsep = static_cast<T*>(lse);
    if (warp) {
      cross_entropy_forward_kernel<T, true><<<row_blocks(rows, true), kThreads>>>(lp, target, ignore_index, lossp, lsep,
                                                                                  rows, cols, bad);
    } else {
      cross_entropy_forward_kernel<T, false><<<row_blocks(rows, false), kThreads>>>(lp, target, ignore_index, lossp,
                                                                                    lsep, rows, cols, bad);
    }
    LF_CUDA_CHECK_LAUNCH("cross_entropy_forward_kernel");
  });
  unsigned long long host_bad = 0;  // cudaMemcpy waits for the kernel
  LF_CUDA_CHECK(cudaMemcpy(&host_bad, bad, sizeof(host_bad), cudaMemcpyDeviceToHost));
  return int64_t(host_bad);
}

void launch_cross_entropy_backward(KType type, const void* logits, const int64_t* target, const void* lse,
                                   int64_t ignore_index, double scale, void* dlogits, int64_t rows, int64_t cols) {
  if (rows == 0 || cols == 0) return;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_backward_kernel<T><<<blocks_for(rows * cols), kThreads>>>(
        static_cast<const T*>(logits), target, static_cast<const T*>(lse), ignore_index, T(scale),
        static_cast<T*>(dlogits), rows, cols);
    LF_CUDA_CHECK_LAUNCH("cross_entropy_backward_kernel");
  });
}

}  // namespace lf::cuda
