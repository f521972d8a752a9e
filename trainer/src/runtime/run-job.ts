import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { newId } from '../../../lib/core/ids';
import type { JobSpec } from '../../../lib/core/jobs';
import { objectKeys } from '../../../lib/core/storage';
import type { TrainingMethod } from '../model/method';
import {
  type FineTuneSummary,
  fineTune,
  type SavedCheckpoint,
  type StepProgress,
  type TrainingSettings,
} from '../train';
import { completeCheckpoints, downloadCheckpoint, uploadCheckpoint } from './checkpoints';
import type { TrainerEnv } from './env';
import { TrainerInputError } from './errors';
import { learningRateFor, resolveHyperparameters } from './hyperparameters';
import { checkInputObjects, loadSpec } from './inputs';
import { readInstanceFacts } from './instance';
import { folderSha256, type HashedFile, type JobManifest } from './manifest';
import type { ObjectsByUri } from './objects';
import type { JobRecords } from './records';

/** Metrics events are throttled to one per this many milliseconds, besides the first and last step. */
export const METRICS_EVENT_INTERVAL_MS = 5_000;
/** Validation examples answered by greedy decoding for eval/ (base and fine-tuned). */
export const GENERATION_EXAMPLES = 100;
/** Tokens per forward pass at most: OpenAI's batch sizes go to 256, memory does not. */
const MAX_TOKENS_PER_PASS = 8_192;
/** Held out for validation when the job names no validation file. */
const VALIDATION_FRACTION = 0.1;
const ENGINE_VERSION: string = (require('../../../package.json') as { version: string }).version;

export interface RunJobOptions {
  readonly env: TrainerEnv;
  readonly records: JobRecords;
  readonly objects: ObjectsByUri;
  /** This attempt's scratch folder: downloads, checkpoints and outputs. */
  readonly workDir: string;
  readonly signal: AbortSignal;
  readonly backend?: string;
  /** Told where the local copies are once known, so errors about them can name the file. */
  readonly onInputs?: (paths: { trainFile: string; validationFile?: string }) => void;
  /** Called once the first step is about to run: from then on a stop request checkpoints first. */
  readonly onTrainingStarted?: () => void;
  readonly log?: (message: string) => void;
}

/**
 * One attempt at a job: read the spec, fetch the inputs, resume from the newest checkpoint if
 * there is one, train (checkpointing to S3 as it goes), and store the outputs, the result file and
 * the manifest. Throws on any failure; a stop request ends in TrainingStoppedError.
 */
