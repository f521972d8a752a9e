// The packed GEMM in the manner of BLIS/GotoBLAS, written once over an instruction set `Isa` and
// a register tile of MR rows by NV vectors. Each instruction set's translation unit includes this
// after its `#pragma GCC target`, so the packing and the micro-kernel are both compiled for it.
//
// B is packed into KC x NR column panels and A into MC x KC row panels, so the micro-kernel streams
// both contiguously; an MR x NR tile of C lives in registers for a whole KC block and is written
// to C once per block. Transposes are absorbed by the packing, so all four variants share one
// micro-kernel. Edge tiles run the same kernel on zero-padded panels into a scratch tile.
//
// An `Isa` provides: type V (W floats), zero(), load(p), broadcast(p), fma(a, b, c) = a * b + c,
// mul(a, b), store(p, v); loads and stores need no alignment.
//
// A unit compiled for a wider instruction set includes every header this one includes *before*
// its target pragma: a function defined after the pragma is compiled for that target, and an
// inline function shared with other units (the standard library's, PackBuffer's) must not be, or
// the linker may keep the wide copy for every caller.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../sgemm.h"
#include "../thread_pool.h"
#include "pack_buffer.h"

namespace whetstone::gemm {

template <class Isa, std::size_t MR, std::size_t NV>
struct Gemm {
  using V = typename Isa::V;
  static constexpr std::size_t W = Isa::W;
  static constexpr std::size_t NR = NV * W;
  // A micro-panel of B (KC x NR) stays in L1 while MC / MR tiles stream past it; a block of A
  // (MC x KC) stays in L2 while the NC / NR panels of B stream past it.
  static constexpr std::size_t KC = 256;
  static constexpr std::size_t MC = MR * 16;
  static constexpr std::size_t NC = NR * 128;
  static constexpr std::size_t TASKS_PER_THREAD = 4;
  // Packed B holds at most this many floats (16 MiB), however long K is.
  static constexpr std::size_t PACKED_B_LIMIT = std::size_t{1} << 22;

