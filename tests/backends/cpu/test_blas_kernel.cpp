// use_best_blas_kernel (backends/cpu/blas_kernel.cpp): on a CPU with AVX2 and FMA, the CPU backend's first
// product leaves OpenBLAS on a core with AVX2 kernels or better, unless the user chose one; products stay
// right after the switch.
#include <cstdlib>
#include <string>

#include "backends/backend.h"
#include "backends/cpu/blas_kernel.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {

// Read before any test runs, so before any product: whether the user chose OpenBLAS's core.
const bool user_chose_core = std::getenv("OPENBLAS_CORETYPE") != nullptr;

}  // namespace

TEST_CASE("blas_kernel: a CPU with AVX2 and FMA runs OpenBLAS's AVX2 (or AVX-512) kernels") {
  // A 33 x 9 by 9 x 17 product through the backend: it triggers the check, and its result is checked by hand.
  const int64_t m = 33, k = 9, n = 17;
  std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c(size_t(m * n), -1.0f);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i % 7) - 3);
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i % 5) - 2);
  GemmArgs g;
  g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = k, g.b = b.data(), g.ldb = n, g.c = c.data(), g.ldc = n;
  cpu_backend().gemm(g);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float want = 0;
      for (int64_t p = 0; p < k; ++p) want += a[size_t(i * k + p)] * b[size_t(p * n + j)];
      REQUIRE(c[size_t(i * n + j)] == want);  // small integers: exact in any summation order
    }

  const std::string core = blas_kernel();
  INFO("OpenBLAS core: " << core);
  __builtin_cpu_init();
  if (user_chose_core || !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    WARN("skipped the core check: OPENBLAS_CORETYPE was set, or this CPU has no AVX2 + FMA");
    return;
  }
  CHECK(has_avx2_kernels(core));
  CHECK_FALSE(has_avx2_kernels("Prescott"));  // the fallback this check exists for
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && core == "Haswell")
    WARN("AVX-512 CPU on OpenBLAS's Haswell core: it detected this model itself, which is left alone");
}
