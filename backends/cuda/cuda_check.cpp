// The out-of-line half of cuda_check.h: turns CUDA and cuBLAS failures into lf::Error.
#include "backends/cuda/cuda_check.h"

#include "core/error.h"

namespace lf::cuda {

void throw_cuda_error(const char* call, cudaError_t err, const char* file, int line) {
  cudaGetLastError();  // clear it: a non-sticky error must not be blamed on the next launch
  throw Error(fmt::format("CUDA error: {} failed at {}:{}: {} ({})", call, file, line, cudaGetErrorName(err),
                          cudaGetErrorString(err)));
}

void throw_cublas_error(const char* call, cublasStatus_t status, const char* file, int line) {
  cudaGetLastError();
  throw Error(fmt::format("cuBLAS error: {} failed at {}:{}: {} ({})", call, file, line,
                          cublasGetStatusName(status), cublasGetStatusString(status)));
}

}  // namespace lf::cuda
