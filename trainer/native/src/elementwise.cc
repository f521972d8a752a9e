// Elementwise kernels in two builds chosen at run time: AVX2/FMA and portable x86-64.
//
// Pure maps (add, RoPE, AdamW...) are written once as always-inline bodies; the AVX2 entry point
// inlines the same body under target("avx2,fma"), so the compiler vectorises it 8 wide there and
// 4 wide (SSE2) in the portable build. Reductions and exp cannot be left to the compiler without
// -ffast-math, so their AVX2 versions use intrinsics: several accumulators per reduction, and a
// Cephes-style exp good to about 2 ulp. Vector loops leave their last n % 8 elements to the
// portable code.
#include "elementwise.h"

#include "thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#define WHETSTONE_AVX2 __attribute__((target("avx2,fma")))
#define WHETSTONE_INLINE inline __attribute__((always_inline))

namespace whetstone {
namespace {

// ---- portable bodies, shared by both builds ----

WHETSTONE_INLINE void add_body(float* out, const float* a, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

WHETSTONE_INLINE void multiply_body(float* out, const float* a, const float* b, std::size_t n, bool accumulate) {
  if (accumulate) {
    for (std::size_t i = 0; i < n; ++i) out[i] += a[i] * b[i];
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
  }
}

WHETSTONE_INLINE void axpy_body(float* y, const float* x, float alpha, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

WHETSTONE_INLINE void scale_body(float* x, float factor, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= factor;
}

WHETSTONE_INLINE void add_row_vector_body(float* out, const float* vector, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = out + r * cols;
    for (std::size_t c = 0; c < cols; ++c) row[c] += vector[c];
  }
}

// column sums in double, as the reference sums them; totals (C) is scratch
WHETSTONE_INLINE void sum_rows_body(float* sums, const float* x, std::size_t rows, std::size_t cols,
                                    double* totals) {
  for (std::size_t c = 0; c < cols; ++c) totals[c] = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    for (std::size_t c = 0; c < cols; ++c) totals[c] += row[c];
  }
  for (std::size_t c = 0; c < cols; ++c) sums[c] = static_cast<float>(sums[c] + totals[c]);
}

// Wellons' lowbias32, as dropoutDraw in trainer/src/engine/backend.ts
WHETSTONE_INLINE std::uint32_t mix32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

WHETSTONE_INLINE void dropout_mask_body(float* mask, std::size_t n, double probability, std::uint32_t seed) {
  const double threshold = probability * 4294967296.0;
  const float keep = static_cast<float>(1.0 / (1.0 - probability));
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t draw = mix32(mix32(static_cast<std::uint32_t>(i)) + seed);
    mask[i] = static_cast<double>(draw) < threshold ? 0.0f : keep;
  }
}

WHETSTONE_INLINE void embedding_backward_body(float* dtable, const float* dout, const std::int32_t* tokens,
                                              std::size_t count, std::size_t channels) {
  for (std::size_t n = 0; n < count; ++n) {
    float* row = dtable + static_cast<std::size_t>(tokens[n]) * channels;
    const float* from = dout + n * channels;
    for (std::size_t c = 0; c < channels; ++c) row[c] += from[c];
  }
}

// out (C) = x * s * weight
WHETSTONE_INLINE void rms_scale_row(float* out, const float* x, const float* weight, float s, std::size_t cols) {
  for (std::size_t c = 0; c < cols; ++c) out[c] = x[c] * s * weight[c];
}

// dx (C) += s * (dout * weight - x * s * mean); dweight (C) += dout * x * s
WHETSTONE_INLINE void rms_backward_row(float* dx, float* dweight, const float* dout, const float* x,
                                       const float* weight, float s, float mean, std::size_t cols) {
  for (std::size_t c = 0; c < cols; ++c) {
    const float xhat = x[c] * s;
    dx[c] += s * (dout[c] * weight[c] - xhat * mean);
  }
  if (dweight) {
    for (std::size_t c = 0; c < cols; ++c) dweight[c] += dout[c] * (x[c] * s);
  }
}

// sign +1 rotates forward, -1 applies the transposed rotation
WHETSTONE_INLINE void rope_body(float* x, const std::int32_t* positions, const float* cos, const float* sin,
                                std::size_t count, std::size_t heads, std::size_t head_dim, float sign) {
  const std::size_t half = head_dim / 2;
  for (std::size_t n = 0; n < count; ++n) {
    const float* c = cos + static_cast<std::size_t>(positions[n]) * half;
    const float* s = sin + static_cast<std::size_t>(positions[n]) * half;
    for (std::size_t h = 0; h < heads; ++h) {
      float* first = x + (n * heads + h) * head_dim;
      float* second = first + half;
      for (std::size_t i = 0; i < half; ++i) {
        const float a = first[i];
        const float b = second[i];
        const float sine = sign * s[i];
        first[i] = a * c[i] - b * sine;
        second[i] = b * c[i] + a * sine;
      }
    }
  }
}

WHETSTONE_INLINE void adamw_body(float* param, const float* grad, float* m, float* v, std::size_t n,
                                 const AdamWConstants& k) {
  for (std::size_t i = 0; i < n; ++i) {
    const float g = grad[i];
    const float mi = k.beta1 * m[i] + k.one_minus_beta1 * g;
    const float vi = k.beta2 * v[i] + k.one_minus_beta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    const float denominator = std::sqrt(vi) * k.inverse_correction + k.epsilon;
    param[i] = param[i] * k.decay - k.step_size * mi / denominator;
  }
}

// ---- portable code with a scalar exp and double accumulators where the reference has them ----

void swiglu_forward_scalar(float* out, const float* gate, const float* up, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void swiglu_backward_scalar(float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                            std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float sigmoid = 1.0f / (1.0f + std::exp(-g));
    dgate[i] += dout[i] * up[i] * sigmoid * (1.0f + g * (1.0f - sigmoid));
    dup[i] += dout[i] * (g * sigmoid);
  }
}

float max_scalar(const float* x, std::size_t n) {
  float max = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  return max;
}

// sum of exp(x * multiplier - shift)
double sum_exp_scalar(const float* x, std::size_t n, float multiplier, float shift) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(x[i] * multiplier - shift);
  return sum;
}

