// The AVX2 + FMA GEMM kernel. Only x86-64 builds compile it; sgemm.cc runs it on CPUs that have both.
#include "kernels.h"

#if defined(__x86_64__)
// Everything driver.h includes comes first, compiled for the baseline (see driver.h).
#include <algorithm>
#include <cstddef>

#include "../sgemm.h"
#include "../thread_pool.h"
#include "pack_buffer.h"

#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "driver.h"

namespace whetstone::gemm {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr std::size_t W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};

}  // namespace

void product_avx2(const GemmShape& shape, const float* a, const float* b, float* c) {
  Gemm<Avx2, 6, 2>::product(shape, a, b, c);
}

}  // namespace whetstone::gemm
#else
#include <cstdlib>

namespace whetstone::gemm {
void product_avx2(const GemmShape&, const float*, const float*, float*) { std::abort(); }
}  // namespace whetstone::gemm
#endif
