#pragma once
// LF_HD marks a function that both devices compile: g++ for the CPU backend, nvcc for the CUDA kernels.
// Headers that use it (core/philox.h, backends/scalar_math.h, backends/pointwise_ops.h) include nothing
// that pulls in fmt, which nvcc cannot parse under C++20.
#if defined(__CUDACC__)
#define LF_HD __host__ __device__ __forceinline__
#else
// Always inlined on the CPU: a call inside a vector loop would make the loop scalar (GCC gives up
// inlining in the big dispatch functions otherwise).
#define LF_HD __attribute__((always_inline)) inline
#endif
