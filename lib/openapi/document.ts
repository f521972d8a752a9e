import type { z } from 'zod';
import type { RouteSpec } from '../../lambdas/http/route';
import { ROUTE_SPECS } from '../../lambdas/route-specs';
import { ROUTES, type RouteDefinition } from '../../lambdas/routes';
import { version } from '../../package.json';
import { HEALTH_TAG, OPERATIONS, type OperationDoc, TAGS } from './operations';
import { RESPONSE_DESCRIPTIONS, RESPONSE_SCHEMAS } from './responses';
import { COMPONENT_SCHEMAS_PREFIX, type SchemaObject, toOpenApiComponents, toOpenApiSchema } from './schema';

export type OpenApiDocument = { [field: string]: unknown };
type AnyRouteSpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

export const OPENAPI_VERSION = '3.0.3';
/** Where `npm run openapi` writes the document, relative to the repository root. */
export const OPENAPI_DOCUMENT_PATH = 'docs/openapi.json';

const SECURITY_SCHEME = 'ApiKey';
const IDEMPOTENCY_PARAMETER = 'IdempotencyKey';

/**
 * The errors every route can answer, as components; each carries OpenAI's error body. Which
 * apply to an operation follows from its spec (`errorsFor`).
 */
const ERROR_RESPONSES = {
  '400': ['BadRequest', 'The request is invalid: a field, the query string, the JSON or the form.'],
  '401': ['Unauthorized', 'No API key, or one that is unknown, revoked or expired.'],
  '403': ['Forbidden', "The key's role may not make this call."],
  '404': ['NotFound', "No such object for this team (another team's objects are always 404)."],
  '409': [
    'Conflict',
    'The object is in a state that refuses the call, or the Idempotency-Key was used with another body or is still in progress.',
  ],
  '413': ['PayloadTooLarge', 'The body or a file in it is too large.'],
  '415': ['UnsupportedMediaType', 'The Content-Type is not the one this route reads.'],
  '429': ['TooManyRequests', 'Too many requests: the stage (in AWS) or the key (locally) is throttled.'],
  '500': ['InternalError', "Not the caller's fault; the message names the request id to report."],
} as const;
type ErrorStatus = keyof typeof ERROR_RESPONSES;

