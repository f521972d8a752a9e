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
  /** The GEMM micro-kernel in use: `avx2` or `scalar`. */
  gemmKernel(): string;
  /** FMA throughput on `threads` threads for about `milliseconds`, at the widest vector width the CPU runs. */
  fmaPeak(milliseconds: number, threads: number): { gflops: number; width: string };
  hardwareThreads(): number;
  /** Forces the portable kernel (`scalar`) or returns to the widest the CPU runs (`best`). */
  useGemmKernel(kernel: 'scalar' | 'best'): string;
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
