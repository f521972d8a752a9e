// Single-precision GEMM on row-major matrices, the one product the engine needs:
//   C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) [+ C]
// op(A) reads A as (M, K), or as (K, M) transposed; op(B) reads B as (K, N), or as (N, K) transposed.
#pragma once

#include <cstddef>
#include <vector>

namespace whetstone {

enum class GemmKernel { Portable, Portable14x32, Avx2, Avx512 };

struct GemmShape {
  std::size_t m, n, k;
  bool trans_a, trans_b, accumulate;
  float alpha;
};

// The fastest kernel this CPU runs: AVX-512, else AVX2 + FMA, else portable.
GemmKernel best_gemm_kernel();
// Every kernel this CPU runs, by name.
std::vector<GemmKernel> runnable_gemm_kernels();
const char* gemm_kernel_name(GemmKernel kernel);
// False when `name` names no kernel.
bool gemm_kernel_named(const char* name, GemmKernel* kernel);

void sgemm(GemmKernel kernel, const GemmShape& shape, const float* a, const float* b, float* c);

}  // namespace whetstone