/**
 * The OpenAPI 3.0 description of the API: one operation per entry of `ROUTES`, with the roles,
 * parameters and bodies of its `ROUTE_SPECS` entry and the response `OPERATIONS` names, plus
 * `GET /healthz`. Loads no handler, so it runs anywhere without configuration.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  const specs = ROUTE_SPECS as Readonly<Record<string, AnyRouteSpec>>;
  const requestSchemas = new Map<string, z.ZodType>();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const spec = specs[route.module];
    const doc = OPERATIONS[route.module];
    if (!spec) throw new Error(`lambdas/route-specs.ts has no entry for ${route.module}`);
    if (!doc) throw new Error(`lib/openapi/operations.ts has no entry for ${route.module}`);
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: operation(route, spec, doc, requestSchemas),
    };
  }
  paths['/healthz'] = { get: healthOperation() };

  const responseSchemas = toOpenApiComponents(new Map(Object.entries(RESPONSE_SCHEMAS)), { side: 'output' });
  for (const [name, description] of Object.entries(RESPONSE_DESCRIPTIONS)) {
    const schema = responseSchemas[name];
    if (schema) responseSchemas[name] = { description, ...schema };
  }
  const bodySchemas = toOpenApiComponents(requestSchemas, { side: 'input' });
  for (const name of Object.keys(bodySchemas)) {
    if (name in responseSchemas) throw new Error(`component ${name} names both a request and a response`);
  }

  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Whetstone API',
      version,
      description: [
        "Whetstone's fine-tuning API. The Files, Uploads, Fine-tuning and Models routes speak OpenAI's protocol (objects, fields, errors and pagination), so the `openai` SDK works with only its base URL changed (the server URL followed by `/v1`); Whetstone's own routes are under `/v1/whetstone`.",
        'Every call but `GET /healthz` sends `Authorization: Bearer <API key>`. A key belongs to one team and has one role; another team\'s objects are always 404. Every POST that changes something takes an `Idempotency-Key` header. Errors are `{"error": {"message", "type", "param", "code"}}`.',
      ].join('\n\n'),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: [
      {
        url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
        description: "A deployment: the Api stack's ApiUrl output",
        variables: {
          restApiId: { default: 'restApiId', description: "The REST API's id" },
          region: { default: 'us-east-1', description: 'The control region' },
          stage: { default: 'prod' },
        },
      },
      { url: 'http://127.0.0.1:8080', description: 'The local platform (`npm start`)' },
    ],
    tags: [...Object.values(TAGS), HEALTH_TAG],
    security: [{ [SECURITY_SCHEME]: [] }],
    paths,
    components: {
      schemas: { ...responseSchemas, ...bodySchemas },
      responses: Object.fromEntries(
        Object.values(ERROR_RESPONSES).map(([name, description]) => [name, errorResponse(name, description)]),
      ),
      parameters: {
        [IDEMPOTENCY_PARAMETER]: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Makes a retry safe: the same key with the same body answers the first result again (with `Idempotent-Replayed: true`); with another body it is a 409. Keys belong to the API key that sent them.',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
        },
      },
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A Whetstone API key (`whet aws init` or `npm start` prints the first owner key; `POST /v1/whetstone/keys` makes more). API Gateway's authorizer checks it before any handler runs.",
        },
      },
    },
  };
}

/** The document as `docs/openapi.json` holds it. */
export function renderOpenApiDocument(document: OpenApiDocument = buildOpenApiDocument()): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function operation(
  route: RouteDefinition,
  spec: AnyRouteSpec,
  doc: OperationDoc,
  requestSchemas: Map<string, z.ZodType>,
): Record<string, unknown> {
  const area = route.module.split('/')[0] ?? '';
  const tag = TAGS[area];
  if (!tag) throw new Error(`lib/openapi/operations.ts: no tag for the ${area}/ routes`);
  const hasPathParameters = pathParameterNames(route.path).length > 0;
  const idempotent = spec.mutating && route.method === 'POST';

  const parameters = [
    ...pathParameters(route, spec),
    ...queryParameters(route, doc.query ?? spec.query, doc.deepObjectQuery ?? []),
    ...(idempotent ? [{ $ref: `#/components/parameters/${IDEMPOTENCY_PARAMETER}` }] : []),
  ];
  const errors: ErrorStatus[] = [
    '400',
    '401',
    '403',
    ...(hasPathParameters ? (['404'] as const) : []),
    ...(spec.mutating ? (['409'] as const) : []),
    ...(spec.body ? (['413', '415'] as const) : []),
    '429',
    '500',
  ];

  return {
    tags: [tag.name],
    operationId: doc.operationId,
    summary: doc.summary,
    description: describe(spec, doc),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body ? { requestBody: requestBody(doc, spec.body, requestSchemas) } : {}),
    responses: {
      ...success(doc, idempotent),
      ...Object.fromEntries(
        errors.map((status) => [status, { $ref: `#/components/responses/${ERROR_RESPONSES[status][0]}` }]),
      ),
    },
    'x-whetstone-action': spec.action,
    'x-whetstone-roles': [...spec.roles],
  };
}

function describe(spec: AnyRouteSpec, doc: OperationDoc): string {
  const roles = spec.roles.map((role) => `\`${role}\``).join(', ');
  return [
    ...(doc.description ? [doc.description] : []),
    `Roles: ${roles}.${spec.mutating ? ' Recorded in the audit trail.' : ''}`,
    ...(spec.replay === 'refuse'
      ? [
          'A repeated `Idempotency-Key` is refused (409 `idempotency_key_consumed`) instead of replayed: the response holds a secret that is shown once and never kept.',
        ]
      : []),
  ].join('\n\n');
}

/** `{name}` and API Gateway's greedy `{name+}` segments, in order. */
export function pathParameterNames(path: string): { readonly name: string; readonly greedy: boolean }[] {
  return [...path.matchAll(/\{([^}+]+)(\+?)\}/g)].map((match) => ({
    name: match[1] as string,
    greedy: match[2] === '+',
  }));
}

function pathParameters(route: RouteDefinition, spec: AnyRouteSpec): Record<string, unknown>[] {
  const names = pathParameterNames(route.path);
  const properties = spec.path
    ? objectProperties(route, 'path', toOpenApiSchema(spec.path, { side: 'input' }))
    : {};
  for (const name of Object.keys(properties)) {
    if (!names.some((parameter) => parameter.name === name)) {
      throw new Error(`${route.module}: its path schema reads '${name}', which ${route.path} does not have`);
    }
  }
  return names.map(({ name, greedy }) => ({
    name,
    in: 'path',
    required: true,
    ...(greedy
      ? {
          description: `The rest of the path, slashes included (API Gateway's greedy \`{${name}+}\` segment).`,
        }
      : {}),
    schema: properties[name] ?? { type: 'string' },
  }));
}

