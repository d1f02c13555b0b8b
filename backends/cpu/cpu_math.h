#pragma once
// Math functions written so that GCC vectorises the loops that call them (AVX2: 8 floats at a time).
//
// glibc's expf/erff are scalar calls unless -ffast-math is on, which would also break NaN handling
// elsewhere. exp is the workhorse of softmax, cross-entropy, sigmoid and GELU, so for f32 we use a
// branch-free exp (Cody-Waite range reduction + a degree-7 polynomial, ~1 ulp) and build erf on it.
// f64 exists for gradcheck, where accuracy matters more than speed: it uses the libm functions.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

// Always inlined: a call inside a vector loop would make the loop scalar (GCC gives up inlining in the
// big dispatch functions otherwise).
#define LF_VEC_INLINE __attribute__((always_inline)) inline
// The same for the per-element lambdas handed to the loop skeletons: [](float x) LF_VEC_INLINE_LAMBDA { ... }
#define LF_VEC_INLINE_LAMBDA __attribute__((always_inline))

namespace lf::cpu {

// exp(x) = 2^n * exp(r) with n = round(x / ln2) and |r| <= ln2/2, where a Taylor polynomial of degree 7
// is accurate to 6e-9 relative. 2^n is built from exponent bits in two halves so that n in [-150, 129]
// gives denormals and infinity exactly where expf would.
LF_VEC_INLINE float exp_f32(float x) {
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
  int32_t n1 = ni >> 1, n2 = ni - n1;  // both in [-75, 65]: normal floats
  float s1 = std::bit_cast<float>((n1 + 127) << 23), s2 = std::bit_cast<float>((n2 + 127) << 23);
  return p * s1 * s2;  // a NaN x made p NaN
}

// erf by Abramowitz & Stegun 7.1.26: |error| < 1.5e-7 (5e-7 after float rounding), enough for GELU in f32.
// The caller passes e = exp(-x^2), which GELU's gradient needs as well.
LF_VEC_INLINE float erf_f32(float x, float e) {
  float t = 1.0f / (1.0f + 0.3275911f * std::fabs(x));
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  return std::copysign(1.0f - p * t * e, x);
}
LF_VEC_INLINE float erf_f32(float x) { return erf_f32(x, exp_f32(-x * x)); }

// ---- integer arithmetic and conversions, defined for every input ----
// i64 add, subtract, multiply and negate wrap around modulo 2^64, as PyTorch's do. Signed overflow is
// undefined in C++, so the arithmetic runs in uint64_t, whose conversion back to int64_t is modular since
// C++20. For floating types these are the plain operators.
template <typename T>
LF_VEC_INLINE T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  else return a + b;
}
template <typename T>
LF_VEC_INLINE T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  else return a - b;
}
template <typename T>
LF_VEC_INLINE T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  else return a * b;
}
template <typename T>
LF_VEC_INLINE T wrap_neg(T a) {
  return wrap_sub(T(0), a);
}

// A value converted to dtype D. Float -> integer conversion of NaN or of a value out of range is undefined
// in C++; here NaN gives 0 and values beyond the range saturate (what CUDA's cvt instructions do), and
// the rest truncate toward zero like a C cast.
template <typename D, typename S>
LF_VEC_INLINE D convert(S s) {
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

// Type-generic entry points used by the kernels.
LF_VEC_INLINE float vexp(float x) { return exp_f32(x); }
LF_VEC_INLINE double vexp(double x) { return std::exp(x); }
LF_VEC_INLINE float verf(float x) { return erf_f32(x); }
LF_VEC_INLINE double verf(double x) { return std::erf(x); }
LF_VEC_INLINE float vsqrt(float x) { return std::sqrt(x); }  // vectorises: -fno-math-errno
LF_VEC_INLINE double vsqrt(double x) { return std::sqrt(x); }

template <typename T>
LF_VEC_INLINE T sigmoid(T x) {
  return T(1) / (T(1) + vexp(-x));
}

// GELU, exact form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); d/dx = Phi(x) + x * phi(x).
template <typename T>
LF_VEC_INLINE T gelu_erf(T x) {
  return T(0.5) * x * (T(1) + verf(x * T(0.70710678118654752)));
}
template <typename T>
LF_VEC_INLINE T gelu_erf_grad(T x) {
  // erf(x / sqrt 2) needs exp(-x^2 / 2), and so does phi(x): for f32 compute that exp once.
  T e = vexp(T(-0.5) * x * x);
  T erf_val;
  if constexpr (std::is_same_v<T, float>)
    erf_val = erf_f32(x * 0.70710678118654752f, e);
  else
    erf_val = verf(x * T(0.70710678118654752));
  return T(0.5) * (T(1) + erf_val) + x * T(0.39894228040143268) * e;
}

// GELU, tanh approximation: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
// Since 1 + tanh(u) = 2 sigmoid(2u), this is x * sigmoid(2u): one exp, no cancellation near -inf.
// d/dx = s + 2 x s (1 - s) u', with s = sigmoid(2u) and u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
template <typename T>
LF_VEC_INLINE T gelu_tanh(T x) {
  T u = T(0.79788456080286536) * (x + T(0.044715) * x * x * x);
  return x * sigmoid(T(2) * u);
}
template <typename T>
LF_VEC_INLINE T gelu_tanh_grad(T x) {
  T u = T(0.79788456080286536) * (x + T(0.044715) * x * x * x);
  T du = T(0.79788456080286536) * (T(1) + T(3 * 0.044715) * x * x);
  T s = sigmoid(T(2) * u);
  return s + T(2) * x * s * (T(1) - s) * du;
}

}  // namespace lf::cpu