export async function runJob(options: RunJobOptions): Promise<FineTuneSummary> {
  const { env, records, objects, workDir, signal } = options;
  const log = options.log ?? ((message: string) => console.log(message));
  const facts = await readInstanceFacts(env.environment);
  if (facts.reason) log(`Instance facts incomplete: ${facts.reason}`);
  const recordFacts = () => records.attemptFacts(facts).catch(() => false);
  let factsRecorded = await recordFacts();

  const specText = await objects.text(env.specUri);
  const spec = await loadSpec(objects, env);
  await checkInputObjects(objects, spec);
  const job = await records.job();
  if (!job) throw new TrainerInputError(`Job ${env.jobId} of team ${env.team} has no record in ${env.table}`);

  const inputs = await downloadInputs(objects, spec, join(workDir, 'inputs'));
  options.onInputs?.({ trainFile: inputs.trainFile, validationFile: inputs.validationFile });
  await records.event(
    'info',
    `Attempt ${env.attempt} of launch ${env.launch} started on ${facts.instanceType ?? 'an unknown instance'}: base model ${spec.model.base} (${inputs.model.files.length} files, ${megabytes(inputs.model.files)} MB) and data fetched`,
  );

  const trainExamples = await countExamples(inputs.trainFile);
  const resolved = resolveHyperparameters(spec.hyperparameters, trainExamples);
  const hyperparameters = {
    n_epochs: resolved.n_epochs,
    batch_size: resolved.batch_size,
    learning_rate_multiplier: resolved.learning_rate_multiplier,
  };
  if (resolved.rules.length > 0) await records.event('info', resolved.rules.join(' '), { hyperparameters });
  await records.update((current) =>
    sameHyperparameters(current.job.hyperparameters, hyperparameters)
      ? undefined
      : {
          ...current,
          job: {
            ...current.job,
            hyperparameters,
            ...(current.job.method?.supervised
              ? { method: { ...current.job.method, supervised: { hyperparameters } } }
              : {}),
          },
        },
  );

  const method = trainingMethod(spec);
  const training = trainingSettings(spec, hyperparameters, method);
  const maxSeqLen = await sequenceLimit(spec, inputs.modelDir, records);
  const resumeFrom = await newestUsableCheckpoint(objects, spec, join(workDir, 'resume'), records);
  const checkpointsUri = `s3://${env.bucket}/${objectKeys.artifacts(env.team, env.jobId)}checkpoints/`;

  let lastMetricsEvent = 0;
  // Progress reports are best effort: a lost event must not cost the training run.
  const pending: Promise<unknown>[] = [];
  const report = (write: Promise<unknown>) =>
    pending.push(
      write.catch((error: unknown) => log(`A job record could not be written: ${(error as Error).message}`)),
    );
  const metricsEvent = (progress: StepProgress) => {
    const now = Date.now();
    const edge = progress.step === progress.totalSteps || now - lastMetricsEvent >= METRICS_EVENT_INTERVAL_MS;
    if (!edge) return;
    lastMetricsEvent = now;
    log(
      `step ${progress.step}/${progress.totalSteps}  epoch ${progress.epoch.toFixed(2)}  loss ${progress.trainLoss.toFixed(4)}  ` +
        `${Math.round(progress.tokensPerSecond)} tokens/s  eta ${Math.round(progress.etaSeconds)} s`,
    );
    report(
      records.event(
        'info',
        `Step ${progress.step}/${progress.totalSteps}: training loss=${progress.trainLoss.toFixed(4)}`,
        {
          step: progress.step,
          total_steps: progress.totalSteps,
          epoch: progress.epoch,
          train_loss: progress.trainLoss,
          train_mean_token_accuracy: progress.trainMeanTokenAccuracy,
          learning_rate: progress.learningRate,
          tokens_per_second: progress.tokensPerSecond,
          eta_seconds: Math.round(progress.etaSeconds),
        },
        'metrics',
      ),
    );
    if (!factsRecorded) report(recordFacts().then((done) => (factsRecorded = done)));
  };
  const saveCheckpoint = async (checkpoint: SavedCheckpoint) => {
    const stored = await uploadCheckpoint(objects, checkpoint.dir, checkpointsUri, checkpoint.step);
    const metrics = {
      step: checkpoint.step,
      train_loss: checkpoint.trainLoss,
      train_mean_token_accuracy: checkpoint.trainMeanTokenAccuracy,
      ...(checkpoint.validation
        ? {
            valid_loss: checkpoint.validation.loss,
            valid_mean_token_accuracy: checkpoint.validation.meanTokenAccuracy,
            full_valid_loss: checkpoint.validation.loss,
            full_valid_mean_token_accuracy: checkpoint.validation.meanTokenAccuracy,
          }
        : {}),
    };
    await records.checkpoint(job.model.fine_tuned_name, { step: checkpoint.step, metrics: finite(metrics) });
    await records.event('info', `Checkpoint saved at step ${checkpoint.step}`, {
      step: checkpoint.step,
      uri: stored.uri,
    });
  };

  const outDir = join(workDir, 'out');
  const summary = await fineTune(
    {
      modelDir: inputs.modelDir,
      baseModelName: spec.model.base,
      adapterDir: inputs.adapterDir,
      trainFile: inputs.trainFile,
      validationFile: inputs.validationFile,
      validationFraction: inputs.validationFile ? 0 : VALIDATION_FRACTION,
      outDir,
      method,
      training,
      maxSeqLen,
      backend: options.backend,
      checkpoints: {
        dir: join(workDir, 'checkpoints'),
        everySteps: spec.options.checkpoint_interval_steps ?? undefined,
      },
      resumeFrom,
      signal,
      generations: { examples: GENERATION_EXAMPLES },
      packing: spec.options.packing,
    },
    {
      onPlan: (plan) => {
        options.onTrainingStarted?.();
        report(
          records.event(
            'info',
            plan.resumedAtStep > 0
              ? `Resumed from the checkpoint at step ${plan.resumedAtStep} of ${plan.totalSteps}`
              : `Training started: ${plan.totalSteps} steps (${hyperparameters.n_epochs} epochs of ${plan.stepsPerEpoch}), ${plan.trainExamples} training and ${plan.validationExamples} validation examples`,
            { ...plan },
          ),
        );
      },
      onStep: metricsEvent,
      onEvaluation: (step, evaluation) =>
        report(
          records.event(
            'info',
            `Validation at step ${step}: loss=${evaluation.loss.toFixed(4)}, mean token accuracy=${evaluation.meanTokenAccuracy.toFixed(4)}`,
            { step, valid_loss: evaluation.loss, valid_mean_token_accuracy: evaluation.meanTokenAccuracy },
            'metrics',
          ),
        ),
      onCheckpoint: saveCheckpoint,
      onNotice: (message) => report(records.event('warn', message)),
    },
  );
  await Promise.all(pending);

  const artifactsUri = `s3://${env.bucket}/${objectKeys.artifacts(env.team, env.jobId)}`;
  const outputs: HashedFile[] = [];
  for (const folder of ['adapter', 'model', 'eval'] as const) {
    if (!summary.outputs.includes(folder)) continue;
    for (const file of await objects.uploadDir(join(outDir, folder), `${artifactsUri}${folder}/`)) {
      outputs.push({ path: `${folder}/${file.relative}`, bytes: file.bytes, sha256: file.sha256 });
    }
  }
  for (const file of ['metrics.jsonl', 'result.csv', 'summary.json']) {
    const uploaded = await objects.upload(join(outDir, file), `${artifactsUri}${file}`);
    outputs.push({ path: file, ...uploaded });
  }
  const resultFileId = newId('file');
  const resultCsv = join(outDir, 'result.csv');
  await objects.upload(
    resultCsv,
    `s3://${env.bucket}/${objectKeys.file(env.team, resultFileId)}`,
    'text/csv',
  );
  await records.resultFile(resultFileId, 'result.csv', (await stat(resultCsv)).size);

  const manifest: JobManifest = {
    manifest_version: 1,
    job_id: env.jobId,
    team: env.team,
    engine: { name: 'whetstone', version: ENGINE_VERSION, backend: summary.backend },
    base_model: {
      id: spec.model.base,
      uri: spec.model.uri,
      sha256: folderSha256(inputs.model.files),
      files: inputs.model.files,
    },
    parent: inputs.parent,
    training_file: { id: spec.training_file.id, ...inputs.trainHash },
    validation_file:
      spec.validation_file && inputs.validationHash
        ? { id: spec.validation_file.id, ...inputs.validationHash }
        : null,
    spec: { uri: env.specUri, sha256: sha256(specText ?? '') },
    hyperparameters,
    training: { method, ...training, max_seq_length: maxSeqLen },
    seed: spec.seed,
    outputs,
    finished_by: { launch: env.launch, attempt: env.attempt, resumed_at_step: summary.resumedAtStep },
    created_at: Math.floor(Date.now() / 1000),
  };
  await objects.put(
    `${artifactsUri}manifest.json`,
    `${JSON.stringify(manifest, null, 2)}\n`,
    'application/json',
  );

  await records.update((current) => ({
    ...current,
    job: {
      ...current.job,
      trained_tokens: summary.processedTokens,
      result_files: [...current.job.result_files.filter((id) => id !== resultFileId), resultFileId],
    },
  }));
  const tuned = summary.evaluation?.tuned;
  await records.event(
    'info',
    `Training finished: ${summary.steps} steps, ${summary.processedTokens} tokens; final training loss ${summary.finalTrainLoss.toFixed(4)}${tuned?.valid_loss != null ? `, validation loss ${tuned.valid_loss.toFixed(4)}` : ''}`,
    summary.evaluation ? { evaluation: summary.evaluation } : null,
  );
  if (!factsRecorded) await recordFacts();
  return summary;
}

