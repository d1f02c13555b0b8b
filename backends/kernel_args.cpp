#include "backends/kernel_args.h"

#include <cmath>

namespace lf {

void check_on(DeviceType where, const char* op, const char* what, const Tensor& t) {
  LF_CHECK(t.defined(), "{}: {} is undefined", op, what);
  const bool cpu = where == DeviceType::cpu;
  LF_CHECK(t.device().type == where, "{}: the {} backend got {} {} on {}; move it with .to(Device::{}())", op,
           cpu ? "CPU" : "CUDA", what, shape_str(t.shape()), t.device(), cpu ? "cpu" : "cuda");
}

void check_output(DeviceType where, const char* op, const char* what, const Tensor& t, DType dtype,
                  int64_t numel) {
  check_on(where, op, what, t);
  LF_CHECK(t.dtype() == dtype, "{}: {} has dtype {}, expected {}", op, what, t.dtype(), dtype);
  LF_CHECK(t.numel() == numel, "{}: {} {} has {} elements, expected {}", op, what, shape_str(t.shape()),
           t.numel(), numel);
  LF_CHECK(t.is_contiguous(), "{}: {} {} must be contiguous (strides {})", op, what, shape_str(t.shape()),
           shape_str(t.strides()));
}

Tensor contiguous_input(Backend& backend, const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device());
  backend.copy(t, c);
  return c;
}

bool checked_unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, DeviceType where) {
  const char* name = unary_name(op);
  check_on(where, name, "x", x);
  check_on(where, name, "out", out);
  LF_CHECK(x.shape() == out.shape(), "{}: input {} and output {} differ in shape", name, shape_str(x.shape()),
           shape_str(out.shape()));
  LF_CHECK(x.dtype() == out.dtype(), "{}: input dtype {} and output dtype {} differ", name, x.dtype(),
           out.dtype());
  if (x.dtype() == DType::i64) {
    LF_CHECK(defined_for_i64(op), "{}: not defined for i64 tensors ({}); convert to a floating dtype first",
             name, shape_str(x.shape()));
    LF_CHECK(!takes_scalar(op) || (std::nearbyint(alpha) == alpha && std::abs(alpha) < 9.2e18),
             "{}: i64 tensor with a non-integral scalar {}", name, alpha);
  }
  return out.numel() > 0;
}

bool checked_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, DeviceType where) {
  const char* name = binary_name(op);
  check_on(where, name, "a", a);
  check_on(where, name, "b", b);
  check_on(where, name, "out", out);
  LF_CHECK(a.shape() == out.shape() && b.shape() == out.shape(),
           "{}: inputs {} and {} must be expanded to the output shape {}", name, shape_str(a.shape()),
           shape_str(b.shape()), shape_str(out.shape()));
  LF_CHECK(a.dtype() == b.dtype() && (is_comparison(op) || out.dtype() == a.dtype()),
           "{}: mixed dtypes {}, {} -> {}", name, a.dtype(), b.dtype(), out.dtype());
  LF_CHECK(a.dtype() != DType::i64 || defined_for_i64(op),
           "{}: not defined for i64 tensors ({}); convert to a floating dtype first", name,
           shape_str(a.shape()));
  return out.numel() > 0;
}

bool checked_masked_fill(const Tensor& x, const Tensor& mask, const Tensor& out, DeviceType where) {
  check_on(where, "masked_fill", "x", x);
  check_on(where, "masked_fill", "mask", mask);
  check_on(where, "masked_fill", "out", out);
  LF_CHECK(x.shape() == out.shape() && mask.shape() == out.shape(),
           "masked_fill: x {} and mask {} must be expanded to the output shape {}", shape_str(x.shape()),
           shape_str(mask.shape()), shape_str(out.shape()));
  LF_CHECK(x.dtype() == out.dtype(), "masked_fill: x dtype {} and output dtype {} differ", x.dtype(),
           out.dtype());
  return out.numel() > 0;
}

namespace {
// A stored matrix with one row, or no columns, may carry any row stride (it is never used; a contiguous
// [m, 0] tensor has stride 0), but BLAS insists on ld >= max(1, columns); checks the stride otherwise.
int64_t leading_dim(const char* which, int64_t ld, int64_t rows, int64_t cols) {
  if (rows <= 1 || cols == 0) return std::max<int64_t>({ld, cols, 1});
  LF_CHECK(ld >= std::max<int64_t>(cols, 1), "gemm: {} has {} columns but row stride {}", which, cols, ld);
  return ld;
}
}  // namespace

std::optional<GemmArgs> checked_gemm(const GemmArgs& g) {
  const int64_t m = g.m, n = g.n, k = g.k, outer = g.batch[0], inner = g.batch[1];
  LF_CHECK(m >= 0 && n >= 0 && k >= 0 && outer >= 0 && inner >= 0,
           "gemm: negative size m={} n={} k={} batch=[{},{}]", m, n, k, outer, inner);
  LF_CHECK(is_floating(g.dtype), "gemm: expected a floating dtype (f32 or f64), got {}", g.dtype);
  if (m == 0 || n == 0 || outer == 0 || inner == 0) return std::nullopt;
  LF_CHECK((outer == 1 || g.stride_c[0] != 0) && (inner == 1 || g.stride_c[1] != 0),
           "gemm: a batch of [{},{}] products cannot write one C (C batch strides [{},{}])", outer, inner,
           g.stride_c[0], g.stride_c[1]);
  GemmArgs r = g;
  r.lda = leading_dim("A", g.lda, g.ta ? k : m, g.ta ? m : k);
  r.ldb = leading_dim("B", g.ldb, g.tb ? n : k, g.tb ? k : n);
  r.ldc = leading_dim("C", g.ldc, m, n);
  return r;
}

int64_t checked_reduce(const char* name, const Tensor& x, const Tensor& out, int64_t inner) {
  LF_CHECK(x.defined() && out.defined(), "{}: undefined tensor", name);
  const int64_t outputs = out.numel();
  LF_CHECK(inner >= 1 && outputs % inner == 0, "{}: {} outputs do not split into blocks of inner = {}", name,
           outputs, inner);
  LF_CHECK(outputs > 0 ? x.numel() % outputs == 0 : x.numel() == 0,
           "{}: input {} does not split into {} outputs", name, shape_str(x.shape()), outputs);
  return outputs > 0 ? x.numel() / outputs : 0;
}

}  // namespace lf
