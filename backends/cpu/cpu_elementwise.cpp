//
// Elementwise kernels: unary (incl. GELU and the `x op scalar` forms), binary (broadcasting through
// stride-0 views), masked_fill. Each op is a small lambda; map1/map2 run it over the tensors, with
// contiguous and broadcast-scalar fast paths that the compiler vectorises.
#include <cmath>
#include <type_traits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"
#include "backends/cpu/cpu_math.h"

namespace lf {

namespace {

// Per-element cost classes, as the number of elements worth waking a second thread for.
constexpr int64_t kCheap = cpu::kGrain;       // add, mul, compare, ...
constexpr int64_t kCostly = cpu::kGrain / 8;  // exp, erf, pow, ...

// out[i] = f(x[i]); out and x have the same shape, any strides.
template <typename O, typename X, typename F>
void map1(const Tensor& x, const Tensor& out, int64_t grain, F f) {
  const X* px = static_cast<const X*>(x.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  if (x.is_contiguous() && out.is_contiguous()) {
    cpu::parallel_for(out.numel(), grain, [&](int64_t lo, int64_t hi) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) po[i] = f(px[i]);
    });
    return;
  }
  cpu::strided_for<2>(out.shape(), {&out.strides(), &x.strides()}, grain,
                      [&](const auto& off, const auto& st, int64_t len) {
                        O* o = po + off[0];
                        const X* a = px + off[1];
                        if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
                          for (int64_t i = 0; i < len; ++i) o[i] = f(a[i]);
                        } else {
                          for (int64_t i = 0; i < len; ++i) o[i * st[0]] = f(a[i * st[1]]);
                        }
                      });
}

// out[i] = f(a[i], b[i]); a and b are already expanded to out's shape (stride 0 where broadcast).
// The runs handed to the kernel are rows of the innermost dim; the fast paths are "all contiguous"
// (also a row broadcast, e.g. bias [C] over [M, C]: b's row restarts every run) and "one side is a
// single value along the run" (a scalar, or a column [M, 1] broadcast over [M, C]).
template <typename O, typename A, typename B, typename F>
void map2(const Tensor& a, const Tensor& b, const Tensor& out, int64_t grain, F f) {
  const A* pa = static_cast<const A*>(a.raw_data());
  const B* pb = static_cast<const B*>(b.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  if (a.is_contiguous() && b.is_contiguous() && out.is_contiguous()) {
    cpu::parallel_for(out.numel(), grain, [&](int64_t lo, int64_t hi) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  cpu::strided_for<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()}, grain,
                      [&](const auto& off, const auto& st, int64_t len) {
                        O* o = po + off[0];
                        const A* x = pa + off[1];
                        const B* y = pb + off[2];
                        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
                          for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], y[i]);
                        } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
                          const B yv = *y;
#pragma omp simd
                          for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], yv);
                        } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
                          const A xv = *x;
#pragma omp simd
                          for (int64_t i = 0; i < len; ++i) o[i] = f(xv, y[i]);
                        } else {
                          for (int64_t i = 0; i < len; ++i) o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
                        }
                      });
}

template <typename T>
void unary_float(UnaryOp op, const Tensor& x, const Tensor& out, T s) {
  switch (op) {
    case UnaryOp::neg:
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return -v; });
    case UnaryOp::exp:
      return map1<T, T>(x, out, kCostly, [](T v) LF_VEC_INLINE_LAMBDA { return cpu::vexp(v); });
    case UnaryOp::log:
      return map1<T, T>(x, out, kCostly, [](T v) LF_VEC_INLINE_LAMBDA { return std::log(v); });
    case UnaryOp::sqrt:
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return std::sqrt(v); });
    case UnaryOp::rsqrt:
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return T(1) / std::sqrt(v); });
    case UnaryOp::tanh:
      return map1<T, T>(x, out, kCostly, [](T v) LF_VEC_INLINE_LAMBDA { return std::tanh(v); });
    case UnaryOp::sigmoid:
      return map1<T, T>(x, out, kCostly, [](T v) LF_VEC_INLINE_LAMBDA { return cpu::sigmoid(v); });
    case UnaryOp::relu:
      return map1<T, T>(x, out, kCheap,
                        [](T v) LF_VEC_INLINE_LAMBDA { return v < T(0) ? T(0) : v; });  // NaN stays
    case UnaryOp::gelu_erf:
      return map1<T, T>(x, out, kCostly, [](T v) LF_VEC_INLINE_LAMBDA { return cpu::gelu_erf(v); });
    case UnaryOp::gelu_tanh:
      return map1<T, T>(x, out, kCostly, [](T v) LF_VEC_INLINE_LAMBDA { return cpu::gelu_tanh(v); });
    case UnaryOp::abs:
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return std::abs(v); });
    case UnaryOp::add_scalar:
      return map1<T, T>(x, out, kCheap, [s](T v) LF_VEC_INLINE_LAMBDA { return cpu::wrap_add(v, s); });
    case UnaryOp::mul_scalar:
      return map1<T, T>(x, out, kCheap, [s](T v) LF_VEC_INLINE_LAMBDA { return cpu::wrap_mul(v, s); });
    case UnaryOp::rsub_scalar:
      return map1<T, T>(x, out, kCheap, [s](T v) LF_VEC_INLINE_LAMBDA { return cpu::wrap_sub(s, v); });
    case UnaryOp::rdiv_scalar:
      return map1<T, T>(x, out, kCheap, [s](T v) LF_VEC_INLINE_LAMBDA { return s / v; });
    case UnaryOp::pow_scalar:
      // The common exponents without a pow call (which does not vectorise).
      if (s == T(2)) return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v * v; });
      if (s == T(3)) return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v * v * v; });
      if (s == T(1)) return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v; });
      if (s == T(0.5))
        return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return std::sqrt(v); });
      if (s == T(-1)) return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return T(1) / v; });
      return map1<T, T>(x, out, kCostly, [s](T v) LF_VEC_INLINE_LAMBDA { return std::pow(v, s); });
  }
}

