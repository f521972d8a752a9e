import { Aws } from 'aws-cdk-lib';
import type { GpuType, Market } from '../core/schemas';
import type { WhetstoneConfig } from './config';

/**
 * Physical names and ARNs every stack agrees on. They are derived from the configuration, not
 * passed between stacks, so a compute stack in another region never needs a cross-region reference.
 */
export class DeploymentNames {
  constructor(private readonly config: Pick<WhetstoneConfig, 'deploymentName' | 'controlRegion'>) {}

  /** `Whetstone` for `whetstone`, `MlPlatform` for `ml-platform`: the stacks' name prefix. */
  get stackPrefix(): string {
    return this.config.deploymentName
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('');
  }

  get table(): string {
    return this.config.deploymentName;
  }

  /** Bucket names are global: the account and region make this one unique. */
  get dataBucket(): string {
    return `${this.config.deploymentName}-data-${Aws.ACCOUNT_ID}-${this.config.controlRegion}`;
  }

  get dataBucketArn(): string {
    return `arn:${Aws.PARTITION}:s3:::${this.dataBucket}`;
  }

  get tableArn(): string {
    return `arn:${Aws.PARTITION}:dynamodb:${this.config.controlRegion}:${Aws.ACCOUNT_ID}:table/${this.table}`;
  }

  /** The bus job notifications are published on (`WHETSTONE_EVENT_BUS`). */
  get notificationBus(): string {
    return `${this.config.deploymentName}-notifications`;
  }

  get dashboard(): string {
    return this.stackPrefix;
  }

  /** The deployment-wide AWS Budgets cost budget; unique in the account, as Budgets requires. */
  get spendBudget(): string {
    return `${this.config.deploymentName}-monthly-spend`;
  }

  /** The control region's default bus, where Batch events from every compute region end up. */
  get controlDefaultBusArn(): string {
    return `arn:${Aws.PARTITION}:events:${this.config.controlRegion}:${Aws.ACCOUNT_ID}:event-bus/default`;
  }

  /** The launcher's key for a queue: `{gpu_type}:{market}`. */
  queueKey(gpuType: GpuType, market: Market): string {
    return `${gpuType}:${market}`;
  }

  jobQueue(gpuType: GpuType, market: Market): string {
    return `${this.config.deploymentName}-${gpuType}-${market}`;
  }

  jobQueueArn(region: string, gpuType: GpuType, market: Market): string {
    return `arn:${Aws.PARTITION}:batch:${region}:${Aws.ACCOUNT_ID}:job-queue/${this.jobQueue(gpuType, market)}`;
  }

  /** Every Batch job of a region: job ids are made by SubmitJob. */
  computeJobsArn(region: string): string {
    return `arn:${Aws.PARTITION}:batch:${region}:${Aws.ACCOUNT_ID}:job/*`;
  }

  jobDefinition(gpuType: GpuType): string {
    return `${this.config.deploymentName}-trainer-${gpuType}`;
  }

  /** Without a revision: SubmitJob then runs the latest active one. */
  jobDefinitionArn(region: string, gpuType: GpuType): string {
    return `arn:${Aws.PARTITION}:batch:${region}:${Aws.ACCOUNT_ID}:job-definition/${this.jobDefinition(gpuType)}`;
  }
}
