#pragma once
// The position-wise feed-forward network of a transformer block: Linear(dim -> hidden), GELU (exact erf
// form, as torch.nn.GELU()), Linear(hidden -> dim). hidden = 4 * dim by default.
//
// The two Linears are named "0" and "2", like the torch twin's nn.Sequential(Linear, GELU, Linear), so a
// block's parameters read "ff.0.weight", "ff.0.bias", "ff.2.weight", "ff.2.bias".
#include <memory>

#include "nn/linear.h"

namespace lf {

class FeedForward : public Module {
 public:
  explicit FeedForward(int64_t dim, int64_t hidden = 0);  // hidden 0 -> 4 * dim
  Tensor forward(const Tensor& x) const;                  // [..., dim] -> [..., dim]

  std::shared_ptr<Linear> fc1, fc2;  // registered as "0" and "2"
};

}  // namespace lf
