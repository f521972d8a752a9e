import { Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as batch from 'aws-cdk-lib/aws-batch';
import type { Construct } from 'constructs';
import type { GpuType } from '../../core/schemas';
import type { WhetstoneConfig } from '../config';
import { AlarmTopic } from '../constructs/alarm-topic';
import { BatchEventForwarding } from '../constructs/batch-event-forwarding';
import { ComputeRegion } from '../constructs/compute';
import { DeploymentNames } from '../names';

export interface ComputeStackProps extends StackProps {
  readonly config: WhetstoneConfig;
  /** The compute region this stack serves; it must be a key of `config.compute.regions`. */
  readonly region: string;
  /** Default the configuration's names. */
  readonly names?: DeploymentNames;
}

/**
 * One compute region: its network, the trainer image and job definitions, and the Batch compute
 * environments and queues of `config.compute.regions[region]`. Outside the control region it
 * also forwards its Batch events to the control region's default bus, with its own dead-letter
 * alarm and alarm topic (alarm actions must stay in the alarm's region). It references nothing
 * of another stack: the table, bucket, key and bus are named by their deterministic ARNs.
 */
export class ComputeStack extends Stack {
  readonly compute: ComputeRegion;
  /** By the launcher's key, `{gpuType}:{market}`. */
  readonly jobQueues: Readonly<Record<string, batch.JobQueue>>;
  readonly jobDefinitions: Readonly<Partial<Record<GpuType, batch.EcsJobDefinition>>>;
  /** Only outside the control region. */
  readonly forwarding?: BatchEventForwarding;
  /** Only outside the control region; in it, the API stack's alarms have their own topic. */
  readonly alarmTopic?: AlarmTopic;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, {
      ...props,
      env: { account: props.config.account, region: props.region, ...props.env },
    });
    const { config, region } = props;
    const names = props.names ?? new DeploymentNames(config);
    const regionConfig = config.compute.regions[region];
    if (!regionConfig) throw new Error(`compute.regions has no '${region}' for the stack ${id}`);

    this.compute = new ComputeRegion(this, 'Compute', {
      queues: regionConfig.queues,
      controlRegion: config.controlRegion,
      tableArn: names.tableArn,
      bucketArn: names.dataBucketArn,
      jobQueueName: (gpuType, market) => names.jobQueue(gpuType, market),
      jobDefinitionName: (gpuType) => names.jobDefinition(gpuType),
      logRetentionDays: config.logRetentionDays,
      stuckRunnableMinutes: config.compute.stuckRunnableMinutes,
      attemptTimeout: Duration.hours(config.compute.attemptTimeoutHours),
      registryScanning: config.compute.registryScanning,
    });
    this.jobQueues = this.compute.jobQueues;
    this.jobDefinitions = this.compute.jobDefinitions;

    if (region !== config.controlRegion) {
      this.alarmTopic = new AlarmTopic(this, 'Alarms', { email: config.alarms.email });
      this.forwarding = new BatchEventForwarding(this, 'ForwardBatchEvents', {
        jobQueueArns: regionConfig.queues.flatMap((queue) =>
          queue.markets.map((market) => names.jobQueueArn(region, queue.gpuType, market)),
        ),
        targetBusArn: names.controlDefaultBusArn,
        alarmTopic: this.alarmTopic.topic,
      });
    }
  }

  /**
   * Always the region's first two zones as `Fn::GetAZs` picks them at deploy, even with the
   * account pinned: the default would then look the zones up at synth, which needs credentials.
   */
  override get availabilityZones(): string[] {
    return [0, 1].map((index) => Fn.select(index, Fn.getAzs()));
  }
}
