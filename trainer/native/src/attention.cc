// Attention in blocks of up to four queries of one head, in the manner of FlashAttention but with
// the reference's exact two-pass softmax over each query's whole window:
//   scores      S (q, n)  = Q (q, HD) K^T        from K packed transposed, (HD, n)
//   softmax     P (q, n)  = exp(S * scale - lse)  on each query's window, 0 outside it
//   products    O (q, HD) += P V,  dQ += dS K     ("rows" kernel: n rows of HD)
//   scatters    dV (n, HD) += P^T dO, dK += dS^T Q
// A block reads each key once for all its queries, so K and V stream from cache a quarter as
// often as query by query. A block spans the union of its queries' windows, and is formed so that
// each query sees at most 3 keys of it outside its own window (see block_size); those get weight 0,
// and the softmax runs over the query's window alone. Causal attention thus skips the masked half.
// Keys and values of one (batch row, key/value head) are packed contiguously first: in
// (B, S, NKV, HD) consecutive keys are NKV * HD floats apart and share few cache sets.
#include "attention.h"

#include "thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#define WHETSTONE_AVX2 __attribute__((target("avx2,fma")))

namespace whetstone {
namespace {

constexpr std::size_t QUERY_BLOCK = 4;
// Score rows are computed 8 or 16 keys at a time; packed K^T has this many zero columns past its end.
constexpr std::size_t KEY_PAD = 16;

// ---- portable micro-kernels ----

struct Portable {
  static constexpr Isa isa = Isa::Scalar;

  // s (mq, cols) with row stride ld_s = q[i] (HD) . column j of kt (HD, ld_kt)
  static void scores(float* s, std::size_t ld_s, const float* const* q, std::size_t mq, const float* kt,
                     std::size_t ld_kt, std::size_t cols, std::size_t hd) {
    for (std::size_t i = 0; i < mq; ++i) {
      float* row = s + i * ld_s;
      std::fill(row, row + cols, 0.0f);
      for (std::size_t d = 0; d < hd; ++d) {
        const float qd = q[i][d];
        const float* kd = kt + d * ld_kt;
        for (std::size_t j = 0; j < cols; ++j) row[j] += qd * kd[j];
      }
    }
  }

  // out[i] (HD) += sum over j < n of p[i][j] * rows[j] (HD)
  static void rows(float* const* out, std::size_t mq, const float* p, std::size_t ld_p, const float* rows,
                   std::size_t n, std::size_t hd) {
    for (std::size_t i = 0; i < mq; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        const float w = p[i * ld_p + j];
        const float* row = rows + j * hd;
        for (std::size_t d = 0; d < hd; ++d) out[i][d] += w * row[d];
      }
    }
  }

