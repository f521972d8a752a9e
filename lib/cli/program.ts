import { Command, InvalidArgumentError } from 'commander';
import { registerAwsCommands } from './commands/aws';
import { registerBenchCommands } from './commands/bench';
import { registerFilesCommands } from './commands/files';
import { registerJobsCommands } from './commands/jobs';
import { registerKeysCommands } from './commands/keys';
import { registerLoginCommand } from './commands/login';
import { registerModelsCommands } from './commands/models';
import { registerTeamsCommands } from './commands/teams';
import { registerTrainCommand } from './commands/train';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new InvalidArgumentError(`'${value}' is not a port number (0-65535).`);
  }
  return parsed;
}

export function buildProgram(): Command {
  const program = new Command('whet').description('Whetstone: fine-tuning you own.').showHelpAfterError();

  program
    .command('start')
    .description('run the whole platform on this machine (DynamoDB Local, S3 server, API gateway)')
    .option('--data-dir <dir>', 'where state is kept', process.env.WHETSTONE_DATA_DIR ?? '.whetstone')
    .option(
      '--port <port>',
      'gateway port (0: any free port)',
      port,
      process.env.WHETSTONE_PORT ? port(process.env.WHETSTONE_PORT) : 8080,
    )
    .option('--verbose', 'log every request', false)
    // Loaded on use: the platform pulls in the AWS SDK, which the API commands do not need.
    .action(async (options: { dataDir: string; port: number; verbose: boolean }) => {
      const { runStart } = await import('./start');
      await runStart(options);
    });

  registerLoginCommand(program);
  registerTeamsCommands(program);
  registerKeysCommands(program);
  registerFilesCommands(program);
  registerJobsCommands(program);
  registerModelsCommands(program);
  registerTrainCommand(program);
  registerBenchCommands(program);
  registerAwsCommands(program);

  return program;
}
