// Conversions between layouts, dtypes and devices, and reading values back to the host.
//
// contiguous/clone/to are differentiable: each is an identity on values, so the gradient passes straight
// through (converted back to the input's dtype or device). item/at/to_vector leave the graph: they return
// plain host numbers.
#include <vector>

#include "ops/convert.h"

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "ops/check.h"

namespace lf {

namespace {

// Throws when `d` cannot hold tensors in this build or on this machine.
void check_device_available(const char* op, Device d) {
  if (d.is_cpu()) return;
  LF_CHECK(cuda_available(), "{}: device {} not available in this build (it needs -DLF_CUDA=ON and a GPU)",
           op, d);
  backend_for(d);  // checks the device index
}

}  // namespace

// dst[i] = src[i] where src and dst live on different devices (same shape and dtype). Each backend only
// reads and writes memory on its own device, and the host: upload and download, the contract's transfer
// primitives. A copy between two accelerators is staged through host memory.
static void copy_across_devices(const Tensor& src, const Tensor& dst) {
  LF_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(),
           "to: internal copy between {} {} and {} {} of different shape or dtype", shape_str(src.shape()),
           src.dtype(), shape_str(dst.shape()), dst.dtype());
  if (src.device().is_cpu()) return backend_for(dst.device()).upload(src, dst);
  if (dst.device().is_cpu()) return backend_for(src.device()).download(src, dst);
  Tensor host = Tensor::empty(src.shape(), src.dtype(), Device::cpu());
  backend_for(src.device()).download(src, host);
  backend_for(dst.device()).upload(host, dst);
}

const Tensor& assign_(const Tensor& dst, const Tensor& src) {
  check_defined("assign_", dst);
  check_defined("assign_", src);
  LF_CHECK(dst.shape() == src.shape(), "assign_: dst {} and src {} differ in shape", shape_str(dst.shape()),
           shape_str(src.shape()));
  LF_CHECK(!(grad_enabled() && dst.requires_grad()),
           "assign_: dst {} requires grad and would be overwritten outside the graph; wrap the update in "
           "NoGradGuard", shape_str(dst.shape()));
  const Tensor here = src.device() == dst.device() ? src : src.detach().to(dst.device());
  backend_of(dst).copy(here, dst);  // the backend's copy converts the dtype
  return dst;
}

Tensor Tensor::contiguous() const {
  check_defined("contiguous", *this);
  if (is_contiguous()) return *this;
  Tensor out = Tensor::empty(shape(), dtype(), device());
  backend_of(*this).copy(*this, out);
  return record("contiguous", out, {*this},
                [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::clone() const {
  check_defined("clone", *this);
  Tensor out = Tensor::empty(shape(), dtype(), device());
  backend_of(*this).copy(*this, out);
  return record("clone", out, {*this},
                [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::to(DType dtype) const {
  check_defined("to", *this);
  if (dtype == this->dtype()) return *this;
  Tensor out = Tensor::empty(shape(), dtype, device());
  backend_of(*this).copy(*this, out);  // the backend's copy converts between dtypes
  // Only float -> float is differentiable: an i64 result cannot carry a gradient.
  if (!is_floating(this->dtype()) || !is_floating(dtype)) return out;
  return record("to_dtype", out, {*this}, [src = this->dtype()](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{g.to(src)};
  });
}

Tensor Tensor::to(Device device) const {
  check_defined("to", *this);
  if (device == this->device()) return *this;
  check_device_available("to", device);
  check_device_available("to", this->device());
  Tensor out = Tensor::empty(shape(), dtype(), device);
  copy_across_devices(*this, out);
  return record("to_device", out, {*this}, [src = this->device()](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{g.to(src)};
  });
}

double Tensor::item() const {
  check_defined("item", *this);
  LF_CHECK(numel() == 1, "item: expected a tensor with one element, got shape {} ({} elements)",
           shape_str(shape()), numel());
  Tensor t = device().is_cpu() ? *this : detach().to(Device::cpu());
  return dispatch(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return double(*t.data<T>());
  });
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  check_defined("at", *this);
  Shape idx(index);
  LF_CHECK(int64_t(idx.size()) == dim(), "at: index ({}) has {} entries for a tensor of shape {} ({} dims)",
           fmt::join(idx, ","), idx.size(), shape_str(shape()), dim());
  // Element (i, j, ...) of a strided view lives at offset + i*strides[0] + j*strides[1] + ...
  int64_t off = offset();
  for (size_t d = 0; d < idx.size(); ++d) {
    int64_t n = shape()[d], i = idx[d];
    LF_CHECK(i >= -n && i < n, "at: index ({}) is out of range for shape {} (dim {} has size {})",
             fmt::join(idx, ","), shape_str(shape()), d, n);
    off += (i < 0 ? i + n : i) * strides()[d];
  }
  return as_strided({}, {}, off).item();
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  check_defined("to_vector", *this);
  if (numel() == 0) return {};
  // Move first, then convert: the CPU handles every dtype, another device might not.
  Tensor t = detach();
  if (!t.device().is_cpu()) t = t.to(Device::cpu());
  if (t.dtype() != dtype_of<T>()) t = t.to(dtype_of<T>());
  t = t.contiguous();
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.numel());
}

template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

}  // namespace lf
