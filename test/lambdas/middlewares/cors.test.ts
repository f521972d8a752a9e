import middy from '@middy/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { json } from '../../../lambdas/http/responses';
import type { HttpEvent, HttpResponse, RouteContext } from '../../../lambdas/http/types';
import { authorization } from '../../../lambdas/middlewares/authorization';
import { cors, EXPOSED_HEADERS } from '../../../lambdas/middlewares/cors';
import { errorHandler } from '../../../lambdas/middlewares/error-handler';
import { idempotency } from '../../../lambdas/middlewares/idempotency';
import { requestParser } from '../../../lambdas/middlewares/request-parser';
import { localInvocationContext } from '../../../lambdas/runtime/invocation';
import { NotFoundError, RateLimitError } from '../../../lib/core/errors';
import { thingsEvent } from '../../helpers/http-event';
import { memoryIdempotencyStore } from '../../helpers/idempotency';

const CONSOLE = 'https://console.example.com';
const LOCAL_DEV = 'http://localhost:5173';
const EXPOSED = 'x-request-id, x-amzn-RequestId, Retry-After, x-should-retry, Idempotent-Replayed';

/** The route pipeline's shape: CORS first, then the error handler, then the rest. */
function handlerWith(
  origins: string[],
  answer: (event: HttpEvent) => Promise<HttpResponse>,
  more: middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext>[] = [],
) {
  const handler = middy<HttpEvent, HttpResponse, Error, RouteContext>()
    .use(cors({ origins }))
    .use(errorHandler({ logger: () => undefined }));
  for (const middleware of more) handler.use(middleware);
  return handler.handler(answer);
}

const invoke = (handler: ReturnType<typeof handlerWith>, request: HttpEvent) =>
  handler(request, localInvocationContext('test', 60_000) as RouteContext);

