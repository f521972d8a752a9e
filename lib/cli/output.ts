import { WhetstoneApiError } from '../client';

/** `--json`: the API's object exactly as it came, for scripts and `jq`. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  console.log(line(headers));
  for (const row of rows) console.log(line(row));
}

/** `label: value` lines with the values aligned; pairs whose value is undefined are left out. */
export function printFields(fields: readonly (readonly [string, string | undefined])[]): void {
  const shown = fields.filter((field): field is readonly [string, string] => field[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length)) + 1;
  for (const [label, value] of shown) console.log(`${`${label}:`.padEnd(width)} ${value}`);
}

/** Seconds since the epoch as `2025-01-31T12:00:00Z`; null as `-`. */
export function formatTime(seconds: number | null): string {
  if (seconds === null) return '-';
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The one place a failure is written: `error: <message> (param: X)` on stderr, exit code 1. */
export function reportError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const param = error instanceof WhetstoneApiError && error.param !== null ? ` (param: ${error.param})` : '';
  console.error(`error: ${message}${param}`);
  process.exitCode = 1;
}

/** Runs a command's body; whatever it throws is reported as one line, never as a stack trace. */
export async function guard(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    reportError(error);
  }
}
