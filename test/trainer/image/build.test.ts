import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUILD_RECORD,
  type BuildRecord,
  NATIVE_ADDON,
  NATIVE_LOADER,
  TRAINER_ENTRY,
} from '../../../trainer/image';

const ROOT = resolve(__dirname, '..', '..', '..');
const KERNELS = ['avx512', 'avx2', 'portable', 'portable-14x32'];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

interface Instruction {
  readonly keyword: string;
  readonly argument: string;
}

/** Dockerfile instructions by stage: continuation lines joined, comments and blank lines dropped. */
function dockerfileStages(text: string): Instruction[][] {
  const logical = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), argument: rest.join(' ') };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push(instruction);
  }
  return stages;
}

const DOCKERFILE = readFileSync(join(ROOT, 'trainer', 'Dockerfile'), 'utf8');
const STAGES = dockerfileStages(DOCKERFILE);
const BUILD_STAGE = STAGES[0] ?? [];
const RUNTIME_STAGE = STAGES[1] ?? [];
const COMPILE_RUN = BUILD_STAGE.find(
  (step) => step.keyword === 'RUN' && step.argument.includes('build:trainer'),
);

let workDir: string;
let out: string;
let compile: Run;
let record: BuildRecord;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'whetstone-image-'));
  out = join(workDir, 'app');
  // The Dockerfile's own compile command, with its output directory moved here.
  const [command = '', ...args] = (COMPILE_RUN?.argument ?? '').split(' ');
  const outAt = args.indexOf('--out') + 1;
  expect(outAt).toBeGreaterThan(0);
  args[outAt] = out;
  compile = await run(command, args, ROOT, process.env);
  record = JSON.parse(readFileSync(join(out, BUILD_RECORD), 'utf8')) as BuildRecord;
  // Stands in for the image's pruned node_modules; the compile has checked that each package it needs is a dependency.
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
}, 120_000);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('the trainer image build, outside Docker', () => {
  it('compiles the entry and every file of ours it imports, as the Dockerfile runs it', () => {
    // Assess
    expect(COMPILE_RUN?.argument).toBe('npm run build:trainer -- --out /out --require-native');
    expect(compile.code).toBe(0);
    expect(compile.stdout.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^Compiled ${record.sources.length} sources to ${out}: run \`node trainer/src/main.js\` there; ` +
          `native addon \\((${KERNELS.join('|')}) kernel here\\); packages: .*zod`,
      ),
    );
    expect(record.entry).toBe('trainer/src/main.js');
    expect(record.sources).toContain(TRAINER_ENTRY);
    expect(record.sources).toContain(NATIVE_LOADER);
    expect(record.sources).toContain('trainer/src/runtime/env.ts');
    for (const source of record.sources) {
      const compiled = extname(source) === '.ts' ? source.replace(/\.ts$/, '.js') : source;
      expect(existsSync(join(out, compiled)), compiled).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of record.packages) expect(Object.keys(manifest.dependencies)).toContain(name);
  });

  it('runs the compiled entry with node alone and stops at the first missing variable, as the source does', async () => {
    // Act
    const compiled = await run(process.execPath, ['--enable-source-maps', record.entry], out, {});
    const source = await run(process.execPath, ['--import', 'tsx', TRAINER_ENTRY], ROOT, {});

    // Assess
    expect(compiled.code).toBe(2);
    expect(compiled.stderr).toContain(
      'WHETSTONE_JOB_ID is not set; the launcher sets it for every trainer\n',
    );
    expect(compiled.stdout).toBe('');
    expect(source.code).toBe(2);
    expect(compiled.stderr).toBe(source.stderr);
  }, 60_000);

  it('places the native addon where the compiled loader looks for it', async () => {
    // Prepare
    const loader = join(out, NATIVE_LOADER.replace(/\.ts$/, '.js'));
    const script = `const a = require(${JSON.stringify(loader)}); console.log(JSON.stringify([a.NATIVE_ADDON_PATH, a.loadNativeAddon().gemmKernel()]))`;

    // Act
    const loaded = await run(process.execPath, ['-e', script], out, {});

    // Assess
    expect(loaded.stderr).toBe('');
    const [path, kernel] = JSON.parse(loaded.stdout) as [string, string];
    expect(path).toBe(join(out, NATIVE_ADDON));
    expect(KERNELS).toContain(kernel);
    expect(record.nativeKernel).toBe(kernel);
  });
});

