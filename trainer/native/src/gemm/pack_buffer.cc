#include "pack_buffer.h"

namespace whetstone::gemm {

PackBuffer& packed_a_buffer() {
  static thread_local PackBuffer buffer;
  return buffer;
}

PackBuffer& packed_b_buffer() {
  static thread_local PackBuffer buffer;
  return buffer;
}

}  // namespace whetstone::gemm
