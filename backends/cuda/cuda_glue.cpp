// From Tensors to kernel arguments: the dtype mapping and strided descriptors (see cuda_glue.h).
#include "backends/cuda/cuda_glue.h"

namespace lf::cuda {

// No default: a dtype added to lf's enum but not to the mirror in kernels.h is a -Wswitch warning here.
KType ktype(DType t) {
  switch (t) {
    case DType::f32: return KType::f32;
    case DType::f64: return KType::f64;
    case DType::i64: return KType::i64;
  }
  throw Error("cuda: unknown dtype");
}

const void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }
void* mutable_data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

template <int N>
Strided<N> make_strided(const char* op, const Shape& shape, const std::array<const Shape*, N>& strides) {
  // The shared plan (backends/kernel_args.h) in row-major order, since the kernels write a contiguous output
  // at the row-major index; Strided lists the dims innermost first.
  const LoopPlan<size_t(N)> plan = plan_loop<size_t(N)>(shape, strides, /*by_first_operand=*/false);
  Strided<N> s;
  for (size_t d = plan.shape.size(); d-- > 0;) {
    if (plan.shape[d] == 1) continue;  // the plan of a single element
    LF_CHECK(s.ndim < kMaxDims,
             "{}: the CUDA backend handles at most {} dims that cannot be merged, got shape {} (strides {})", op,
             kMaxDims, shape_str(shape), shape_str(*strides[0]));
    s.size[s.ndim] = plan.shape[d];
    for (int k = 0; k < N; ++k) s.stride[k][s.ndim] = plan.strides[d][size_t(k)];
    ++s.ndim;
  }
  return s;
}

template Strided<1> make_strided<1>(const char*, const Shape&, const std::array<const Shape*, 1>&);
template Strided<2> make_strided<2>(const char*, const Shape&, const std::array<const Shape*, 2>&);

}  // namespace lf::cuda
