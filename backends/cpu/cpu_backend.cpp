//
// The CPU backend object, and the memory primitives: copy (strided, with dtype conversion) and fill.
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"
#include "backends/scalar_math.h"

namespace lf {

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}


// ---------------------------------------------------------------------------------------------------------
// copy: dst[i] = D(src[i]) over two same-shape strided views.

namespace {

// A transpose: the last two dims [R, C] are contiguous along C in dst but along R in src, so one of the
// two would be read or written with a large stride. Copying 32x32 tiles keeps both sides in L1: the 32
// source cache lines a tile touches serve 16 consecutive rows each.
template <typename S, typename D>
void copy_transposed(const S* ps, D* pd, const LoopPlan<2>& plan) {
  constexpr int64_t kTile = 32;
  const size_t nd = plan.shape.size();
  const int64_t rows = plan.shape[nd - 2], cols = plan.shape[nd - 1];
  const int64_t dst_row = plan.strides[nd - 2][0], src_col = plan.strides[nd - 1][1];
  const int64_t tr = (rows + kTile - 1) / kTile, tc = (cols + kTile - 1) / kTile;
  const int64_t outer = plan.numel / (rows * cols);
  cpu::parallel_for(outer * tr * tc, std::max<int64_t>(1, cpu::kGrain / (kTile * kTile)),
                    [&](int64_t lo, int64_t hi) {
                      for (int64_t t = lo; t < hi; ++t) {
                        // Tile t = (outer index o, tile row, tile column); the outer dims give the base
                        // offsets.
                        int64_t o = t / (tr * tc), r0 = (t / tc) % tr * kTile, c0 = t % tc * kTile;
                        int64_t od = 0, os = 0;
                        for (size_t d = nd - 2; d-- > 0;) {
                          int64_t i = o % plan.shape[d];
                          o /= plan.shape[d];
                          od += i * plan.strides[d][0];
                          os += i * plan.strides[d][1];
                        }
                        const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
                        for (int64_t r = r0; r < r1; ++r) {
                          D* out = pd + od + r * dst_row;
                          const S* in = ps + os + r;
                          for (int64_t c = c0; c < c1; ++c) out[c] = math::convert<D>(in[c * src_col]);
                        }
                      }
                    });
}

template <typename S, typename D>
void copy_typed(const Tensor& src, const Tensor& dst) {
  const S* ps = static_cast<const S*>(src.raw_data());
  D* pd = static_cast<D*>(dst.raw_data());
  if (src.is_contiguous() && dst.is_contiguous()) {
    cpu::parallel_for(dst.numel(), cpu::kGrain, [&](int64_t lo, int64_t hi) {
      if constexpr (std::is_same_v<S, D>) {
        std::memcpy(pd + lo, ps + lo, size_t(hi - lo) * sizeof(D));
      } else {
        for (int64_t i = lo; i < hi; ++i) pd[i] = math::convert<D>(ps[i]);
      }
    });
    return;
  }
  const LoopPlan<2> plan = plan_loop<2>(dst.shape(), {&dst.strides(), &src.strides()}, /*by_first_operand=*/true);
  const size_t nd = plan.shape.size();
  if (nd >= 2 && plan.strides[nd - 1][0] == 1 && plan.strides[nd - 2][1] == 1 && plan.shape[nd - 1] >= 16 &&
      plan.shape[nd - 2] >= 16) {
    copy_transposed(ps, pd, plan);
    return;
  }
  cpu::parallel_for(plan.numel, cpu::kGrain, [&](int64_t lo, int64_t hi) {
    cpu::for_each_run(plan, lo, hi, [&](const auto& off, const auto& st, int64_t len) {
      D* o = pd + off[0];
      const S* s = ps + off[1];
      if (st[0] == 1 && st[1] == 1) {
        for (int64_t i = 0; i < len; ++i) o[i] = math::convert<D>(s[i]);
      } else if (st[0] == 1 && st[1] == 0) {  // broadcasting one value along the run
        D v = math::convert<D>(*s);
        for (int64_t i = 0; i < len; ++i) o[i] = v;
      } else if (st[0] == 1) {  // gather
        for (int64_t i = 0; i < len; ++i) o[i] = math::convert<D>(s[i * st[1]]);
      } else {
        for (int64_t i = 0; i < len; ++i) o[i * st[0]] = math::convert<D>(s[i * st[1]]);
      }
    });
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

// The CPU is the host, so a transfer between host and this device is a copy (which checks both sides).
void CpuBackend::upload(const Tensor& host_src, const Tensor& dst) { copy(host_src, dst); }
void CpuBackend::download(const Tensor& src, const Tensor& host_dst) { copy(src, host_dst); }

// ---------------------------------------------------------------------------------------------------------
// fill

void CpuBackend::fill(const Tensor& dst, double value) {
  LF_CHECK(dst.defined(), "fill: undefined tensor");
  dispatch(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v = math::convert<T>(value);
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
