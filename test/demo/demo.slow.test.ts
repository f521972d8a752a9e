import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
/** The bar: the fine-tuned model beats the base model's exact match by this many points. */
const REQUIRED_GAIN_POINTS = 40;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(dataDir: string): Promise<Run> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn('npm', ['run', 'demo', '--', '--data-dir', dataDir], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', rejectRun);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'whetstone-demo-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('fine-tunes the demo model to beat the base model on held-out exact match by 40 points', {
    timeout: 900_000,
  }, async () => {
    // Act
    const run = await runDemo(dataDir);

    // Assess
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const match = /exact match \(80 examples\)\s+([0-9.]+)%\s+([0-9.]+)%/.exec(run.stdout);
    expect(match, run.stdout).not.toBeNull();
    const [base, tuned] = [Number(match?.[1]), Number(match?.[2])];
    expect(tuned - base).toBeGreaterThanOrEqual(REQUIRED_GAIN_POINTS);
    expect(run.stdout).toMatch(/Job ftjob-[0-9A-Z]{26} succeeded: ft:whetstone-demo-5m:default:spam:/);
    expect(run.stdout).toContain('Stopping the local platform');
  });
});
