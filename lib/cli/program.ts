import { Command, InvalidArgumentError } from 'commander';
import { runStart } from './start';

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
    .action((options: { dataDir: string; port: number; verbose: boolean }) => runStart(options));

  return program;
}