  // rows[j] (HD) += sum over i < mq of p[i][j] * x[i] (HD), for j < n
  static void scatter(float* rows, const float* p, std::size_t ld_p, const float* const* x, std::size_t mq,
                      std::size_t n, std::size_t hd) {
    for (std::size_t j = 0; j < n; ++j) {
      float* row = rows + j * hd;
      for (std::size_t i = 0; i < mq; ++i) {
        const float w = p[i * ld_p + j];
        for (std::size_t d = 0; d < hd; ++d) row[d] += w * x[i][d];
      }
    }
  }
};

// ---- AVX2/FMA micro-kernels, unrolled over the MQ queries of a block ----

template <std::size_t MQ>
WHETSTONE_AVX2 void scores_avx2(float* s, std::size_t ld_s, const float* const* q, const float* kt,
                                std::size_t ld_kt, std::size_t cols, std::size_t hd) {
  std::size_t j = 0;
  for (; j + 16 <= cols; j += 16) {
    __m256 acc[MQ][2];
    for (std::size_t i = 0; i < MQ; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (std::size_t d = 0; d < hd; ++d) {
      const __m256 k0 = _mm256_loadu_ps(kt + d * ld_kt + j);
      const __m256 k1 = _mm256_loadu_ps(kt + d * ld_kt + j + 8);
      for (std::size_t i = 0; i < MQ; ++i) {
        const __m256 qd = _mm256_broadcast_ss(q[i] + d);
        acc[i][0] = _mm256_fmadd_ps(qd, k0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(qd, k1, acc[i][1]);
      }
    }
    for (std::size_t i = 0; i < MQ; ++i) {
      _mm256_storeu_ps(s + i * ld_s + j, acc[i][0]);
      _mm256_storeu_ps(s + i * ld_s + j + 8, acc[i][1]);
    }
  }
  // cols is a multiple of 8; the zero columns of kt past its keys make any read here safe
  if (j < cols) {
    __m256 acc[MQ];
    for (std::size_t i = 0; i < MQ; ++i) acc[i] = _mm256_setzero_ps();
    for (std::size_t d = 0; d < hd; ++d) {
      const __m256 k0 = _mm256_loadu_ps(kt + d * ld_kt + j);
      for (std::size_t i = 0; i < MQ; ++i) acc[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(q[i] + d), k0, acc[i]);
    }
    for (std::size_t i = 0; i < MQ; ++i) _mm256_storeu_ps(s + i * ld_s + j, acc[i]);
  }
}

template <std::size_t MQ>
WHETSTONE_AVX2 void rows_avx2(float* const* out, const float* p, std::size_t ld_p, const float* rows,
                              std::size_t n, std::size_t hd) {
  std::size_t d = 0;
  for (; d + 16 <= hd; d += 16) {
    __m256 acc[MQ][2];
    for (std::size_t i = 0; i < MQ; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (std::size_t j = 0; j < n; ++j) {
      const __m256 r0 = _mm256_loadu_ps(rows + j * hd + d);
      const __m256 r1 = _mm256_loadu_ps(rows + j * hd + d + 8);
      for (std::size_t i = 0; i < MQ; ++i) {
        const __m256 w = _mm256_broadcast_ss(p + i * ld_p + j);
        acc[i][0] = _mm256_fmadd_ps(w, r0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(w, r1, acc[i][1]);
      }
    }
    for (std::size_t i = 0; i < MQ; ++i) {
      _mm256_storeu_ps(out[i] + d, _mm256_add_ps(_mm256_loadu_ps(out[i] + d), acc[i][0]));
      _mm256_storeu_ps(out[i] + d + 8, _mm256_add_ps(_mm256_loadu_ps(out[i] + d + 8), acc[i][1]));
    }
  }
  for (; d + 8 <= hd; d += 8) {
    __m256 acc[MQ];
    for (std::size_t i = 0; i < MQ; ++i) acc[i] = _mm256_setzero_ps();
    for (std::size_t j = 0; j < n; ++j) {
      const __m256 r0 = _mm256_loadu_ps(rows + j * hd + d);
      for (std::size_t i = 0; i < MQ; ++i) {
        acc[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + i * ld_p + j), r0, acc[i]);
      }
    }
    for (std::size_t i = 0; i < MQ; ++i) {
      _mm256_storeu_ps(out[i] + d, _mm256_add_ps(_mm256_loadu_ps(out[i] + d), acc[i]));
    }
  }
  for (; d < hd; ++d) {
    for (std::size_t i = 0; i < MQ; ++i) {
      float sum = 0.0f;
      for (std::size_t j = 0; j < n; ++j) sum += p[i * ld_p + j] * rows[j * hd + d];
      out[i][d] += sum;
    }
  }
}

// Four keys per pass, so four rows' FMA chains run side by side.
template <std::size_t MQ>
WHETSTONE_AVX2 void scatter_avx2(float* rows, const float* p, std::size_t ld_p, const float* const* x,
                                 std::size_t n, std::size_t hd) {
  std::size_t d = 0;
  for (; d + 8 <= hd; d += 8) {
    __m256 xs[MQ];
    for (std::size_t i = 0; i < MQ; ++i) xs[i] = _mm256_loadu_ps(x[i] + d);
    std::size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      __m256 acc[4];
      for (std::size_t u = 0; u < 4; ++u) acc[u] = _mm256_loadu_ps(rows + (j + u) * hd + d);
      for (std::size_t i = 0; i < MQ; ++i) {
        for (std::size_t u = 0; u < 4; ++u) {
          acc[u] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + i * ld_p + j + u), xs[i], acc[u]);
        }
      }
      for (std::size_t u = 0; u < 4; ++u) _mm256_storeu_ps(rows + (j + u) * hd + d, acc[u]);
    }
    for (; j < n; ++j) {
      __m256 acc = _mm256_loadu_ps(rows + j * hd + d);
      for (std::size_t i = 0; i < MQ; ++i) {
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(p + i * ld_p + j), xs[i], acc);
      }
      _mm256_storeu_ps(rows + j * hd + d, acc);
    }
  }
  for (; d < hd; ++d) {
    for (std::size_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (std::size_t i = 0; i < MQ; ++i) sum += p[i * ld_p + j] * x[i][d];
      rows[j * hd + d] += sum;
    }
  }
}

