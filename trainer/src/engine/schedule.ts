import { TrainingConfigError } from './errors';

export type DecayShape = 'cosine' | 'linear' | 'constant';

export interface LearningRateSchedule {
  readonly peak: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly decay: DecayShape;
}

/**
 * The learning rate for optimizer step `step` (counted from 1): linear warmup from 0 to the peak
 * over warmupSteps, then decay to 0 at totalSteps, as transformers' get_cosine_schedule_with_warmup
 * and get_linear_schedule_with_warmup compute it (their step index is ours minus one).
 */
export function learningRateAt(schedule: LearningRateSchedule, step: number): number {
  const { peak, warmupSteps, totalSteps, decay } = schedule;
  if (!Number.isInteger(step) || step < 1)
    throw new TrainingConfigError('step', `optimizer steps count from 1, got ${step}`);
  const index = step - 1;
  if (index < warmupSteps) return (peak * index) / Math.max(1, warmupSteps);
  if (decay === 'constant') return peak;
  const progress = (index - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (decay === 'linear') return peak * Math.max(0, 1 - progress);
  return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export function checkSchedule(schedule: LearningRateSchedule): LearningRateSchedule {
  if (!(schedule.peak > 0) || !Number.isFinite(schedule.peak)) {
    throw new TrainingConfigError(
      'learning_rate',
      `learning rate must be a positive number, got ${schedule.peak}`,
    );
  }
  if (!Number.isInteger(schedule.totalSteps) || schedule.totalSteps < 1) {
    throw new TrainingConfigError(
      'total_steps',
      `total steps must be a positive integer, got ${schedule.totalSteps}`,
    );
  }
  if (
    !Number.isInteger(schedule.warmupSteps) ||
    schedule.warmupSteps < 0 ||
    schedule.warmupSteps > schedule.totalSteps
  ) {
    throw new TrainingConfigError(
      'warmup_steps',
      `warmup steps must be between 0 and ${schedule.totalSteps}, got ${schedule.warmupSteps}`,
    );
  }
  return schedule;
}
