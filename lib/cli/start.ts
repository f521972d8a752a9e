import { DEMO_BASE_MODEL } from '../local/base-models';
import { DEFAULT_TEAM, type Platform, startPlatform } from '../local/platform';
import { JavaMissingError } from '../local/services/dynamodb-local';

export interface StartOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly verbose: boolean;
}

/**
 * `whet start`: serves the platform until Ctrl-C (or SIGTERM, or a closed terminal's SIGHUP),
 * then stops every child process. The signal handlers go in before the start, which takes
 * seconds: a signal during it would otherwise kill this process and leave DynamoDB Local and the
 * S3 server running unowned. Such a signal stops the platform as soon as it is up (a start that
 * fails instead has stopped its children itself).
 */
export async function runStart(options: StartOptions): Promise<void> {
  let received: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal means the stop itself is stuck: leave now (children get their own signal).
    if (received) process.exit(130);
    received = signal;
    console.log(`\n${signal}: stopping`);
    wake?.();
  };
  const signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  // A closed terminal or pipe fails every write; that must not crash the stop half-way.
  const ignoreWriteError = () => undefined;
  process.stdout.on('error', ignoreWriteError);
  process.stderr.on('error', ignoreWriteError);
  try {
    const platform = await start(options, () => received !== undefined);
    if (!platform) return;
    if (!received) {
      announce(platform);
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    await platform.stop().catch((error: unknown) => console.error(error));
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
    process.stdout.off('error', ignoreWriteError);
    process.stderr.off('error', ignoreWriteError);
  }
}

/** The started platform, or undefined when the start failed in a way already reported. */
async function start(options: StartOptions, interrupted: () => boolean): Promise<Platform | undefined> {
  try {
    return await startPlatform({
      dataDir: options.dataDir,
      port: options.port,
      baseModels: [DEMO_BASE_MODEL],
      log: options.verbose ? (line) => console.log(line) : () => undefined,
    });
  } catch (error) {
    if (error instanceof JavaMissingError) {
      console.error(error.message);
      process.exitCode = 1;
      return undefined;
    }
    // Stopping was asked for anyway; a start that failed meanwhile (a child hit by the same
    // Ctrl-C, say) is worth a line, not a failure.
    if (interrupted()) {
      console.error(`The start did not finish: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    throw error;
  }
}

function announce(platform: Platform): void {
  console.log(`Whetstone is serving ${platform.url} (data in ${platform.dataDir})`);
  const credentialsPath = `${platform.dataDir}/credentials`;
  if (platform.createdOwnerKey) {
    console.log(
      platform.createdTeam
        ? `Created team '${DEFAULT_TEAM}' and its owner key (shown once; also saved in ${credentialsPath}):`
        : `Created a new owner key for team '${DEFAULT_TEAM}', which had no credentials file and no live owner key (shown once; also saved in ${credentialsPath}):`,
    );
    console.log(`  ${platform.createdOwnerKey}`);
  } else if (platform.credentials) {
    console.log(`The owner key is in ${credentialsPath}`);
  } else {
    console.log(
      `There is no ${credentialsPath}; team '${DEFAULT_TEAM}' still has a live owner key: use the one shown when it was made.`,
    );
  }
  console.log('Press Ctrl-C to stop.');
}
