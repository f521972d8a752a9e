// Single-precision GEMM on row-major matrices, the one product the engine needs:
//   C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) [+ C]
// op(A) reads A as (M, K), or as (K, M) transposed; op(B) reads B as (K, N), or as (N, K) transposed.
#pragma once

#include <cstddef>

namespace whetstone {

enum class GemmKernel { Scalar, Avx2 };

struct GemmShape {
  std::size_t m, n, k;
  bool trans_a, trans_b, accumulate;
  float alpha;
};

// The widest kernel this CPU runs.
GemmKernel best_gemm_kernel();
const char* gemm_kernel_name(GemmKernel kernel);

void sgemm(GemmKernel kernel, const GemmShape& shape, const float* a, const float* b, float* c);

}  // namespace whetstone
