import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../lambdas/runtime/config';
import { createDeliveryQueue, createEventPublisher } from '../../../lambdas/webhooks/wiring';
import {
  EventBridgePublisher,
  LocalDeliveryQueue,
  NoEventPublisher,
  SqsDeliveryQueue,
  UnavailableDeliveryQueue,
} from '../../../lib/adapters';

const webhooks = {
  queueUrl: undefined,
  eventBusName: undefined,
  retryBaseSeconds: 10,
  maxAttempts: 6,
  allowPrivateDestinations: false,
};
const consumer = async () => ({ batchItemFailures: [] });

describe('webhook wiring', () => {
  it('queues deliveries in SQS wherever a queue is configured', () => {
    // Act
    const queue = createDeliveryQueue(
      { environment: 'aws', webhooks: { ...webhooks, queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q' } },
      consumer,
    );

    // Assess
    expect(queue).toBeInstanceOf(SqsDeliveryQueue);
  });

  it('queues deliveries in process locally', async () => {
    // Act
    const queue = createDeliveryQueue({ environment: 'local', webhooks }, consumer);

    // Assess
    expect(queue).toBeInstanceOf(LocalDeliveryQueue);
    await (queue as LocalDeliveryQueue).shutdown();
  });

  it('in AWS without a queue, fails the first delivery with a ConfigurationError naming the variable', async () => {
    // Prepare
    const queue = createDeliveryQueue({ environment: 'aws', webhooks }, consumer);

    // Act
    const enqueue = queue.enqueue({ team: 'research', deliveryId: 'whdel_1' }, 0);

    // Assess
    expect(queue).toBeInstanceOf(UnavailableDeliveryQueue);
    await expect(enqueue).rejects.toBeInstanceOf(ConfigurationError);
    await expect(queue.enqueue({ team: 'research', deliveryId: 'whdel_1' }, 0)).rejects.toThrow(
      'WHETSTONE_WEBHOOK_QUEUE_URL is not set, so webhook deliveries cannot be queued in AWS',
    );
  });

  it('publishes to EventBridge only when a bus is configured', () => {
    // Act
    const withBus = createEventPublisher({ webhooks: { ...webhooks, eventBusName: 'whetstone-jobs' } });
    const withoutBus = createEventPublisher({ webhooks });

    // Assess
    expect(withBus).toBeInstanceOf(EventBridgePublisher);
    expect(withoutBus).toBeInstanceOf(NoEventPublisher);
  });
});