void unary_int(UnaryOp op, const Tensor& x, const Tensor& out, double alpha) {
  using T = int64_t;
  bool scalar = op == UnaryOp::add_scalar || op == UnaryOp::mul_scalar || op == UnaryOp::rsub_scalar;
  LF_CHECK(op == UnaryOp::neg || op == UnaryOp::abs || op == UnaryOp::relu || scalar,
           "{}: not defined for i64 tensors ({}); convert to a floating dtype first", unary_name(op),
           shape_str(x.shape()));
  LF_CHECK(!scalar || (std::nearbyint(alpha) == alpha && std::abs(alpha) < 9.2e18),
           "{}: i64 tensor with a non-integral scalar {}", unary_name(op), alpha);
  T s = scalar ? T(alpha) : 0;
  switch (op) {
    case UnaryOp::neg:
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return cpu::wrap_neg(v); });
    case UnaryOp::abs:  // abs(INT64_MIN) wraps to INT64_MIN, as in PyTorch
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v < 0 ? cpu::wrap_neg(v) : v; });
    case UnaryOp::relu:
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v < 0 ? T(0) : v; });
    case UnaryOp::add_scalar:
      return map1<T, T>(x, out, kCheap, [s](T v) LF_VEC_INLINE_LAMBDA { return cpu::wrap_add(v, s); });
    case UnaryOp::mul_scalar:
      return map1<T, T>(x, out, kCheap, [s](T v) LF_VEC_INLINE_LAMBDA { return cpu::wrap_mul(v, s); });
    case UnaryOp::rsub_scalar:
      return map1<T, T>(x, out, kCheap, [s](T v) LF_VEC_INLINE_LAMBDA { return cpu::wrap_sub(s, v); });
    default:
      return;
  }
}

// eq/gt/lt write 1 or 0 in out's dtype, which may differ from the inputs'.
template <typename T>
void compare(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch(out.dtype(), [&](auto otag) {
    using O = decltype(otag);
    switch (op) {
      case BinaryOp::eq:
        return map2<O, T, T>(a, b, out, kCheap,
                             [](T x, T y) LF_VEC_INLINE_LAMBDA { return x == y ? O(1) : O(0); });
      case BinaryOp::gt:
        return map2<O, T, T>(a, b, out, kCheap,
                             [](T x, T y) LF_VEC_INLINE_LAMBDA { return x > y ? O(1) : O(0); });
      case BinaryOp::lt:
        return map2<O, T, T>(a, b, out, kCheap,
                             [](T x, T y) LF_VEC_INLINE_LAMBDA { return x < y ? O(1) : O(0); });
      default:
        return;
    }
  });
}

