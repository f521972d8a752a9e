import { randomInt } from 'node:crypto';
import type { Page, StoredJob } from '../../lib/adapters';
import { ConflictError, InvalidRequestError, NotFoundError } from '../../lib/core/errors';
import { isId, newId } from '../../lib/core/ids';
import { type ControlAction, decideControl, type JobSpec, s3Uri } from '../../lib/core/jobs';
import { fineTunedModelName } from '../../lib/core/models';
import {
  type CreateJobRequest,
  type FileObject,
  type FineTuningJob,
  type Hyperparameters,
  type JobCheckpoint,
  type JobEvent,
  type PageQuery,
  whetstoneOptionsSchema,
} from '../../lib/core/schemas';
import { objectKeys } from '../../lib/core/storage';
import { resolveModelForJob } from '../models/service';
import type { JobDeps } from './deps';
import { stopReason, tryLaunch } from './launching';
import { afterChange, holdsSlot } from './settle';
import { appendEvents, changeJob } from './transitions';

/**
 * Checks the request, the files and the model before anything is written, then writes the
 * spec, the record (`validating_files`) and moves it to `queued` with a launch requested. A
 * request that fails a check leaves nothing behind.
 */
export async function createJob(
  deps: JobDeps,
  team: string,
  request: CreateJobRequest,
): Promise<FineTuningJob> {
  const now = deps.now();
  const options = whetstoneOptionsSchema.parse(request.whetstone ?? {});
  const trainingFile = await usableFile(deps, team, request.training_file, 'training_file');
  const validationFile = request.validation_file
    ? await usableFile(deps, team, request.validation_file, 'validation_file')
    : null;
  const model = await resolveModelForJob(deps.stores, team, request.model).catch((error: unknown) => {
    throw error instanceof NotFoundError
      ? new InvalidRequestError(error.message, { param: 'model', code: 'model_not_available', cause: error })
      : error;
  });
  const placement = deps.launcher.placementProblem(options.gpu_type, options.market);
  if (placement)
    throw new InvalidRequestError(placement, { param: 'whetstone.gpu_type', code: 'placement_unavailable' });

  const requested = request.method?.supervised?.hyperparameters ?? request.hyperparameters ?? {};
  const hyperparameters: Hyperparameters = {
    batch_size: requested.batch_size ?? 'auto',
    learning_rate_multiplier: requested.learning_rate_multiplier ?? 'auto',
    n_epochs: requested.n_epochs ?? 'auto',
  };
  const jobId = newId('job', now);
  const seed = request.seed ?? randomInt(0, 2_147_483_647);
  const suffix = request.suffix ?? null;
  const fineTunedName = fineTunedModelName({ baseModel: model.base.id, team, suffix, jobId });
  const { bucketName } = deps.settings;
  const spec: JobSpec = {
    spec_version: 1,
    job_id: jobId,
    team,
    created_at: Math.floor(now / 1000),
    model: {
      requested: request.model,
      base: model.base.id,
      architecture: model.base.architecture,
      uri: s3Uri(bucketName, model.base.prefix),
      parent_uri: model.parent ? s3Uri(bucketName, model.parent.prefix) : null,
    },
    training_file: {
      id: trainingFile.id,
      uri: s3Uri(bucketName, objectKeys.file(team, trainingFile.id)),
      bytes: trainingFile.bytes,
    },
    validation_file: validationFile
      ? {
          id: validationFile.id,
          uri: s3Uri(bucketName, objectKeys.file(team, validationFile.id)),
          bytes: validationFile.bytes,
        }
      : null,
    hyperparameters,
    seed,
    suffix,
    fine_tuned_model: fineTunedName,
    options,
    output_uri: s3Uri(bucketName, objectKeys.artifacts(team, jobId)),
  };
  await deps.stores.objects.put(
    objectKeys.jobSpec(team, jobId),
    Buffer.from(JSON.stringify(spec, null, 2)),
    'application/json',
  );

  const stored: StoredJob = {
    team,
    version: 1,
    launch: { number: 0, state: 'none', compute_job_id: null, progress: null },
    model: {
      base: model.base.id,
      architecture: model.base.architecture,
      suffix,
      fine_tuned_name: fineTunedName,
    },
    job: {
      id: jobId,
      object: 'fine_tuning.job',
      created_at: Math.floor(now / 1000),
      error: null,
      fine_tuned_model: null,
      finished_at: null,
      hyperparameters,
      model: request.model,
      organization_id: team,
      result_files: [],
      seed,
      status: 'validating_files',
      trained_tokens: null,
      training_file: trainingFile.id,
      validation_file: validationFile?.id ?? null,
      estimated_finish: null,
      integrations: [],
      metadata: request.metadata ?? null,
      method: { type: 'supervised', supervised: { hyperparameters } },
      whetstone: { options, desired_status: 'running', attempts: [] },
    },
  };
  try {
    if (!(await deps.stores.jobs.create(stored))) throw new Error(`job id ${jobId} already taken`);
  } catch (error) {
    // No record, no job: the spec goes too, so a failed create leaves nothing behind. A write
    // that failed only on its way back may have landed, and then the spec is the job's.
    const landed = await deps.stores.jobs.get(team, jobId).catch(() => undefined);
    if (!landed) await deps.stores.objects.delete(objectKeys.jobSpec(team, jobId)).catch(() => undefined);
    throw error;
  }
  // From here the job exists: a failure is logged and the job returned as it stands (a retry
  // would only make a second job); what did not happen shows in its status and events.
  try {
    await queueAndLaunch(deps, team, jobId, [trainingFile, ...(validationFile ? [validationFile] : [])]);
  } catch (error) {
    deps.log('job created but not launched', { team, jobId, error: String(error) });
  }
  return (await getJob(deps, team, jobId)).job;
}

