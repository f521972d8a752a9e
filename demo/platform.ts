import { resolve } from 'node:path';
import { DEMO_BASE_MODEL } from '../lib/local/base-models';
import {
  credentialsFilePath,
  credentialsFileSchema,
  platformFilePath,
  platformFileSchema,
  processAlive,
  readJsonFile,
} from '../lib/local/files';

/** The platform the demo talks to, and whether the demo started it (and so stops it). */
export interface DemoPlatform {
  readonly url: string;
  readonly apiKey: string;
  readonly team: string;
  readonly bucket: string;
  readonly dataDir: string;
  readonly startedHere: boolean;
  stop(): Promise<void>;
}

/** The default data dir, as `whet start` resolves it. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.WHETSTONE_DATA_DIR || '.whetstone');
}

/**
 * The platform serving `dataDir`, when one is: its `platform.json` names a live process whose
 * gateway answers `/healthz`, and its `credentials` hold the owner key. Undefined otherwise
 * (none was started, or one died and left its file behind).
 */
export async function runningPlatform(dataDir: string): Promise<DemoPlatform | undefined> {
  const served = readJsonFile(platformFilePath(dataDir), platformFileSchema);
  if (!served || !processAlive(served.pid)) return undefined;
  const health = await fetch(`${served.url}/healthz`, { signal: AbortSignal.timeout(5000) }).catch(
    () => undefined,
  );
  if (health?.status !== 200) return undefined;
  const credentials = readJsonFile(credentialsFilePath(dataDir), credentialsFileSchema);
  if (!credentials) {
    throw new Error(
      `A platform serves ${dataDir} at ${served.url}, but ${credentialsFilePath(dataDir)} is missing: ` +
        'the demo needs the owner key saved there.',
    );
  }
  return {
    url: served.url,
    apiKey: credentials.api_key,
    team: credentials.team,
    bucket: served.bucket,
    dataDir,
    startedHere: false,
    stop: async () => undefined,
  };
}

/**
 * The running platform of `dataDir`, or a new one started in this process (as `npm start` does,
 * with the demo base model registered) on a free port. The new one's `stop` stops it all.
 */
export async function demoPlatform(dataDir: string): Promise<DemoPlatform> {
  const running = await runningPlatform(dataDir);
  if (running) return running;
  const { startPlatform } = await import('../lib/local/platform');
  const platform = await startPlatform({ dataDir, port: 0, baseModels: [DEMO_BASE_MODEL] });
  if (!platform.credentials) {
    await platform.stop();
    throw new Error(
      `${credentialsFilePath(platform.dataDir)} is missing while team 'default' still has a live owner key, ` +
        'so the demo has no key to use. Put that key back in the file (JSON {"url","api_key","team"}).',
    );
  }
  return {
    url: platform.url,
    apiKey: platform.credentials.api_key,
    team: platform.credentials.team,
    bucket: platform.bucket,
    dataDir: platform.dataDir,
    startedHere: true,
    stop: () => platform.stop(),
  };
}
