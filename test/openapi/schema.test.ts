import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toOpenApiComponents, toOpenApiSchema } from '../../lib/openapi/schema';

describe('schemas as OpenAPI 3.0', () => {
  it('shows a request with its defaults optional, and a response with them present', () => {
    // Prepare
    const schema = z.strictObject({ role: z.enum(['member', 'admin']).default('member'), name: z.string() });

    // Act
    const input = toOpenApiSchema(schema, { side: 'input' });
    const output = toOpenApiSchema(schema, { side: 'output' });

    // Assess
    expect(input).toEqual({
      type: 'object',
      properties: {
        role: { default: 'member', type: 'string', enum: ['member', 'admin'] },
        name: { type: 'string' },
      },
      required: ['name'],
      additionalProperties: false,
    });
    expect(output.required).toEqual(['role', 'name']);
  });

  it('leaves response objects open unless the schema is strict', () => {
    // Act
    const plain = toOpenApiSchema(z.object({ id: z.string() }), { side: 'output' });
    const strict = toOpenApiSchema(z.strictObject({ id: z.string() }), { side: 'output' });

    // Assess
    expect(plain.additionalProperties).toBeUndefined();
    expect(strict.additionalProperties).toBe(false);
  });

  it('drops the safe-integer bounds zod gives every integer', () => {
    // Act
    const schema = toOpenApiSchema(z.number().int().nonnegative(), { side: 'output' });

    // Assess
    expect(schema).toEqual({ type: 'integer', minimum: 0 });
  });

  it('shows a file part of a multipart form as binary, and refuses a custom schema elsewhere', () => {
    // Prepare
    const part = z.custom<Buffer>((value) => Buffer.isBuffer(value));
    const form = z.strictObject({ data: part });

    // Act
    const multipart = toOpenApiSchema(form, { side: 'input', fileParts: true });
    const json = () => toOpenApiSchema(form, { side: 'input' });

    // Assess
    expect(multipart.properties).toEqual({ data: { type: 'string', format: 'binary' } });
    expect(json).toThrow(/Custom types cannot be represented in JSON Schema/);
  });

  it('refers to a named schema, and types a nullable reference so that null is allowed in 3.0.3', () => {
    // Prepare
    const file = z.object({ id: z.string() });
    const upload = z.object({ file: file.nullable() });

    // Act
    const components = toOpenApiComponents(
      new Map<string, z.ZodType>([
        ['File', file],
        ['Upload', upload],
      ]),
      { side: 'output' },
    );

    // Assess
    expect(components.File).toEqual({
      type: 'object',
      properties: { id: { type: 'string' } },
      required: ['id'],
    });
    expect(components.Upload?.properties).toEqual({
      file: { type: 'object', nullable: true, allOf: [{ $ref: '#/components/schemas/File' }] },
    });
  });
});