double dot_scalar(const float* a, const float* b, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

// sum of a * b * c
double dot3_scalar(const float* a, const float* b, const float* c, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i] * c[i];
  return sum;
}

// the first index of the largest value, skipping NaNs after the first element, as the reference does
std::int32_t argmax_scalar(const float* x, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < n; ++c) {
    if (x[c] > x[best]) best = c;
  }
  return static_cast<std::int32_t>(best);
}

// ---- AVX2/FMA ----

WHETSTONE_AVX2 inline float horizontal_sum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

WHETSTONE_AVX2 inline double horizontal_sum(__m256d v) {
  __m128d sum = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  sum = _mm_add_sd(sum, _mm_unpackhi_pd(sum, sum));
  return _mm_cvtsd_f64(sum);
}

WHETSTONE_AVX2 inline float horizontal_max(__m256 v) {
  __m128 max = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  max = _mm_max_ps(max, _mm_movehl_ps(max, max));
  max = _mm_max_ss(max, _mm_movehdup_ps(max));
  return _mm_cvtss_f32(max);
}

// exp(x) to about 2 ulp: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-6 polynomial, and
// 2^n built in the exponent bits. Inputs are clamped to [-87.3, 88], so the result stays a normal
// finite float (exp(-100) gives 1.2e-38, not 0); NaN stays NaN.
WHETSTONE_AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.0f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-87.3f), x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
  const __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
}

