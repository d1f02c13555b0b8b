// Re-selecting OpenBLAS's kernels where its CPU detection fell back to the generic ones; see the header.
#include "backends/cpu/blas_kernel.h"

#include <cblas.h>
#include <dlfcn.h>

#include <cstdlib>
#include <string_view>

namespace lf {

namespace {

// The best core for this CPU's features, or nullptr when it lacks AVX2 + FMA (then OpenBLAS knows best).
const char* core_for_this_cpu() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
  if (avx512) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

void choose_again(const char* core) {
  using Fn = void (*)();
  auto quit = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
  if (!quit || !init) return;  // not a DYNAMIC_ARCH build: its kernels are fixed
  setenv("OPENBLAS_CORETYPE", core, 1);
  quit();  // forget the core chosen at load...
  init();  // ...and choose again, now by OPENBLAS_CORETYPE
}

}  // namespace

std::string blas_kernel() { return openblas_get_corename(); }

bool has_avx2_kernels(std::string_view core) {
  for (std::string_view good : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"})
    if (core == good) return true;
  return false;
}

void use_best_blas_kernel() {
  static const bool done = [] {
    const char* chosen_by_user = std::getenv("OPENBLAS_CORETYPE");
    const char* best = core_for_this_cpu();
    if (chosen_by_user == nullptr && best != nullptr && !has_avx2_kernels(blas_kernel())) choose_again(best);
    return true;
  }();
  (void)done;
}

}  // namespace lf
