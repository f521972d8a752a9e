import type middy from '@middy/core';
import { z } from 'zod';
import { requireRole } from '../../lib/core/auth';
import { AuthenticationError } from '../../lib/core/errors';
import { ROLES, roleSchema } from '../../lib/core/schemas';
import type { HttpEvent, HttpResponse, RouteContext } from '../http/types';
import { parseOptions } from './options';

const optionsSchema = z.strictObject({
  /** Roles allowed on the route. */
  roles: z.array(roleSchema).min(1),
  /** Words for the refusal: "A member key cannot {action}". */
  action: z.string().min(1),
});
export type AuthorizationOptions = z.input<typeof optionsSchema>;

const defaults = { roles: [...ROLES] };

/** The authorizer's verdict as API Gateway passes it on: string values under `requestContext.authorizer`. */
const authorizerContextSchema = z.object({
  team: z.string().min(1),
  role: roleSchema,
  keyId: z.string().min(1),
});

/**
 * Reads the principal the authorizer established (API Gateway's, or the local gateway's running
 * the same code) and refuses roles the route does not admit.
 */
export function authorization(
  options: Partial<AuthorizationOptions> & Pick<AuthorizationOptions, 'action'>,
): middy.MiddlewareObj<HttpEvent, HttpResponse, Error, RouteContext> {
  const { roles, action } = parseOptions('authorization', optionsSchema, { ...defaults, ...options });

  const authorizationBefore: middy.MiddlewareFn<HttpEvent, HttpResponse, Error, RouteContext> = async (
    request,
  ) => {
    const parsed = authorizerContextSchema.safeParse(request.event.requestContext?.authorizer ?? {});
    // Reaching a route without an authorizer verdict means the gateway is misconfigured; refuse.
    if (!parsed.success) throw new AuthenticationError('The request carries no authenticated API key.');
    request.context.principal = parsed.data;
    requireRole(request.context.principal, roles, action);
  };

  return { before: authorizationBefore };
}
