// The CUDA backend object and its memory, elementwise, reduction and matrix primitives, plus the device
// count, the TF32 switch and host <-> device transfers. Each primitive checks its Tensors the way the CPU
// backend does (same dtype rules, same messages), then hands pointers and sizes to a launcher in a .cu file.
#include "backends/cuda/cuda_backend.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_glue.h"

namespace lf {

using cuda::ktype;
using cuda::make_strided;

Backend& cuda_backend() {
  static CudaBackend backend;
  return backend;
}

int cuda_device_count() {
  // Asked on every backend_for(), so asked of the driver once. No driver or no GPU is not an error here:
  // the answer is 0 (and the runtime's error is cleared so it is not reported by a later call).
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      n = 0;
    }
    return n;
  }();
  return count;
}

namespace {
std::atomic<bool> g_tf32{false};
}  // namespace

void set_cuda_tf32(bool on) { g_tf32 = on; }
bool cuda_tf32() { return g_tf32; }

// ---- transfers ----

void CudaBackend::upload(const Tensor& src, const Tensor& dst) {
  check_on(DeviceType::cpu, "upload", "host_src", src);
  check_on(DeviceType::cuda, "upload", "dst", dst);
  LF_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(),
           "upload: {} {} and {} {} differ in shape or dtype", shape_str(src.shape()), src.dtype(),
           shape_str(dst.shape()), dst.dtype());
  if (src.numel() == 0) return;
  Tensor s = src;
  if (!s.is_contiguous()) {  // gather on the host first: cudaMemcpy moves one dense block
    s = Tensor::empty(src.shape(), src.dtype(), src.device());
    cpu_backend().copy(src, s);
  }
  Tensor d = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), dst.device());
  LF_CUDA_CHECK(cudaMemcpy(d.raw_data(), s.raw_data(), size_t(s.numel()) * dtype_size(s.dtype()),
                           cudaMemcpyHostToDevice));
  if (!d.same(dst)) cuda_backend().copy(d, dst);  // scatter into the strided view on the GPU
}

void CudaBackend::download(const Tensor& src, const Tensor& dst) {
  check_on(DeviceType::cuda, "download", "src", src);
  check_on(DeviceType::cpu, "download", "host_dst", dst);
  LF_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(),
           "download: {} {} and {} {} differ in shape or dtype", shape_str(src.shape()), src.dtype(),
           shape_str(dst.shape()), dst.dtype());
  if (src.numel() == 0) return;
  Tensor s = contiguous_input(cuda_backend(), src);  // gather on the GPU first
  Tensor d = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), dst.device());
  // Waits for the kernels that produce src (same stream) and for the copy itself.
  LF_CUDA_CHECK(cudaMemcpy(d.raw_data(), s.raw_data(), size_t(s.numel()) * dtype_size(s.dtype()),
                           cudaMemcpyDeviceToHost));
  if (!d.same(dst)) cpu_backend().copy(d, dst);
  raise_failed_checks();  // the GPU is idle now: a failed index check of the queued work surfaces here
}

// ---- synchronisation and deferred index checks ----

void CudaBackend::synchronize() {
  LF_CUDA_CHECK(cudaDeviceSynchronize());
  raise_failed_checks();
}

void CudaBackend::raise_failed_checks() {
  if (!checks_.pending()) return;
  cuda::CheckSlot s{};
  LF_CUDA_CHECK(cudaMemcpy(&s, slot_, sizeof s, cudaMemcpyDeviceToHost));
  if (s.id != 0) LF_CUDA_CHECK(cudaMemset(slot_, 0, sizeof s));  // ready for the next failure
  checks_.resolve(s.id, s.value, "GPU");
}

void CudaBackend::check_indices(const Tensor& idx_in, const IndexCheck& check) {
  check_on(DeviceType::cuda, check.op.c_str(), "index", idx_in);
  LF_CHECK(idx_in.dtype() == DType::i64, "{}: indices must be i64, got {} {}", check.op,
           shape_str(idx_in.shape()), idx_in.dtype());
  if (idx_in.numel() == 0) return;
  if (checks_.full()) synchronize();  // a loop that never waits: resolve what is pending first
  if (!slot_) {
    LF_CUDA_CHECK(cudaMalloc(&slot_, sizeof(cuda::CheckSlot)));
    LF_CUDA_CHECK(cudaMemset(slot_, 0, sizeof(cuda::CheckSlot)));
  }
  Tensor idx = contiguous_input(cuda_backend(), idx_in);
  cuda::launch_check_indices(idx.data<int64_t>(), idx.numel(), check.limit, check.skip.has_value(),
                             check.skip.value_or(0), checks_.add(check), slot_);
}

