#pragma once
// The pointwise ops of the backend contract, each named once, with its formula.
//
// Every kernel-backed elementwise op is one row of a table below (an "X-macro": the list is a macro that
// applies X to each row, and each user defines X to generate what it needs). From these rows come:
//   - the enums UnaryOp / BinaryOp and their names (this file);
//   - the CPU kernels' switch (backends/cpu/cpu_elementwise.cpp) and the CUDA kernels' switch
//     (backends/cuda/elementwise.cu), which both call the formula below: one definition for both devices.
// So a new pointwise op is a row here plus its formula, and the op in ops/ that calls it
// (docs/adding-an-op.md walks through one). The header includes nothing that pulls in fmt, so nvcc compiles
// it too.
//
// Columns: X(name, cost, i64)
//   cost  cheap | costly: how much work one element is, which sets the CPU's threading grain (an exp or erf
//         is worth waking a second thread for at 1/8 of the elements an add needs);
//   i64   whether the op is defined for i64 tensors (the formula then compiles for int64_t too; the others
//         are refused with "not defined for i64 tensors" before any kernel runs).
// The formulas take the element(s) and `a`: the scalar operand of the *_scalar ops, unused by the others.
#include <cstdint>

#include "backends/scalar_math.h"

// y = f(x, a)
#define LF_UNARY_OPS(X)        \
  X(neg, cheap, true)          \
  X(exp, costly, false)        \
  X(log, costly, false)        \
  X(sqrt, cheap, false)        \
  X(rsqrt, cheap, false)       \
  X(tanh, costly, false)       \
  X(sigmoid, costly, false)    \
  X(relu, cheap, true)         \
  X(gelu_erf, costly, false)   \
  X(gelu_tanh, costly, false)  \
  X(silu, costly, false)       \
  X(abs, cheap, true)          \
  X(add_scalar, cheap, true)   \
  X(mul_scalar, cheap, true)   \
  X(pow_scalar, costly, false) \
  X(rsub_scalar, cheap, true)  \
  X(rdiv_scalar, cheap, false)

// out = f(a, b), out in the inputs' dtype. The *_grad rows are fused backward formulas: a is the incoming
// gradient, b the forward input, out = a * f'(b).
#define LF_BINARY_OPS(X)           \
  X(add, cheap, true)              \
  X(sub, cheap, true)              \
  X(mul, cheap, true)              \
  X(div, cheap, false)             \
  X(pow, costly, false)            \
  X(maximum, cheap, true)          \
  X(minimum, cheap, true)          \
  X(relu_grad, cheap, false)       \
  X(gelu_erf_grad, costly, false)  \
  X(gelu_tanh_grad, costly, false) \
  X(silu_grad, costly, false)

// out = f(a, b) ? 1 : 0, written in the output's dtype (which may differ from the inputs'); every dtype.
#define LF_COMPARE_OPS(X) \
  X(eq)                   \
  X(gt)                   \
  X(lt)

