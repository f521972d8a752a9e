// The GEMM kernels for any CPU: plain loops over W-float groups, which the compiler vectorizes
// with whatever the baseline instruction set offers.
#include <cstddef>

#include "driver.h"
#include "kernels.h"

namespace whetstone::gemm {
namespace {

template <std::size_t Width>
struct Portable {
  static constexpr std::size_t W = Width;
  struct V {
    float x[W];
  };
  static V zero() { return V{}; }
  static V load(const float* p) {
    V v;
    for (std::size_t i = 0; i < W; ++i) v.x[i] = p[i];
    return v;
  }
  static V broadcast(const float* p) {
    V v;
    for (std::size_t i = 0; i < W; ++i) v.x[i] = *p;
    return v;
  }
  static V fma(const V& a, const V& b, const V& c) {
    V v;
    for (std::size_t i = 0; i < W; ++i) v.x[i] = a.x[i] * b.x[i] + c.x[i];
    return v;
  }
  static V mul(const V& a, const V& b) {
    V v;
    for (std::size_t i = 0; i < W; ++i) v.x[i] = a.x[i] * b.x[i];
    return v;
  }
  static void store(float* p, const V& v) {
    for (std::size_t i = 0; i < W; ++i) p[i] = v.x[i];
  }
};

}  // namespace

void product_portable(const GemmShape& shape, const float* a, const float* b, float* c) {
  Gemm<Portable<8>, 6, 2>::product(shape, a, b, c);
}

void product_portable_14x32(const GemmShape& shape, const float* a, const float* b, float* c) {
  Gemm<Portable<16>, 14, 2>::product(shape, a, b, c);
}

}  // namespace whetstone::gemm
