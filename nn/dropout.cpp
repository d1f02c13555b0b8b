#include "nn/dropout.h"

#include "ops/functional.h"

namespace lf {

Dropout::Dropout(double p_) : p(p_) { LF_CHECK(p >= 0 && p < 1, "Dropout: p = {} must be in [0, 1)", p); }

Tensor Dropout::forward(const Tensor& x) const { return dropout(x, p, is_training()); }

}  // namespace lf
