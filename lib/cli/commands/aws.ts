import type { Command } from 'commander';
import { guard } from '../output';

interface InitOptions {
  readonly region?: string;
  readonly table: string;
  readonly force: boolean;
  readonly json?: boolean;
}

/** `whet aws init`: works on a deployed platform's table with the caller's AWS credentials, not an API key. */
export function registerAwsCommands(program: Command): void {
  const aws = program
    .command('aws')
    .description('a platform deployed to AWS, reached with your AWS credentials (not an API key)');

  aws
    .command('init')
    .description("make team 'default' unless it exists and an owner key for it; the key is shown once")
    .option(
      '--region <region>',
      "the deployment's controlRegion (default: AWS_REGION, then your AWS profile's)",
    )
    .option('--table <name>', "the deployment's table, named after its deploymentName", 'whetstone')
    .option('--force', "make another owner key even when team 'default' has a live one", false)
    .option('--json', 'print the key as JSON')
    // Loaded on use: it pulls in the AWS SDK, which the API commands do not need.
    .action((options: InitOptions) =>
      guard(async () => {
        const { runAwsInit } = await import('../aws-init');
        await runAwsInit({
          table: options.table,
          force: options.force,
          ...(options.region ? { region: options.region } : {}),
          ...(options.json ? { json: true } : {}),
        });
      }),
    );
}
