import { createHash, randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';

/** What waits in the queue: which delivery to attempt; the delivery record holds the rest. */
export const deliveryMessageSchema = z.strictObject({
  team: z.string().min(1),
  deliveryId: z.string().min(1),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** Holds a delivery until its next attempt is due, then hands it to the deliverer. */
export interface DeliveryQueue {
  /** `delaySeconds` may exceed what the queue can hold; the message then arrives early and the deliverer re-enqueues it. */
  enqueue(message: DeliveryMessage, delaySeconds: number): Promise<void>;
}

/** SQS holds a message back at most 15 minutes. */
export const SQS_MAX_DELAY_SECONDS = 900;

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(message: DeliveryMessage, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        // Whole seconds, rounded up, so a message never arrives before its attempt is due.
        DelaySeconds: Math.min(SQS_MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
      }),
    );
  }
}

/**
 * Stands in where deliveries cannot be queued (AWS without a queue configured): nothing fails
 * until a delivery is due, and then every enqueue fails with the reason.
 */
export class UnavailableDeliveryQueue implements DeliveryQueue {
  constructor(private readonly reason: () => Error) {}

  async enqueue(_message: DeliveryMessage, _delaySeconds: number): Promise<void> {
    throw this.reason();
  }
}

/** The deliverer, as SQS invokes it in AWS. */
export type SqsConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export interface LocalDeliveryQueueOptions {
  /** How long a message the consumer failed stays hidden before it is handed over again, as SQS's visibility timeout. */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a message that keeps failing is dropped, as a redrive policy's `maxReceiveCount`. */
  readonly maxReceiveCount?: number;
  readonly log?: (line: string) => void;
}

/**
 * SQS for one process: each message waits on a timer, then goes to the consumer in an event of
 * SQS's shape, one record per event. A record the consumer reports failed (or a throw) is
 * handed over again after the visibility timeout, up to `maxReceiveCount` receives. Messages
 * live in memory only: a stopped process forgets them, and their deliveries stay `pending`.
 */
export class LocalDeliveryQueue implements DeliveryQueue {
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private readonly visibilityTimeoutSeconds: number;
  private readonly maxReceiveCount: number;
  private readonly log: (line: string) => void;

  constructor(
    private readonly consumer: SqsConsumer,
    options: LocalDeliveryQueueOptions = {},
  ) {
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.log = options.log ?? ((line) => console.warn(line));
  }

  async enqueue(message: DeliveryMessage, delaySeconds: number): Promise<void> {
    if (this.closed) throw new Error('the local delivery queue is shut down');
    const sentAt = Date.now();
    this.schedule(
      { messageId: randomUUID(), body: JSON.stringify(message), sentAt, receiveCount: 0 },
      delaySeconds,
    );
  }

  /** Resolves once no message waits and the consumer is not running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Forgets every waiting message; later enqueues are refused. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.settleIfIdle();
  }

  private schedule(message: QueuedMessage, delaySeconds: number): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.running += 1;
        void this.receive(message).finally(() => {
          this.running -= 1;
          this.settleIfIdle();
        });
      },
      Math.max(0, delaySeconds * 1000),
    );
    // A waiting delivery never keeps the process alive on its own.
    timer.unref();
    this.timers.add(timer);
  }

  private async receive(message: QueuedMessage): Promise<void> {
    const received = { ...message, receiveCount: message.receiveCount + 1 };
    let failed: boolean;
    try {
      const response = await this.consumer({ Records: [sqsRecord(received)] });
      failed = (response?.batchItemFailures ?? []).some((item) => item.itemIdentifier === message.messageId);
    } catch (error) {
      this.log(`webhook delivery message ${message.messageId} failed: ${String(error)}`);
      failed = true;
    }
    if (!failed || this.closed) return;
    if (received.receiveCount >= this.maxReceiveCount) {
      this.log(`dropping webhook delivery message ${message.body} after ${received.receiveCount} receives`);
      return;
    }
    this.schedule(received, this.visibilityTimeoutSeconds);
  }

  private isIdle(): boolean {
    return this.timers.size === 0 && this.running === 0;
  }

  private settleIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  readonly receiveCount: number;
}

function sqsRecord(message: QueuedMessage): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.messageId,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'whetstone-local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:whetstone-local-webhook-deliveries',
    awsRegion: 'us-east-1',
  };
}
