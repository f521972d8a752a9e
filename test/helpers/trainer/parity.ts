import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBackend } from '../../../trainer/src/engine/backends';
import { Random } from '../../../trainer/src/engine/random';
import { readModelConfig } from '../../../trainer/src/model/config';
import { loadHfWeights } from '../../../trainer/src/model/hf-weights';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import { readLoraAdapter } from '../../../trainer/src/model/peft';
import { readSafetensors } from '../../../trainer/src/model/safetensors';
import { relativeError } from './numeric';

export const PARITY_FIXTURES = join(__dirname, '../../trainer/fixtures/parity');
export const PARITY_CASES = [
  'llama-lora-gqa',
  'qwen2-lora-bias',
  'llama-full-bias',
  'mistral-full',
  'qwen2-full-tied',
];

/** How far one back end is from PyTorch on one fixture: max |ours - PyTorch| / max |PyTorch|, per tensor. */
export interface ParityErrors {
  readonly logits: number;
  readonly loss: number;
  /** By parameter name; the fixture's gradient names and the model's trainable ones, which must agree. */
  readonly gradients: Readonly<Record<string, number>>;
  readonly trainable: readonly string[];
}

/** One fixture's forward and backward on a back end, compared with the committed PyTorch results. */
export async function measureParity(backendName: string, name: string): Promise<ParityErrors> {
  const dir = join(PARITY_FIXTURES, name);
  const config = await readModelConfig(dir);
  const inputs = JSON.parse(await readFile(join(dir, 'inputs.json'), 'utf8')) as Record<
    'tokens' | 'targets' | 'weights' | 'positions',
    number[][]
  >;
  const expected = await readSafetensors(join(dir, 'expected.safetensors'));
  const adapter = name.includes('lora') ? await readLoraAdapter(dir, config) : undefined;
  // Dropout is a training-time draw PyTorch cannot share; the fixtures are made without it.
  const method: TrainingMethod = adapter ? { ...adapter.method, dropout: 0 } : { kind: 'full' };
  const backend = createBackend(backendName);
  const model = LlamaModel.create(backend, config, method, {
    weights: await loadHfWeights(dir, config),
    adapter: adapter?.tensors,
    random: Random.fromSeed(1),
  });
  model.forward({
    batch: inputs.tokens.length,
    length: inputs.tokens[0]!.length,
    tokens: Int32Array.from(inputs.tokens.flat()),
    targets: Int32Array.from(inputs.targets.flat()),
    weights: Float32Array.from(inputs.weights.flat()),
    positions: Int32Array.from(inputs.positions.flat()),
  });
  const totals = await model.lossTotals();
  const logits = await model.logits();
  backend.fill(model.parameters.gradients, 0);
  model.backward(1 / totals.weight);
  const expectedLoss = expected.get('loss')!.data[0]!;
  const gradients: Record<string, number> = {};
  for (const [key, tensor] of expected) {
    if (!key.startsWith('grad.')) continue;
    const parameter = model.parameters.get(key.slice('grad.'.length).replace(/^base_model\.model\./, ''));
    gradients[parameter.name] = relativeError(await backend.read(parameter.gradient!), tensor.data);
  }
  return {
    logits: relativeError(logits, expected.get('logits')!.data),
    loss: Math.abs(totals.loss / totals.weight - expectedLoss) / expectedLoss,
    gradients,
    trainable: model.parameters.trainableParameters().map((parameter) => parameter.name),
  };
}