WHETSTONE_AVX2 double sum_of_squares_avx2(const float* x, std::size_t n) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), s2 = _mm256_setzero_pd(), s3 = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i);
    const __m256 b = _mm256_loadu_ps(x + i + 8);
    const __m256d a0 = _mm256_cvtps_pd(_mm256_castps256_ps128(a));
    const __m256d a1 = _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1));
    const __m256d b0 = _mm256_cvtps_pd(_mm256_castps256_ps128(b));
    const __m256d b1 = _mm256_cvtps_pd(_mm256_extractf128_ps(b, 1));
    s0 = _mm256_fmadd_pd(a0, a0, s0);
    s1 = _mm256_fmadd_pd(a1, a1, s1);
    s2 = _mm256_fmadd_pd(b0, b0, s2);
    s3 = _mm256_fmadd_pd(b1, b1, s3);
  }
  double sum = horizontal_sum(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

WHETSTONE_AVX2 float dot_avx2(const float* a, const float* b, std::size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

WHETSTONE_AVX2 float dot3_avx2(const float* a, const float* b, const float* c, std::size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 ab0 = _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 ab1 = _mm256_mul_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    s0 = _mm256_fmadd_ps(ab0, _mm256_loadu_ps(c + i), s0);
    s1 = _mm256_fmadd_ps(ab1, _mm256_loadu_ps(c + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 ab = _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s0 = _mm256_fmadd_ps(ab, _mm256_loadu_ps(c + i), s0);
  }
  float sum = horizontal_sum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) sum += a[i] * b[i] * c[i];
  return sum;
}

// NaNs are skipped: _mm256_max_ps returns its second operand when either is NaN.
WHETSTONE_AVX2 float max_avx2(const float* x, std::size_t n) {
  __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
  }
  for (; i + 8 <= n; i += 8) m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
  float max = horizontal_max(_mm256_max_ps(m0, m1));
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  return max;
}

WHETSTONE_AVX2 float sum_avx2(const float* x, std::size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_add_ps(_mm256_loadu_ps(x + i), s0);
    s1 = _mm256_add_ps(_mm256_loadu_ps(x + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(_mm256_loadu_ps(x + i), s0);
  float sum = horizontal_sum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) sum += x[i];
  return sum;
}

// sum of exp(x * multiplier - shift)
WHETSTONE_AVX2 float sum_exp_avx2(const float* x, std::size_t n, float multiplier, float shift) {
  const __m256 scale = _mm256_set1_ps(multiplier);
  const __m256 offset = _mm256_set1_ps(shift);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_add_ps(exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + i), scale, offset)), s0);
    s1 = _mm256_add_ps(exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + i + 8), scale, offset)), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + i), scale, offset)), s0);
  const double tail = sum_exp_scalar(x + i, n - i, multiplier, shift);
  return horizontal_sum(_mm256_add_ps(s0, s1)) + static_cast<float>(tail);
}

WHETSTONE_AVX2 void exp_in_place_avx2(float* x, std::size_t n, float multiplier, float shift) {
  const __m256 scale = _mm256_set1_ps(multiplier);
  const __m256 offset = _mm256_set1_ps(shift);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(x + i, exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + i), scale, offset)));
  }
  for (; i < n; ++i) x[i] = std::exp(x[i] * multiplier - shift);
}

WHETSTONE_AVX2 void swiglu_forward_avx2(float* out, const float* gate, const float* up, std::size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 negative_zero = _mm256_set1_ps(-0.0f);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 denominator = _mm256_add_ps(one, exp8(_mm256_xor_ps(g, negative_zero)));
    _mm256_storeu_ps(out + i, _mm256_div_ps(_mm256_mul_ps(g, _mm256_loadu_ps(up + i)), denominator));
  }
  swiglu_forward_scalar(out + i, gate + i, up + i, n - i);
}

WHETSTONE_AVX2 void swiglu_backward_avx2(float* dgate, float* dup, const float* dout, const float* gate,
                                         const float* up, std::size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 negative_zero = _mm256_set1_ps(-0.0f);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 d = _mm256_loadu_ps(dout + i);
    const __m256 sigmoid = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_xor_ps(g, negative_zero))));
    // d silu(g) / dg = sigmoid * (1 + g * (1 - sigmoid))
    const __m256 slope = _mm256_mul_ps(sigmoid, _mm256_fmadd_ps(g, _mm256_sub_ps(one, sigmoid), one));
    const __m256 dg = _mm256_mul_ps(_mm256_mul_ps(d, _mm256_loadu_ps(up + i)), slope);
    _mm256_storeu_ps(dgate + i, _mm256_add_ps(_mm256_loadu_ps(dgate + i), dg));
    _mm256_storeu_ps(dup + i, _mm256_fmadd_ps(d, _mm256_mul_ps(g, sigmoid), _mm256_loadu_ps(dup + i)));
  }
  swiglu_backward_scalar(dgate + i, dup + i, dout + i, gate + i, up + i, n - i);
}

// dlogits (V) = (exp(logits - lse) - onehot(target)) * factor; dlogits may be logits
WHETSTONE_AVX2 void softmax_gradient_row_avx2(float* dlogits, const float* logits, std::size_t vocab,
                                              std::size_t target, float lse, float factor) {
  const float target_logit = logits[target];
  const __m256 shift = _mm256_set1_ps(lse);
  const __m256 f = _mm256_set1_ps(factor);
  std::size_t i = 0;
  for (; i + 8 <= vocab; i += 8) {
    _mm256_storeu_ps(dlogits + i, _mm256_mul_ps(exp8(_mm256_sub_ps(_mm256_loadu_ps(logits + i), shift)), f));
  }
  for (; i < vocab; ++i) dlogits[i] = std::exp(logits[i] - lse) * factor;
  dlogits[target] = (std::exp(target_logit - lse) - 1.0f) * factor;
}

