/**
 * The contract between the model and the kernels that run it.
 *
 * The model sees only opaque {@link DeviceBuffer}s: memory is allocated, filled from the host and
 * read back through the back end, and every computation is a kernel call. A back end may run
 * kernels as they are called (the TypeScript reference) or queue them on a device and return at
 * once; calls are ordered as issued, and {@link Backend.read} is the one place the host waits
 * for results. Kernels take host numbers (learning rate, epsilon, shapes) by value, so a queued
 * call never reads host state later than it was issued.
 *
 * Conventions every kernel follows:
 * - Row-major layouts; shapes are stated per kernel as (B, T, C...): B batch rows, T tokens,
 *   C model width, NH query heads, NKV key/value heads, HD head dim, V vocabulary, N = B * T.
 * - Backward kernels ADD into every gradient they produce (`+=`), so a tensor used twice (tied
 *   embeddings, the residual stream) gets both contributions; callers zero gradients first.
 *   The one exception is {@link Backend.crossEntropyBackward}, which writes its output.
 * - Outputs never alias inputs unless the kernel says so.
 */
export type DType = 'f32' | 'i32';

/** A range of back-end memory. Only its back end reads or writes the elements. */
export interface DeviceBuffer {
  readonly dtype: DType;
  readonly length: number;
}

export interface MatmulShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

export interface MatmulOptions {
  /** Read `a` as (K, M) and use its transpose. */
  readonly transA?: boolean;
  /** Read `b` as (N, K) and use its transpose: `x W^T` with W stored (out, in) as in PyTorch. */
  readonly transB?: boolean;
  /** Add into `out` instead of overwriting it. */
  readonly accumulate?: boolean;
  readonly alpha?: number;
}

/**
 * Which keys each query may attend to: query row r sees keys j with start[r] <= j <= end[r].
 * Causal training over packed or padded rows uses start = r - position, end = r; decoding with a
 * cache uses start = 0, end = the last cached position. Both are i32 buffers of length B * T.
 */
export interface AttentionWindow {
  readonly start: DeviceBuffer;
  readonly end: DeviceBuffer;
}

export interface AttentionShape {
  readonly batch: number;
  /** Query tokens per row. */
  readonly queries: number;
  /** Key/value slots per row (the cache capacity when decoding). */
  readonly keys: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

export interface AdamWStep {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** The optimizer step, counted from 1, for bias correction. */
  readonly step: number;
}

export interface Backend {
  readonly name: string;

  /** A new zero-filled buffer. */
  allocate(dtype: DType, length: number): DeviceBuffer;
  /** Elements [offset, offset + length) of `buffer`, sharing its memory. */
  view(buffer: DeviceBuffer, offset: number, length: number): DeviceBuffer;
  /** Host -> device. The data is copied before the call returns, so the caller may reuse it. */
  write(buffer: DeviceBuffer, data: ArrayLike<number>, offset?: number): void;
  /**
   * Device -> host: the buffer as it is once every kernel issued before this call has run, even if
   * later kernels change it before the promise settles. f32 buffers read as Float32Array.
   */
  read(buffer: DeviceBuffer): Promise<Float32Array | Int32Array>;
  /** Frees a buffer allocated by {@link allocate}; it and its views must not be used again. */
  release(buffer: DeviceBuffer): void;
  fill(buffer: DeviceBuffer, value: number): void;
  copy(destination: DeviceBuffer, source: DeviceBuffer): void;

