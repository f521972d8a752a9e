/**
 * Runs `whet bench train` and the same preset in PyTorch (pytorch_train.py), alternating, and prints
 * the medians and the ratios whet / PyTorch of tokens per second. Not part of the test suite.
 *
 *   npx tsx trainer/bench/compare.ts [--rounds N] [--steps N] [--backend native] [--blas-dir DIR]
 *
 * See README.md beside this file.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TINY_LLAMA } from '../src/bench/presets';

const USAGE =
  'usage: npx tsx trainer/bench/compare.ts [--rounds N] [--steps N] [--backend NAME] [--blas-dir DIR] [--timeout-s S]';
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const PYTORCH_SCRIPT = path.join(__dirname, 'pytorch_train.py');
const METHODS = ['lora', 'full'] as const;
type Method = (typeof METHODS)[number];
/** Variables under which older OpenBLAS builds avoid a CPU's newest kernels: unset for PyTorch's command. */
const OPENBLAS_OVERRIDES = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];
const RESULT_FIELDS = ['tokens_per_s', 'gflop_per_s', 'ms_per_step', 'peak_rss_mb'] as const;

interface BenchLine {
  readonly tokens_per_s: number;
  readonly gflop_per_s: number;
  readonly ms_per_step: number;
  readonly backend: string;
  readonly method: string;
  readonly peak_rss_mb: number;
}

interface Measurement {
  readonly side: 'whet' | 'pytorch';
  readonly method: Method;
  readonly round: number;
  readonly line: string;
  readonly result: BenchLine;
}

interface Options {
  readonly rounds: number;
  readonly steps: number;
  readonly backend: string;
  readonly blasDir: string | null;
  readonly timeoutSeconds: number;
}

class CompareError extends Error {}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new CompareError(`--${name}: '${text}' is not an integer of at least 1`);
  return value;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      steps: { type: 'string', default: '5' },
      backend: { type: 'string', default: 'native' },
      'blas-dir': { type: 'string' },
      'timeout-s': { type: 'string', default: '1800' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  return {
    rounds: positiveInteger('rounds', values.rounds),
    steps: positiveInteger('steps', values.steps),
    backend: values.backend,
    blasDir: values['blas-dir'] ? path.resolve(values['blas-dir']) : null,
    timeoutSeconds: positiveInteger('timeout-s', values['timeout-s']),
  };
}

/** The preset in the keys pytorch_train.py reads, so that both sides build the same model. */
function pytorchPreset(): string {
  const { config, sequenceLength, batchSize, lora } = TINY_LLAMA;
  if (lora.kind !== 'lora') throw new CompareError('the tiny-llama preset has no LoRA settings');
  if (
    config.ropeScaling ||
    config.qkvBias ||
    config.oBias ||
    config.tieWordEmbeddings ||
    config.slidingWindow
  )
    throw new CompareError(
      'pytorch_train.py builds untied, bias-free Llamas without RoPE scaling or a sliding window',
    );
  return JSON.stringify({
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_layers: config.numLayers,
    num_heads: config.numHeads,
    num_kv_heads: config.numKvHeads,
    head_dim: config.headDim,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    sequence_length: sequenceLength,
    batch_size: batchSize,
    lora_rank: lora.rank,
    lora_alpha: lora.alpha,
    lora_targets: lora.targetModules,
  });
}

interface Command {
  readonly label: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** Runs a command to its end (or its time limit) and returns its stdout; its stderr goes to ours, labelled. */
function run(command: Command, timeoutSeconds: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, {
      cwd: REPO_ROOT,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutSeconds * 1000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => reject(new CompareError(`${command.label}: ${error.message}`)));
    child.on('close', (code, signal) => {
      for (const line of stderr.split('\n').filter((l) => l.trim() !== ''))
        process.stderr.write(`  [${command.label}] ${line}\n`);
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal
        ? `was stopped by ${signal} (time limit ${timeoutSeconds} s)`
        : `exited with ${code}`;
      reject(new CompareError(`${command.label} ${how}: ${[command.file, ...command.args].join(' ')}`));
    });
  });
}

function parseBenchLine(label: string, stdout: string): { line: string; result: BenchLine } {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new CompareError(
      `${label}: expected one JSON line on stdout, got ${JSON.stringify(stdout.slice(-400))}`,
    );
  }
  const record = parsed as Record<string, unknown>;
  for (const field of RESULT_FIELDS) {
    if (typeof record[field] !== 'number' || !Number.isFinite(record[field]))
      throw new CompareError(`${label}: field "${field}" is not a finite number in ${line}`);
  }
  if (typeof record.backend !== 'string' || typeof record.method !== 'string')
    throw new CompareError(`${label}: fields "backend" and "method" must be strings in ${line}`);
  return { line, result: parsed as BenchLine };
}

