import { TrainingConfigError } from '../engine/errors';

/** OpenAI's result-file columns, in its order. */
export const RESULT_COLUMNS = [
  'step',
  'train_loss',
  'train_accuracy',
  'valid_loss',
  'valid_mean_token_accuracy',
] as const;

/**
 * `result.csv` from `metrics.jsonl`: one row per training step, its validation columns filled when an
 * evaluation ran at that step and empty otherwise, as OpenAI's result file. The evaluation of the
 * untrained model (step 0) has no row: OpenAI's steps start at 1.
 */
export function resultCsv(metricsJsonl: string, source = 'metrics.jsonl'): string {
  const rows = new Map<number, Record<(typeof RESULT_COLUMNS)[number], number | undefined>>();
  const lines = metricsJsonl.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new TrainingConfigError(
        'metrics',
        `${source} line ${index + 1} is not JSON: ${(error as Error).message}`,
      );
    }
    const step = value.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      throw new TrainingConfigError('metrics', `${source} line ${index + 1} has no integer "step"`);
    }
    if (step === 0) return;
    const row = rows.get(step) ?? {
      step,
      train_loss: undefined,
      train_accuracy: undefined,
      valid_loss: undefined,
      valid_mean_token_accuracy: undefined,
    };
    if (typeof value.train_loss === 'number') row.train_loss = value.train_loss;
    if (typeof value.train_mean_token_accuracy === 'number')
      row.train_accuracy = value.train_mean_token_accuracy;
    if (typeof value.valid_loss === 'number') row.valid_loss = value.valid_loss;
    if (typeof value.valid_mean_token_accuracy === 'number')
      row.valid_mean_token_accuracy = value.valid_mean_token_accuracy;
    rows.set(step, row);
  });
  const body = [...rows.values()]
    .sort((a, b) => (a.step as number) - (b.step as number))
    .map((row) => RESULT_COLUMNS.map((column) => formatCell(row[column])).join(','));
  return `${[RESULT_COLUMNS.join(','), ...body].join('\n')}\n`;
}

function formatCell(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  // Six significant digits, without the trailing zeros toPrecision keeps.
  return String(Number(value.toPrecision(6)));
}
