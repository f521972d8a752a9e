// Scaled dot-product attention with grouped key/value heads and a per-query key window, the compiled
// twin of trainer/src/engine/reference/attention.ts: query row r sees keys j with
// max(0, start[r]) <= j <= min(S - 1, end[r]), and only those keys are visited, so causal
// attention skips the masked half. A query with an empty window gets zeros and a logSumExp of 0.
#pragma once

#include <cstddef>
#include <cstdint>

#include "elementwise.h"

namespace whetstone {

struct AttentionShape {
  std::size_t batch;
  std::size_t queries;   // T, query tokens per row
  std::size_t keys;      // S, key/value slots per row
  std::size_t heads;     // NH; query head h reads key/value head h / (NH / NKV)
  std::size_t kv_heads;  // NKV, a divisor of NH
  std::size_t head_dim;  // HD
};

// out (B, T, NH, HD); log_sum_exp (B, NH, T); q (B, T, NH, HD); k, v (B, S, NKV, HD);
// start, end (B * T)
void attention_forward(Isa isa, float* out, float* log_sum_exp, const float* q, const float* k, const float* v,
                       const std::int32_t* start, const std::int32_t* end, const AttentionShape& shape);

// dq, dk, dv += the gradients of attention_forward, with the softmax weights recomputed from
// log_sum_exp.
void attention_backward(Isa isa, float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* out, const float* log_sum_exp,
                        const std::int32_t* start, const std::int32_t* end, const AttentionShape& shape);

}  // namespace whetstone
