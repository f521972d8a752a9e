import middy from '@middy/core';
import type { z } from 'zod';
import type { Principal, Role } from '../../lib/core/schemas';
import { auditTrail } from '../middlewares/audit-trail';
import { authorization } from '../middlewares/authorization';
import { cors } from '../middlewares/cors';
import { errorHandler } from '../middlewares/error-handler';
import { idempotency } from '../middlewares/idempotency';
import { requestId } from '../middlewares/request-id';
import { requestParser } from '../middlewares/request-parser';
import { config, stores } from '../runtime/dependencies';
import type { HttpEvent, HttpResponse, RouteContext } from './types';

export interface RouteSpec<TBody extends z.ZodType, TQuery extends z.ZodType, TPath extends z.ZodType> {
  /** Names the call in audit records and logs, e.g. `files.create`. */
  readonly action: string;
  /** Words for a refusal: "A finance key cannot {does}". */
  readonly does: string;
  readonly roles: readonly Role[];
  /** Mutating routes are audited and honour `Idempotency-Key` (when they are POSTs). */
  readonly mutating: boolean;
  /** How a repeated `Idempotency-Key` is answered; `refuse` for responses holding a secret. Default `response`. */
  readonly replay?: 'response' | 'refuse';
  readonly body?: {
    readonly encoding: 'json' | 'multipart';
    readonly schema: TBody;
    readonly maxFileBytes?: number;
  };
  readonly query?: TQuery;
  readonly path?: TPath;
}

export interface RouteRequest<TBody, TQuery, TPath> {
  readonly principal: Principal;
  readonly body: TBody;
  readonly query: TQuery;
  readonly path: TPath;
  readonly requestId: string;
  readonly event: HttpEvent;
}

/**
 * One thin handler per route: the middlewares authenticate, parse, deduplicate and audit; the
 * route's own function only calls the domain and shapes the response.
 */
export function route<TBody extends z.ZodType, TQuery extends z.ZodType, TPath extends z.ZodType>(
  spec: RouteSpec<TBody, TQuery, TPath>,
  handle: (request: RouteRequest<z.infer<TBody>, z.infer<TQuery>, z.infer<TPath>>) => Promise<HttpResponse>,
) {
  // CORS first and the request id second: their onError hooks run after the error handler has
  // rendered, their after hooks last.
  const handler = middy<HttpEvent, HttpResponse, Error, RouteContext>()
    .use(cors({ origins: [...config.corsOrigins] }))
    .use(requestId())
    .use(errorHandler())
    .use(authorization({ roles: [...spec.roles], action: spec.does }));
  if (spec.mutating) handler.use(auditTrail({ store: stores.audit, action: spec.action }));
  handler.use(
    requestParser({
      body: spec.body?.encoding ?? 'none',
      ...(spec.body ? { bodySchema: spec.body.schema } : {}),
      ...(spec.body?.maxFileBytes ? { maxFileBytes: spec.body.maxFileBytes } : {}),
      ...(spec.query ? { querySchema: spec.query } : {}),
      ...(spec.path ? { pathSchema: spec.path } : {}),
    }),
  );
  if (spec.mutating) {
    handler.use(
      idempotency({
        store: stores.idempotency,
        action: spec.action,
        ttlSeconds: config.idempotencyTtlSeconds,
        ...(spec.replay ? { replay: spec.replay } : {}),
      }),
    );
  }
  return handler.handler(async (event, context) =>
    handle({
      principal: context.principal,
      body: context.input.body as z.infer<TBody>,
      query: context.input.query as z.infer<TQuery>,
      path: context.input.path as z.infer<TPath>,
      requestId: context.awsRequestId,
      event,
    }),
  );
}
