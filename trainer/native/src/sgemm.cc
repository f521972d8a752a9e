// Packed GEMM in the manner of BLIS/GotoBLAS: B is packed into KC x NR column panels and A into
// MC x KC row panels, so the micro-kernel streams both contiguously; an MR x NR tile of C lives
// in registers for a whole KC block. Transposes are absorbed by the packing, so all four variants
// share one micro-kernel. Edge tiles run the same kernel on zero-padded panels and write back the
// valid part only.
#include "sgemm.h"

#include "thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace whetstone {
namespace {

constexpr std::size_t MR = 6;   // rows of the register tile
constexpr std::size_t NR = 16;  // columns: two 8-wide AVX2 vectors
constexpr std::size_t KC = 256;
constexpr std::size_t MC = 96;  // a multiple of MR
constexpr std::size_t NC = 2048;

// Element (i, p) of op(A), A stored row-major with leading dimension lda.
inline float at_a(const float* a, std::size_t lda, bool trans, std::size_t i, std::size_t p) {
  return trans ? a[p * lda + i] : a[i * lda + p];
}

// Element (p, j) of op(B).
inline float at_b(const float* b, std::size_t ldb, bool trans, std::size_t p, std::size_t j) {
  return trans ? b[j * ldb + p] : b[p * ldb + j];
}

// packed (ceil(mc / MR), kc, MR): rows [i0, i0 + mc) and columns [p0, p0 + kc) of op(A), zero-padded.
void pack_a(const float* a, std::size_t lda, bool trans, std::size_t i0, std::size_t mc, std::size_t p0,
            std::size_t kc, float* packed) {
  for (std::size_t panel = 0; panel < mc; panel += MR) {
    const std::size_t rows = std::min(MR, mc - panel);
    for (std::size_t p = 0; p < kc; ++p) {
      for (std::size_t r = 0; r < MR; ++r) {
        *packed++ = r < rows ? at_a(a, lda, trans, i0 + panel + r, p0 + p) : 0.0f;
      }
    }
  }
}

// packed (ceil(nc / NR), kc, NR): rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B), zero-padded.
void pack_b(const float* b, std::size_t ldb, bool trans, std::size_t p0, std::size_t kc, std::size_t j0,
            std::size_t nc, float* packed) {
  for (std::size_t panel = 0; panel < nc; panel += NR) {
    const std::size_t cols = std::min(NR, nc - panel);
    for (std::size_t p = 0; p < kc; ++p) {
      for (std::size_t c = 0; c < NR; ++c) {
        *packed++ = c < cols ? at_b(b, ldb, trans, p0 + p, j0 + panel + c) : 0.0f;
      }
    }
  }
}

// tile (MR, NR) = sum over p of a_panel (kc, MR) outer b_panel (kc, NR).
void tile_scalar(std::size_t kc, const float* a_panel, const float* b_panel, float* tile) {
  float acc[MR][NR] = {};
  for (std::size_t p = 0; p < kc; ++p) {
    const float* ap = a_panel + p * MR;
    const float* bp = b_panel + p * NR;
    for (std::size_t r = 0; r < MR; ++r) {
      for (std::size_t c = 0; c < NR; ++c) acc[r][c] += ap[r] * bp[c];
    }
  }
  std::memcpy(tile, acc, sizeof(acc));
}

__attribute__((target("avx2,fma"))) void tile_avx2(std::size_t kc, const float* a_panel, const float* b_panel,
                                                     float* tile) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (std::size_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b_panel + p * NR);
    const __m256 b1 = _mm256_loadu_ps(b_panel + p * NR + 8);
    const float* ap = a_panel + p * MR;
    __m256 a = _mm256_broadcast_ss(ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
  }
  _mm256_storeu_ps(tile + 0 * NR, c00);
  _mm256_storeu_ps(tile + 0 * NR + 8, c01);
  _mm256_storeu_ps(tile + 1 * NR, c10);
  _mm256_storeu_ps(tile + 1 * NR + 8, c11);
  _mm256_storeu_ps(tile + 2 * NR, c20);
  _mm256_storeu_ps(tile + 2 * NR + 8, c21);
  _mm256_storeu_ps(tile + 3 * NR, c30);
  _mm256_storeu_ps(tile + 3 * NR + 8, c31);
  _mm256_storeu_ps(tile + 4 * NR, c40);
  _mm256_storeu_ps(tile + 4 * NR + 8, c41);
  _mm256_storeu_ps(tile + 5 * NR, c50);
  _mm256_storeu_ps(tile + 5 * NR + 8, c51);
}

