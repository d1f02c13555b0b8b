#pragma once
// to_dot: the graph recorded behind a tensor, as Graphviz dot text (op names and output shapes),
// so a learner can see what backward() will walk:  dot -Tpng graph.dot -o graph.png
#include <string>

#include "core/tensor.h"

namespace lf {

std::string to_dot(const Tensor& root);

}  // namespace lf
