// Node-API surface of the native back end: kernels over Float32Array views (the engine's buffers),
// plus the choice of GEMM kernel, which tests force to check the portable fallback too.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>

#include "attention.h"
#include "elementwise.h"
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

// useGemmKernel(name | 'best'): forces one kernel this CPU runs; 'best' is the fastest of them.
Napi::Value UseGemmKernel(const Napi::CallbackInfo& info) {
  const std::string name = info[0].ToString().Utf8Value();
  whetstone::GemmKernel kernel = whetstone::best_gemm_kernel();
  if (name != "best") {
    const auto runnable = whetstone::runnable_gemm_kernels();
    const bool known = whetstone::gemm_kernel_named(name.c_str(), &kernel);
    if (!known || std::find(runnable.begin(), runnable.end(), kernel) == runnable.end()) {
      std::string names;
      for (const whetstone::GemmKernel each : runnable) {
        names += std::string(names.empty() ? "" : ", ") + whetstone::gemm_kernel_name(each);
      }
      const std::string message =
          "useGemmKernel: '" + name + "' is not a GEMM kernel this CPU runs; it runs " + names + " (or 'best')";
      fail(info.Env(), message.c_str());
      return info.Env().Undefined();
    }
  }
  active_kernel = kernel;
  return GemmKernel(info);
}

// gemmKernels() -> the names of the GEMM kernels this CPU runs.
Napi::Value GemmKernels(const Napi::CallbackInfo& info) {
  const auto runnable = whetstone::runnable_gemm_kernels();
  Napi::Array names = Napi::Array::New(info.Env(), runnable.size());
  for (std::size_t i = 0; i < runnable.size(); ++i) names.Set(i, whetstone::gemm_kernel_name(runnable[i]));
  return names;
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

// ---- elementwise and attention kernels ----

whetstone::Isa active_isa = whetstone::best_isa();

// A kernel's arguments by position. The first one that does not fit throws a TypeError naming the
// kernel; after that every accessor returns an empty value without touching N-API, so the caller
// checks ok() once, after reading them all.
class Arguments {
 public:
  Arguments(const Napi::CallbackInfo& info, const char* kernel, std::size_t count) : info_(info), kernel_(kernel) {
    if (info.Length() != count) fail("takes " + std::to_string(count) + " arguments");
  }

  bool ok() const { return ok_; }

  float* floats(std::size_t index, std::size_t needed) {
    if (!ok_) return nullptr;
    const Napi::Value value = info_[index];
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      fail("argument " + std::to_string(index) + " is not a Float32Array");
      return nullptr;
    }
    Napi::Float32Array array = value.As<Napi::Float32Array>();
    if (array.ElementLength() < needed) {
      fail("argument " + std::to_string(index) + " has " + std::to_string(array.ElementLength()) +
           " elements where " + std::to_string(needed) + " are needed");
      return nullptr;
    }
    return array.Data();
  }

  // A Float32Array, or nullptr for null.
  float* optional_floats(std::size_t index, std::size_t needed) {
    if (!ok_ || info_[index].IsNull()) return nullptr;
    return floats(index, needed);
  }

  // The element count of a Float32Array argument, 0 when it is not one (floats() then fails).
  std::size_t length(std::size_t index) {
    if (!ok_ || !info_[index].IsTypedArray()) return 0;
    return info_[index].As<Napi::TypedArray>().ElementLength();
  }

  std::int32_t* ints(std::size_t index, std::size_t needed) {
    if (!ok_) return nullptr;
    const Napi::Value value = info_[index];
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      fail("argument " + std::to_string(index) + " is not an Int32Array");
      return nullptr;
    }
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    if (array.ElementLength() < needed) {
      fail("argument " + std::to_string(index) + " has " + std::to_string(array.ElementLength()) +
           " elements where " + std::to_string(needed) + " are needed");
      return nullptr;
    }
    return array.Data();
  }

  double number(std::size_t index) {
    if (!ok_) return 0.0;
    if (!info_[index].IsNumber()) {
      fail("argument " + std::to_string(index) + " is not a number");
      return 0.0;
    }
    return info_[index].As<Napi::Number>().DoubleValue();
  }

  // A count or a dimension: a non-negative integer below 2^53.
  std::size_t size(std::size_t index) {
    const double value = number(index);
    if (ok_ && !(value >= 0.0 && value <= 9007199254740991.0 && std::floor(value) == value)) {
      fail("argument " + std::to_string(index) + " is not a non-negative integer");
      return 0;
    }
    return static_cast<std::size_t>(value);
  }

  bool flag(std::size_t index) { return ok_ && info_[index].ToBoolean(); }

  void fail(const std::string& message) {
    if (!ok_) return;
    ok_ = false;
    Napi::TypeError::New(info_.Env(), std::string(kernel_) + ": " + message).ThrowAsJavaScriptException();
  }

 private:
  const Napi::CallbackInfo& info_;
  const char* kernel_;
  bool ok_ = true;
};

