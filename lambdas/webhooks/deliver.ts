import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliveryMessageSchema } from '../../lib/adapters';
import * as dependencies from '../runtime/dependencies';
import { attemptDelivery } from './delivery';

/**
 * The webhook deliverer: SQS invokes it in AWS (with `ReportBatchItemFailures`), the local
 * delivery queue in process. A record whose attempt could not be recorded (the table failed) is
 * reported failed, so the queue hands it over again; a malformed record is dropped, since no
 * retry would mend it.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: SQSBatchItemFailure[] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      const message = parseMessage(record.body);
      if (!message) {
        console.error(`dropping malformed webhook delivery message ${record.messageId}: ${record.body}`);
        return;
      }
      try {
        await attemptDelivery(dependencies, message);
      } catch (error) {
        console.error(`webhook delivery ${message.deliveryId} of team ${message.team} failed`, error);
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}

function parseMessage(body: string) {
  try {
    const parsed = deliveryMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
