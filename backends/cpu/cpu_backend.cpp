#include "backends/cpu/cpu_fp.h"  // first: see the file
//
// The CPU backend object, and the memory primitives: copy (strided, with dtype conversion) and fill.
#include "backends/cpu/cpu_backend.h"

#include <cstring>

#include "backends/cpu/cpu_loop.h"

namespace lf {

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

namespace cpu {

Tensor contiguous_input(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device());
  cpu_backend().copy(t, c);
  return c;
}

void check_output(const char* op, const char* what, const Tensor& t, DType dtype, int64_t numel) {
  LF_CHECK(t.defined(), "{}: {} is undefined", op, what);
  LF_CHECK(t.dtype() == dtype, "{}: {} has dtype {}, expected {}", op, what, t.dtype(), dtype);
  LF_CHECK(t.numel() == numel, "{}: {} {} has {} elements, expected {}", op, what, shape_str(t.shape()),
           t.numel(), numel);
  LF_CHECK(t.is_contiguous(), "{}: {} {} must be contiguous (strides {})", op, what, shape_str(t.shape()),
           shape_str(t.strides()));
}

}  // namespace cpu

// ---------------------------------------------------------------------------------------------------------
// copy: dst[i] = D(src[i]) over two same-shape strided views.

namespace {

template <typename S, typename D> void copy_typed(const Tensor& src, const Tensor& dst) {
  const S* ps = static_cast<const S*>(src.raw_data());
  D* pd = static_cast<D*>(dst.raw_data());
  if (src.is_contiguous() && dst.is_contiguous()) {
    cpu::parallel_for(dst.numel(), cpu::kGrain, [&](int64_t lo, int64_t hi) {
      if constexpr (std::is_same_v<S, D>) {
        std::memcpy(pd + lo, ps + lo, size_t(hi - lo) * sizeof(D));
      } else {
        for (int64_t i = lo; i < hi; ++i) pd[i] = D(ps[i]);
      }
    });
    return;
  }
  cpu::strided_for<2>(dst.shape(), {&dst.strides(), &src.strides()}, cpu::kGrain,
                      [&](const auto& off, const auto& st, int64_t len) {
                        D* o = pd + off[0];
                        const S* s = ps + off[1];
                        if (st[0] == 1 && st[1] == 1) {
                          for (int64_t i = 0; i < len; ++i) o[i] = D(s[i]);
                        } else if (st[0] == 1 && st[1] == 0) {  // broadcasting one value along the run
                          D v = D(*s);
                          for (int64_t i = 0; i < len; ++i) o[i] = v;
                        } else if (st[0] == 1) {  // gather, e.g. from a transposed view
                          for (int64_t i = 0; i < len; ++i) o[i] = D(s[i * st[1]]);
                        } else {
                          for (int64_t i = 0; i < len; ++i) o[i * st[0]] = D(s[i * st[1]]);
                        }
                      });
}

}  // namespace

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  LF_CHECK(src.defined() && dst.defined(), "copy: undefined tensor");
  LF_CHECK(src.shape() == dst.shape(), "copy: shapes differ: src {} and dst {}", shape_str(src.shape()),
           shape_str(dst.shape()));
  LF_CHECK(src.device().is_cpu() && dst.device().is_cpu(), "copy: cpu backend got tensors on {} and {}",
           src.device(), dst.device());
  if (src.numel() == 0) return;
  dispatch(src.dtype(), [&](auto s) {
    dispatch(dst.dtype(), [&](auto d) { copy_typed<decltype(s), decltype(d)>(src, dst); });
  });
}

// ---------------------------------------------------------------------------------------------------------
// fill

void CpuBackend::fill(const Tensor& dst, double value) {
  LF_CHECK(dst.defined(), "fill: undefined tensor");
  dispatch(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v = T(value);
    T* p = static_cast<T*>(dst.raw_data());
    if (dst.is_contiguous()) {
      cpu::parallel_for(dst.numel(), cpu::kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) p[i] = v;
      });
    } else {
      cpu::strided_for<1>(dst.shape(), {&dst.strides()}, cpu::kGrain,
                          [&](const auto& off, const auto& st, int64_t len) {
                            for (int64_t i = 0; i < len; ++i) p[off[0] + i * st[0]] = v;
                          });
    }
  });
}

}  // namespace lf
