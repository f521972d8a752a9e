import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RouteSpec } from '../../lambdas/http/route';
import { listJobsQuerySchema } from '../../lambdas/jobs/path';
import { ROUTE_SPECS } from '../../lambdas/route-specs';
import { ROUTES } from '../../lambdas/routes';
import {
  buildOpenApiDocument,
  OPENAPI_DOCUMENT_PATH,
  OPERATIONS,
  type OpenApiDocument,
  openApiProblems,
  pathParameterNames,
  renderOpenApiDocument,
} from '../../lib/openapi';

type Json = { [key: string]: unknown };
type Operation = Json & {
  parameters?: Json[];
  requestBody?: { content: Json; required: boolean };
  responses: Record<string, Json>;
  security?: unknown[];
};

const root = join(__dirname, '..', '..');
const specs = ROUTE_SPECS as Readonly<Record<string, RouteSpec<z.ZodType, z.ZodType, z.ZodType>>>;

function operationOf(document: OpenApiDocument, method: string, path: string): Operation {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  const operation = paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`no operation ${method} ${path}`);
  return operation;
}

function resolved(document: OpenApiDocument, value: Json): Json {
  if (typeof value.$ref !== 'string') return value;
  const [, , kind, name] = value.$ref.split('/');
  const components = document.components as Record<string, Record<string, Json>>;
  return components[kind as string]?.[name as string] as Json;
}

function queryNames(schema: z.ZodType | undefined): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

