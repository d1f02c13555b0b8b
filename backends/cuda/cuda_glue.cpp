// From Tensors to kernel arguments: checks, enum mapping, strided descriptors (see cuda_glue.h).
#include "backends/cuda/cuda_glue.h"

namespace lf::cuda {

// The switches below have no default: a value added to lf's enums but not to the mirrors in kernels.h
// is a -Wswitch warning here.
KType ktype(DType t) {
  switch (t) {
    case DType::f32: return KType::f32;
    case DType::f64: return KType::f64;
    case DType::i64: return KType::i64;
  }
  throw Error("cuda: unknown dtype");
}

KUnary kop(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg: return KUnary::neg;
    case UnaryOp::exp: return KUnary::exp;
    case UnaryOp::log: return KUnary::log;
    case UnaryOp::sqrt: return KUnary::sqrt;
    case UnaryOp::rsqrt: return KUnary::rsqrt;
    case UnaryOp::tanh: return KUnary::tanh;
    case UnaryOp::sigmoid: return KUnary::sigmoid;
    case UnaryOp::relu: return KUnary::relu;
    case UnaryOp::gelu_erf: return KUnary::gelu_erf;
    case UnaryOp::gelu_tanh: return KUnary::gelu_tanh;
    case UnaryOp::abs: return KUnary::abs;
    case UnaryOp::add_scalar: return KUnary::add_scalar;
    case UnaryOp::mul_scalar: return KUnary::mul_scalar;
    case UnaryOp::pow_scalar: return KUnary::pow_scalar;
    case UnaryOp::rsub_scalar: return KUnary::rsub_scalar;
    case UnaryOp::rdiv_scalar: return KUnary::rdiv_scalar;
  }
  throw Error("cuda: unknown unary op");
}

KBinary kop(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return KBinary::add;
    case BinaryOp::sub: return KBinary::sub;
    case BinaryOp::mul: return KBinary::mul;
    case BinaryOp::div: return KBinary::div;
    case BinaryOp::pow: return KBinary::pow;
    case BinaryOp::maximum: return KBinary::maximum;
    case BinaryOp::minimum: return KBinary::minimum;
    case BinaryOp::eq: return KBinary::eq;
    case BinaryOp::gt: return KBinary::gt;
    case BinaryOp::lt: return KBinary::lt;
    case BinaryOp::relu_grad: return KBinary::relu_grad;
    case BinaryOp::gelu_erf_grad: return KBinary::gelu_erf_grad;
    case BinaryOp::gelu_tanh_grad: return KBinary::gelu_tanh_grad;
  }
  throw Error("cuda: unknown binary op");
}

void check_cuda(const char* op, const char* what, const Tensor& t) {
  LF_CHECK(t.defined(), "{}: {} is undefined", op, what);
  LF_CHECK(t.device().is_cuda(), "{}: the CUDA backend got {} {} on {}; move it with .to(Device::cuda())", op, what,
           shape_str(t.shape()), t.device());
}

void check_output(const char* op, const char* what, const Tensor& t, DType dtype, int64_t numel) {
  check_cuda(op, what, t);
  LF_CHECK(t.dtype() == dtype, "{}: {} has dtype {}, expected {}", op, what, t.dtype(), dtype);
  LF_CHECK(t.numel() == numel, "{}: {} {} has {} elements, expected {}", op, what, shape_str(t.shape()), t.numel(),
           numel);
  LF_CHECK(t.is_contiguous(), "{}: {} {} must be contiguous (strides {})", op, what, shape_str(t.shape()),
           shape_str(t.strides()));
}

Tensor contiguous_input(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device());
  cuda_backend().copy(t, c);
  return c;
}

const void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }
void* mutable_data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

template <int N>
Strided<N> make_strided(const char* op, const Shape& shape, const std::array<const Shape*, N>& strides) {
  Strided<N> s;
  // Walk the dims innermost first; dim d joins the group below it when, for every operand, stepping once
  // along d moves as far as running through the whole group (stride_d == stride_group * size_group).
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    const int64_t size = shape[size_t(d)];
    if (size == 1) continue;  // contributes no offset
    bool merge = s.ndim > 0;
    for (int k = 0; k < N && merge; ++k)
      merge = (*strides[k])[size_t(d)] == s.stride[k][s.ndim - 1] * s.size[s.ndim - 1];
    if (merge) {
      s.size[s.ndim - 1] *= size;
      continue;
    }
    LF_CHECK(s.ndim < kMaxDims,
             "{}: the CUDA backend handles at most {} dims that cannot be merged, got shape {} (strides {})", op,
             kMaxDims, shape_str(shape), shape_str(*strides[0]));
    s.size[s.ndim] = size;
    for (int k = 0; k < N; ++k) s.stride[k][s.ndim] = (*strides[k])[size_t(d)];
    ++s.ndim;
  }
  return s;
}

template Strided<1> make_strided<1>(const char*, const Shape&, const std::array<const Shape*, 1>&);
template Strided<2> make_strided<2>(const char*, const Shape&, const std::array<const Shape*, 2>&);

}  // namespace lf::cuda
