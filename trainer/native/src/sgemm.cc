// Chooses the GEMM kernel at run time from what the CPU reports; the kernels are in gemm/.
#include "sgemm.h"

#include <cstring>

#include "gemm/kernels.h"

namespace whetstone {
namespace {

struct NamedKernel {
  GemmKernel kernel;
  const char* name;
};

constexpr NamedKernel kKernels[] = {
    {GemmKernel::Portable, "portable"},
    {GemmKernel::Portable14x32, "portable-14x32"},
    {GemmKernel::Avx2, "avx2"},
    {GemmKernel::Avx512, "avx512"},
};

bool runs(GemmKernel kernel) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (kernel == GemmKernel::Avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (kernel == GemmKernel::Avx512) return __builtin_cpu_supports("avx512f");
  return true;
#else
  return kernel == GemmKernel::Portable || kernel == GemmKernel::Portable14x32;
#endif
}

}  // namespace

GemmKernel best_gemm_kernel() {
  if (runs(GemmKernel::Avx512)) return GemmKernel::Avx512;
  if (runs(GemmKernel::Avx2)) return GemmKernel::Avx2;
  return GemmKernel::Portable;
}

std::vector<GemmKernel> runnable_gemm_kernels() {
  std::vector<GemmKernel> kernels;
  for (const NamedKernel& named : kKernels)
    if (runs(named.kernel)) kernels.push_back(named.kernel);
  return kernels;
}

const char* gemm_kernel_name(GemmKernel kernel) {
  for (const NamedKernel& named : kKernels)
    if (named.kernel == kernel) return named.name;
  return "unknown";
}

bool gemm_kernel_named(const char* name, GemmKernel* kernel) {
  for (const NamedKernel& named : kKernels) {
    if (std::strcmp(named.name, name) == 0) {
      *kernel = named.kernel;
      return true;
    }
  }
  return false;
}

void sgemm(GemmKernel kernel, const GemmShape& shape, const float* a, const float* b, float* c) {
  switch (kernel) {
    case GemmKernel::Avx512:
      return gemm::product_avx512(shape, a, b, c);
    case GemmKernel::Avx2:
      return gemm::product_avx2(shape, a, b, c);
    case GemmKernel::Portable14x32:
      return gemm::product_portable_14x32(shape, a, b, c);
    case GemmKernel::Portable:
      return gemm::product_portable(shape, a, b, c);
  }
}

}  // namespace whetstone
