import type { Backend } from '../engine/backend';
import { createBackend } from '../engine/backends';
import { TrainingConfigError } from '../engine/errors';
import { Random } from '../engine/random';
import { LlamaModel } from '../model/llama';
import type { HostTensor } from '../model/safetensors';
import { baseParameterShapes } from '../model/structure';
import type { TokenizedExample } from '../train/examples';
import { DEFAULT_TRAINING, TrainingRun } from '../train/run';
import { PRESETS } from './presets';

export interface TrainBenchOptions {
  readonly preset: string;
  readonly method: 'lora' | 'full';
  readonly backend: string;
  /** Timed steps, after three untimed warm-up steps. */
  readonly steps: number;
}

/** One line of `whet bench train --json`. */
export interface TrainBenchResult {
  readonly tokens_per_s: number;
  /** Matrix-multiply work only (2 m n k per product), the part every back end does alike. */
  readonly gflop_per_s: number;
  readonly ms_per_step: number;
  readonly backend: string;
  readonly method: string;
  readonly peak_rss_mb: number;
}

const WARMUP_STEPS = 3;

/** Counts the multiply-adds a back end's matmul performs, to turn time into FLOP/s. */
function countMatmulFlops(backend: Backend): () => number {
  let flops = 0;
  const matmul = backend.matmul.bind(backend);
  backend.matmul = (out, a, b, shape, options) => {
    flops += 2 * shape.m * shape.n * shape.k;
    matmul(out, a, b, shape, options);
  };
  return () => flops;
}

/** Trains the preset on random tokens and times whole optimizer steps. */
export async function benchTrain(options: TrainBenchOptions): Promise<TrainBenchResult> {
  const preset = PRESETS[options.preset];
  if (!preset)
    throw new TrainingConfigError(
      'preset',
      `no preset "${options.preset}"; available: ${Object.keys(PRESETS).join(', ')}`,
    );
  const { config, sequenceLength, batchSize } = preset;
  const random = Random.fromSeed(1);
  const weights = new Map<string, HostTensor>();
  for (const { name, shape } of baseParameterShapes(config)) {
    const offset = name.endsWith('norm.weight') ? 1 : 0;
    weights.set(name, {
      shape,
      data: Float32Array.from(
        { length: shape.reduce((a, b) => a * b, 1) },
        () => offset + 0.02 * random.normal(),
      ),
    });
  }
  const backend = createBackend(options.backend);
  const flops = countMatmulFlops(backend);
  const method = options.method === 'lora' ? preset.lora : ({ kind: 'full' } as const);
  const model = LlamaModel.create(backend, config, method, { weights, random });
  const examples: TokenizedExample[] = Array.from({ length: batchSize }, () => ({
    tokens: Int32Array.from({ length: sequenceLength }, () => random.below(config.vocabSize)),
    lossWeights: new Float32Array(sequenceLength).fill(1),
  }));
  const steps = WARMUP_STEPS + options.steps;
  const run = new TrainingRun(model, examples, {
    ...DEFAULT_TRAINING,
    padToken: 0,
    epochs: steps,
    batchSize,
    learningRate: 1e-4,
    warmupRatio: 0,
  });
  for (let i = 0; i < WARMUP_STEPS; i++) await run.step();
  const flopsBefore = flops();
  const started = performance.now();
  for (let i = 0; i < options.steps; i++) await run.step();
  const seconds = (performance.now() - started) / 1000;
  return {
    tokens_per_s: (options.steps * batchSize * sequenceLength) / seconds,
    gflop_per_s: (flops() - flopsBefore) / seconds / 1e9,
    ms_per_step: (seconds * 1000) / options.steps,
    backend: backend.name,
    method: options.method,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}
