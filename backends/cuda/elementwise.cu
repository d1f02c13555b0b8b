// Elementwise kernels: unary, binary and masked_fill.
//
//   unary        x [n] (strided)                     -> out [n] contiguous
//   binary       a, b [n] (strided, broadcast = 0)    -> out [n] contiguous (eq/gt/lt: out of any dtype)
//   masked_fill  x, mask [n] (strided, mask any type)  -> out [n] contiguous
//
// One thread per output element (grid-stride). The op is a run-time switch rather than a template
// parameter: it is the same for every thread, so the branch costs a few instructions per element of a
// memory-bound loop, and the file compiles in seconds instead of instantiating 30 ops x 3 dtypes x 2 paths.
// The switch cases come from the op table (backends/pointwise_ops.h) and call its formulas pw::<name>,
// the same functions the CPU loops call, so the two devices agree to rounding (CUDA's expf/erff are within
// 1-2 ulp, the CPU's vectorised exp/erf within ~1e-7).
// Operand offsets come from Strided (kernels.h); kContig is the fast path where all are plain [n] arrays.
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

// y = f(x, alpha) for the rows of LF_UNARY_OPS. Rows without i64 support are refused before the launch
// (kernel_args.cpp's checked_unary) and compile only for floating T.
template <typename T>
__device__ T unary_op(UnaryOp op, T x, T alpha) {
  switch (op) {
#define LF_X(name, cost, i64)                                                    \
  case UnaryOp::name:                                                            \
    if constexpr (std::is_floating_point_v<T> || i64) return pw::name(x, alpha); \
    break;
    LF_UNARY_OPS(LF_X)
#undef LF_X
  }
  return x;
}

// out = f(a, b) for the rows of LF_BINARY_OPS (comparisons: compare_op below).
template <typename T>
__device__ T binary_op(BinaryOp op, T a, T b) {
  switch (op) {
#define LF_X(name, cost, i64)                                                \
  case BinaryOp::name:                                                       \
    if constexpr (std::is_floating_point_v<T> || i64) return pw::name(a, b); \
    break;
    LF_BINARY_OPS(LF_X)
#undef LF_X
    default:
      break;  // eq, gt, lt go through compare_kernel
  }
  return T(0);
}

template <typename T>
__device__ bool compare_op(BinaryOp op, T a, T b) {
  switch (op) {
#define LF_X(name)     \
  case BinaryOp::name: \
    return pw::name(a, b);
    LF_COMPARE_OPS(LF_X)
#undef LF_X
    default:
      return false;
  }
}

// ---- kernels ----

template <typename T, bool kContig>
__global__ void unary_kernel(UnaryOp op, const T* x, T* out, int64_t n, Strided<1> s, double alpha) {
  const T calpha = math::convert<T>(alpha);
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[1] = {i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    out[i] = unary_op<T>(op, x[off[0]], calpha);
  }
}

template <typename T, bool kContig>
__global__ void binary_kernel(BinaryOp op, const T* a, const T* b, T* out, int64_t n, Strided<2> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[2] = {i, i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    out[i] = binary_op<T>(op, a[off[0]], b[off[1]]);
  }
}

// eq / gt / lt: inputs of type T, 1 or 0 written in the output's type O (which may differ).
template <typename T, typename O, bool kContig>
__global__ void compare_kernel(BinaryOp op, const T* a, const T* b, O* out, int64_t n, Strided<2> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[2] = {i, i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    out[i] = compare_op<T>(op, a[off[0]], b[off[1]]) ? O(1) : O(0);
  }
}

template <typename T, typename M, bool kContig>
__global__ void masked_fill_kernel(const T* x, const M* mask, T value, T* out, int64_t n, Strided<2> s) {
  for (int64_t i = thread_index(); i < n; i += thread_count()) {
    int64_t off[2] = {i, i};
    if constexpr (!kContig) strided_offsets(s, i, off);
    out[i] = mask[off[1]] != M(0) ? value : x[off[0]];
  }
}

// ---- launchers ----

void launch_unary(KType type, UnaryOp op, const void* x, void* out, int64_t n, const Strided<1>& s,
                  double alpha) {
  if (n == 0) return;
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* o = static_cast<T*>(out);
    if (s.contiguous())
      unary_kernel<T, true><<<blocks_for(n), kThreads>>>(op, xp, o, n, s, alpha);
    else
      unary_kernel<T, false><<<blocks_for(n), kThreads>>>(op, xp, o, n, s, alpha);
    LF_CUDA_CHECK_LAUNCH("unary_kernel");
  });
}

void launch_binary(KType type, BinaryOp op, const void* a, const void* b, KType out_type, void* out,
                   int64_t n, const Strided<2>& s) {
  if (n == 0) return;
  const bool contig = s.contiguous();
  const bool compare = is_comparison(op);
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    const T* ap = static_cast<const T*>(a);
    const T* bp = static_cast<const T*>(b);
    if (compare) {
      dispatch_all(out_type, [&](auto out_tag) {
        using O = decltype(out_tag);
        O* o = static_cast<O*>(out);
        if (contig)
          compare_kernel<T, O, true><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
        else
          compare_kernel<T, O, false><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
        LF_CUDA_CHECK_LAUNCH("compare_kernel");
      });
      return;
    }
    T* o = static_cast<T*>(out);
    if (contig)
      binary_kernel<T, true><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
    else
      binary_kernel<T, false><<<blocks_for(n), kThreads>>>(op, ap, bp, o, n, s);
    LF_CUDA_CHECK_LAUNCH("binary_kernel");
  });
}

void launch_masked_fill(KType type, const void* x, KType mask_type, const void* mask, double value, void* out,
                        int64_t n, const Strided<2>& s) {
  if (n == 0) return;
  dispatch_all(type, [&](auto tag) {
    dispatch_all(mask_type, [&](auto mask_tag) {
      using T = decltype(tag);
      using M = decltype(mask_tag);
      const T* xp = static_cast<const T*>(x);
      const M* mp = static_cast<const M*>(mask);
      T* o = static_cast<T*>(out);
      if (s.contiguous())
        masked_fill_kernel<T, M, true><<<blocks_for(n), kThreads>>>(xp, mp, math::convert<T>(value), o, n, s);
      else
        masked_fill_kernel<T, M, false>
            <<<blocks_for(n), kThreads>>>(xp, mp, math::convert<T>(value), o, n, s);
      LF_CUDA_CHECK_LAUNCH("masked_fill_kernel");
    });
  });
}

}  // namespace lf::cuda
