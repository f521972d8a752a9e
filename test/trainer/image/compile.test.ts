import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  compileTrainer,
  ImageBuildError,
  MissingRuntimePackageError,
  NativeAddonMissingError,
  OutputDirectoryError,
} from '../../../trainer/image';

const temporary: string[] = [];

afterEach(() => {
  for (const path of temporary.splice(0)) rmSync(path, { recursive: true, force: true });
});

function tempDir(): string {
  const path = mkdtempSync(join(tmpdir(), 'whetstone-compile-'));
  temporary.push(path);
  return path;
}

/** A repository of its own: package.json and the sources given, by path. */
function repository(files: Record<string, string>, dependencies: Record<string, string> = {}): string {
  const root = tempDir();
  const all: Record<string, string> = {
    'package.json': JSON.stringify({
      name: 'fixture',
      version: '3.2.1',
      dependencies,
      devDependencies: { vitest: '4.1.12' },
    }),
    'trainer/src/engine/native/addon.ts':
      "import { join } from 'node:path';\nexport const NATIVE_ADDON_PATH = join(__dirname, '../../../native/build/Release/whetstone_native.node');\n",
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('compileTrainer', () => {
  it('mirrors the source tree, so paths relative to __dirname resolve as in the repository', async () => {
    // Prepare
    const root = repository({
      'trainer/src/main.ts': [
        "import { NATIVE_ADDON_PATH } from './engine/native/addon';",
        "import { describeJob } from '../../lib/core/describe';",
        "import settings from './settings.json';",
        'const width: number = settings.width;',
        "console.log(describeJob('job-1', width), NATIVE_ADDON_PATH);",
      ].join('\n'),
      'trainer/src/settings.json': '{ "width": 4 }',
      'lib/core/describe.ts':
        'export function describeJob(id: string, width: number): string { return [id, width].join("/"); }',
      'lib/core/unused.ts': 'export const unused = 1;',
    });
    const out = join(tempDir(), 'app');

    // Act
    const record = await compileTrainer({ root, out });
    const ran = spawnSync(process.execPath, [record.entry], { cwd: out, encoding: 'utf8', env: {} });

    // Assess
    expect(record).toEqual({
      entry: 'trainer/src/main.js',
      sources: [
        'lib/core/describe.ts',
        'trainer/src/engine/native/addon.ts',
        'trainer/src/main.ts',
        'trainer/src/settings.json',
      ],
      packages: [],
      nativeKernel: null,
    });
    expect(ran.status).toBe(0);
    expect(ran.stdout).toBe(`job-1/4 ${join(out, 'trainer/native/build/Release/whetstone_native.node')}\n`);
    expect(existsSync(join(out, 'lib/core/unused.js'))).toBe(false);
    expect(readFileSync(join(out, 'package.json'), 'utf8')).toBe(
      readFileSync(join(root, 'package.json'), 'utf8'),
    );
  });

  it('keeps package.json where code that reads it from the sources finds it', async () => {
    // Prepare
    const root = repository({
      'trainer/src/runtime/version.ts':
        "export const VERSION: string = (require('../../../package.json') as { version: string }).version;\n",
      'trainer/src/main.ts': "import { VERSION } from './runtime/version';\nconsole.log(VERSION);\n",
    });
    const out = join(tempDir(), 'app');

    // Act
    const record = await compileTrainer({ root, out });
    const ran = spawnSync(process.execPath, [record.entry], { cwd: out, encoding: 'utf8', env: {} });

    // Assess
    expect(record.sources).toContain('package.json');
    expect(ran.stdout).toBe('3.2.1\n');
  });

  it('records the runtime packages the trainer imports', async () => {
    // Prepare
    const root = repository(
      {
        'trainer/src/main.ts':
          "import { z } from 'zod';\nimport { join } from 'node:path';\nconsole.log(z, join);\n",
      },
      { zod: '4.6.7' },
    );

    // Act
    const record = await compileTrainer({ root, out: join(tempDir(), 'app') });

    // Assess
    expect(record.packages).toEqual(['zod']);
  });

  it('refuses a devDependency, which the pruned image would not hold', async () => {
    // Prepare
    const root = repository({
      'trainer/src/main.ts': "import { expect } from 'vitest/expect';\nconsole.log(expect);\n",
    });

    // Act
    const compiling = compileTrainer({ root, out: join(tempDir(), 'app') });

    // Assess
    await expect(compiling).rejects.toThrow(MissingRuntimePackageError);
    await expect(compiling).rejects.toThrow(
      "trainer/src/main.ts imports 'vitest', which package.json lists under devDependencies: the image installs dependencies only, so move it there",
    );
  });

  it('refuses a package that package.json does not list', async () => {
    // Prepare
    const root = repository({
      'trainer/src/main.ts': "import left from '@scope/left-pad/index.js';\nconsole.log(left);\n",
    });

    // Act
    const compiling = compileTrainer({ root, out: join(tempDir(), 'app') });

    // Assess
    await expect(compiling).rejects.toThrow(
      "trainer/src/main.ts imports '@scope/left-pad', which package.json does not list under dependencies, so the image would not install it",
    );
  });

  it('names the file and line of an import that does not resolve', async () => {
    // Prepare
    const root = repository({
      'trainer/src/main.ts': "// entry\nimport { gone } from './gone';\nconsole.log(gone);\n",
    });

    // Act
    const compiling = compileTrainer({ root, out: join(tempDir(), 'app') });

    // Assess
    await expect(compiling).rejects.toThrow(ImageBuildError);
    await expect(compiling).rejects.toThrow(
      'Cannot compile the trainer (trainer/src/main.ts): trainer/src/main.ts:2: Could not resolve "./gone"',
    );
  });

  it('fails without the native addon when it is required', async () => {
    // Prepare
    const root = repository({ 'trainer/src/main.ts': 'console.log(1);\n' });

    // Act
    const compiling = compileTrainer({ root, out: join(tempDir(), 'app'), requireNative: true });

    // Assess
    await expect(compiling).rejects.toThrow(NativeAddonMissingError);
    await expect(compiling).rejects.toThrow(
      `The native addon ${join(root, 'trainer/native/build/Release/whetstone_native.node')} is not built; \`npm ci\` builds it through trainer/native/build.js, which needs python3, make and g++`,
    );
  });

  it('leaves a directory it did not write alone', async () => {
    // Prepare
    const root = repository({ 'trainer/src/main.ts': 'console.log(1);\n' });
    const out = tempDir();
    writeFileSync(join(out, 'notes.txt'), 'keep me');

    // Act
    const compiling = compileTrainer({ root, out });

    // Assess
    await expect(compiling).rejects.toThrow(OutputDirectoryError);
    await expect(compiling).rejects.toThrow(
      `The output directory ${out} is not empty and was not written by a trainer compile; give an empty or new one`,
    );
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });

  it('replaces an earlier compile, dropping files the sources no longer produce', async () => {
    // Prepare
    const out = join(tempDir(), 'app');
    const before = repository({
      'trainer/src/main.ts': "import { old } from './old';\nconsole.log(old);\n",
      'trainer/src/old.ts': "export const old = 'old';\n",
    });
    const after = repository({ 'trainer/src/main.ts': "console.log('new');\n" });
    await compileTrainer({ root: before, out });

    // Act
    const record = await compileTrainer({ root: after, out });

    // Assess
    expect(record.sources).toEqual(['trainer/src/engine/native/addon.ts', 'trainer/src/main.ts']);
    expect(existsSync(join(out, 'trainer/src/old.js'))).toBe(false);
    expect(spawnSync(process.execPath, [record.entry], { cwd: out, encoding: 'utf8' }).stdout).toBe('new\n');
  });
});