function queryParameters(
  route: RouteDefinition,
  schema: z.ZodType | undefined,
  deepObject: readonly string[],
): Record<string, unknown>[] {
  if (!schema) return [];
  const json = toOpenApiSchema(schema, { side: 'input' });
  const properties = objectProperties(route, 'query', json);
  const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      ...(deepObject.includes(name) ? { style: 'deepObject', explode: true } : {}),
      schema: propertySchema,
    };
  });
}

/** The named properties of an object schema; anything else cannot be listed as parameters. */
function objectProperties(
  route: RouteDefinition,
  where: 'path' | 'query',
  json: SchemaObject,
): Record<string, SchemaObject> {
  const open = json.additionalProperties !== undefined && json.additionalProperties !== false;
  if (json.type !== 'object' || open) {
    throw new Error(
      `${route.module}: its ${where} schema is not an object of named parameters; describe it in lib/openapi/operations.ts (query)`,
    );
  }
  return (json.properties ?? {}) as Record<string, SchemaObject>;
}

function requestBody(
  doc: OperationDoc,
  body: NonNullable<AnyRouteSpec['body']>,
  requestSchemas: Map<string, z.ZodType>,
): Record<string, unknown> {
  // The parser reads an empty JSON body as `{}`, so a body `{}` satisfies may be left out.
  const required = !body.schema.safeParse({}).success;
  if (body.encoding === 'multipart') {
    return {
      required: true,
      description: 'A multipart form. API Gateway carries at most 10 MB in one request.',
      content: {
        'multipart/form-data': { schema: toOpenApiSchema(body.schema, { side: 'input', fileParts: true }) },
      },
    };
  }
  const name = `${doc.operationId.charAt(0).toUpperCase()}${doc.operationId.slice(1)}Request`;
  requestSchemas.set(name, body.schema);
  return {
    required,
    content: { 'application/json': { schema: { $ref: `${COMPONENT_SCHEMAS_PREFIX}${name}` } } },
  };
}

function success(doc: OperationDoc, idempotent: boolean): Record<string, unknown> {
  if (typeof doc.response !== 'string') {
    return {
      '200': {
        description: doc.response.download,
        headers: {
          'Content-Disposition': {
            description: 'attachment, with the filename',
            schema: { type: 'string' },
          },
        },
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      '302': {
        description:
          'Too large to carry in a response: fetch it from the short-lived presigned URL in `Location`.',
        headers: { Location: { schema: { type: 'string' } } },
      },
    };
  }
  return {
    '200': {
      description: 'OK',
      ...(idempotent
        ? {
            headers: {
              'Idempotent-Replayed': {
                description:
                  '`true` when this is the kept answer to an earlier request with the same Idempotency-Key.',
                schema: { type: 'string', enum: ['true'] },
              },
            },
          }
        : {}),
      content: { 'application/json': { schema: { $ref: `${COMPONENT_SCHEMAS_PREFIX}${doc.response}` } } },
    },
  };
}

function healthOperation(): Record<string, unknown> {
  return {
    tags: [HEALTH_TAG.name],
    operationId: 'getHealth',
    summary: 'Liveness',
    description:
      'Answered by API Gateway itself (a mock integration) in AWS and by the local gateway locally; it reaches no handler or data.',
    security: [],
    responses: {
      '200': {
        description: 'The API is up.',
        content: { 'application/json': { schema: { $ref: `${COMPONENT_SCHEMAS_PREFIX}HealthStatus` } } },
      },
    },
  };
}

function errorResponse(name: string, description: string): Record<string, unknown> {
  return {
    description,
    ...(name === 'TooManyRequests'
      ? {
          headers: {
            'Retry-After': {
              description:
                "Seconds to wait, where the throttle knows them (the local gateway's per-key limiter)",
              schema: { type: 'integer' },
            },
          },
        }
      : {}),
    content: { 'application/json': { schema: { $ref: `${COMPONENT_SCHEMAS_PREFIX}Error` } } },
  };
}
