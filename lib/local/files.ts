import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** `{data dir}/platform.json`: where a running local platform listens. */
export const platformFileSchema = z.object({
  url: z.string(),
  dynamodb_endpoint: z.string(),
  s3_endpoint: z.string(),
  table: z.string(),
  bucket: z.string(),
  region: z.string(),
  pid: z.number().int(),
  started_at: z.number().int(),
});
export type PlatformFile = z.infer<typeof platformFileSchema>;

/** `{data dir}/credentials`: the owner key made at first start, for the CLI and scripts. */
export const credentialsFileSchema = z.object({ url: z.string(), api_key: z.string(), team: z.string() });
export type CredentialsFile = z.infer<typeof credentialsFileSchema>;

export const platformFilePath = (dataDir: string) => join(dataDir, 'platform.json');
export const credentialsFilePath = (dataDir: string) => join(dataDir, 'credentials');

/** Written to a temporary name and renamed, so a reader never sees half a file. */
export function writeJsonFile(path: string, value: unknown, mode = 0o644): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

export function readJsonFile<T extends z.ZodType>(path: string, schema: T): z.infer<T> | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(`${path} is not what Whetstone wrote: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
