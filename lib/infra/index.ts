export { buildApp, type WhetstoneApp } from './app';
export {
  type ComputeConfig,
  type QueueConfig,
  type QueueKind,
  queueKinds,
  type TrainerResources,
  trainerResources,
} from './compute-config';
export {
  LOG_RETENTION_DAYS,
  loadWhetstoneConfig,
  parseWhetstoneConfig,
  type WhetstoneConfig,
  type WhetstoneConfigInput,
  whetstoneConfigSchema,
} from './config';
export { AlarmTopic, type AlarmTopicProps } from './constructs/alarm-topic';
export { BatchEventForwarding, type BatchEventForwardingProps } from './constructs/batch-event-forwarding';
export { BatchQueues, type BatchQueuesProps } from './constructs/batch-queues';
export { ComputeRegion, type ComputeRegionProps } from './constructs/compute';
export { ComputeNetwork, type ComputeNetworkProps } from './constructs/compute-network';
export { DeadLetterQueue, type DeadLetterQueueProps } from './constructs/dead-letter-queue';
export { JobEvents, type JobEventsProps } from './constructs/job-events';
export { Observability, type ObservabilityAlarms, type ObservabilityProps } from './constructs/observability';
export { SpendBudget, type SpendBudgetProps } from './constructs/spend-budget';
export { DataStorage, type DataStorageProps } from './constructs/storage';
export { PlatformTable, type PlatformTableProps } from './constructs/table';
export {
  TrainerJobDefinition,
  type TrainerJobDefinitionProps,
  TrainerJobRole,
  type TrainerJobRoleProps,
} from './constructs/trainer-job';
export { WebhookDelivery, type WebhookDeliveryProps } from './constructs/webhook-delivery';
export { InfraConfigError } from './errors';
export { GPU_FAMILIES, type InstanceSize, instanceSize } from './instance-types';
export { ComputeStack, type ComputeStackProps } from './stacks/compute-stack';
export { PlatformStack, type PlatformStackProps } from './stacks/platform-stack';
