// Batched matrix multiply through cuBLAS: C[i] = alpha op(A[i]) op(B[i]) + beta C[i], i < batch.
//
// Our matrices are row-major, cuBLAS's column-major. A row-major [r, c] matrix with row stride ld is, byte
// for byte, the column-major [c, r] matrix with leading dimension ld: its transpose. So instead of
// C = op(A) op(B) we ask cuBLAS for C^T = op(B)^T op(A)^T: swap A with B and m with n, and each operand
// keeps its own transpose flag. No data moves; a transposed view becomes a flag, as on the CPU.
//
// f32 runs in full fp32 by default. set_cuda_tf32(true) (backends/cuda_options.h) lets cuBLAS round the
// inputs to TF32 and use the tensor cores: several times faster, with ~1e-3 relative error.
#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

namespace {

// One handle for the process, created on first use and never destroyed (tensors and their kernels may
// outlive static destruction). It runs on the default stream, like every kernel here.
cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    LF_CUBLAS_CHECK(cublasCreate(&h));
    return h;
  }();
  return handle;
}

// Sets the handle's math mode when the TF32 choice changes between calls.
void set_math_mode(cublasHandle_t h, bool allow_tf32) {
  static int current = -1;  // unknown until the first call
  if (current == int(allow_tf32)) return;
  LF_CUBLAS_CHECK(cublasSetMathMode(h, allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  current = int(allow_tf32);
}

// k == 0: the product is empty, so C = beta C (and exactly 0 when beta is 0, even over NaN garbage).
// C is [batch, m, n] with row stride ldc and batch stride sc.
template <typename T>
__global__ void scale_matrices_kernel(T* c, int64_t m, int64_t n, int64_t ldc, int64_t sc, int64_t batch, T beta) {
  const int64_t total = batch * m * n;
  for (int64_t idx = thread_index(); idx < total; idx += thread_count()) {
    const int64_t j = idx % n, i = (idx / n) % m, b = idx / (m * n);
    T& v = c[b * sc + i * ldc + j];
    v = beta == T(0) ? T(0) : beta * v;
  }
}

}  // namespace

void launch_gemm(KType type, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
                 int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb, double beta, void* c, int64_t ldc,
                 int64_t sc, int64_t batch, bool allow_tf32) {
  if (m == 0 || n == 0 || batch == 0) return;
  if (k == 0) {
    dispatch_float(type, [&](auto tag) {
      using T = decltype(tag);
      scale_matrices_kernel<T><<<blocks_for(batch * m * n), kThreads>>>(static_cast<T*>(c), m, n, ldc, sc, batch,
                                                                        T(beta));
      LF_CUDA_CHECK_LAUNCH("scale_matrices_kernel");
    });
    return;
  }
  cublasHandle_t h = cublas_handle();
  // The swap: cuBLAS's first operand is our B (n x k after op), its second our A.
  const cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (type == KType::f64) {
    const double al = alpha, be = beta;
    LF_CUBLAS_CHECK(cublasDgemmStridedBatched_64(h, op_b, op_a, n, m, k, &al, static_cast<const double*>(b), ldb, sb,
                                                 static_cast<const double*>(a), lda, sa, &be, static_cast<double*>(c),
                                                 ldc, sc, batch));
  } else {
    const float al = float(alpha), be = float(beta);
    set_math_mode(h, allow_tf32);
    LF_CUBLAS_CHECK(cublasSgemmStridedBatched_64(h, op_b, op_a, n, m, k, &al, static_cast<const float*>(b), ldb, sb,
                                                 static_cast<const float*>(a), lda, sa, &be, static_cast<float*>(c),
                                                 ldc, sc, batch));
  }
}

}  // namespace lf::cuda
