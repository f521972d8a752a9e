import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const REPO_ROOT = join(__dirname, '..', '..');

/** Runs bin/app.ts as cdk.json's `app` command does; resolves with its exit code and output. */
async function runApp(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await execFileAsync(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('bin/app.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-app-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad configuration before synthesizing, naming the file and the field, with exit code 1', async () => {
    // Prepare
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ api: { throttleBurst: 0 } }));

    // Act
    const result = await runApp({ WHETSTONE_CONFIG: file, CDK_OUTDIR: join(dir, 'out') });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      `${file}: api.throttleBurst: Too small: expected number to be >=1`,
    );
  });

  it('reads the file a context value names when WHETSTONE_CONFIG is not set', async () => {
    // Prepare
    const file = join(dir, 'context.json');
    writeFileSync(file, JSON.stringify({ deploymentName: 'X' }));

    // Act
    const result = await runApp({
      WHETSTONE_CONFIG: '',
      CDK_CONTEXT_JSON: JSON.stringify({ whetstoneConfig: file }),
      CDK_OUTDIR: join(dir, 'out'),
    });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file}: deploymentName: must be 2-21 lower-case letters, digits or hyphens, starting with a letter`,
    );
  });
});
