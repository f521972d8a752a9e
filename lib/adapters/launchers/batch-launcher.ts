import {
  BatchClient,
  type RetryStrategy,
  SubmitJobCommand,
  type SubmitJobCommandInput,
  TerminateJobCommand,
} from '@aws-sdk/client-batch';
import {
  COMPUTE_TAGS,
  MAX_ATTEMPTS,
  RETRYABLE_EXIT_CODE,
  RETRYABLE_STATUS_REASON_GLOB,
  TRAINER_ENV,
} from '../../core/jobs';
import { jobQueueLocation } from './batch-arn';
import { LaunchFailedError, TerminateFailedError } from './errors';
import type { ComputeJobRef, Launcher, LaunchRequest, LaunchResult } from './launcher';

/** One Batch queue and the job definition its jobs run with. */
export interface BatchQueue {
  /** A job queue ARN (its region serves the job) or a name (the default client's region). */
  readonly queue: string;
  /** A name, `name:revision` or ARN, in the queue's region; without a revision, the latest active one. */
  readonly jobDefinition: string;
}

/** The deployment's queues, keyed `{gpu_type}:{market}` (e.g. `a10g:spot`). */
export type BatchQueues = Readonly<Record<string, BatchQueue>>;

export interface BatchLauncherOptions {
  /** Handed to the trainer as `WHETSTONE_TABLE`. */
  readonly tableName: string;
  /** Handed to the trainer as `WHETSTONE_BUCKET`. */
  readonly bucketName: string;
}

/** Batch refuses attempt timeouts under a minute. */
export const MIN_ATTEMPT_TIMEOUT_SECONDS = 60;
/** TerminateJob's limit on `reason`. */
export const MAX_TERMINATE_REASON_LENGTH = 1024;
const MAX_JOB_NAME_LENGTH = 128;

/**
 * Batch's retry rule as a retry strategy (`MAX_ATTEMPTS` and the rule in core/jobs): the first
 * entry that matches decides, so the catch-all `EXIT` must stay last.
 */
export function batchRetryStrategy(attempts: number = MAX_ATTEMPTS): RetryStrategy {
  return {
    attempts,
    evaluateOnExit: [
      { onStatusReason: RETRYABLE_STATUS_REASON_GLOB, action: 'RETRY' },
      { onExitCode: String(RETRYABLE_EXIT_CODE), action: 'RETRY' },
      { onReason: '*', action: 'EXIT' },
    ],
  };
}

/** Batch job names allow up to 128 letters, digits, hyphens and underscores. */
export function computeJobName(request: Pick<LaunchRequest, 'team' | 'jobId' | 'launch'>): string {
  return `whetstone-${request.team}-${request.jobId}-l${request.launch}`
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, MAX_JOB_NAME_LENGTH);
}

/** Tags on the compute job, as strings; `propagateTags` copies them to its ECS task (instances are tagged by the compute environment). */
export function computeTags(
  request: Pick<LaunchRequest, 'team' | 'jobId' | 'launch'>,
): Record<string, string> {
  return {
    [COMPUTE_TAGS.team]: request.team,
    [COMPUTE_TAGS.jobId]: request.jobId,
    [COMPUTE_TAGS.launch]: String(request.launch),
  };
}

/**
 * Runs each launch as one AWS Batch job on the queue configured for its GPU type and market. The
 * queues may live in several regions: each call goes to its queue's region, through one client
 * per region made on first use.
 */
export class BatchLauncher implements Launcher {
  private readonly regionalClients = new Map<string, BatchClient>();

  constructor(
    /** Serves queues given by name (and launches recorded without a queue), in its own region. */
    private readonly client: BatchClient,
    private readonly queues: BatchQueues,
    private readonly options: BatchLauncherOptions,
  ) {}

  /** The client for the queue's region and that region (`undefined`: the default client's). */
  private clientFor(queue: string | undefined): { client: BatchClient; region: string | undefined } {
    const region = queue === undefined ? undefined : jobQueueLocation(queue)?.region;
    if (region === undefined) return { client: this.client, region };
    let client = this.regionalClients.get(region);
    if (!client) {
      client = new BatchClient({ region });
      this.regionalClients.set(region, client);
    }
    return { client, region };
  }

  placementProblem(gpuType: LaunchRequest['gpuType'], market: LaunchRequest['market']): string | undefined {
    if (this.queues[`${gpuType}:${market}`]) return undefined;
    const configured = Object.keys(this.queues).sort();
    const available = configured.length > 0 ? configured.map((key) => `'${key}'`).join(', ') : 'none';
    return `This deployment has no compute for gpu_type '${gpuType}' on the '${market}' market; configured gpu_type:market pairs: ${available}.`;
  }

  async submit(request: LaunchRequest): Promise<LaunchResult> {
    const target = this.queues[`${request.gpuType}:${request.market}`];
    if (!target) {
      throw new LaunchFailedError(this.placementProblem(request.gpuType, request.market) as string, request);
    }
    const input: SubmitJobCommandInput = {
      jobName: computeJobName(request),
      jobQueue: target.queue,
      jobDefinition: target.jobDefinition,
      containerOverrides: {
        environment: [
          { name: TRAINER_ENV.jobId, value: request.jobId },
          { name: TRAINER_ENV.team, value: request.team },
          { name: TRAINER_ENV.launch, value: String(request.launch) },
          { name: TRAINER_ENV.specUri, value: request.specUri },
          { name: TRAINER_ENV.table, value: this.options.tableName },
          { name: TRAINER_ENV.bucket, value: this.options.bucketName },
          { name: TRAINER_ENV.environment, value: 'aws' },
        ],
      },
      tags: computeTags(request),
      propagateTags: true,
      retryStrategy: batchRetryStrategy(),
      timeout: {
        attemptDurationSeconds: Math.max(
          MIN_ATTEMPT_TIMEOUT_SECONDS,
          Math.ceil(request.attemptTimeoutSeconds),
        ),
      },
    };
    let jobId: string | undefined;
    try {
      ({ jobId } = await this.clientFor(target.queue).client.send(new SubmitJobCommand(input)));
    } catch (error) {
      throw new LaunchFailedError(
        `AWS Batch refused job ${request.jobId} (launch ${request.launch}) on queue ${target.queue}: ${messageOf(error)}`,
        request,
        { cause: error },
      );
    }
    if (!jobId) {
      throw new LaunchFailedError(
        `AWS Batch accepted job ${request.jobId} (launch ${request.launch}) on queue ${target.queue} but returned no job id`,
        request,
      );
    }
    return { computeJobId: jobId, queue: target.queue };
  }

  async terminate({ computeJobId, queue }: ComputeJobRef, reason: string): Promise<void> {
    let region: string | undefined;
    try {
      const regional = this.clientFor(queue);
      region = regional.region;
      await regional.client.send(
        new TerminateJobCommand({
          jobId: computeJobId,
          reason: reason.slice(0, MAX_TERMINATE_REASON_LENGTH),
        }),
      );
    } catch (error) {
      const where = region === undefined ? '' : ` in ${region}`;
      throw new TerminateFailedError(
        `AWS Batch did not terminate compute job ${computeJobId}${where}: ${messageOf(error)}`,
        computeJobId,
        { cause: error },
      );
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
