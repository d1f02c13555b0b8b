#include "backends/cpu/cpu_fp.h"  // first: see the file
//
// The CPU backend object, and the memory primitives: copy (strided, with dtype conversion), fill, random.
#include "backends/cpu/cpu_backend.h"

#include <cmath>
#include <cstring>

#include "backends/cpu/cpu_loop.h"
#include "core/philox.h"

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

// ---------------------------------------------------------------------------------------------------------
// random: element i of dst is a function of element i of the Philox stream (seed, offset), so the result
// does not depend on how the work is split between threads (or on the device).

namespace {

// dst[i] = f(philox_at(seed, offset, i)) for i in [lo, hi): one Philox block serves four elements.
template <typename T, typename F> void philox_map(T* dst, int64_t lo, int64_t hi, GeneratorState at, F f) {
  uint64_t first = at.offset + uint64_t(lo), last = at.offset + uint64_t(hi);  // stream elements [first, last)
  for (uint64_t blk = first >> 2; blk <= (last - 1) >> 2; ++blk) {
    Philox4 r = philox4x32_10(blk, at.seed);
    uint64_t j0 = blk << 2;
    if (j0 >= first && j0 + 4 <= last) {
      T* o = dst + (j0 - at.offset);
      o[0] = f(r.v[0]), o[1] = f(r.v[1]), o[2] = f(r.v[2]), o[3] = f(r.v[3]);
    } else {
      for (uint64_t lane = 0; lane < 4; ++lane)
        if (j0 + lane >= first && j0 + lane < last) dst[j0 + lane - at.offset] = f(r.v[lane]);
    }
  }
}

}  // namespace

void CpuBackend::random(const Tensor& dst, RandomKind kind, double a, double b, GeneratorState at) {
  LF_CHECK(dst.defined(), "random: undefined tensor");
  LF_CHECK(dst.is_contiguous(), "random: dst {} must be contiguous", shape_str(dst.shape()));
  dispatch_float(dst.dtype(), "random", [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(dst.raw_data());
    // Generating a number costs ~10 rounds of Philox: worth threads earlier than a plain copy.
    cpu::parallel_for(dst.numel(), cpu::kGrain / 4, [&](int64_t lo, int64_t hi) {
      switch (kind) {
        case RandomKind::uniform:
          philox_map(p, lo, hi, at, [&](uint32_t x) { return T(a + (b - a) * double(uniform01(x))); });
          break;
        case RandomKind::bernoulli: {
          T keep = T(b);
          philox_map(p, lo, hi, at, [&](uint32_t x) { return double(uniform01(x)) < a ? keep : T(0); });
          break;
        }
        case RandomKind::normal:
          // normal_at pairs stream elements (2m, 2m+1) through Box-Muller; it is only used to initialise
          // weights, so the simple per-element call is fast enough.
          for (int64_t i = lo; i < hi; ++i) p[i] = T(a + b * double(normal_at(at.seed, at.offset, uint64_t(i))));
          break;
      }
    });
  });
}

}  // namespace lf
