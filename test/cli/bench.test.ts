import { describe, expect, it } from 'vitest';
import { whet } from './whet';

describe('whet bench kernels', () => {
  it('prints one JSON line: the FMA peak and the GFLOP/s of every preset product per back end', async () => {
    // Act
    const run = await whet(['bench', 'kernels', '--backend', 'native', '--seconds', '0.01', '--json'], {});

    // Assess
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? '');
    expect(result.fma_width).toMatch(/^(avx512|avx2|scalar)$/);
    expect(result.gemm_kernel).toMatch(/^(avx512|avx2|portable)$/);
    expect(result.threads).toBeGreaterThanOrEqual(1);
    expect(result.fma_peak_gflops).toBeGreaterThan(0);
    expect(Object.keys(result.backends)).toEqual(['native']);
    const measured = result.backends.native as {
      name: string;
      shape: { m: number; n: number; k: number };
      gflops: number;
      bandwidthBound: boolean;
    }[];
    expect(measured.map((m) => [m.name, m.shape.m, m.shape.n, m.shape.k, m.bandwidthBound])).toEqual([
      ['attention projection x W^T', 2048, 256, 256, false],
      ['mlp up x W^T', 2048, 688, 256, false],
      ['mlp down x W^T', 2048, 256, 688, false],
      ['lm head x W^T', 2048, 4096, 256, false],
      ['backward dx = dy W', 2048, 256, 256, false],
      ['backward dW = dy^T x', 256, 256, 2048, false],
      ['backward mlp dW = dy^T x', 688, 256, 2048, false],
      ['lora x A^T (rank 8)', 2048, 8, 256, true],
      ['lora h B^T (rank 8)', 2048, 256, 8, true],
    ]);
    for (const m of measured) expect(m.gflops).toBeGreaterThan(0);
  }, 60_000);
});
