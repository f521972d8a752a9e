// The machine's floating-point ceiling: FMA throughput at the widest vector width this CPU runs.
#pragma once

#include <cstddef>

namespace whetstone {

struct PeakMeasurement {
  double gflops;
  const char* width;  // "avx512" (16 lanes), "avx2" (8 lanes) or "scalar"
};

// Runs independent FMA chains on `threads` threads for about `milliseconds`.
PeakMeasurement measure_fma_peak(double milliseconds, std::size_t threads);

}  // namespace whetstone
