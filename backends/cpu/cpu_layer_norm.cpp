//
// layer_norm over the last dim of contiguous x [M, C], forward and backward.
//
// Forward, per row:  mean = sum(x) / C,  var = sum((x - mean)^2) / C  (two passes: no cancellation),
//   rstd = 1 / sqrt(var + eps),  xhat = (x - mean) * rstd,  y = xhat * w + b.  mean and rstd are saved.
// Backward, per row, with g = dy * w (or dy without a weight):
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
// and over all rows:  dw = sum_rows(dy * xhat),  db = sum_rows(dy).
// The column sums dw/db are accumulated in double per thread (each thread owns a [C] buffer for its
// block of rows) and the buffers are added at the end, so there are no atomics and no second pass.
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"

namespace lf {

namespace {

int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(cols, 1)); }

template <typename T>
void layer_norm_rows(const T* x, const T* w, const T* b, T eps, T* y, T* mean, T* rstd, int64_t rows,
                     int64_t cols) {
  cpu::parallel_for(rows, row_grain(cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < cols; ++j) s += xr[j];
      const T mu = s / T(cols);
      T ss = 0;
#pragma omp simd reduction(+ : ss)
      for (int64_t j = 0; j < cols; ++j) ss += (xr[j] - mu) * (xr[j] - mu);
      const T rs = T(1) / std::sqrt(ss / T(cols) + eps);
      mean[r] = mu;
      rstd[r] = rs;
      if (w && b) {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mu) * rs * w[j] + b[j];
      } else if (w) {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mu) * rs * w[j];
      } else if (b) {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mu) * rs + b[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mu) * rs;
      }
    }
  });
}

template <typename T>
void layer_norm_backward_rows(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx, T* dw,
                              T* db, int64_t rows, int64_t cols) {
  const bool want_params = dw || db;
  const int threads = cpu::max_threads();
  // Per-thread column sums: [threads, C] for dw and for db.
  std::vector<double> acc_w(want_params ? size_t(threads * cols) : 0, 0.0), acc_b(acc_w.size(), 0.0);
  cpu::parallel_for_t(rows, row_grain(cols), [&](int t, int64_t lo, int64_t hi) {
    double* aw = want_params ? acc_w.data() + t * cols : nullptr;
    double* ab = want_params ? acc_b.data() + t * cols : nullptr;
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * cols;
      const T* gr = dy + r * cols;
      T* dr = dx ? dx + r * cols : nullptr;
      const T mu = mean[r], rs = rstd[r];
      if (want_params) {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) {
          aw[j] += double(gr[j] * ((xr[j] - mu) * rs));
          ab[j] += double(gr[j]);
        }
      }
      if (!dr) continue;
      // mean(g) and mean(g * xhat), with g = dy * w.
      T sg = 0, sgx = 0;
      if (w) {
#pragma omp simd reduction(+ : sg, sgx)
        for (int64_t j = 0; j < cols; ++j) {
          T g = gr[j] * w[j];
          sg += g;
          sgx += g * ((xr[j] - mu) * rs);
        }
      } else {
#pragma omp simd reduction(+ : sg, sgx)
        for (int64_t j = 0; j < cols; ++j) {
          sg += gr[j];
          sgx += gr[j] * ((xr[j] - mu) * rs);
        }
      }
      const T mg = sg / T(cols), mgx = sgx / T(cols);
      if (w) {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dr[j] = rs * (gr[j] * w[j] - mg - (xr[j] - mu) * rs * mgx);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dr[j] = rs * (gr[j] - mg - (xr[j] - mu) * rs * mgx);
      }
    }
  });
  if (!want_params) return;
  // Add the per-thread partial sums; overwrite dw/db.
  for (int64_t j = 0; j < cols; ++j) {
    double sw = 0, sb = 0;
    for (int t = 0; t < threads; ++t) {
      sw += acc_w[size_t(t * cols + j)];
      sb += acc_b[size_t(t * cols + j)];
    }
    if (dw) dw[j] = T(sw);
    if (db) db[j] = T(sb);
  }
}