async function queueAndLaunch(
  deps: JobDeps,
  team: string,
  jobId: string,
  files: readonly FileObject[],
): Promise<void> {
  // The events tell the story; their loss must not keep the job from running.
  await appendEvents(deps, team, jobId, [
    { level: 'info', message: `Created fine-tuning job: ${jobId}`, type: 'message', data: {} },
    ...files.map((file, index) => ({
      level: 'info' as const,
      message: `Validating ${index === 0 ? 'training' : 'validation'} file: ${file.id}`,
      type: 'message' as const,
      data: {},
    })),
  ]).catch((error: unknown) => deps.log('job events not recorded', { team, jobId, error: String(error) }));
  await changeJob(deps, team, jobId, (current) =>
    current.job.status === 'validating_files' && current.job.whetstone.desired_status === 'running'
      ? {
          next: {
            ...current,
            launch: { ...current.launch, number: 1, state: 'waiting' },
            job: { ...current.job, status: 'queued' },
          },
        }
      : undefined,
  );
  await tryLaunch(deps, team, jobId);
}

export async function getJob(deps: Pick<JobDeps, 'stores'>, team: string, jobId: string): Promise<StoredJob> {
  const job = isId('job', jobId) ? await deps.stores.jobs.get(team, jobId) : undefined;
  if (!job) throw jobNotFound(jobId);
  return job;
}

function jobNotFound(jobId: string): NotFoundError {
  return new NotFoundError(`No fine-tuning job found with id ${jobId}.`, { param: 'fine_tuning_job_id' });
}

export async function listJobs(
  deps: Pick<JobDeps, 'stores'>,
  team: string,
  query: PageQuery & { readonly metadata?: Readonly<Record<string, string>> },
): Promise<Page<FineTuningJob>> {
  if (query.after !== undefined && !isId('job', query.after)) {
    throw new InvalidRequestError(`after must be a fine-tuning job id, not '${query.after}'.`, {
      param: 'after',
    });
  }
  return deps.stores.jobs.list(team, query);
}

/**
 * Cancel, pause or resume as the lifecycle decides. Stop intent is written before the compute
 * is stopped, so whoever sees the attempt end knows not to retry it.
 */
