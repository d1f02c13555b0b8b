#pragma once
// Error checks for the CUDA runtime and cuBLAS: a failed call becomes an lf::Error that names the call,
// where it was made, and the library's own name and description of the error, e.g.
//   "CUDA error: cudaMalloc(&p, bytes) failed at backends/cuda/cuda_allocator.cpp:20:
//    cudaErrorInvalidValue (invalid argument)"
//
// This header is included by the .cu kernel files, which nvcc compiles without core/ (nvcc cannot parse
// the {fmt} headers that core/error.h pulls in), so the throwing happens out of line, in cuda_check.cpp.
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace lf::cuda {

// Both clear the runtime's "last error" first, so that a later LF_CUDA_CHECK_LAUNCH does not report it again.
[[noreturn]] void throw_cuda_error(const char* call, cudaError_t err, const char* file, int line);
[[noreturn]] void throw_cublas_error(const char* call, cublasStatus_t status, const char* file, int line);

}  // namespace lf::cuda

#define LF_CUDA_CHECK(call)                                                          \
  do {                                                                               \
    cudaError_t lf_cuda_err_ = (call);                                               \
    if (lf_cuda_err_ != cudaSuccess)                                                 \
      ::lf::cuda::throw_cuda_error(#call, lf_cuda_err_, __FILE__, __LINE__);         \
  } while (0)

#define LF_CUBLAS_CHECK(call)                                                        \
  do {                                                                               \
    cublasStatus_t lf_cublas_st_ = (call);                                           \
    if (lf_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                      \
      ::lf::cuda::throw_cublas_error(#call, lf_cublas_st_, __FILE__, __LINE__);      \
  } while (0)

// After every kernel launch: a bad launch configuration (or an earlier asynchronous fault) shows up here.
// `kernel` is a string literal naming the kernel for the message.
#define LF_CUDA_CHECK_LAUNCH(kernel)                                                 \
  do {                                                                               \
    cudaError_t lf_cuda_err_ = cudaGetLastError();                                   \
    if (lf_cuda_err_ != cudaSuccess)                                                 \
      ::lf::cuda::throw_cuda_error("launch of kernel " kernel, lf_cuda_err_, __FILE__, __LINE__); \
  } while (0)
