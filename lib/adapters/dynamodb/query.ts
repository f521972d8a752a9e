import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

export interface Page<T> {
  readonly items: T[];
  readonly hasMore: boolean;
}

/**
 * Reads up to `limit` items, following DynamoDB's 1 MB pages, and one more to learn whether a
 * further page exists without a second round trip when the caller asks for the next one.
 */
export async function queryPage<T>(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit: number,
): Promise<Page<T>> {
  const items: T[] = [];
  let exclusiveStartKey = input.ExclusiveStartKey;
  do {
    const output = await client.send(
      new QueryCommand({ ...input, ExclusiveStartKey: exclusiveStartKey, Limit: limit + 1 - items.length }),
    );
    items.push(...((output.Items ?? []) as T[]));
    exclusiveStartKey = output.LastEvaluatedKey;
  } while (exclusiveStartKey && items.length <= limit);
  return { items: items.slice(0, limit), hasMore: items.length > limit };
}

/**
 * Every item of a listing read page by page, each page after the last item of the one before,
 * until a page says there is no more. A caller that stops early reads no further page.
 */
export async function* everyItem<T extends { readonly id: string }>(
  readPage: (after: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T> {
  let after: string | undefined;
  for (;;) {
    const page = await readPage(after);
    yield* page.items;
    after = page.items.at(-1)?.id;
    if (!page.hasMore || after === undefined) return;
  }
}

export function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

export function isTransactionConditionFailure(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'TransactionCanceledException' &&
    /ConditionalCheckFailed/.test(error.message)
  );
}
