#include "core/tensor.h"

namespace lf {

Storage::Storage(size_t bytes, Device d) : nbytes(bytes), device(d) { data = allocator_for(d).allocate(bytes); }
Storage::~Storage() { allocator_for(device).deallocate(data, nbytes); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) LF_CHECK(s >= 0, "empty: negative dimension in shape {}", shape_str(shape));
  Shape strides = contiguous_strides(shape);  // checked: refuses shapes whose counts overflow
  const int64_t bytes = checked_mul("empty", lf::numel(shape), int64_t(dtype_size(dtype)));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(bytes), device);
  impl->shape = shape;
  impl->strides = std::move(strides);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim("size", d, dim())]; }

const TensorImpl& Tensor::checked(const char* what) const {
  LF_CHECK(impl_, "Tensor::{}: the tensor is undefined (default-constructed or moved-from)", what);
  return *impl_;
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape()[i] != 1 && strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const TensorImpl& self = checked("data");
  return static_cast<char*>(self.storage->data) + self.offset * int64_t(dtype_size(self.dtype));
}

// Every element a view can reach must lie inside its storage: the lowest reachable element is offset plus
// the negative strides' extents, the highest offset plus the positive ones (an empty view reaches nothing).
Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  const TensorImpl& self = checked("as_strided");
  LF_CHECK(shape.size() == strides.size(), "as_strided: shape {} and strides {} differ in length", shape_str(shape),
           shape_str(strides));
  for (int64_t s : shape) LF_CHECK(s >= 0, "as_strided: negative dimension in shape {}", shape_str(shape));
  if (lf::numel(shape) > 0) {
    int64_t lo = offset, hi = offset;
    for (size_t i = 0; i < shape.size(); ++i) {
      const int64_t extent = checked_mul("as_strided", shape[i] - 1, strides[i]);
      int64_t& end = extent < 0 ? lo : hi;
      end = checked_add("as_strided", end, extent);
    }
    const int64_t elements = int64_t(self.storage->nbytes / dtype_size(self.dtype));
    LF_CHECK(lo >= 0 && hi < elements,
             "as_strided: shape {} with strides {} at offset {} reaches elements [{}, {}] of a storage of {}",
             shape_str(shape), shape_str(strides), offset, lo, hi, elements);
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

}  // namespace lf
