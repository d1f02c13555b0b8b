// Softmax and log-softmax over the last dim: x, y, dy, dx contiguous [rows, cols].
//
// One team per row (a warp for cols <= 1024, e.g. attention scores over Linformer's k projected keys; a
// block for long rows such as a vocabulary). Forward, numerically stable by subtracting the row max:
//   m = max_c x[c]      s = sum_c exp(x[c] - m)
//   softmax:     y = exp(x - m) / s
//   log_softmax: y = x - m - log(s)
// Backward (given the forward's output y):
//   softmax:     dx = y * (dy - sum(dy * y))
//   log_softmax: dx = dy - exp(y) * sum(dy)
// Rows are read once per pass; a row of a few KB stays in L1/L2 between passes.
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

template <typename T, bool kWarp>
__global__ void softmax_forward_kernel(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  using Team = RowTeam<kWarp>;
  for (int64_t row = Team::first_row(); row < rows; row += Team::row_step()) {
    const T* xr = x + row * cols;
    T* yr = y + row * cols;
    T m = dm::lowest<T>();
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) m = MaxOp{}(m, xr[c]);
    m = Team::reduce(m, MaxOp{}, dm::lowest<T>());
    T s = T(0);
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) s += math::exp(xr[c] - m);
    s = Team::reduce(s, SumOp{}, T(0));
    if (log) {
      const T shift = m + math::log(s);  // log-sum-exp of the row
      for (int64_t c = Team::lane(); c < cols; c += Team::width()) yr[c] = xr[c] - shift;
    } else {
      const T inv = T(1) / s;
      for (int64_t c = Team::lane(); c < cols; c += Team::width()) yr[c] = math::exp(xr[c] - m) * inv;
    }
  }
}

template <typename T, bool kWarp>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  using Team = RowTeam<kWarp>;
  for (int64_t row = Team::first_row(); row < rows; row += Team::row_step()) {
    const T* yr = y + row * cols;
    const T* dyr = dy + row * cols;
    T* dxr = dx + row * cols;
    T s = T(0);  // sum(dy * y) for softmax, sum(dy) for log-softmax
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) s += log ? dyr[c] : dyr[c] * yr[c];
    s = Team::reduce(s, SumOp{}, T(0));
    if (log) {
      for (int64_t c = Team::lane(); c < cols; c += Team::width()) dxr[c] = dyr[c] - math::exp(yr[c]) * s;
    } else {
      for (int64_t c = Team::lane(); c < cols; c += Team::width()) dxr[c] = yr[c] * (dyr[c] - s);
    }
  }
}

void launch_softmax_forward(KType type, const void* x, void* y, int64_t rows, int64_t cols, bool log) {
  if (rows == 0 || cols == 0) return;
  const bool warp = cols <= kWarpRowMax;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* yp = static_cast<T*>(y);
    if (warp) softmax_forward_kernel<T, true><<<row_blocks(rows, true), kThreads>>>(xp, yp, rows, cols, log);
    else softmax_forward_kernel<T, false><<<row_blocks(rows, false), kThreads>>>(xp, yp, rows, cols, log);
    LF_CUDA_CHECK_LAUNCH("softmax_forward_kernel");
  });
}

void launch_softmax_backward(KType type, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                             bool log) {
  if (rows == 0 || cols == 0) return;
  const bool warp = cols <= kWarpRowMax;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    const T* yp = static_cast<const T*>(y);
    const T* dyp = static_cast<const T*>(dy);
    T* dxp = static_cast<T*>(dx);
    if (warp) softmax_backward_kernel<T, true><<<row_blocks(rows, true), kThreads>>>(yp, dyp, dxp, rows, cols, log);
    else softmax_backward_kernel<T, false><<<row_blocks(rows, false), kThreads>>>(yp, dyp, dxp, rows, cols, log);
    LF_CUDA_CHECK_LAUNCH("softmax_backward_kernel");
  });
}

}  // namespace lf::cuda
