/*
 * The whole model's backward pass against central finite differences in float64 (h = 1e-6): for
 * each trainable tensor, max |analytic - numeric| over the checked entries divided by the largest
 * |gradient| among them (the tensor's largest-gradient entry is always checked) must be below 1e-6.
 * The loss is the step's mean, sum(weight * loss) / sum(weight), and backward runs with
 * lossScale = 1 / sum(weight) after the gradients are zeroed, as training does.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceBuffer } from '../../../trainer/src/engine/backend';
import { Random } from '../../../trainer/src/engine/random';
import { ReferenceBackend } from '../../../trainer/src/engine/reference';
import type { FloatArray } from '../../../trainer/src/engine/reference/arrays';
import type { TokenBatch } from '../../../trainer/src/model/batch';
import { type ModelConfig, parseModelConfig } from '../../../trainer/src/model/config';
import { type ForwardOptions, LlamaModel } from '../../../trainer/src/model/llama';
import type { TrainingMethod } from '../../../trainer/src/model/method';
import { expectGradient, GRADIENT_TOLERANCE, sampleIndices } from '../../helpers/trainer/gradient-check';
import { randomAdapter, randomWeights } from '../../helpers/trainer/weights';

/**
 * The float64 reference back end, holding on to the buffer of per-token losses the model last
 * computed. `lossTotals()` reads losses through `Backend.read`, which returns float32: rounding the
 * loss to float32 before differencing would swamp a 1e-6 step, so the checks sum these instead.
 */
class LossRecordingBackend extends ReferenceBackend {
  losses: DeviceBuffer | null = null;

  constructor() {
    super('f64');
  }

  override crossEntropyForward(
    losses: DeviceBuffer,
    logits: DeviceBuffer,
    targets: DeviceBuffer,
    rows: number,
    vocab: number,
  ): void {
    this.losses = losses;
    super.crossEntropyForward(losses, logits, targets, rows, vocab);
  }
}

// hidden 8, 4 heads of dimension 2 sharing 2 key/value heads, 2 layers, vocabulary 11
const LLAMA_WITH_BIAS = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 11,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  attention_bias: true,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 32,
  tie_word_embeddings: false,
};
// Qwen2: q/k/v bias, none on o_proj; the LM head is the embedding
const QWEN2_TIED = {
  ...LLAMA_WITH_BIAS,
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  attention_bias: undefined,
  tie_word_embeddings: true,
};

/**
 * B = 2 rows of T = 6. Row 0 packs two sequences (positions 0 1 2 0 1 2): a query sees keys
 * i - positions[i] .. i. Row 1 is one sequence of 4 and 2 padding tokens. Weight 0 marks prompt,
 * padding and the last token of a sequence; one weight is 0.5. Tokens repeat, within and across rows.
 */
const BATCH: TokenBatch = {
  batch: 2,
  length: 6,
  tokens: Int32Array.from([3, 7, 3, 1, 9, 3, 5, 3, 3, 8, 0, 0]),
  positions: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 0, 0]),
  targets: Int32Array.from([7, 3, 0, 9, 3, 0, 3, 3, 8, 2, 0, 0]),
  weights: Float32Array.from([1, 0.5, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0]),
};

/** Base weights' standard deviation: large enough that every gradient is well above the loss's rounding. */
function weightScale(name: string): number {
  return name.endsWith('norm.weight') ? 0.2 : name === 'model.embed_tokens.weight' ? 1 : 0.5;
}

interface Setup {
  readonly config: ModelConfig;
  readonly method: TrainingMethod;
  readonly adapter?: boolean;
  /** Fresh for every forward pass, so each draws the same dropout masks. */
  readonly forwardOptions?: () => ForwardOptions;
}

function build(setup: Setup) {
  const backend = new LossRecordingBackend();
  const model = LlamaModel.create(backend, setup.config, setup.method, {
    weights: randomWeights(setup.config, 1, weightScale),
    // B is random too, so every LoRA path carries gradient.
    adapter: setup.adapter ? randomAdapter(setup.config, setup.method, 2, 0.5) : undefined,
    random: Random.fromSeed(3),
  });
  const forwardOptions = setup.forwardOptions ?? (() => ({}));
  const totalWeight = BATCH.weights!.reduce((a, b) => a + b, 0);
  const meanLoss = () => {
    model.forward(BATCH, forwardOptions());
    const losses = backend.elements(backend.losses!) as FloatArray;
    let sum = 0;
    for (let i = 0; i < losses.length; i++) sum += BATCH.weights![i]! * losses[i]!;
    return sum / totalWeight;
  };
  const elements = (buffer: DeviceBuffer) => backend.elements(buffer) as FloatArray;
  return { backend, model, meanLoss, elements, forwardOptions };
}

/** Gradients as training computes them: zeroed, forward, backward(1 / total weight). */
async function analyticGradients(built: ReturnType<typeof build>): Promise<void> {
  const { backend, model, forwardOptions } = built;
  backend.fill(model.parameters.gradients, 0);
  model.forward(BATCH, forwardOptions());
  const totals = await model.lossTotals();
  expect(totals.weight).toBe(6.5);
  model.backward(1 / totals.weight);
}

/** Checks `samples` random entries of every trainable tensor plus its largest-gradient entry. */
function checkEveryTrainableTensor(built: ReturnType<typeof build>, samples: number): string[] {
  const { model, meanLoss, elements } = built;
  const random = Random.fromSeed(4);
  const checked: string[] = [];
  for (const parameter of model.parameters.trainableParameters()) {
    const analytic = elements(parameter.gradient!);
    expectGradient(parameter.name, {
      loss: meanLoss,
      input: elements(parameter.value),
      analytic,
      indices: sampleIndices(analytic, samples, random),
    });
    checked.push(parameter.name);
  }
  return checked;
}