const void* param_ptr(const char* what, const Tensor& p, DType dtype, int64_t cols, Tensor& keep) {
  if (!p.defined()) return nullptr;
  LF_CHECK(p.dtype() == dtype && p.numel() == cols, "layer_norm: {} {} {} does not match C = {} and dtype {}",
           what, shape_str(p.shape()), p.dtype(), cols, dtype);
  keep = contiguous_input(cpu_backend(), p);
  return keep.raw_data();
}

}  // namespace

void CpuBackend::layer_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, double eps,
                            const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  LF_CHECK(x_in.defined(), "layer_norm: undefined input");
  const int64_t cols = x_in.dim() == 0 ? 1 : x_in.shape().back();
  const int64_t rows = cols == 0 ? 0 : x_in.numel() / cols;
  check_output(DeviceType::cpu, "layer_norm", "y", y, x_in.dtype(), x_in.numel());
  check_output(DeviceType::cpu, "layer_norm", "mean", mean, x_in.dtype(), rows);
  check_output(DeviceType::cpu, "layer_norm", "rstd", rstd, x_in.dtype(), rows);
  if (rows == 0) return;
  Tensor x = contiguous_input(cpu_backend(), x_in), wk, bk;
  const void* w = param_ptr("weight", weight, x.dtype(), cols, wk);
  const void* b = param_ptr("bias", bias, x.dtype(), cols, bk);
  dispatch_float(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    layer_norm_rows<T>(static_cast<const T*>(x.raw_data()), static_cast<const T*>(w),
                       static_cast<const T*>(b), T(eps), static_cast<T*>(y.raw_data()),
                       static_cast<T*>(mean.raw_data()), static_cast<T*>(rstd.raw_data()), rows, cols);
  });
}

void CpuBackend::layer_norm_backward(const Tensor& x_in, const Tensor& weight, const Tensor& mean_in,
                                     const Tensor& rstd_in, const Tensor& dy_in, const Tensor& dx,
                                     const Tensor& dw, const Tensor& db) {
  const char* name = "layer_norm_backward";
  LF_CHECK(x_in.defined() && dy_in.defined() && mean_in.defined() && rstd_in.defined(),
           "{}: undefined tensor", name);
  const DType dt = x_in.dtype();
  const int64_t cols = x_in.dim() == 0 ? 1 : x_in.shape().back();
  const int64_t rows = cols == 0 ? 0 : x_in.numel() / cols;
  LF_CHECK(dy_in.shape() == x_in.shape() && dy_in.dtype() == dt, "{}: dy {} {} does not match x {} {}", name,
           shape_str(dy_in.shape()), dy_in.dtype(), shape_str(x_in.shape()), dt);
  LF_CHECK(
      mean_in.numel() == rows && rstd_in.numel() == rows && mean_in.dtype() == dt && rstd_in.dtype() == dt,
      "{}: mean {} and rstd {} must be {} [{}]", name, shape_str(mean_in.shape()), shape_str(rstd_in.shape()),
      dt, rows);
  if (dx.defined()) check_output(DeviceType::cpu, name, "dx", dx, dt, x_in.numel());
  if (dw.defined()) check_output(DeviceType::cpu, name, "dw", dw, dt, cols);
  if (db.defined()) check_output(DeviceType::cpu, name, "db", db, dt, cols);
  if (rows == 0) {  // no rows: the parameter gradients are empty sums
    if (dw.defined()) fill(dw, 0.0);
    if (db.defined()) fill(db, 0.0);
    return;
  }
  Tensor x = contiguous_input(cpu_backend(), x_in), dy = contiguous_input(cpu_backend(), dy_in);
  Tensor mean = contiguous_input(cpu_backend(), mean_in), rstd = contiguous_input(cpu_backend(), rstd_in), wk;
  const void* w = param_ptr("weight", weight, dt, cols, wk);
  dispatch_float(dt, name, [&](auto tag) {
    using T = decltype(tag);
    auto out = [](const Tensor& t) { return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr; };
    layer_norm_backward_rows<T>(static_cast<const T*>(x.raw_data()), static_cast<const T*>(w),
                                static_cast<const T*>(mean.raw_data()),
                                static_cast<const T*>(rstd.raw_data()), static_cast<const T*>(dy.raw_data()),
                                out(dx), out(dw), out(db), rows, cols);
  });
}

}  // namespace lf
