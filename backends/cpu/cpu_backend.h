#pragma once
// The CPU backend: every primitive of backends/backend.h for f32 and f64 (and i64 where it makes sense),
// parallelised with OpenMP and vectorised by the compiler; matrix products go to OpenBLAS.
//
// Where each primitive lives:
//   cpu_backend.cpp      copy (any strides, any dtype pair; tiled transposes), fill
//   cpu_random.cpp       random (Philox, 8 blocks at a time with AVX2)
//   cpu_elementwise.cpp  unary, binary (broadcast through stride-0 views), masked_fill
//   cpu_reduce.cpp       sum / max over R of [outer, R, inner]
//   cpu_gemm.cpp         gemm via cblas, batched (blas_kernel.cpp: OpenBLAS runs the kernels this CPU allows)
//   cpu_softmax.cpp      softmax / log_softmax and cross-entropy, forward and backward
//   cpu_layer_norm.cpp   layer_norm forward and backward
//   cpu_index.cpp        index_select (gather rows), index_add (scatter-add rows), check_indices
//   cpu_adamw.cpp        the fused AdamW step
// Shared machinery: cpu_loop.h (parallel_for, strided iteration), ../scalar_math.h (exp/erf/GELU,
// vectorisable, shared with the GPU), ../pointwise_ops.h (the elementwise op table), ../kernel_args.h
// (checks). CMakeLists.txt compiles the library with -fno-trapping-math (so loops with comparisons and
// selects vectorise) and -fno-math-errno (so sqrt does): nothing here reads FP exception flags or errno.
//
// Dtype rules (anything else throws lf::Error naming the primitive and the dtypes):
//   copy: any of f32/f64/i64 to any;  fill: any dtype;  random: f32/f64.
//   unary: f32/f64; i64 for neg, abs, relu and the scalar forms add/mul/rsub with an integral alpha.
//   binary: a, b and out share one dtype, except that eq/gt/lt may write any output dtype;
//     i64 supports add, sub, mul, maximum, minimum, eq, gt, lt.
//   masked_fill: x and out share a dtype (any), the mask may have any dtype.
//   reduce: f32/f64/i64.  gemm, softmax, layer_norm, cross_entropy, adamw: f32/f64; the saved statistics
//     (mean, rstd, lse) and the loss have the dtype of the input.
//   index_select / index_add: any dtype for the data, i64 indices.
//
// Inputs that the contract calls contiguous are made contiguous here when they are not (a copy), so a
// caller's mistake costs time, not correctness; outputs (and AdamW's in-place slots) must be contiguous as
// the contract says, else lf::Error.
//
// Threads: every kernel splits its work between the OpenMP threads once it is big enough (cpu_loop.h);
// OpenBLAS is set to one thread and gemm splits the products itself (cpu_gemm.cpp explains why).
//
// Random numbers (shared with the CUDA backend, element i of dst uses stream element i at `at`):
//   u_i = uniform01(philox_at(at.seed, at.offset, i))          (float in [0, 1), 24 bits)
//   uniform:   dst[i] = T(a + (b - a) * double(u_i))
//   normal:    dst[i] = T(a + b * double(normal_at(at.seed, at.offset, i)))
//   bernoulli: dst[i] = double(u_i) < a ? T(b) : T(0)
#include "backends/backend.h"
#include "backends/kernel_args.h"

namespace lf {

class CpuBackend final : public Backend {
 public:
  void copy(const Tensor& src, const Tensor& dst) override;
  void upload(const Tensor& host_src, const Tensor& dst) override;
  void download(const Tensor& src, const Tensor& host_dst) override;
  void fill(const Tensor& dst, double value) override;
  void random(const Tensor& dst, RandomKind kind, double a, double b, GeneratorState at) override;

  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void reduce(ReduceOp op, const Tensor& x, const Tensor& out, int64_t inner) override;

  void gemm(const GemmArgs& g) override;

  void softmax(const Tensor& x, const Tensor& y, bool log) override;
  void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) override;
  void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd,
                           const Tensor& dy, const Tensor& dx, const Tensor& dw, const Tensor& db) override;
  void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index, const Tensor& loss,
                     const Tensor& lse) override;
  void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                              int64_t ignore_index, const Tensor& scale, const Tensor& dlogits) override;

  void index_select(const Tensor& x, const Tensor& idx, const Tensor& out, int64_t outer, int64_t n,
                    int64_t inner) override;
  void index_add(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t n,
                 int64_t inner) override;
  void check_indices(const Tensor& idx, const IndexCheck& check) override;  // throws at the first bad index
  void masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) override;
  void adamw(const std::vector<AdamWSlot>& slots, const AdamWHyper& h) override;
};

}  // namespace lf
