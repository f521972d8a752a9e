import { expect } from 'vitest';
import { z } from 'zod';

interface Definition {
  readonly type: string;
  readonly [field: string]: unknown;
}

/**
 * A copy of `schema` for checking responses: every object, however deep, refuses keys it does
 * not declare (the product's schemas strip them silently), and a defaulted field becomes
 * required, since a response must carry the resolved value rather than leave it to a default.
 * Refinements stay.
 */
export function strictly<T extends z.ZodType>(schema: T): z.ZodType<z.output<T>> {
  return rebuild(schema) as z.ZodType<z.output<T>>;
}

function rebuild(schema: z.ZodType): z.ZodType {
  const definition = schema._zod.def as unknown as Definition;
  const inner = (field: string) => rebuild(definition[field] as z.ZodType);
  const clone = (changes: Record<string, unknown>) =>
    schema.clone({ ...definition, ...changes } as unknown as typeof schema._zod.def);
  switch (definition.type) {
    case 'object': {
      const shape = Object.fromEntries(
        Object.entries((schema as unknown as z.ZodObject).shape).map(([key, value]) => [
          key,
          rebuild(value as z.ZodType),
        ]),
      );
      return clone({ shape, catchall: z.never() });
    }
    case 'default':
    case 'prefault':
      return inner('innerType');
    case 'optional':
    case 'nullable':
    case 'readonly':
      return clone({ innerType: inner('innerType') });
    case 'array':
      return clone({ element: inner('element') });
    case 'record':
      return clone({ valueType: inner('valueType') });
    case 'union':
      return clone({ options: (definition.options as z.ZodType[]).map(rebuild) });
    case 'pipe':
      return clone({ in: inner('in'), out: inner('out') });
    default:
      return schema;
  }
}

/** Fails with every field that does not match, by path, and the whole value; else returns it as checked. */
export function expectShape<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  expect(problems, JSON.stringify(value, null, 2)).toEqual([]);
  return value as T;
}

/**
 * The parsed body of one page of an SDK list, envelope and all. The SDK keeps it on the page
 * object, typed as protected: its types expose only `data` and `has_more`.
 */
export function pageBody(page: object): unknown {
  return (page as { readonly body?: unknown }).body;
}
