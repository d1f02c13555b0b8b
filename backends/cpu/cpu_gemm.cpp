//
// gemm: the batched product of GemmArgs (backends/backend.h) through OpenBLAS, one cblas call per product
// (or per row block of a big product). The two batch levels are walked as one flat list of products.
//
// Threads: OpenBLAS is kept single-threaded and the products are split between the OpenMP threads that
// run every other kernel. With OpenBLAS's own pthread pool next to OpenMP's, both pools' idle threads
// spin between calls and fight over the cores: a step alternating gemm and elementwise kernels then
// used ~2.5x the CPU time of one thread on 2 cores (measured). So: many products (attention's
// [B, h] products of [n, dh] x [dh, k]) go whole to the threads, and a few big ones are cut into row (or
// column) blocks, one cblas call per thread, which costs OpenBLAS little (it splits the same way).
//
// Kernels: before the first product, use_best_blas_kernel (blas_kernel.h) makes sure OpenBLAS runs the
// kernels this CPU allows, not the generic ones it falls back to on a CPU model it does not know.
#include <cblas.h>

#include <algorithm>

#include "backends/cpu/blas_kernel.h"
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

template <typename T>
void gemm_typed(const GemmArgs& g) {
  static const bool blas_ready = (use_best_blas_kernel(), openblas_set_num_threads(1), true);
  (void)blas_ready;
  const bool ta = g.ta, tb = g.tb;
  const int64_t lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const int64_t m = g.m, n = g.n, k = g.k, inner = g.batch[1], count = g.batch[0] * g.batch[1];
  const T alpha = T(g.alpha), beta = T(g.beta);
  const CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  // Product p of the flattened two-level batch is (p / inner, p % inner).
  auto at = [inner](const void* base, const int64_t(&stride)[2], int64_t p) {
    return static_cast<const T*>(base) + p / inner * stride[0] + p % inner * stride[1];
  };
  // C[p][r0:r1, c0:c1] from rows r0:r1 of op(A[p]) and columns c0:c1 of op(B[p]). Row r of op(A) is row
  // r of stored A, or its column r when ta; column c of op(B) is column c of stored B, or its row c when tb.
  auto part = [&](int64_t p, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    const T* ap = at(g.a, g.stride_a, p) + (ta ? r0 : r0 * lda);
    const T* bp = at(g.b, g.stride_b, p) + (tb ? c0 * ldb : c0);
    T* cp = const_cast<T*>(at(g.c, g.stride_c, p)) + r0 * ldc + c0;
    gemm1(alpha, beta, opa, opb, int(r1 - r0), int(c1 - c0), int(k), ap, int(lda), bp, int(ldb), cp,
          int(ldc));
  };
  const int64_t work = m * n * std::max<int64_t>(k, 1);  // multiply-adds of one product
  const int threads = cpu::max_threads();
  if (count % threads == 0 || count >= 4 * threads || work < kBigGemm) {
    // Whole products per thread (serial when the total is below ~32k multiply-adds).
    cpu::parallel_for(count, std::max<int64_t>(1, cpu::kGrain / work), [&](int64_t lo, int64_t hi) {
      for (int64_t p = lo; p < hi; ++p) part(p, 0, m, 0, n);
    });
    return;
  }
  // Few big products: split each one's rows (or columns, when it is wide) between the threads.
  for (int64_t p = 0; p < count; ++p) {
    if (m >= n) {
      cpu::parallel_for(m, 16, [&](int64_t lo, int64_t hi) { part(p, lo, hi, 0, n); });
    } else {
      cpu::parallel_for(n, 16, [&](int64_t lo, int64_t hi) { part(p, 0, m, lo, hi); });
    }
  }
}

}  // namespace

void CpuBackend::gemm(const GemmArgs& args) {
  const std::optional<GemmArgs> g = checked_gemm(args);  // row strides normalised; nothing when empty
  if (!g) return;
  const int64_t kMaxInt = 2147483647;
  LF_CHECK(g->m <= kMaxInt && g->n <= kMaxInt && g->k <= kMaxInt,
           "gemm: sizes m={} n={} k={} exceed the BLAS int range", g->m, g->n, g->k);
  LF_CHECK(g->lda <= kMaxInt && g->ldb <= kMaxInt && g->ldc <= kMaxInt,
           "gemm: row strides {} {} {} exceed the BLAS int range", g->lda, g->ldb, g->ldc);
  dispatch_float(g->dtype, "gemm", [&](auto tag) { gemm_typed<decltype(tag)>(*g); });
}

}  // namespace lf