template <typename T>
void binary_float(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
    case BinaryOp::add:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return x + y; });
    case BinaryOp::sub:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return x - y; });
    case BinaryOp::mul:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return x * y; });
    case BinaryOp::div:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return x / y; });
    case BinaryOp::pow:
      return map2<T, T, T>(a, b, out, kCostly, [](T x, T y) LF_VEC_INLINE_LAMBDA { return std::pow(x, y); });
    // NaN in either input gives NaN, as in PyTorch.
    case BinaryOp::maximum:
      return map2<T, T, T>(a, b, out, kCheap,
                           [](T x, T y) LF_VEC_INLINE_LAMBDA { return (x != x || x > y) ? x : y; });
    case BinaryOp::minimum:
      return map2<T, T, T>(a, b, out, kCheap,
                           [](T x, T y) LF_VEC_INLINE_LAMBDA { return (x != x || x < y) ? x : y; });
    case BinaryOp::relu_grad:
      return map2<T, T, T>(a, b, out, kCheap,
                           [](T g, T x) LF_VEC_INLINE_LAMBDA { return x > T(0) ? g : T(0); });
    case BinaryOp::gelu_erf_grad:
      return map2<T, T, T>(a, b, out, kCostly,
                           [](T g, T x) LF_VEC_INLINE_LAMBDA { return g * cpu::gelu_erf_grad(x); });
    case BinaryOp::gelu_tanh_grad:
      return map2<T, T, T>(a, b, out, kCostly,
                           [](T g, T x) LF_VEC_INLINE_LAMBDA { return g * cpu::gelu_tanh_grad(x); });
    case BinaryOp::eq:
    case BinaryOp::gt:
    case BinaryOp::lt:
      return compare<T>(op, a, b, out);
  }
}

void binary_int(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  using T = int64_t;
  switch (op) {
    case BinaryOp::add:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return cpu::wrap_add(x, y); });
    case BinaryOp::sub:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return cpu::wrap_sub(x, y); });
    case BinaryOp::mul:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return cpu::wrap_mul(x, y); });
    case BinaryOp::maximum:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return x > y ? x : y; });
    case BinaryOp::minimum:
      return map2<T, T, T>(a, b, out, kCheap, [](T x, T y) LF_VEC_INLINE_LAMBDA { return x < y ? x : y; });
    case BinaryOp::eq:
    case BinaryOp::gt:
    case BinaryOp::lt:
      return compare<T>(op, a, b, out);
    default:
      throw Error(fmt::format("{}: not defined for i64 tensors ({}); convert to a floating dtype first",
                              binary_name(op), shape_str(a.shape())));
  }
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha) {
  const char* name = unary_name(op);
  LF_CHECK(x.defined() && out.defined(), "{}: undefined tensor", name);
  LF_CHECK(x.shape() == out.shape(), "{}: input {} and output {} differ in shape", name, shape_str(x.shape()),
           shape_str(out.shape()));
  LF_CHECK(x.dtype() == out.dtype(), "{}: input dtype {} and output dtype {} differ", name, x.dtype(),
           out.dtype());
  if (out.numel() == 0) return;
  if (x.dtype() == DType::i64) return unary_int(op, x, out, alpha);
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    unary_float<T>(op, x, out, T(alpha));
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const char* name = binary_name(op);
  LF_CHECK(a.defined() && b.defined() && out.defined(), "{}: undefined tensor", name);
  LF_CHECK(a.shape() == out.shape() && b.shape() == out.shape(),
           "{}: inputs {} and {} must be expanded to the output shape {}", name, shape_str(a.shape()),
           shape_str(b.shape()), shape_str(out.shape()));
  bool cmp = op == BinaryOp::eq || op == BinaryOp::gt || op == BinaryOp::lt;
  LF_CHECK(a.dtype() == b.dtype() && (cmp || out.dtype() == a.dtype()), "{}: mixed dtypes {}, {} -> {}", name,
           a.dtype(), b.dtype(), out.dtype());
  if (out.numel() == 0) return;
  if (a.dtype() == DType::i64) return binary_int(op, a, b, out);
  dispatch_float(a.dtype(), name, [&](auto tag) { binary_float<decltype(tag)>(op, a, b, out); });
}

void CpuBackend::masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) {
  LF_CHECK(x.defined() && mask.defined() && out.defined(), "masked_fill: undefined tensor");
  LF_CHECK(x.shape() == out.shape() && mask.shape() == out.shape(),
           "masked_fill: x {} and mask {} must be expanded to the output shape {}", shape_str(x.shape()),
           shape_str(mask.shape()), shape_str(out.shape()));
  LF_CHECK(x.dtype() == out.dtype(), "masked_fill: x dtype {} and output dtype {} differ", x.dtype(),
           out.dtype());
  if (out.numel() == 0) return;
  dispatch(x.dtype(), [&](auto xtag) {
    using T = decltype(xtag);
    const T v = T(value);
    dispatch(mask.dtype(), [&](auto mtag) {
      using M = decltype(mtag);
      map2<T, T, M>(x, mask, out, kCheap, [v](T xv, M m) LF_VEC_INLINE_LAMBDA { return m != M(0) ? v : xv; });
    });
  });
}

}  // namespace lf
