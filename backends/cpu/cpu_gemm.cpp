#include "backends/cpu/cpu_fp.h"  // first: see the file
//
// gemm: C[i] = alpha * op(A[i]) @ op(B[i]) + beta * C[i], i < batch, row-major, through OpenBLAS.
//
//   op(A) is [m, k], op(B) is [k, n], C is [m, n]. A is stored [m, k] (or [k, m] when ta), B [k, n] (or
//   [n, k] when tb); lda/ldb/ldc are the row strides of the stored matrices, sa/sb/sc the distances
//   between consecutive matrices of the batch (0 = the same matrix for every i; not allowed for C).
//
// Batching: one big product keeps both cores busy inside OpenBLAS, but attention does many small
// ones ([B*H] products of [N, d] x [d, k]), where OpenBLAS's threading overhead dominates. Those run
// one product per OpenMP thread with OpenBLAS limited to one thread, so the two pools of threads do
// not fight over the 2 cores.
#include <cblas.h>

#include <algorithm>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"

namespace lf {

namespace {

// m * n * k above which a single product is worth OpenBLAS's own threads.
constexpr int64_t kBigGemm = int64_t(1) << 18;

void gemm1(float alpha, float beta, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const float* a,
           int lda, const float* b, int ldb, float* c, int ldc) {
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
void gemm_typed(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, int64_t sa,
                const T* b, int64_t ldb, int64_t sb, T beta, T* c, int64_t ldc, int64_t sc, int64_t batch) {
  const CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  auto one = [&](int64_t i) {
    gemm1(alpha, beta, opa, opb, int(m), int(n), int(k), a + i * sa, int(lda), b + i * sb, int(ldb), c + i * sc,
          int(ldc));
  };
  if (batch == 1 || m * n * k >= kBigGemm || cpu::max_threads() == 1) {
    for (int64_t i = 0; i < batch; ++i) one(i);
    return;
  }
  int saved = openblas_get_num_threads();
  openblas_set_num_threads(1);
  // Each product is small: let one OpenMP thread do a block of them.
  cpu::parallel_for(batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) one(i);
  });
  openblas_set_num_threads(saved);
}

}  // namespace

void CpuBackend::gemm(DType dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
                      int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb, double beta, void* c,
                      int64_t ldc, int64_t sc, int64_t batch) {
  LF_CHECK(m >= 0 && n >= 0 && k >= 0 && batch >= 0, "gemm: negative size m={} n={} k={} batch={}", m, n, k, batch);
  const int64_t kMaxInt = 2147483647;
  LF_CHECK(m <= kMaxInt && n <= kMaxInt && k <= kMaxInt, "gemm: sizes m={} n={} k={} exceed the BLAS int range", m,
           n, k);
  if (m == 0 || n == 0 || batch == 0) return;
  LF_CHECK(batch == 1 || sc != 0, "gemm: a batch of {} products cannot all write one C (batch stride 0)", batch);
  lda = leading_dim("A", lda, ta ? k : m, ta ? m : k);
  ldb = leading_dim("B", ldb, tb ? n : k, tb ? k : n);
  ldc = leading_dim("C", ldc, m, n);
  LF_CHECK(lda <= kMaxInt && ldb <= kMaxInt && ldc <= kMaxInt, "gemm: row strides {} {} {} exceed the BLAS int range",
           lda, ldb, ldc);
  dispatch_float(dtype, "gemm", [&](auto tag) {
    using T = decltype(tag);
    gemm_typed<T>(ta, tb, m, n, k, T(alpha), static_cast<const T*>(a), lda, sa, static_cast<const T*>(b), ldb, sb,
                  T(beta), static_cast<T*>(c), ldc, sc, batch);
  });
}

}  // namespace lf