struct Avx2 {
  static constexpr Isa isa = Isa::Avx2;

  static void scores(float* s, std::size_t ld_s, const float* const* q, std::size_t mq, const float* kt,
                     std::size_t ld_kt, std::size_t cols, std::size_t hd) {
    switch (mq) {
      case 1: return scores_avx2<1>(s, ld_s, q, kt, ld_kt, cols, hd);
      case 2: return scores_avx2<2>(s, ld_s, q, kt, ld_kt, cols, hd);
      case 3: return scores_avx2<3>(s, ld_s, q, kt, ld_kt, cols, hd);
      default: return scores_avx2<4>(s, ld_s, q, kt, ld_kt, cols, hd);
    }
  }

  static void rows(float* const* out, std::size_t mq, const float* p, std::size_t ld_p, const float* rows,
                   std::size_t n, std::size_t hd) {
    switch (mq) {
      case 1: return rows_avx2<1>(out, p, ld_p, rows, n, hd);
      case 2: return rows_avx2<2>(out, p, ld_p, rows, n, hd);
      case 3: return rows_avx2<3>(out, p, ld_p, rows, n, hd);
      default: return rows_avx2<4>(out, p, ld_p, rows, n, hd);
    }
  }

  static void scatter(float* rows, const float* p, std::size_t ld_p, const float* const* x, std::size_t mq,
                      std::size_t n, std::size_t hd) {
    switch (mq) {
      case 1: return scatter_avx2<1>(rows, p, ld_p, x, n, hd);
      case 2: return scatter_avx2<2>(rows, p, ld_p, x, n, hd);
      case 3: return scatter_avx2<3>(rows, p, ld_p, x, n, hd);
      default: return scatter_avx2<4>(rows, p, ld_p, x, n, hd);
    }
  }
};

// ---- windows and packing ----

// The keys a query row sees, clamped to the slots that exist: [first, first + count).
struct KeyRange {
  std::size_t first, count;
};

KeyRange key_range(const std::int32_t* start, const std::int32_t* end, std::size_t row, std::size_t keys) {
  const std::int64_t first = std::max<std::int64_t>(0, start[row]);
  const std::int64_t last = std::min<std::int64_t>(static_cast<std::int64_t>(keys) - 1, end[row]);
  if (first > last) return {0, 0};
  return {static_cast<std::size_t>(first), static_cast<std::size_t>(last - first + 1)};
}

// The union of the non-empty ranges [from, to); empty when all are.
KeyRange union_of(const KeyRange* ranges, std::size_t from, std::size_t to) {
  std::size_t first = SIZE_MAX, last = 0;
  for (std::size_t i = from; i < to; ++i) {
    if (ranges[i].count == 0) continue;
    first = std::min(first, ranges[i].first);
    last = std::max(last, ranges[i].first + ranges[i].count - 1);
  }
  if (first == SIZE_MAX) return {0, 0};
  return {first, last - first + 1};
}

// How many queries from t0 on form the next block: at most QUERY_BLOCK, and only while every query
// of the block has at most QUERY_BLOCK - 1 keys of the union outside its own window (the causal
// future of its block-mates, or a sliding window's step). A packed sequence's first token, whose
// window is much shorter than its predecessor's, or an empty window, starts a new block.
std::size_t block_size(const KeyRange* ranges, std::size_t t0, std::size_t queries) {
  if (ranges[t0].count == 0) return 1;
  std::size_t first = ranges[t0].first, last = first + ranges[t0].count - 1;
  std::size_t shortest = ranges[t0].count;
  std::size_t size = 1;
  for (; size < QUERY_BLOCK && t0 + size < queries; ++size) {
    const KeyRange& next = ranges[t0 + size];
    if (next.count == 0) break;
    const std::size_t new_first = std::min(first, next.first);
    const std::size_t new_last = std::max(last, next.first + next.count - 1);
    const std::size_t new_shortest = std::min(shortest, next.count);
    if (new_last - new_first + 1 - new_shortest > QUERY_BLOCK - 1) break;
    first = new_first;
    last = new_last;
    shortest = new_shortest;
  }
  return size;
}

