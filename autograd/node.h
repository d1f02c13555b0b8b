#pragma once
// A Node is one recorded op in the define-by-run graph: the output of `y = op(a, b)` points at a Node
// whose backward turns dL/dy into {dL/da, dL/db}. Edges lead to the inputs' own Nodes (or, for leaves
// such as parameters, to the tensor whose .grad collects the result).
//
//   loss.grad_fn -> Node("cross_entropy") -> Node("matmul") -> leaf W (W.grad += ...)
//                                                           -> Node("layer_norm") -> ...
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace lf {

struct Edge {
  std::shared_ptr<Node> node;         // the input's grad_fn, or
  std::shared_ptr<TensorImpl> leaf;   // the input itself when it is a leaf that requires grad
  bool active() const { return node || leaf; }
};

// grad_out -> one gradient per input (an undefined Tensor where none is needed or it is zero).
// needs[i] says whether input i wants a gradient, so a backward can skip work.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out, const std::vector<bool>& needs)>;

struct Node {
  std::string name;
  Shape out_shape;            // for graph export and error messages
  std::vector<Edge> inputs;
  BackwardFn backward;        // reset after use unless retain_graph: that frees the saved tensors
  ~Node();                    // releases long chains without recursion
};

// Called by every differentiable op after computing `out`: if grad mode is on and any input requires
// grad, links `out` to a new Node. Returns `out` for chaining.
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward);
// True when grad mode is on and some input requires grad: ops use it to skip saving tensors for nothing.
bool any_requires_grad(const std::vector<Tensor>& inputs);

}  // namespace lf
