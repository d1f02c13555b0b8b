//
// Row-wise softmax / log-softmax and cross-entropy over contiguous [M, C], forward and backward.
//
// Every row subtracts its max before exponentiating: exp(x - max) <= 1 cannot overflow, and the
// result is unchanged because softmax(x) = softmax(x - c). Cross-entropy never forms the softmax:
//   loss = logsumexp(x) - x[target],   logsumexp(x) = max + log(sum(exp(x - max)))
// Rows are independent, so the threads split the rows.
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"
#include "backends/scalar_math.h"

namespace lf {

namespace {

// Rows per thread-worth of work: ~4k exps.
int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(cols, 1)); }

// [M, C] from a tensor whose last dim is C.
void rows_cols(const Tensor& t, int64_t& rows, int64_t& cols) {
  cols = t.dim() == 0 ? 1 : t.shape().back();
  rows = cols == 0 ? 0 : t.numel() / cols;
}

template <typename T>
T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

// sum_j exp(x[j] - mx); also stores the exps in e when e is not null.
template <typename T>
T sum_exp(const T* x, T mx, T* e, int64_t n) {
  T s = 0;
  if (e) {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; ++j) {
      T v = math::exp(x[j] - mx);
      e[j] = v;
      s += v;
    }
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; ++j) s += math::exp(x[j] - mx);
  }
  return s;
}

template <typename T>
void softmax_rows(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  cpu::parallel_for(rows, row_grain(cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      T mx = row_max(xr, cols);
      if (log) {
        T lse = mx + std::log(sum_exp<T>(xr, mx, nullptr, cols));
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] = xr[j] - lse;
      } else {
        T inv = T(1) / sum_exp(xr, mx, yr, cols);
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
      }
    }
  });
}

template <typename T>
void softmax_backward_rows(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  cpu::parallel_for(rows, row_grain(cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* yr = y + r * cols;
      const T* gr = dy + r * cols;
      T* dr = dx + r * cols;
      T s = 0;
      if (log) {  // y = log p: dx = dy - p * sum(dy)
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) s += gr[j];
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dr[j] = gr[j] - math::exp(yr[j]) * s;
      } else {  // y = p: dx = p * (dy - <dy, p>)
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) s += gr[j] * yr[j];
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dr[j] = yr[j] * (gr[j] - s);
      }
    }
  });
}

bool valid_target(int64_t t, int64_t cols) { return t >= 0 && t < cols; }

template <typename T>
void cross_entropy_rows(const T* x, const int64_t* target, int64_t ignore, T* loss, T* lse, int64_t rows,
                        int64_t cols) {
  cpu::parallel_for(rows, row_grain(cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * cols;
      T mx = row_max(xr, cols);
      lse[r] = mx + std::log(sum_exp<T>(xr, mx, nullptr, cols));
      int64_t t = target[r];
      loss[r] = t == ignore || !valid_target(t, cols) ? T(0) : lse[r] - xr[t];
    }
  });
}

template <typename T>
void cross_entropy_backward_rows(const T* x, const int64_t* target, const T* lse, int64_t ignore, T scale,
                                 T* dx, int64_t rows, int64_t cols) {
  cpu::parallel_for(rows, row_grain(cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * cols;
      T* dr = dx + r * cols;
      int64_t t = target[r];
      if (t == ignore || !valid_target(t, cols)) {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dr[j] = 0;
        continue;
      }
      // d loss / d x_j = softmax_j - [j == t], with softmax_j = exp(x_j - lse).
      T l = lse[r];
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) dr[j] = scale * math::exp(xr[j] - l);
      dr[t] -= scale;
    }
  });
}

}  // namespace

void CpuBackend::softmax(const Tensor& x_in, const Tensor& y, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  LF_CHECK(x_in.defined(), "{}: undefined tensor", name);
  int64_t rows, cols;
  rows_cols(x_in, rows, cols);
  check_output(DeviceType::cpu, name, "output", y, x_in.dtype(), x_in.numel());
  if (rows == 0) return;
  Tensor x = contiguous_input(cpu_backend(), x_in);
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    softmax_rows<T>(static_cast<const T*>(x.raw_data()), static_cast<T*>(y.raw_data()), rows, cols, log);
  });
}

