#pragma once
// Module: the base of every layer. It owns named parameters (tensors that require grad and that an optimizer
// updates), named buffers (state that is saved but not trained) and named child modules, and walks them
// recursively with PyTorch-style dotted names:
//
//   Encoder
//     tok            Embedding       -> "tok.weight"
//     blocks         ModuleList
//       0            EncoderBlock
//         att        LinformerSelfAttention
//           E                         -> "blocks.0.att.E"
//
// A parameter is simply a Tensor with requires_grad. Layers keep a copy of the handle (e.g. Linear::weight),
// which shares the TensorImpl with the registry, so to(Device), to(DType) and load_state_dict, which all work
// *in place* on that TensorImpl, are seen by the layer and by an optimizer that already holds the tensor.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace lf {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // A module is shared by pointer (children are shared_ptr); a copy would silently share or split parameters.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- registration: names must be unique within this module and contain no '.' ----
  // Sets requires_grad on `t` (a floating leaf) and returns the registered handle.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // ---- recursive views, in registration order (own entries first, then children's) ----
  // A tensor registered twice (shared weights) is listed once, under its first name.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  int64_t num_parameters() const;  // total element count of parameters()

  // ---- modes ----
  void train(bool on = true);  // recursive; dropout is active only in training mode
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Sets every parameter's gradient to undefined (the next backward writes it afresh).
  void zero_grad();

  // ---- state: parameters followed by buffers ----
  NamedTensors state_dict() const;
  // Copies each value into the existing tensor's storage (dtype converted, moved across devices as needed),
  // so handles held elsewhere stay valid. Nothing is copied unless every check passes; the one lf::Error
  // lists every missing key, unexpected key and mis-shaped key (with both shapes). strict = false ignores
  // missing and unexpected keys, never mis-shaped ones.
  void load_state_dict(const NamedTensors& state, bool strict = true);
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // Moves / converts every parameter and buffer in place (their TensorImpl gets new storage, names and
  // handles are kept; gradients follow). to(DType) converts floating tensors only: build in f32, then
  // model.to(DType::f64) for a gradcheck. Returns *this.
  Module& to(Device device);
  Module& to(DType dtype);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const char* what, const std::string& name) const;
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;

  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// A list of modules named "0", "1", ... (like torch.nn.ModuleList), so blocks get the names "blocks.0.*".
class ModuleList : public Module {
 public:
  template <typename M> std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    return register_module(std::to_string(size()), std::move(m));
  }
  size_t size() const { return children().size(); }
  // The i-th module as type M (checked).
  template <typename M> M& at(size_t i) const {
    LF_CHECK(i < size(), "ModuleList: index {} out of range for {} modules", i, size());
    auto* m = dynamic_cast<M*>(children()[i].second.get());
    LF_CHECK(m != nullptr, "ModuleList: module {} has another type than the one asked for", i);
    return *m;
  }
};

// The check-then-copy step behind load_state_dict, shared with the optimizers' state loading: copies
// source[name] into every target tensor in place. `op` names the caller in the one error it throws.
void load_named_tensors(const char* op, const NamedTensors& target, const std::map<std::string, Tensor>& source,
                        bool strict);

}  // namespace lf
