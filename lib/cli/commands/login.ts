import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { WhetstoneClient } from '../../client';
import { writeJsonFile } from '../../local/files';
import type { ApiOptions } from '../api';
import { guard, printJson } from '../output';
import { readTextFile, resolveTarget, type UserConfig, userConfigPath } from '../target';

/** `whet login`: checks a URL and key against the API, then makes them the user's default. */
export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('check an API key and save it, with its URL, as the default for later commands')
    .option(
      '--url <url>',
      'API URL (default: WHETSTONE_URL, then the saved config, then .whetstone/credentials)',
    )
    .option(
      '--api-key <key>',
      'API key (default: WHETSTONE_API_KEY, then the saved config, then credentials)',
    )
    .option('--json', 'print what was saved as JSON (without the key)')
    .action((options: ApiOptions) =>
      guard(async () => {
        const target = resolveTarget(options, process.env, readTextFile);
        const client = new WhetstoneClient({ url: target.url, apiKey: target.apiKey });
        const teams = await client.teams.list();
        const path = userConfigPath(process.env);
        const config: UserConfig = { url: client.url, api_key: target.apiKey };
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        // The key is a secret: only the user may read the file.
        writeJsonFile(path, config, 0o600);
        const teamIds = teams.data.map((team) => team.id);
        if (options.json) return printJson({ url: config.url, config_path: path, teams: teamIds });
        const shown = teamIds.slice(0, 5).join(', ') + (teams.has_more || teamIds.length > 5 ? ', ...' : '');
        console.log(`The key works against ${config.url} (teams: ${shown || 'none'}).`);
        console.log(`Saved to ${path}.`);
      }),
    );
}
