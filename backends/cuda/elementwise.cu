// Elementwise kernels: unary, binary and masked_fill.
//
//   unary        x [n] (strided)                     -> out [n] contiguous
//   binary       a, b [n] (strided, broadcast = 0)    -> out [n] contiguous (eq/gt/lt: out of any dtype)
//   masked_fill  x, mask [n] (strided, mask any type)  -> out [n] contiguous
//
// One thread per output element (grid-stride). The op is a run-time switch rather than a template
// parameter: it is the same for every thread, so the branch costs a few instructions per element of a
// memory-bound loop, and the file compiles in seconds instead of instantiating 30 ops x 3 dtypes x 2 paths.
// The formulas follow the CPU backend's (GELU's tanh form as x * sigmoid(2u), NaN-propagating maximum,
// ReLU keeping NaN, pow by multiplication for small integer exponents), so the two devices agree to
// rounding: libdevice's expf/erff are within 1-2 ulp, the CPU's vectorised exp/erf within ~1e-7.
// Operand offsets come from Strided (kernels.h); kContig is the fast path where all are plain [n] arrays.
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

namespace {
constexpr double kSqrt2OverPi = 0.79788456080286536;  // sqrt(2 / pi), GELU's tanh form
constexpr double kInvSqrt2 = 0.70710678118654752;     // 1 / sqrt(2), GELU's erf form
constexpr double kInvSqrt2Pi = 0.39894228040143268;   // 1 / sqrt(2 pi), the normal density at 0
constexpr double kGeluCubic = 0.044715;
}  // namespace

// ---- the ops, written as the CPU backend's (backends/cpu/cpu_math.h) so both give the same numbers ----

template <typename T> __device__ __forceinline__ T sigmoid(T x) { return T(1) / (T(1) + dm::exp(-x)); }

// GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)); d/dx = Phi(x) + x phi(x).
template <typename T> __device__ __forceinline__ T gelu_erf(T x) {
  return T(0.5) * x * (T(1) + dm::erf(x * T(kInvSqrt2)));
}
template <typename T> __device__ __forceinline__ T gelu_erf_grad(T x) {
  const T cdf = T(0.5) * (T(1) + dm::erf(x * T(kInvSqrt2)));
  const T pdf = T(kInvSqrt2Pi) * dm::exp(T(-0.5) * x * x);
  return cdf + x * pdf;
}
// GELU, tanh form: 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): one exp, and no
// cancellation for large negative x. d/dx = s + 2 x s (1 - s) u', s = sigmoid(2u).
template <typename T> __device__ __forceinline__ T gelu_tanh(T x) {
  const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
  return x * sigmoid(T(2) * u);
}
template <typename T> __device__ __forceinline__ T gelu_tanh_grad(T x) {
  const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
  const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
  const T s = sigmoid(T(2) * u);
  return s + T(2) * x * s * (T(1) - s) * du;
}

// x^alpha, with the exponents the models use done by multiplication, as on the CPU.
template <typename T> __device__ __forceinline__ T pow_scalar(T x, T alpha) {
  if (alpha == T(2)) return x * x;
  if (alpha == T(3)) return x * x * x;
  if (alpha == T(1)) return x;
  if (alpha == T(0.5)) return dm::sqrt(x);
  if (alpha == T(-1)) return T(1) / x;
  return dm::pow(x, alpha);
}

// Floating T. (cuda_backend.cpp refuses the i64 ops the CPU refuses; i64 runs unary_op_int.)
template <typename T> __device__ T unary_op(KUnary op, T x, T alpha) {
  switch (op) {
    case KUnary::neg: return -x;
    case KUnary::exp: return dm::exp(x);
    case KUnary::log: return dm::log(x);
    case KUnary::sqrt: return dm::sqrt(x);
    case KUnary::rsqrt: return T(1) / dm::sqrt(x);
    case KUnary::tanh: return dm::tanh(x);
    case KUnary::sigmoid: return sigmoid(x);
    case KUnary::relu: return x < T(0) ? T(0) : x;  // NaN stays NaN
    case KUnary::gelu_erf: return gelu_erf(x);
    case KUnary::gelu_tanh: return gelu_tanh(x);
    case KUnary::abs: return dm::abs(x);
    case KUnary::add_scalar: return x + alpha;
    case KUnary::mul_scalar: return x * alpha;
    case KUnary::pow_scalar: return pow_scalar(x, alpha);
    case KUnary::rsub_scalar: return alpha - x;
    case KUnary::rdiv_scalar: return alpha / x;
  }
  return x;
}

// i64: neg, abs, relu and the scalar forms add/mul/rsub (alpha integral, checked by the caller).
__device__ __forceinline__ int64_t unary_op_int(KUnary op, int64_t x, int64_t alpha) {
  switch (op) {
    case KUnary::neg: return -x;
    case KUnary::abs: return x < 0 ? -x : x;
    case KUnary::relu: return x < 0 ? 0 : x;
    case KUnary::add_scalar: return x + alpha;
    case KUnary::mul_scalar: return x * alpha;
    case KUnary::rsub_scalar: return alpha - x;
    default: return x;  // refused before the launch
  }
}

