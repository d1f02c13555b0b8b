#include "ops/gradcheck.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace lf {

namespace {

// Storage offsets (in elements) of every element of a strided view, in row-major order.
std::vector<int64_t> element_offsets(const Tensor& t) {
  std::vector<int64_t> out;
  out.reserve(size_t(t.numel()));
  Shape index(t.shape().size(), 0);
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t off = 0;
    for (size_t d = 0; d < index.size(); ++d) off += index[d] * t.strides()[d];
    out.push_back(off);
    for (size_t d = index.size(); d-- > 0;) {  // odometer increment
      if (++index[d] < t.shape()[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

std::string index_str(const Shape& shape, int64_t flat) {
  Shape idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return fmt::format("({})", fmt::join(idx, ","));
}

// Deterministic weights in [0.5, 1.5) with alternating sign, from a private LCG so that gradcheck does not
// consume the global random stream (a function under test may re-seed it).
Tensor output_weights(const Tensor& out) {
  std::vector<double> w(size_t(out.numel()));
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < w.size(); ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double u = double(s >> 11) * 0x1.0p-53;
    w[i] = (i % 2 ? -1.0 : 1.0) * (0.5 + u);
  }
  return from_vector(w, out.shape());
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    LF_CHECK(x.defined() && x.dtype() == DType::f64 && x.device().is_cpu(),
             "gradcheck: input {} must be an f64 CPU tensor, got {} on {}", i, x.defined() ? x.dtype() : DType::f64,
             x.defined() ? x.device() : Device::cpu());
    LF_CHECK(!x.requires_grad() || x.is_leaf(), "gradcheck: input {} must be a leaf (apply views inside fn)", i);
  }
  // The scalar whose gradient we check: sum(fn(inputs) * w).
  Tensor out = fn(inputs);
  LF_CHECK(out.dtype() == DType::f64, "gradcheck: fn must return f64, got {}", out.dtype());
  Tensor w = output_weights(out);
  auto loss_of = [&](const Tensor& o) { return sum(mul(o, w)); };

  // Analytic gradients, without disturbing gradients the caller's tensors already hold.
  std::vector<Tensor> saved;
  for (const Tensor& x : inputs) {
    saved.push_back(x.requires_grad() ? x.grad() : Tensor());
    if (x.requires_grad()) const_cast<Tensor&>(x).zero_grad();
  }
  Tensor loss = loss_of(out);
  LF_CHECK(loss.requires_grad(), "gradcheck: the output does not depend on any input that requires grad");
  loss.backward();

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.requires_grad()) continue;
    Tensor analytic = x.grad().defined() ? x.grad() : zeros(x.shape(), DType::f64);
    std::vector<double> a = analytic.to_vector<double>();
    const_cast<Tensor&>(x).set_grad(saved[i]);

    double* base = static_cast<double*>(x.impl()->storage->data) + x.offset();
    std::vector<int64_t> offsets = element_offsets(x);
    for (size_t e = 0; e < offsets.size(); ++e) {
      double& v = base[offsets[e]];
      double orig = v;
      v = orig + eps;
      double plus = loss_of(fn(inputs)).item();
      v = orig - eps;
      double minus = loss_of(fn(inputs)).item();
      v = orig;
      double numeric = (plus - minus) / (2 * eps);
      double err = std::abs(a[e] - numeric) / (atol + rtol * std::abs(numeric));
      if (err > result.max_error) {
        result.max_error = err;
        result.report = fmt::format("gradcheck: input {} {} element {}: analytic {:.10g} vs numeric {:.10g}", i,
                                    shape_str(x.shape()), index_str(x.shape(), int64_t(e)), a[e], numeric);
      }
    }
  }
  result.ok = result.max_error <= 1.0;
  if (result.ok) result.report = fmt::format("gradcheck passed (worst error ratio {:.3g})", result.max_error);
  else result.report = fmt::format("gradcheck FAILED, worst element: {}", result.report.substr(11));
  return result;
}

}  // namespace lf
