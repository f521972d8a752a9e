import type { z } from 'zod';
import { TTL_ATTRIBUTE } from './table';

const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'entity', TTL_ATTRIBUTE] as const;

/** Strips the table's key and bookkeeping attributes, leaving the stored object. */
export function fromItem<T>(item: Record<string, unknown>): T {
  const object: Record<string, unknown> = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete object[attribute];
  return object as T;
}

/**
 * Reads a stored object through its schema: fields come back in the schema's order (so API
 * responses read the same every time) and a record that no longer fits fails loudly, naming it.
 */
export function parseItem<T extends z.ZodType>(schema: T, item: Record<string, unknown>): z.infer<T> {
  const result = schema.safeParse(fromItem(item));
  if (!result.success) {
    throw new Error(
      `stored record ${String(item.PK)} ${String(item.SK)} does not fit its schema: ${result.error.message}`,
    );
  }
  return result.data;
}