interface LocalInputs {
  readonly modelDir: string;
  readonly adapterDir?: string;
  readonly trainFile: string;
  readonly validationFile?: string;
  readonly model: { readonly files: HashedFile[] };
  readonly parent: { readonly uri: string; readonly sha256: string } | null;
  readonly trainHash: { readonly bytes: number; readonly sha256: string };
  readonly validationHash: { readonly bytes: number; readonly sha256: string } | null;
}

/** Streams the base model (and a parent's adapter or model) and the data files into `dir`, hashing each. */
async function downloadInputs(objects: ObjectsByUri, spec: JobSpec, dir: string): Promise<LocalInputs> {
  const modelUri = folderUri(spec.model.uri);
  const listed = await objects.list(modelUri);
  if (listed.length === 0) {
    throw new TrainerInputError(`The base model ${spec.model.base} has no files under ${modelUri}`, {
      code: 'invalid_base_model',
      param: 'model',
    });
  }
  let modelDir = join(dir, 'model');
  const files = await downloadFolder(objects, listed, modelDir);

  let adapterDir: string | undefined;
  let parent: LocalInputs['parent'] = null;
  if (spec.model.parent_uri) {
    const parentUri = folderUri(spec.model.parent_uri);
    const parentListed = await objects.list(parentUri);
    if (parentListed.length === 0) {
      throw new TrainerInputError(`The model ${spec.model.requested} has no files under ${parentUri}`, {
        code: 'invalid_base_model',
        param: 'model',
      });
    }
    const parentDir = join(dir, 'parent');
    const parentFiles = await downloadFolder(objects, parentListed, parentDir);
    if (parentFiles.some((file) => file.path === 'adapter_config.json')) adapterDir = parentDir;
    else modelDir = parentDir;
    parent = { uri: parentUri, sha256: folderSha256(parentFiles) };
  }

  const trainFile = join(dir, 'data', 'training.jsonl');
  const trainHash = await objects.download(spec.training_file.uri, trainFile, spec.training_file.bytes);
  let validationFile: string | undefined;
  let validationHash: LocalInputs['validationHash'] = null;
  if (spec.validation_file) {
    validationFile = join(dir, 'data', 'validation.jsonl');
    validationHash = await objects.download(
      spec.validation_file.uri,
      validationFile,
      spec.validation_file.bytes,
    );
  }
  await mkdir(modelDir, { recursive: true });
  return {
    modelDir,
    adapterDir,
    trainFile,
    validationFile,
    model: { files },
    parent,
    trainHash,
    validationHash,
  };
}

