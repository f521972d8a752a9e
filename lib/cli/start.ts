import { DEFAULT_TEAM, startPlatform } from '../local/platform';
import { JavaMissingError } from '../local/services/dynamodb-local';

export interface StartOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly verbose: boolean;
}

/** `whet start`: serves the platform until Ctrl-C, then stops every child process. */
export async function runStart(options: StartOptions): Promise<void> {
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    platform = await startPlatform({
      dataDir: options.dataDir,
      port: options.port,
      log: options.verbose ? (line) => console.log(line) : () => undefined,
    });
  } catch (error) {
    if (error instanceof JavaMissingError) {
      console.error(error.message);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  console.log(`Whetstone is serving ${platform.url} (data in ${platform.dataDir})`);
  if (platform.createdOwnerKey) {
    console.log(
      `Created team '${DEFAULT_TEAM}' and its owner key (shown once; also saved in ${platform.dataDir}/credentials):`,
    );
    console.log(`  ${platform.createdOwnerKey}`);
  } else if (platform.credentials) {
    console.log(`The owner key is in ${platform.dataDir}/credentials`);
  }
  console.log('Press Ctrl-C to stop.');

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      console.log(`\n${signal}: stopping`);
      platform.stop().then(resolve, (error: unknown) => {
        console.error(error);
        resolve();
      });
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
}
