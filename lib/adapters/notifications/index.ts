export {
  type DeliveryMessage,
  type DeliveryQueue,
  deliveryMessageSchema,
  LocalDeliveryQueue,
  type LocalDeliveryQueueOptions,
  SQS_MAX_DELAY_SECONDS,
  type SqsConsumer,
  SqsDeliveryQueue,
  UnavailableDeliveryQueue,
} from './delivery-queue';
export { EVENT_SOURCE, EventBridgePublisher, type EventPublisher, NoEventPublisher } from './event-publisher';
