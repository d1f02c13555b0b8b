// Batched matrix multiply through cuBLAS: C[i, j] = alpha op(A[i, j]) op(B[i, j]) + beta C[i, j] over a
// two-level batch (i < count[0], j < count[1]; see GemmBatch in kernels.h).
//
// Our matrices are row-major, cuBLAS's column-major. A row-major [r, c] matrix with row stride ld is, byte
// for byte, the column-major [c, r] matrix with leading dimension ld: its transpose. So instead of
// C = op(A) op(B) we ask cuBLAS for C^T = op(B)^T op(A)^T: swap A with B and m with n, and each operand
// keeps its own transpose flag. No data moves; a transposed view becomes a flag, as on the CPU.
//
// One cuBLAS call per product, whatever the batch: cublasGemmStridedBatchedEx when every operand's two
// levels collapse into one stride (a plain batch; heads stored [B, h, n, dh]), otherwise
// cublasGemmBatchedEx with per-matrix pointers that a small kernel writes into device memory (attention's
// heads read in place from [B, n, h, dh]: their (B, h) strides are walked by no single stride).
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

// Matrix b of the flattened batch (b = i * count[1] + j) starts s[0] * i + s[1] * j elements in.
__host__ __device__ __forceinline__ int64_t batch_offset(const int64_t (&s)[2], int64_t count1, int64_t b) {
  return s[0] * (b / count1) + s[1] * (b % count1);
}

// k == 0: the product is empty, so C = beta C (and exactly 0 when beta is 0, even over NaN garbage).
template <typename T>
__global__ void scale_matrices_kernel(T* c, int64_t m, int64_t n, int64_t ldc, GemmBatch batch, T beta) {
  const int64_t total = batch.count[0] * batch.count[1] * m * n;
  for (int64_t idx = thread_index(); idx < total; idx += thread_count()) {
    const int64_t j = idx % n, i = (idx / n) % m, b = idx / (m * n);
    T& v = c[batch_offset(batch.c, batch.count[1], b) + i * ldc + j];
    v = beta == T(0) ? T(0) : beta * v;
  }
}

// The pointer arrays of cublasGemmBatchedEx, [count[0] * count[1]] each, written on the device so that
// the host neither waits nor copies. es = the element size in bytes.
__global__ void gemm_pointers_kernel(const char* a, const char* b, char* c, GemmBatch batch, int64_t es,
                                     const void** pa, const void** pb, void** pc) {
  const int64_t total = batch.count[0] * batch.count[1];
  for (int64_t i = thread_index(); i < total; i += thread_count()) {
    pa[i] = a + batch_offset(batch.a, batch.count[1], i) * es;
    pb[i] = b + batch_offset(batch.b, batch.count[1], i) * es;
    pc[i] = c + batch_offset(batch.c, batch.count[1], i) * es;
  }
}

// The one stride per operand that walks both levels, when there is one: level 0 continues level 1
// (s[0] == count[1] * s[1]), or one of the levels has a single entry.
bool one_level(const GemmBatch& g, int64_t& sa, int64_t& sb, int64_t& sc) {
  auto stride = [&](const int64_t(&s)[2], int64_t& out) {
    if (g.count[1] == 1) {  // level 0 alone walks
      out = s[0];
      return true;
    }
    out = s[1];  // level 1 walks; level 0 must continue it, or have a single entry
    return g.count[0] == 1 || s[0] == g.count[1] * s[1];
  };
  return stride(g.a, sa) && stride(g.b, sb) && stride(g.c, sc);
}

}  // namespace

void launch_gemm(KType type, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
                 int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
                 const GemmBatch& batch, bool allow_tf32) {
  const int64_t count = batch.count[0] * batch.count[1];
  if (m == 0 || n == 0 || count == 0) return;
  if (k == 0) {
    dispatch_float(type, [&](auto tag) {
      using T = decltype(tag);
      scale_matrices_kernel<T>
          <<<blocks_for(count * m * n), kThreads>>>(static_cast<T*>(c), m, n, ldc, batch, T(beta));
      LF_CUDA_CHECK_LAUNCH("scale_matrices_kernel");
    });
    return;
  }
  cublasHandle_t h = cublas_handle();
  // The swap: cuBLAS's first operand is our B (n x k after op), its second our A.
  const cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const bool f64 = type == KType::f64;
  const cudaDataType dt = f64 ? CUDA_R_64F : CUDA_R_32F;
  const cublasComputeType_t compute =
      f64 ? CUBLAS_COMPUTE_64F : (allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
  if (!f64) set_math_mode(h, allow_tf32);
  // alpha and beta in the compute type's precision
  const double al64 = alpha, be64 = beta;
  const float al32 = float(alpha), be32 = float(beta);
  const void* al = f64 ? static_cast<const void*>(&al64) : &al32;
  const void* be = f64 ? static_cast<const void*>(&be64) : &be32;
  int64_t sa = 0, sb = 0, sc = 0;
  if (one_level(batch, sa, sb, sc)) {
    LF_CUBLAS_CHECK(cublasGemmStridedBatchedEx_64(h, op_b, op_a, n, m, k, al, b, dt, ldb, sb, a, dt, lda, sa,
                                                  be, c, dt, ldc, sc, count, compute, CUBLAS_GEMM_DEFAULT));
    return;
  }
  Scratch pointers(size_t(3 * count) * sizeof(void*));  // [A pointers | B pointers | C pointers]
  void** base = pointers.as<void*>();
  const void** pa = const_cast<const void**>(base);
  const void** pb = pa + count;
  void** pc = base + 2 * count;
  gemm_pointers_kernel<<<blocks_for(count), kThreads>>>(static_cast<const char*>(a),
                                                        static_cast<const char*>(b), static_cast<char*>(c),
                                                        batch, f64 ? 8 : 4, pa, pb, pc);
  LF_CUDA_CHECK_LAUNCH("gemm_pointers_kernel");
  LF_CUBLAS_CHECK(cublasGemmBatchedEx_64(h, op_b, op_a, n, m, k, al, pb, dt, ldb, pa, dt, lda, be, pc, dt,
                                         ldc, count, compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace lf::cuda
