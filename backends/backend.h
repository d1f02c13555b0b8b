#pragma once
// The backend contract: the ~20 primitives every device implements, and nothing else.
//
// Kernels see tensors only as memory (data pointer, shape, strides, dtype); they never touch autograd
// fields. The ops in ops/ check their inputs, allocate outputs, call these primitives, and record the
// backward. Unless a primitive says otherwise, outputs are freshly allocated contiguous tensors, all
// tensors are on the backend's device, and inputs may be any strided view.
#include <optional>
#include <vector>

#include "backends/index_check.h"
#include "backends/pointwise_ops.h"
#include "core/generator.h"
#include "core/tensor.h"

namespace lf {

// UnaryOp, BinaryOp and their names: the pointwise op table, backends/pointwise_ops.h.

enum class ReduceOp { sum, max };

enum class RandomKind {
  uniform,    // U(a, b)
  normal,     // N(mean a, std b)
  bernoulli,  // b with probability a, else 0 (dropout's scaled keep-mask: a = 1-p, b = 1/(1-p))
};

// One parameter of a fused AdamW step: all four tensors contiguous, same shape and dtype.
struct AdamWSlot {
  Tensor param, grad, m, v;
};
struct AdamWHyper {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1-based, for bias correction
};

// One batched GEMM: C[i, j] = alpha * op(A[i, j]) @ op(B[i, j]) + beta * C[i, j] over a two-level batch
// (i < batch[0], j < batch[1]; attention's [B, h] is one, a plain batch sets batch[0] = 1). op(A) is [m, k],
// op(B) [k, n], C [m, n], all row-major: A is stored [m, k] (or [k, m] when ta), B [k, n] (or [n, k] when
// tb); ld* are row strides, stride_*[0] and stride_*[1] the element distances between consecutive matrices
// along each batch level (0 = the same matrix again; not allowed for C, whose products would collide).
struct GemmArgs {
  DType dtype = DType::f32;
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0;
  double alpha = 1, beta = 0;
  const void* a = nullptr;
  int64_t lda = 0;
  const void* b = nullptr;
  int64_t ldb = 0;
  void* c = nullptr;
  int64_t ldc = 0;
  int64_t batch[2] = {1, 1};
  int64_t stride_a[2] = {0, 0}, stride_b[2] = {0, 0}, stride_c[2] = {0, 0};
};

class Backend {
 public:
  virtual ~Backend() = default;

  // dst[i] = src[i] for same-shape views; converts dtype when they differ. dst may be strided.
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  // Transfers between host memory and this device: dst[i] = src[i] for same-shape, same-dtype tensors, one
  // of them on the CPU (`host`) and the other on this backend's device; either may be a strided view.
  // For the CPU backend both are copy(). ops/convert.cpp builds Tensor::to(Device) on these.
  virtual void upload(const Tensor& host_src, const Tensor& dst) = 0;
  virtual void download(const Tensor& src, const Tensor& host_dst) = 0;
  // dst (contiguous) = value
  virtual void fill(const Tensor& dst, double value) = 0;
  // dst (contiguous) = random numbers from the Philox stream at `at` (same numbers on every device).
  virtual void random(const Tensor& dst, RandomKind kind, double a, double b, GeneratorState at) = 0;

  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha) = 0;
  // a and b are already expanded to out's shape (stride 0 where broadcast); out contiguous.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // x contiguous, viewed as [outer, R, inner] -> out [outer, inner]: reduces over R. out.numel() is
  // outer * inner; inner == 1 reduces each row of [outer, R].
  virtual void reduce(ReduceOp op, const Tensor& x, const Tensor& out, int64_t inner) = 0;

  // The batched matrix product described by g (see GemmArgs above).
  virtual void gemm(const GemmArgs& g) = 0;

  // Row-wise over the last dim of contiguous [M, C] tensors.
  virtual void softmax(const Tensor& x, const Tensor& y, bool log) = 0;
  // dx = y * (dy - sum(dy * y))  or, for log-softmax,  dx = dy - exp(y) * sum(dy)
  virtual void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) = 0;
  // x [M, C] -> y [M, C], mean and rstd [M] saved for backward; weight/bias [C] (either may be undefined).
  virtual void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& y,
                          const Tensor& mean, const Tensor& rstd) = 0;
  // dw/db accumulate over rows (may be undefined when not needed).
  virtual void layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& dy, const Tensor& dx, const Tensor& dw, const Tensor& db) = 0;
  // logits [N, C], target i64 [N] -> loss [N] (0 where ignored), lse [N] = logsumexp per row. A target
  // outside [0, C) other than ignore_index gives loss 0 (the op range-checks them with check_indices).
  virtual void cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index,
                             const Tensor& loss, const Tensor& lse) = 0;
  // dlogits = scale * (softmax(logits) - onehot(target)), 0 on ignored (and out-of-range) rows. scale is a
  // one-element tensor of logits' dtype on this device (g / count): the kernel reads it, the host never does.
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                      int64_t ignore_index, const Tensor& scale, const Tensor& dlogits) = 0;

  // Contiguous x viewed as [outer, N, inner]; idx i64 [I] -> out [outer, I, inner]: out[o,i,:] = x[o,idx[i],:].
  virtual void index_select(const Tensor& x, const Tensor& idx, const Tensor& out, int64_t outer, int64_t n,
                            int64_t inner) = 0;
  // The reverse (scatter-add): out[o, idx[i], :] += src[o, i, :]; out contiguous [outer, N, inner].
  virtual void index_add(const Tensor& src, const Tensor& idx, const Tensor& out, int64_t outer, int64_t n,
                         int64_t inner) = 0;
  // out = mask != 0 ? value : x; x and mask expanded to out's shape.
  virtual void masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) = 0;
  // Range check of i64 indices (backends/index_check.h): the CPU throws lf::Error at once; an asynchronous
  // device records a failure on the device and throws the same error from its next download or synchronize().
  virtual void check_indices(const Tensor& idx, const IndexCheck& check) = 0;
  // In place, on every slot: decoupled weight decay, moments, bias-corrected update.
  virtual void adamw(const std::vector<AdamWSlot>& slots, const AdamWHyper& h) = 0;
  // Waits until queued work is done (asynchronous devices); timers call it before reading the clock. Raises
  // a failed deferred index check (check_indices).
  virtual void synchronize() {}
};

// The argument checks every backend shares (checked_gemm, checked_unary, ...): backends/kernel_args.h.

Backend& backend_for(Device d);  // throws when the device is not available in this build or machine
Backend& cpu_backend();          // backends/cpu/
#ifdef LF_WITH_CUDA
Backend& cuda_backend();  // backends/cuda/, compiled only with -DLF_CUDA=ON/AUTO
int cuda_device_count();  // 0 when the driver finds no GPU
#endif
bool cuda_available();  // compiled in and at least one GPU present

}  // namespace lf