namespace lf {

// ---- the enums and names, generated from the rows ----
#define LF_POINTWISE_NAME(name, ...) name,
enum class UnaryOp : uint8_t { LF_UNARY_OPS(LF_POINTWISE_NAME) };
enum class BinaryOp : uint8_t { LF_BINARY_OPS(LF_POINTWISE_NAME) LF_COMPARE_OPS(LF_POINTWISE_NAME) };
#undef LF_POINTWISE_NAME

#define LF_POINTWISE_CASE(name, ...) \
  case Op::name:                     \
    return #name;
template <typename Op>
constexpr const char* pointwise_name_of(Op op) {
  if constexpr (std::is_same_v<Op, UnaryOp>) {
    switch (op) { LF_UNARY_OPS(LF_POINTWISE_CASE) }
  } else {
    switch (op) { LF_BINARY_OPS(LF_POINTWISE_CASE) LF_COMPARE_OPS(LF_POINTWISE_CASE) }
  }
  return "?";
}
#undef LF_POINTWISE_CASE
constexpr const char* unary_name(UnaryOp op) { return pointwise_name_of(op); }    // "gelu_erf", ...
constexpr const char* binary_name(BinaryOp op) { return pointwise_name_of(op); }  // "gelu_erf_grad", ...

#define LF_POINTWISE_I64(name, cost, i64) \
  case Op::name:                          \
    return i64;
#define LF_COMPARE_I64(name) \
  case Op::name:             \
    return true;
// Whether the op is defined for i64 tensors (the i64 column; comparisons always are).
template <typename Op>
constexpr bool defined_for_i64(Op op) {
  if constexpr (std::is_same_v<Op, UnaryOp>) {
    switch (op) { LF_UNARY_OPS(LF_POINTWISE_I64) }
  } else {
    switch (op) { LF_BINARY_OPS(LF_POINTWISE_I64) LF_COMPARE_OPS(LF_COMPARE_I64) }
  }
  return false;
}
#undef LF_POINTWISE_I64
#undef LF_COMPARE_I64

constexpr bool is_comparison(BinaryOp op) {
  return op == BinaryOp::eq || op == BinaryOp::gt || op == BinaryOp::lt;
}
// The unary ops that take the scalar `a` (for i64 tensors it must be an integer).
constexpr bool takes_scalar(UnaryOp op) {
  return op == UnaryOp::add_scalar || op == UnaryOp::mul_scalar || op == UnaryOp::pow_scalar ||
         op == UnaryOp::rsub_scalar || op == UnaryOp::rdiv_scalar;
}

// ---- the formulas: pw::<name>(x, a) for unary rows, pw::<name>(a, b) for binary and comparison rows ----
// clang-format off
namespace pw {
using namespace lf::math;

template <typename T> LF_HD T neg(T x, T) { return wrap_neg(x); }
template <typename T> LF_HD T exp(T x, T) { return math::exp(x); }
template <typename T> LF_HD T log(T x, T) { return math::log(x); }
template <typename T> LF_HD T sqrt(T x, T) { return math::sqrt(x); }
template <typename T> LF_HD T rsqrt(T x, T) { return T(1) / math::sqrt(x); }
template <typename T> LF_HD T tanh(T x, T) { return math::tanh(x); }
template <typename T> LF_HD T sigmoid(T x, T) { return math::sigmoid(x); }
template <typename T> LF_HD T relu(T x, T) { return x < T(0) ? T(0) : x; }  // a NaN stays NaN
template <typename T> LF_HD T gelu_erf(T x, T) { return math::gelu_erf(x); }
template <typename T> LF_HD T gelu_tanh(T x, T) { return math::gelu_tanh(x); }
// SiLU (swish): x * sigmoid(x); d/dx = s (1 + x (1 - s)) with s = sigmoid(x).
template <typename T> LF_HD T silu(T x, T) { return x * math::sigmoid(x); }
template <typename T> LF_HD T abs(T x, T) { return math::abs(x); }
template <typename T> LF_HD T add_scalar(T x, T a) { return wrap_add(x, a); }
template <typename T> LF_HD T mul_scalar(T x, T a) { return wrap_mul(x, a); }
template <typename T> LF_HD T pow_scalar(T x, T a) { return math::pow_scalar(x, a); }
template <typename T> LF_HD T rsub_scalar(T x, T a) { return wrap_sub(a, x); }
template <typename T> LF_HD T rdiv_scalar(T x, T a) { return a / x; }

template <typename T> LF_HD T add(T a, T b) { return wrap_add(a, b); }
template <typename T> LF_HD T sub(T a, T b) { return wrap_sub(a, b); }
template <typename T> LF_HD T mul(T a, T b) { return wrap_mul(a, b); }
template <typename T> LF_HD T div(T a, T b) { return a / b; }
template <typename T> LF_HD T pow(T a, T b) { return math::pow(a, b); }
template <typename T> LF_HD T maximum(T a, T b) { return (a != a || a > b) ? a : b; }  // NaN in either: NaN
template <typename T> LF_HD T minimum(T a, T b) { return (a != a || a < b) ? a : b; }
template <typename T> LF_HD T relu_grad(T g, T x) { return x > T(0) ? g : T(0); }
template <typename T> LF_HD T gelu_erf_grad(T g, T x) { return g * gelu_erf_derivative(x); }
template <typename T> LF_HD T gelu_tanh_grad(T g, T x) { return g * gelu_tanh_derivative(x); }
template <typename T> LF_HD T silu_grad(T g, T x) {
  const T s = math::sigmoid(x);
  return g * s * (T(1) + x * (T(1) - s));
}

template <typename T> LF_HD bool eq(T a, T b) { return a == b; }
template <typename T> LF_HD bool gt(T a, T b) { return a > b; }
template <typename T> LF_HD bool lt(T a, T b) { return a < b; }
}  // namespace pw
// clang-format on

}  // namespace lf
