import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createBackend } from '../engine/backends';
import { TrainingConfigError } from '../engine/errors';
import { Random } from '../engine/random';
import { type EvaluationReport, generateAnswers, writeEvaluation } from '../eval';
import { readModelConfig } from '../model/config';
import { exportMergedModel, exportModel } from '../model/export';
import { loadHfWeights } from '../model/hf-weights';
import { LlamaModel } from '../model/llama';
import type { TrainingMethod } from '../model/method';
import { readLoraAdapter, saveLoraAdapter } from '../model/peft';
import { loadTokenizer } from '../tokenizer';
import { resumeRunCheckpoint, saveRunCheckpoint } from './checkpoint';
import { loadDataset } from './dataset';
import { TrainingStoppedError } from './errors';
import { type Evaluation, evaluate } from './evaluate';
import { packExamples } from './packing';
import { resultCsv } from './result-csv';
import { DEFAULT_TRAINING, type StepReport, TrainingRun, type TrainingSettings } from './run';

const DEFAULT_MAX_SEQ_LEN = 2048;
const METRICS_FILE = 'metrics.jsonl';

export interface CheckpointPolicy {
  /** Local folder that receives `step-N/` checkpoints. */
  readonly dir: string;
  /** Also checkpoint every this many steps; every epoch end checkpoints anyway. */
  readonly everySteps?: number;
}

export interface GenerationPolicy {
  /** Validation examples answered by greedy decoding, base model and fine-tuned: the first this many. */
  readonly examples: number;
  /** Tokens an answer may run past its reference's length. Default 8. */
  readonly slackTokens?: number;
}

export interface FineTuneOptions {
  /** A Hugging Face model directory: config.json, safetensors, tokenizer files. */
  readonly modelDir: string;
  readonly trainFile: string;
  readonly validationFile?: string;
  /**
   * Without a validation file, this share of the training examples (drawn with the seed) is held
   * out for validation instead. Default 0: no validation.
   */
  readonly validationFraction?: number;
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
  /** The adapter's `base_model_name_or_path`; default the model directory's absolute path. */
  readonly baseModelName?: string;
  readonly checkpoints?: CheckpointPolicy;
  /** A checkpoint folder this run continues from, made by a run with the same data and settings. */
  readonly resumeFrom?: string;
  /** Once aborted, the run checkpoints after the step under way and throws TrainingStoppedError. */
  readonly signal?: AbortSignal;
  readonly generations?: GenerationPolicy;
  /** Pack short training examples into rows of up to maxSeqLen tokens (each still sees only itself). */
  readonly packing?: boolean;
}

export interface StepProgress extends StepReport {
  readonly tokensPerSecond: number;
  readonly elapsedSeconds: number;
  /** Seconds left at this run's pace so far. */
  readonly etaSeconds: number;
}

export interface TrainingPlan {
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  readonly trainExamples: number;
  readonly validationExamples: number;
  /** The step a resumed run starts after; 0 for a fresh one. */
  readonly resumedAtStep: number;
}

export interface SavedCheckpoint {
  readonly step: number;
  readonly dir: string;
  readonly trainLoss: number;
  readonly trainMeanTokenAccuracy: number;
  readonly validation: Evaluation | null;
}

export interface FineTuneHooks {
  onPlan?(plan: TrainingPlan): void;
  onStep?(progress: StepProgress): void;
  onEvaluation?(step: number, evaluation: Evaluation): void;
  /** Awaited before training goes on, so a checkpoint can be copied elsewhere first. */
  onCheckpoint?(checkpoint: SavedCheckpoint): Promise<void> | void;
  onNotice?(message: string): void;
}

export interface FineTuneSummary {
  readonly backend: string;
  readonly method: TrainingMethod['kind'];
  readonly steps: number;
  readonly epochs: number;
  readonly trainExamples: number;
  readonly validationExamples: number;
  /** Trained (weighted) tokens over every step, resumed ones included. */
  readonly trainedTokens: number;
  /** Every token of every step, padding excluded: what a run processes and bills. */
  readonly processedTokens: number;
  readonly finalTrainLoss: number;
  /** The untrained model on the validation set, for comparison. */
  readonly baseValidation: Evaluation | null;
  readonly validation: Evaluation | null;
  readonly evaluation: EvaluationReport | null;
  readonly resumedAtStep: number;
  readonly seconds: number;
  /** Paths written, relative to outDir. */
  readonly outputs: readonly string[];
}

