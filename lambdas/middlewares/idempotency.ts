import { createHash } from 'node:crypto';
import type middy from '@middy/core';
import { z } from 'zod';
import type { IdempotencyStore } from '../../lib/adapters';
import { ConflictError, InvalidRequestError } from '../../lib/core/errors';
import { withHeaders } from '../http/responses';
import type { HttpEvent, HttpResponse, RouteContext } from '../http/types';
import { parseOptions } from './options';
import { headerValue } from './request-parser';

const optionsSchema = z.strictObject({
  store: z.custom<IdempotencyStore>((value) => typeof value === 'object' && value !== null),
  /** Names the route in the fingerprint, so one key cannot replay another route's result. */
  action: z.string().min(1),
  ttlSeconds: z.number().int().positive(),
  /** How long an unfinished request holds its key: longer than any handler may run. */
  lockSeconds: z.number().int().positive(),
  /**
   * `response` replays the first response. `refuse` answers a repeat with a 409 naming what the
   * first request made: for responses holding a secret, which must never be stored.
   */
  replay: z.enum(['response', 'refuse']),
  now: z.custom<() => number>((value) => typeof value === 'function'),
  logger: z.custom<(message: string, details: Record<string, unknown>) => void>(
    (value) => typeof value === 'function',
  ),
});
export type IdempotencyOptions = z.input<typeof optionsSchema>;

const defaults = {
  ttlSeconds: 24 * 60 * 60,
  // Lambda's longest run, so a live request never loses its key to a retry.
  lockSeconds: 15 * 60,
  replay: 'response' as const,
  now: () => Date.now(),
  logger: (message: string, details: Record<string, unknown>) =>
    console.error(JSON.stringify({ level: 'error', message, ...details })),
};
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * `Idempotency-Key` on a POST: the first request with a key runs and its successful response is
 * kept; a repeat with the same body gets that response again (marked `Idempotent-Replayed`); the
 * same key with a different body, or while the first is still running, is a 409. A failed
 * request frees its key so that a retry runs afresh.
 *
 * Keys belong to the API key that sent them, so one caller can never replay another's result.
 * The fingerprint is taken over the parsed input, not the raw bytes, because a multipart body's
 * boundary differs on every retry of the same upload.
 */
export function idempotency(
  options: Partial<IdempotencyOptions> & Pick<IdempotencyOptions, 'store' | 'action'>,
): middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext> {
  const { store, action, ttlSeconds, lockSeconds, replay, now, logger } = parseOptions(
    'idempotency',
    optionsSchema,
    { ...defaults, ...options },
  );
  const claimed = new WeakMap<object, { readonly key: string; readonly token: string }>();

  const idempotencyBefore: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    if (request.event.httpMethod !== 'POST') return;
    const key = headerValue(request.event, IDEMPOTENCY_HEADER);
    if (key === undefined) return;
    if (!KEY_PATTERN.test(key)) {
      throw new InvalidRequestError(
        `${IDEMPOTENCY_HEADER} must be 1-255 printable ASCII characters without spaces.`,
        {
          param: IDEMPOTENCY_HEADER,
        },
      );
    }
    const { team, keyId } = request.context.principal;
    const scopedKey = `${keyId}#${key}`;
    const fingerprint = fingerprintOf(action, request.context.input);
    const nowSeconds = Math.floor(now() / 1000);
    const claim = await store.claim(team, scopedKey, {
      fingerprint,
      now: nowSeconds,
      expiresAt: nowSeconds + ttlSeconds,
      lockedUntil: nowSeconds + lockSeconds,
    });
    if (claim.claimed) {
      claimed.set(request.context, { key: scopedKey, token: claim.token });
      return;
    }
    const { existing } = claim;
    if (existing.fingerprint !== fingerprint) {
      throw new ConflictError(
        `${IDEMPOTENCY_HEADER} '${key}' was already used with a different request; use a new key for a new request.`,
        { param: IDEMPOTENCY_HEADER, code: 'idempotency_key_reused' },
      );
    }
    if (existing.state !== 'completed' || !existing.response) {
      throw new ConflictError(
        `A request with ${IDEMPOTENCY_HEADER} '${key}' is still in progress; retry shortly.`,
        {
          param: IDEMPOTENCY_HEADER,
          code: 'idempotency_key_in_use',
        },
      );
    }
    if (replay === 'refuse') {
      throw new ConflictError(
        `${IDEMPOTENCY_HEADER} '${key}' already made ${existing.response.body}; its secret was shown once and is not kept. ` +
          'Revoke it if the secret was lost, and send a new request with a new key.',
        { param: IDEMPOTENCY_HEADER, code: 'idempotency_key_consumed' },
      );
    }
    return {
      statusCode: existing.response.statusCode,
      headers: withHeaders(
        { ...existing.response.headers, 'Idempotent-Replayed': 'true' },
        request.context.responseHeaders ?? {},
      ),
      body: existing.response.body,
    };
  };

  const idempotencyAfter: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    const held = claimed.get(request.context);
    if (held === undefined || !request.response) return;
    const { statusCode, headers, body } = request.response;
    // The request took effect: failing it now would invite the retry that duplicates it.
    try {
      const kept =
        replay === 'refuse'
          ? { statusCode, headers: {}, body: createdId(body) }
          : {
              statusCode,
              headers: Object.fromEntries(
                Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]),
              ),
              body,
            };
      if (!(await store.complete(request.context.principal.team, held.key, held.token, kept))) {
        logger('idempotency claim lapsed before the request finished', { action });
      }
    } catch (error) {
      logger('idempotency record not completed', { action, error: String(error) });
    }
  };

  const idempotencyOnError: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    const held = claimed.get(request.context);
    if (held === undefined) return;
    // The lock lapses by itself; the caller must still get the error the request ended with.
    try {
      await store.release(request.context.principal.team, held.key, held.token);
    } catch (error) {
      logger('idempotency key not released', { action, error: String(error) });
    }
  };

  return { before: idempotencyBefore, after: idempotencyAfter, onError: idempotencyOnError };
}

/** What a non-replayable response made, to name it in the refusal of a repeat. */
function createdId(body: string): string {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' ? id : 'a resource';
  } catch {
    return 'a resource';
  }
}

function fingerprintOf(action: string, input: unknown): string {
  return createHash('sha256')
    .update(action)
    .update('\n')
    .update(JSON.stringify(canonical(input)) ?? '')
    .digest('hex');
}

/** Sorted keys and file contents by digest, so equal inputs give equal text. */
function canonical(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { sha256: createHash('sha256').update(value).digest('hex') };
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
