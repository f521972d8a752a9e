import type {
  CheckpointStore,
  FileStore,
  JobEventStore,
  JobStore,
  Launcher,
  ModelStore,
  ObjectStore,
} from '../../lib/adapters';
import type { JobStatus } from '../../lib/core/schemas';

/** What the jobs domain works with; the handlers pass the process's `dependencies`, tests their own. */
export interface JobDeps {
  readonly stores: {
    readonly jobs: JobStore;
    readonly jobEvents: JobEventStore;
    readonly checkpoints: CheckpointStore;
    readonly files: FileStore;
    readonly models: ModelStore;
    readonly objects: ObjectStore;
  };
  readonly launcher: Launcher;
  readonly settings: {
    readonly bucketName: string;
    readonly maxRunningJobsPerTeam: number;
  };
  /** Tells the team's webhooks (and in AWS, EventBridge) that a job paused or finished. */
  readonly notify: (
    team: string,
    job: { readonly id: string; readonly status: JobStatus },
    now: number,
  ) => Promise<void>;
  readonly now: () => number;
  readonly log: (message: string, details: Record<string, unknown>) => void;
}