const llama = parseModelConfig(LLAMA_WITH_BIAS);
const qwen2Tied = parseModelConfig(QWEN2_TIED);

describe('whole-model finite-difference gradient checks (float64, h = 1e-6)', () => {
  it(`full fine-tuning, untied, q/k/v/o bias: every tensor within ${GRADIENT_TOLERANCE}`, async () => {
    // Prepare
    const built = build({ config: llama, method: { kind: 'full' } });

    // Act
    await analyticGradients(built);

    // Assess
    const checked = checkEveryTrainableTensor(built, 8);
    expect(checked).toHaveLength(1 + 2 * 13 + 2);
    expect(checked).toContain('lm_head.weight');
    expect(checked).toContain('model.layers.0.self_attn.o_proj.bias');
  });

  it('full fine-tuning, tied embeddings (Qwen2): the embedding gets the LM head gradient too', async () => {
    // Prepare
    const built = build({ config: qwen2Tied, method: { kind: 'full' } });

    // Act
    await analyticGradients(built);

    // Assess
    const checked = checkEveryTrainableTensor(built, 8);
    expect(checked).toHaveLength(1 + 2 * 12 + 1);
    expect(checked).not.toContain('lm_head.weight');
    // Tokens 2, 4, 6 and 10 are never input, so their rows are reached only through the LM head.
    const embedding = built.model.parameters.get('model.embed_tokens.weight');
    const rows = [2, 4, 6, 10].flatMap((token) => Array.from({ length: 8 }, (_, c) => token * 8 + c));
    expectGradient('unused embedding rows', {
      loss: built.meanLoss,
      input: built.elements(embedding.value),
      analytic: built.elements(embedding.gradient!),
      indices: rows,
    });
  });

  it('LoRA on every linear with B non-zero, dropout 0: A and B of every projection', async () => {
    // Prepare
    const method: TrainingMethod = {
      kind: 'lora',
      rank: 2,
      alpha: 4,
      dropout: 0,
      targetModules: 'all-linear',
    };
    const built = build({ config: llama, method, adapter: true });

    // Act
    await analyticGradients(built);

    // Assess
    const checked = checkEveryTrainableTensor(built, 8);
    expect(checked).toHaveLength(2 * 7 * 2);
    expect(checked.every((name) => /\.lora_[AB]\.weight$/.test(name))).toBe(true);
    const base = built.model.parameters.all().filter((parameter) => !parameter.trainable);
    expect(base.map((parameter) => parameter.gradient)).toEqual(base.map(() => null));
  });

  it('LoRA on some modules with dropout 0.25: the same masks in every pass give matching gradients', async () => {
    // Prepare
    const method: TrainingMethod = {
      kind: 'lora',
      rank: 3,
      alpha: 6,
      dropout: 0.25,
      targetModules: ['q_proj', 'v_proj', 'down_proj'],
    };
    const built = build({
      config: qwen2Tied,
      method,
      adapter: true,
      forwardOptions: () => ({ training: true, random: Random.fromSeed(5) }),
    });

    // Act
    await analyticGradients(built);

    // Assess
    const checked = checkEveryTrainableTensor(built, 8);
    expect(checked).toHaveLength(2 * 3 * 2);
  });

  it('partial (layer 1 only): layer 1 matches, everything else is frozen without a gradient', async () => {
    // Prepare
    const built = build({ config: llama, method: { kind: 'partial', layers: [1] } });

    // Act
    await analyticGradients(built);

    // Assess
    const checked = checkEveryTrainableTensor(built, 8);
    expect(checked).toHaveLength(13);
    expect(checked.every((name) => name.startsWith('model.layers.1.'))).toBe(true);
    const frozen = built.model.parameters
      .all()
      .filter((parameter) => !parameter.name.startsWith('model.layers.1.'));
    expect(frozen.map((parameter) => [parameter.name, parameter.trainable, parameter.gradient])).toEqual(
      frozen.map((parameter) => [parameter.name, false, null]),
    );
    expect(frozen.map((parameter) => parameter.name)).toContain('model.layers.0.self_attn.q_proj.weight');
  });

  it('micro-batches add up: row 0 then row 1, each scaled by the total weight, give the whole batch', async () => {
    // Prepare
    const built = build({ config: llama, method: { kind: 'full' } });
    const { backend, model, elements } = built;
    const row = (index: number): TokenBatch => {
      const slice = (array: Int32Array | Float32Array) => array.slice(index * 6, (index + 1) * 6);
      return {
        batch: 1,
        length: 6,
        tokens: slice(BATCH.tokens) as Int32Array,
        positions: slice(BATCH.positions) as Int32Array,
        targets: slice(BATCH.targets!) as Int32Array,
        weights: slice(BATCH.weights!) as Float32Array,
      };
    };
    await analyticGradients(built);
    const whole = Float64Array.from(elements(model.parameters.gradients));

    // Act
    backend.fill(model.parameters.gradients, 0);
    for (const index of [0, 1]) {
      model.forward(row(index));
      model.backward(1 / 6.5);
    }

    // Assess
    const accumulated = elements(model.parameters.gradients);
    let difference = 0;
    let largest = 0;
    for (let i = 0; i < whole.length; i++) {
      difference = Math.max(difference, Math.abs(accumulated[i]! - whole[i]!));
      largest = Math.max(largest, Math.abs(whole[i]!));
    }
    expect(largest).toBeGreaterThan(0.1);
    expect(difference / largest).toBeLessThan(1e-12);
  });
});
