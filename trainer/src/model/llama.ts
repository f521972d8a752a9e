import type { AttentionWindow, Backend, DeviceBuffer } from '../engine/backend';
import { EngineError } from '../engine/errors';
import type { Random } from '../engine/random';
import { attentionWindows, checkBatch, type TokenBatch } from './batch';
import type { ModelConfig } from './config';
import { initialiseParameters, type ModelInit } from './init';
import {
  type DecoderActivations,
  type DecoderScratch,
  decoderBackward,
  decoderForward,
  type KeyValues,
  type Positions,
} from './layers/decoder';
import type { LinearActivations } from './layers/linear';
import { ropeTables } from './layers/rope';
import type { TrainingMethod } from './method';
import { ParameterStore } from './parameters';
import { bindWeights, type DecoderWeights, linearsOf, type ModelWeights, parameterSpecs } from './structure';
import { Workspace } from './workspace';

/** Sums over the weighted tokens of one forward pass. */
export interface LossTotals {
  /** sum of weight * loss */
  readonly loss: number;
  /** sum of weights */
  readonly weight: number;
  /** sum of weight over tokens whose most likely next token is the target */
  readonly correct: number;
}

export interface ForwardOptions {
  /** Training draws dropout masks from `random`; evaluation uses none. */
  readonly training?: boolean;
  readonly random?: Random;
}

export interface GenerateOptions {
  readonly maxNewTokens: number;
  /** Generation ends after any of these; it is included in the result. */
  readonly stopTokens?: readonly number[];
}

export type { ModelInit } from './init';

