{
  "targets": [
    {
      "target_name": "whetstone_native",
      "sources": ["src/addon.cc", "src/attention.cc", "src/elementwise.cc", "src/peak.cc", "src/sgemm.cc", "src/gemm/portable.cc", "src/gemm/avx2.cc", "src/gemm/avx512.cc", "src/gemm/pack_buffer.cc", "src/thread_pool.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
