#include "backends/backend.h"

#include <algorithm>

#include "backends/profiler.h"

namespace lf {

// The device's own backend, never wrapped.
static Backend& device_backend(Device d);

bool cuda_available() {
#ifdef LF_WITH_CUDA
  return cuda_device_count() > 0;
#else
  return false;
#endif
}

Backend& backend_for(Device d) {
  if (profiler::active()) return profiler::wrap(device_backend(d));
  return device_backend(d);
}

static Backend& device_backend(Device d) {
  if (d.is_cpu()) return cpu_backend();
#ifdef LF_WITH_CUDA
  static const int count = cuda_device_count();  // asked once: the driver's answer does not change
  LF_CHECK(d.index >= 0 && d.index < count, "device {}: not available ({} CUDA devices found)", d, count);
  return cuda_backend();
#else
  throw Error(fmt::format("device {}: not available: this build has no CUDA backend (configure with -DLF_CUDA=ON)", d));
#endif
}

// Names for messages and the profiler. A switch, not a table, so that -Wswitch flags an enum value added
// without its name.
const char* unary_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg: return "neg";
    case UnaryOp::exp: return "exp";
    case UnaryOp::log: return "log";
    case UnaryOp::sqrt: return "sqrt";
    case UnaryOp::rsqrt: return "rsqrt";
    case UnaryOp::tanh: return "tanh";
    case UnaryOp::sigmoid: return "sigmoid";
    case UnaryOp::relu: return "relu";
    case UnaryOp::gelu_erf: return "gelu_erf";
    case UnaryOp::gelu_tanh: return "gelu_tanh";
    case UnaryOp::abs: return "abs";
    case UnaryOp::add_scalar: return "add_scalar";
    case UnaryOp::mul_scalar: return "mul_scalar";
    case UnaryOp::pow_scalar: return "pow_scalar";
    case UnaryOp::rsub_scalar: return "rsub_scalar";
    case UnaryOp::rdiv_scalar: return "rdiv_scalar";
  }
  return "?";
}

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "add";
    case BinaryOp::sub: return "sub";
    case BinaryOp::mul: return "mul";
    case BinaryOp::div: return "div";
    case BinaryOp::pow: return "pow";
    case BinaryOp::maximum: return "maximum";
    case BinaryOp::minimum: return "minimum";
    case BinaryOp::eq: return "eq";
    case BinaryOp::gt: return "gt";
    case BinaryOp::lt: return "lt";
    case BinaryOp::relu_grad: return "relu_grad";
    case BinaryOp::gelu_erf_grad: return "gelu_erf_grad";
    case BinaryOp::gelu_tanh_grad: return "gelu_tanh_grad";
  }
  return "?";
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
  LF_CHECK(outputs > 0 ? x.numel() % outputs == 0 : x.numel() == 0, "{}: input {} does not split into {} outputs",
           name, shape_str(x.shape()), outputs);
  return outputs > 0 ? x.numel() / outputs : 0;
}

}  // namespace lf
