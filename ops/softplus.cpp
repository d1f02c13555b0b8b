// softplus(x) = log(1 + exp(x)): a smooth relu. The worked example of docs/adding-an-op.md.
//
// Forward is composed from existing ops in the numerically stable form
//   softplus(x) = max(x, 0) + log(1 + exp(-|x|))      (exp never overflows: its argument is <= 0)
// and run under NoGradGuard, so the pieces are not recorded one by one. Instead the op records a single
// Node whose backward uses the closed form of the derivative:
//   d softplus(x) / dx = exp(x) / (1 + exp(x)) = sigmoid(x)
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "ops/check.h"
#include "ops/elementwise.h"

namespace lf {

Tensor softplus(const Tensor& x) {
  check_float("softplus", x);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = relu(x) + log(1.0 + exp(-abs(x)));
  }
  return record("softplus", out, {x}, [x = x.detach()](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{g * sigmoid(x)};
  });
}

}  // namespace lf