// useKernels('scalar' | 'best'): the instruction set of every kernel, GEMM included; returns the
// elementwise one now in use ('avx2' or 'scalar').
Napi::Value UseKernels(const Napi::CallbackInfo& info) {
  const std::string name = info[0].ToString().Utf8Value();
  if (name == "scalar") {
    active_kernel = whetstone::GemmKernel::Portable;
    active_isa = whetstone::Isa::Scalar;
  } else if (name == "best") {
    active_kernel = whetstone::best_gemm_kernel();
    active_isa = whetstone::best_isa();
  } else {
    fail(info.Env(), "useKernels takes 'scalar' or 'best'");
    return info.Env().Undefined();
  }
  return Napi::String::New(info.Env(), whetstone::isa_name(active_isa));
}

// add(out, a, b)
Napi::Value Add(const Napi::CallbackInfo& info) {
  Arguments args(info, "add", 3);
  const std::size_t n = args.length(0);
  float* out = args.floats(0, n);
  const float* a = args.floats(1, n);
  const float* b = args.floats(2, n);
  if (args.ok()) whetstone::add(active_isa, out, a, b, n);
  return info.Env().Undefined();
}

// multiply(out, a, b, accumulate)
Napi::Value Multiply(const Napi::CallbackInfo& info) {
  Arguments args(info, "multiply", 4);
  const std::size_t n = args.length(0);
  float* out = args.floats(0, n);
  const float* a = args.floats(1, n);
  const float* b = args.floats(2, n);
  const bool accumulate = args.flag(3);
  if (args.ok()) whetstone::multiply(active_isa, out, a, b, n, accumulate);
  return info.Env().Undefined();
}

// axpy(y, x, alpha)
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Arguments args(info, "axpy", 3);
  const std::size_t n = args.length(0);
  float* y = args.floats(0, n);
  const float* x = args.floats(1, n);
  const float alpha = static_cast<float>(args.number(2));
  if (args.ok()) whetstone::axpy(active_isa, y, x, alpha, n);
  return info.Env().Undefined();
}

// scale(x, factor)
Napi::Value Scale(const Napi::CallbackInfo& info) {
  Arguments args(info, "scale", 2);
  const std::size_t n = args.length(0);
  float* x = args.floats(0, n);
  const float factor = static_cast<float>(args.number(1));
  if (args.ok()) whetstone::scale(active_isa, x, factor, n);
  return info.Env().Undefined();
}

// sumOfSquares(out, x): out[0] = the sum of x squared
Napi::Value SumOfSquares(const Napi::CallbackInfo& info) {
  Arguments args(info, "sumOfSquares", 2);
  float* out = args.floats(0, 1);
  const std::size_t n = args.length(1);
  const float* x = args.floats(1, n);
  if (args.ok()) out[0] = static_cast<float>(whetstone::sum_of_squares(active_isa, x, n));
  return info.Env().Undefined();
}

// addRowVector(out, vector, rows, cols)
Napi::Value AddRowVector(const Napi::CallbackInfo& info) {
  Arguments args(info, "addRowVector", 4);
  const std::size_t rows = args.size(2), cols = args.size(3);
  float* out = args.floats(0, rows * cols);
  const float* vector = args.floats(1, cols);
  if (args.ok()) whetstone::add_row_vector(active_isa, out, vector, rows, cols);
  return info.Env().Undefined();
}

// sumRows(sums, x, rows, cols)
Napi::Value SumRows(const Napi::CallbackInfo& info) {
  Arguments args(info, "sumRows", 4);
  const std::size_t rows = args.size(2), cols = args.size(3);
  float* sums = args.floats(0, cols);
  const float* x = args.floats(1, rows * cols);
  if (args.ok()) whetstone::sum_rows(active_isa, sums, x, rows, cols);
  return info.Env().Undefined();
}

