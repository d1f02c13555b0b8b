// Layer normalisation over the last dim: x, y, dy, dx contiguous [rows, cols]; mean, rstd [rows];
// weight, bias, dw, db [cols], each of which may be absent (null).
//
// Forward, one team per row (two passes over the row: the centred variance is stabler than E[x^2]-E[x]^2):
//   mean = sum(x) / C      rstd = 1 / sqrt(sum((x - mean)^2) / C + eps)
//   y = (x - mean) * rstd * w + b                 mean and rstd are saved for backward
// Backward, with xhat = (x - mean) * rstd and g = dy * w:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))        one team per row
//   dw = sum over rows of dy * xhat,  db = sum over rows of dy   a column reduction (written, not added)
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

template <typename T, bool kWarp>
__global__ void layer_norm_forward_kernel(const T* x, const T* w, const T* b, T eps, T* y, T* mean, T* rstd,
                                          int64_t rows, int64_t cols) {
  using Team = RowTeam<kWarp>;
  for (int64_t row = Team::first_row(); row < rows; row += Team::row_step()) {
    const T* xr = x + row * cols;
    T* yr = y + row * cols;
    T s = T(0);
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) s += xr[c];
    const T mu = Team::reduce(s, SumOp{}, T(0)) / T(cols);
    T ss = T(0);
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) ss += (xr[c] - mu) * (xr[c] - mu);
    const T r = T(1) / math::sqrt(Team::reduce(ss, SumOp{}, T(0)) / T(cols) + eps);
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) {
      T v = (xr[c] - mu) * r;
      if (w) v *= w[c];
      if (b) v += b[c];
      yr[c] = v;
    }
    if (Team::lane() == 0) {
      mean[row] = mu;
      rstd[row] = r;
    }
  }
}

template <typename T, bool kWarp>
__global__ void layer_norm_backward_dx_kernel(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx,
                                              int64_t rows, int64_t cols) {
  using Team = RowTeam<kWarp>;
  for (int64_t row = Team::first_row(); row < rows; row += Team::row_step()) {
    const T* xr = x + row * cols;
    const T* dyr = dy + row * cols;
    T* dxr = dx + row * cols;
    const T mu = mean[row], r = rstd[row];
    T sg = T(0), sgx = T(0);  // sum(g), sum(g * xhat)
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) {
      const T g = w ? dyr[c] * w[c] : dyr[c];
      sg += g;
      sgx += g * (xr[c] - mu) * r;
    }
    const T mean_g = Team::reduce(sg, SumOp{}, T(0)) / T(cols);
    const T mean_gx = Team::reduce(sgx, SumOp{}, T(0)) / T(cols);
    for (int64_t c = Team::lane(); c < cols; c += Team::width()) {
      const T g = w ? dyr[c] * w[c] : dyr[c];
      const T xhat = (xr[c] - mu) * r;
      dxr[c] = r * (g - mean_g - xhat * mean_gx);
    }
  }
}

// dw and db: column sums over rows. A block is 32 columns x 8 row lanes, so each warp reads 32 adjacent
// columns of one row (coalesced); blockIdx.y takes every gridDim.y-th group of 8 rows, so there are
// enough blocks when there are few columns. The sums accumulate in double, as on the CPU (thousands of
// rows). Block (bx, by) writes its column sums to row `by` of dw_out/db_out (of type Out): the outputs
// themselves when gridDim.y == 1, else double partials [splits, cols] that sum_partials_kernel adds up.
// (kColTile and kRowLanes: cuda_common.cuh, shared with reduce.cu's middle reductions.)

template <typename T, typename Out>
__global__ void layer_norm_param_grad_kernel(const T* x, const T* mean, const T* rstd, const T* dy, Out* dw_out,
                                             Out* db_out, int64_t rows, int64_t cols) {
  __shared__ double part_w[kRowLanes][kColTile];
  __shared__ double part_b[kRowLanes][kColTile];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t c = int64_t(blockIdx.x) * kColTile + tx;
  double aw = 0, ab = 0;
  if (c < cols) {
    for (int64_t r = int64_t(blockIdx.y) * kRowLanes + ty; r < rows; r += int64_t(gridDim.y) * kRowLanes) {
      const T g = dy[r * cols + c];
      ab += double(g);
      aw += double(g * ((x[r * cols + c] - mean[r]) * rstd[r]));
    }
  }
  part_w[ty][tx] = aw;
  part_b[ty][tx] = ab;
  __syncthreads();
  if (ty == 0 && c < cols) {
    double sw = 0, sb = 0;
#pragma unroll
    for (int i = 0; i < kRowLanes; ++i) {
      sw += part_w[i][tx];
      sb += part_b[i][tx];
    }
    const int64_t o = int64_t(blockIdx.y) * cols + c;
    if (dw_out) dw_out[o] = Out(sw);
    if (db_out) db_out[o] = Out(sb);
  }
}

