import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { WebhookEvent } from '../../core/schemas';

/** EventBridge's `source` of every event Whetstone puts on a bus. */
export const EVENT_SOURCE = 'whetstone';

/** Announces job notifications beyond the teams' own endpoints. */
export interface EventPublisher {
  publish(team: string, event: WebhookEvent): Promise<void>;
}

/**
 * Puts each event on an EventBridge bus, detail-type the event's type. The detail is the event
 * as endpoints receive it with the team beside it: on a shared bus the job id alone does not say
 * whose job it is.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publish(team: string, event: WebhookEvent): Promise<void> {
    const output = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: EVENT_SOURCE,
            DetailType: event.type,
            Detail: JSON.stringify({ ...event, team }),
            EventBusName: this.eventBusName,
            Time: new Date(event.created_at * 1000),
          },
        ],
      }),
    );
    // PutEvents answers 200 even when it rejects an entry; the failure is in the entry.
    const entry = output.Entries?.[0];
    if ((output.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
      throw new Error(
        `EventBridge refused event ${event.id} on bus ${this.eventBusName}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
  }
}

/** For where there is no bus (locally): the endpoints are the only audience. */
export class NoEventPublisher implements EventPublisher {
  async publish(_team: string, _event: WebhookEvent): Promise<void> {}
}
