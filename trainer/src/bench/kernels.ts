import type { Backend, MatmulOptions, MatmulShape } from '../engine/backend';
import { BACKEND_NAMES, createBackend } from '../engine/backends';
import { loadNativeAddon } from '../engine/native';
import { TINY_LLAMA } from './presets';

export interface GemmCase {
  readonly name: string;
  readonly shape: MatmulShape;
  readonly options: MatmulOptions;
  /** Memory-bound by shape (a rank-8 side of LoRA): reported, not held to the FMA peak. */
  readonly bandwidthBound: boolean;
}

/** The products one training step of the tiny-llama preset runs, forward and backward. */
export function presetGemmCases(): GemmCase[] {
  const { config, batchSize, sequenceLength } = TINY_LLAMA;
  const N = batchSize * sequenceLength;
  const C = config.hiddenSize;
  const I = config.intermediateSize;
  const V = config.vocabSize;
  const r = 8;
  const gemm = (
    name: string,
    m: number,
    n: number,
    k: number,
    options: MatmulOptions = {},
    bandwidthBound = false,
  ): GemmCase => ({
    name,
    shape: { m, n, k },
    options,
    bandwidthBound,
  });
  return [
    gemm('attention projection x W^T', N, C, C, { transB: true }),
    gemm('mlp up x W^T', N, I, C, { transB: true }),
    gemm('mlp down x W^T', N, C, I, { transB: true }),
    gemm('lm head x W^T', N, V, C, { transB: true }),
    gemm('backward dx = dy W', N, C, C),
    gemm('backward dW = dy^T x', C, C, N, { transA: true }),
    gemm('backward mlp dW = dy^T x', I, C, N, { transA: true }),
    gemm('lora x A^T (rank 8)', N, r, C, { transB: true }, true),
    gemm('lora h B^T (rank 8)', N, C, r, { transB: true }, true),
  ];
}

export interface GemmMeasurement extends GemmCase {
  readonly gflops: number;
}

/** GFLOP/s of one product: the best of three timings, each repeating it for at least `minimumSeconds / 3`. */
export async function timeGemm(
  backend: Backend,
  gemmCase: GemmCase,
  minimumSeconds: number,
): Promise<number> {
  const { m, n, k } = gemmCase.shape;
  const buffer = (length: number) => {
    const created = backend.allocate('f32', length);
    backend.write(
      created,
      Float32Array.from({ length }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5),
    );
    return created;
  };
  const [out, a, b] = [buffer(m * n), buffer(m * k), buffer(k * n)];
  backend.matmul(out, a, b, gemmCase.shape, gemmCase.options);
  await backend.read(backend.view(out, 0, 1));
  let best = 0;
  for (let timing = 0; timing < 3; timing++) {
    let repetitions = 0;
    const started = performance.now();
    do {
      backend.matmul(out, a, b, gemmCase.shape, gemmCase.options);
      repetitions += 1;
    } while ((performance.now() - started) / 1000 < minimumSeconds / 3);
    await backend.read(backend.view(out, 0, 1));
    const seconds = (performance.now() - started) / 1000;
    best = Math.max(best, (2 * m * n * k * repetitions) / seconds / 1e9);
  }
  for (const created of [out, a, b]) backend.release(created);
  return best;
}

export interface KernelBenchResult {
  readonly fma_peak_gflops: number;
  readonly fma_width: string;
  readonly threads: number;
  /** The native back end's GEMM kernel: `avx512`, `avx2` or `portable`. */
  readonly gemm_kernel: string;
  readonly backends: Readonly<Record<string, readonly GemmMeasurement[]>>;
}

/** SGEMM GFLOP/s per back end on the preset's shapes, beside the machine's measured FMA peak. */
export async function benchKernels(
  options: { readonly backends?: readonly string[]; readonly seconds?: number } = {},
): Promise<KernelBenchResult> {
  const addon = loadNativeAddon();
  const threads = addon.hardwareThreads();
  // The best of several short runs, before and after the products: a shared machine only ever
  // slows a run down, so the fastest is the closest to the hardware's ceiling.
  const peaks = Array.from({ length: 5 }, () => addon.fmaPeak(200, threads));
  const backends: Record<string, GemmMeasurement[]> = {};
  for (const name of options.backends ?? BACKEND_NAMES) {
    const backend = createBackend(name);
    backends[name] = [];
    for (const gemmCase of presetGemmCases()) {
      backends[name].push({ ...gemmCase, gflops: await timeGemm(backend, gemmCase, options.seconds ?? 0.5) });
    }
  }
  peaks.push(...Array.from({ length: 5 }, () => addon.fmaPeak(200, threads)));
  const peak = peaks.reduce((best, next) => (next.gflops > best.gflops ? next : best));
  return {
    fma_peak_gflops: peak.gflops,
    fma_width: peak.width,
    threads,
    gemm_kernel: addon.gemmKernel(),
    backends,
  };
}
