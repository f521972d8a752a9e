// Node-API surface of the native back end: kernels over Float32Array views (the engine's buffers),
// plus the choice of GEMM kernel, which tests force to check the portable fallback too.
#include <napi.h>

#include <thread>

#include "peak.h"
#include "sgemm.h"

namespace {

whetstone::GemmKernel active_kernel = whetstone::best_gemm_kernel();

bool fail(const Napi::Env& env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

// sgemm(out, a, b, m, n, k, transA, transB, accumulate, alpha)
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() != 10 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
    fail(env, "sgemm(out, a, b, m, n, k, transA, transB, accumulate, alpha) takes three Float32Arrays first");
    return env.Undefined();
  }
  Napi::Float32Array out = info[0].As<Napi::Float32Array>();
  const Napi::Float32Array a = info[1].As<Napi::Float32Array>();
  const Napi::Float32Array b = info[2].As<Napi::Float32Array>();
  whetstone::GemmShape shape{};
  shape.m = info[3].As<Napi::Number>().Int64Value();
  shape.n = info[4].As<Napi::Number>().Int64Value();
  shape.k = info[5].As<Napi::Number>().Int64Value();
  shape.trans_a = info[6].ToBoolean();
  shape.trans_b = info[7].ToBoolean();
  shape.accumulate = info[8].ToBoolean();
  shape.alpha = info[9].As<Napi::Number>().FloatValue();
  if (out.ElementLength() < shape.m * shape.n || a.ElementLength() < shape.m * shape.k ||
      b.ElementLength() < shape.k * shape.n) {
    fail(env, "sgemm: an array is shorter than the shape needs");
    return env.Undefined();
  }
  whetstone::sgemm(active_kernel, shape, a.Data(), b.Data(), out.Data());
  return env.Undefined();
}

Napi::Value GemmKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), whetstone::gemm_kernel_name(active_kernel));
}

// useGemmKernel('scalar' | 'best'): 'best' is the widest the CPU runs.
Napi::Value UseGemmKernel(const Napi::CallbackInfo& info) {
  const std::string name = info[0].ToString().Utf8Value();
  if (name == "scalar") {
    active_kernel = whetstone::GemmKernel::Scalar;
  } else if (name == "best") {
    active_kernel = whetstone::best_gemm_kernel();
  } else {
    fail(info.Env(), "useGemmKernel takes 'scalar' or 'best'");
    return info.Env().Undefined();
  }
  return GemmKernel(info);
}

// fmaPeak(milliseconds, threads) -> { gflops, width }
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  const double milliseconds = info[0].As<Napi::Number>().DoubleValue();
  const std::size_t threads = info[1].As<Napi::Number>().Uint32Value();
  const whetstone::PeakMeasurement peak = whetstone::measure_fma_peak(milliseconds, threads == 0 ? 1 : threads);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("gflops", peak.gflops);
  result.Set("width", peak.width);
  return result;
}

Napi::Value HardwareThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), std::thread::hardware_concurrency());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  exports.Set("hardwareThreads", Napi::Function::New(env, HardwareThreads));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("gemmKernel", Napi::Function::New(env, GemmKernel));
  exports.Set("useGemmKernel", Napi::Function::New(env, UseGemmKernel));
  return exports;
}

}  // namespace

NODE_API_MODULE(whetstone_native, Init)
