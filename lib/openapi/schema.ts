import { z } from 'zod';

/** A Schema Object of OpenAPI 3.0 (a JSON Schema subset), as plain JSON. */
export type SchemaObject = { [keyword: string]: unknown };

/**
 * Which side of a schema to describe: `input` for what a request may send (defaults optional,
 * coerced query strings), `output` for what a response holds (defaults filled in).
 */
export type SchemaSide = 'input' | 'output';

export interface ConversionOptions {
  readonly side: SchemaSide;
  /**
   * Multipart forms carry files as `z.custom` parts; they are shown as binary strings. Anywhere
   * else a custom schema has no JSON equivalent and conversion throws rather than guess.
   */
  readonly fileParts?: boolean;
}

export const COMPONENT_SCHEMAS_PREFIX = '#/components/schemas/';

/** One schema, every nested schema inline. */
export function toOpenApiSchema(schema: z.ZodType, options: ConversionOptions): SchemaObject {
  return tidy(z.toJSONSchema(schema, conversionParams(options)) as SchemaObject);
}

/**
 * Named schemas as components: a schema in `named` met inside another becomes a `$ref` to its
 * component, so an object defined once is described once.
 */
export function toOpenApiComponents(
  named: ReadonlyMap<string, z.ZodType>,
  options: ConversionOptions,
): Record<string, SchemaObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of named) {
    if (registry.has(schema)) throw new Error(`component ${id}: the same schema is already named`);
    registry.add(schema, { id });
  }
  const { schemas } = z.toJSONSchema(registry, {
    ...conversionParams(options),
    uri: (id) => `${COMPONENT_SCHEMAS_PREFIX}${id}`,
  });
  const typeOf = (ref: string) => schemas[ref.slice(COMPONENT_SCHEMAS_PREFIX.length)]?.type;
  return Object.fromEntries([...named.keys()].map((id) => [id, tidy(schemas[id] as SchemaObject, typeOf)]));
}

function conversionParams({ side, fileParts = false }: ConversionOptions): z.core.ToJSONSchemaParams {
  return {
    target: 'openapi-3.0' as const,
    io: side,
    unrepresentable: ({ zodSchema }) =>
      fileParts && zodSchema._zod.def.type === 'custom' ? { type: 'string', format: 'binary' } : 'throw',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      // A plain z.object strips unknown keys when it parses but promises nothing about them in a
      // response: a field added later must not break a client validating against this document.
      if (side === 'output' && def.type === 'object' && def.catchall === undefined) {
        delete jsonSchema.additionalProperties;
      }
      // z.number().int() bounds itself to the safe integers, which says nothing to a reader.
      if (jsonSchema.type === 'integer') {
        if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
        if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      }
    },
  };
}

/**
 * Drops what OpenAPI 3.0 does not know (`$id`, which a registry conversion writes), and gives a
 * nullable `$ref` the `type` that OpenAPI 3.0.3 requires beside `nullable` for null to be allowed.
 */
function tidy(schema: SchemaObject, typeOfRef: (ref: string) => unknown = () => undefined): SchemaObject {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const result: SchemaObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$id' || key === '$schema') continue;
      result[key] = walk(item);
    }
    const [only, ...others] = Array.isArray(result.allOf) ? result.allOf : [];
    if (result.nullable === true && result.type === undefined && others.length === 0) {
      const type = typeof only?.$ref === 'string' ? typeOfRef(only.$ref) : undefined;
      if (typeof type === 'string') return { type, ...result };
    }
    return result;
  };
  return walk(schema) as SchemaObject;
}
