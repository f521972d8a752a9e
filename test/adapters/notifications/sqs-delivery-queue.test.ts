import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqsDeliveryQueue } from '../../../lib/adapters';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/whetstone-webhook-deliveries';

describe('SqsDeliveryQueue', () => {
  const sqs = mockClient(SQSClient);
  let queue: SqsDeliveryQueue;

  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'message-1' });
    queue = new SqsDeliveryQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);
  });
  afterEach(() => sqs.reset());

  it('sends the message as JSON to the queue, due at once', async () => {
    // Act
    await queue.enqueue({ team: 'research', deliveryId: 'whdel_01J0000000000000000000000A' }, 0);

    // Assess
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      {
        QueueUrl: QUEUE_URL,
        MessageBody: '{"team":"research","deliveryId":"whdel_01J0000000000000000000000A"}',
        DelaySeconds: 0,
      },
    ]);
  });

  it('rounds a fractional delay up to whole seconds, so a message never comes early', async () => {
    // Act
    await queue.enqueue({ team: 'research', deliveryId: 'whdel_01J0000000000000000000000A' }, 0.2);
    await queue.enqueue({ team: 'research', deliveryId: 'whdel_01J0000000000000000000000A' }, 50);

    // Assess
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.DelaySeconds)).toEqual([
      1, 50,
    ]);
  });

  it("caps the delay at SQS's 900 seconds; the deliverer queues the rest again", async () => {
    // Act
    await queue.enqueue({ team: 'research', deliveryId: 'whdel_01J0000000000000000000000A' }, 6250);

    // Assess
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: '{"team":"research","deliveryId":"whdel_01J0000000000000000000000A"}',
      DelaySeconds: 900,
    });
  });

  it('fails when SQS refuses the message', async () => {
    // Prepare
    sqs.on(SendMessageCommand).rejects(new Error('AWS.SimpleQueueService.NonExistentQueue'));

    // Act
    const enqueue = queue.enqueue({ team: 'research', deliveryId: 'whdel_01J0000000000000000000000A' }, 0);

    // Assess
    await expect(enqueue).rejects.toThrow('AWS.SimpleQueueService.NonExistentQueue');
  });
});
