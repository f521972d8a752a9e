import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { credentialsFilePath, credentialsFileSchema } from '../local/files';

/** What `whet login` writes: the user's default platform. */
export const userConfigSchema = z.object({ url: z.string().min(1), api_key: z.string().min(1) });
export type UserConfig = z.infer<typeof userConfigSchema>;

export interface TargetFlags {
  readonly url?: string | undefined;
  readonly apiKey?: string | undefined;
}
export type TargetEnv = Readonly<Record<string, string | undefined>>;
/** The file's text, or undefined when there is no such file. */
export type ReadTextFile = (path: string) => string | undefined;

export type TargetSource =
  | { readonly kind: 'flag' }
  | { readonly kind: 'env' }
  | { readonly kind: 'user-config'; readonly path: string }
  | { readonly kind: 'credentials'; readonly path: string };

export interface Target {
  readonly url: string;
  readonly apiKey: string;
  readonly sources: { readonly url: TargetSource; readonly apiKey: TargetSource };
}

export interface TargetPlaces {
  /** Where relative data dirs are taken from; the process's working directory by default. */
  readonly cwd?: string;
  /** The user's home when `HOME` is unset; the OS's idea of it by default. */
  readonly home?: string;
}

export class TargetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetNotFoundError';
  }
}

/** `${XDG_CONFIG_HOME:-~/.config}/whetstone/config.json` */
export function userConfigPath(env: TargetEnv, places: TargetPlaces = {}): string {
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? join(homeOf(env, places), '.config');
  return join(configHome, 'whetstone', 'config.json');
}

/** `./.whetstone/credentials`, or `$WHETSTONE_DATA_DIR/credentials`: what `whet start` writes. */
export function credentialsPath(env: TargetEnv, places: TargetPlaces = {}): string {
  return credentialsFilePath(
    resolve(places.cwd ?? process.cwd(), nonEmpty(env.WHETSTONE_DATA_DIR) ?? '.whetstone'),
  );
}

/**
 * Which platform and key a command talks to. Each of the URL and the key is taken, on its own,
 * from the first place that has it: the flags, the environment, the user config written by
 * `whet login`, then the local platform's credentials file. Files are read only when needed, so
 * a broken one does not stand in the way of flags that say everything.
 */
export function resolveTarget(
  flags: TargetFlags,
  env: TargetEnv,
  readFile: ReadTextFile,
  places: TargetPlaces = {},
): Target {
  type Found = { readonly value: string; readonly source: TargetSource };
  let url: Found | undefined = pick(flags.url, { kind: 'flag' }) ?? pick(env.WHETSTONE_URL, { kind: 'env' });
  let apiKey: Found | undefined =
    pick(flags.apiKey, { kind: 'flag' }) ?? pick(env.WHETSTONE_API_KEY, { kind: 'env' });

  const configPath = userConfigPath(env, places);
  const localCredentialsPath = credentialsPath(env, places);
  const files: readonly {
    path: string;
    schema: z.ZodType<{ url?: string; api_key?: string }>;
    kind: 'user-config' | 'credentials';
  }[] = [
    { path: configPath, schema: userConfigSchema.partial(), kind: 'user-config' },
    { path: localCredentialsPath, schema: credentialsFileSchema, kind: 'credentials' },
  ];
  for (const file of files) {
    if (url && apiKey) break;
    const content = readJsonFile(file.path, file.schema, readFile);
    if (!content) continue;
    const source: TargetSource = { kind: file.kind, path: file.path };
    url ??= pick(content.url, source);
    apiKey ??= pick(content.api_key, source);
  }

  if (!url || !apiKey) {
    const missing = !url && !apiKey ? 'URL and API key' : url ? 'API key' : 'URL';
    throw new TargetNotFoundError(
      [
        `No Whetstone ${missing} found. Give ${!url && !apiKey ? 'them' : 'it'} in one of four ways:`,
        '  1. the --url and --api-key options;',
        '  2. the WHETSTONE_URL and WHETSTONE_API_KEY environment variables;',
        `  3. \`whet login --url URL --api-key KEY\`, which saves them in ${configPath};`,
        `  4. ${localCredentialsPath}, which \`whet start\` writes (WHETSTONE_DATA_DIR names another data dir).`,
      ].join('\n'),
    );
  }
  return { url: url.value, apiKey: apiKey.value, sources: { url: url.source, apiKey: apiKey.source } };
}

/** For messages: "the --api-key option", "WHETSTONE_API_KEY", "/home/me/.config/whetstone/config.json". */
export function describeSource(source: TargetSource, field: 'url' | 'apiKey'): string {
  switch (source.kind) {
    case 'flag':
      return field === 'url' ? 'the --url option' : 'the --api-key option';
    case 'env':
      return field === 'url' ? 'WHETSTONE_URL' : 'WHETSTONE_API_KEY';
    default:
      return source.path;
  }
}

/** The real file system for `resolveTarget`: a missing file is undefined, any other failure throws. */
export const readTextFile: ReadTextFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

function readJsonFile<T>(path: string, schema: z.ZodType<T>, readFile: ReadTextFile): T | undefined {
  const text = readFile(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TargetNotFoundError(`${path} is not valid JSON (${(error as Error).message}).`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TargetNotFoundError(
      `${path} is not a Whetstone config: ${issue?.path.join('.') || 'value'}: ${issue?.message}.`,
    );
  }
  return parsed.data;
}

function pick(value: string | undefined, source: TargetSource) {
  const given = nonEmpty(value);
  return given === undefined ? undefined : { value: given, source };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function homeOf(env: TargetEnv, places: TargetPlaces): string {
  return nonEmpty(env.HOME) ?? places.home ?? homedir();
}
