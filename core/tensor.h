#pragma once
// Tensor: a cheap handle (shared pointer) to a TensorImpl, which is a strided view of shared Storage.
//
//   storage  ->  [ ........ raw bytes on a device ........ ]
//   impl         offset, shape, strides, dtype  (a view: element (i,j) is at offset + i*strides[0] + j*strides[1])
//                requires_grad, grad, grad_fn   (autograd's fields; see autograd/node.h)
//
// Views (reshape, transpose, slice, expand, ...) make a new TensorImpl over the same Storage.
// Methods below that compute something (contiguous, reshape, item, backward, ...) are declared here so a
// user can write `x.reshape({2, 3})`, and defined with the op they belong to. Where each group lives:
//   metadata, empty, as_strided, raw_data     core/tensor.cpp
//   autograd: requires_grad_, backward, detach autograd/engine.cpp
//   conversion and element access             ops/convert.cpp (contiguous, clone, to, item, at, to_vector)
//   views                                     ops/view.cpp (reshape, view, transpose, permute, slice, ...)
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/allocator.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace lf {

struct Node;

// A block of device memory, freed back to its allocator when the last view of it dies.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  Storage(size_t bytes, Device d);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape, strides;
  DType dtype = DType::f32;
  // autograd
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves and for tensors outside the graph
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised memory; the factories in ops/creation.h fill it.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());

  // ---- metadata ----
  // Every accessor below throws lf::Error on an undefined tensor instead of dereferencing null.
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked("shape").shape; }
  const Shape& strides() const { return checked("strides").strides; }
  int64_t dim() const { return int64_t(checked("dim").shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return lf::numel(checked("numel").shape); }
  DType dtype() const { return checked("dtype").dtype; }
  Device device() const { return checked("device").storage->device; }
  int64_t offset() const { return checked("offset").offset; }
  bool is_contiguous() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // Pointer to element 0 of this view (storage + offset). T must match dtype().
  template <typename T> T* data() const {
    LF_CHECK(dtype_of<T>() == dtype(), "data: tensor has dtype {}, asked for {}", dtype(), dtype_of<T>());
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // A new view of the same storage with other shape/strides/offset (core/tensor.cpp; no autograd: the view
  // ops of ops/view.cpp record it).
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;

  // ---- autograd (autograd/engine.cpp) ----
  bool requires_grad() const { return checked("requires_grad").requires_grad; }
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return checked("is_leaf").grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return checked("grad_fn").grad_fn; }
  Tensor grad() const { return Tensor(checked("grad").grad); }
  void set_grad(const Tensor& g) { mutable_impl("set_grad").grad = g.impl_; }
  void zero_grad() { mutable_impl("zero_grad").grad.reset(); }
  // Backpropagates from this tensor. A non-scalar root needs an explicit `grad` of its shape.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // same storage, outside the graph

  // ---- conversion and element access (ops/convert.cpp) ----
  Tensor contiguous() const;  // copies only when the view is not already row-major
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  double item() const;  // one-element tensor -> its value
  double at(std::initializer_list<int64_t> index) const;
  template <typename T> std::vector<T> to_vector() const;  // contiguous copy of the values on the CPU

  // ---- views (ops/view.cpp): share storage, differentiable ----
  Tensor reshape(const Shape& shape) const;  // view when the strides allow it, else a copy; one -1 dim inferred
  Tensor view(const Shape& shape) const;     // like reshape, but refuses to copy
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const Shape& dims) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor expand(const Shape& shape) const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten() const { return reshape({numel()}); }

 private:
  const TensorImpl& checked(const char* what) const;  // *impl_, or lf::Error naming `what` when undefined
  TensorImpl& mutable_impl(const char* what) { return const_cast<TensorImpl&>(checked(what)); }
  std::shared_ptr<TensorImpl> impl_;
};

// Ordered name -> tensor pairs: what Module::state_dict() returns and a safetensors file stores.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

}  // namespace lf