WHETSTONE_AVX2 std::int32_t argmax_avx2(const float* x, std::size_t n) {
  if (std::isnan(x[0])) return 0;
  const float max = max_avx2(x, n);
  const __m256 target = _mm256_set1_ps(max);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int hits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), target, _CMP_EQ_OQ));
    if (hits != 0) return static_cast<std::int32_t>(i + static_cast<std::size_t>(__builtin_ctz(hits)));
  }
  for (; i < n; ++i) {
    if (x[i] == max) return static_cast<std::int32_t>(i);
  }
  return 0;
}

// The first i with indices[i] outside [0, limit), or -1.
std::ptrdiff_t first_out_of_range(const std::int32_t* indices, std::size_t count, std::size_t limit) {
  for (std::size_t i = 0; i < count; ++i) {
    if (indices[i] < 0 || static_cast<std::size_t>(indices[i]) >= limit) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

// ---- the AVX2 builds of the portable bodies ----

WHETSTONE_AVX2 void add_avx2(float* out, const float* a, const float* b, std::size_t n) { add_body(out, a, b, n); }
WHETSTONE_AVX2 void multiply_avx2(float* out, const float* a, const float* b, std::size_t n, bool accumulate) {
  multiply_body(out, a, b, n, accumulate);
}
WHETSTONE_AVX2 void axpy_avx2(float* y, const float* x, float alpha, std::size_t n) { axpy_body(y, x, alpha, n); }
WHETSTONE_AVX2 void scale_avx2(float* x, float factor, std::size_t n) { scale_body(x, factor, n); }
WHETSTONE_AVX2 void add_row_vector_avx2(float* out, const float* vector, std::size_t rows, std::size_t cols) {
  add_row_vector_body(out, vector, rows, cols);
}
WHETSTONE_AVX2 void sum_rows_avx2(float* sums, const float* x, std::size_t rows, std::size_t cols,
                                  double* totals) {
  sum_rows_body(sums, x, rows, cols, totals);
}
WHETSTONE_AVX2 void dropout_mask_avx2(float* mask, std::size_t n, double probability, std::uint32_t seed) {
  dropout_mask_body(mask, n, probability, seed);
}
WHETSTONE_AVX2 void embedding_backward_avx2(float* dtable, const float* dout, const std::int32_t* tokens,
                                            std::size_t count, std::size_t channels) {
  embedding_backward_body(dtable, dout, tokens, count, channels);
}
WHETSTONE_AVX2 void rms_scale_row_avx2(float* out, const float* x, const float* weight, float s,
                                       std::size_t cols) {
  rms_scale_row(out, x, weight, s, cols);
}
WHETSTONE_AVX2 void rms_backward_row_avx2(float* dx, float* dweight, const float* dout, const float* x,
                                          const float* weight, float s, float mean, std::size_t cols) {
  rms_backward_row(dx, dweight, dout, x, weight, s, mean, cols);
}
WHETSTONE_AVX2 void rope_avx2(float* x, const std::int32_t* positions, const float* cos, const float* sin,
                              std::size_t count, std::size_t heads, std::size_t head_dim, float sign) {
  rope_body(x, positions, cos, sin, count, heads, head_dim, sign);
}
WHETSTONE_AVX2 void adamw_avx2(float* param, const float* grad, float* m, float* v, std::size_t n,
                               const AdamWConstants& k) {
  adamw_body(param, grad, m, v, n, k);
}

}  // namespace

Isa best_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Scalar;
}

const char* isa_name(Isa isa) { return isa == Isa::Avx2 ? "avx2" : "scalar"; }

namespace {

// Threads split a kernel only past this many floats each: below it, waking the pool costs more
// than the work.
constexpr std::size_t kElementGrain = std::size_t{1} << 16;
// Reductions sum fixed chunks of this many floats, whatever the thread count.
constexpr std::size_t kReductionChunk = std::size_t{1} << 16;

std::size_t rows_per_grain(std::size_t cols) { return std::max<std::size_t>(1, kElementGrain / std::max<std::size_t>(cols, 1)); }

}  // namespace

