//
// Gathering and scatter-adding rows along one dim. Tensors are viewed as [outer, N, inner]:
//   index_select: out[o, i, :]  = x[o, idx[i], :]      (embedding lookup: outer = 1, x = weight [V, D])
//   index_add:    out[o, idx[i], :] += src[o, i, :]    (its backward; idx may repeat, e.g. a token that
//                                                      occurs twice adds both gradients into one row)
// A row of `inner` elements is contiguous, so the gather is a memcpy per row, whatever the dtype.
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"

namespace lf {

namespace {

// idx as a contiguous i64 tensor whose every entry lies in [0, n).
Tensor checked_indices(const char* op, const Tensor& idx_in, int64_t n) {
  LF_CHECK(idx_in.defined(), "{}: undefined index tensor", op);
  LF_CHECK(idx_in.dtype() == DType::i64, "{}: indices must be i64, got {} {}", op, shape_str(idx_in.shape()),
           idx_in.dtype());
  Tensor idx = contiguous_input(cpu_backend(), idx_in);
  const int64_t* p = idx.data<int64_t>();
  const int64_t count = idx.numel();
  int64_t first_bad = -1;
  for (int64_t i = 0; i < count; ++i)
    if (p[i] < 0 || p[i] >= n) {
      first_bad = i;
      break;
    }
  LF_CHECK(first_bad < 0, "{}: index {} at position {} is out of range for a dimension of size {}", op,
           first_bad < 0 ? 0 : p[first_bad], first_bad, n);
  return idx;
}

void check_sizes(const char* op, int64_t outer, int64_t n, int64_t inner) {
  LF_CHECK(outer >= 0 && n >= 0 && inner >= 0, "{}: negative view [outer={}, n={}, inner={}]", op, outer, n,
           inner);
}

template <typename T>
void index_add_typed(const T* src, const int64_t* idx, T* out, int64_t outer, int64_t n, int64_t count,
                     int64_t inner) {
  // out[o, idx[i], c] += src[o, i, c] for c in [c0, c1): the loop all strategies below share.
  auto add_block = [&](int64_t o, int64_t i, int64_t c0, int64_t c1) {
    const T* s = src + (o * count + i) * inner;
    T* d = out + (o * n + idx[i]) * inner;
#pragma omp simd
    for (int64_t c = c0; c < c1; ++c) d[c] += s[c];
  };
  const int64_t work = outer * count * inner;
  const int threads = cpu::max_threads();
  // Never split over i: two i with the same idx[i] would race on one output row. Instead each thread
  // owns disjoint outputs: whole [o] slabs, or a block of columns, or a block of destination rows.
  if (work < cpu::kGrain || threads == 1) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < count; ++i) add_block(o, i, 0, inner);
  } else if (outer >= 2 * threads) {
    cpu::parallel_for(outer, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o)
        for (int64_t i = 0; i < count; ++i) add_block(o, i, 0, inner);
    });
  } else if (inner >= 32 * threads) {
    // Column blocks of >= 32 elements keep two threads off each other's cache lines.
    const int64_t blocks = inner / 32;
    cpu::parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
      const int64_t c0 = lo * 32, c1 = hi == blocks ? inner : hi * 32;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < count; ++i) add_block(o, i, c0, c1);
    });
  } else {
    // Narrow rows: thread t adds the rows whose destination lies in its block [r0, r1) of [0, n).
    cpu::parallel_for(n, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < count; ++i)
          if (idx[i] >= r0 && idx[i] < r1) add_block(o, i, 0, inner);
    });
  }
}

}  // namespace

void CpuBackend::index_select(const Tensor& x_in, const Tensor& idx_in, const Tensor& out, int64_t outer,
                              int64_t n, int64_t inner) {
  const char* op = "index_select";
  check_sizes(op, outer, n, inner);
  LF_CHECK(x_in.defined(), "{}: undefined input", op);
  LF_CHECK(x_in.numel() == outer * n * inner, "{}: input {} is not [outer={}, n={}, inner={}]", op,
           shape_str(x_in.shape()), outer, n, inner);
  Tensor idx = checked_indices(op, idx_in, n);
  const int64_t count = idx.numel();
  check_output(DeviceType::cpu, op, "output", out, x_in.dtype(), outer * count * inner);
  if (outer * count * inner == 0) return;
  Tensor x = contiguous_input(cpu_backend(), x_in);
  const int64_t* ip = idx.data<int64_t>();
  const size_t esize = dtype_size(x.dtype()), row_bytes = size_t(inner) * esize;
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  // One task per output row [o, i]; ~kGrain elements per thread at least.
  cpu::parallel_for(outer * count, std::max<int64_t>(1, cpu::kGrain / inner), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t o = r / count, i = r % count;
      std::memcpy(dst + size_t(r) * row_bytes, src + size_t(o * n + ip[i]) * row_bytes, row_bytes);
    }
  });
}

void CpuBackend::check_indices(const Tensor& idx_in, const IndexCheck& check) {
  LF_CHECK(idx_in.defined(), "{}: undefined index tensor", check.op);
  LF_CHECK(idx_in.dtype() == DType::i64, "{}: indices must be i64, got {} {}", check.op,
           shape_str(idx_in.shape()), idx_in.dtype());
  Tensor idx = contiguous_input(cpu_backend(), idx_in);
  const int64_t* p = idx.data<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    if (!check.ok(p[i])) throw Error(check.message(p[i]));
}

void CpuBackend::index_add(const Tensor& src_in, const Tensor& idx_in, const Tensor& out, int64_t outer,
                           int64_t n, int64_t inner) {
  const char* op = "index_add";
  check_sizes(op, outer, n, inner);
  LF_CHECK(src_in.defined(), "{}: undefined source", op);
  Tensor idx = checked_indices(op, idx_in, n);
  const int64_t count = idx.numel();
  LF_CHECK(src_in.numel() == outer * count * inner, "{}: source {} is not [outer={}, {} indices, inner={}]",
           op, shape_str(src_in.shape()), outer, count, inner);
  check_output(DeviceType::cpu, op, "output", out, src_in.dtype(), outer * n * inner);
  if (outer * count * inner == 0) return;
  Tensor src = contiguous_input(cpu_backend(), src_in);
  dispatch(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    index_add_typed<T>(static_cast<const T*>(src.raw_data()), idx.data<int64_t>(),
                       static_cast<T*>(out.raw_data()), outer, n, count, inner);
  });
}

}  // namespace lf