// The keys and values of one (batch row b, key/value head g) over the keys any query of b sees.
struct Packed {
  KeyRange keys;
  std::size_t ld_t;  // row stride of the transposed copies: keys.count + KEY_PAD
  std::vector<float> k, v;    // (count, HD)
  std::vector<float> kt, vt;  // (HD, ld_t), zero past count

  void pack(const float* k_all, const float* v_all, std::size_t b, std::size_t g, const AttentionShape& s,
            bool transposed_values) {
    const std::size_t hd = s.head_dim, n = keys.count;
    ld_t = n + KEY_PAD;
    k.resize(n * hd);
    v.resize(n * hd);
    kt.assign(hd * ld_t, 0.0f);
    if (transposed_values) vt.assign(hd * ld_t, 0.0f);
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t offset = ((b * s.keys + keys.first + j) * s.kv_heads + g) * hd;
      std::copy(k_all + offset, k_all + offset + hd, k.data() + j * hd);
      std::copy(v_all + offset, v_all + offset + hd, v.data() + j * hd);
      for (std::size_t d = 0; d < hd; ++d) kt[d * ld_t + j] = k_all[offset + d];
      if (transposed_values) {
        for (std::size_t d = 0; d < hd; ++d) vt[d * ld_t + j] = v_all[offset + d];
      }
    }
  }
};

// x (B, S, NKV, HD) += packed (count, HD) at (b, g)
void add_packed(float* x, const float* packed, std::size_t b, std::size_t g, const KeyRange& keys,
                const AttentionShape& s) {
  for (std::size_t j = 0; j < keys.count; ++j) {
    float* row = x + ((b * s.keys + keys.first + j) * s.kv_heads + g) * s.head_dim;
    const float* from = packed + j * s.head_dim;
    for (std::size_t d = 0; d < s.head_dim; ++d) row[d] += from[d];
  }
}

std::size_t round_up_8(std::size_t n) { return (n + 7) & ~static_cast<std::size_t>(7); }

// ---- the kernels ----

// One thread's buffers, kept between calls so a kernel allocates only when shapes grow.
struct Scratch {
  std::vector<float> scores, score_gradients;  // (QUERY_BLOCK, ld_s)
  std::vector<float> key_gradients, value_gradients;  // (count, HD)
  std::vector<KeyRange> ranges;  // (T)
  Packed packed;
};

Scratch& thread_scratch() {
  static thread_local Scratch scratch;
  return scratch;
}

// The query rows of batch row b: their key windows, and the union of them all.
void prepare_row(Scratch& scratch, const std::int32_t* start, const std::int32_t* end, std::size_t b,
                 const AttentionShape& s) {
  scratch.ranges.resize(s.queries);
  for (std::size_t t = 0; t < s.queries; ++t) scratch.ranges[t] = key_range(start, end, b * s.queries + t, s.keys);
  scratch.packed.keys = union_of(scratch.ranges.data(), 0, s.queries);
}

