#include "peak.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace whetstone {
namespace {

constexpr int kChains = 12;  // enough independent accumulators to hide FMA latency on two ports
constexpr long kBatch = 1 << 16;

// Returns the multiply-adds done; `sink` keeps the compiler from dropping the loop.
__attribute__((target("avx2,fma"))) double fma_loop_avx2(double seconds, float* sink) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 x = _mm256_set1_ps(0.999999f);
  const __m256 y = _mm256_set1_ps(1e-7f);
  const auto start = std::chrono::steady_clock::now();
  double operations = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    for (long n = 0; n < kBatch; ++n) {
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    }
    operations += static_cast<double>(kBatch) * kChains * 8;
  }
  __m256 total = acc[0];
  for (int i = 1; i < kChains; ++i) total = _mm256_add_ps(total, acc[i]);
  _mm256_storeu_ps(sink, total);
  return operations;
}

__attribute__((target("avx512f"))) double fma_loop_avx512(double seconds, float* sink) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 x = _mm512_set1_ps(0.999999f);
  const __m512 y = _mm512_set1_ps(1e-7f);
  const auto start = std::chrono::steady_clock::now();
  double operations = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    for (long n = 0; n < kBatch; ++n) {
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    }
    operations += static_cast<double>(kBatch) * kChains * 16;
  }
  __m512 total = acc[0];
  for (int i = 1; i < kChains; ++i) total = _mm512_add_ps(total, acc[i]);
  alignas(64) float lanes[16];
  _mm512_storeu_ps(lanes, total);
  for (int i = 0; i < 16; ++i) sink[i % 8] += lanes[i];
  return operations;
}

double fma_loop_scalar(double seconds, float* sink) {
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = 1.0f + i * 1e-3f;
  const auto start = std::chrono::steady_clock::now();
  double operations = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    for (long n = 0; n < kBatch; ++n) {
      for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
    }
    operations += static_cast<double>(kBatch) * kChains;
  }
  for (int i = 0; i < kChains; ++i) sink[i % 8] += acc[i];
  return operations;
}

}  // namespace

PeakMeasurement measure_fma_peak(double milliseconds, std::size_t threads) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const auto loop = avx512 ? fma_loop_avx512 : avx2 ? fma_loop_avx2 : fma_loop_scalar;
  const double seconds = milliseconds / 1000.0;
  std::vector<double> operations(threads, 0.0);
  std::vector<std::vector<float>> sinks(threads, std::vector<float>(8, 0.0f));
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      operations[t] = loop(seconds, sinks[t].data());
    });
  }
  for (auto& worker : workers) worker.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double total = 0;
  for (double count : operations) total += count;
  return {2.0 * total / elapsed / 1e9, avx512 ? "avx512" : avx2 ? "avx2" : "scalar"};
}

}  // namespace whetstone
