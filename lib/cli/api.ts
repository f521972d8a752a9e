import { type Command, InvalidArgumentError } from 'commander';
import { WhetstoneApiError, WhetstoneClient } from '../client';
import { guard } from './output';
import { describeSource, readTextFile, resolveTarget } from './target';

/** The options every command that calls the API takes. */
export interface ApiOptions {
  readonly url?: string;
  readonly apiKey?: string;
  readonly json?: boolean;
}

/** A subcommand with `--url`, `--api-key` and `--json`. */
export function apiCommand(parent: Command, usage: string, description: string): Command {
  return parent
    .command(usage)
    .description(description)
    .option('--url <url>', 'API URL (default: WHETSTONE_URL, then `whet login`, then .whetstone/credentials)')
    .option('--api-key <key>', 'API key (default: WHETSTONE_API_KEY, then `whet login`, then credentials)')
    .option('--json', 'print the API object as JSON');
}

/**
 * Resolves the target, hands the body a client, and reports any failure as one line. A refused
 * key says where it came from, since a stale config or credentials file is the usual cause.
 */
export function withClient(
  options: ApiOptions,
  body: (client: WhetstoneClient) => Promise<void>,
): Promise<void> {
  return guard(async () => {
    const target = resolveTarget(options, process.env, readTextFile);
    const client = new WhetstoneClient({ url: target.url, apiKey: target.apiKey });
    try {
      await body(client);
    } catch (error) {
      if (error instanceof WhetstoneApiError && error.status === 401) {
        throw new WhetstoneApiError(401, {
          message: `${error.message} (the key came from ${describeSource(target.sources.apiKey, 'apiKey')})`,
          type: error.type,
          code: error.code,
          param: error.param,
        });
      }
      throw error;
    }
  });
}

/** commander parser for positive whole numbers (limits, epoch seconds). */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`'${value}' is not a positive whole number.`);
  }
  return parsed;
}

/** commander parser for `--limit` of a list route: the API takes 1-100. */
export function pageLimit(value: string): number {
  const parsed = positiveInteger(value);
  if (parsed > 100) throw new InvalidArgumentError(`'${value}' is more than 100, the most one page holds.`);
  return parsed;
}

/** Tells a human reading a partial list how to get the next page. */
export function morePages(
  page: { readonly has_more: boolean; readonly last_id: string | null },
  command: string,
): void {
  if (page.has_more && page.last_id !== null) console.log(`(more: ${command} --after ${page.last_id})`);
}