// The work splits over (batch row, key/value head) pairs, which own disjoint slices of every
// output, dk and dv included; each pair then runs over the query heads of its group and their
// queries in blocks.
template <class Ops>
void forward_group(Scratch& scratch, float* out, float* log_sum_exp, const float* q, const float* k, const float* v,
                   const std::int32_t* start, const std::int32_t* end, std::size_t b, std::size_t g,
                   const AttentionShape& s) {
  const std::size_t T = s.queries, NH = s.heads, NKV = s.kv_heads, HD = s.head_dim;
  const std::size_t group = NH / NKV;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(HD)));
  const std::size_t ld_s = round_up_8(s.keys);
  scratch.scores.resize(QUERY_BLOCK * ld_s);
  prepare_row(scratch, start, end, b, s);
  const std::vector<KeyRange>& ranges = scratch.ranges;
  Packed& packed = scratch.packed;
  float* const weights = scratch.scores.data();
  packed.pack(k, v, b, g, s, false);
  for (std::size_t h = g * group; h < (g + 1) * group; ++h) {
    for (std::size_t t0 = 0, mq = 0; t0 < T; t0 += mq) {
      mq = block_size(ranges.data(), t0, T);
      const float* queries[QUERY_BLOCK];
      float* outputs[QUERY_BLOCK];
      for (std::size_t i = 0; i < mq; ++i) {
        const std::size_t row = b * T + t0 + i;
        queries[i] = q + (row * NH + h) * HD;
        outputs[i] = out + (row * NH + h) * HD;
        std::fill(outputs[i], outputs[i] + HD, 0.0f);
        log_sum_exp[(b * NH + h) * T + t0 + i] = 0.0f;
      }
      const KeyRange block = union_of(ranges.data(), t0, t0 + mq);
      if (block.count == 0) continue;
      const std::size_t column = block.first - packed.keys.first;
      Ops::scores(weights, ld_s, queries, mq, packed.kt.data() + column, packed.ld_t, round_up_8(block.count), HD);
      float sums[QUERY_BLOCK];
      for (std::size_t i = 0; i < mq; ++i) {
        float* row = weights + i * ld_s;
        const KeyRange& range = ranges[t0 + i];
        const std::size_t first = range.count == 0 ? 0 : range.first - block.first;
        std::fill(row, row + first, 0.0f);
        std::fill(row + first + range.count, row + block.count, 0.0f);
        sums[i] = 1.0f;
        if (range.count == 0) continue;
        // scale > 0, so the largest raw score gives the largest scaled one
        const float max = simd::max_of(Ops::isa, row + first, range.count) * scale;
        simd::exp_in_place(Ops::isa, row + first, range.count, scale, max);
        sums[i] = simd::sum_of(Ops::isa, row + first, range.count);
        log_sum_exp[(b * NH + h) * T + t0 + i] = max + std::log(sums[i]);
      }
      Ops::rows(outputs, mq, weights, ld_s, packed.v.data() + column * HD, block.count, HD);
      for (std::size_t i = 0; i < mq; ++i) {
        const float inverse = 1.0f / sums[i];
        for (std::size_t d = 0; d < HD; ++d) outputs[i][d] *= inverse;
      }
    }
  }
}

