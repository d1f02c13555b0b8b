//
// Elementwise kernels: unary (incl. GELU and the `x op scalar` forms), binary (broadcasting through
// stride-0 views), masked_fill. Each op is a small lambda; map1/map2 run it over the tensors, with
// contiguous and broadcast-scalar fast paths that the compiler vectorises.
#include <cmath>
#include <type_traits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"
#include "backends/pointwise_ops.h"

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

// The kernels, generated from the tables of backends/pointwise_ops.h: one case per row, each running the
// row's formula pw::<name> through map1 / map2. Rows without i64 support are not instantiated for i64
// (the shared checks refused them before the call).
constexpr int64_t grain_of(bool costly) { return costly ? kCostly : kCheap; }
constexpr bool cheap = false, costly = true;

template <typename T>
void unary_kernel(UnaryOp op, const Tensor& x, const Tensor& out, T a) {
  // x^a for the exponents the models use, chosen once here rather than per element, so those loops vectorise.
  if constexpr (std::is_floating_point_v<T>) {
    if (op == UnaryOp::pow_scalar && (a == T(2) || a == T(3) || a == T(1) || a == T(0.5) || a == T(-1))) {
      if (a == T(2)) return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v * v; });
      if (a == T(3)) return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v * v * v; });
      if (a == T(1)) return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return v; });
      if (a == T(0.5))
        return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return math::sqrt(v); });
      return map1<T, T>(x, out, kCheap, [](T v) LF_VEC_INLINE_LAMBDA { return T(1) / v; });
    }
  }
  switch (op) {
#define LF_X(name, cost, i64)                                                                              \
  case UnaryOp::name:                                                                                      \
    if constexpr (std::is_floating_point_v<T> || i64)                                                      \
      return map1<T, T>(x, out, grain_of(cost), [a](T v) LF_VEC_INLINE_LAMBDA { return pw::name(v, a); }); \
    break;
    LF_UNARY_OPS(LF_X)
#undef LF_X
  }
}

template <typename T>
void binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
#define LF_X(name, cost, i64)                                                             \
  case BinaryOp::name:                                                                    \
    if constexpr (std::is_floating_point_v<T> || i64)                                     \
      return map2<T, T, T>(a, b, out, grain_of(cost),                                     \
                           [](T x, T y) LF_VEC_INLINE_LAMBDA { return pw::name(x, y); }); \
    break;
    LF_BINARY_OPS(LF_X)
#undef LF_X
    // eq/gt/lt write 1 or 0 in out's dtype, which may differ from the inputs'.
#define LF_X(name)                                                                               \
  case BinaryOp::name:                                                                           \
    return dispatch(out.dtype(), [&](auto otag) {                                                \
      using O = decltype(otag);                                                                  \
      map2<O, T, T>(a, b, out, kCheap,                                                           \
                    [](T x, T y) LF_VEC_INLINE_LAMBDA { return pw::name(x, y) ? O(1) : O(0); }); \
    });
    LF_COMPARE_OPS(LF_X)
#undef LF_X
  }
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha) {
  if (!checked_unary(op, x, out, alpha, DeviceType::cpu)) return;
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T>(op, x, out, math::convert<T>(alpha));
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!checked_binary(op, a, b, out, DeviceType::cpu)) return;
  dispatch(a.dtype(), [&](auto tag) { binary_kernel<decltype(tag)>(op, a, b, out); });
}

void CpuBackend::masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) {
  if (!checked_masked_fill(x, mask, out, DeviceType::cpu)) return;
  dispatch(x.dtype(), [&](auto xtag) {
    using T = decltype(xtag);
    const T v = math::convert<T>(value);
    dispatch(mask.dtype(), [&](auto mtag) {
      using M = decltype(mtag);
      map2<T, T, M>(x, mask, out, kCheap, [v](T xv, M m) LF_VEC_INLINE_LAMBDA { return m != M(0) ? v : xv; });
    });
  });
}

}  // namespace lf