  /** out (M, N) = alpha * op(a) (M, K) @ op(b) (K, N) [+ out]. */
  matmul(
    out: DeviceBuffer,
    a: DeviceBuffer,
    b: DeviceBuffer,
    shape: MatmulShape,
    options?: MatmulOptions,
  ): void;
  /** out (R, C) += vector (C) on every row. */
  addRowVector(out: DeviceBuffer, vector: DeviceBuffer, rows: number, cols: number): void;
  /** sums (C) += the column sums of x (R, C): the gradient of a bias. */
  sumRows(sums: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void;
  /** out = a + b, elementwise. */
  add(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer): void;
  /** out = a * b (or out += a * b), elementwise. */
  multiply(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer, accumulate?: boolean): void;
  /** y += alpha * x. */
  axpy(y: DeviceBuffer, x: DeviceBuffer, alpha: number): void;
  /** x *= factor, in place. */
  scale(x: DeviceBuffer, factor: number): void;
  /** out (1) = the sum of the squares of x. */
  sumOfSquares(out: DeviceBuffer, x: DeviceBuffer): void;
  /**
   * x *= min(1, maxNorm / (sqrt(sumOfSquares[0]) + 1e-6)), reading the sum on the device, so
   * clipping by global norm needs no round trip to the host (torch.nn.utils.clip_grad_norm_).
   */
  clipToNorm(x: DeviceBuffer, sumOfSquares: DeviceBuffer, maxNorm: number): void;
  /**
   * Inverted-dropout mask: mask[i] = 0 when {@link dropoutDraw}(seed, i) < probability * 2^32,
   * else 1 / (1 - probability). Counter-based, so every back end draws the same mask from a seed.
   */
  dropoutMask(mask: DeviceBuffer, probability: number, seed: number): void;

  /** out (N, C) = table (V, C) rows picked by tokens (N, i32). */
  embeddingForward(
    out: DeviceBuffer,
    table: DeviceBuffer,
    tokens: DeviceBuffer,
    count: number,
    channels: number,
  ): void;
  /** dtable (V, C) += dout (N, C) scattered to the rows named by tokens. */
  embeddingBackward(
    dtable: DeviceBuffer,
    dout: DeviceBuffer,
    tokens: DeviceBuffer,
    count: number,
    channels: number,
  ): void;

  /** out (N, C) = x / rms(x) * weight; rstd (N) = 1 / sqrt(mean(x^2) + eps), kept for backward. */
  rmsNormForward(
    out: DeviceBuffer,
    rstd: DeviceBuffer,
    x: DeviceBuffer,
    weight: DeviceBuffer,
    rows: number,
    cols: number,
    epsilon: number,
  ): void;
  /** dx (N, C) += ..., dweight (C) += ... (dweight null when the weight is frozen). */
  rmsNormBackward(
    dx: DeviceBuffer,
    dweight: DeviceBuffer | null,
    dout: DeviceBuffer,
    x: DeviceBuffer,
    weight: DeviceBuffer,
    rstd: DeviceBuffer,
    rows: number,
    cols: number,
  ): void;

  /**
   * Rotary position embedding in Hugging Face's rotate-half layout, in place on x (N, H, HD):
   * element i < HD/2 pairs with i + HD/2. cos and sin are (P, HD/2) tables; positions (N, i32).
   */
  ropeForward(
    x: DeviceBuffer,
    positions: DeviceBuffer,
    cos: DeviceBuffer,
    sin: DeviceBuffer,
    count: number,
    heads: number,
    headDim: number,
  ): void;
  /** The inverse rotation, in place on dx (N, H, HD): the gradient through {@link ropeForward}. */
  ropeBackward(
    dx: DeviceBuffer,
    positions: DeviceBuffer,
    cos: DeviceBuffer,
    sin: DeviceBuffer,
    count: number,
    heads: number,
    headDim: number,
  ): void;

  /**
   * Scaled dot-product attention with grouped key/value heads (query head h reads kv head
   * h / (NH / NKV)). out (B, T, NH, HD); logSumExp (B, NH, T) kept for backward; q (B, T, NH, HD);
   * k, v (B, S, NKV, HD). A query with an empty window gets zeros.
   */
  attentionForward(
    out: DeviceBuffer,
    logSumExp: DeviceBuffer,
    q: DeviceBuffer,
    k: DeviceBuffer,
    v: DeviceBuffer,
    window: AttentionWindow,
    shape: AttentionShape,
  ): void;
  /** dq, dk, dv += the gradients of {@link attentionForward}, from its inputs, output and logSumExp. */
  attentionBackward(
    dq: DeviceBuffer,
    dk: DeviceBuffer,
    dv: DeviceBuffer,
    dout: DeviceBuffer,
    q: DeviceBuffer,
    k: DeviceBuffer,
    v: DeviceBuffer,
    out: DeviceBuffer,
    logSumExp: DeviceBuffer,
    window: AttentionWindow,
    shape: AttentionShape,
  ): void;

  /** out (N, I) = silu(gate) * up. */
  swigluForward(out: DeviceBuffer, gate: DeviceBuffer, up: DeviceBuffer): void;
  /** dgate, dup (N, I) += the gradients of {@link swigluForward}. */
  swigluBackward(
    dgate: DeviceBuffer,
    dup: DeviceBuffer,
    dout: DeviceBuffer,
    gate: DeviceBuffer,
    up: DeviceBuffer,
  ): void;

  /** losses (N) = -log softmax(logits (N, V))[target]; targets (N, i32). */
  crossEntropyForward(
    losses: DeviceBuffer,
    logits: DeviceBuffer,
    targets: DeviceBuffer,
    rows: number,
    vocab: number,
  ): void;
  /**
   * dlogits (N, V) = (softmax(logits) - onehot(target)) * weights[n] * scale, written, not added;
   * dlogits may be logits itself, which saves the largest activation of the model.
   */
  crossEntropyBackward(
    dlogits: DeviceBuffer,
    logits: DeviceBuffer,
    targets: DeviceBuffer,
    weights: DeviceBuffer,
    scale: number,
    rows: number,
    vocab: number,
  ): void;
  /** out (N, i32) = the index of each row's largest value in x (N, V); the first on ties. */
  argmax(out: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void;

  /** One AdamW update (decoupled weight decay, bias correction) of param, with its m and v. */
  adamw(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, step: AdamWStep): void;
}

/** A 32-bit integer hash (Wellons' lowbias32): good avalanche in five operations, easy in C or CUDA. */
function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The uniform 32-bit draw behind element i of a dropout mask with this seed: part of the contract. */
export function dropoutDraw(seed: number, index: number): number {
  return mix32((mix32(index) + (seed >>> 0)) >>> 0);
}