// dropoutMask(mask, probability, seed)
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  Arguments args(info, "dropoutMask", 3);
  const std::size_t n = args.length(0);
  float* mask = args.floats(0, n);
  const double probability = args.number(1);
  const double seed = args.number(2);
  if (args.ok() && !(probability >= 0.0 && probability < 1.0)) args.fail("probability must be in [0, 1)");
  if (args.ok()) {
    const auto draw_seed = static_cast<std::uint32_t>(static_cast<std::int64_t>(seed));
    whetstone::dropout_mask(active_isa, mask, n, probability, draw_seed);
  }
  return info.Env().Undefined();
}

// embeddingForward(out, table, tokens, count, channels) -> the first token out of range, or -1
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Arguments args(info, "embeddingForward", 5);
  const std::size_t count = args.size(3), channels = args.size(4);
  float* out = args.floats(0, count * channels);
  const std::size_t table_length = args.length(1);
  const float* table = args.floats(1, 0);
  const std::int32_t* tokens = args.ints(2, count);
  if (!args.ok()) return info.Env().Undefined();
  // with no channels no row is read, so only negative tokens are out of range
  const std::size_t table_rows = channels == 0 ? SIZE_MAX : table_length / channels;
  return Napi::Number::New(info.Env(), static_cast<double>(whetstone::embedding_forward(
                                           active_isa, out, table, table_rows, tokens, count, channels)));
}

// embeddingBackward(dtable, dout, tokens, count, channels) -> the first token out of range, or -1
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Arguments args(info, "embeddingBackward", 5);
  const std::size_t count = args.size(3), channels = args.size(4);
  const std::size_t table_length = args.length(0);
  float* dtable = args.floats(0, 0);
  const float* dout = args.floats(1, count * channels);
  const std::int32_t* tokens = args.ints(2, count);
  if (!args.ok()) return info.Env().Undefined();
  // with no channels no row is read, so only negative tokens are out of range
  const std::size_t table_rows = channels == 0 ? SIZE_MAX : table_length / channels;
  return Napi::Number::New(info.Env(), static_cast<double>(whetstone::embedding_backward(
                                           active_isa, dtable, table_rows, dout, tokens, count, channels)));
}

// rmsNormForward(out, rstd, x, weight, rows, cols, epsilon)
Napi::Value RmsNormForward(const Napi::CallbackInfo& info) {
  Arguments args(info, "rmsNormForward", 7);
  const std::size_t rows = args.size(4), cols = args.size(5);
  float* out = args.floats(0, rows * cols);
  float* rstd = args.floats(1, rows);
  const float* x = args.floats(2, rows * cols);
  const float* weight = args.floats(3, cols);
  const float epsilon = static_cast<float>(args.number(6));
  if (args.ok()) whetstone::rms_norm_forward(active_isa, out, rstd, x, weight, rows, cols, epsilon);
  return info.Env().Undefined();
}

// rmsNormBackward(dx, dweight | null, dout, x, weight, rstd, rows, cols)
Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  Arguments args(info, "rmsNormBackward", 8);
  const std::size_t rows = args.size(6), cols = args.size(7);
  float* dx = args.floats(0, rows * cols);
  float* dweight = args.optional_floats(1, cols);
  const float* dout = args.floats(2, rows * cols);
  const float* x = args.floats(3, rows * cols);
  const float* weight = args.floats(4, cols);
  const float* rstd = args.floats(5, rows);
  if (args.ok()) whetstone::rms_norm_backward(active_isa, dx, dweight, dout, x, weight, rstd, rows, cols);
  return info.Env().Undefined();
}

// rope(x, positions, cos, sin, count, heads, headDim, inverse) -> the first position beyond the
// tables, or -1
Napi::Value Rope(const Napi::CallbackInfo& info) {
  Arguments args(info, "rope", 8);
  const std::size_t count = args.size(4), heads = args.size(5), head_dim = args.size(6);
  const bool inverse = args.flag(7);
  if (args.ok() && head_dim % 2 != 0) args.fail("the head dimension must be even");
  float* x = args.floats(0, count * heads * head_dim);
  const std::int32_t* positions = args.ints(1, count);
  const std::size_t table_length = std::min(args.length(2), args.length(3));
  const float* cos = args.floats(2, 0);
  const float* sin = args.floats(3, 0);
  if (!args.ok()) return info.Env().Undefined();
  const std::size_t half = head_dim / 2;
  // with nothing to rotate, any position is fine
  const std::size_t table_rows = half == 0 ? SIZE_MAX : table_length / half;
  return Napi::Number::New(info.Env(), static_cast<double>(whetstone::rope(
                                           active_isa, x, positions, cos, sin, table_rows, count, heads, head_dim,
                                           inverse)));
}