// a, b and out share the type T (comparisons: compare_op below). i64 supports add, sub, mul, maximum,
// minimum (checked by the caller).
template <typename T> __device__ T binary_op(KBinary op, T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    switch (op) {
      case KBinary::add: return a + b;
      case KBinary::sub: return a - b;
      case KBinary::mul: return a * b;
      case KBinary::maximum: return a > b ? a : b;
      case KBinary::minimum: return a < b ? a : b;
      default: return T(0);  // refused before the launch
    }
  } else {
    switch (op) {
      case KBinary::add: return a + b;
      case KBinary::sub: return a - b;
      case KBinary::mul: return a * b;
      case KBinary::div: return a / b;
      case KBinary::pow: return dm::pow(a, b);
      case KBinary::maximum: return (a != a || a > b) ? a : b;  // a NaN in either input gives NaN
      case KBinary::minimum: return (a != a || a < b) ? a : b;
      case KBinary::relu_grad: return b > T(0) ? a : T(0);  // a = gradient, b = input
      case KBinary::gelu_erf_grad: return a * gelu_erf_grad(b);
      case KBinary::gelu_tanh_grad: return a * gelu_tanh_grad(b);
      default: return T(0);  // eq, gt, lt go through compare_kernel
    }
  }
}

template <typename T> __device__ __forceinline__ bool compare_op(KBinary op, T a, T b) {
  return op == KBinary::eq ? a == b : op == KBinary::gt ? a > b : a < b;
}

// ---- kernels ----

template <typename T, bool kContig>
__global__ void unary_kernel(KUnary op, const T* x, T* out, int64_t n, Strided<1> s, double alpha) {
  const T calpha = T(alpha);
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[1] = {i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    if constexpr (std::is_integral_v<T>) out[i] = unary_op_int(op, x[off[0]], calpha);
    else out[i] = unary_op<T>(op, x[off[0]], calpha);
  }
}

template <typename T, bool kContig>
__global__ void binary_kernel(KBinary op, const T* a, const T* b, T* out, int64_t n, Strided<2> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[2] = {i, i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    out[i] = binary_op<T>(op, a[off[0]], b[off[1]]);
  }
}

// eq / gt / lt: inputs of type T, 1 or 0 written in the output's type O (which may differ).
template <typename T, typename O, bool kContig>
__global__ void compare_kernel(KBinary op, const T* a, const T* b, O* out, int64_t n, Strided<2> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[2] = {i, i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    out[i] = compare_op<T>(op, a[off[0]], b[off[1]]) ? O(1) : O(0);
  }
}

template <typename T, typename M, bool kContig>
__global__ void masked_fill_kernel(const T* x, const M* mask, T value, T* out, int64_t n, Strided<2> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[2] = {i, i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    out[i] = mask[off[1]] != M(0) ? value : x[off[0]];
  }
}

// ---- launchers ----

void launch_unary(KType type, KUnary op, const void* x, void* out, int64_t n, const Strided<1>& s, double alpha) {
  if (n == 0) return;
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* o = static_cast<T*>(out);
    if (s.contiguous()) unary_kernel<T, true><<<blocks_for(n), kThreads>>>(op, xp, o, n, s, alpha);
    else unary_kernel<T, false><<<blocks_for(n), kThreads>>>(op, xp, o, n, s, alpha);
    LF_CUDA_CHECK_LAUNCH("unary_kernel");
  });
}

void launch_binary(KType type, KBinary op, const void* a, const void* b, KType out_type, void* out, int64_t n,
                   const Strided<2>& s) {
  if (n == 0) return;
  const bool contig = s.contiguous();
  const bool compare = op == KBinary::eq || op == KBinary::gt || op == KBinary::lt;
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    const T* ap = static_cast<const T*>(a);
    const T* bp = static_cast<const T*>(b);
    if (compare) {
      dispatch_all(out_type, [&](auto out_tag) {
        using O = decltype(out_tag);
        O* o = static_cast<O*>(out);
        if (contig) compare_kernel<T, O, true><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
        else compare_kernel<T, O, false><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
        LF_CUDA_CHECK_LAUNCH("compare_kernel");
      });
      return;
    }
    T* o = static_cast<T*>(out);
    if (contig) binary_kernel<T, true><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
    else binary_kernel<T, false><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
    LF_CUDA_CHECK_LAUNCH("binary_kernel");
  });
}

void launch_masked_fill(KType type, const void* x, KType mask_type, const void* mask, double value, void* out,
                        int64_t n, const Strided<2>& s) {
  if (n == 0) return;
  dispatch_all(type, [&](auto tag) {
    dispatch_all(mask_type, [&](auto mask_tag) {
      using T = decltype(tag);
      using M = decltype(mask_tag);
      const T* xp = static_cast<const T*>(x);
      const M* mp = static_cast<const M*>(mask);
      T* o = static_cast<T*>(out);
      if (s.contiguous()) masked_fill_kernel<T, M, true><<<blocks_for(n), kThreads>>>(xp, mp, T(value), o, n, s);
      else masked_fill_kernel<T, M, false><<<blocks_for(n), kThreads>>>(xp, mp, T(value), o, n, s);
      LF_CUDA_CHECK_LAUNCH("masked_fill_kernel");
    });
  });
}

}  // namespace lf::cuda