// out[c] = sum_p partial[p, c]
template <typename T> __global__ void sum_partials_kernel(const double* partial, T* out, int64_t splits, int64_t cols) {
  for (int64_t c = thread_index(); c < cols; c += thread_count()) {
    double s = 0;
    for (int64_t p = 0; p < splits; ++p) s += partial[p * cols + c];
    out[c] = T(s);
  }
}

void launch_layer_norm_forward(KType type, const void* x, const void* w, const void* b, double eps, void* y,
                               void* mean, void* rstd, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  const bool warp = cols <= kWarpRowMax;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    auto in = [](const void* p) { return static_cast<const T*>(p); };
    auto out = [](void* p) { return static_cast<T*>(p); };
    if (warp) {
      layer_norm_forward_kernel<T, true><<<row_blocks(rows, true), kThreads>>>(
          in(x), in(w), in(b), T(eps), out(y), out(mean), out(rstd), rows, cols);
    } else {
      layer_norm_forward_kernel<T, false><<<row_blocks(rows, false), kThreads>>>(
          in(x), in(w), in(b), T(eps), out(y), out(mean), out(rstd), rows, cols);
    }
    LF_CUDA_CHECK_LAUNCH("layer_norm_forward_kernel");
  });
}

void launch_layer_norm_backward(KType type, const void* x, const void* w, const void* mean, const void* rstd,
                                const void* dy, void* dx, void* dw, void* db, int64_t rows, int64_t cols) {
  if (cols == 0) return;
  const bool warp = cols <= kWarpRowMax;
  dispatch_float(type, [&](auto tag) {
    using T = decltype(tag);
    auto in = [](const void* p) { return static_cast<const T*>(p); };
    auto out = [](void* p) { return static_cast<T*>(p); };
    if (dx && rows > 0) {
      if (warp) {
        layer_norm_backward_dx_kernel<T, true><<<row_blocks(rows, true), kThreads>>>(
            in(x), in(w), in(mean), in(rstd), in(dy), out(dx), rows, cols);
      } else {
        layer_norm_backward_dx_kernel<T, false><<<row_blocks(rows, false), kThreads>>>(
            in(x), in(w), in(mean), in(rstd), in(dy), out(dx), rows, cols);
      }
      LF_CUDA_CHECK_LAUNCH("layer_norm_backward_dx_kernel");
    }
    if (!dw && !db) return;
    // Split the rows so that (column tiles x splits) blocks keep every multiprocessor busy, with at least
    // 32 rows per split.
    const int64_t col_tiles = ceil_div(cols, kColTile);
    const int64_t splits =
        std::min<int64_t>({ceil_div(4 * int64_t(sm_count()), col_tiles), std::max<int64_t>(1, rows / 32), 65535});
    const dim3 grid{unsigned(col_tiles), unsigned(splits)}, block{kColTile, kRowLanes};
    if (splits == 1) {
      layer_norm_param_grad_kernel<T, T><<<grid, block>>>(in(x), in(mean), in(rstd), in(dy), out(dw), out(db), rows,
                                                          cols);
      LF_CUDA_CHECK_LAUNCH("layer_norm_param_grad_kernel");
      return;
    }
    Scratch partial(size_t(2 * splits * cols) * sizeof(double));  // [splits, cols] for dw, then for db
    double* pw = partial.as<double>();
    double* pb = pw + splits * cols;
    layer_norm_param_grad_kernel<T, double><<<grid, block>>>(in(x), in(mean), in(rstd), in(dy), dw ? pw : nullptr,
                                                     db ? pb : nullptr, rows, cols);
    LF_CUDA_CHECK_LAUNCH("layer_norm_param_grad_kernel");
    if (dw) {
      sum_partials_kernel<T><<<blocks_for(cols), kThreads>>>(pw, out(dw), splits, cols);
      LF_CUDA_CHECK_LAUNCH("sum_partials_kernel");
    }
    if (db) {
      sum_partials_kernel<T><<<blocks_for(cols), kThreads>>>(pb, out(db), splits, cols);
      LF_CUDA_CHECK_LAUNCH("sum_partials_kernel");
    }
  });
}

}  // namespace lf::cuda
