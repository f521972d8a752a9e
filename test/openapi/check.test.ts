import { describe, expect, it } from 'vitest';
import { openApiProblems } from '../../lib/openapi';

/** A small valid document; each case breaks one thing in a copy of it. */
function minimal() {
  return {
    openapi: '3.0.3',
    info: { title: 'Example', version: '1.0.0' },
    security: [{ ApiKey: [] }],
    tags: [{ name: 'Files' }],
    paths: {
      '/v1/files/{file_id}': {
        get: {
          tags: ['Files'],
          operationId: 'retrieveFile',
          parameters: [{ name: 'file_id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'OK',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/File' } } },
            },
          },
        },
      },
      '/v1/artifacts/{path+}': {
        get: {
          tags: ['Files'],
          operationId: 'download',
          parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'OK' } },
        },
      },
    },
    components: {
      schemas: {
        File: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            expires_at: { type: 'integer', nullable: true },
            default: { $ref: '#/components/schemas/Missing' },
          },
          required: ['id'],
        },
      },
      securitySchemes: { ApiKey: { type: 'http', scheme: 'bearer' } },
    },
  };
}

type Doc = ReturnType<typeof minimal>;
type Schemas = Record<string, Record<string, unknown>>;

function fileSchema(document: Doc): Record<string, unknown> {
  return (document.components.schemas as Schemas).File as Record<string, unknown>;
}

function withoutBrokenProperty(): Doc {
  const document = minimal();
  delete (fileSchema(document).properties as Record<string, unknown>).default;
  return document;
}

describe('openApiProblems', () => {
  it('finds nothing wrong in a valid document, greedy path segments included', () => {
    // Assess
    expect(openApiProblems(withoutBrokenProperty())).toEqual([]);
  });

  it('follows $refs under properties whatever the property is called', () => {
    // Assess
    expect(openApiProblems(minimal())).toEqual([
      '#/components/schemas/File/properties/default: $ref #/components/schemas/Missing does not resolve',
    ]);
  });

  it.each([
    [
      'a JSON Schema keyword OpenAPI 3.0 lacks',
      (document: Doc) => Object.assign(fileSchema(document), { const: 'x' }),
      'components/schemas/File: has a field OpenAPI 3.0 does not define: const',
    ],
    [
      'a list of types',
      (document: Doc) => Object.assign(fileSchema(document), { type: ['object', 'null'] }),
      'components/schemas/File: type must be one of string, number, integer, boolean, array, object (one string), not ["object","null"]',
    ],
    [
      'nullable without a type',
      (document: Doc) => Object.assign(fileSchema(document), { type: undefined, nullable: true }),
      'components/schemas/File: nullable needs a type beside it',
    ],
    [
      'an empty required list',
      (document: Doc) => Object.assign(fileSchema(document), { required: [] }),
      'components/schemas/File: required must be a non-empty array of names',
    ],
    [
      'a numeric exclusiveMinimum (JSON Schema 2019 style)',
      (document: Doc) => Object.assign(fileSchema(document), { exclusiveMinimum: 0 }),
      'components/schemas/File: exclusiveMinimum is a boolean in OpenAPI 3.0',
    ],
    [
      'a path parameter the template lacks',
      (document: Doc) => {
        document.paths['/v1/files/{file_id}'].get.parameters.push({
          name: 'other',
          in: 'path',
          required: true,
          schema: { type: 'string' },
        });
      },
      'paths//v1/files/{file_id}/get: path parameter other is not in /v1/files/{file_id}',
    ],
    [
      'a template segment no parameter declares',
      (document: Doc) => {
        document.paths['/v1/files/{file_id}'].get.parameters = [];
      },
      'paths//v1/files/{file_id}/get: path parameter file_id of /v1/files/{file_id} is not declared',
    ],
    [
      'an optional path parameter',
      (document: Doc) => {
        Object.assign(document.paths['/v1/files/{file_id}'].get.parameters[0] as object, { required: false });
      },
      'paths//v1/files/{file_id}/get/parameters/0: a path parameter must be required: true',
    ],
    [
      'an operation id used twice',
      (document: Doc) => {
        document.paths['/v1/artifacts/{path+}'].get.operationId = 'retrieveFile';
      },
      "paths//v1/artifacts/{path+}/get: operationId retrieveFile is also paths//v1/files/{file_id}/get's",
    ],
    [
      'a response without a description',
      (document: Doc) => {
        document.paths['/v1/artifacts/{path+}'].get.responses = { '200': {} as { description: string } };
      },
      'paths//v1/artifacts/{path+}/get/responses/200: needs a description',
    ],
    [
      'a security requirement naming no scheme',
      (document: Doc) => {
        document.security = [{ Cookie: [] } as unknown as { ApiKey: never[] }];
      },
      'security: names Cookie, which is no security scheme',
    ],
    [
      'an undeclared tag',
      (document: Doc) => {
        document.paths['/v1/artifacts/{path+}'].get.tags = ['Artifacts'];
      },
      "paths//v1/artifacts/{path+}/get: tag Artifacts is not among the document's tags",
    ],
    [
      'a $ref with siblings',
      (document: Doc) => {
        Object.assign(
          document.paths['/v1/files/{file_id}'].get.responses['200'].content['application/json'].schema,
          {
            nullable: true,
          },
        );
      },
      '#/paths/~1v1~1files~1{file_id}/get/responses/200/content/application~1json/schema: $ref has siblings, which OpenAPI 3.0 ignores: nullable',
    ],
  ])('reports %s', (_case, breakIt, problem) => {
    // Prepare
    const document = withoutBrokenProperty();

    // Act
    breakIt(document);

    // Assess
    expect(openApiProblems(document)).toContain(problem);
  });

  it('reports a version other than 3.0', () => {
    // Assess
    expect(openApiProblems({ ...withoutBrokenProperty(), openapi: '3.1.0' })).toContain(
      'openapi: must be a 3.0.x version string',
    );
  });
});