/** What a checkpoint carries besides the training state, so that a resumed run reports as one run. */
interface RunTotals {
  trainedTokens: number;
  processedTokens: number;
  finalTrainLoss: number;
  finalTrainAccuracy: number;
  baseValidation: Evaluation | null;
  finalValidation: Evaluation | null;
  baseAnswers: string[] | null;
}

/**
 * Fine-tunes a model directory on JSONL examples and writes the result to outDir: `adapter/` (LoRA,
 * PEFT layout) or `model/` (full or partial, Hugging Face layout), `metrics.jsonl` (one line per
 * step and per evaluation), `result.csv`, `eval/` (with a validation set) and `summary.json`.
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
  const settings: TrainingSettings = {
    ...DEFAULT_TRAINING,
    ...options.training,
    padToken: tokenizer.padTokenId,
  };
  const data = await loadDataset(
    {
      trainFile: options.trainFile,
      validationFile: options.validationFile,
      validationFraction: options.validationFraction ?? 0,
      generationExamples: options.generations?.examples ?? 0,
    },
    { tokenizer, maxSeqLen, seed: settings.seed, onNotice: hooks.onNotice },
  );
  const adapter = options.adapterDir ? await readLoraAdapter(options.adapterDir, config) : undefined;
  const method = adapter ? adapter.method : options.method;
  const model = LlamaModel.create(backend, config, method, {
    weights: await loadHfWeights(options.modelDir, config),
    adapter: adapter?.tensors,
    random: Random.fromSeed(settings.seed),
  });
  const trainRows = options.packing ? packExamples(data.train, maxSeqLen) : data.train;
  if (options.packing) {
    hooks.onNotice?.(
      `Packed ${data.train.length} training examples into ${trainRows.length} rows of up to ${maxSeqLen} tokens`,
    );
  }
  const run = new TrainingRun(model, trainRows, settings);

  await mkdir(options.outDir, { recursive: true });
  const metricsFile = join(options.outDir, METRICS_FILE);
  const record = (line: Record<string, unknown>) => appendFile(metricsFile, `${JSON.stringify(line)}\n`);
  const validate = async (step: number) => {
    if (!data.validation) return null;
    const result = await evaluate(model, data.validation, settings.batchSize, settings.padToken);
    await record({ step, valid_loss: result.loss, valid_mean_token_accuracy: result.meanTokenAccuracy });
    hooks.onEvaluation?.(step, result);
    return result;
  };
  const answer = () =>
    generateAnswers(model, tokenizer, data.prompts, {
      slackTokens: options.generations?.slackTokens ?? 8,
      maxPromptTokens: maxSeqLen,
      maxPositions: config.maxPositionEmbeddings,
    });

  let totals: RunTotals;
  if (options.resumeFrom) {
    const meta = (await resumeRunCheckpoint(options.resumeFrom, run)) as { totals?: RunTotals };
    if (!meta.totals) {
      throw new TrainingConfigError(
        'resumeFrom',
        `the checkpoint in ${options.resumeFrom} has no run totals`,
      );
    }
    totals = meta.totals;
    await copyFile(join(options.resumeFrom, METRICS_FILE), metricsFile);
  } else {
    await writeFile(metricsFile, '');
    const baseValidation = await validate(0);
    totals = {
      trainedTokens: 0,
      processedTokens: 0,
      finalTrainLoss: Number.NaN,
      finalTrainAccuracy: Number.NaN,
      baseValidation,
      finalValidation: baseValidation,
      baseAnswers: data.prompts.length > 0 ? await answer() : null,
    };
  }
  const resumedAtStep = run.position.step;
  hooks.onPlan?.({
    totalSteps: run.totalSteps,
    stepsPerEpoch: run.stepsPerEpoch,
    trainExamples: data.train.length,
    validationExamples: data.validation?.length ?? 0,
    resumedAtStep,
  });

  const checkpoint = async (step: number) => {
    if (!options.checkpoints) return;
    const dir = join(options.checkpoints.dir, `step-${step}`);
    await saveRunCheckpoint(dir, run, { totals });
    await copyFile(metricsFile, join(dir, METRICS_FILE));
    await hooks.onCheckpoint?.({
      step,
      dir,
      trainLoss: totals.finalTrainLoss,
      trainMeanTokenAccuracy: totals.finalTrainAccuracy,
      validation: step % run.stepsPerEpoch === 0 ? totals.finalValidation : null,
    });
  };

  const trainingStarted = performance.now();
  let tokensThisRun = 0;
  const everySteps = options.checkpoints?.everySteps ?? Number.POSITIVE_INFINITY;
  while (!run.done) {
    const report = await run.step();
    totals.trainedTokens += report.trainedTokens;
    totals.processedTokens += report.tokens;
    totals.finalTrainLoss = report.trainLoss;
    totals.finalTrainAccuracy = report.trainMeanTokenAccuracy;
    tokensThisRun += report.tokens;
    const elapsedSeconds = (performance.now() - trainingStarted) / 1000;
    const stepsThisRun = report.step - resumedAtStep;
    const progress: StepProgress = {
      ...report,
      tokensPerSecond: tokensThisRun / elapsedSeconds,
      elapsedSeconds,
      etaSeconds: (elapsedSeconds / stepsThisRun) * (report.totalSteps - report.step),
    };
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
    const epochEnd = report.step % run.stepsPerEpoch === 0;
    if (epochEnd) totals.finalValidation = await validate(report.step);
    if (run.done) break;
    if (epochEnd || report.step % everySteps === 0) await checkpoint(report.step);
    else if (options.signal?.aborted) await checkpoint(report.step);
    if (options.signal?.aborted)
      throw new TrainingStoppedError(report.step, options.checkpoints !== undefined);
  }

  const evaluation = data.validation
    ? await writeEvaluation(options.outDir, {
        validationExamples: data.validation.length,
        prompts: data.prompts,
        base: { evaluation: totals.baseValidation, answers: totals.baseAnswers ?? [] },
        tuned: { evaluation: totals.finalValidation, answers: data.prompts.length > 0 ? await answer() : [] },
      })
    : null;
  const outputs = await writeOutputs(model, options);
  await writeFile(
    join(options.outDir, 'result.csv'),
    resultCsv(await readFile(metricsFile, 'utf8'), basename(metricsFile)),
  );
  const summary: FineTuneSummary = {
    backend: backend.name,
    method: method.kind,
    steps: run.totalSteps,
    epochs: settings.epochs,
    trainExamples: data.train.length,
    validationExamples: data.validation?.length ?? 0,
    trainedTokens: totals.trainedTokens,
    processedTokens: totals.processedTokens,
    finalTrainLoss: totals.finalTrainLoss,
    baseValidation: totals.baseValidation,
    validation: totals.finalValidation,
    evaluation,
    resumedAtStep,
    seconds: (performance.now() - started) / 1000,
    outputs: [...outputs, ...(evaluation ? ['eval'] : []), METRICS_FILE, 'result.csv', 'summary.json'],
  };
  await writeFile(join(options.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

async function writeOutputs(model: LlamaModel, options: FineTuneOptions): Promise<string[]> {
  const sourceDir = options.modelDir;
  if (model.method.kind !== 'lora') {
    await exportModel(join(options.outDir, 'model'), model, { sourceDir });
    return ['model'];
  }
  await saveLoraAdapter(join(options.outDir, 'adapter'), model, {
    baseModelNameOrPath: options.baseModelName ?? resolve(options.modelDir),
  });
  if (!options.merge) return ['adapter'];
  await exportMergedModel(join(options.outDir, 'merged'), model, { sourceDir });
  return ['adapter', 'merged'];
}
