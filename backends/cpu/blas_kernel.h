#pragma once
// Which kernels OpenBLAS runs, checked once. Debian's OpenBLAS is a DYNAMIC_ARCH build: when it loads, it
// picks its kernels (a "core") from the CPU's family and model numbers. A virtual machine that reports a
// model OpenBLAS does not know gets the generic "Prescott" (SSE3) kernels, whatever the CPU can do. This
// project's 2-core machine of 2026-12-06 ("Intel(R) Xeon(R) Processor", with AVX-512) was one: sgemm ran at
// ~15 GFLOP/s on one core against ~85 with the AVX-512 "SkylakeX" kernels, and the training step 3.3x slower
// (docs/benchmarks.md, "OpenBLAS's kernels").
//
// use_best_blas_kernel() corrects that. When the user has not chosen (OPENBLAS_CORETYPE unset: a choice is
// respected) and OpenBLAS chose a core without AVX2 kernels on a CPU that has AVX2 and FMA, it names the best
// core the CPU's features allow in OPENBLAS_CORETYPE (SkylakeX with AVX-512 F, CD, BW, DQ and VL, else
// Haswell) and lets OpenBLAS choose again with gotoblas_dynamic_quit and gotoblas_dynamic_init, the functions
// OpenBLAS runs itself when it loads. They are looked up with dlsym: an OpenBLAS built for one CPU (without
// DYNAMIC_ARCH) has neither and is left as it is. The CPU backend calls it before its first matrix product.
#include <string>
#include <string_view>

namespace lf {

void use_best_blas_kernel();  // once per process; later calls return at once
std::string blas_kernel();    // OpenBLAS's core now, e.g. "SkylakeX"
// Whether OpenBLAS's core `core` (0.3.21's names) has AVX2 kernels or better: such a choice is left alone.
bool has_avx2_kernels(std::string_view core);

}  // namespace lf
