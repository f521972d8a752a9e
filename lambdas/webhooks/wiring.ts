import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  type DeliveryQueue,
  EventBridgePublisher,
  type EventPublisher,
  LocalDeliveryQueue,
  NoEventPublisher,
  type SqsConsumer,
  SqsDeliveryQueue,
  UnavailableDeliveryQueue,
} from '../../lib/adapters';
import { ConfigurationError, type RuntimeConfig } from '../runtime/config';

/**
 * SQS when a queue is configured; in process locally. In AWS without a queue every handler still
 * starts (most never deliver), and the first delivery fails loudly, naming the variable: the
 * delivery is logged `failed` with that reason and `notifyJobStatus` throws the error.
 */
export function createDeliveryQueue(
  config: Pick<RuntimeConfig, 'environment' | 'webhooks'>,
  localConsumer: SqsConsumer,
): DeliveryQueue {
  const { queueUrl } = config.webhooks;
  if (queueUrl) return new SqsDeliveryQueue(new SQSClient({}), queueUrl);
  if (config.environment === 'aws') {
    return new UnavailableDeliveryQueue(
      () =>
        new ConfigurationError(
          'WHETSTONE_WEBHOOK_QUEUE_URL',
          'is not set, so webhook deliveries cannot be queued in AWS',
        ),
    );
  }
  return new LocalDeliveryQueue(localConsumer);
}

/** EventBridge when a bus is configured; otherwise the teams' endpoints are the only audience. */
export function createEventPublisher(config: Pick<RuntimeConfig, 'webhooks'>): EventPublisher {
  const { eventBusName } = config.webhooks;
  return eventBusName
    ? new EventBridgePublisher(new EventBridgeClient({}), eventBusName)
    : new NoEventPublisher();
}