// ---- copy, fill, random ----

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  check_on(DeviceType::cuda, "copy", "src", src);
  check_on(DeviceType::cuda, "copy", "dst", dst);
  LF_CHECK(src.shape() == dst.shape(), "copy: shapes differ: src {} and dst {}", shape_str(src.shape()),
           shape_str(dst.shape()));
  if (src.numel() == 0) return;
  auto s = make_strided<2>("copy", dst.shape(), {&src.strides(), &dst.strides()});
  cuda::launch_copy(ktype(src.dtype()), src.raw_data(), ktype(dst.dtype()), dst.raw_data(), dst.numel(), s);
}

void CudaBackend::fill(const Tensor& dst, double value) {
  check_on(DeviceType::cuda, "fill", "dst", dst);
  if (dst.numel() == 0) return;
  auto s = make_strided<1>("fill", dst.shape(), {&dst.strides()});
  cuda::launch_fill(ktype(dst.dtype()), dst.raw_data(), dst.numel(), value, s);
}

void CudaBackend::random(const Tensor& dst, RandomKind kind, double a, double b, GeneratorState at) {
  check_on(DeviceType::cuda, "random", "dst", dst);
  LF_CHECK(dst.is_contiguous(), "random: dst {} must be contiguous", shape_str(dst.shape()));
  LF_CHECK(is_floating(dst.dtype()), "random: expected a floating dtype (f32 or f64), got {}", dst.dtype());
  const cuda::KRandom k = kind == RandomKind::uniform  ? cuda::KRandom::uniform
                          : kind == RandomKind::normal ? cuda::KRandom::normal
                                                       : cuda::KRandom::bernoulli;
  cuda::launch_random(ktype(dst.dtype()), dst.raw_data(), dst.numel(), k, a, b, at.seed, at.offset);
}

// ---- elementwise ----
// The contract gives contiguous outputs; a strided one is written through a contiguous temporary.

void CudaBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha) {
  if (!checked_unary(op, x, out, alpha, DeviceType::cuda)) return;
  Tensor o = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
  auto s = make_strided<1>(unary_name(op), x.shape(), {&x.strides()});
  cuda::launch_unary(ktype(x.dtype()), op, x.raw_data(), o.raw_data(), o.numel(), s, alpha);
  if (!o.same(out)) copy(o, out);
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!checked_binary(op, a, b, out, DeviceType::cuda)) return;
  Tensor o = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
  auto s = make_strided<2>(binary_name(op), out.shape(), {&a.strides(), &b.strides()});
  cuda::launch_binary(ktype(a.dtype()), op, a.raw_data(), b.raw_data(), ktype(o.dtype()), o.raw_data(), o.numel(),
                      s);
  if (!o.same(out)) copy(o, out);
}

void CudaBackend::masked_fill(const Tensor& x, const Tensor& mask, double value, const Tensor& out) {
  if (!checked_masked_fill(x, mask, out, DeviceType::cuda)) return;
  Tensor o = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
  auto s = make_strided<2>("masked_fill", out.shape(), {&x.strides(), &mask.strides()});
  cuda::launch_masked_fill(ktype(x.dtype()), x.raw_data(), ktype(mask.dtype()), mask.raw_data(), value, o.raw_data(),
                           o.numel(), s);
  if (!o.same(out)) copy(o, out);
}

// ---- reduce ----

void CudaBackend::reduce(ReduceOp op, const Tensor& x_in, const Tensor& out, int64_t inner) {
  const char* name = op == ReduceOp::sum ? "sum" : "max";
  check_on(DeviceType::cuda, name, "x", x_in);
  check_on(DeviceType::cuda, name, "out", out);
  const int64_t R = checked_reduce(name, x_in, out, inner), outputs = out.numel();
  if (outputs == 0) return;
  check_output(DeviceType::cuda, name, "output", out, x_in.dtype(), outputs);
  Tensor x = contiguous_input(cuda_backend(), x_in);
  const auto kop = op == ReduceOp::sum ? cuda::KReduce::sum : cuda::KReduce::max;
  if (inner == 1)
    cuda::launch_reduce_rows(ktype(x.dtype()), kop, x.raw_data(), out.raw_data(), outputs, R);
  else
    cuda::launch_reduce_middle(ktype(x.dtype()), kop, x.raw_data(), out.raw_data(), outputs / inner, R, inner);
}

// ---- gemm ----

void CudaBackend::gemm(const GemmArgs& args) {
  const std::optional<GemmArgs> g = checked_gemm(args);  // row strides normalised; nothing when empty
  if (!g) return;
  const cuda::GemmBatch batch{{g->batch[0], g->batch[1]},
                              {g->stride_a[0], g->stride_a[1]},
                              {g->stride_b[0], g->stride_b[1]},
                              {g->stride_c[0], g->stride_c[1]}};
  cuda::launch_gemm(ktype(g->dtype), g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->b, g->ldb,
                    g->beta, g->c, g->ldc, batch, cuda_tf32());
}

}  // namespace lf
