import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const repositoryRoot = resolve(__dirname, '../..');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real CLI in its own process, as a user runs it; spawn, not spawnSync, so the in-process gateway can answer. */
export function whet(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/whet.ts', ...args], {
      cwd: repositoryRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** A table printed by the CLI, as rows of cells (cells are at least two spaces apart). */
export function tableOf(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));
}

/** An environment that finds no user config, credentials or data dir of the machine's own. */
export function isolatedEnv(scratch: string): Record<string, string> {
  return {
    HOME: join(scratch, 'home'),
    XDG_CONFIG_HOME: join(scratch, 'no-config'),
    WHETSTONE_DATA_DIR: join(scratch, 'no-data'),
  };
}
