import { join } from 'node:path';
import type { JobSpec } from '../../../lib/core/jobs';
import { objectKeys } from '../../../lib/core/storage';
import { type FineTuneSummary, fineTune, type SavedCheckpoint, type StepProgress } from '../train';
import { completeCheckpoints, downloadCheckpoint, pruneCheckpoints, uploadCheckpoint } from './checkpoints';
import { downloadInputs, folderUri, megabytes } from './downloads';
import type { TrainerEnv } from './env';
import { TrainerInputError } from './errors';
import { resolveHyperparameters } from './hyperparameters';
import { checkInputObjects, loadSpecText } from './inputs';
import { readInstanceFacts } from './instance';
import type { ObjectsByUri } from './objects';
import { storeOutputs } from './outputs';
import type { JobRecords } from './records';
import { countExamples, sequenceLimit, trainingMethod, trainingSettings } from './settings';

/** Metrics events are throttled to one per this many milliseconds, besides the first and last step. */
export const METRICS_EVENT_INTERVAL_MS = 5_000;
/** Validation examples answered by greedy decoding for eval/ (base and fine-tuned). */
export const GENERATION_EXAMPLES = 100;
/** Held out for validation when the job names no validation file. */
const VALIDATION_FRACTION = 0.1;

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

  const { spec, text: specText } = await loadSpecText(objects, env);
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
  // Best effort: each call deletes everything older than the newest kept checkpoints, so one
  // that fails leaves its work to the next, and never costs the training run.
  const pruneOlderCheckpoints = async () => {
    try {
      const { kept, deleted } = await pruneCheckpoints(objects, checkpointsUri);
      const forgotten = await records.forgetCheckpoints(kept);
      if (deleted.length > 0 || forgotten > 0) {
        log(
          `Checkpoints kept: steps ${kept.join(', ')}; deleted: ${deleted.length} folders (steps ${deleted.join(', ')}), ${forgotten} records`,
        );
      }
    } catch (error) {
      const problem = `Older checkpoints could not be deleted (the next checkpoint tries again): ${(error as Error).message}`;
      log(problem);
      await records.event('warn', problem).catch(() => undefined);
    }
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
    await pruneOlderCheckpoints();
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

  const { resultFileId } = await storeOutputs({
    objects,
    records,
    env,
    outDir,
    summary,
    manifest: {
      spec,
      specText,
      inputs,
      hyperparameters,
      training: { method, ...training, max_seq_length: maxSeqLen },
    },
  });

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

function sameHyperparameters(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** DynamoDB stores no NaN: a metric that is not a finite number is left out. */
function finite<T extends Record<string, number>>(metrics: T): T {
  return Object.fromEntries(Object.entries(metrics).filter(([, value]) => Number.isFinite(value))) as T;
}
