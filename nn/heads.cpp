#include "nn/heads.h"

#include <cmath>

#include "nn/attention.h"
#include "nn/linear.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace lf {

MaskedLMHead::MaskedLMHead(int64_t dim, int64_t vocab, const Tensor& tied_weight) {
  LF_CHECK(dim > 0 && vocab > 0, "MaskedLMHead: dim {} and vocab {} must be positive", dim, vocab);
  double bound = 1.0 / std::sqrt(double(dim));  // torch.nn.Linear's default
  if (tied_weight.defined()) {
    LF_CHECK(tied_weight.shape() == Shape({vocab, dim}), "MaskedLMHead: tied weight {} is not [vocab, D] = [{},{}]",
             shape_str(tied_weight.shape()), vocab, dim);
    weight = tied_weight;
  } else {
    weight = register_parameter("weight", uniform({vocab, dim}, -bound, bound));
  }
  bias = register_parameter("bias", uniform({vocab}, -bound, bound));
}

Tensor MaskedLMHead::forward(const Tensor& h) const { return linear(h, weight, bias); }

ClassificationHead::ClassificationHead(int64_t dim, int64_t classes) {
  LF_CHECK(dim > 0 && classes > 0, "ClassificationHead: dim {} and classes {} must be positive", dim, classes);
  double bound = 1.0 / std::sqrt(double(dim));
  weight = register_parameter("weight", uniform({classes, dim}, -bound, bound));
  bias = register_parameter("bias", uniform({classes}, -bound, bound));
}

Tensor ClassificationHead::forward(const Tensor& h, const Tensor& mask) const {
  LF_CHECK(h.dim() == 3, "ClassificationHead: expected hidden states [B, n, D], got {}", shape_str(h.shape()));
  Tensor pooled;  // [B, D]
  if (mask.defined()) {
    // sum over real positions / their count; padded rows are multiplied by 0 and so never matter.
    Tensor m = key_mask_for("ClassificationHead", mask, h);          // [B, n]
    Tensor total = sum(mul(h, m.reshape({h.size(0), h.size(1), 1})), {1});  // [B, D]
    pooled = div(total, sum(m, {1}, /*keepdim=*/true));                     // [B, D] / [B, 1]
  } else {
    pooled = mean(h, {1});
  }
  return linear(pooled, weight, bias);
}

}  // namespace lf
