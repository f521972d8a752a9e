import { z } from 'zod';

/** Seconds since the Unix epoch, as every OpenAI timestamp. */
export const unixSeconds = z.number().int().nonnegative();

export const errorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** OpenAI's cursor page: newest first, `after` names the last id of the previous page. */
export function listEnvelopeSchema<T extends z.ZodType>(item: T) {
  return z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  });
}
export interface ListEnvelope<T> {
  readonly object: 'list';
  readonly data: readonly T[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

export function listEnvelope<T extends { readonly id: string }>(
  data: readonly T[],
  hasMore: boolean,
): ListEnvelope<T> {
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}

/** Query parameters of every list route: OpenAI's `after` cursor and `limit` (1-100, default 20). */
export const pageQuerySchema = z.strictObject({
  after: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

/** OpenAI's `metadata`: up to 16 pairs, keys at most 64 characters, values at most 512. */
export const metadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((value) => Object.keys(value).length <= 16, { message: 'metadata holds at most 16 pairs' });