describe('the OpenAPI description', () => {
  let document: OpenApiDocument;

  beforeAll(() => {
    document = buildOpenApiDocument();
  });

  it('is committed as docs/openapi.json exactly as the generator makes it now', () => {
    // Prepare
    const committed = readFileSync(join(root, OPENAPI_DOCUMENT_PATH), 'utf8');
    const stale = `${OPENAPI_DOCUMENT_PATH} is out of date: run \`npm run openapi\` and commit the result`;

    // Assess
    expect(JSON.parse(committed), stale).toEqual(document);
    expect(committed, stale).toBe(renderOpenApiDocument(document));
  });

  it('is a well-formed OpenAPI 3.0 document', () => {
    // Assess
    expect(document.openapi).toBe('3.0.3');
    expect(openApiProblems(document)).toEqual([]);
  });

  it('has one operation per route, and GET /healthz', () => {
    // Prepare
    const paths = document.paths as Record<string, Record<string, unknown>>;

    // Act
    const described = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );

    // Assess
    expect(described.sort()).toEqual(
      [...ROUTES.map((route) => `${route.method} ${route.path}`), 'GET /healthz'].sort(),
    );
  });

  it('describes every route from the spec its handler serves', () => {
    // Assess
    expect(Object.keys(ROUTE_SPECS).sort()).toEqual(ROUTES.map((route) => route.module).sort());
    expect(Object.keys(OPERATIONS).sort()).toEqual(ROUTES.map((route) => route.module).sort());
    for (const route of ROUTES) {
      const source = readFileSync(join(root, 'lambdas', `${route.module}.ts`), 'utf8');
      expect(source, `lambdas/${route.module}.ts`).toContain(`route(ROUTE_SPECS['${route.module}']`);
    }
  });

  it("gives each operation its route's path parameters, required, in the template's order", () => {
    for (const route of ROUTES) {
      // Prepare
      const operation = operationOf(document, route.method, route.path);
      const expected = pathParameterNames(route.path).map(({ name }) => name);

      // Act
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');

      // Assess
      expect(
        declared.map((parameter) => parameter.name),
        `${route.method} ${route.path}`,
      ).toEqual(expected);
      expect(declared.every((parameter) => parameter.required === true)).toBe(true);
      const pathSchema = specs[route.module]?.path;
      if (pathSchema instanceof z.ZodObject) expect(Object.keys(pathSchema.shape)).toEqual(expected);
    }
  });

  it("gives each operation the query parameters its route's schema reads", () => {
    for (const route of ROUTES) {
      // Prepare
      const operation = operationOf(document, route.method, route.path);
      const spec = specs[route.module];
      const expected = queryNames(OPERATIONS[route.module]?.query ?? spec?.query);

      // Act
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query');

      // Assess
      expect(
        declared.map((parameter) => parameter.name),
        `${route.method} ${route.path}`,
      ).toEqual(expected);
      if (spec?.query && !OPERATIONS[route.module]?.query) expect(spec.query).toBeInstanceOf(z.ZodObject);
    }
    const limit = operationOf(document, 'GET', '/v1/files').parameters?.find((p) => p.name === 'limit');
    expect(limit).toEqual({
      name: 'limit',
      in: 'query',
      required: false,
      schema: { default: 10_000, type: 'integer', minimum: 1, maximum: 10_000 },
    });
  });

  it("describes the job list's metadata filter as the route reads it: metadata[key]=value", () => {
    // Prepare
    const operation = operationOf(document, 'GET', '/v1/fine_tuning/jobs');
    const metadata = operation.parameters?.find((parameter) => parameter.name === 'metadata');

    // Act
    const accepted = listJobsQuerySchema.safeParse({ after: 'ftjob_1', limit: '5', 'metadata[team]': 'nlp' });
    const refused = listJobsQuerySchema.safeParse({ order: 'asc' });

    // Assess
    expect(metadata).toMatchObject({ in: 'query', style: 'deepObject', explode: true, required: false });
    expect(accepted.success && accepted.data).toEqual({
      after: 'ftjob_1',
      limit: 5,
      metadata: { team: 'nlp' },
    });
    expect(refused.success).toBe(false);
  });

  it('shows each body with the encoding and schema its route parses', () => {
    for (const route of ROUTES) {
      // Prepare
      const operation = operationOf(document, route.method, route.path);
      const body = specs[route.module]?.body;
      const at = `${route.method} ${route.path}`;

      // Assess
      if (!body) {
        expect(operation.requestBody, at).toBeUndefined();
        continue;
      }
      const mediaType = body.encoding === 'json' ? 'application/json' : 'multipart/form-data';
      expect(Object.keys(operation.requestBody?.content ?? {}), at).toEqual([mediaType]);
      const media = operation.requestBody?.content[mediaType] as { schema: Json };
      const schema = resolved(document, media.schema);
      expect(Object.keys(schema.properties as Json), at).toEqual(
        Object.keys((body.schema as z.ZodObject).shape),
      );
    }
    const upload = operationOf(document, 'POST', '/v1/files').requestBody?.content['multipart/form-data'];
    expect(upload).toMatchObject({
      schema: { properties: { file: { type: 'string', format: 'binary' } }, required: ['purpose', 'file'] },
    });
  });

  it('marks a JSON body optional only where the route accepts an empty one', () => {
    // Assess
    expect(operationOf(document, 'POST', '/v1/whetstone/keys').requestBody?.required).toBe(false);
    expect(operationOf(document, 'POST', '/v1/fine_tuning/jobs').requestBody?.required).toBe(true);
    expect(operationOf(document, 'POST', '/v1/uploads').requestBody?.required).toBe(true);
  });

  it('takes an Idempotency-Key on exactly the POSTs that change something', () => {
    for (const route of ROUTES) {
      // Prepare
      const operation = operationOf(document, route.method, route.path);
      const expected = route.method === 'POST' && specs[route.module]?.mutating === true;

      // Act
      const takesKey = (operation.parameters ?? []).some(
        (parameter) => parameter.$ref === '#/components/parameters/IdempotencyKey',
      );

      // Assess
      expect(takesKey, `${route.method} ${route.path}`).toBe(expected);
    }
  });

  it('requires the bearer API key on every operation but GET /healthz', () => {
    // Prepare
    const schemes = (document.components as Json).securitySchemes;

    // Assess
    expect(schemes).toMatchObject({ ApiKey: { type: 'http', scheme: 'bearer' } });
    expect(document.security).toEqual([{ ApiKey: [] }]);
    for (const route of ROUTES) {
      const operation = operationOf(document, route.method, route.path);
      expect(operation.security ?? document.security, `${route.method} ${route.path}`).toEqual([
        { ApiKey: [] },
      ]);
    }
    expect(operationOf(document, 'GET', '/healthz').security).toEqual([]);
  });

  it("names each operation's roles and action as its route spec does", () => {
    for (const route of ROUTES) {
      // Prepare
      const operation = operationOf(document, route.method, route.path);
      const spec = specs[route.module];

      // Assess
      expect(operation['x-whetstone-roles']).toEqual(spec?.roles);
      expect(operation['x-whetstone-action']).toBe(spec?.action);
      expect(operation.description).toContain(
        `Roles: ${spec?.roles.map((role) => `\`${role}\``).join(', ')}.`,
      );
    }
  });

  it("answers errors in OpenAI's error shape, and 404 where a path names an object", () => {
    for (const route of ROUTES) {
      // Prepare
      const operation = operationOf(document, route.method, route.path);
      const statuses = Object.keys(operation.responses);

      // Assess
      expect(statuses).toEqual(expect.arrayContaining(['200', '400', '401', '403', '429', '500']));
      expect(statuses.includes('404')).toBe(pathParameterNames(route.path).length > 0);
      for (const status of statuses.filter((code) => Number(code) >= 400)) {
        const response = resolved(document, operation.responses[status] as Json);
        expect(response.content).toEqual({
          'application/json': { schema: { $ref: '#/components/schemas/Error' } },
        });
      }
    }
    const error = (document.components as { schemas: Record<string, Json> }).schemas.Error;
    expect(error).toMatchObject({
      required: ['error'],
      properties: {
        error: {
          properties: {
            message: { type: 'string' },
            type: { type: 'string' },
            param: { type: 'string', nullable: true },
            code: { type: 'string', nullable: true },
          },
          required: ['message', 'type', 'param', 'code'],
        },
      },
    });
  });

  it('shows OpenAI objects with their fields, and lists as cursor pages of them', () => {
    // Prepare
    const schemas = (document.components as { schemas: Record<string, Json> }).schemas;
    const listJobs = operationOf(document, 'GET', '/v1/fine_tuning/jobs').responses['200'];

    // Assess
    expect(listJobs).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/FineTuningJobList' } } },
    });
    expect(schemas.FineTuningJobList).toMatchObject({
      properties: {
        object: { enum: ['list'] },
        data: { type: 'array', items: { $ref: '#/components/schemas/FineTuningJob' } },
        has_more: { type: 'boolean' },
      },
    });
    expect(schemas.FineTuningJob?.required).toEqual(
      expect.arrayContaining(['id', 'object', 'status', 'model', 'training_file', 'hyperparameters']),
    );
    // A response object may gain fields; a client validating against the document must not break.
    expect(schemas.FineTuningJob?.additionalProperties).toBeUndefined();
    expect(schemas.Upload).toMatchObject({
      properties: {
        file: { type: 'object', nullable: true, allOf: [{ $ref: '#/components/schemas/FileObject' }] },
      },
    });
  });

  it('answers a download with the bytes or a redirect to a presigned URL', () => {
    // Prepare
    const operation = operationOf(document, 'GET', '/v1/files/{file_id}/content');

    // Assess
    expect(operation.responses['200']).toMatchObject({
      content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
    });
    expect(operation.responses['302']).toMatchObject({
      headers: { Location: { schema: { type: 'string' } } },
    });
  });
});