async function downloadFolder(
  objects: ObjectsByUri,
  listed: Awaited<ReturnType<ObjectsByUri['list']>>,
  dir: string,
): Promise<HashedFile[]> {
  const files: HashedFile[] = [];
  for (const object of listed) {
    const parts = object.relative.split('/');
    if (object.relative === '' || parts.some((part) => part === '' || part === '.' || part === '..'))
      continue;
    const { bytes, sha256 } = await objects.download(object.uri, join(dir, ...parts), object.bytes);
    files.push({ path: object.relative, bytes, sha256 });
  }
  return files;
}

/** The newest checkpoint that downloads intact, or undefined to start from the beginning. */
async function newestUsableCheckpoint(
  objects: ObjectsByUri,
  spec: JobSpec,
  dir: string,
  records: JobRecords,
): Promise<string | undefined> {
  const checkpointsUri = `${folderUri(spec.output_uri)}checkpoints/`;
  for (const checkpoint of await completeCheckpoints(objects, checkpointsUri)) {
    const target = join(dir, `step-${checkpoint.step}`);
    const { problem } = await downloadCheckpoint(objects, checkpoint, target);
    if (problem === null) return target;
    await records.event(
      'warn',
      `The checkpoint at step ${checkpoint.step} cannot be resumed from: ${problem}`,
    );
  }
  return undefined;
}

function trainingMethod(spec: JobSpec): TrainingMethod {
  const { options } = spec;
  if (options.training_method === 'full') return { kind: 'full' };
  if (options.training_method === 'partial') {
    return { kind: 'partial', layers: options.partial?.layers, modules: options.partial?.modules };
  }
  return {
    kind: 'lora',
    rank: options.lora.rank,
    alpha: options.lora.alpha,
    dropout: options.lora.dropout,
    targetModules: options.lora.target_modules,
  };
}

/** The engine's settings: OpenAI's batch size is split into passes of at most MAX_TOKENS_PER_PASS tokens. */
function trainingSettings(
  spec: JobSpec,
  hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number },
  method: TrainingMethod,
): Partial<Omit<TrainingSettings, 'padToken'>> {
  const perPass = Math.max(1, Math.floor(MAX_TOKENS_PER_PASS / spec.options.max_seq_length));
  let passBatch = Math.min(perPass, hyperparameters.batch_size);
  while (hyperparameters.batch_size % passBatch !== 0) passBatch -= 1;
  return {
    epochs: hyperparameters.n_epochs,
    batchSize: passBatch,
    gradientAccumulation: hyperparameters.batch_size / passBatch,
    learningRate: learningRateFor(method.kind, hyperparameters.learning_rate_multiplier),
    warmupRatio: spec.options.warmup_ratio,
    seed: spec.seed,
    adamw: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: spec.options.weight_decay },
  };
}

/** The job's max_seq_length, cut to what the base model supports (with a warning). */
async function sequenceLimit(spec: JobSpec, modelDir: string, records: JobRecords): Promise<number> {
  const requested = spec.options.max_seq_length;
  let positions: unknown;
  try {
    positions = (JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>)
      .max_position_embeddings;
  } catch {
    return requested;
  }
  if (typeof positions !== 'number' || !Number.isInteger(positions) || positions >= requested)
    return requested;
  await records.event(
    'warn',
    `max_seq_length ${requested} is longer than the base model's ${positions} positions; examples are cut to ${positions} tokens`,
  );
  return positions;
}

/** Non-blank lines: the examples OpenAI's "auto" rules count. */
async function countExamples(file: string): Promise<number> {
  let count = 0;
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) if (line.trim() !== '') count += 1;
  return count;
}

function sameHyperparameters(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function folderUri(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

function megabytes(files: readonly HashedFile[]): string {
  return (files.reduce((sum, file) => sum + file.bytes, 0) / 1e6).toFixed(1);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** DynamoDB stores no NaN: a metric that is not a finite number is left out. */
function finite<T extends Record<string, number>>(metrics: T): T {
  return Object.fromEntries(Object.entries(metrics).filter(([, value]) => Number.isFinite(value))) as T;
}
