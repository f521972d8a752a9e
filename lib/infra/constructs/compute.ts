import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as batch from 'aws-cdk-lib/aws-batch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { GpuType, Market } from '../../core/schemas';
import { acknowledge } from '../acknowledge';
import { type QueueConfig, trainerResources } from '../compute-config';
import { BatchQueues } from './batch-queues';
import { ComputeNetwork } from './compute-network';
import { TrainerJobDefinition, TrainerJobRole } from './trainer-job';

/** The repository root: the trainer image's build context (trainer/Dockerfile copies from it). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

export interface ComputeRegionProps {
  /** The region's queue kinds, one per gpuType. */
  readonly queues: readonly QueueConfig[];
  /** Where the table, bucket and key live; the trainer's AWS clients are pointed there. */
  readonly controlRegion: string;
  /** The control region's table, which the trainer writes its records to. */
  readonly tableArn: string;
  /** The control region's data bucket. */
  readonly bucketArn: string;
  /** Physical name of a queue. */
  readonly jobQueueName: (gpuType: GpuType, market: Market) => string;
  /** Physical name of a gpuType's job definition. */
  readonly jobDefinitionName: (gpuType: GpuType) => string;
  /** Days the trainer's and the flow logs' log groups keep events; default 30. */
  readonly logRetentionDays?: number;
  /** A job RUNNABLE this long without capacity is cancelled; default 60 minutes. */
  readonly stuckRunnableMinutes?: number;
  /** One attempt's wall-clock limit; default 24 hours. */
  readonly attemptTimeout?: Duration;
  /**
   * Turn on scan-on-push for the CDK asset repositories. The registry's scanning configuration is
   * one per region and account, and this replaces whatever is there; default true.
   */
  readonly registryScanning?: boolean;
  /** The trainer image's build context; default the repository root. */
  readonly imageDirectory?: string;
}

/**
 * A region's training compute: the network, the trainer image (built from trainer/Dockerfile at
 * deploy and pushed to the region's CDK asset repository), one job definition per gpuType, and
 * per gpuType its compute environments and queues, all sharing one instance role, one execution
 * role and the trainer's job role.
 */
export class ComputeRegion extends Construct {
  readonly network: ComputeNetwork;
  readonly image: DockerImageAsset;
  /** The ECS agent's role on every instance. */
  readonly instanceRole: iam.Role;
  /** Pulls the image and writes the logs for every job definition. */
  readonly executionRole: iam.Role;
  readonly jobRole: TrainerJobRole;
  readonly jobLogGroup: logs.LogGroup;
  readonly queueCompute: Partial<Record<GpuType, BatchQueues>> = {};
  readonly jobDefinitions: Partial<Record<GpuType, batch.EcsJobDefinition>> = {};
  /** By the launcher's key, `{gpuType}:{market}`. */
  readonly jobQueues: Readonly<Record<string, batch.JobQueue>>;
  readonly registryScanning?: ecr.CfnRegistryScanningConfiguration;

  constructor(scope: Construct, id: string, props: ComputeRegionProps) {
    super(scope, id);
    const retention = (props.logRetentionDays ?? 30) as logs.RetentionDays;
    this.network = new ComputeNetwork(this, 'Network', { logRetentionDays: props.logRetentionDays });

    this.image = new DockerImageAsset(this, 'TrainerImage', {
      directory: props.imageDirectory ?? REPO_ROOT,
      file: 'trainer/Dockerfile',
      platform: Platform.LINUX_AMD64,
    });
    if (props.registryScanning ?? true) {
      this.registryScanning = new ecr.CfnRegistryScanningConfiguration(this, 'RegistryScanning', {
        scanType: 'BASIC',
        rules: [
          {
            scanFrequency: 'SCAN_ON_PUSH',
            repositoryFilters: [{ filter: 'cdk-*-container-assets-*', filterType: 'WILDCARD' }],
          },
        ],
      });
    }

    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Whetstone trainer instances: the ECS agent',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role'),
      ],
    });
    acknowledge(
      this.instanceRole,
      'AwsSolutions-IAM4',
      "The ECS agent's AWS-maintained policy, which Batch's ECS instances need to register and pull images; " +
        'AWS keeps it current with the agent, and a copy would hold the same unscopable actions on *.',
      'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role',
    );

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Whetstone trainer jobs: pull the image, write the logs',
    });
    acknowledge(
      this.executionRole,
      'AwsSolutions-IAM5',
      'ecr:GetAuthorizationToken takes no resource (IAM accepts only *); the image pull actions ' +
        'themselves are limited to the asset repository.',
      'Resource::*',
    );

    this.jobRole = new TrainerJobRole(this, 'JobRole', {
      tableArn: props.tableArn,
      bucketArn: props.bucketArn,
      controlRegion: props.controlRegion,
    });
    this.jobLogGroup = new logs.LogGroup(this, 'JobLogs', { retention });
    const image = ecs.ContainerImage.fromDockerImageAsset(this.image);
    const jobQueues: Record<string, batch.JobQueue> = {};
    for (const queue of props.queues) {
      const { gpuType } = queue;
      const resources = trainerResources(queue);
      this.jobDefinitions[gpuType] = new TrainerJobDefinition(this, `Trainer-${gpuType}`, {
        jobDefinitionName: props.jobDefinitionName(gpuType),
        image,
        jobRole: this.jobRole.role,
        executionRole: this.executionRole,
        logGroup: this.jobLogGroup,
        vcpus: resources.vcpus,
        memoryMiB: resources.memoryMiB,
        gpus: resources.gpus,
        environment: {
          WHETSTONE_ENV: 'aws',
          // The table and bucket are in the control region whichever region the job runs in.
          AWS_REGION: props.controlRegion,
          AWS_DEFAULT_REGION: props.controlRegion,
          // On the instance's encrypted root volume, sized by rootVolumeGiB.
          WHETSTONE_WORK_DIR: '/tmp',
        },
        attemptTimeout: props.attemptTimeout ?? Duration.hours(24),
      }).jobDefinition;

      const compute = new BatchQueues(this, `Queues-${gpuType}`, {
        vpc: this.network.vpc,
        securityGroup: this.network.securityGroup,
        instanceRole: this.instanceRole,
        gpuType,
        markets: queue.markets,
        instanceTypes: queue.instanceTypes,
        maxVcpus: queue.maxVcpus,
        rootVolumeGiB: queue.rootVolumeGiB,
        queueName: (market) => props.jobQueueName(gpuType, market),
        stuckRunnableMinutes: props.stuckRunnableMinutes,
      });
      this.queueCompute[gpuType] = compute;
      for (const [market, jobQueue] of Object.entries(compute.queues)) {
        jobQueues[`${gpuType}:${market}`] = jobQueue;
      }
    }
    this.jobQueues = jobQueues;
  }
}
