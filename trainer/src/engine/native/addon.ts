import { join } from 'node:path';
import { BackendUnavailableError } from '../errors';

/** The compiled kernels (trainer/native), over Float32Array views of the engine's buffers. */
export interface NativeAddon {
  sgemm(
    out: Float32Array,
    a: Float32Array,
    b: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    accumulate: boolean,
    alpha: number,
  ): void;
  /** The GEMM kernel in use: `avx512`, `avx2`, `portable` or `portable-14x32`. */
  gemmKernel(): string;
  /** The GEMM kernels this CPU runs. */
  gemmKernels(): string[];
  /** FMA throughput on `threads` threads for about `milliseconds`, at the widest vector width the CPU runs. */
  fmaPeak(milliseconds: number, threads: number): { gflops: number; width: string };
  hardwareThreads(): number;
  /**
   * Forces one of `gemmKernels()`, or returns to the fastest the CPU runs (`best`); says which is in
   * use. `portable-14x32` is the AVX-512 kernel's tile, packing and edges on any CPU.
   */
  useGemmKernel(kernel: string): string;
  /**
   * Forces the portable build of every kernel, GEMM included (`scalar`), or returns all to the widest
   * the CPU runs (`best`); says which instruction set the elementwise and attention kernels now use.
   */
  useKernels(kernels: 'scalar' | 'best'): string;

  // The kernels below mirror the Backend methods of the same names (shapes as there).
  // The ones that read indices check them all first and return the first out of range, or -1.
  add(out: Float32Array, a: Float32Array, b: Float32Array): void;
  multiply(out: Float32Array, a: Float32Array, b: Float32Array, accumulate: boolean): void;
  axpy(y: Float32Array, x: Float32Array, alpha: number): void;
  scale(x: Float32Array, factor: number): void;
  /** out[0] = the sum of x squared, accumulated in double. */
  sumOfSquares(out: Float32Array, x: Float32Array): void;
  addRowVector(out: Float32Array, vector: Float32Array, rows: number, cols: number): void;
  sumRows(sums: Float32Array, x: Float32Array, rows: number, cols: number): void;
  dropoutMask(mask: Float32Array, probability: number, seed: number): void;
  embeddingForward(
    out: Float32Array,
    table: Float32Array,
    tokens: Int32Array,
    count: number,
    channels: number,
  ): number;
  embeddingBackward(
    dtable: Float32Array,
    dout: Float32Array,
    tokens: Int32Array,
    count: number,
    channels: number,
  ): number;
  rmsNormForward(
    out: Float32Array,
    rstd: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    rows: number,
    cols: number,
    epsilon: number,
  ): void;
  rmsNormBackward(
    dx: Float32Array,
    dweight: Float32Array | null,
    dout: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
  ): void;
  /** ropeForward, or ropeBackward when `inverse`. */
  rope(
    x: Float32Array,
    positions: Int32Array,
    cos: Float32Array,
    sin: Float32Array,
    count: number,
    heads: number,
    headDim: number,
    inverse: boolean,
  ): number;
  swigluForward(out: Float32Array, gate: Float32Array, up: Float32Array): void;
  swigluBackward(
    dgate: Float32Array,
    dup: Float32Array,
    dout: Float32Array,
    gate: Float32Array,
    up: Float32Array,
  ): void;
  crossEntropyForward(
    losses: Float32Array,
    logits: Float32Array,
    targets: Int32Array,
    rows: number,
    vocab: number,
  ): number;
  crossEntropyBackward(
    dlogits: Float32Array,
    logits: Float32Array,
    targets: Int32Array,
    weights: Float32Array,
    scale: number,
    rows: number,
    vocab: number,
  ): number;
  argmax(out: Int32Array, x: Float32Array, rows: number, cols: number): void;
  adamw(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    weightDecay: number,
    step: number,
  ): void;
  attentionForward(
    out: Float32Array,
    logSumExp: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    start: Int32Array,
    end: Int32Array,
    batch: number,
    queries: number,
    keys: number,
    heads: number,
    kvHeads: number,
    headDim: number,
  ): void;
  attentionBackward(
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    dout: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    logSumExp: Float32Array,
    start: Int32Array,
    end: Int32Array,
    batch: number,
    queries: number,
    keys: number,
    heads: number,
    kvHeads: number,
    headDim: number,
  ): void;
}

/** Where `npm ci` (trainer/native/build.js) leaves the compiled addon. */
export const NATIVE_ADDON_PATH = join(__dirname, '../../../native/build/Release/whetstone_native.node');

let loaded: NativeAddon | undefined;

export function loadNativeAddon(): NativeAddon {
  if (loaded) return loaded;
  try {
    loaded = require(NATIVE_ADDON_PATH) as NativeAddon;
    return loaded;
  } catch (error) {
    throw new BackendUnavailableError(
      'native',
      `the native back end is not built (${NATIVE_ADDON_PATH}: ${(error as Error).message.split('\n')[0]}); run \`node trainer/native/build.js\``,
      { cause: error },
    );
  }
}
