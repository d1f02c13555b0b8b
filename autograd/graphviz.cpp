#include "autograd/graphviz.h"

#include <unordered_map>

#include "autograd/node.h"

namespace lf {

// Walks the graph from the root's Node (iteratively, like the engine) and names each Node once.
std::string to_dot(const Tensor& root) {
  std::string dot = "digraph autograd {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n";
  if (!root.defined() || !root.grad_fn()) return dot + "}\n";
  std::unordered_map<const void*, int> ids;
  auto id_of = [&](const void* p) {
    auto [it, fresh] = ids.try_emplace(p, int(ids.size()));
    return std::pair{it->second, fresh};
  };
  std::vector<Node*> stack{root.grad_fn().get()};
  auto [root_id, _] = id_of(stack.back());
  dot += fmt::format("  n{} [label=\"{}\\n{}\", style=filled, fillcolor=\"#ffd9b3\"];\n", root_id,
                     stack.back()->name, shape_str(stack.back()->out_shape));
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    int nid = ids.at(n);
    for (const Edge& e : n->inputs) {
      if (e.node) {
        auto [cid, fresh] = id_of(e.node.get());
        if (fresh) {
          dot += fmt::format("  n{} [label=\"{}\\n{}\"];\n", cid, e.node->name, shape_str(e.node->out_shape));
          stack.push_back(e.node.get());
        }
        dot += fmt::format("  n{} -> n{};\n", cid, nid);
      } else if (e.leaf) {
        auto [cid, fresh] = id_of(e.leaf.get());
        if (fresh)
          dot += fmt::format("  n{} [label=\"leaf\\n{}\", shape=ellipse, style=filled, fillcolor=\"#cce5ff\"];\n", cid,
                             shape_str(e.leaf->shape));
        dot += fmt::format("  n{} -> n{};\n", cid, nid);
      }
    }
  }
  return dot + "}\n";
}

}  // namespace lf