/** A Llama-family decoder (Llama, Mistral, Qwen2) with explicit forward and backward passes. */
export class LlamaModel {
  readonly backend: Backend;
  readonly config: ModelConfig;
  readonly method: TrainingMethod;
  readonly parameters: ParameterStore;
  readonly weights: ModelWeights;
  readonly #workspace: Workspace;
  /** The lowest layer backward must reach: below it nothing trains. */
  readonly #lowestTrainedLayer: number;
  #ropePositions = 0;
  #cos!: DeviceBuffer;
  #sin!: DeviceBuffer;
  /** The last training-shaped forward pass; backward overwrites its logits with their gradient. */
  #last: {
    batch: TokenBatch;
    activations: DecoderActivations[];
    positions: Positions;
    logitsConsumed: boolean;
  } | null = null;

  private constructor(
    backend: Backend,
    config: ModelConfig,
    method: TrainingMethod,
    parameters: ParameterStore,
  ) {
    this.backend = backend;
    this.config = config;
    this.method = method;
    this.parameters = parameters;
    this.weights = bindWeights(config, method, parameters);
    this.#workspace = new Workspace(backend);
    const trains = (layer: DecoderWeights) =>
      [
        layer.inputNorm,
        layer.postAttentionNorm,
        ...linearsOf(layer).flatMap((l) => [l.weight, l.bias, l.lora?.a, l.lora?.b]),
      ].some((parameter) => parameter?.trainable);
    this.#lowestTrainedLayer = this.weights.embedding.trainable ? 0 : this.weights.layers.findIndex(trains);
    if (this.#lowestTrainedLayer === -1) this.#lowestTrainedLayer = config.numLayers;
    this.#ensureRope(Math.min(config.maxPositionEmbeddings, 256));
  }

  static create(backend: Backend, config: ModelConfig, method: TrainingMethod, init: ModelInit): LlamaModel {
    const parameters = new ParameterStore(backend, parameterSpecs(config, method));
    const model = new LlamaModel(backend, config, method, parameters);
    initialiseParameters(backend, parameters, init);
    return model;
  }

  /** Runs the model over a batch: logits (N, V), and per-token losses when the batch has targets. */
  forward(batch: TokenBatch, options: ForwardOptions = {}): void {
    checkBatch(batch, this.config.vocabSize);
    const { backend, config } = this;
    const N = batch.batch * batch.length;
    const C = config.hiddenSize;
    const positions = this.#positions(batch, attentionWindows(batch, this.config.slidingWindow), 'train');
    const tokens = this.#workspace.get('tokens', 'i32', N);
    backend.write(tokens, batch.tokens);
    const activations = this.weights.layers.map((layer) => this.#layerActivations(layer, N, options));
    backend.embeddingForward(
      activations[0]?.input ?? this.#buffer('residual.0', N * C),
      this.weights.embedding.value,
      tokens,
      N,
      C,
    );
    const projection = this.#buffer('projection', N * C);
    for (const [index, layer] of this.weights.layers.entries()) {
      const a = activations[index]!;
      decoderForward(
        backend,
        config,
        layer,
        a,
        this.#ownKeyValues(index, N, batch.length),
        positions,
        projection,
      );
    }
    this.#head(N, 0, N);
    if (batch.targets) {
      const targets = this.#workspace.get('targets', 'i32', N);
      backend.write(targets, batch.targets);
      const V = config.vocabSize;
      backend.crossEntropyForward(this.#buffer('losses', N), this.#buffer('logits', N * V), targets, N, V);
      backend.argmax(this.#workspace.get('predictions', 'i32', N), this.#buffer('logits', N * V), N, V);
    }
    this.#last = { batch, activations, positions, logitsConsumed: false };
  }

  /** The weighted loss sums of the last forward pass: the one place training waits for the back end. */
  async lossTotals(): Promise<LossTotals> {
    const batch = this.#requireLast().batch;
    if (!batch.targets) throw new EngineError('the last forward pass had no targets');
    const N = batch.batch * batch.length;
    const [losses, predictions] = await Promise.all([
      this.backend.read(this.#buffer('losses', N)),
      this.backend.read(this.#workspace.get('predictions', 'i32', N)),
    ]);
    let loss = 0;
    let weight = 0;
    let correct = 0;
    for (let i = 0; i < N; i++) {
      const w = batch.weights ? batch.weights[i]! : 1;
      if (w === 0) continue;
      loss += w * losses[i]!;
      weight += w;
      if (predictions[i] === batch.targets[i]) correct += w;
    }
    return { loss, weight, correct };
  }

  /** The last forward pass's logits (N, V), on the host. */
  async logits(): Promise<Float32Array> {
    const batch = this.#requireFreshLogits().batch;
    return (await this.backend.read(
      this.#buffer('logits', batch.batch * batch.length * this.config.vocabSize),
    )) as Float32Array;
  }

  /**
   * Adds the gradients of (sum of weight * loss) * lossScale, over the last forward pass, into the
   * trainable parameters' gradients. The caller zeroes gradients at the start of an optimizer step;
   * a lossScale of 1 / (the step's total weight) makes micro-batches add up to the step's mean loss.
   */
  backward(lossScale: number): void {
    const last = this.#requireFreshLogits();
    const { batch, activations, positions } = last;
    if (!batch.targets || !batch.weights)
      throw new EngineError('backward needs a forward pass with targets and weights');
    const { backend, config, weights } = this;
    const N = batch.batch * batch.length;
    const { hiddenSize: C, vocabSize: V } = config;
    const logits = this.#buffer('logits', N * V);
    const lossWeights = this.#buffer('loss-weights', N);
    backend.write(lossWeights, batch.weights);
    backend.crossEntropyBackward(
      logits,
      logits,
      this.#workspace.get('targets', 'i32', N),
      lossWeights,
      lossScale,
      N,
      V,
    );
    last.logitsConsumed = true;
    const finalNorm = this.#buffer('final-norm', N * C);
    if (weights.lmHead.gradient) {
      backend.matmul(
        weights.lmHead.gradient,
        logits,
        finalNorm,
        { m: V, n: C, k: N },
        { transA: true, accumulate: true },
      );
    }
    const dFinalNorm = this.#workspace.zeroed('d.norm', N * C);
    backend.matmul(dFinalNorm, logits, weights.lmHead.value, { m: N, n: C, k: V }, { accumulate: true });
    const scratch: DecoderScratch = {
      residual: this.#workspace.zeroed('d.residual', N * C),
      workspace: this.#workspace,
      linear: {
        hiddenGradient: this.#buffer('d.lora-hidden', N * this.#loraRank()),
        inputGradient: this.#buffer('d.lora-input', N * this.#widestInput()),
      },
    };
    const output = this.#buffer(`residual.${config.numLayers}`, N * C);
    backend.rmsNormBackward(
      scratch.residual,
      weights.finalNorm.gradient,
      dFinalNorm,
      output,
      weights.finalNorm.value,
      this.#buffer('final-rstd', N),
      N,
      C,
    );
    for (let index = config.numLayers - 1; index >= this.#lowestTrainedLayer; index--) {
      decoderBackward(
        backend,
        config,
        weights.layers[index]!,
        activations[index]!,
        this.#ownKeyValues(index, N, batch.length),
        positions,
        scratch,
        index > this.#lowestTrainedLayer || weights.embedding.gradient !== null,
      );
    }
    if (weights.embedding.gradient) {
      backend.embeddingBackward(
        weights.embedding.gradient,
        scratch.residual,
        this.#workspace.get('tokens', 'i32', N),
        N,
        C,
      );
    }
  }

  /** Greedy decoding with a key/value cache: the prompt once, then one token per step. */
  async generate(prompt: readonly number[], options: GenerateOptions): Promise<number[]> {
    if (prompt.length === 0) throw new EngineError('generation needs a prompt of at least one token');
    const { config } = this;
    const slots = prompt.length + options.maxNewTokens;
    const kvWidth = config.numKvHeads * config.headDim;
    const cache = this.weights.layers.map((_, index) => ({
      keys: this.#workspace.get(`cache.${index}.k`, 'f32', slots * kvWidth),
      values: this.#workspace.get(`cache.${index}.v`, 'f32', slots * kvWidth),
    }));
    const generated: number[] = [];
    let input = [...prompt];
    let start = 0;
    while (generated.length < options.maxNewTokens) {
      const next = await this.#decodeStep(input, start, cache, slots);
      generated.push(next);
      if (options.stopTokens?.includes(next)) break;
      start += input.length;
      input = [next];
    }
    return generated;
  }

  async #decodeStep(
    tokens: number[],
    start: number,
    cache: { keys: DeviceBuffer; values: DeviceBuffer }[],
    slots: number,
  ): Promise<number> {
    const { backend, config } = this;
    const T = tokens.length;
    const C = config.hiddenSize;
    const kvWidth = config.numKvHeads * config.headDim;
    const batch: TokenBatch = {
      batch: 1,
      length: T,
      tokens: Int32Array.from(tokens),
      positions: Int32Array.from({ length: T }, (_, t) => start + t),
    };
    const outside = tokens.findIndex(
      (token) => !Number.isInteger(token) || token < 0 || token >= config.vocabSize,
    );
    if (outside >= 0) {
      throw new EngineError(
        `token id ${tokens[outside]} at ${outside} is outside the vocabulary of ${config.vocabSize}`,
      );
    }
    const reach = this.config.slidingWindow ?? Number.POSITIVE_INFINITY;
    const windows = {
      start: Int32Array.from({ length: T }, (_, t) => Math.max(0, start + t - reach + 1)),
      end: Int32Array.from({ length: T }, (_, t) => start + t),
    };
    const positions = this.#positions(batch, windows, 'decode');
    const tokenBuffer = this.#workspace.get('tokens', 'i32', T);
    backend.write(tokenBuffer, batch.tokens);
    const activations = this.weights.layers.map((layer) => this.#layerActivations(layer, T, {}));
    backend.embeddingForward(
      activations[0]?.input ?? this.#buffer('residual.0', T * C),
      this.weights.embedding.value,
      tokenBuffer,
      T,
      C,
    );
    const projection = this.#buffer('projection', T * C);
    for (const [index, layer] of this.weights.layers.entries()) {
      const { keys, values } = cache[index]!;
      const kv: KeyValues = {
        keys: backend.view(keys, start * kvWidth, T * kvWidth),
        values: backend.view(values, start * kvWidth, T * kvWidth),
        allKeys: keys,
        allValues: values,
        slots,
      };
      decoderForward(backend, config, layer, activations[index]!, kv, positions, projection);
    }
    this.#head(T, T - 1, 1);
    const predicted = this.#workspace.get('predictions', 'i32', 1);
    backend.argmax(predicted, this.#buffer('logits', config.vocabSize), 1, config.vocabSize);
    this.#last = null;
    return (await backend.read(predicted))[0]!;
  }

  /** Final norm and LM head over rows [first, first + count) of the last layer's output. */
  #head(rows: number, first: number, count: number): void {
    const { backend, config, weights } = this;
    const { hiddenSize: C, vocabSize: V } = config;
    const output = backend.view(this.#buffer(`residual.${config.numLayers}`, rows * C), first * C, count * C);
    const finalNorm = this.#buffer('final-norm', count * C);
    backend.rmsNormForward(
      finalNorm,
      this.#buffer('final-rstd', count),
      output,
      weights.finalNorm.value,
      count,
      C,
      config.rmsNormEps,
    );
    backend.matmul(
      this.#buffer('logits', count * V),
      finalNorm,
      weights.lmHead.value,
      { m: count, n: V, k: C },
      { transB: true },
    );
  }

  #positions(batch: TokenBatch, windows: { start: Int32Array; end: Int32Array }, prefix: string): Positions {
    const N = batch.batch * batch.length;
    let highest = 0;
    for (const position of batch.positions) highest = Math.max(highest, position);
    this.#ensureRope(highest + 1);
    const positions = this.#workspace.get(`${prefix}.positions`, 'i32', N);
    this.backend.write(positions, batch.positions);
    const attention: AttentionWindow = {
      start: this.#workspace.get(`${prefix}.window-start`, 'i32', N),
      end: this.#workspace.get(`${prefix}.window-end`, 'i32', N),
    };
    this.backend.write(attention.start, windows.start);
    this.backend.write(attention.end, windows.end);
    return {
      batch: batch.batch,
      length: batch.length,
      positions,
      cos: this.#cos,
      sin: this.#sin,
      window: attention,
    };
  }

  #ensureRope(positions: number): void {
    if (positions <= this.#ropePositions) return;
    const count = Math.max(positions, this.#ropePositions * 2);
    const tables = ropeTables(this.config, count);
    if (this.#ropePositions > 0) {
      this.backend.release(this.#cos);
      this.backend.release(this.#sin);
    }
    this.#cos = this.backend.allocate('f32', tables.cos.length);
    this.#sin = this.backend.allocate('f32', tables.sin.length);
    this.backend.write(this.#cos, tables.cos);
    this.backend.write(this.#sin, tables.sin);
    this.#ropePositions = count;
  }

  #layerActivations(layer: DecoderWeights, N: number, options: ForwardOptions): DecoderActivations {
    const { config } = this;
    const { hiddenSize: C, intermediateSize: I, numHeads: NH, headDim: HD } = config;
    const name = (part: string) => `layer.${layer.index}.${part}`;
    const linears = new Map<string, LinearActivations>();
    for (const linear of linearsOf(layer)) {
      if (!linear.lora) continue;
      const dropout = options.training ? linear.lora.dropout : 0;
      let mask: DeviceBuffer | null = null;
      let dropped: DeviceBuffer | null = null;
      if (dropout > 0) {
        if (!options.random) throw new EngineError('training with LoRA dropout needs a random generator');
        mask = this.#buffer(`${linear.path}.mask`, N * linear.inFeatures);
        this.backend.dropoutMask(mask, dropout, options.random.nextUint32());
        dropped = this.#buffer(`${linear.path}.dropped`, N * linear.inFeatures);
      }
      linears.set(linear.path, {
        hidden: this.#buffer(`${linear.path}.hidden`, N * linear.lora.rank),
        mask,
        dropped,
      });
    }
    return {
      input: this.#buffer(`residual.${layer.index}`, N * C),
      norm1: this.#buffer(name('norm1'), N * C),
      rstd1: this.#buffer(name('rstd1'), N),
      q: this.#buffer(name('q'), N * NH * HD),
      attention: this.#buffer(name('attention'), N * NH * HD),
      logSumExp: this.#buffer(name('lse'), N * NH),
      mid: this.#buffer(name('mid'), N * C),
      norm2: this.#buffer(name('norm2'), N * C),
      rstd2: this.#buffer(name('rstd2'), N),
      gate: this.#buffer(name('gate'), N * I),
      up: this.#buffer(name('up'), N * I),
      swiglu: this.#buffer(name('swiglu'), N * I),
      output: this.#buffer(`residual.${layer.index + 1}`, N * C),
      linears,
    };
  }

  #ownKeyValues(index: number, N: number, T: number): KeyValues {
    const width = this.config.numKvHeads * this.config.headDim;
    const keys = this.#buffer(`layer.${index}.k`, N * width);
    const values = this.#buffer(`layer.${index}.v`, N * width);
    return { keys, values, allKeys: keys, allValues: values, slots: T };
  }

  #buffer(name: string, length: number): DeviceBuffer {
    return this.#workspace.get(name, 'f32', length);
  }

  #loraRank(): number {
    return this.method.kind === 'lora' ? this.method.rank : 0;
  }

  #widestInput(): number {
    return this.method.kind === 'lora'
      ? Math.max(
          this.config.hiddenSize,
          this.config.intermediateSize,
          this.config.numHeads * this.config.headDim,
        )
      : 0;
  }

  #requireFreshLogits() {
    const last = this.#requireLast();
    if (last.logitsConsumed) {
      throw new EngineError(
        "backward has overwritten this forward pass's logits with their gradient; run forward again",
      );
    }
    return last;
  }

  #requireLast() {
    if (!this.#last) throw new EngineError('no forward pass to read from: call forward first');
    return this.#last;
  }
}
