#include "nn/feed_forward.h"

#include "ops/elementwise.h"

namespace lf {

FeedForward::FeedForward(int64_t dim, int64_t hidden) {
  if (hidden == 0) hidden = 4 * dim;
  fc1 = register_module("0", std::make_shared<Linear>(dim, hidden));
  fc2 = register_module("2", std::make_shared<Linear>(hidden, dim));
}

// [B, n, D] -> [B, n, 4D] -> GELU -> [B, n, D]
Tensor FeedForward::forward(const Tensor& x) const { return fc2->forward(gelu(fc1->forward(x))); }

}  // namespace lf
