import type { z } from 'zod';

/** Middleware options are checked once, when the handler is built, so a typo fails at load. */
export function parseOptions<T extends z.ZodType>(
  middleware: string,
  schema: T,
  options: unknown,
): z.infer<T> {
  const result = schema.safeParse(options);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where =
      issue?.path.join('.') || ('keys' in (issue ?? {}) ? String((issue as { keys: string[] }).keys) : '');
    throw new TypeError(`${middleware}: invalid option ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
