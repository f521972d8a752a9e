import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, createBackend } from '../../../trainer/src/engine/backends';
import { Random } from '../../../trainer/src/engine/random';
import { readModelConfig } from '../../../trainer/src/model/config';
import { loadHfWeights } from '../../../trainer/src/model/hf-weights';
import { LlamaModel } from '../../../trainer/src/model/llama';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import { type HostTensor, readSafetensors } from '../../../trainer/src/model/safetensors';
import { relativeError } from '../../helpers/trainer/assertions';

const FIXTURES = join(__dirname, '../fixtures/parity');

async function loadCase(name: string) {
  const dir = join(FIXTURES, name);
  const config = await readModelConfig(dir);
  const weights = await loadHfWeights(dir, config);
  const inputs = JSON.parse(await readFile(join(dir, 'inputs.json'), 'utf8')) as Record<
    'tokens' | 'targets' | 'weights' | 'positions',
    number[][]
  >;
  const expected = await readSafetensors(join(dir, 'expected.safetensors'));
  let method: TrainingMethod = { kind: 'full' };
  let adapter: Map<string, HostTensor> | undefined;
  if (name.includes('lora')) {
    const adapterConfig = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    method = {
      kind: 'lora',
      rank: adapterConfig.r,
      alpha: adapterConfig.lora_alpha,
      dropout: 0,
      targetModules: adapterConfig.target_modules,
    };
    const raw = await readSafetensors(join(dir, 'adapter_model.safetensors'));
    adapter = new Map([...raw].map(([key, tensor]) => [key.replace(/^base_model\.model\./, ''), tensor]));
  }
  const batch = {
    batch: inputs.tokens.length,
    length: inputs.tokens[0]!.length,
    tokens: Int32Array.from(inputs.tokens.flat()),
    targets: Int32Array.from(inputs.targets.flat()),
    weights: Float32Array.from(inputs.weights.flat()),
    positions: Int32Array.from(inputs.positions.flat()),
  };
  return { config, weights, adapter, method, batch, expected };
}

const CASES = ['llama-lora-gqa', 'qwen2-lora-bias', 'llama-full-bias', 'mistral-full', 'qwen2-full-tied'];

// Every back end this build has must pass, so a faster one is held to the same fixtures.
describe.each(BACKEND_NAMES.flatMap((backendName) => CASES.map((name) => [backendName, name] as const)))(
  'parity with PyTorch on %s: %s',
  (backendName, name) => {
    it('matches logits and loss within 1e-4 and every gradient within 1e-3 (max error over max magnitude, per tensor)', async () => {
      // Prepare
      const { config, weights, adapter, method, batch, expected } = await loadCase(name);
      const backend = createBackend(backendName);
      const model = LlamaModel.create(backend, config, method, {
        weights,
        adapter,
        random: Random.fromSeed(1),
      });

      // Act
      model.forward(batch, { training: true });
      const totals = await model.lossTotals();
      const logits = await model.logits();
      backend.fill(model.parameters.gradients, 0);
      model.backward(1 / totals.weight);

      // Assess
      expect(relativeError(logits, expected.get('logits')!.data)).toBeLessThan(1e-4);
      expect(
        Math.abs(totals.loss / totals.weight - expected.get('loss')!.data[0]!) /
          expected.get('loss')!.data[0]!,
      ).toBeLessThan(1e-4);
      const gradients = new Map(
        [...expected]
          .filter(([key]) => key.startsWith('grad.'))
          .map(([key, tensor]) => [key.slice(5).replace(/^base_model\.model\./, ''), tensor]),
      );
      expect([...gradients.keys()].sort()).toEqual(
        model.parameters
          .trainableParameters()
          .map((p) => p.name)
          .sort(),
      );
      const errors: Record<string, number> = {};
      for (const [parameterName, reference] of gradients) {
        errors[parameterName] = relativeError(
          await backend.read(model.parameters.get(parameterName).gradient!),
          reference.data,
        );
      }
      const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0]!;
      expect(worst[1], `gradient of ${worst[0]}`).toBeLessThan(1e-3);
      expect(Object.keys(errors).length).toBeGreaterThan(3);
    });
  },
);
