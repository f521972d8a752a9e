import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { encodeExample, readJsonlExamples } from '../data';
import { createBackend } from '../engine/backends';
import { TrainingConfigError } from '../engine/errors';
import { Random } from '../engine/random';
import { readModelConfig } from '../model/config';
import { exportMergedModel, exportModel } from '../model/export';
import { loadHfWeights } from '../model/hf-weights';
import { LlamaModel } from '../model/llama';
import type { TrainingMethod } from '../model/method';
import { readLoraAdapter, saveLoraAdapter } from '../model/peft';
import { loadTokenizer, type Tokenizer } from '../tokenizer';
import { type Evaluation, evaluate } from './evaluate';
import type { TokenizedExample } from './examples';
import { DEFAULT_TRAINING, type StepReport, TrainingRun, type TrainingSettings } from './run';

const DEFAULT_MAX_SEQ_LEN = 2048;

export interface FineTuneOptions {
  /** A Hugging Face model directory: config.json, safetensors, tokenizer files. */
  readonly modelDir: string;
  readonly trainFile: string;
  readonly validationFile?: string;
  readonly outDir: string;
  readonly method: TrainingMethod;
  /** A PEFT adapter to continue training; its rank, alpha and modules replace the method's. */
  readonly adapterDir?: string;
  readonly training?: Partial<Omit<TrainingSettings, 'padToken'>>;
  /** Longest example kept, in tokens; default the smaller of 2048 and the model's max_position_embeddings. */
  readonly maxSeqLen?: number;
  readonly backend?: string;
  /** Also write the LoRA-merged model, in Hugging Face layout, to `{outDir}/merged`. */
  readonly merge?: boolean;
}

export interface StepProgress extends StepReport {
  readonly tokensPerSecond: number;
  readonly elapsedSeconds: number;
}

export interface FineTuneHooks {
  onStep?(progress: StepProgress): void;
  onEvaluation?(step: number, evaluation: Evaluation): void;
  onNotice?(message: string): void;
}

export interface FineTuneSummary {
  readonly backend: string;
  readonly method: TrainingMethod['kind'];
  readonly steps: number;
  readonly epochs: number;
  readonly trainExamples: number;
  readonly trainedTokens: number;
  readonly finalTrainLoss: number;
  /** The untrained model on the validation set, for comparison. */
  readonly baseValidation: Evaluation | null;
  readonly validation: Evaluation | null;
  readonly seconds: number;
  /** Paths written, relative to outDir. */
  readonly outputs: readonly string[];
}

/**
 * Fine-tunes a model directory on JSONL examples and writes the result to outDir: `adapter/` (LoRA,
 * PEFT layout) or `model/` (full or partial, Hugging Face layout), `metrics.jsonl` (one line per
 * step and per evaluation) and `summary.json`.
 */