void add(Isa isa, float* out, const float* a, const float* b, std::size_t n) {
  parallel_for(n, kElementGrain, [&](std::size_t first, std::size_t last) {
    if (isa == Isa::Avx2) return add_avx2(out + first, a + first, b + first, last - first);
    add_body(out + first, a + first, b + first, last - first);
  });
}

void multiply(Isa isa, float* out, const float* a, const float* b, std::size_t n, bool accumulate) {
  parallel_for(n, kElementGrain, [&](std::size_t first, std::size_t last) {
    if (isa == Isa::Avx2) return multiply_avx2(out + first, a + first, b + first, last - first, accumulate);
    multiply_body(out + first, a + first, b + first, last - first, accumulate);
  });
}

void axpy(Isa isa, float* y, const float* x, float alpha, std::size_t n) {
  parallel_for(n, kElementGrain, [&](std::size_t first, std::size_t last) {
    if (isa == Isa::Avx2) return axpy_avx2(y + first, x + first, alpha, last - first);
    axpy_body(y + first, x + first, alpha, last - first);
  });
}

void scale(Isa isa, float* x, float factor, std::size_t n) {
  parallel_for(n, kElementGrain, [&](std::size_t first, std::size_t last) {
    if (isa == Isa::Avx2) return scale_avx2(x + first, factor, last - first);
    scale_body(x + first, factor, last - first);
  });
}

// Partial sums over fixed chunks, added in order: the result does not depend on the thread count.
double sum_of_squares(Isa isa, const float* x, std::size_t n) {
  const std::size_t chunks = (n + kReductionChunk - 1) / kReductionChunk;
  std::vector<double> partials(chunks, 0.0);
  parallel_ranges(chunks, [&](std::size_t first, std::size_t last) {
    for (std::size_t chunk = first; chunk < last; ++chunk) {
      const float* part = x + chunk * kReductionChunk;
      const std::size_t count = std::min(kReductionChunk, n - chunk * kReductionChunk);
      partials[chunk] = isa == Isa::Avx2 ? sum_of_squares_avx2(part, count) : dot_scalar(part, part, count);
    }
  });
  double total = 0.0;
  for (const double partial : partials) total += partial;
  return total;
}

void add_row_vector(Isa isa, float* out, const float* vector, std::size_t rows, std::size_t cols) {
  parallel_for(rows, rows_per_grain(cols), [&](std::size_t first, std::size_t last) {
    if (isa == Isa::Avx2) return add_row_vector_avx2(out + first * cols, vector, last - first, cols);
    add_row_vector_body(out + first * cols, vector, last - first, cols);
  });
}

void sum_rows(Isa isa, float* sums, const float* x, std::size_t rows, std::size_t cols) {
  std::vector<double> totals(cols);
  if (isa == Isa::Avx2) return sum_rows_avx2(sums, x, rows, cols, totals.data());
  sum_rows_body(sums, x, rows, cols, totals.data());
}

void dropout_mask(Isa isa, float* mask, std::size_t n, double probability, std::uint32_t seed) {
  if (isa == Isa::Avx2) return dropout_mask_avx2(mask, n, probability, seed);
  dropout_mask_body(mask, n, probability, seed);
}

std::ptrdiff_t embedding_forward(Isa, float* out, const float* table, std::size_t table_rows,
                                 const std::int32_t* tokens, std::size_t count, std::size_t channels) {
  const std::ptrdiff_t bad = first_out_of_range(tokens, count, table_rows);
  if (bad >= 0) return bad;
  for (std::size_t n = 0; n < count; ++n) {
    const float* row = table + static_cast<std::size_t>(tokens[n]) * channels;
    std::memcpy(out + n * channels, row, channels * sizeof(float));
  }
  return -1;
}

std::ptrdiff_t embedding_backward(Isa isa, float* dtable, std::size_t table_rows, const float* dout,
                                  const std::int32_t* tokens, std::size_t count, std::size_t channels) {
  const std::ptrdiff_t bad = first_out_of_range(tokens, count, table_rows);
  if (bad >= 0) return bad;
  if (isa == Isa::Avx2) {
    embedding_backward_avx2(dtable, dout, tokens, count, channels);
  } else {
    embedding_backward_body(dtable, dout, tokens, count, channels);
  }
  return -1;
}