  // C (MR, NR), rows ldc apart = alpha * sum over p of a_panel (kc, MR) outer b_panel (kc, NR),
  // added to C, or written over it when `overwrite`.
  static void tile(std::size_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c,
                   std::size_t ldc, float alpha, bool overwrite) {
    V acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
      // C's tile is read or written only after the KC loop; fetching its lines now hides the miss.
      __builtin_prefetch(c + r * ldc, 1);
      __builtin_prefetch(c + r * ldc + NR - 1, 1);
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = Isa::zero();
    }
#pragma GCC unroll 4
    for (std::size_t p = 0; p < kc; ++p) {
      V bv[NV];
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) bv[v] = Isa::load(b + v * W);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < MR; ++r) {
        const V av = Isa::broadcast(a + r);
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = Isa::fma(av, bv[v], acc[r][v]);
      }
      a += MR;
      b += NR;
    }
    const V scale = Isa::broadcast(&alpha);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) {
        float* out = c + r * ldc + v * W;
        Isa::store(out, overwrite ? Isa::mul(scale, acc[r][v]) : Isa::fma(scale, acc[r][v], Isa::load(out)));
      }
    }
  }

  // packed (ceil(mc / MR), kc, MR): rows [i0, i0 + mc) and columns [p0, p0 + kc) of op(A), zero-padded.
  template <bool Trans>
  static void pack_a(const float* a, std::size_t lda, std::size_t i0, std::size_t mc, std::size_t p0, std::size_t kc,
                     float* packed) {
    for (std::size_t panel = 0; panel < mc; panel += MR, packed += MR * kc) {
      const std::size_t rows = std::min(MR, mc - panel);
      const std::size_t first = i0 + panel;
      if (Trans) {
        // op(A)(i, p) = a[p * lda + i]: each p reads `rows` consecutive floats.
        for (std::size_t p = 0; p < kc; ++p) {
          const float* source = a + (p0 + p) * lda + first;
          for (std::size_t r = 0; r < MR; ++r) packed[p * MR + r] = r < rows ? source[r] : 0.0f;
        }
      } else {
        for (std::size_t r = 0; r < MR; ++r) {
          if (r < rows) {
            const float* source = a + (first + r) * lda + p0;
            for (std::size_t p = 0; p < kc; ++p) packed[p * MR + r] = source[p];
          } else {
            for (std::size_t p = 0; p < kc; ++p) packed[p * MR + r] = 0.0f;
          }
        }
      }
    }
  }

  // packed (ceil(nc / NR), kc, NR): rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B), zero-padded.
  template <bool Trans>
  static void pack_b(const float* b, std::size_t ldb, std::size_t p0, std::size_t kc, std::size_t j0, std::size_t nc,
                     float* packed) {
    for (std::size_t panel = 0; panel < nc; panel += NR, packed += NR * kc) {
      const std::size_t cols = std::min(NR, nc - panel);
      const std::size_t first = j0 + panel;
      if (Trans) {
        // op(B)(p, j) = b[j * ldb + p]: each column is a contiguous run of B's row j.
        for (std::size_t col = 0; col < NR; ++col) {
          if (col < cols) {
            const float* source = b + (first + col) * ldb + p0;
            for (std::size_t p = 0; p < kc; ++p) packed[p * NR + col] = source[p];
          } else {
            for (std::size_t p = 0; p < kc; ++p) packed[p * NR + col] = 0.0f;
          }
        }
      } else {
        for (std::size_t p = 0; p < kc; ++p) {
          const float* source = b + (p0 + p) * ldb + first;
          for (std::size_t col = 0; col < NR; ++col) packed[p * NR + col] = col < cols ? source[col] : 0.0f;
        }
      }
    }
  }

  template <bool TransA, bool TransB>
  static void run(const GemmShape& s, const float* a, const float* b, float* c) {
    const std::size_t lda = TransA ? s.m : s.k;
    const std::size_t ldb = TransB ? s.k : s.n;
    ThreadPool& pool = ThreadPool::instance();
    // Tasks are blocks of C's rows (at most MC, whole register tiles), several per thread and
    // claimed as threads come free, so a thread the machine slows down holds the others up by one
    // block at most. A product too short to split by rows (a rank-8 LoRA product has 8 rows and
    // thousands of columns) splits its columns the same way.
    const std::size_t wanted_tasks = TASKS_PER_THREAD * pool.size();
    const std::size_t row_block =
        std::min(MC, std::max(MR, (s.m + wanted_tasks - 1) / wanted_tasks + MR - 1) / MR * MR);
    const std::size_t row_parts = (s.m + row_block - 1) / row_block;
    // B is packed for a whole span of K at once (up to PACKED_B_LIMIT floats), so that each
    // thread then runs every KC block of its rows without waiting on the others, and a block of
    // C's rows stays in cache across the KC blocks instead of streaming through once per block.
    const std::size_t ks_limit = std::max(KC, PACKED_B_LIMIT / NC / KC * KC);
    float* const packed_b = packed_b_buffer().reserve(NC * std::min(ks_limit, (s.k + KC - 1) / KC * KC));
    for (std::size_t j0 = 0; j0 < s.n; j0 += NC) {
      const std::size_t nc = std::min(NC, s.n - j0);
      const std::size_t panels = (nc + NR - 1) / NR;
      const std::size_t column_parts =
          std::max<std::size_t>(1, std::min(panels, (wanted_tasks + row_parts - 1) / row_parts));
      for (std::size_t k0 = 0; k0 < s.k; k0 += ks_limit) {
        const std::size_t ks = std::min(ks_limit, s.k - k0);
        // Blocks of equal depth (688 runs as 3 x 232, not 256 + 256 + 176): a shallow last block
        // would pay a whole pass over C for little work.
        const std::size_t blocks = (ks + KC - 1) / KC;
        const std::size_t depth = ((ks + blocks - 1) / blocks + 7) / 8 * 8;
        // Block `kb` of the span holds `depth` rows of op(B) (fewer in the last), as `panels` panels
        // of (kc, NR); every block before it is full, so it starts at kb * depth * panels * NR.
        const auto block_of = [&](std::size_t kb) { return packed_b + kb * depth * panels * NR; };
        parallel_ranges(blocks * panels, [&](std::size_t first, std::size_t last) {
          for (std::size_t item = first; item < last; ++item) {
            const std::size_t kb = item / panels, panel = item % panels;
            const std::size_t p0 = k0 + kb * depth, kc = std::min(depth, k0 + ks - p0);
            const std::size_t width = std::min(NR, nc - panel * NR);
            pack_b<TransB>(b, ldb, p0, kc, j0 + panel * NR, width, block_of(kb) + panel * NR * kc);
          }
        });
        // Each task owns a block of C's rows and columns, so no two tasks write the same element.
        pool.run(row_parts * column_parts, [&](std::size_t task) {
          const std::size_t row_part = task / column_parts;
          const std::size_t column_part = task % column_parts;
          const std::size_t row_begin = row_part * row_block;
          const std::size_t row_end = std::min(s.m, row_begin + row_block);
          const std::size_t panel_begin = panels * column_part / column_parts;
          const std::size_t panel_end = panels * (column_part + 1) / column_parts;
          float* const packed_a = packed_a_buffer().reserve(MC * KC);
          alignas(64) float edge[MR * NR];
          for (std::size_t i0 = row_begin; i0 < row_end; i0 += MC) {
            const std::size_t mc = std::min(MC, row_end - i0);
            for (std::size_t kb = 0; kb < blocks; ++kb) {
              const std::size_t p0 = k0 + kb * depth, kc = std::min(depth, k0 + ks - p0);
              // Without accumulation, the first block writes C and the rest add to it: C is never cleared.
              const bool overwrite = !s.accumulate && p0 == 0;
              pack_a<TransA>(a, lda, i0, mc, p0, kc, packed_a);
              for (std::size_t panel = panel_begin; panel < panel_end; ++panel) {
                const std::size_t jr = panel * NR;
                const std::size_t cols = std::min(NR, nc - jr);
                const float* b_panel = block_of(kb) + jr * kc;
                for (std::size_t ir = 0; ir < mc; ir += MR) {
                  const std::size_t rows = std::min(MR, mc - ir);
                  float* c_tile = c + (i0 + ir) * s.n + j0 + jr;
                  if (rows == MR && cols == NR) {
                    tile(kc, packed_a + ir * kc, b_panel, c_tile, s.n, s.alpha, overwrite);
                    continue;
                  }
                  tile(kc, packed_a + ir * kc, b_panel, edge, NR, 1.0f, true);
                  for (std::size_t r = 0; r < rows; ++r) {
                    float* row = c_tile + r * s.n;
                    const float* from = edge + r * NR;
                    if (overwrite) {
                      for (std::size_t col = 0; col < cols; ++col) row[col] = s.alpha * from[col];
                    } else {
                      for (std::size_t col = 0; col < cols; ++col) row[col] += s.alpha * from[col];
                    }
                  }
                }
              }
            }
          }
        });
      }
    }
  }

  // C (M, N) = alpha * op(A) @ op(B) [+ C], as sgemm.h states.
  static void product(const GemmShape& s, const float* a, const float* b, float* c) {
    if (s.m == 0 || s.n == 0) return;
    if (s.k == 0) {
      if (!s.accumulate) std::fill(c, c + s.m * s.n, 0.0f);
      return;
    }
    if (s.trans_a) {
      if (s.trans_b) run<true, true>(s, a, b, c);
      else run<true, false>(s, a, b, c);
    } else {
      if (s.trans_b) run<false, true>(s, a, b, c);
      else run<false, false>(s, a, b, c);
    }
  }
};

}  // namespace whetstone::gemm