describe('trainer/Dockerfile', () => {
  it('builds in a full Node 22 stage and runs in a slim one', () => {
    // Assess
    expect(STAGES.map((stage) => stage[0]?.argument)).toEqual([
      'node:22-bookworm AS build',
      'node:22-bookworm-slim',
    ]);
  });

  it('installs, builds the addon, compiles and prunes in the build stage, in that order', () => {
    // Assess
    expect(BUILD_STAGE.filter((step) => step.keyword === 'RUN').map((step) => step.argument)).toEqual([
      'apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*',
      'npm ci --no-audit --no-fund',
      'npm run build:trainer -- --out /out --require-native',
      'npm prune --omit=dev --no-audit --no-fund',
    ]);
  });

  it('runs node directly on the compiled entry as a user other than root, with nothing installed at run time', () => {
    // Assess
    const keywords = RUNTIME_STAGE.map((step) => step.keyword);
    expect(keywords).not.toContain('RUN');
    expect(keywords).not.toContain('CMD');
    expect(keywords.at(-1)).toBe('ENTRYPOINT');
    const user = RUNTIME_STAGE.filter((step) => step.keyword === 'USER').map((step) => step.argument);
    expect(user).toEqual(['node']);
    const entrypoint = JSON.parse(RUNTIME_STAGE.at(-1)?.argument ?? 'null') as string[];
    expect(entrypoint).toEqual(['node', '--enable-source-maps', record.entry]);
    const copies = RUNTIME_STAGE.filter((step) => step.keyword === 'COPY').map((step) => step.argument);
    expect(copies).toEqual(['--from=build /build/node_modules node_modules/', '--from=build /out/ ./']);
  });

  it('passes no secret into either stage', () => {
    // Assess
    const all = STAGES.flat();
    expect(all.filter((step) => step.keyword === 'ARG')).toEqual([]);
    expect(all.filter((step) => step.keyword === 'ENV').map((step) => step.argument)).toEqual([
      'NODE_ENV=production',
    ]);
    expect(all.filter((step) => /AWS_|SECRET|TOKEN|PASSWORD|CREDENTIAL/i.test(step.argument))).toEqual([]);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const allowed = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1));
  const excluded = patterns.slice(1).filter((pattern) => !pattern.startsWith('!'));
  const under = (path: string, entry: string) => path === entry || path.startsWith(`${entry}/`);
  const inContext = (path: string) =>
    allowed.some((entry) => under(path, entry)) && !excluded.some((entry) => under(path, entry));

  it('excludes everything, then lets in plain paths only, less plain paths inside them', () => {
    // Assess
    expect(patterns[0]).toBe('*');
    const included: string[] = [];
    for (const pattern of patterns.slice(1)) {
      expect(pattern).toMatch(/^!?[A-Za-z0-9._/-]+$/);
      if (pattern.startsWith('!')) included.push(pattern.slice(1));
      else
        expect(
          included.some((path) => pattern.startsWith(`${path}/`)),
          pattern,
        ).toBe(true);
    }
    expect(patterns).toContain('lib/infra');
  });

  it('lets in, and the build stage copies, every source the compile used', () => {
    // Prepare
    const copied = BUILD_STAGE.filter((step) => step.keyword === 'COPY')
      .flatMap((step) => step.argument.split(' ').slice(0, -1))
      .map((path) => path.replace(/\/$/, ''));

    // Assess
    expect(copied).toContain('trainer/native/src');
    for (const source of record.sources) {
      expect(inContext(source), source).toBe(true);
      expect(
        copied.some((path) => source === path || source.startsWith(`${path}/`)),
        `${source} is copied into the build stage`,
      ).toBe(true);
    }
    for (const path of copied) expect(inContext(path), path).toBe(true);
  });

  it('keeps credentials, local builds and dependencies out of the context', () => {
    // Assess
    for (const path of [
      '.whetstone/credentials',
      '.git/config',
      'node_modules/zod/package.json',
      'trainer/native/build/Release/whetstone_native.node',
      'trainer/dist/trainer/src/main.js',
      'test/trainer/main.test.ts',
      'demo/run.ts',
    ]) {
      expect(inContext(path), path).toBe(false);
    }
  });
});
