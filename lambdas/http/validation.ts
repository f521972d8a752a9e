import type { z } from 'zod';
import { InvalidRequestError } from '../../lib/core/errors';

/**
 * Parses request input with a schema; the first problem becomes a 400 whose `param` names the
 * offending field (dotted for nested fields, the key itself for unknown keys).
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new InvalidRequestError(`Invalid ${where}.`);
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0] ?? ''].join('.');
    throw new InvalidRequestError(`Unrecognized ${where} parameter: '${key}'.`, {
      param: key,
      code: 'unknown_parameter',
    });
  }
  const param = path.length > 0 ? path.join('.') : null;
  // zod drops `issue.input` from reported issues, so whether the field was sent is read from the
  // input, unless a refinement says the field was sent under other names (`params.sent`).
  const sent = issue.code === 'custom' && (issue.params as { sent?: boolean } | undefined)?.sent === true;
  const missing = param !== null && !sent && valueAt(value, issue.path) === undefined;
  const message = missing
    ? `Missing required ${where} parameter: '${param}'.`
    : `Invalid ${where} parameter${param ? ` '${param}'` : ''}: ${issue.message}.`;
  throw new InvalidRequestError(message, {
    param,
    code: missing ? 'missing_required_parameter' : 'invalid_value',
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
