//
// gemm: C[i] = alpha * op(A[i]) @ op(B[i]) + beta * C[i], i < batch, row-major, through OpenBLAS.
//
//   op(A) is [m, k], op(B) is [k, n], C is [m, n]. A is stored [m, k] (or [k, m] when ta), B [k, n] (or
//   [n, k] when tb); lda/ldb/ldc are the row strides of the stored matrices, sa/sb/sc the distances
//   between consecutive matrices of the batch (0 = the same matrix for every i; not allowed for C).
//
// Threads: OpenBLAS is kept single-threaded and the products are split between the OpenMP threads that
// run every other kernel. With OpenBLAS's own pthread pool next to OpenMP's, both pools' idle threads
// spin between calls and fight over the cores: a step alternating gemm and elementwise kernels then
// used ~2.5x the CPU time of one thread on 2 cores (measured). So: many products (attention's
// [B*H] products of [N, d] x [d, k]) go whole to the threads, and a few big ones are cut into row (or
// column) blocks, one cblas call per thread, which costs OpenBLAS little (it splits the same way).
#include <cblas.h>

#include <algorithm>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"

namespace lf {

namespace {

// Multiply-adds of one product above which it is worth splitting between threads.
constexpr int64_t kBigGemm = int64_t(1) << 18;

void gemm1(float alpha, float beta, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
           const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemm1(double alpha, double beta, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
           const double* a, int lda, const double* b, int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// A stored matrix with one row, or no columns, may carry any row stride (it is never used; a contiguous
// [m, 0] tensor has stride 0), but cblas insists on ld >= max(1, columns); checks the stride otherwise.
int64_t leading_dim(const char* which, int64_t ld, int64_t rows, int64_t cols) {
  if (rows <= 1 || cols == 0) return std::max<int64_t>({ld, cols, 1});
  LF_CHECK(ld >= std::max<int64_t>(cols, 1), "gemm: {} has {} columns but row stride {}", which, cols, ld);
  return ld;
}

template <typename T>
void gemm_typed(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                int64_t sa, const T* b, int64_t ldb, int64_t sb, T beta, T* c, int64_t ldc, int64_t sc,
                int64_t batch) {
  static const bool blas_single_threaded = (openblas_set_num_threads(1), true);
  (void)blas_single_threaded;
  const CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  // C[i][r0:r1, c0:c1] from rows r0:r1 of op(A[i]) and columns c0:c1 of op(B[i]). Row r of op(A) is row
  // r of stored A, or its column r when ta; column c of op(B) is column c of stored B, or its row c when tb.
  auto part = [&](int64_t i, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    const T* ap = a + i * sa + (ta ? r0 : r0 * lda);
    const T* bp = b + i * sb + (tb ? c0 * ldb : c0);
    gemm1(alpha, beta, opa, opb, int(r1 - r0), int(c1 - c0), int(k), ap, int(lda), bp, int(ldb),
          c + i * sc + r0 * ldc + c0, int(ldc));
  };
  const int64_t work = m * n * std::max<int64_t>(k, 1);  // multiply-adds of one product
  const int threads = cpu::max_threads();
  if (batch % threads == 0 || batch >= 4 * threads || work < kBigGemm) {
    // Whole products per thread (serial when the total is below ~32k multiply-adds).
    cpu::parallel_for(batch, std::max<int64_t>(1, cpu::kGrain / work), [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) part(i, 0, m, 0, n);
    });
    return;
  }
  // Few big products: split each one's rows (or columns, when it is wide) between the threads.
  for (int64_t i = 0; i < batch; ++i) {
    if (m >= n) {
      cpu::parallel_for(m, 16, [&](int64_t lo, int64_t hi) { part(i, lo, hi, 0, n); });
    } else {
      cpu::parallel_for(n, 16, [&](int64_t lo, int64_t hi) { part(i, 0, m, lo, hi); });
    }
  }
}

}  // namespace

void CpuBackend::gemm(DType dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                      const void* a, int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb,
                      double beta, void* c, int64_t ldc, int64_t sc, int64_t batch) {
  LF_CHECK(m >= 0 && n >= 0 && k >= 0 && batch >= 0, "gemm: negative size m={} n={} k={} batch={}", m, n, k,
           batch);
  const int64_t kMaxInt = 2147483647;
  LF_CHECK(m <= kMaxInt && n <= kMaxInt && k <= kMaxInt,
           "gemm: sizes m={} n={} k={} exceed the BLAS int range", m, n, k);
  if (m == 0 || n == 0 || batch == 0) return;
  LF_CHECK(batch == 1 || sc != 0, "gemm: a batch of {} products cannot all write one C (batch stride 0)",
           batch);
  lda = leading_dim("A", lda, ta ? k : m, ta ? m : k);
  ldb = leading_dim("B", ldb, tb ? n : k, tb ? k : n);
  ldc = leading_dim("C", ldc, m, n);
  LF_CHECK(lda <= kMaxInt && ldb <= kMaxInt && ldc <= kMaxInt,
           "gemm: row strides {} {} {} exceed the BLAS int range", lda, ldb, ldc);
  dispatch_float(dtype, "gemm", [&](auto tag) {
    using T = decltype(tag);
    gemm_typed<T>(ta, tb, m, n, k, T(alpha), static_cast<const T*>(a), lda, sa, static_cast<const T*>(b), ldb,
                  sb, T(beta), static_cast<T*>(c), ldc, sc, batch);
  });
}

}  // namespace lf
