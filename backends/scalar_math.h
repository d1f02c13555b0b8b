#pragma once
// Scalar formulas shared by the CPU and CUDA backends: one definition of each, compiled by g++ for the
// CPU loops and by nvcc for the kernels. This header includes nothing from lf (in particular not fmt,
// which nvcc cannot parse under C++20), so the .cu files can include it.
//
// On the CPU the formulas must vectorise (AVX2: 8 floats at a time). glibc's expf/erff are scalar calls
// unless -ffast-math is on, which would also break NaN handling elsewhere, and exp is the workhorse of
// softmax, cross-entropy, sigmoid and GELU; so for f32 the CPU uses a branch-free exp (Cody-Waite range
// reduction + a degree-7 polynomial, ~1 ulp) and builds erf on it. f64 exists for gradcheck, where accuracy
// matters more than speed: it uses the libm functions. On the GPU, CUDA's own expf/erff (1-2 ulp) serve.
// The two devices therefore agree to rounding (~1e-7 relative in f32), not bit for bit.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#if !defined(__CUDACC__)
#include <bit>  // std::bit_cast (C++20: g++ compiles this side under C++20, nvcc the .cu files under C++17)
#endif

#include "core/host_device.h"  // LF_HD

// The same for the per-element lambdas the CPU loop skeletons take: [](float x) LF_VEC_INLINE_LAMBDA { ... }
#define LF_VEC_INLINE_LAMBDA __attribute__((always_inline))

namespace lf::math {

#if !defined(__CUDACC__)
// exp(x) = 2^n * exp(r) with n = round(x / ln2) and |r| <= ln2/2, where a Taylor polynomial of degree 7
// is accurate to 6e-9 relative. 2^n is built from exponent bits in two halves so that n in [-150, 129]
// gives denormals and infinity exactly where expf would.
LF_HD float exp_f32(float x) {
  // std::max/min written this way keep a NaN (they return their first argument when unordered), and unlike
  // floor/isnan they vectorise without -ffast-math. Adding and subtracting 1.5 * 2^23 rounds to nearest.
  float xc = std::min(std::max(x, -104.0f), 89.0f);
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;  // ln2 split in two (Cody-Waite): n * hi is exact
  r = r + n * 2.12194440e-4f;       // ln2 = 0.693359375 - 2.12194440e-4
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t ni = int32_t(n == n ? n : 0.0f);  // NaN -> int is undefined; p is NaN already, so any n does
  int32_t n1 = ni >> 1, n2 = ni - n1;       // both in [-75, 65]: normal floats
  float s1 = std::bit_cast<float>((n1 + 127) << 23), s2 = std::bit_cast<float>((n2 + 127) << 23);
  return p * s1 * s2;  // a NaN x made p NaN
}

// erf by Abramowitz & Stegun 7.1.26: |error| < 1.5e-7 (5e-7 after float rounding), enough for GELU in f32.
// The caller passes e = exp(-x^2), which GELU's gradient needs as well.
LF_HD float erf_f32(float x, float e) {
  float t = 1.0f / (1.0f + 0.3275911f * std::fabs(x));
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  return std::copysign(1.0f - p * t * e, x);
}
#endif

// ---- the elementary functions, for T = float or double on either device ----
template <typename T>
LF_HD T exp(T x) {
#if defined(__CUDACC__)
  if constexpr (std::is_same_v<T, float>)
    return ::expf(x);
  else
    return ::exp(x);
#else
  if constexpr (std::is_same_v<T, float>)
    return exp_f32(x);
  else
    return std::exp(x);
#endif
}
// erf(x) given e = exp(-x^2): the CPU's f32 erf is built on that exp, so a caller that has it saves one.
template <typename T>
LF_HD T erf(T x, [[maybe_unused]] T e) {
#if defined(__CUDACC__)
  if constexpr (std::is_same_v<T, float>)
    return ::erff(x);
  else
    return ::erf(x);
#else
  if constexpr (std::is_same_v<T, float>)
    return erf_f32(x, e);
  else
    return std::erf(x);
#endif
}
template <typename T>
LF_HD T erf(T x) {
#if defined(__CUDACC__)
  return erf(x, T(0));
#else
  if constexpr (std::is_same_v<T, float>)
    return erf_f32(x, exp_f32(-x * x));
  else
    return std::erf(x);
#endif
}
// sqrt, log, tanh and pow: the C++ overloads, which CUDA provides in device code too. (sqrt vectorises on
// the CPU thanks to -fno-math-errno; log, tanh and pow stay scalar calls there.)
template <typename T>
LF_HD T sqrt(T x) {
  return std::sqrt(x);
}
template <typename T>
LF_HD T log(T x) {
  return std::log(x);
}
template <typename T>
LF_HD T tanh(T x) {
  return std::tanh(x);
}
template <typename T>
LF_HD T pow(T x, T y) {
  return std::pow(x, y);
}

// ---- integer arithmetic and conversions, defined for every input ----
// i64 add, subtract, multiply and negate wrap around modulo 2^64, as PyTorch's do. Signed overflow is
// undefined in C++, so the arithmetic runs in uint64_t, whose conversion back to int64_t is modular since
// C++20 (and in practice on every compiler before). For floating types these are the plain operators.
template <typename T>
LF_HD T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  else
    return a + b;
}
template <typename T>
LF_HD T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  else
    return a - b;
}
template <typename T>
LF_HD T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  else
    return a * b;
}
template <typename T>
LF_HD T wrap_neg(T a) {
  if constexpr (std::is_integral_v<T>)
    return wrap_sub(T(0), a);
  else
    return -a;  // not 0 - a, which would turn +0 into +0 instead of -0
}
// |a|; abs(INT64_MIN) wraps to INT64_MIN, as in PyTorch.
template <typename T>
LF_HD T abs(T a) {
  if constexpr (std::is_integral_v<T>)
    return a < 0 ? wrap_neg(a) : a;
  else
    return std::fabs(a);
}

