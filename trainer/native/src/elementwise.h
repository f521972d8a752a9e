// Fused elementwise kernels of the native back end, each the compiled twin of a TypeScript
// reference kernel (trainer/src/engine/reference) with the same layouts and semantics:
// row-major arrays, backward kernels ADD into gradients (cross_entropy_backward alone writes), and
// the rows or elements of a large call split across the thread pool.
//
// Kernels that read indices (tokens, positions, targets) check them all before writing anything and
// return the first out-of-range one, or -1 when all are in range.
#pragma once

#include <cstddef>
#include <cstdint>

namespace whetstone {

// The instruction set a kernel runs on: AVX2/FMA, or portable code for any x86-64 CPU.
enum class Isa { Scalar, Avx2 };

// The widest instruction set this CPU runs.
Isa best_isa();
const char* isa_name(Isa isa);

// out (n) = a + b
void add(Isa isa, float* out, const float* a, const float* b, std::size_t n);
// out (n) = a * b, or out += a * b
void multiply(Isa isa, float* out, const float* a, const float* b, std::size_t n, bool accumulate);
// y (n) += alpha * x
void axpy(Isa isa, float* y, const float* x, float alpha, std::size_t n);
// x (n) *= factor
void scale(Isa isa, float* x, float factor, std::size_t n);
// The sum of x (n) squared, accumulated in double: gradients hold millions of elements.
double sum_of_squares(Isa isa, const float* x, std::size_t n);
// out (R, C) += vector (C) on every row
void add_row_vector(Isa isa, float* out, const float* vector, std::size_t rows, std::size_t cols);
// sums (C) += the column sums of x (R, C), each accumulated in double
void sum_rows(Isa isa, float* sums, const float* x, std::size_t rows, std::size_t cols);
// mask (n) = 0 where the counter-based draw is below probability * 2^32, else 1 / (1 - probability)
void dropout_mask(Isa isa, float* mask, std::size_t n, double probability, std::uint32_t seed);

// out (N, C) = table (V, C)[tokens (N)]
std::ptrdiff_t embedding_forward(Isa isa, float* out, const float* table, std::size_t table_rows,
                                 const std::int32_t* tokens, std::size_t count, std::size_t channels);
// dtable (V, C) += dout (N, C) at rows tokens (N)
std::ptrdiff_t embedding_backward(Isa isa, float* dtable, std::size_t table_rows, const float* dout,
                                  const std::int32_t* tokens, std::size_t count, std::size_t channels);

// out (N, C) = x * rstd * weight (C); rstd (N) = 1 / sqrt(mean(x^2) + epsilon)
void rms_norm_forward(Isa isa, float* out, float* rstd, const float* x, const float* weight, std::size_t rows,
                      std::size_t cols, float epsilon);
// dx (N, C) += ..., dweight (C) += ... (dweight null when the weight is frozen)
void rms_norm_backward(Isa isa, float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                       const float* rstd, std::size_t rows, std::size_t cols);

// Rotate-half RoPE in place on x (N, H, HD): element i < HD/2 pairs with i + HD/2; cos and sin are
// (P, HD/2) tables indexed by positions (N). inverse applies the transposed rotation (backward).
std::ptrdiff_t rope(Isa isa, float* x, const std::int32_t* positions, const float* cos, const float* sin,
                    std::size_t table_rows, std::size_t count, std::size_t heads, std::size_t head_dim,
                    bool inverse);

// out (n) = silu(gate) * up
void swiglu_forward(Isa isa, float* out, const float* gate, const float* up, std::size_t n);
// dgate, dup (n) += the gradients of swiglu_forward
void swiglu_backward(Isa isa, float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                     std::size_t n);

// losses (N) = logsumexp(logits[n]) - logits[n, targets[n]], logits (N, V)
std::ptrdiff_t cross_entropy_forward(Isa isa, float* losses, const float* logits, const std::int32_t* targets,
                                     std::size_t rows, std::size_t vocab);
// dlogits (N, V) = (softmax(logits) - onehot(target)) * weights[n] * scale, written; dlogits may be
// logits itself.
std::ptrdiff_t cross_entropy_backward(Isa isa, float* dlogits, const float* logits, const std::int32_t* targets,
                                      const float* weights, float scale, std::size_t rows, std::size_t vocab);
// out (N) = the index of the largest value of each row of x (N, V), the first on ties
void argmax(Isa isa, std::int32_t* out, const float* x, std::size_t rows, std::size_t cols);

// The host-side constants of one torch.optim.AdamW step, bias corrections folded in.
struct AdamWConstants {
  float beta1, beta2, epsilon;
  float one_minus_beta1, one_minus_beta2;  // rounded from double: 1 - 0.999f is 1.3e-5 off, relatively
  float step_size;           // learning rate / (1 - beta1^step)
  float decay;               // 1 - learning rate * weight decay
  float inverse_correction;  // 1 / sqrt(1 - beta2^step)
};
// param, m, v (n) updated in place from grad (n)
void adamw(Isa isa, float* param, const float* grad, float* m, float* v, std::size_t n, const AdamWConstants& c);

namespace simd {
// Helpers attention.cc shares: exp over a whole array, and reductions, on the given instruction set.
// values (n) = exp(values * multiplier - shift)
void exp_in_place(Isa isa, float* values, std::size_t n, float multiplier, float shift);
float max_of(Isa isa, const float* values, std::size_t n);
float sum_of(Isa isa, const float* values, std::size_t n);
}  // namespace simd

}  // namespace whetstone
