// One entry point per compiled GEMM kernel; sgemm.cc chooses among them at run time.
#pragma once

#include "../sgemm.h"

namespace whetstone::gemm {

// Baseline instruction set, 6 x 16 tile: runs on any CPU.
void product_portable(const GemmShape& shape, const float* a, const float* b, float* c);
// Baseline instruction set on the AVX-512 kernel's 14 x 32 tile: the same packing, edges and
// blocking as `product_avx512`, checked on CPUs that cannot run it.
void product_portable_14x32(const GemmShape& shape, const float* a, const float* b, float* c);
// AVX2 + FMA, 6 x 16 tile: 12 accumulators of 8 lanes, 2 for B, 1 broadcast of the 16 registers.
void product_avx2(const GemmShape& shape, const float* a, const float* b, float* c);
// AVX-512F, 14 x 32 tile: 28 accumulators of 16 lanes, 2 for B, 1 broadcast of the 32 registers.
void product_avx512(const GemmShape& shape, const float* a, const float* b, float* c);

}  // namespace whetstone::gemm