// A value converted to type D. Float -> integer conversion of NaN or of a value out of range is undefined
// in C++; here NaN gives 0 and values beyond the range saturate (what CUDA's cvt instructions do), and
// the rest truncate toward zero like a C cast.
template <typename D, typename S>
LF_HD D convert(S s) {
  if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    constexpr S top = S(std::numeric_limits<D>::max()) + S(1);  // 2^63: exact in float and double
    if (!(s == s)) return D(0);
    if (s >= top) return std::numeric_limits<D>::max();
    if (s < -top) return std::numeric_limits<D>::min();
    return D(s);
  } else {
    return D(s);
  }
}

// ---- the activations and their derivatives ----
template <typename T>
LF_HD T sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

constexpr double kInvSqrt2 = 0.70710678118654752;     // 1 / sqrt(2), GELU's erf form
constexpr double kInvSqrt2Pi = 0.39894228040143268;   // 1 / sqrt(2 pi), the normal density at 0
constexpr double kSqrt2OverPi = 0.79788456080286536;  // sqrt(2 / pi), GELU's tanh form
constexpr double kGeluCubic = 0.044715;

// GELU, exact form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); d/dx = Phi(x) + x * phi(x).
template <typename T>
LF_HD T gelu_erf(T x) {
  return T(0.5) * x * (T(1) + erf(x * T(kInvSqrt2)));
}
template <typename T>
LF_HD T gelu_erf_derivative(T x) {
  // erf(x / sqrt 2) needs exp(-x^2 / 2) on the CPU, and so does phi(x): compute that exp once.
  const T e = exp(T(-0.5) * x * x);
  return T(0.5) * (T(1) + erf(x * T(kInvSqrt2), e)) + x * T(kInvSqrt2Pi) * e;
}

// GELU, tanh approximation: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
// Since 1 + tanh(u) = 2 sigmoid(2u), this is x * sigmoid(2u): one exp, no cancellation near -inf.
// d/dx = s + 2 x s (1 - s) u', with s = sigmoid(2u) and u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
template <typename T>
LF_HD T gelu_tanh(T x) {
  const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
  return x * sigmoid(T(2) * u);
}
template <typename T>
LF_HD T gelu_tanh_derivative(T x) {
  const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
  const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
  const T s = sigmoid(T(2) * u);
  return s + T(2) * x * s * (T(1) - s) * du;
}

// x^a, with the exponents the models use done by multiplication (the CPU loop also hoists this choice out
// of the loop, so that those cases vectorise).
template <typename T>
LF_HD T pow_scalar(T x, T a) {
  if (a == T(2)) return x * x;
  if (a == T(3)) return x * x * x;
  if (a == T(1)) return x;
  if (a == T(0.5)) return sqrt(x);
  if (a == T(-1)) return T(1) / x;
  return pow(x, a);
}

}  // namespace lf::math
