#pragma once
// The CUDA backend: every primitive of backends/backend.h on one NVIDIA GPU (the current device, cuda:0),
// for f32 and f64 (i64 where the CPU backend allows it), with the same dtype rules, error messages and
// random numbers as the CPU backend (backends/cpu/cpu_backend.h).
//
// Where each primitive lives (kernels.h is the boundary between the two layers):
//   cuda_backend.cpp      this class's memory and elementwise primitives, gemm; device count; transfers
//   cuda_backend_nn.cpp   this class's softmax, layer_norm, cross_entropy, index_*, adamw
//   cuda_glue.cpp         Tensor -> kernel arguments: dtype mapping, strided descriptors (the checks
//                         are the shared ones of backends/kernel_args.h)
//   copy_random.cu  elementwise.cu  reduce.cu  gemm.cu (cuBLAS)  softmax.cu  layernorm.cu
//   cross_entropy.cu  index.cu  adamw.cu           the kernels
//   cuda_allocator.cpp    cudaMalloc under lf::Allocator's cache and statistics, registered with core
//
// Execution model: every kernel and copy runs on the default stream, in program order, so results are
// ready for the next op without synchronisation, and memory freed to the allocator's cache can be reused
// at once. The host waits for the GPU only where a value must come back (download: to(Device::cpu()),
// item()) and in synchronize(). Index range checks (check_indices) run on the GPU and are deferred: a
// failure is recorded in a slot in device memory and raised as lf::Error by the next download or
// synchronize() (index_check.h). Unlike the CPU backend, index_select/index_add do not range-check their
// indices themselves (the ops call check_indices first); out-of-range ones are skipped, never read.
// Compiled only when CMake enables CUDA (LF_WITH_CUDA); user code includes backends/cuda_options.h.
#include "backends/backend.h"

namespace lf {

namespace cuda {
struct CheckSlot;  // kernels.h
}

class CudaBackend final : public Backend {
 public:
  void copy(const Tensor& src, const Tensor& dst) override;
  // cudaMemcpy; the host waits until the data has arrived. A strided side is staged through a contiguous
  // copy on its own device.
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
  void masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) override;
  void check_indices(const Tensor& idx, const IndexCheck& check) override;  // deferred: see above
  void adamw(const std::vector<AdamWSlot>& slots, const AdamWHyper& h) override;
  // cudaDeviceSynchronize, then raises a failed deferred check.
  void synchronize() override;

 private:
  // Reads the check slot back when checks are pending (the caller has just waited for the GPU) and raises
  // the failed one's lf::Error.
  void raise_failed_checks();

  DeferredChecks checks_;
  cuda::CheckSlot* slot_ = nullptr;  // device memory, allocated by the first check_indices
};

// cuda_backend() and cuda_device_count() are declared in backends/backend.h.

// Matrix products in f32 may use TF32 tensor cores (inputs rounded to 10 mantissa bits: ~1e-3 relative
// error, several times faster). Off by default, so f32 results match the CPU's to ~1e-6.
void set_cuda_tf32(bool on);
bool cuda_tf32();

}  // namespace lf