void rms_norm_forward(Isa isa, float* out, float* rstd, const float* x, const float* weight, std::size_t rows,
                      std::size_t cols, float epsilon) {
  parallel_for(rows, rows_per_grain(cols), [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const float* row = x + r * cols;
      const double squares = isa == Isa::Avx2 ? dot_avx2(row, row, cols) : dot_scalar(row, row, cols);
      const float s = static_cast<float>(1.0 / std::sqrt(squares / static_cast<double>(cols) + epsilon));
      rstd[r] = s;
      if (isa == Isa::Avx2) {
        rms_scale_row_avx2(out + r * cols, row, weight, s, cols);
      } else {
        rms_scale_row(out + r * cols, row, weight, s, cols);
      }
    }
  });
}

namespace {

// rms_norm_backward on rows [first, last), adding into dweight when it is not null.
void rms_norm_backward_rows(Isa isa, float* dx, float* dweight, const float* dout, const float* x,
                            const float* weight, const float* rstd, std::size_t first, std::size_t last,
                            std::size_t cols) {
  for (std::size_t r = first; r < last; ++r) {
    const std::size_t base = r * cols;
    const float s = rstd[r];
    // mean (dout * weight * xhat) over the row, xhat = x * s
    const double dot = isa == Isa::Avx2 ? dot3_avx2(dout + base, weight, x + base, cols)
                                        : dot3_scalar(dout + base, weight, x + base, cols);
    const float mean = static_cast<float>(dot * s / static_cast<double>(cols));
    if (isa == Isa::Avx2) {
      rms_backward_row_avx2(dx + base, dweight, dout + base, x + base, weight, s, mean, cols);
    } else {
      rms_backward_row(dx + base, dweight, dout + base, x + base, weight, s, mean, cols);
    }
  }
}

}  // namespace

void rms_norm_backward(Isa isa, float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                       const float* rstd, std::size_t rows, std::size_t cols) {
  if (dweight == nullptr) {
    parallel_for(rows, rows_per_grain(cols), [&](std::size_t first, std::size_t last) {
      rms_norm_backward_rows(isa, dx, nullptr, dout, x, weight, rstd, first, last, cols);
    });
    return;
  }
  // Each fixed chunk of rows sums its own dweight, and the chunks add in order, so the result does
  // not depend on the thread count.
  const std::size_t chunk_rows = std::max<std::size_t>(1, kReductionChunk / std::max<std::size_t>(cols, 1));
  const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  std::vector<float> partials(chunks * cols, 0.0f);
  parallel_ranges(chunks, [&](std::size_t first, std::size_t last) {
    for (std::size_t chunk = first; chunk < last; ++chunk) {
      rms_norm_backward_rows(isa, dx, partials.data() + chunk * cols, dout, x, weight, rstd, chunk * chunk_rows,
                             std::min(rows, (chunk + 1) * chunk_rows), cols);
    }
  });
  for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
    const float* partial = partials.data() + chunk * cols;
    for (std::size_t c = 0; c < cols; ++c) dweight[c] += partial[c];
  }
}

std::ptrdiff_t rope(Isa isa, float* x, const std::int32_t* positions, const float* cos, const float* sin,
                    std::size_t table_rows, std::size_t count, std::size_t heads, std::size_t head_dim,
                    bool inverse) {
  const std::ptrdiff_t bad = first_out_of_range(positions, count, table_rows);
  if (bad >= 0) return bad;
  const float sign = inverse ? -1.0f : 1.0f;
  const std::size_t width = heads * head_dim;
  parallel_for(count, rows_per_grain(width), [&](std::size_t first, std::size_t last) {
    float* rows = x + first * width;
    const std::size_t tokens = last - first;
    if (isa == Isa::Avx2) return rope_avx2(rows, positions + first, cos, sin, tokens, heads, head_dim, sign);
    rope_body(rows, positions + first, cos, sin, tokens, heads, head_dim, sign);
  });
  return -1;
}

void swiglu_forward(Isa isa, float* out, const float* gate, const float* up, std::size_t n) {
  parallel_for(n, kElementGrain, [&](std::size_t first, std::size_t last) {
    if (isa == Isa::Avx2) return swiglu_forward_avx2(out + first, gate + first, up + first, last - first);
    swiglu_forward_scalar(out + first, gate + first, up + first, last - first);
  });
}

