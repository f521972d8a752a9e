import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { stores } from '../runtime/dependencies';
import { authenticate } from './authenticate';

/**
 * API Gateway REQUEST authorizer, and the local gateway's too. Allowing the whole stage
 * (`.../stage/*`) keeps a cached verdict valid for every route the key calls; the routes check
 * roles themselves. Throwing `Unauthorized` is API Gateway's contract for a 401.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const header = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'authorization',
  )?.[1];
  const result = await authenticate(stores.apiKeys, header ?? undefined, Math.floor(Date.now() / 1000));
  if (!result.ok) {
    console.info(JSON.stringify({ level: 'info', message: 'api key refused', reason: result.reason }));
    throw new Error('Unauthorized');
  }
  const { principal } = result;
  return {
    principalId: principal.keyId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) },
      ],
    },
    context: { team: principal.team, role: principal.role, keyId: principal.keyId },
  };
}

/** `arn:aws:execute-api:region:account:api/stage/METHOD/path` -> `arn:...:api/stage/*`. */
function stageWildcard(methodArn: string): string {
  const [prefix, api, stage] = methodArn.split('/');
  return `${prefix}/${api}/${stage}/*`;
}
