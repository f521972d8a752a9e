export {
  BATCH_JOB_STATE_CHANGE,
  type BatchAttempt,
  type BatchJobStateChange,
  batchAttemptSchema,
  batchJobStateChangeSchema,
  COMPUTE_TAGS,
  MAX_ATTEMPTS,
  RETRYABLE_EXIT_CODE,
  RETRYABLE_STATUS_REASON_GLOB,
  TRAINER_ENV,
} from './batch-event';
export { KEPT_CHECKPOINTS } from './checkpoints';
export {
  COMPUTE_STATUSES,
  type ComputeDecision,
  type ComputeObservation,
  type ComputeProgress,
  type ComputeStatus,
  type ControlAction,
  type ControlDecision,
  type ControlState,
  canTransition,
  DESIRED_STATUSES,
  type DesiredStatus,
  decideCompute,
  decideControl,
  isLater,
  isTerminal,
  type LifecycleState,
  progressOf,
  statusForCompute,
  TERMINAL_STATUSES,
  TRANSITIONS,
} from './lifecycle';
export { JOB_METRICS } from './metrics';
export { type JobSpec, jobSpecSchema, parseS3Uri, s3Uri } from './spec';