describe('cors middleware', () => {
  it('refuses unknown options and origins that are not bare origins, naming them', () => {
    // Act
    const unknown = () => cors({ origin: [CONSOLE] } as never);
    const withPath = () => cors({ origins: [`${CONSOLE}/app`] });
    const trailingSlash = () => cors({ origins: [`${CONSOLE}/`] });
    const badHeader = () => cors({ exposeHeaders: ['x request id'] });
    const built = cors();

    // Assess
    expect(unknown).toThrow('cors: invalid option origin: Unrecognized key: "origin"');
    expect(withPath).toThrow(
      'cors: invalid option origins.0: must be an origin such as https://console.example.com',
    );
    expect(trailingSlash).toThrow(/^cors: invalid option origins\.0: /);
    expect(badHeader).toThrow('cors: invalid option exposeHeaders.0: must be a header name');
    expect(built.before?.name).toBe('corsBefore');
    expect(built.after?.name).toBe('corsAfter');
    expect(built.onError?.name).toBe('corsOnError');
    expect(EXPOSED_HEADERS.join(', ')).toBe(EXPOSED);
  });

  it('lets an allowed origin read the response and the headers the SDKs read, keeping the others', async () => {
    // Prepare
    const handler = handlerWith([CONSOLE, LOCAL_DEV], async () =>
      json(200, { ok: true }, { 'x-extra': '1' }),
    );

    // Act
    const allowed = await invoke(handler, thingsEvent({ headers: { origin: CONSOLE } }));
    const other = await invoke(handler, thingsEvent({ headers: { Origin: LOCAL_DEV } }));

    // Assess
    expect(allowed).toEqual({
      statusCode: 200,
      headers: {
        'Content-Type': 'application/json',
        'x-extra': '1',
        'Access-Control-Allow-Origin': CONSOLE,
        'Access-Control-Expose-Headers': EXPOSED,
        Vary: 'Origin',
      },
      body: '{"ok":true}',
    });
    expect(other.headers?.['Access-Control-Allow-Origin']).toBe(LOCAL_DEV);
  });

  it('marks the answer to any other origin, or none, as varying by Origin and allows nothing', async () => {
    // Prepare
    const handler = handlerWith([CONSOLE], async () => json(200, { ok: true }));

    // Act
    const foreign = await invoke(handler, thingsEvent({ headers: { Origin: 'https://evil.example.com' } }));
    const almost = await invoke(handler, thingsEvent({ headers: { Origin: `${CONSOLE}.evil.example.com` } }));
    const none = await invoke(handler, thingsEvent());

    // Assess
    for (const response of [foreign, almost, none]) {
      expect(response.headers).toEqual({ 'Content-Type': 'application/json', Vary: 'Origin' });
    }
  });

  it('adds nothing at all when no origin is configured', async () => {
    // Prepare
    const response = json(200, { ok: true });
    const handler = handlerWith([], async () => response);

    // Act
    const answered = await invoke(handler, thingsEvent({ headers: { Origin: CONSOLE } }));

    // Assess
    expect(answered).toEqual(response);
  });

  it('puts the headers on rendered errors, with their own headers and an existing Vary kept', async () => {
    // Prepare
    const missing = handlerWith([CONSOLE], async () => {
      throw new NotFoundError('No such thing.');
    });
    const limited = handlerWith([CONSOLE], async () => {
      throw new RateLimitError('Slow down.', 7);
    });
    const crashed = handlerWith([CONSOLE], async () => {
      throw new Error('boom');
    });
    const varies = handlerWith([CONSOLE], async () => json(200, {}, { vary: 'Accept-Encoding' }));

    // Act
    const notFound = await invoke(missing, thingsEvent({ headers: { Origin: CONSOLE } }));
    const rateLimited = await invoke(limited, thingsEvent({ headers: { Origin: CONSOLE } }));
    const internal = await invoke(crashed, thingsEvent({ headers: { Origin: CONSOLE } }));
    const varied = await invoke(varies, thingsEvent({ headers: { Origin: CONSOLE } }));

    // Assess
    expect(notFound.statusCode).toBe(404);
    expect(notFound.headers).toMatchObject({ 'Access-Control-Allow-Origin': CONSOLE, Vary: 'Origin' });
    expect(rateLimited.statusCode).toBe(429);
    expect(rateLimited.headers).toMatchObject({
      'Retry-After': '7',
      'Access-Control-Allow-Origin': CONSOLE,
      'Access-Control-Expose-Headers': EXPOSED,
    });
    expect(internal.statusCode).toBe(500);
    expect(internal.headers).toMatchObject({ 'Access-Control-Allow-Origin': CONSOLE });
    expect(varied.headers).toMatchObject({ vary: 'Accept-Encoding, Origin' });
    expect(varied.headers).not.toHaveProperty('Vary');
  });

  it("answers an idempotent replay, which skips every after hook, with the replaying request's origin", async () => {
    // Prepare
    const store = memoryIdempotencyStore();
    let runs = 0;
    const handler = handlerWith([CONSOLE, LOCAL_DEV], async () => json(200, { id: `thing-${++runs}` }), [
      authorization({ action: 'make things' }),
      requestParser({ body: 'json' }),
      idempotency({ store, action: 'things.create' }),
    ]);
    const post = (origin: string) =>
      thingsEvent({
        method: 'POST',
        headers: { Origin: origin, 'Content-Type': 'application/json', 'Idempotency-Key': 'k-1' },
        body: '{"name":"a"}',
      });

    // Act
    const first = await invoke(handler, post(CONSOLE));
    const replay = await invoke(handler, post(LOCAL_DEV));

    // Assess
    expect(runs).toBe(1);
    expect(first.headers).toMatchObject({ 'Access-Control-Allow-Origin': CONSOLE });
    expect(replay).toEqual({
      statusCode: 200,
      headers: {
        'Content-Type': 'application/json',
        'Idempotent-Replayed': 'true',
        'Access-Control-Allow-Origin': LOCAL_DEV,
        'Access-Control-Expose-Headers': EXPOSED,
        Vary: 'Origin',
      },
      body: '{"id":"thing-1"}',
    });
  });

  it('allows exactly the configured origins, whatever the requests and responses (fuzz)', async () => {
    const bareOrigin = fc.webUrl().map((url) => new URL(url).origin);
    const requestOrigin = fc.oneof(
      bareOrigin,
      fc.constantFrom(
        CONSOLE,
        'null',
        `${CONSOLE}/`,
        'HTTPS://CONSOLE.EXAMPLE.COM',
        `${CONSOLE}.evil.example.com`,
      ),
      fc.string({ maxLength: 20 }),
    );
    const headerName = fc.constantFrom('Content-Type', 'Retry-After', 'vary', 'x-should-retry', 'X-Custom');
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(bareOrigin, { maxLength: 3 }),
        fc.option(requestOrigin, { nil: undefined }),
        fc.boolean(),
        fc.dictionary(headerName, fc.string({ minLength: 1, maxLength: 12 }), { maxKeys: 4 }),
        fc.boolean(),
        fc.constantFrom('Origin', 'origin', 'ORIGIN'),
        async (configured, origin, allowRequestOrigin, responseHeaders, fails, originHeader) => {
          // Prepare
          const origins = new Set(configured);
          if (allowRequestOrigin && origin !== undefined && URL.canParse(origin)) {
            if (new URL(origin).origin === origin) origins.add(origin);
          }
          const handler = handlerWith([...origins], async () => {
            if (fails) throw new NotFoundError('No such thing.');
            return { statusCode: 200, headers: { ...responseHeaders }, body: '' };
          });
          const bare = handlerWith([], async () => {
            if (fails) throw new NotFoundError('No such thing.');
            return { statusCode: 200, headers: { ...responseHeaders }, body: '' };
          });
          const request = thingsEvent({ headers: origin === undefined ? {} : { [originHeader]: origin } });

          // Act
          const response = await invoke(handler, request);
          const without = await invoke(bare, request);

          // Assess
          const headers = response.headers ?? {};
          const allowed = origin !== undefined && origins.has(origin);
          expect(headers['Access-Control-Allow-Origin']).toBe(allowed ? origin : undefined);
          expect(headers['Access-Control-Expose-Headers']).toBe(allowed ? EXPOSED : undefined);
          expect(response.statusCode).toBe(fails ? 404 : 200);
          expect(response.body).toBe(without.body);
          const varyName = Object.keys(headers).find((name) => name.toLowerCase() === 'vary');
          const others = Object.fromEntries(
            Object.entries(headers).filter(
              ([name]) => name !== varyName && !name.startsWith('Access-Control-'),
            ),
          );
          const withoutVary = Object.entries(without.headers ?? {}).find(
            ([name]) => name.toLowerCase() === 'vary',
          );
          expect(others).toEqual(
            Object.fromEntries(
              Object.entries(without.headers ?? {}).filter(([name]) => name !== withoutVary?.[0]),
            ),
          );
          if (origins.size === 0) {
            expect(response).toEqual(without);
          } else {
            const before = fieldsOf(withoutVary?.[1]);
            const expected = before.some((field) => field.toLowerCase() === 'origin')
              ? before
              : [...before, 'Origin'];
            expect(fieldsOf(headers[varyName ?? 'Vary'])).toEqual(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** A `Vary` value's fields, as a cache reads them. */
function fieldsOf(value: unknown): string[] {
  return value === undefined
    ? []
    : String(value)
        .split(',')
        .map((field) => field.trim())
        .filter((field) => field !== '');
}
