import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../../../trainer/src/engine/backends';
import { loadNativeAddon } from '../../../../trainer/src/engine/native';
import { Random } from '../../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { largestDifference } from '../../../helpers/trainer/numeric';

const addon = loadNativeAddon();

afterAll(() => {
  addon.useGemmKernel('best');
});

function randomArray(random: Random, length: number): Float32Array {
  return Float32Array.from({ length }, () => random.uniform(-1, 1));
}

// Odd sizes around the kernels' tiles (6 x 16, 14 x 32) and blocks (K 256; M 96 and 224; N 2048
// and 4096), and shapes thin enough that the threads split columns instead of rows.
const SHAPES = [
  [1, 1, 1],
  [7, 33, 5],
  [33, 7, 257],
  [6, 16, 1],
  [14, 32, 2],
  [97, 130, 300],
  [257, 1, 33],
  [230, 45, 520],
  [3, 4100, 7],
] as const;
const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

describe.each(addon.gemmKernels())('native sgemm, %s kernel', (kernel) => {
  it.each(
    SHAPES.flatMap((shape) =>
      TRANSPOSES.flatMap((t) => [true, false].map((accumulate) => [...shape, ...t, accumulate] as const)),
    ),
  )(
    'equals the reference on (m %d, n %d, k %d), transA %s, transB %s, accumulate %s, within 1e-4 * sqrt(K)',
    async (m, n, k, transA, transB, accumulate) => {
      // Prepare
      addon.useGemmKernel(kernel);
      const random = Random.fromSeed(m * 10_007 + n * 101 + k);
      const reference = new ReferenceBackend();
      const native = createBackend('native');
      const a = randomArray(random, m * k);
      const b = randomArray(random, k * n);
      const start = randomArray(random, m * n);
      const run = (backend: ReferenceBackend | ReturnType<typeof createBackend>) => {
        const [out, bufferA, bufferB] = [start, a, b].map((values) => {
          const buffer = backend.allocate('f32', values.length);
          backend.write(buffer, values);
          return buffer;
        }) as [
          ReturnType<typeof backend.allocate>,
          ReturnType<typeof backend.allocate>,
          ReturnType<typeof backend.allocate>,
        ];
        backend.matmul(out, bufferA, bufferB, { m, n, k }, { transA, transB, accumulate, alpha: 0.75 });
        return backend.read(out);
      };

      // Act
      const [want, got] = await Promise.all([run(reference), run(native)]);

      // Assess: each output is a sum of k products of values in [-1, 1].
      expect(largestDifference(got, want)).toBeLessThan(1e-4 * Math.sqrt(k) * 0.75 + 1e-6);
    },
  );
});

describe('native back end', () => {
  it('loads here, with the widest GEMM kernel this CPU runs', () => {
    // Act
    const backend = createBackend('native');

    // Assess
    expect(backend.name).toBe('native');
    expect(addon.gemmKernels()).toEqual(expect.arrayContaining(['portable', 'portable-14x32']));
    expect(addon.useGemmKernel('best')).toBe(addon.gemmKernels().at(-1));
  });

  it('refuses a kernel this CPU does not run, naming the ones it does', () => {
    // Act
    const failure = (() => {
      try {
        addon.useGemmKernel('avx9');
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(failure).toEqual(
      new TypeError(
        `useGemmKernel: 'avx9' is not a GEMM kernel this CPU runs; it runs ${addon.gemmKernels().join(', ')} (or 'best')`,
      ),
    );
  });

  it('overwrites without accumulate, and handles an empty product', async () => {
    // Prepare
    const native = createBackend('native');
    const out = native.allocate('f32', 4);
    native.write(out, [9, 9, 9, 9]);
    const a = native.allocate('f32', 4);
    native.write(a, [1, 2, 3, 4]);
    const b = native.allocate('f32', 4);
    native.write(b, [5, 6, 7, 8]);
    const empty = native.allocate('f32', 6);
    native.write(empty, [1, 1, 1, 1, 1, 1]);

    // Act
    native.matmul(out, a, b, { m: 2, n: 2, k: 2 });
    const product = await native.read(out);
    native.matmul(empty, a, b, { m: 2, n: 3, k: 0 });

    // Assess
    expect([...product]).toEqual([19, 22, 43, 50]);
    expect([...(await native.read(empty))]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
