import type { BatchJobStateChange } from '../../core/jobs';
import type { WhetstoneOptions } from '../../core/schemas';

/** One launch of a job: what the compute must run and where. */
export interface LaunchRequest {
  readonly team: string;
  readonly jobId: string;
  /** Counts from 1; a resume is a new launch. */
  readonly launch: number;
  /** `s3://bucket/artifacts/{team}/{job}/spec.json`. */
  readonly specUri: string;
  readonly gpuType: WhetstoneOptions['gpu_type'];
  readonly market: WhetstoneOptions['market'];
  /** Limit on each attempt's run time. */
  readonly attemptTimeoutSeconds: number;
}

/** A compute job as a launcher finds it again: its id and the queue it went to. */
export interface ComputeJobRef {
  /** The compute's own id: the Batch job id, or the local launcher's. */
  readonly computeJobId: string;
  /**
   * The queue it went to (a Batch job queue ARN or name), whose region serves the job;
   * `undefined` when not known (a launch recorded before queues were kept): the default region.
   */
  readonly queue: string | undefined;
}

export interface LaunchResult extends ComputeJobRef {
  /** The queue it went to; kept with the job so that stopping it reaches the same region. */
  readonly queue: string;
}

/**
 * Runs jobs on compute: AWS Batch in AWS, child processes locally. Either way the compute's
 * state changes reach `lambdas/events/batch-state-change` as "Batch Job State Change" events,
 * and that handler alone moves the job's status.
 */
export interface Launcher {
  /** Why this deployment cannot place a job on that GPU type and market; `undefined` when it can. */
  placementProblem(gpuType: LaunchRequest['gpuType'], market: LaunchRequest['market']): string | undefined;
  submit(request: LaunchRequest): Promise<LaunchResult>;
  /** Stops the compute job (not retried); its FAILED event follows. Unknown or finished ids are a no-op. */
  terminate(computeJob: ComputeJobRef, reason: string): Promise<void>;
}

/** Where the local launcher hands its events: the same handler EventBridge invokes in AWS. */
export type ComputeEventSink = (event: BatchJobStateChange) => Promise<void>;
