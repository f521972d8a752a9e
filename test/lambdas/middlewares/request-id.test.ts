import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { json } from '../../../lambdas/http/responses';
import type { HttpEvent, HttpResponse, RouteContext } from '../../../lambdas/http/types';
import { authorization } from '../../../lambdas/middlewares/authorization';
import { cors } from '../../../lambdas/middlewares/cors';
import { errorHandler } from '../../../lambdas/middlewares/error-handler';
import { idempotency } from '../../../lambdas/middlewares/idempotency';
import { requestId } from '../../../lambdas/middlewares/request-id';
import { requestParser } from '../../../lambdas/middlewares/request-parser';
import { localInvocationContext } from '../../../lambdas/runtime/invocation';
import { NotFoundError } from '../../../lib/core/errors';
import { thingsEvent } from '../../helpers/http-event';
import { memoryIdempotencyStore } from '../../helpers/idempotency';

/** The route pipeline's head: CORS (no origins), the request id, the error handler, then the rest. */
function handlerWith(
  answer: () => Promise<HttpResponse>,
  more: middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext>[] = [],
) {
  const handler = middy<HttpEvent, HttpResponse, Error, RouteContext>()
    .use(cors({ origins: [] }))
    .use(requestId())
    .use(errorHandler({ logger: () => undefined }));
  for (const middleware of more) handler.use(middleware);
  return handler.handler(answer);
}

function context(id: string): RouteContext {
  return { ...localInvocationContext('test', 60_000), awsRequestId: id } as RouteContext;
}

describe('requestId middleware', () => {
  it('refuses unknown options and a header that is no header name', () => {
    // Act
    const unknown = () => requestId({ name: 'x-id' } as never);
    const badHeader = () => requestId({ header: 'request id' });
    const built = requestId();

    // Assess
    expect(unknown).toThrow('requestId: invalid option name: Unrecognized key: "name"');
    expect(badHeader).toThrow('requestId: invalid option header: must be a header name');
    expect(built.before?.name).toBe('requestIdBefore');
    expect(built.after?.name).toBe('requestIdAfter');
    expect(built.onError?.name).toBe('requestIdOnError');
  });

  it('names the request on an answer, keeping its other headers', async () => {
    // Prepare
    const handler = handlerWith(async () => json(200, { ok: true }, { 'Cache-Control': 'no-store' }));

    // Act
    const response = await handler(thingsEvent(), context('req-1'));

    // Assess
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'x-request-id': 'req-1',
    });
  });

  it('names the request on a rendered error, with the id its internal-error message quotes', async () => {
    // Prepare
    const notFound = handlerWith(async () => {
      throw new NotFoundError('No such thing.');
    });
    const crash = handlerWith(async () => {
      throw new Error('boom');
    });

    // Act
    const missing = await notFound(thingsEvent(), context('req-2'));
    const failed = await crash(thingsEvent(), context('req-3'));

    // Assess
    expect(missing.statusCode).toBe(404);
    expect(missing.headers?.['x-request-id']).toBe('req-2');
    expect(failed.statusCode).toBe(500);
    expect(failed.headers?.['x-request-id']).toBe('req-3');
    expect(JSON.parse(failed.body).error.message).toContain('req-3');
  });

  it('names the replaying request on an idempotent replay, which skips every after hook', async () => {
    // Prepare
    const store = memoryIdempotencyStore();
    const handler = handlerWith(
      async () => json(201, { id: 'thing-1' }),
      [
        authorization({ action: 'make things' }),
        requestParser({ body: 'json' }),
        idempotency({ store, action: 'things.create' }),
      ],
    );
    const post = () =>
      thingsEvent({
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'k-1' },
        body: '{"name":"a"}',
      });

    // Act
    const first = await handler(post(), context('req-4'));
    const replay = await handler(post(), context('req-5'));

    // Assess
    expect(first.headers?.['x-request-id']).toBe('req-4');
    expect(replay.headers).toMatchObject({ 'Idempotent-Replayed': 'true', 'x-request-id': 'req-5' });
  });
});
