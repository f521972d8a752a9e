import { Duration, Tags } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { GpuType, Market } from '../../core/schemas';

export interface BatchQueuesProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The instances' role (the ECS agent's); shared by every compute environment of the stack. */
  readonly instanceRole: iam.IRole;
  /** Picks the NVIDIA ECS image for GPU types. */
  readonly gpuType: GpuType;
  /** `spot` adds a spot compute environment and a spot-first queue; `on-demand` an on-demand-only queue. */
  readonly markets: readonly Market[];
  /** EC2 instance types, used as given (never Batch's `optimal`). */
  readonly instanceTypes: readonly string[];
  /** Each compute environment's vCPU ceiling. */
  readonly maxVcpus: number;
  /** Root volume size; it holds the image, the base model, the data and checkpoints. */
  readonly rootVolumeGiB: number;
  /** Physical name of each market's queue. */
  readonly queueName: (market: Market) => string;
  /** A job RUNNABLE this long for want of capacity or a fitting instance is cancelled; default 60. */
  readonly stuckRunnableMinutes?: number;
}

/**
 * One gpuType's compute in one region: a launch template, an on-demand compute environment
 * (BEST_FIT_PROGRESSIVE), a spot one (SPOT_PRICE_CAPACITY_OPTIMIZED) when the spot market is
 * asked for, and a queue per market. The spot queue tries the spot environment first and the
 * on-demand one second; Batch moves to the second only when the first cannot take a job (at its
 * vCPU ceiling), so a spot capacity shortage ends in the RUNNABLE time limit instead.
 */
export class BatchQueues extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly onDemandEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  readonly spotEnvironment?: batch.ManagedEc2EcsComputeEnvironment;
  readonly queues: Partial<Record<Market, batch.JobQueue>> = {};

  constructor(scope: Construct, id: string, props: BatchQueuesProps) {
    super(scope, id);
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      httpEndpoint: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      // 2, not 1: the trainer reads instance metadata (type, market, region) from inside a
      // bridge-networked container, one hop beyond the instance.
      httpPutResponseHopLimit: 2,
      // No machine image and so no user data: Batch picks the ECS image from `images` below and
      // would refuse user data that is not MIME multi-part.
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const environment = (id: string, market: Market) => {
      const spot = market === 'spot';
      const ce = new batch.ManagedEc2EcsComputeEnvironment(this, id, {
        vpc: props.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
        securityGroups: [props.securityGroup],
        instanceRole: props.instanceRole,
        spot,
        allocationStrategy: spot
          ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
          : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
        instanceTypes: props.instanceTypes.map((type) => new ec2.InstanceType(type)),
        // Deprecated, but the only way to keep Batch's `optimal` (which may pick other families,
        // GPU-less for a GPU queue) out of the instance types.
        useOptimalInstanceClasses: false,
        images: [
          {
            imageType:
              props.gpuType === 'none'
                ? batch.EcsMachineImageType.ECS_AL2023
                : batch.EcsMachineImageType.ECS_AL2023_NVIDIA,
          },
        ],
        launchTemplate: this.launchTemplate,
        minvCpus: 0,
        maxvCpus: props.maxVcpus,
      });
      // Pinning the version makes a launch template change an update of the environment, which
      // replaces its instances, instead of a change Batch never sees.
      (ce.node.defaultChild as batch.CfnComputeEnvironment).addPropertyOverride(
        'ComputeResources.LaunchTemplate.Version',
        this.launchTemplate.latestVersionNumber,
      );
      // Rendered into ComputeResources.Tags: they land on the instances, for cost allocation.
      Tags.of(ce).add('whetstone:gpu-type', props.gpuType);
      Tags.of(ce).add('whetstone:market', market);
      return ce;
    };

    this.onDemandEnvironment = environment('OnDemand', 'on-demand');
    if (props.markets.includes('spot')) this.spotEnvironment = environment('Spot', 'spot');

    const stuckAfter = Duration.minutes(props.stuckRunnableMinutes ?? 60);
    const stuckReasons = [
      batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
      batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
      batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
    ];
    for (const market of props.markets) {
      const order =
        market === 'spot' && this.spotEnvironment
          ? [this.spotEnvironment, this.onDemandEnvironment]
          : [this.onDemandEnvironment];
      this.queues[market] = new batch.JobQueue(this, market === 'spot' ? 'SpotQueue' : 'OnDemandQueue', {
        jobQueueName: props.queueName(market),
        priority: 1,
        computeEnvironments: order.map((computeEnvironment, index) => ({
          computeEnvironment,
          order: index + 1,
        })),
        jobStateTimeLimitActions: stuckReasons.map((reason) => ({
          action: batch.JobStateTimeLimitActionsAction.CANCEL,
          maxTime: stuckAfter,
          reason,
          state: batch.JobStateTimeLimitActionsState.RUNNABLE,
        })),
      });
    }
  }
}
