// micro_ops: Google Benchmark microbenchmarks of the hot kernels through lf's public ops, against raw
// OpenBLAS where there is a raw equivalent.
//
//   build/micro_ops                                   # all
//   build/micro_ops --benchmark_filter=Gemm           # lf::matmul vs cblas_sgemm, 1024^3, GFLOP/s
//
// GEMM reports GFLOP/s (2*M*N*K per call); the memory-bound ops report GB/s (bytes read + written).
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include "backends/cpu/blas_kernel.h"
#include "examples/common/entry.h"
#include "ops/ops.h"

using namespace lf;

namespace {

void gemm_counters(benchmark::State& state, int64_t n) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(n) * double(n) * double(n),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

// Raw OpenBLAS with its own threads (as many as OpenMP has). lf's CPU backend keeps OpenBLAS single-threaded
// and splits GEMMs over OpenMP threads itself (backends/cpu/cpu_gemm.cpp), so the setting is restored after.
// Both sides run the same kernels: the backend's choice (backends/cpu/blas_kernel.h) is made first.
void BM_GemmCblas(benchmark::State& state) {
  use_best_blas_kernel();
  const int64_t n = state.range(0);
  Tensor a = randn({n, n}), b = randn({n, n}), c = zeros({n, n});
  int previous = openblas_get_num_threads();
  openblas_set_num_threads(omp_get_max_threads());
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.0f, a.data<float>(), int(n),
                b.data<float>(), int(n), 0.0f, c.data<float>(), int(n));
    benchmark::DoNotOptimize(c.data<float>());
  }
  openblas_set_num_threads(previous);
  gemm_counters(state, n);
}

void BM_GemmLf(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = randn({n, n}), b = randn({n, n});
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b).raw_data());
  gemm_counters(state, n);
}

void BM_GemmLfTransposed(benchmark::State& state) {  // b^T goes to the GEMM as a flag, not a copy
  const int64_t n = state.range(0);
  Tensor a = randn({n, n}), b = randn({n, n});
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b.transpose(0, 1)).raw_data());
  gemm_counters(state, n);
}

void bytes(benchmark::State& state, double per_iteration) {
  state.counters["GB/s"] = benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
  state.counters["GB/s"].value /= 1e9;
}

// [rows, 512] f32 activations, the shape of attention scores and hidden states in the MLM benchmark.
void BM_Softmax(benchmark::State& state) {
  Tensor x = randn({state.range(0), 512});
  for (auto _ : state) benchmark::DoNotOptimize(softmax(x, -1).raw_data());
  bytes(state, 2.0 * double(x.numel()) * 4);
}

void BM_LayerNorm(benchmark::State& state) {
  Tensor x = randn({state.range(0), 128}), w = ones({128}), b = zeros({128});
  for (auto _ : state) benchmark::DoNotOptimize(layer_norm(x, w, b).raw_data());
  bytes(state, 2.0 * double(x.numel()) * 4);
}

void BM_Gelu(benchmark::State& state) {
  Tensor x = randn({state.range(0), 512});
  for (auto _ : state) benchmark::DoNotOptimize(gelu(x).raw_data());
  bytes(state, 2.0 * double(x.numel()) * 4);
}

void BM_Add(benchmark::State& state) {
  Tensor x = randn({state.range(0), 128}), y = randn({state.range(0), 128});
  for (auto _ : state) benchmark::DoNotOptimize(add(x, y).raw_data());
  bytes(state, 3.0 * double(x.numel()) * 4);
}

}  // namespace

BENCHMARK(BM_GemmCblas)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GemmLf)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GemmLfTransposed)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Softmax)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_LayerNorm)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Gelu)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Add)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseRealTime();
// BENCHMARK_MAIN() with its flags (Google Benchmark parses them), under the shared entry point: an exception
// becomes one "micro_ops: error: ..." line, and an unknown flag exits 2 as in the other programs.
int main(int argc, char** argv) {
  return lf::run_guarded("micro_ops", [&] {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return lf::kExitUsage;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  });
}
