/**
 * Pre-trains the demo base model from scratch on this repository's engine and writes it in Hugging
 * Face layout:
 *
 *   npx tsx demo/pretrain/main.ts --out demo/base-model --scratch /work/pretrain-scratch
 *
 * Steps: build the corpus (corpus.ts), train the byte-level BPE tokenizer on its training split
 * (bpe.ts), pack the text into sequences, initialise the model at random from the seed, and train it
 * with TrainingRun. Every `checkpointEvery` steps the run is checkpointed in the scratch folder and
 * the model as it stands is written to `--out`; started again, the script resumes from the newest
 * checkpoint and ends with the same weights. `--export-only` writes the newest checkpoint's model
 * (with held-out figures) without training further. The defaults below are the settings the
 * committed model was trained with.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBackend } from '../../trainer/src/engine/backends';
import { Random } from '../../trainer/src/engine/random';
import { readBaseWeights } from '../../trainer/src/model/export';
import { loadHfWeights } from '../../trainer/src/model/hf-weights';
import { initialiseParameters } from '../../trainer/src/model/init';
import { LlamaModel } from '../../trainer/src/model/llama';
import { resumeRunCheckpoint, saveRunCheckpoint } from '../../trainer/src/train/checkpoint';
import { evaluate } from '../../trainer/src/train/evaluate';
import type { TokenizedExample } from '../../trainer/src/train/examples';
import { TrainingRun, type TrainingSettings } from '../../trainer/src/train/run';
import { PROGRESS_FILE } from '../../trainer/src/train/state';
import { BpeEncoder, countPreTokens, ENDOFTEXT, IM_END, tokenizerFiles, trainBpe } from './bpe';
import { buildCorpus } from './corpus';
import { packSequences, tokenCounts, unigramLoss } from './evaluation';
import {
  type Architecture,
  configJson,
  parameterCount,
  parseConfig,
  randomWeights,
  writeModelFiles,
} from './model-files';
import { type PretrainReport, readmeText } from './readme';

export const PRETRAIN_SETTINGS = {
  seed: 20261129,
  vocabSize: 4096,
  sequenceLength: 256,
  architecture: {
    hiddenSize: 256,
    numLayers: 6,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 688,
    maxPositionEmbeddings: 512,
    ropeTheta: 10000,
    initializerRange: 0.02,
  } satisfies Architecture,
  backend: 'native',
  batchSize: 8,
  steps: 1200,
  learningRate: 1e-3,
  warmupSteps: 60,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  maxGradNorm: 1,
  checkpointEvery: 200,
  evalBatchSize: 16,
} as const;

export type PretrainSettings = Omit<typeof PRETRAIN_SETTINGS, 'steps' | 'checkpointEvery'> & {
  readonly steps: number;
  readonly checkpointEvery: number;
};

function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`${option} must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

interface CheckpointMeta {
  readonly trainingSeconds: number;
  readonly tokensSeen: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'demo/base-model' },
      scratch: { type: 'string', default: join(tmpdir(), 'whetstone-pretrain') },
      'export-only': { type: 'boolean', default: false },
      // For smoke runs only: the committed model was trained with the defaults.
      steps: { type: 'string' },
      'checkpoint-every': { type: 'string' },
    },
  });
  const settings: PretrainSettings = {
    ...PRETRAIN_SETTINGS,
    steps: positiveInteger(values.steps, '--steps') ?? PRETRAIN_SETTINGS.steps,
    checkpointEvery:
      positiveInteger(values['checkpoint-every'], '--checkpoint-every') ?? PRETRAIN_SETTINGS.checkpointEvery,
  };
  const outDir = resolve(values.out as string);
  const scratch = resolve(values.scratch as string);
  const checkpointDir = join(scratch, 'checkpoint');
  const logFile = join(scratch, 'progress.jsonl');
  await mkdir(scratch, { recursive: true });
  const say = (message: string) => console.log(`[${new Date().toISOString()}] ${message}`);

  const corpus = buildCorpus();
  say(`corpus: ${corpus.train.length} training documents, ${corpus.heldOut.length} held out`);
  const bpe = trainBpe(countPreTokens(corpus.train.map((document) => document.text)), settings.vocabSize - 3);
  const tokenizer = tokenizerFiles(bpe, settings.architecture.maxPositionEmbeddings);
  if (tokenizer.vocabSize !== settings.vocabSize) {
    throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens, expected ${settings.vocabSize}`);
  }
  const ids = { endOfText: bpe.tokens.length, imEnd: bpe.tokens.length + 2 };
  if (tokenizer.config.eos_token !== IM_END || tokenizer.config.pad_token !== ENDOFTEXT) {
    throw new Error('the tokenizer config names unexpected eos or pad tokens');
  }
  const encoder = new BpeEncoder(bpe);
  const trainIds = corpus.train.map((document) => encoder.encode(document.text));
  const heldOutIds = corpus.heldOut.map((document) => encoder.encode(document.text));
  const trainTokens = trainIds.reduce((sum, document) => sum + document.length + 1, 0);
  say(`tokenizer: ${bpe.merges.length} merges; training split ${trainTokens} tokens`);

  const allSequences = packSequences(trainIds, ids.endOfText, settings.sequenceLength);
  const order = Random.fromSeed(settings.seed).shuffle(allSequences.map((_, index) => index));
  const wanted = settings.steps * settings.batchSize;
  if (wanted > allSequences.length) {
    throw new Error(
      `${settings.steps} steps need ${wanted} sequences; the corpus has ${allSequences.length}`,
    );
  }
  const sequences = order.slice(0, wanted).map((index) => allSequences[index] as TokenizedExample);
  const heldOut = packSequences(heldOutIds, ids.endOfText, settings.sequenceLength);

  const raw = configJson(settings.architecture, settings.vocabSize, ids);
  const config = parseConfig(raw);
  const backend = createBackend(settings.backend);
  const model = LlamaModel.create(
    backend,
    config,
    { kind: 'full' },
    {
      weights: randomWeights(config, settings.architecture.initializerRange, settings.seed),
      random: Random.fromSeed(settings.seed),
    },
  );
  const trainingSettings: TrainingSettings = {
    epochs: 1,
    batchSize: settings.batchSize,
    gradientAccumulation: 1,
    learningRate: settings.learningRate,
    warmupRatio: 0,
    warmupSteps: Math.min(settings.warmupSteps, settings.steps),
    decay: 'cosine',
    maxGradNorm: settings.maxGradNorm,
    adamw: { beta1: settings.beta1, beta2: settings.beta2, epsilon: 1e-8, weightDecay: settings.weightDecay },
    seed: settings.seed,
    padToken: ids.endOfText,
  };
  const run = new TrainingRun(model, sequences, trainingSettings);
  let meta: CheckpointMeta = { trainingSeconds: 0, tokensSeen: 0 };
  if (existsSync(join(checkpointDir, PROGRESS_FILE))) {
    meta = (await resumeRunCheckpoint(checkpointDir, run)) as CheckpointMeta;
    say(`resumed at step ${run.position.step} of ${run.totalSteps}`);
  }
  say(
    `model: ${parameterCount(config)} parameters; ${run.totalSteps} steps of ${settings.batchSize} x ${settings.sequenceLength} tokens`,
  );

  let stored: LlamaModel | null = null;
  const exportModel = async (): Promise<void> => {
    const started = performance.now();
    const sha256 = await writeModelFiles(outDir, raw, await readBaseWeights(model), tokenizer, ids);
    // Scored as committed: the bf16 weights read back, not the fp32 ones in training.
    const init = { weights: await loadHfWeights(outDir, config), random: Random.fromSeed(settings.seed) };
    if (stored) initialiseParameters(backend, stored.parameters, init);
    else stored = LlamaModel.create(backend, config, { kind: 'full' }, init);
    const evaluation = await evaluate(stored, heldOut, settings.evalBatchSize, ids.endOfText);
    const baseline = unigramLoss(tokenCounts(trainIds, ids.endOfText, settings.vocabSize), heldOut);
    const report: PretrainReport = {
      settings,
      parameters: parameterCount(config),
      step: run.position.step,
      totalSteps: run.totalSteps,
      tokensSeen: meta.tokensSeen,
      trainingSeconds: meta.trainingSeconds,
      trainTokens,
      heldOutDocuments: corpus.heldOut.length,
      trainDocuments: corpus.train.length,
      heldOutTargets: evaluation.tokens,
      heldOutLoss: evaluation.loss,
      heldOutAccuracy: evaluation.meanTokenAccuracy,
      unigramLoss: baseline,
      sha256,
    };
    await writeFile(join(outDir, 'README.md'), readmeText(report));
    formatWithBiome(outDir);
    say(
      `exported step ${report.step}: held-out loss ${evaluation.loss.toFixed(4)} (perplexity ${Math.exp(evaluation.loss).toFixed(2)}), unigram ${baseline.toFixed(4)} (${Math.exp(baseline).toFixed(2)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  };

  if (values['export-only']) {
    await exportModel();
    return;
  }
  let segmentStart = performance.now();
  let segmentSeconds = meta.trainingSeconds;
  while (!run.done) {
    const report = await run.step();
    meta = {
      trainingSeconds: segmentSeconds + (performance.now() - segmentStart) / 1000,
      tokensSeen: meta.tokensSeen + report.tokens,
    };
    await appendFile(
      logFile,
      `${JSON.stringify({ step: report.step, loss: report.trainLoss, lr: report.learningRate, grad_norm: report.gradNorm, tokens_seen: meta.tokensSeen, seconds: meta.trainingSeconds })}\n`,
    );
    if (report.step % 10 === 0 || report.step <= 5) {
      say(
        `step ${report.step}/${report.totalSteps} loss ${report.trainLoss.toFixed(4)} lr ${report.learningRate.toExponential(2)} tokens/s ${(meta.tokensSeen / meta.trainingSeconds).toFixed(0)}`,
      );
    }
    if (report.step % settings.checkpointEvery === 0 || run.done) {
      await saveRunCheckpoint(checkpointDir, run, meta);
      await exportModel();
      // Exports and checkpoints do not count as training time.
      segmentStart = performance.now();
      segmentSeconds = meta.trainingSeconds;
    }
  }
}

/**
 * Formats the written JSON and Markdown files as the repository's formatter would, so that the
 * committed model directory passes `npm run lint` as written. Without the formatter (an install
 * without dev dependencies) or outside the repository the files stay as written.
 */
function formatWithBiome(dir: string): void {
  let biome: string;
  try {
    biome = require.resolve('@biomejs/biome/bin/biome');
  } catch {
    return;
  }
  const files = [
    'README.md',
    'config.json',
    'generation_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ];
  try {
    execFileSync(process.execPath, [biome, 'format', '--write', ...files.map((name) => join(dir, name))], {
      cwd: resolve(__dirname, '../..'),
      stdio: 'ignore',
    });
  } catch {
    // Outside the repository the formatter refuses the files; they stay as written.
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
