/**
 * What `npm run demo` prints: the progress line, and once the job has ended the tables of
 * validation metrics, sample answers, artifacts and attempts. Pure functions of the API's
 * objects, so each is tested on its own.
 */
import type { JobAttempt } from '../lib/core/schemas';
import type { EvaluationReport, GenerationSample } from '../trainer/src/eval';

export type { EvaluationReport, GenerationSample };

/** A `metrics` event's data, as the trainer contract names the fields; any may be missing. */
export interface MetricsData {
  readonly step?: number;
  readonly total_steps?: number;
  readonly epoch?: number;
  readonly train_loss?: number;
  readonly train_mean_token_accuracy?: number;
  readonly learning_rate?: number;
  readonly tokens_per_second?: number;
  readonly eta_seconds?: number;
  readonly valid_loss?: number;
  readonly valid_mean_token_accuracy?: number;
}

/** An item of `GET /v1/whetstone/jobs/{id}/artifacts`. */
export interface ArtifactItem {
  readonly path: string;
  readonly bytes: number;
  readonly url: string;
}

/** `1h 02m`, `3m 07s`, `42s`; never negative. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** `512 B`, `1.5 kB`, `23.4 MB` (powers of 1000, as S3 consoles show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** `step 37/135 (epoch 1.27)  loss 0.4123  acc 87.1%  1,234 tok/s  ETA 1m 05s`, with what is known. */
export function progressLine(metrics: MetricsData): string {
  const parts: string[] = [];
  if (metrics.step !== undefined) {
    const of = metrics.total_steps === undefined ? '' : `/${metrics.total_steps}`;
    const epoch = metrics.epoch === undefined ? '' : ` (epoch ${metrics.epoch.toFixed(2)})`;
    parts.push(`step ${metrics.step}${of}${epoch}`);
  }
  if (metrics.train_loss !== undefined) parts.push(`loss ${metrics.train_loss.toFixed(4)}`);
  if (metrics.train_mean_token_accuracy !== undefined) {
    parts.push(`acc ${percent(metrics.train_mean_token_accuracy)}`);
  }
  if (metrics.valid_loss !== undefined) parts.push(`valid loss ${metrics.valid_loss.toFixed(4)}`);
  if (metrics.tokens_per_second !== undefined) {
    parts.push(`${Math.round(metrics.tokens_per_second).toLocaleString('en-US')} tok/s`);
  }
  if (metrics.eta_seconds !== undefined) parts.push(`ETA ${formatDuration(metrics.eta_seconds)}`);
  return parts.join('  ');
}

/**
 * What the progress line shows after `data`: a training step's event replaces the step and its
 * figures; an evaluation's event (no `train_loss`) adds its validation scores and leaves the
 * training step's figures, so the line never steps back to an earlier epoch or loss.
 */
export function mergeMetrics(shown: MetricsData, data: MetricsData): MetricsData {
  if (data.train_loss !== undefined) return { ...shown, ...data };
  const { step: _step, total_steps: _totalSteps, epoch: _epoch, ...scores } = data;
  return { ...shown, ...scores };
}

export type Alignment = 'left' | 'right';