void swiglu_backward(Isa isa, float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                     std::size_t n) {
  parallel_for(n, kElementGrain, [&](std::size_t first, std::size_t last) {
    const std::size_t count = last - first;
    if (isa == Isa::Avx2)
      return swiglu_backward_avx2(dgate + first, dup + first, dout + first, gate + first, up + first, count);
    swiglu_backward_scalar(dgate + first, dup + first, dout + first, gate + first, up + first, count);
  });
}

namespace {

// logsumexp of one row, max-subtracted
float row_log_sum_exp(Isa isa, const float* row, std::size_t vocab) {
  if (isa == Isa::Avx2) {
    const float max = max_avx2(row, vocab);
    return max + std::log(sum_exp_avx2(row, vocab, 1.0f, max));
  }
  const float max = max_scalar(row, vocab);
  return static_cast<float>(max + std::log(sum_exp_scalar(row, vocab, 1.0f, max)));
}

}  // namespace

std::ptrdiff_t cross_entropy_forward(Isa isa, float* losses, const float* logits, const std::int32_t* targets,
                                     std::size_t rows, std::size_t vocab) {
  const std::ptrdiff_t bad = first_out_of_range(targets, rows, vocab);
  if (bad >= 0) return bad;
  parallel_for(rows, rows_per_grain(vocab), [&](std::size_t first, std::size_t last) {
    for (std::size_t n = first; n < last; ++n) {
      const float* row = logits + n * vocab;
      losses[n] = row_log_sum_exp(isa, row, vocab) - row[targets[n]];
    }
  });
  return -1;
}

std::ptrdiff_t cross_entropy_backward(Isa isa, float* dlogits, const float* logits, const std::int32_t* targets,
                                      const float* weights, float scale, std::size_t rows, std::size_t vocab) {
  const std::ptrdiff_t bad = first_out_of_range(targets, rows, vocab);
  if (bad >= 0) return bad;
  parallel_for(rows, rows_per_grain(vocab), [&](std::size_t first, std::size_t last) {
    for (std::size_t n = first; n < last; ++n) {
      const float* row = logits + n * vocab;
      float* out = dlogits + n * vocab;
      const float lse = row_log_sum_exp(isa, row, vocab);
      const float factor = weights[n] * scale;
      const std::size_t target = static_cast<std::size_t>(targets[n]);
      if (isa == Isa::Avx2) {
        softmax_gradient_row_avx2(out, row, vocab, target, lse, factor);
      } else {
        const float target_logit = row[target];
        for (std::size_t i = 0; i < vocab; ++i) out[i] = std::exp(row[i] - lse) * factor;
        out[target] = (std::exp(target_logit - lse) - 1.0f) * factor;
      }
    }
  });
  return -1;
}

void argmax(Isa isa, std::int32_t* out, const float* x, std::size_t rows, std::size_t cols) {
  if (cols == 0) {
    std::fill(out, out + rows, 0);
    return;
  }
  parallel_for(rows, rows_per_grain(cols), [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      out[r] = isa == Isa::Avx2 ? argmax_avx2(x + r * cols, cols) : argmax_scalar(x + r * cols, cols);
    }
  });
}

void adamw(Isa isa, float* param, const float* grad, float* m, float* v, std::size_t n, const AdamWConstants& c) {
  parallel_for(n, kElementGrain, [&](std::size_t first, std::size_t last) {
    const std::size_t count = last - first;
    if (isa == Isa::Avx2) return adamw_avx2(param + first, grad + first, m + first, v + first, count, c);
    adamw_body(param + first, grad + first, m + first, v + first, count, c);
  });
}

namespace simd {

void exp_in_place(Isa isa, float* values, std::size_t n, float multiplier, float shift) {
  if (isa == Isa::Avx2) return exp_in_place_avx2(values, n, multiplier, shift);
  for (std::size_t i = 0; i < n; ++i) values[i] = std::exp(values[i] * multiplier - shift);
}

float max_of(Isa isa, const float* values, std::size_t n) {
  return isa == Isa::Avx2 ? max_avx2(values, n) : max_scalar(values, n);
}

float sum_of(Isa isa, const float* values, std::size_t n) {
  if (isa == Isa::Avx2) return sum_avx2(values, n);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += values[i];
  return static_cast<float>(sum);
}

}  // namespace simd

}  // namespace whetstone
