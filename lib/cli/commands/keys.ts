import { type Command, Option } from 'commander';
import type { ApiKey, Role } from '../../core/schemas';
import { ROLES } from '../../core/schemas';
import { type ApiOptions, apiCommand, morePages, positiveInteger, withClient } from '../api';
import { formatTime, printJson, printTable } from '../output';

interface TeamOption extends ApiOptions {
  readonly team?: string;
}
interface CreateOptions extends TeamOption {
  readonly role?: Role;
  readonly name?: string;
  readonly expiresAt?: number;
}
interface ListOptions extends TeamOption {
  readonly after?: string;
  readonly limit?: number;
}

const teamHelp = "team (default: the key's own; only owner keys name another)";

/** `whet keys create|list|revoke` (admin keys for their team, owner keys for any). */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys (admin and owner keys manage them)');

  apiCommand(keys, 'create', 'create an API key; its secret is shown once')
    .option('--team <team>', teamHelp)
    .addOption(new Option('--role <role>', 'what the key may do').choices(ROLES).default('member'))
    .option('--name <name>', 'a label to tell keys apart')
    .option('--expires-at <epoch>', 'expiry, in seconds since the epoch', positiveInteger)
    .action((options: CreateOptions) =>
      withClient(options, async (client) => {
        const key = await client.keys.create({
          team: options.team,
          role: options.role,
          name: options.name,
          expires_at: options.expiresAt,
        });
        if (options.json) return printJson(key);
        const name = key.name === null ? '' : ` named ${key.name}`;
        const expiry = key.expires_at === null ? '' : `, expires ${formatTime(key.expires_at)}`;
        console.log(`Created ${key.role} key ${key.id}${name} for team ${key.team}${expiry}.`);
        console.log('Its secret is shown only now; store it somewhere safe:');
        console.log('');
        console.log(`  ${key.value}`);
        console.log('');
      }),
    );

  apiCommand(keys, 'list', 'list API keys (never their secrets)')
    .option('--team <team>', teamHelp)
    .option('--limit <n>', 'at most this many (1-100, default 20)', positiveInteger)
    .option('--after <id>', 'start after this key id')
    .action((options: ListOptions) =>
      withClient(options, async (client) => {
        const page = await client.keys.list({
          team: options.team,
          after: options.after,
          limit: options.limit,
        });
        if (options.json) return printJson(page);
        if (page.data.length === 0) return console.log('No keys.');
        const now = Math.floor(Date.now() / 1000);
        printTable(
          ['ID', 'TEAM', 'ROLE', 'NAME', 'KEY', 'CREATED', 'EXPIRES', 'STATE'],
          page.data.map((key) => [
            key.id,
            key.team,
            key.role,
            key.name ?? '-',
            key.redacted_value,
            formatTime(key.created_at),
            formatTime(key.expires_at),
            stateOf(key, now),
          ]),
        );
        morePages(page, 'whet keys list');
      }),
    );

  apiCommand(keys, 'revoke <key_id>', 'revoke an API key; it stops working at once')
    .option('--team <team>', teamHelp)
    .action((keyId: string, options: TeamOption) =>
      withClient(options, async (client) => {
        const key = await client.keys.revoke(keyId, { team: options.team });
        if (options.json) return printJson(key);
        console.log(`Revoked ${key.role} key ${key.id} of team ${key.team}.`);
      }),
    );
}

function stateOf(key: ApiKey, now: number): string {
  if (key.revoked_at !== null) return 'revoked';
  if (key.expires_at !== null && key.expires_at <= now) return 'expired';
  return 'active';
}