export async function controlJob(
  deps: JobDeps,
  team: string,
  jobId: string,
  action: ControlAction,
): Promise<FineTuningJob> {
  if (!isId('job', jobId)) throw jobNotFound(jobId);
  let refusal: ConflictError | undefined;
  let relaunch = false;
  const outcome = await changeJob(deps, team, jobId, (current) => {
    const decision = decideControl(
      {
        id: jobId,
        status: current.job.status,
        desired_status: current.job.whetstone.desired_status,
        computeRequested: holdsSlot(current.launch.state),
      },
      action,
    );
    refusal = undefined;
    relaunch = false;
    if (decision.kind === 'refuse') {
      refusal = new ConflictError(decision.message, { code: decision.code });
      return undefined;
    }
    if (decision.kind === 'unchanged') return undefined;
    ({ relaunch } = decision);
    const status = decision.status ?? current.job.status;
    const finished = status === 'cancelled';
    return {
      next: {
        ...current,
        launch: relaunch
          ? { number: current.launch.number + 1, state: 'waiting', compute_job_id: null, progress: null }
          : finished
            ? { ...current.launch, state: 'ended' }
            : current.launch,
        job: {
          ...current.job,
          status,
          ...(finished ? { finished_at: Math.floor(deps.now() / 1000) } : {}),
          whetstone: { ...current.job.whetstone, desired_status: decision.desired },
        },
      },
      events: [
        {
          level: 'info',
          message: `${action === 'cancel' ? 'Cancel' : action === 'pause' ? 'Pause' : 'Resume'} requested.`,
          type: 'message',
          data: { action },
        },
      ],
    };
  });
  if (refusal) throw refusal;
  if (!outcome) throw jobNotFound(jobId);
  const job = outcome.kind === 'written' ? outcome.after : outcome.job;
  // Stopping is asked again on a repeated cancel or pause too: an earlier request may have
  // recorded the intent and then failed to reach the compute.
  if (
    action !== 'resume' &&
    job.job.whetstone.desired_status !== 'running' &&
    holdsSlot(job.launch.state) &&
    job.launch.compute_job_id
  ) {
    await deps.launcher.terminate(
      { computeJobId: job.launch.compute_job_id, queue: job.launch.compute_queue },
      stopReason(job),
    );
  }
  if (outcome.kind === 'written') {
    if (relaunch) await tryLaunch(deps, team, jobId);
    await afterChange(deps, outcome);
  }
  return (await getJob(deps, team, jobId)).job;
}

export async function listJobEvents(
  deps: Pick<JobDeps, 'stores'>,
  team: string,
  jobId: string,
  query: PageQuery,
): Promise<Page<JobEvent>> {
  await getJob(deps, team, jobId);
  if (query.after !== undefined && !isId('event', query.after)) {
    throw new InvalidRequestError(`after must be a fine-tuning event id, not '${query.after}'.`, {
      param: 'after',
    });
  }
  return deps.stores.jobEvents.list(team, jobId, query);
}

export async function listJobCheckpoints(
  deps: Pick<JobDeps, 'stores'>,
  team: string,
  jobId: string,
  query: PageQuery,
): Promise<Page<JobCheckpoint>> {
  await getJob(deps, team, jobId);
  if (query.after !== undefined && !isId('checkpoint', query.after)) {
    throw new InvalidRequestError(`after must be a checkpoint id, not '${query.after}'.`, { param: 'after' });
  }
  return deps.stores.checkpoints.list(team, jobId, query);
}

/**
 * A file a job may train on: the team's own (another team's is answered as one that does not
 * exist), meant for fine-tuning, and validated without problems.
 */
async function usableFile(deps: JobDeps, team: string, fileId: string, param: string): Promise<FileObject> {
  const file = isId('file', fileId) ? await deps.stores.files.get(team, fileId) : undefined;
  if (!file) {
    throw new InvalidRequestError(`invalid ${param}: no file ${fileId} exists for this team.`, {
      param,
      code: 'invalid_file',
    });
  }
  if (file.status !== 'processed') {
    throw new InvalidRequestError(
      `invalid ${param}: file ${fileId} failed validation and cannot be trained on` +
        `${file.status_details ? `: ${file.status_details}` : '.'}`,
      { param, code: 'invalid_file' },
    );
  }
  return file;
}
