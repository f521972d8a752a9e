import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { type BuildFailure, build, type Metafile } from 'esbuild';
import {
  ImageBuildError,
  MissingRuntimePackageError,
  NativeAddonMissingError,
  OutputDirectoryError,
} from './errors';

/**
 * The trainer as the image runs it: `node` on JavaScript, no TypeScript loader in between (DESIGN.md,
 * Trainer contract). Every file of ours that the entry imports is compiled to CommonJS at the same
 * path relative to the output as the source has to the repository, so every `__dirname`-relative
 * lookup (the native addon's, in trainer/src/engine/native/addon.ts) finds what it finds in the
 * repository; packages stay in `node_modules` beside it. esbuild compiles both here and under tsx
 * (the local launcher), so both runs see the same JavaScript.
 *
 * Output layout, `out` standing for the image's /app:
 *   out/trainer/src/main.js, out/trainer/src/**.js, out/lib/**.js   compiled, with source maps
 *   out/trainer/native/build/Release/whetstone_native.node          the addon, when built
 *   out/package.json                                                the repository's, as it is
 *   out/trainer-build.json                                          what went in (BuildRecord)
 */
export const TRAINER_ENTRY = 'trainer/src/main.ts';
/** The native addon's loader is compiled even before the entry imports it, so the layout is checked against it. */
export const NATIVE_LOADER = 'trainer/src/engine/native/addon.ts';
/** Where trainer/native/build.js leaves the addon, and where the loader looks for it. */
export const NATIVE_ADDON = 'trainer/native/build/Release/whetstone_native.node';
export const BUILD_RECORD = 'trainer-build.json';
/** The oldest Node the code targets (DESIGN.md); the image runs 22. */
const TARGET = 'node20';

export interface CompileOptions {
  /** The repository root: package.json and the sources. */
  readonly root: string;
  /** A new or empty directory, or one an earlier compile wrote (it is replaced). */
  readonly out: string;
  /** Fail unless the native addon is built and loads from the compiled loader; the image build sets it. */
  readonly requireNative?: boolean;
}

/** Written to `out/trainer-build.json`: the compiled files are these sources, nothing else. */
export interface BuildRecord {
  /** The command to run, relative to `out`. */
  readonly entry: string;
  /** Repository-relative paths of the sources compiled, sorted. */
  readonly sources: readonly string[];
  /** The packages the compiled code imports, sorted; each is in package.json's dependencies. */
  readonly packages: readonly string[];
  /** The GEMM kernel the native addon chose on the build machine; null when it was not built. */
  readonly nativeKernel: string | null;
}

export async function compileTrainer(options: CompileOptions): Promise<BuildRecord> {
  const root = resolve(options.root);
  const out = resolve(options.out);
  const trace = await traceSources(root);
  const packages = runtimePackages(root, trace);

  prepareOutput(out);
  const scripts = trace.sources.filter((source) => extname(source) === '.ts');
  const copies = trace.sources.filter((source) => extname(source) !== '.ts');
  await compileOrFail(() =>
    build({
      absWorkingDir: root,
      entryPoints: scripts,
      outdir: out,
      outbase: root,
      bundle: false,
      platform: 'node',
      format: 'cjs',
      target: TARGET,
      sourcemap: 'linked',
      logLevel: 'silent',
    }),
  );
  // package.json always: it makes the tree CommonJS, and code may read the version from it.
  for (const source of new Set([...copies, 'package.json'])) copyInto(root, out, source);

  let nativeKernel: string | null = null;
  if (existsSync(join(root, NATIVE_ADDON))) {
    copyInto(root, out, NATIVE_ADDON);
    nativeKernel = loadCompiledAddon(out);
  } else if (options.requireNative) {
    throw new NativeAddonMissingError(join(root, NATIVE_ADDON));
  }

  const record: BuildRecord = {
    entry: TRAINER_ENTRY.replace(/\.ts$/, '.js'),
    sources: trace.sources,
    packages,
    nativeKernel,
  };
  writeFileSync(join(out, BUILD_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

interface Trace {
  readonly sources: string[];
  /** Imports left to `node_modules` or to Node itself, by the source that makes them. */
  readonly externals: ReadonlyArray<{ readonly importer: string; readonly specifier: string }>;
}

/** The sources reachable from the entry, by esbuild's own resolution, packages left out. */
async function traceSources(root: string): Promise<Trace> {
  const result = await compileOrFail(() =>
    build({
      absWorkingDir: root,
      entryPoints: [TRAINER_ENTRY, NATIVE_LOADER],
      outdir: join(root, 'trace-not-written'),
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'cjs',
      target: TARGET,
      write: false,
      metafile: true,
      logLevel: 'silent',
    }),
  );
  const inputs: Metafile['inputs'] = result.metafile.inputs;
  const externals: Array<{ importer: string; specifier: string }> = [];
  for (const [importer, input] of Object.entries(inputs)) {
    for (const imported of input.imports) {
      if (imported.external) externals.push({ importer, specifier: imported.path });
    }
  }
  for (const source of Object.keys(inputs)) {
    if (source.startsWith('..') || source.includes('node_modules/') || !/\.(ts|js|cjs|json)$/.test(source)) {
      throw new ImageBuildError(`The trainer imports ${source}, which the compile cannot place in the image`);
    }
  }
  return { sources: Object.keys(inputs).sort(), externals };
}

/** The packages the runtime image must hold; refuses any it would not install. */
function runtimePackages(root: string, trace: Trace): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const packages = new Set<string>();
  for (const { importer, specifier } of trace.externals) {
    if (isBuiltin(specifier)) continue;
    const name = packageName(specifier);
    if (!manifest.dependencies?.[name]) {
      throw new MissingRuntimePackageError(
        importer,
        name,
        manifest.devDependencies?.[name] ? 'devDependencies' : null,
      );
    }
    packages.add(name);
  }
  return [...packages].sort();
}

/** `@scope/name/deep/path` -> `@scope/name`; `name/deep` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function prepareOutput(out: string): void {
  if (existsSync(out)) {
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(BUILD_RECORD)) throw new OutputDirectoryError(out);
    for (const entry of entries) rmSync(join(out, entry), { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
}

function copyInto(root: string, out: string, path: string): void {
  mkdirSync(dirname(join(out, path)), { recursive: true });
  copyFileSync(join(root, path), join(out, path));
}

/** Loads the addon the way the trainer will, through the compiled loader, and asks which kernel it runs. */
function loadCompiledAddon(out: string): string {
  const loader = join(out, NATIVE_LOADER.replace(/\.ts$/, '.js'));
  const { loadNativeAddon } = createRequire(loader)(loader) as {
    loadNativeAddon: () => { gemmKernel(): string };
  };
  try {
    return loadNativeAddon().gemmKernel();
  } catch (error) {
    throw new ImageBuildError(
      `The compiled loader ${loader} cannot load the native addon: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function compileOrFail<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const failure = error as Partial<BuildFailure>;
    const first = failure.errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}: ` : '';
    throw new ImageBuildError(
      `Cannot compile the trainer (${TRAINER_ENTRY}): ${first ? `${where}${first.text}` : (error as Error).message}`,
      { cause: error },
    );
  }
}