function whetCommand(options: Options, method: Method): Command {
  return {
    label: `whet ${method}`,
    file: process.execPath,
    args: [
      '--import',
      'tsx',
      'bin/whet.ts',
      'bench',
      'train',
      '--preset',
      'tiny-llama',
      '--method',
      method,
      '--backend',
      options.backend,
      '--steps',
      String(options.steps),
      '--json',
    ],
    env: process.env,
  };
}

function pytorchCommand(options: Options, method: Method, preset: string): Command {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of OPENBLAS_OVERRIDES) delete env[name];
  if (options.blasDir)
    env.LD_LIBRARY_PATH = [options.blasDir, env.LD_LIBRARY_PATH].filter((part) => part).join(':');
  return {
    label: `pytorch ${method}`,
    file: PYTHON,
    args: [PYTORCH_SCRIPT, '--method', method, '--steps', String(options.steps), '--preset', preset],
    env,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function medianOf(measurements: readonly Measurement[], field: (typeof RESULT_FIELDS)[number]): number {
  return median(measurements.map((m) => m.result[field]));
}

function table(rows: readonly (readonly string[])[]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}

function report(measurements: readonly Measurement[], blas: string, options: Options): string {
  const rows: string[][] = [['method', 'side', 'tokens/s', 'ms/step', 'GFLOP/s', 'peak RSS MB', 'runs']];
  const ratios: string[] = [];
  for (const method of METHODS) {
    const medians = new Map<string, number>();
    for (const side of ['whet', 'pytorch'] as const) {
      const mine = measurements.filter((m) => m.method === method && m.side === side);
      const backends = [...new Set(mine.map((m) => m.result.backend))].join(',');
      medians.set(side, medianOf(mine, 'tokens_per_s'));
      rows.push([
        method,
        side === 'whet' ? `whet ${backends}` : 'pytorch',
        medianOf(mine, 'tokens_per_s').toFixed(1),
        medianOf(mine, 'ms_per_step').toFixed(1),
        medianOf(mine, 'gflop_per_s').toFixed(2),
        medianOf(mine, 'peak_rss_mb').toFixed(0),
        String(mine.length),
      ]);
    }
    const ratio = (medians.get('whet') ?? Number.NaN) / (medians.get('pytorch') ?? Number.NaN);
    ratios.push(`${method} ${ratio.toFixed(2)}x`);
  }
  return [
    `tiny-llama, ${options.rounds} round(s) of ${options.steps} timed step(s) after 3 warm-up steps; medians`,
    `PyTorch BLAS: ${blas}`,
    '',
    table(rows),
    '',
    `whet/pytorch tokens/s: ${ratios.join(', ')}`,
    '',
    'raw:',
    ...measurements.map((m) => `${m.side} round ${m.round}: ${m.line}`),
  ].join('\n');
}

/** Why PyTorch's numbers would be below its best on this BLAS, or null when nothing holds it back. */
function blasAdvice(blas: string): string | null {
  if (!/OpenBLAS|BLIS|MKL/.test(blas))
    return `PyTorch ran its products on ${blas}, not an optimised BLAS, far below its best; install OpenBLAS's OpenMP build (apt-get install libopenblas0-openmp) or pass --blas-dir`;
  // torch's own OpenMP threads spin between parallel regions and take the cores from OpenBLAS's
  // pthreads: measured here, PyTorch's steps take twice as long as with the OpenMP build.
  if (/OpenBLAS/.test(blas) && !/USE_OPENMP/.test(blas))
    return "PyTorch ran on OpenBLAS's pthread build, whose threads compete with torch's OpenMP threads (about half its best speed here); use the OpenMP build (libopenblas0-openmp) instead";
  return null;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return;
  }
  const preset = pytorchPreset();
  const measurements: Measurement[] = [];
  let blas = 'not reported';
  for (let round = 1; round <= options.rounds; round++) {
    for (const method of METHODS) {
      const sides = [
        { side: 'whet' as const, command: whetCommand(options, method) },
        { side: 'pytorch' as const, command: pytorchCommand(options, method, preset) },
      ];
      // Alternating which side goes first spreads slow drifts of a shared machine over both.
      if ((round + METHODS.indexOf(method)) % 2 === 0) sides.reverse();
      for (const { side, command } of sides) {
        process.stderr.write(`round ${round}/${options.rounds}: ${command.label}\n`);
        const { stdout, stderr } = await run(command, options.timeoutSeconds);
        const { line, result } = parseBenchLine(command.label, stdout);
        if (side === 'whet' && result.backend !== options.backend) {
          throw new CompareError(
            `${command.label} ran on the ${result.backend} back end, not ${options.backend} (its message is above): the ratios would compare something else`,
          );
        }
        process.stderr.write(`  ${line}\n`);
        measurements.push({ side, method, round, line, result });
        if (side === 'pytorch') blas = /^blas: (.*)$/m.exec(stderr)?.[1] ?? blas;
      }
    }
  }
  console.log(report(measurements, blas, options));
  const advice = blasAdvice(blas);
  if (advice) console.error(`\nwarning: ${advice} (see trainer/bench/README.md)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
