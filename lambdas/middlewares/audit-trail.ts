import type middy from '@middy/core';
import { z } from 'zod';
import type { AuditStore } from '../../lib/adapters';
import { auditRecord } from '../../lib/core/auth';
import type { HttpEvent, HttpResponse, RouteContext } from '../http/types';
import { parseOptions } from './options';

const optionsSchema = z.strictObject({
  store: z.custom<AuditStore>((value) => typeof value === 'object' && value !== null),
  /** What the call does, e.g. `files.create`. */
  action: z.string().min(1),
  now: z.custom<() => number>((value) => typeof value === 'function'),
  logger: z.custom<(message: string, details: Record<string, unknown>) => void>(
    (value) => typeof value === 'function',
  ),
});
export type AuditTrailOptions = z.input<typeof optionsSchema>;

const defaults = {
  now: () => Date.now(),
  logger: (message: string, details: Record<string, unknown>) =>
    console.error(JSON.stringify({ level: 'error', message, ...details })),
};

/**
 * Records every mutating call, refused or not: who (key, team, role), what (action and the
 * resource it touched), when, and the status it ended with. An audit write that fails is
 * logged, not turned into a failure of a call that already took effect.
 */
export function auditTrail(
  options: Partial<AuditTrailOptions> & Pick<AuditTrailOptions, 'store' | 'action'>,
): middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext> {
  const { store, action, now, logger } = parseOptions('auditTrail', optionsSchema, {
    ...defaults,
    ...options,
  });

  const record = async (
    request: middy.Request<HttpEvent, HttpResponse, Error, RouteContext>,
    statusCode: number,
  ) => {
    const { principal } = request.context;
    // Without a principal the caller was never identified; the gateway's access log has it.
    if (!principal) return;
    try {
      await store.append(
        auditRecord(
          {
            team: principal.team,
            actor_key_id: principal.keyId,
            actor_role: principal.role,
            action,
            resource_id: resourceId(request),
            status_code: statusCode,
            request_id: request.context.awsRequestId,
          },
          now(),
        ),
      );
    } catch (error) {
      logger('audit record not written', {
        action,
        requestId: request.context.awsRequestId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  const auditTrailAfter: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    await record(request, request.response?.statusCode ?? 200);
  };
  const auditTrailOnError: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    const statusCode = (request.error as { statusCode?: unknown } | null)?.statusCode;
    await record(request, typeof statusCode === 'number' ? statusCode : 500);
  };

  return { after: auditTrailAfter, onError: auditTrailOnError };
}

function resourceId(request: middy.Request<HttpEvent, HttpResponse, Error, RouteContext>): string | null {
  const fromPath = Object.values(request.event.pathParameters ?? {}).find((value) => value !== undefined);
  if (fromPath) return fromPath;
  try {
    const body = JSON.parse(request.response?.body ?? 'null') as { id?: unknown } | null;
    return typeof body?.id === 'string' ? body.id : null;
  } catch {
    return null;
  }
}
