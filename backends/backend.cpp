#include "backends/backend.h"

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

}  // namespace lf