using TileFunction = void (*)(std::size_t, const float*, const float*, float*);

}  // namespace

GemmKernel best_gemm_kernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmKernel::Avx2;
  return GemmKernel::Scalar;
}

const char* gemm_kernel_name(GemmKernel kernel) {
  return kernel == GemmKernel::Avx2 ? "avx2" : "scalar";
}

void sgemm(GemmKernel kernel, const GemmShape& s, const float* a, const float* b, float* c) {
  const TileFunction tile_of = kernel == GemmKernel::Avx2 ? tile_avx2 : tile_scalar;
  const std::size_t lda = s.trans_a ? s.m : s.k;
  const std::size_t ldb = s.trans_b ? s.k : s.n;
  if (!s.accumulate) std::fill(c, c + s.m * s.n, 0.0f);
  if (s.m == 0 || s.n == 0 || s.k == 0) return;
  ThreadPool& pool = ThreadPool::instance();
  const std::size_t threads = pool.size();
  // Split rows across threads when there are enough of them (each part at least two register
  // tiles tall), else columns: a rank-8 LoRA product has 8 rows and thousands of columns.
  const std::size_t row_parts = std::max<std::size_t>(1, std::min(threads, s.m / (2 * MR)));
  std::vector<float> packed_b(((NC + NR - 1) / NR) * NR * KC);
  for (std::size_t j0 = 0; j0 < s.n; j0 += NC) {
    const std::size_t nc = std::min(NC, s.n - j0);
    const std::size_t panels = (nc + NR - 1) / NR;
    const std::size_t column_parts = std::max<std::size_t>(1, std::min(threads / row_parts, panels));
    for (std::size_t p0 = 0; p0 < s.k; p0 += KC) {
      const std::size_t kc = std::min(KC, s.k - p0);
      parallel_ranges(panels, [&](std::size_t first, std::size_t last) {
        for (std::size_t panel = first; panel < last; ++panel) {
          const std::size_t width = std::min(NR, nc - panel * NR);
          pack_b(b, ldb, s.trans_b, p0, kc, j0 + panel * NR, width, packed_b.data() + panel * NR * kc);
        }
      });
      // Each task owns a block of C's rows and columns, so no two tasks write the same element.
      pool.run(row_parts * column_parts, [&](std::size_t task) {
        const std::size_t row_part = task / column_parts;
        const std::size_t column_part = task % column_parts;
        const std::size_t row_begin = s.m * row_part / row_parts;
        const std::size_t row_end = s.m * (row_part + 1) / row_parts;
        const std::size_t panel_begin = panels * column_part / column_parts;
        const std::size_t panel_end = panels * (column_part + 1) / column_parts;
        std::vector<float> packed_a(((MC + MR - 1) / MR) * MR * KC);
        alignas(32) float tile[MR * NR];
        for (std::size_t i0 = row_begin; i0 < row_end; i0 += MC) {
          const std::size_t mc = std::min(MC, row_end - i0);
          pack_a(a, lda, s.trans_a, i0, mc, p0, kc, packed_a.data());
          for (std::size_t panel = panel_begin; panel < panel_end; ++panel) {
            const std::size_t jr = panel * NR;
            const std::size_t cols = std::min(NR, nc - jr);
            for (std::size_t ir = 0; ir < mc; ir += MR) {
              const std::size_t rows = std::min(MR, mc - ir);
              tile_of(kc, packed_a.data() + ir * kc, packed_b.data() + jr * kc, tile);
              for (std::size_t r = 0; r < rows; ++r) {
                float* row = c + (i0 + ir + r) * s.n + j0 + jr;
                for (std::size_t col = 0; col < cols; ++col) row[col] += s.alpha * tile[r * NR + col];
              }
            }
          }
        }
      });
    }
  }
}

}  // namespace whetstone
