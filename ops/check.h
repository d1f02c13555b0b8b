#pragma once
// Input checks shared by the ops: every failure names the op and the values involved.
#include "backends/backend.h"

namespace lf {

inline void check_defined(const char* op, const Tensor& t) {
  LF_CHECK(t.defined(), "{}: got an undefined tensor", op);
}
// Same dtype and device: ops never cast or move silently.
inline void check_same(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  LF_CHECK(a.dtype() == b.dtype(), "{}: mixed dtypes {} {} and {} {}; cast one with .to(dtype)", op,
           shape_str(a.shape()), a.dtype(), shape_str(b.shape()), b.dtype());
  LF_CHECK(a.device() == b.device(), "{}: tensors on different devices: {} on {} and {} on {}", op,
           shape_str(a.shape()), a.device(), shape_str(b.shape()), b.device());
}
inline void check_float(const char* op, const Tensor& t) {
  check_defined(op, t);
  LF_CHECK(is_floating(t.dtype()), "{}: expected a floating tensor (f32 or f64), got {} {}", op,
           shape_str(t.shape()), t.dtype());
}
inline Backend& backend_of(const Tensor& t) { return backend_for(t.device()); }

}  // namespace lf
