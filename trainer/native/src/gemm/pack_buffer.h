#pragma once

#include <cstddef>
#include <cstdlib>

namespace whetstone::gemm {

// Packed panels of one thread, grown on demand and kept, so products allocate nothing once the
// largest shape has run. Cache-line aligned, so a panel never straddles lines needlessly.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }

  float* reserve(std::size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      const std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) std::abort();
      capacity_ = bytes / sizeof(float);
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// The calling thread's buffers for packed A and packed B. A thread runs one product at a time,
// so every kernel and transpose shares them, and a thread keeps at most one of each.
PackBuffer& packed_a_buffer();
PackBuffer& packed_b_buffer();

}  // namespace whetstone::gemm