void CpuBackend::softmax_backward(const Tensor& y_in, const Tensor& dy_in, const Tensor& dx, bool log) {
  const char* name = log ? "log_softmax_backward" : "softmax_backward";
  LF_CHECK(y_in.defined() && dy_in.defined(), "{}: undefined tensor", name);
  LF_CHECK(y_in.shape() == dy_in.shape() && y_in.dtype() == dy_in.dtype(), "{}: y {} {} and dy {} {} differ",
           name, shape_str(y_in.shape()), y_in.dtype(), shape_str(dy_in.shape()), dy_in.dtype());
  int64_t rows, cols;
  rows_cols(y_in, rows, cols);
  check_output(DeviceType::cpu, name, "dx", dx, y_in.dtype(), y_in.numel());
  if (rows == 0) return;
  Tensor y = contiguous_input(cpu_backend(), y_in), dy = contiguous_input(cpu_backend(), dy_in);
  dispatch_float(y.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    softmax_backward_rows<T>(static_cast<const T*>(y.raw_data()), static_cast<const T*>(dy.raw_data()),
                             static_cast<T*>(dx.raw_data()), rows, cols, log);
  });
}

void CpuBackend::cross_entropy(const Tensor& logits_in, const Tensor& target_in, int64_t ignore_index,
                               const Tensor& loss, const Tensor& lse) {
  LF_CHECK(logits_in.defined() && target_in.defined(), "cross_entropy: undefined tensor");
  int64_t rows, cols;
  rows_cols(logits_in, rows, cols);
  LF_CHECK(target_in.dtype() == DType::i64, "cross_entropy: target must be i64, got {}", target_in.dtype());
  LF_CHECK(target_in.numel() == rows, "cross_entropy: logits {} have {} rows but target {} has {} elements",
           shape_str(logits_in.shape()), rows, shape_str(target_in.shape()), target_in.numel());
  check_output(DeviceType::cpu, "cross_entropy", "loss", loss, logits_in.dtype(), rows);
  check_output(DeviceType::cpu, "cross_entropy", "lse", lse, logits_in.dtype(), rows);
  if (rows == 0) return;
  Tensor x = contiguous_input(cpu_backend(), logits_in), target = contiguous_input(cpu_backend(), target_in);
  dispatch_float(x.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_rows<T>(static_cast<const T*>(x.raw_data()), target.data<int64_t>(), ignore_index,
                          static_cast<T*>(loss.raw_data()), static_cast<T*>(lse.raw_data()), rows, cols);
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits_in, const Tensor& target_in,
                                        const Tensor& lse_in, int64_t ignore_index, const Tensor& scale,
                                        const Tensor& dlogits) {
  const char* name = "cross_entropy_backward";
  LF_CHECK(logits_in.defined() && target_in.defined() && lse_in.defined(), "{}: undefined tensor", name);
  int64_t rows, cols;
  rows_cols(logits_in, rows, cols);
  LF_CHECK(target_in.dtype() == DType::i64 && target_in.numel() == rows,
           "{}: target {} {} does not match logits {}", name, shape_str(target_in.shape()), target_in.dtype(),
           shape_str(logits_in.shape()));
  LF_CHECK(lse_in.dtype() == logits_in.dtype() && lse_in.numel() == rows,
           "{}: lse {} {} does not match logits {}", name, shape_str(lse_in.shape()), lse_in.dtype(),
           shape_str(logits_in.shape()));
  LF_CHECK(scale.defined() && scale.numel() == 1 && scale.dtype() == logits_in.dtype() &&
               scale.device().type == DeviceType::cpu,
           "{}: scale must be one {} element on the CPU", name, logits_in.dtype());
  check_output(DeviceType::cpu, name, "dlogits", dlogits, logits_in.dtype(), logits_in.numel());
  if (rows == 0) return;
  Tensor x = contiguous_input(cpu_backend(), logits_in), target = contiguous_input(cpu_backend(), target_in);
  Tensor lse = contiguous_input(cpu_backend(), lse_in);
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_backward_rows<T>(static_cast<const T*>(x.raw_data()), target.data<int64_t>(),
                                   static_cast<const T*>(lse.raw_data()), ignore_index, scale.data<T>()[0],
                                   static_cast<T*>(dlogits.raw_data()), rows, cols);
  });
}

}  // namespace lf