// swigluForward(out, gate, up)
Napi::Value SwigluForward(const Napi::CallbackInfo& info) {
  Arguments args(info, "swigluForward", 3);
  const std::size_t n = args.length(0);
  float* out = args.floats(0, n);
  const float* gate = args.floats(1, n);
  const float* up = args.floats(2, n);
  if (args.ok()) whetstone::swiglu_forward(active_isa, out, gate, up, n);
  return info.Env().Undefined();
}

// swigluBackward(dgate, dup, dout, gate, up)
Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  Arguments args(info, "swigluBackward", 5);
  const std::size_t n = args.length(2);
  float* dgate = args.floats(0, n);
  float* dup = args.floats(1, n);
  const float* dout = args.floats(2, n);
  const float* gate = args.floats(3, n);
  const float* up = args.floats(4, n);
  if (args.ok()) whetstone::swiglu_backward(active_isa, dgate, dup, dout, gate, up, n);
  return info.Env().Undefined();
}

// crossEntropyForward(losses, logits, targets, rows, vocab) -> the first target out of range, or -1
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  Arguments args(info, "crossEntropyForward", 5);
  const std::size_t rows = args.size(3), vocab = args.size(4);
  float* losses = args.floats(0, rows);
  const float* logits = args.floats(1, rows * vocab);
  const std::int32_t* targets = args.ints(2, rows);
  if (!args.ok()) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(whetstone::cross_entropy_forward(
                                           active_isa, losses, logits, targets, rows, vocab)));
}

// crossEntropyBackward(dlogits, logits, targets, weights, scale, rows, vocab) -> the first target out
// of range, or -1; dlogits may be logits
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Arguments args(info, "crossEntropyBackward", 7);
  const std::size_t rows = args.size(5), vocab = args.size(6);
  float* dlogits = args.floats(0, rows * vocab);
  const float* logits = args.floats(1, rows * vocab);
  const std::int32_t* targets = args.ints(2, rows);
  const float* weights = args.floats(3, rows);
  const float scale = static_cast<float>(args.number(4));
  if (!args.ok()) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(whetstone::cross_entropy_backward(
                                           active_isa, dlogits, logits, targets, weights, scale, rows, vocab)));
}

// argmax(out, x, rows, cols)
Napi::Value Argmax(const Napi::CallbackInfo& info) {
  Arguments args(info, "argmax", 4);
  const std::size_t rows = args.size(2), cols = args.size(3);
  std::int32_t* out = args.ints(0, rows);
  const float* x = args.floats(1, rows * cols);
  if (args.ok()) whetstone::argmax(active_isa, out, x, rows, cols);
  return info.Env().Undefined();
}

// adamw(param, grad, m, v, learningRate, beta1, beta2, epsilon, weightDecay, step)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Arguments args(info, "adamw", 10);
  const std::size_t n = args.length(0);
  float* param = args.floats(0, n);
  const float* grad = args.floats(1, n);
  float* m = args.floats(2, n);
  float* v = args.floats(3, n);
  const double learning_rate = args.number(4), beta1 = args.number(5), beta2 = args.number(6);
  const double epsilon = args.number(7), weight_decay = args.number(8), step = args.number(9);
  if (!args.ok()) return info.Env().Undefined();
  whetstone::AdamWConstants constants{};
  constants.beta1 = static_cast<float>(beta1);
  constants.beta2 = static_cast<float>(beta2);
  constants.epsilon = static_cast<float>(epsilon);
  constants.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  constants.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  constants.step_size = static_cast<float>(learning_rate / (1.0 - std::pow(beta1, step)));
  constants.decay = static_cast<float>(1.0 - learning_rate * weight_decay);
  constants.inverse_correction = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, step)));
  whetstone::adamw(active_isa, param, grad, m, v, n, constants);
  return info.Env().Undefined();
}

