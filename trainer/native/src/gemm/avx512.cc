// The AVX-512F GEMM kernel. Only x86-64 builds compile it; sgemm.cc runs it on CPUs that have it.
// Its tile, packing and edges are those of `product_portable_14x32`, which every CPU can check.
#include "kernels.h"

#if defined(__x86_64__)
// Everything driver.h includes comes first, compiled for the baseline (see driver.h).
#include <algorithm>
#include <cstddef>

#include "../sgemm.h"
#include "../thread_pool.h"
#include "pack_buffer.h"

#pragma GCC target("avx512f")
#include <immintrin.h>

#include "driver.h"

namespace whetstone::gemm {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr std::size_t W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
};

}  // namespace

void product_avx512(const GemmShape& shape, const float* a, const float* b, float* c) {
  Gemm<Avx512, 14, 2>::product(shape, a, b, c);
}

}  // namespace whetstone::gemm
#else
#include <cstdlib>

namespace whetstone::gemm {
void product_avx512(const GemmShape&, const float*, const float*, float*) { std::abort(); }
}  // namespace whetstone::gemm
#endif
