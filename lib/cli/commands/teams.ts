import type { Command } from 'commander';
import { type ApiOptions, apiCommand, morePages, positiveInteger, withClient } from '../api';
import { formatTime, printJson, printTable } from '../output';

interface CreateOptions extends ApiOptions {
  readonly name?: string;
}
interface ListOptions extends ApiOptions {
  readonly after?: string;
  readonly limit?: number;
}

/** `whet teams create|list` (creating teams takes an owner key). */
export function registerTeamsCommands(program: Command): void {
  const teams = program.command('teams').description('teams (an owner key creates them)');

  apiCommand(teams, 'create <id>', 'create a team')
    .option('--name <name>', 'display name (default: the id)')
    .action((id: string, options: CreateOptions) =>
      withClient(options, async (client) => {
        const team = await client.teams.create({
          id,
          ...(options.name !== undefined ? { name: options.name } : {}),
        });
        if (options.json) return printJson(team);
        console.log(`Created team ${team.id} (${team.name}).`);
      }),
    );

  apiCommand(teams, 'list', 'list the teams this key can see')
    .option('--limit <n>', 'at most this many (1-100, default 20)', positiveInteger)
    .option('--after <id>', 'start after this team id')
    .action((options: ListOptions) =>
      withClient(options, async (client) => {
        const page = await client.teams.list({ after: options.after, limit: options.limit });
        if (options.json) return printJson(page);
        if (page.data.length === 0) return console.log('No teams.');
        printTable(
          ['ID', 'NAME', 'CREATED'],
          page.data.map((team) => [team.id, team.name, formatTime(team.created_at)]),
        );
        morePages(page, 'whet teams list');
      }),
    );
}