// With p_j = exp(s_j * scale - lse) and D = dout . out:
// dv_j += p_j dout, ds_j = p_j (dout . v_j - D) scale, dq += sum_j ds_j k_j, dk_j += ds_j q
template <class Ops>
void backward_group(Scratch& scratch, float* dq, float* dk, float* dv, const float* dout, const float* q,
                    const float* k, const float* v, const float* out, const float* log_sum_exp,
                    const std::int32_t* start, const std::int32_t* end, std::size_t b, std::size_t g,
                    const AttentionShape& s) {
  const std::size_t T = s.queries, NH = s.heads, NKV = s.kv_heads, HD = s.head_dim;
  const std::size_t group = NH / NKV;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(HD)));
  const std::size_t ld_s = round_up_8(s.keys);
  prepare_row(scratch, start, end, b, s);
  Packed& packed = scratch.packed;
  if (packed.keys.count == 0) return;
  const std::vector<KeyRange>& ranges = scratch.ranges;
  scratch.scores.resize(QUERY_BLOCK * ld_s);
  scratch.score_gradients.resize(QUERY_BLOCK * ld_s);
  float* const probabilities = scratch.scores.data();
  float* const score_gradients = scratch.score_gradients.data();
  packed.pack(k, v, b, g, s, true);
  scratch.key_gradients.assign(packed.keys.count * HD, 0.0f);
  scratch.value_gradients.assign(packed.keys.count * HD, 0.0f);
  for (std::size_t h = g * group; h < (g + 1) * group; ++h) {
    for (std::size_t t0 = 0, mq = 0; t0 < T; t0 += mq) {
      mq = block_size(ranges.data(), t0, T);
      const KeyRange block = union_of(ranges.data(), t0, t0 + mq);
      if (block.count == 0) continue;
      const float* queries[QUERY_BLOCK];
      const float* output_gradients[QUERY_BLOCK];
      float* query_gradients[QUERY_BLOCK];
      for (std::size_t i = 0; i < mq; ++i) {
        const std::size_t offset = ((b * T + t0 + i) * NH + h) * HD;
        queries[i] = q + offset;
        output_gradients[i] = dout + offset;
        query_gradients[i] = dq + offset;
      }
      const std::size_t column = block.first - packed.keys.first;
      const std::size_t cols = round_up_8(block.count);
      Ops::scores(probabilities, ld_s, queries, mq, packed.kt.data() + column, packed.ld_t, cols, HD);
      Ops::scores(score_gradients, ld_s, output_gradients, mq, packed.vt.data() + column, packed.ld_t, cols, HD);
      for (std::size_t i = 0; i < mq; ++i) {
        float* p = probabilities + i * ld_s;
        float* ds = score_gradients + i * ld_s;
        const KeyRange& range = ranges[t0 + i];
        const std::size_t first = range.count == 0 ? 0 : range.first - block.first;
        std::fill(p, p + first, 0.0f);
        std::fill(p + first + range.count, p + block.count, 0.0f);
        std::fill(ds, ds + first, 0.0f);
        std::fill(ds + first + range.count, ds + block.count, 0.0f);
        if (range.count == 0) continue;
        const std::size_t offset = ((b * T + t0 + i) * NH + h) * HD;
        float out_dot = 0.0f;
        for (std::size_t d = 0; d < HD; ++d) out_dot += dout[offset + d] * out[offset + d];
        simd::exp_in_place(Ops::isa, p + first, range.count, scale, log_sum_exp[(b * NH + h) * T + t0 + i]);
        for (std::size_t j = first; j < first + range.count; ++j) ds[j] = p[j] * (ds[j] - out_dot) * scale;
      }
      Ops::rows(query_gradients, mq, score_gradients, ld_s, packed.k.data() + column * HD, block.count, HD);
      Ops::scatter(scratch.value_gradients.data() + column * HD, probabilities, ld_s, output_gradients, mq,
                   block.count, HD);
      Ops::scatter(scratch.key_gradients.data() + column * HD, score_gradients, ld_s, queries, mq, block.count, HD);
    }
  }
  add_packed(dk, scratch.key_gradients.data(), b, g, packed.keys, s);
  add_packed(dv, scratch.value_gradients.data(), b, g, packed.keys, s);
}

template <class Ops>
void forward(float* out, float* log_sum_exp, const float* q, const float* k, const float* v,
             const std::int32_t* start, const std::int32_t* end, const AttentionShape& s) {
  ThreadPool::instance().run(s.batch * s.kv_heads, [&](std::size_t task) {
    forward_group<Ops>(thread_scratch(), out, log_sum_exp, q, k, v, start, end, task / s.kv_heads,
                       task % s.kv_heads, s);
  });
}

template <class Ops>
void backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k, const float* v,
              const float* out, const float* log_sum_exp, const std::int32_t* start, const std::int32_t* end,
              const AttentionShape& s) {
  ThreadPool::instance().run(s.batch * s.kv_heads, [&](std::size_t task) {
    backward_group<Ops>(thread_scratch(), dq, dk, dv, dout, q, k, v, out, log_sum_exp, start, end, task / s.kv_heads,
                        task % s.kv_heads, s);
  });
}

}  // namespace

void attention_forward(Isa isa, float* out, float* log_sum_exp, const float* q, const float* k, const float* v,
                       const std::int32_t* start, const std::int32_t* end, const AttentionShape& shape) {
  if (isa == Isa::Avx2) return forward<Avx2>(out, log_sum_exp, q, k, v, start, end, shape);
  forward<Portable>(out, log_sum_exp, q, k, v, start, end, shape);
}

void attention_backward(Isa isa, float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* out, const float* log_sum_exp,
                        const std::int32_t* start, const std::int32_t* end, const AttentionShape& shape) {
  if (isa == Isa::Avx2) return backward<Avx2>(dq, dk, dv, dout, q, k, v, out, log_sum_exp, start, end, shape);
  backward<Portable>(dq, dk, dv, dout, q, k, v, out, log_sum_exp, start, end, shape);
}

}  // namespace whetstone