// The shape arguments of both attention kernels, from position `first`: batch, queries, keys,
// heads, kvHeads, headDim.
whetstone::AttentionShape attention_shape(Arguments& args, std::size_t first) {
  whetstone::AttentionShape shape{};
  shape.batch = args.size(first);
  shape.queries = args.size(first + 1);
  shape.keys = args.size(first + 2);
  shape.heads = args.size(first + 3);
  shape.kv_heads = args.size(first + 4);
  shape.head_dim = args.size(first + 5);
  if (args.ok() && (shape.kv_heads == 0 || shape.heads % shape.kv_heads != 0)) {
    args.fail("the key/value heads must divide the heads");
  }
  return shape;
}

// attentionForward(out, logSumExp, q, k, v, start, end, batch, queries, keys, heads, kvHeads, headDim)
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Arguments args(info, "attentionForward", 13);
  const whetstone::AttentionShape s = attention_shape(args, 7);
  const std::size_t rows = s.batch * s.queries;
  const std::size_t q_size = rows * s.heads * s.head_dim;
  const std::size_t kv_size = s.batch * s.keys * s.kv_heads * s.head_dim;
  float* out = args.floats(0, q_size);
  float* log_sum_exp = args.floats(1, rows * s.heads);
  const float* q = args.floats(2, q_size);
  const float* k = args.floats(3, kv_size);
  const float* v = args.floats(4, kv_size);
  const std::int32_t* start = args.ints(5, rows);
  const std::int32_t* end = args.ints(6, rows);
  if (args.ok()) whetstone::attention_forward(active_isa, out, log_sum_exp, q, k, v, start, end, s);
  return info.Env().Undefined();
}

// attentionBackward(dq, dk, dv, dout, q, k, v, out, logSumExp, start, end, batch, queries, keys, heads,
// kvHeads, headDim)
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Arguments args(info, "attentionBackward", 17);
  const whetstone::AttentionShape s = attention_shape(args, 11);
  const std::size_t rows = s.batch * s.queries;
  const std::size_t q_size = rows * s.heads * s.head_dim;
  const std::size_t kv_size = s.batch * s.keys * s.kv_heads * s.head_dim;
  float* dq = args.floats(0, q_size);
  float* dk = args.floats(1, kv_size);
  float* dv = args.floats(2, kv_size);
  const float* dout = args.floats(3, q_size);
  const float* q = args.floats(4, q_size);
  const float* k = args.floats(5, kv_size);
  const float* v = args.floats(6, kv_size);
  const float* out = args.floats(7, q_size);
  const float* log_sum_exp = args.floats(8, rows * s.heads);
  const std::int32_t* start = args.ints(9, rows);
  const std::int32_t* end = args.ints(10, rows);
  if (args.ok()) {
    whetstone::attention_backward(active_isa, dq, dk, dv, dout, q, k, v, out, log_sum_exp, start, end, s);
  }
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  exports.Set("hardwareThreads", Napi::Function::New(env, HardwareThreads));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("gemmKernel", Napi::Function::New(env, GemmKernel));
  exports.Set("useGemmKernel", Napi::Function::New(env, UseGemmKernel));
  exports.Set("gemmKernels", Napi::Function::New(env, GemmKernels));
  exports.Set("useKernels", Napi::Function::New(env, UseKernels));
  exports.Set("add", Napi::Function::New(env, Add));
  exports.Set("multiply", Napi::Function::New(env, Multiply));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("scale", Napi::Function::New(env, Scale));
  exports.Set("sumOfSquares", Napi::Function::New(env, SumOfSquares));
  exports.Set("addRowVector", Napi::Function::New(env, AddRowVector));
  exports.Set("sumRows", Napi::Function::New(env, SumRows));
  exports.Set("dropoutMask", Napi::Function::New(env, DropoutMask));
  exports.Set("embeddingForward", Napi::Function::New(env, EmbeddingForward));
  exports.Set("embeddingBackward", Napi::Function::New(env, EmbeddingBackward));
  exports.Set("rmsNormForward", Napi::Function::New(env, RmsNormForward));
  exports.Set("rmsNormBackward", Napi::Function::New(env, RmsNormBackward));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("swigluForward", Napi::Function::New(env, SwigluForward));
  exports.Set("swigluBackward", Napi::Function::New(env, SwigluBackward));
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward));
  exports.Set("argmax", Napi::Function::New(env, Argmax));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("attentionForward", Napi::Function::New(env, AttentionForward));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward));
  return exports;
}

}  // namespace

NODE_API_MODULE(whetstone_native, Init)
