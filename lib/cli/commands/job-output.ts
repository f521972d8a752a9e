import type { FineTuningJob, JobEvent } from '../../core/schemas';
import { formatTime } from '../output';

/** How `whet jobs` shows a job, its status and its events. */
export function details(job: FineTuningJob): [string, string | undefined][] {
  const options = job.whetstone?.options;
  const { n_epochs, batch_size, learning_rate_multiplier } = job.hyperparameters;
  const metadata = Object.entries(job.metadata ?? {});
  return [
    ['id', job.id],
    ['status', describeStatus(job)],
    ['model', job.model],
    ['fine-tuned model', job.fine_tuned_model ?? undefined],
    ['training file', job.training_file],
    ['validation file', job.validation_file ?? undefined],
    ['method', options ? describeMethod(options) : undefined],
    [
      'hyperparameters',
      `epochs ${n_epochs}, batch size ${batch_size}, learning rate multiplier ${learning_rate_multiplier}`,
    ],
    [
      'compute',
      options
        ? `${options.gpu_type === 'none' ? 'CPU' : options.gpu_type}, ${options.market}` +
          (options.max_cost_usd === null ? '' : `, at most $${options.max_cost_usd}`)
        : undefined,
    ],
    ['seed', String(job.seed)],
    ['created', formatTime(job.created_at)],
    ['finished', job.finished_at === null ? undefined : formatTime(job.finished_at)],
    ['attempts', job.whetstone ? String(job.whetstone.attempts.length) : undefined],
    ['error', job.error ? `${job.error.code}: ${job.error.message}` : undefined],
    [
      'metadata',
      metadata.length > 0 ? metadata.map(([key, value]) => `${key}=${value}`).join(', ') : undefined,
    ],
  ];
}

function describeMethod(options: NonNullable<FineTuningJob['whetstone']>['options']): string {
  switch (options.training_method) {
    case 'lora':
      return `lora (rank ${options.lora.rank}, alpha ${options.lora.alpha})`;
    case 'full':
      return 'full';
    case 'partial': {
      const layers = options.partial?.layers;
      const modules = options.partial?.modules;
      const parts = [
        ...(layers ? [`layers ${layers.join(',')}`] : []),
        ...(modules ? [`modules ${modules.join(',')}`] : []),
      ];
      return `partial (${parts.join('; ')})`;
    }
  }
}

/** The status, and where the job is headed when a cancel or pause is still under way. */
export function describeStatus(job: FineTuningJob): string {
  const desired = job.whetstone?.desired_status;
  if (desired === 'cancelled' && job.status !== 'cancelled') return `${job.status}, cancelling`;
  if (desired === 'paused' && job.status !== 'paused') return `${job.status}, pausing`;
  return job.status;
}

export function eventLine(event: JobEvent): string {
  return `${formatTime(event.created_at)}  ${event.level.padEnd(5)}  ${event.message}`;
}

export function formatMetric(value: number | undefined): string {
  return value === undefined ? '-' : String(Number(value.toPrecision(6)));
}

export function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
