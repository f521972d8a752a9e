import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDeliveryQueue, UnavailableDeliveryQueue } from '../../../lib/adapters';

const message = { team: 'research', deliveryId: 'whdel_01J0000000000000000000000A' };
const body = '{"team":"research","deliveryId":"whdel_01J0000000000000000000000A"}';

describe('LocalDeliveryQueue', () => {
  let queue: LocalDeliveryQueue | undefined;
  afterEach(async () => queue?.shutdown());

  it('hands a message to the consumer in an SQS event once its delay has passed', async () => {
    // Prepare
    const received: { event: SQSEvent; at: number }[] = [];
    queue = new LocalDeliveryQueue(async (event) => {
      received.push({ event, at: Date.now() });
      return { batchItemFailures: [] };
    });
    const sentAt = Date.now();

    // Act
    await queue.enqueue(message, 0.15);
    await queue.idle();

    // Assess
    expect(received).toHaveLength(1);
    // Node may fire a timer up to a millisecond early by the wall clock.
    expect(received[0]?.at).toBeGreaterThanOrEqual(sentAt + 149);
    const record = received[0]?.event.Records[0];
    expect(received[0]?.event.Records).toHaveLength(1);
    expect(record).toEqual({
      messageId: record?.messageId,
      receiptHandle: record?.messageId,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: record?.attributes.SentTimestamp,
        SenderId: 'whetstone-local',
        ApproximateFirstReceiveTimestamp: record?.attributes.ApproximateFirstReceiveTimestamp,
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:whetstone-local-webhook-deliveries',
      awsRegion: 'us-east-1',
    });
    expect(record?.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThanOrEqual(sentAt);
  });

  it('hands a failed record over again after the visibility timeout, with its receive count', async () => {
    // Prepare
    const receiveCounts: string[] = [];
    queue = new LocalDeliveryQueue(
      async (event): Promise<SQSBatchResponse> => {
        const record = event.Records[0];
        receiveCounts.push(record?.attributes.ApproximateReceiveCount ?? '');
        return {
          batchItemFailures: receiveCounts.length < 3 ? [{ itemIdentifier: record?.messageId ?? '' }] : [],
        };
      },
      { visibilityTimeoutSeconds: 0.05, log: () => undefined },
    );

    // Act
    await queue.enqueue(message, 0);
    await queue.idle();

    // Assess
    expect(receiveCounts).toEqual(['1', '2', '3']);
  });

  it('drops a message that keeps failing after maxReceiveCount receives, and says so', async () => {
    // Prepare
    let calls = 0;
    const lines: string[] = [];
    queue = new LocalDeliveryQueue(
      async () => {
        calls += 1;
        throw new Error('table unavailable');
      },
      { visibilityTimeoutSeconds: 0.01, maxReceiveCount: 3, log: (line) => lines.push(line) },
    );

    // Act
    await queue.enqueue(message, 0);
    await queue.idle();

    // Assess
    expect(calls).toBe(3);
    expect(lines.at(-1)).toBe(`dropping webhook delivery message ${body} after 3 receives`);
    expect(lines.filter((line) => line.endsWith('failed: Error: table unavailable'))).toHaveLength(3);
  });

  it('counts a message the consumer queues while running as still waiting', async () => {
    // Prepare
    const seen: string[] = [];
    const chained = new LocalDeliveryQueue(async (event) => {
      const record = event.Records[0];
      seen.push(record?.body ?? '');
      if (seen.length === 1) await chained.enqueue({ ...message, deliveryId: 'second' }, 0.05);
      return { batchItemFailures: [] };
    });
    queue = chained;

    // Act
    await chained.enqueue(message, 0);
    await chained.idle();

    // Assess
    expect(seen).toEqual([body, '{"team":"research","deliveryId":"second"}']);
  });

  it('forgets waiting messages at shutdown and refuses new ones', async () => {
    // Prepare
    let calls = 0;
    queue = new LocalDeliveryQueue(async () => {
      calls += 1;
      return { batchItemFailures: [] };
    });
    await queue.enqueue(message, 0.05);

    // Act
    await queue.shutdown();
    await queue.idle();
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Assess
    expect(calls).toBe(0);
    await expect(queue.enqueue(message, 0)).rejects.toThrow('the local delivery queue is shut down');
  });
});

describe('UnavailableDeliveryQueue', () => {
  it('fails every enqueue with the reason it was given', async () => {
    // Prepare
    const queue = new UnavailableDeliveryQueue(() => new Error('WHETSTONE_WEBHOOK_QUEUE_URL is not set'));

    // Act
    const enqueue = queue.enqueue(message, 0);

    // Assess
    await expect(enqueue).rejects.toThrow('WHETSTONE_WEBHOOK_QUEUE_URL is not set');
  });
});
