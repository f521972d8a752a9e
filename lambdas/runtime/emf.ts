/**
 * CloudWatch's Embedded Metric Format: a log line that is one JSON object whose `_aws` block
 * tells CloudWatch Logs which of its members to publish as metrics. No API call and no IAM: the
 * function's log group is enough. Elsewhere the line is just a structured log line.
 */

/** The units the handlers use; EMF accepts any CloudWatch metric unit. */
export type EmfUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'Bytes' | 'None';

export interface EmfMetric {
  readonly name: string;
  readonly value: number;
  readonly unit: EmfUnit;
  /** Dimension name to value; empty publishes the metric without dimensions. */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** EMF's limits: 30 dimensions in a set, 100 metrics in a directive, 1024 characters in a dimension value. */
const MAX_DIMENSIONS = 30;
const MAX_METRICS = 100;
const MAX_DIMENSION_VALUE_LENGTH = 1024;

/**
 * The EMF document for `metrics`, all at `timestamp` (milliseconds since the epoch). Each metric
 * has its own directive, so each keeps its own dimension set; their names and dimension values
 * share the root, so a name used twice must carry one value. Throws on a document CloudWatch
 * would reject, since that is a programming error and would otherwise be dropped unseen.
 */
export function emfDocument(
  namespace: string,
  metrics: readonly EmfMetric[],
  timestamp: number,
): Record<string, unknown> {
  if (metrics.length === 0 || metrics.length > MAX_METRICS) {
    throw new RangeError(`an EMF document holds 1 to ${MAX_METRICS} metrics, not ${metrics.length}`);
  }
  const root = new Map<string, string | number>();
  const claim = (name: string, value: string | number) => {
    if (name === '_aws' || (root.has(name) && root.get(name) !== value)) {
      throw new Error(`EMF member '${name}' would carry two values (${String(root.get(name))}, ${value})`);
    }
    root.set(name, value);
  };
  const directives = metrics.map((metric) => {
    const dimensionNames = Object.keys(metric.dimensions);
    if (dimensionNames.length > MAX_DIMENSIONS) {
      throw new RangeError(`metric '${metric.name}' has more than ${MAX_DIMENSIONS} dimensions`);
    }
    for (const [name, value] of Object.entries(metric.dimensions)) {
      if (value.length === 0 || value.length > MAX_DIMENSION_VALUE_LENGTH) {
        throw new RangeError(`dimension '${name}' needs 1 to ${MAX_DIMENSION_VALUE_LENGTH} characters`);
      }
      claim(name, value);
    }
    if (!Number.isFinite(metric.value))
      throw new RangeError(`metric '${metric.name}' is not a finite number`);
    claim(metric.name, metric.value);
    return {
      Namespace: namespace,
      Dimensions: [dimensionNames],
      Metrics: [{ Name: metric.name, Unit: metric.unit }],
    };
  });
  return {
    _aws: { Timestamp: Math.floor(timestamp), CloudWatchMetrics: directives },
    ...Object.fromEntries(root),
  };
}

/** `emfDocument` as the single line CloudWatch Logs reads it from. */
export function emfLine(namespace: string, metrics: readonly EmfMetric[], timestamp: number): string {
  return JSON.stringify(emfDocument(namespace, metrics, timestamp));
}

/**
 * Where EMF lines go in Lambda: straight to stdout. The runtime's patched `console` would put a
 * timestamp, request id and level before the JSON, and CloudWatch extracts nothing from such a line.
 */
export function writeToStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}
