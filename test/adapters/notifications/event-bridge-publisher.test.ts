import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher, NoEventPublisher } from '../../../lib/adapters';
import type { WebhookEvent } from '../../../lib/core/schemas';

const event: WebhookEvent = {
  id: 'evt_01J00000000000000000000000',
  object: 'event',
  created_at: 1_750_000_000,
  type: 'fine_tuning.job.succeeded',
  data: { id: 'ftjob-01J00000000000000000000000' },
};

describe('EventBridgePublisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  let publisher: EventBridgePublisher;

  beforeEach(() => {
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'whetstone-jobs');
  });
  afterEach(() => eventBridge.reset());

  it('puts the event on the bus, source whetstone, detail-type its type, the team in the detail', async () => {
    // Act
    await publisher.publish('research', event);

    // Assess
    expect(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input)).toEqual([
      {
        Entries: [
          {
            Source: 'whetstone',
            DetailType: 'fine_tuning.job.succeeded',
            Detail:
              '{"id":"evt_01J00000000000000000000000","object":"event","created_at":1750000000,' +
              '"type":"fine_tuning.job.succeeded","data":{"id":"ftjob-01J00000000000000000000000"},' +
              '"team":"research"}',
            EventBusName: 'whetstone-jobs',
            Time: new Date(1_750_000_000_000),
          },
        ],
      },
    ]);
  });

  it('fails when EventBridge rejects the entry, though the call itself succeeded', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });

    // Act
    const publish = publisher.publish('research', event);

    // Assess
    await expect(publish).rejects.toThrow(
      'EventBridge refused event evt_01J00000000000000000000000 on bus whetstone-jobs: InternalFailure try again',
    );
  });
});

describe('NoEventPublisher', () => {
  it('accepts every event and sends nothing', async () => {
    // Act
    const publish = new NoEventPublisher().publish('research', event);

    // Assess
    await expect(publish).resolves.toBeUndefined();
  });
});