export async function fineTune(
  options: FineTuneOptions,
  hooks: FineTuneHooks = {},
): Promise<FineTuneSummary> {
  const started = performance.now();
  const backend = createBackend(options.backend, { onFallback: hooks.onNotice });
  const config = await readModelConfig(options.modelDir);
  const maxSeqLen = options.maxSeqLen ?? Math.min(DEFAULT_MAX_SEQ_LEN, config.maxPositionEmbeddings);
  if (maxSeqLen > config.maxPositionEmbeddings) {
    throw new TrainingConfigError(
      'maxSeqLen',
      `a maximum sequence length of ${maxSeqLen} is longer than the model's max_position_embeddings (${config.maxPositionEmbeddings})`,
    );
  }
  const tokenizer = await loadTokenizer(options.modelDir);
  const train = await tokenize(options.trainFile, tokenizer, maxSeqLen, hooks);
  const validation = options.validationFile
    ? await tokenize(options.validationFile, tokenizer, maxSeqLen, hooks)
    : null;
  const adapter = options.adapterDir ? await readLoraAdapter(options.adapterDir, config) : undefined;
  const method = adapter ? adapter.method : options.method;
  const settings: TrainingSettings = {
    ...DEFAULT_TRAINING,
    ...options.training,
    padToken: tokenizer.padTokenId,
  };
  const model = LlamaModel.create(backend, config, method, {
    weights: await loadHfWeights(options.modelDir, config),
    adapter: adapter?.tensors,
    random: Random.fromSeed(settings.seed),
  });
  const run = new TrainingRun(model, train, settings);

  await mkdir(options.outDir, { recursive: true });
  const metricsFile = join(options.outDir, 'metrics.jsonl');
  await writeFile(metricsFile, '');
  const record = (line: Record<string, unknown>) => appendFile(metricsFile, `${JSON.stringify(line)}\n`);
  const evaluationBatch = settings.batchSize;
  const validate = async (step: number) => {
    if (!validation) return null;
    const result = await evaluate(model, validation, evaluationBatch, settings.padToken);
    await record({ step, valid_loss: result.loss, valid_mean_token_accuracy: result.meanTokenAccuracy });
    hooks.onEvaluation?.(step, result);
    return result;
  };

  const baseValidation = await validate(0);
  let trainedTokens = 0;
  let finalTrainLoss = Number.NaN;
  let finalValidation: Evaluation | null = baseValidation;
  const trainingStarted = performance.now();
  let tokensSeen = 0;
  while (!run.done) {
    const report = await run.step();
    trainedTokens += report.trainedTokens;
    tokensSeen += report.tokens;
    finalTrainLoss = report.trainLoss;
    const elapsedSeconds = (performance.now() - trainingStarted) / 1000;
    const progress = { ...report, tokensPerSecond: tokensSeen / elapsedSeconds, elapsedSeconds };
    await record({
      step: report.step,
      epoch: report.epoch,
      train_loss: report.trainLoss,
      train_mean_token_accuracy: report.trainMeanTokenAccuracy,
      learning_rate: report.learningRate,
      grad_norm: report.gradNorm,
      tokens_per_second: progress.tokensPerSecond,
    });
    hooks.onStep?.(progress);
    if (report.step % run.stepsPerEpoch === 0) finalValidation = await validate(report.step);
  }

  const outputs = await writeOutputs(model, options);
  const summary: FineTuneSummary = {
    backend: backend.name,
    method: method.kind,
    steps: run.totalSteps,
    epochs: settings.epochs,
    trainExamples: train.length,
    trainedTokens,
    finalTrainLoss,
    baseValidation,
    validation: finalValidation,
    seconds: (performance.now() - started) / 1000,
    outputs: [...outputs, 'metrics.jsonl', 'summary.json'],
  };
  await writeFile(join(options.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

async function tokenize(
  file: string,
  tokenizer: Tokenizer,
  maxSeqLen: number,
  hooks: FineTuneHooks,
): Promise<TokenizedExample[]> {
  const examples: TokenizedExample[] = [];
  let truncated = 0;
  for await (const { example } of readJsonlExamples(file)) {
    const encoded = encodeExample(tokenizer, example, { maxSeqLen });
    if (encoded.truncated) truncated += 1;
    examples.push({ tokens: encoded.tokens, lossWeights: encoded.lossWeights });
  }
  if (examples.length === 0) throw new TrainingConfigError('examples', `${basename(file)} holds no examples`);
  if (truncated > 0)
    hooks.onNotice?.(
      `${basename(file)}: ${truncated} of ${examples.length} examples were cut to ${maxSeqLen} tokens`,
    );
  return examples;
}

async function writeOutputs(model: LlamaModel, options: FineTuneOptions): Promise<string[]> {
  const sourceDir = options.modelDir;
  if (model.method.kind !== 'lora') {
    await exportModel(join(options.outDir, 'model'), model, { sourceDir });
    return ['model'];
  }
  await saveLoraAdapter(join(options.outDir, 'adapter'), model, {
    baseModelNameOrPath: resolve(options.modelDir),
  });
  if (!options.merge) return ['adapter'];
  await exportMergedModel(join(options.outDir, 'merged'), model, { sourceDir });
  return ['adapter', 'merged'];
}
