#pragma once
// Dropout: in training mode zeroes each element with probability p and scales the rest by 1/(1-p), so the
// expected value is unchanged and eval mode is the identity. The mask comes from the global Philox stream.
#include "nn/module.h"

namespace lf {

class Dropout : public Module {
 public:
  explicit Dropout(double p);
  Tensor forward(const Tensor& x) const;

  double p;
};

}  // namespace lf
