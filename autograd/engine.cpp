// The backward engine: from a root tensor, order the recorded Nodes so that each runs only after every
// Node that feeds it a gradient, then call each Node's backward and route the results along its edges.
#include <chrono>
#include <unordered_map>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "backends/backend.h"
#include "backends/profiler.h"

namespace lf {

namespace {

// a + b into a new tensor (gradients are never modified in place: another Node may still hold them).
Tensor add_grads(const Tensor& a, const Tensor& b) {
  LF_CHECK(a.shape() == b.shape(), "backward: gradient shapes {} and {} disagree (a backward returned a wrong shape)",
           shape_str(a.shape()), shape_str(b.shape()));
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  backend_for(a.device()).binary(BinaryOp::add, a, b, out);
  return out;
}

Tensor contiguous_copy_if_needed(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
  backend_for(t.device()).copy(t, out);
  return out;
}

void accumulate_into_leaf(TensorImpl& leaf, const Tensor& g) {
  LF_CHECK(g.shape() == leaf.shape, "backward: gradient of shape {} for a leaf of shape {}", shape_str(g.shape()),
           shape_str(leaf.shape));
  Tensor grad = leaf.grad ? add_grads(Tensor(leaf.grad), g) : contiguous_copy_if_needed(g);
  leaf.grad = grad.impl_ptr();
}

// Reverse post-order of a depth-first walk = a topological order (each node before the nodes it feeds).
// The walk keeps its own stack, so graph depth is limited by memory, not by the call stack.
std::vector<Node*> topological_order(Node* root) {
  std::vector<Node*> post;
  std::unordered_map<Node*, bool> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  seen[root] = true;
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      Node* child = node->inputs[next++].node.get();
      if (child && !seen[child]) {
        seen[child] = true;
        stack.push_back({child, 0});
      }
    } else {
      post.push_back(node);
      stack.pop_back();
    }
  }
  return {post.rbegin(), post.rend()};
}

}  // namespace

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  LF_CHECK(defined(), "backward: called on an undefined tensor");
  LF_CHECK(requires_grad(),
           "backward: this tensor of shape {} does not require grad (no input had requires_grad, or it was computed "
           "under NoGradGuard)",
           shape_str(shape()));
  Tensor g = grad;
  if (!g.defined()) {
    LF_CHECK(numel() == 1, "backward: a root of shape {} is not a scalar; pass its gradient explicitly",
             shape_str(shape()));
    g = Tensor::empty(shape(), dtype(), device());
    backend_for(device()).fill(g, 1.0);
  }
  LF_CHECK(g.shape() == shape() && g.dtype() == dtype() && g.device() == device(),
           "backward: gradient {} {} {} does not match the root {} {} {}", shape_str(g.shape()), g.dtype(), g.device(),
           shape_str(shape()), dtype(), device());

  NoGradGuard no_grad;  // backward computations are not themselves recorded
  if (!grad_fn()) {     // a leaf root: its gradient is the seed itself
    accumulate_into_leaf(*impl(), g);
    return;
  }
  std::unordered_map<Node*, Tensor> pending{{grad_fn().get(), g}};
  for (Node* node : topological_order(grad_fn().get())) {
    auto it = pending.find(node);
    if (it == pending.end()) continue;  // no gradient reached this node
    Tensor grad_out = std::move(it->second);
    pending.erase(it);
    LF_CHECK(node->backward,
             "backward: the graph through '{}' was already freed by an earlier backward(); call backward(grad, "
             "/*retain_graph=*/true) the first time to keep it",
             node->name);
    std::vector<bool> needs;
    for (const Edge& e : node->inputs) needs.push_back(e.active());
    auto t0 = std::chrono::steady_clock::now();
    std::vector<Tensor> grads = node->backward(grad_out, needs);
    if (profiler::active())
      profiler::add("backward " + node->name,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!retain_graph) node->backward = nullptr;  // drops the saved tensors now, not when the graph dies
    LF_CHECK(grads.size() == node->inputs.size(), "backward: '{}' returned {} gradients for {} inputs", node->name,
             grads.size(), node->inputs.size());
    for (size_t i = 0; i < grads.size(); ++i) {
      const Edge& e = node->inputs[i];
      if (!grads[i].defined() || !e.active()) continue;
      if (e.leaf) {
        accumulate_into_leaf(*e.leaf, grads[i]);
      } else {
        auto [slot, fresh] = pending.try_emplace(e.node.get(), grads[i]);
        if (!fresh) slot->second = add_grads(slot->second, grads[i]);
      }
    }
  }
}

Tensor& Tensor::requires_grad_(bool on) {
  LF_CHECK(!on || is_floating(dtype()), "requires_grad_: only floating tensors can require grad, got {}", dtype());
  LF_CHECK(is_leaf(), "requires_grad_: only leaves can change requires_grad (this tensor was made by '{}')",
           grad_fn()->name);
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const { return as_strided(shape(), strides(), offset()); }

}  // namespace lf
