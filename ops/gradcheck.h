#pragma once
// gradcheck: compares autograd's gradients with central differences, in f64.
//
//   auto r = lf::gradcheck([](const std::vector<Tensor>& in) { return lf::tanh(in[0]) * in[1]; }, {x, y});
//   if (!r) fmt::print("{}\n", r.report);   // worst element, its index, analytic vs numeric
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace lf {

struct GradcheckResult {
  bool ok = true;
  double max_error = 0;  // worst |analytic - numeric| / (atol + rtol * |numeric|)
  std::string report;
  explicit operator bool() const { return ok; }
};

// `inputs` are f64 CPU tensors; those with requires_grad are checked (they may be non-contiguous views of
// leaves, e.g. x.transpose(0, 1) of a leaf x: the function then sees the view). The output may have any
// shape: it is reduced to a scalar with fixed random weights so that every output element matters.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-6,
                          double rtol = 1e-4);

}  // namespace lf
