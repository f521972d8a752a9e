const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'entity', 'expires_at_ttl'] as const;

/** Strips the table's key and bookkeeping attributes, leaving the stored object. */
export function fromItem<T>(item: Record<string, unknown>): T {
  const object: Record<string, unknown> = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete object[attribute];
  return object as T;
}