/** A plain-text table: a header row, a rule, then the rows; cells padded to each column's widest. */
export function textTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  alignments: readonly Alignment[] = [],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return alignments[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** Base against tuned on the validation examples: loss, token accuracy and exact match. */
export function metricsTable(report: EvaluationReport): string {
  const loss = { value: (value: number) => value.toFixed(4), change: (value: number) => value.toFixed(4) };
  // Shares show as percentages, and their differences in percentage points.
  const points = {
    value: (value: number) => `${(value * 100).toFixed(1)}%`,
    change: (value: number) => `${(value * 100).toFixed(1)} pts`,
  };
  const row = (name: string, base: number | null, tuned: number | null, format: typeof loss) => [
    name,
    base === null ? '-' : format.value(base),
    tuned === null ? '-' : format.value(tuned),
    base === null || tuned === null ? '-' : signed(tuned - base, format.change),
  ];
  return textTable(
    ['validation metric', 'base', 'fine-tuned', 'change'],
    [
      row('loss', report.base.valid_loss, report.tuned.valid_loss, loss),
      row(
        'mean token accuracy',
        report.base.valid_mean_token_accuracy,
        report.tuned.valid_mean_token_accuracy,
        points,
      ),
      row(
        `exact match (${report.tuned.exact_match_examples} examples)`,
        report.base.exact_match,
        report.tuned.exact_match,
        points,
      ),
    ],
    ['left', 'right', 'right', 'right'],
  );
}

/** The first `count` samples side by side: the prompt's start, the reference and both answers. */
export function samplesTable(samples: readonly GenerationSample[], count: number, promptWidth = 44): string {
  const answerWidth = 16;
  return textTable(
    ['#', 'prompt', 'expected', 'base', 'fine-tuned'],
    samples
      .slice(0, count)
      .map((sample) => [
        String(sample.index),
        excerpt(promptText(sample), promptWidth),
        excerpt(sample.reference, answerWidth),
        excerpt(sample.base, answerWidth),
        excerpt(sample.tuned, answerWidth),
      ]),
    ['right'],
  );
}

/**
 * Where the job's outputs are: each artifact with its size, except the checkpoints, which are
 * summarised as one line per checkpoint folder.
 */
export function artifactsTable(artifacts: readonly ArtifactItem[]): string {
  const rows: string[][] = [];
  const checkpoints = new Map<string, { files: number; bytes: number }>();
  for (const artifact of artifacts) {
    const checkpoint = /^(checkpoints\/[^/]+\/)/.exec(artifact.path)?.[1];
    if (checkpoint) {
      const summary = checkpoints.get(checkpoint) ?? { files: 0, bytes: 0 };
      checkpoints.set(checkpoint, { files: summary.files + 1, bytes: summary.bytes + artifact.bytes });
      continue;
    }
    rows.push([artifact.path, formatBytes(artifact.bytes)]);
  }
  for (const [folder, summary] of checkpoints) {
    rows.push([
      `${folder} (${summary.files} file${summary.files === 1 ? '' : 's'})`,
      formatBytes(summary.bytes),
    ]);
  }
  rows.sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
  return textTable(['path', 'size'], rows, ['left', 'right']);
}

/** Each attempt: launch and attempt numbers, times, duration, exit code and reason. */
export function attemptsTable(attempts: readonly JobAttempt[]): string {
  return textTable(
    ['launch', 'attempt', 'started (UTC)', 'duration', 'exit', 'instance', 'reason'],
    attempts.map((attempt) => [
      String(attempt.launch),
      String(attempt.attempt),
      attempt.started_at === null ? '-' : clock(attempt.started_at),
      attempt.started_at === null || attempt.stopped_at === null
        ? '-'
        : formatDuration(attempt.stopped_at - attempt.started_at),
      attempt.exit_code === null ? '-' : String(attempt.exit_code),
      attempt.instance_type ?? '-',
      attempt.reason ?? '-',
    ]),
    ['right', 'right', 'left', 'right', 'right'],
  );
}

/** The text a sample asked: the last user message (the e-mail), or the completion prompt. */
function promptText(sample: GenerationSample): string {
  const user = sample.messages?.filter((message) => message.role === 'user').at(-1);
  return user?.content ?? sample.prompt ?? '';
}

/** One line of at most `width` characters: white space folded, an ellipsis where it was cut. */
export function excerpt(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return JSON.stringify(text);
  return line.length <= width ? line : `${line.slice(0, width - 3).trimEnd()}...`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function signed(difference: number, format: (value: number) => string): string {
  const text = format(Math.abs(difference));
  return difference > 0 ? `+${text}` : difference < 0 ? `-${text}` : text;
}

/** `HH:MM:SS` in UTC, so output does not depend on the machine's zone. */
function clock(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(11, 19);
}
