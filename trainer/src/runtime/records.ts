import {
  createDocumentClient,
  DynamoCheckpointStore,
  DynamoFileStore,
  DynamoJobEventStore,
  DynamoJobStore,
  everyItem,
  type StoredJob,
} from '../../../lib/adapters';
import { newId } from '../../../lib/core/ids';
import type { FileObject, JobAttempt, JobCheckpoint, JobEvent } from '../../../lib/core/schemas';
import type { TrainerEnv } from './env';
import type { JobFailure } from './errors';

/** Tries of a conditional job write that loses to concurrent writers before giving up. */
const MAX_JOB_WRITE_TRIES = 20;

type EventLevel = JobEvent['level'];

export interface CheckpointRecord {
  readonly step: number;
  readonly metrics: JobCheckpoint['metrics'];
}

/**
 * The job's records as the trainer writes them, through the same stores as the lambdas: events,
 * checkpoint records, the result file, and the few job fields the trainer owns (resolved
 * hyperparameters, trained tokens, result files, error, its attempt's instance facts). Job writes
 * are conditional on the version read, retried against concurrent writers, and never touch the
 * status, which only the control plane moves.
 */
export class JobRecords {
  private readonly jobs: DynamoJobStore;
  private readonly events: DynamoJobEventStore;
  private readonly checkpoints: DynamoCheckpointStore;
  private readonly files: DynamoFileStore;

  constructor(
    private readonly env: TrainerEnv,
    client = createDocumentClient(),
  ) {
    this.jobs = new DynamoJobStore(client, env.table);
    this.events = new DynamoJobEventStore(client, env.table);
    this.checkpoints = new DynamoCheckpointStore(client, env.table);
    this.files = new DynamoFileStore(client, env.table);
  }

  async job(): Promise<StoredJob | undefined> {
    return this.jobs.get(this.env.team, this.env.jobId);
  }

  async event(
    level: EventLevel,
    message: string,
    data: Record<string, unknown> | null = null,
    type: JobEvent['type'] = 'message',
  ): Promise<void> {
    await this.events.append(this.env.team, this.env.jobId, {
      id: newId('event'),
      object: 'fine_tuning.job.event',
      created_at: nowSeconds(),
      level,
      message,
      data: storable({ ...data, launch: this.env.launch, attempt: this.env.attempt }) as Record<
        string,
        unknown
      >,
      type,
    });
  }

  async checkpoint(fineTunedModel: string, record: CheckpointRecord): Promise<JobCheckpoint> {
    const checkpoint: JobCheckpoint = {
      id: newId('checkpoint'),
      object: 'fine_tuning.job.checkpoint',
      created_at: nowSeconds(),
      fine_tuned_model_checkpoint: `${fineTunedModel}:ckpt-step-${record.step}`,
      fine_tuning_job_id: this.env.jobId,
      step_number: record.step,
      metrics: record.metrics,
    };
    await this.checkpoints.put(this.env.team, checkpoint);
    return checkpoint;
  }

  /**
   * Deletes the records of checkpoints no longer stored: those below the newest kept step that are
   * not kept, and all but the newest record of a kept step (an attempt that resumed from an older
   * checkpoint records a step again). Records above the newest kept step stay. Returns how many
   * were deleted.
   */
  async forgetCheckpoints(keptSteps: readonly number[]): Promise<number> {
    const newest = Math.max(...keptSteps);
    if (!Number.isFinite(newest)) return 0;
    const all: JobCheckpoint[] = [];
    const listed = everyItem((after) =>
      this.checkpoints.list(this.env.team, this.env.jobId, { after, limit: 100 }),
    );
    for await (const record of listed) all.push(record);
    // Newest first, as listed: the first record seen of a kept step is the one it keeps.
    const seen = new Set<number>();
    const doomed = all.filter((record) => {
      const step = record.step_number;
      if (step > newest) return false;
      if (!keptSteps.includes(step) || seen.has(step)) return true;
      seen.add(step);
      return false;
    });
    for (const record of doomed) await this.checkpoints.delete(this.env.team, this.env.jobId, record.id);
    return doomed.length;
  }

  /** Records a file the job produced (its bytes are already stored) so the Files API serves it. */
  async resultFile(fileId: string, filename: string, bytes: number): Promise<FileObject> {
    const file: FileObject = {
      id: fileId,
      object: 'file',
      bytes,
      created_at: nowSeconds(),
      expires_at: null,
      filename,
      purpose: 'fine-tune-results',
      status: 'processed',
      status_details: null,
      whetstone: { validation: null },
    };
    await this.files.put(this.env.team, file);
    return file;
  }

  async fail(failure: JobFailure): Promise<void> {
    await this.update((job) => ({ ...job, job: { ...job.job, error: { ...failure } } }));
  }

  /** Records where this attempt runs on its attempt entry, once the control plane has created it. */
  async attemptFacts(facts: {
    instanceType: string | null;
    market: JobAttempt['market'];
    region: string | null;
  }): Promise<boolean> {
    let recorded = false;
    await this.update((job) => {
      const attempts = job.job.whetstone.attempts;
      const index = attempts.findIndex(
        (attempt) => attempt.launch === this.env.launch && attempt.attempt === this.env.attempt,
      );
      const attempt = attempts[index];
      if (!attempt) return undefined;
      recorded = true;
      const next = [...attempts];
      next[index] = {
        ...attempt,
        instance_type: facts.instanceType,
        market: facts.market,
        region: facts.region,
      };
      return { ...job, job: { ...job.job, whetstone: { ...job.job.whetstone, attempts: next } } };
    });
    return recorded;
  }

  /**
   * Applies `change` to the job as last read, written only if no one wrote since; reads and tries
   * again otherwise. `change` returns undefined when there is nothing to write.
   */
  async update(change: (job: StoredJob) => StoredJob | undefined): Promise<void> {
    for (let tries = 1; ; tries++) {
      const current = await this.jobs.get(this.env.team, this.env.jobId);
      if (!current) throw new Error(`Job ${this.env.jobId} of team ${this.env.team} does not exist`);
      const changed = change(current);
      if (!changed) return;
      const result = await this.jobs.replace({ ...changed, version: current.version + 1 });
      if (result === 'written') return;
      if (tries >= MAX_JOB_WRITE_TRIES) {
        throw new Error(`Job ${this.env.jobId} kept changing under ${tries} tries to update it`);
      }
    }
  }
}

/** DynamoDB stores no NaN or infinity: such numbers (a loss over no trained token) become null. */
export function storable(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, storable(entry)]));
  }
  return value;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
