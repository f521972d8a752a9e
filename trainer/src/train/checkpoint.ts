import { TrainingConfigError } from '../engine/errors';
import type { TrainingRun } from './run';
import { loadTrainingState, saveTrainingState } from './state';

/** What must match for a resumed run to see the batches the interrupted one would have seen. */
interface DataPosition {
  readonly epoch: number;
  readonly step_in_epoch: number;
  readonly seed: number;
  readonly examples: number;
  readonly batch_size: number;
  readonly gradient_accumulation: number;
  readonly epochs: number;
}

function dataPositionOf(run: TrainingRun): DataPosition {
  const { position, settings } = run;
  return {
    epoch: position.epoch,
    step_in_epoch: position.stepInEpoch,
    seed: settings.seed,
    examples: run.exampleCount,
    batch_size: settings.batchSize,
    gradient_accumulation: settings.gradientAccumulation,
    epochs: settings.epochs,
  };
}

/**
 * Saves a run where it stands: trainable weights, AdamW's moments, the step, the dropout generator
 * and the data position. `meta` travels along (the caller's hyperparameters, say).
 */
export async function saveRunCheckpoint(dir: string, run: TrainingRun, meta: object = {}): Promise<void> {
  await saveTrainingState(dir, run.model, run.optimizer, {
    step: run.position.step,
    rng: run.position.random,
    dataPosition: dataPositionOf(run),
    meta,
  });
}

/**
 * Restores a checkpoint into a run built on the same model, data and settings, so that it goes on
 * exactly as the interrupted run would have. Returns the checkpoint's meta.
 */
export async function resumeRunCheckpoint(dir: string, run: TrainingRun): Promise<object> {
  const progress = await loadTrainingState(dir, run.model, run.optimizer);
  const saved = progress.dataPosition as Partial<DataPosition>;
  const current = dataPositionOf(run);
  for (const key of ['seed', 'examples', 'batch_size', 'gradient_accumulation', 'epochs'] as const) {
    if (saved[key] !== current[key]) {
      throw new TrainingConfigError(
        key,
        `the checkpoint in ${dir} was made with ${key} ${String(saved[key])}, this run has ${current[key]}: resuming would change the data order`,
      );
    }
  }
  run.resume({
    step: progress.step,
    epoch: Number(saved.epoch),
    stepInEpoch: Number(saved.step_in_epoch),
    random: progress.rng,
  });
  return progress.meta;
}
