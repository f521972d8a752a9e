import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { batchRetryStrategy } from '../../lib/adapters/launchers/batch-launcher';
import { parseWhetstoneConfig, type WhetstoneConfig, type WhetstoneConfigInput } from '../../lib/infra';
import { DeploymentNames } from '../../lib/infra/names';
import { ComputeStack } from '../../lib/infra/stacks/compute-stack';
import twoRegionsJson from './fixtures/two-regions.json';
import { type Synthesized, synthesize } from './helpers';

/** JSON imports widen the enums' literals to string. */
const twoRegions = twoRegionsJson as unknown as WhetstoneConfigInput & { compute: object };

type Resource = { Type: string; Properties: Record<string, unknown> };

/** `{ 'Fn::Join': ['', parts] }` as CloudFormation renders a string built from tokens. */
function joined(...parts: unknown[]): unknown {
  return { 'Fn::Join': ['', parts] };
}
const PARTITION = { Ref: 'AWS::Partition' };
const ACCOUNT = { Ref: 'AWS::AccountId' };

/** The policy statements attached to the role with logical id `roleId`. */
function statementsOf(template: Template, roleId: string): Record<string, unknown>[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties.Roles as unknown[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
}

function logicalIdOf(template: Template, type: string, props: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  expect(found, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
  return found[0] as string;
}

describe('the compute stacks of a two-region deployment', () => {
  const config = parseWhetstoneConfig(twoRegions);
  const names = new DeploymentNames(config);
  let synthesized: Synthesized;
  let east: Template;
  let west: Template;

  beforeAll(() => {
    // Synthesizing runs both cdk-nag packs: an unacknowledged finding anywhere throws here.
    synthesized = synthesize(twoRegions);
    const [eastStack, westStack] = synthesized.built.compute;
    east = synthesized.template(eastStack as ComputeStack);
    west = synthesized.template(westStack as ComputeStack);
  }, 240_000);

  it('makes one stack per compute region, in that region, needing no context lookup', () => {
    // Assess
    const stacks = synthesized.built.compute;
    expect(stacks.map((stack) => [stack.stackName, stack.region, stack.account])).toEqual([
      ['MlPlatform-Compute-us-east-1', 'us-east-1', '123456789012'],
      ['MlPlatform-Compute-us-west-2', 'us-west-2', '123456789012'],
    ]);
    // With the account pinned, zones would otherwise be looked up, which needs credentials.
    expect(synthesized.assembly.manifest.missing ?? []).toEqual([]);
    east.hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      MapPublicIpOnLaunch: true,
    });
  });

  it('exposes the queues by launcher key and the job definitions by gpuType', () => {
    // Assess
    const [eastStack, westStack] = synthesized.built.compute as [ComputeStack, ComputeStack];
    expect(Object.keys(eastStack.jobQueues).sort()).toEqual([
      'a10g:on-demand',
      'a10g:spot',
      'none:on-demand',
      'none:spot',
    ]);
    expect(Object.keys(westStack.jobQueues)).toEqual(['l4:on-demand']);
    expect(Object.keys(eastStack.jobDefinitions).sort()).toEqual(['a10g', 'none']);
    expect(Object.keys(westStack.jobDefinitions)).toEqual(['l4']);
  });

  it('asks for one GPU on GPU job definitions and none on CPU ones, with memory headroom', () => {
    // Assess
    for (const [template, gpuType, memoryMiB, vcpus, gpus] of [
      [east, 'a10g', '14745', '4', '1'],
      [east, 'none', '29491', '16', undefined],
      [west, 'l4', '29491', '8', '1'],
    ] as const) {
      template.hasResourceProperties('AWS::Batch::JobDefinition', {
        JobDefinitionName: names.jobDefinition(gpuType),
        ContainerProperties: Match.objectLike({
          ResourceRequirements: [
            { Type: 'MEMORY', Value: memoryMiB },
            { Type: 'VCPU', Value: vcpus },
            ...(gpus ? [{ Type: 'GPU', Value: gpus }] : []),
          ],
        }),
      });
    }
  });

  it("retries as the launcher does, with the attempt limit, awslogs, propagated tags and the control region's clients", () => {
    // Prepare
    const retry = batchRetryStrategy();
    const expectedRetry = {
      Attempts: retry.attempts,
      EvaluateOnExit: (retry.evaluateOnExit ?? []).map((rule) => ({
        Action: rule.action,
        ...(rule.onStatusReason ? { OnStatusReason: rule.onStatusReason } : {}),
        ...(rule.onExitCode ? { OnExitCode: rule.onExitCode } : {}),
        ...(rule.onReason ? { OnReason: rule.onReason } : {}),
      })),
    };

    // Assess
    for (const template of [east, west]) {
      const logGroups = template.findResources('AWS::Logs::LogGroup');
      const definitions = Object.values(template.findResources('AWS::Batch::JobDefinition')) as Resource[];
      expect(definitions.length).toBeGreaterThan(0);
      for (const definition of definitions) {
        expect(definition.Properties).toMatchObject({
          Type: 'container',
          PlatformCapabilities: ['EC2'],
          PropagateTags: true,
          RetryStrategy: expectedRetry,
          Timeout: { AttemptDurationSeconds: 12 * 3600 },
        });
        const container = definition.Properties.ContainerProperties as Record<string, unknown>;
        expect(container.LogConfiguration).toEqual({
          LogDriver: 'awslogs',
          Options: {
            'awslogs-group': { Ref: expect.any(String) },
            'awslogs-stream-prefix': 'trainer',
            'awslogs-region': expect.any(String),
          },
        });
        const logGroup = (container.LogConfiguration as { Options: { 'awslogs-group': { Ref: string } } })
          .Options['awslogs-group'].Ref;
        expect(logGroups[logGroup]?.Properties).toMatchObject({ RetentionInDays: 90 });
        // The table and bucket are in us-east-1, wherever the job runs.
        expect(container.Environment).toEqual([
          { Name: 'WHETSTONE_ENV', Value: 'aws' },
          { Name: 'AWS_REGION', Value: 'us-east-1' },
          { Name: 'AWS_DEFAULT_REGION', Value: 'us-east-1' },
          { Name: 'WHETSTONE_WORK_DIR', Value: '/tmp' },
        ]);
        expect(container.ReadonlyRootFilesystem).toBe(false);
        expect(container.LinuxParameters).toEqual({ InitProcessEnabled: true });
      }
    }
    expect(expectedRetry.EvaluateOnExit.at(-1)).toEqual({ Action: 'EXIT', OnReason: '*' });
  });

  it('runs spot environments price-capacity-optimized and on-demand best-fit-progressive, on exactly the configured types', () => {
    // Assess
    const environments = (template: Template) =>
      (Object.values(template.findResources('AWS::Batch::ComputeEnvironment')) as Resource[]).map(
        (resource) => resource.Properties.ComputeResources as Record<string, unknown>,
      );
    const a10g = ['g5.xlarge', 'g5.2xlarge', 'g5.12xlarge'];
    const cpu = ['c7i.4xlarge', 'm7i.4xlarge'];
    const summary = (resources: Record<string, unknown>) => ({
      Type: resources.Type,
      AllocationStrategy: resources.AllocationStrategy,
      InstanceTypes: resources.InstanceTypes,
      Ec2Configuration: resources.Ec2Configuration,
      MinvCpus: resources.MinvCpus,
      MaxvCpus: resources.MaxvCpus,
    });
    expect(environments(east).map(summary)).toEqual(
      expect.arrayContaining([
        {
          Type: 'SPOT',
          AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
          InstanceTypes: a10g,
          Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
          MinvCpus: 0,
          MaxvCpus: 192,
        },
        {
          Type: 'EC2',
          AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
          InstanceTypes: a10g,
          Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
          MinvCpus: 0,
          MaxvCpus: 192,
        },
        {
          Type: 'SPOT',
          AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
          InstanceTypes: cpu,
          Ec2Configuration: [{ ImageType: 'ECS_AL2023' }],
          MinvCpus: 0,
          MaxvCpus: 256,
        },
        {
          Type: 'EC2',
          AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
          InstanceTypes: cpu,
          Ec2Configuration: [{ ImageType: 'ECS_AL2023' }],
          MinvCpus: 0,
          MaxvCpus: 256,
        },
      ]),
    );
    expect(environments(east)).toHaveLength(4);
    // On-demand only: no spot environment at all.
    expect(environments(west).map(summary)).toEqual([
      {
        Type: 'EC2',
        AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
        InstanceTypes: ['g6.2xlarge', 'g6.4xlarge'],
        Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
        MinvCpus: 0,
        MaxvCpus: 64,
      },
    ]);
    for (const resources of [...environments(east), ...environments(west)]) {
      expect(resources.InstanceTypes).not.toContain('optimal');
      expect(resources.LaunchTemplate).toEqual({
        LaunchTemplateId: { Ref: expect.any(String) },
        Version: { 'Fn::GetAtt': [expect.any(String), 'LatestVersionNumber'] },
      });
      expect(resources.SecurityGroupIds).toHaveLength(1);
    }
  });

  it('requires IMDSv2 with a hop limit of 2 and an encrypted gp3 root volume, with no image or user data', () => {
    // Assess
    for (const [template, sizes] of [
      [east, [300, 200]],
      [west, [200]],
    ] as const) {
      const templates = Object.values(template.findResources('AWS::EC2::LaunchTemplate')) as Resource[];
      expect(templates.map((lt) => lt.Properties.LaunchTemplateData)).toEqual(
        sizes.map((size) =>
          expect.objectContaining({
            MetadataOptions: { HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2, HttpTokens: 'required' },
            BlockDeviceMappings: [
              {
                DeviceName: '/dev/xvda',
                Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: size, VolumeType: 'gp3' },
              },
            ],
          }),
        ),
      );
      for (const lt of templates) {
        const data = lt.Properties.LaunchTemplateData as Record<string, unknown>;
        expect(data.UserData).toBeUndefined();
        expect(data.ImageId).toBeUndefined();
      }
    }
  });

  it('tries spot first and on-demand second, and cancels jobs stuck RUNNABLE', () => {
    // Prepare
    const stuck = [
      'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
      'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE',
      'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
    ].map((reason) => ({ Action: 'CANCEL', MaxTimeSeconds: 1800, Reason: reason, State: 'RUNNABLE' }));
    const environmentId = (template: Template, type: string, instanceType: string) =>
      logicalIdOf(template, 'AWS::Batch::ComputeEnvironment', {
        ComputeResources: Match.objectLike({ Type: type, InstanceTypes: Match.arrayWith([instanceType]) }),
      });
    const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'ComputeEnvironmentArn'] });

    // Assess
    for (const [gpuType, instanceType] of [
      ['a10g', 'g5.xlarge'],
      ['none', 'c7i.4xlarge'],
    ] as const) {
      const spot = environmentId(east, 'SPOT', instanceType);
      const onDemand = environmentId(east, 'EC2', instanceType);
      east.hasResourceProperties('AWS::Batch::JobQueue', {
        JobQueueName: names.jobQueue(gpuType, 'spot'),
        ComputeEnvironmentOrder: [
          { ComputeEnvironment: arnOf(spot), Order: 1 },
          { ComputeEnvironment: arnOf(onDemand), Order: 2 },
        ],
        JobStateTimeLimitActions: stuck,
      });
      east.hasResourceProperties('AWS::Batch::JobQueue', {
        JobQueueName: names.jobQueue(gpuType, 'on-demand'),
        ComputeEnvironmentOrder: [{ ComputeEnvironment: arnOf(onDemand), Order: 1 }],
        JobStateTimeLimitActions: stuck,
      });
    }
    east.resourceCountIs('AWS::Batch::JobQueue', 4);
    west.resourceCountIs('AWS::Batch::JobQueue', 1);
    west.hasResourceProperties('AWS::Batch::JobQueue', {
      JobQueueName: 'ml-platform-l4-on-demand',
      ComputeEnvironmentOrder: [
        { ComputeEnvironment: arnOf(environmentId(west, 'EC2', 'g6.2xlarge')), Order: 1 },
      ],
      JobStateTimeLimitActions: stuck,
    });
  });

  it('lets nothing in: no ingress rule, HTTPS out only, public subnets without NAT, rejected flows logged', () => {
    // Assess
    for (const template of [east, west]) {
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      for (const group of Object.values(template.findResources('AWS::EC2::SecurityGroup')) as Resource[]) {
        expect(group.Properties.SecurityGroupIngress).toBeUndefined();
        expect(group.Properties.SecurityGroupEgress).toEqual([
          {
            CidrIp: '0.0.0.0/0',
            Description: 'HTTPS to AWS APIs',
            FromPort: 443,
            IpProtocol: 'tcp',
            ToPort: 443,
          },
        ]);
      }
      template.resourceCountIs('AWS::EC2::Subnet', 2);
      template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: joined('com.amazonaws.', { Ref: 'AWS::Region' }, '.s3'),
      });
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: joined('com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb'),
      });
      template.resourceCountIs('AWS::EC2::FlowLog', 1);
      template.hasResourceProperties('AWS::EC2::FlowLog', {
        ResourceType: 'VPC',
        TrafficType: 'REJECT',
        LogDestinationType: 'cloud-watch-logs',
      });
      const flowLog = Object.values(template.findResources('AWS::EC2::FlowLog'))[0] as Resource;
      const flowLogs = (flowLog.Properties.LogGroupName as { Ref: string }).Ref;
      expect(template.findResources('AWS::Logs::LogGroup')[flowLogs]?.Properties).toMatchObject({
        RetentionInDays: 90,
      });
    }
  });

  it("limits the job role to the trainer's table actions and bucket prefixes, in the control region", () => {
    // Prepare
    const bucket = joined('arn:', PARTITION, ':s3:::ml-platform-data-', ACCOUNT, '-us-east-1');
    const under = (prefix: string) =>
      joined('arn:', PARTITION, ':s3:::ml-platform-data-', ACCOUNT, `-us-east-1/${prefix}*`);

    // Assess
    for (const template of [east, west]) {
      const definition = Object.values(template.findResources('AWS::Batch::JobDefinition'))[0] as Resource;
      const jobRole = (
        definition.Properties.ContainerProperties as { JobRoleArn: { 'Fn::GetAtt': string[] } }
      ).JobRoleArn['Fn::GetAtt'][0] as string;
      expect(template.findResources('AWS::IAM::Role')[jobRole]?.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      });
      const statements = statementsOf(template, jobRole);
      expect(statements).toEqual([
        {
          Sid: 'JobRecords',
          Effect: 'Allow',
          Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          Resource: joined('arn:', PARTITION, ':dynamodb:us-east-1:', ACCOUNT, ':table/ml-platform'),
        },
        {
          Sid: 'ReadInputs',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: [under('artifacts/'), under('files/'), under('models/')],
        },
        {
          Sid: 'WriteArtifacts',
          Effect: 'Allow',
          Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject'],
          Resource: under('artifacts/'),
        },
        {
          Sid: 'ListInputs',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: bucket,
          Condition: { StringLike: { 's3:prefix': ['files/*', 'models/*', 'artifacts/*'] } },
        },
        {
          Sid: 'DataKeyThroughS3',
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: joined('arn:', PARTITION, ':kms:us-east-1:', ACCOUNT, ':key/*'),
          Condition: {
            StringEquals: {
              'kms:ViaService': 's3.us-east-1.amazonaws.com',
              'kms:EncryptionContext:aws:s3:arn': bucket,
            },
          },
        },
      ]);
    }
  });

  it('puts * only on ecr:GetAuthorizationToken, and no wildcard action, in any compute policy', () => {
    // Assess
    for (const template of [east, west]) {
      const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]).flatMap(
        (policy) => (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
      );
      for (const statement of statements) {
        const actions = [statement.Action].flat() as string[];
        expect(actions.filter((action) => action.includes('*'))).toEqual([]);
        if ([statement.Resource].flat().includes('*')) expect(actions).toEqual(['ecr:GetAuthorizationToken']);
      }
      // No inline policies and no managed policies beyond the ECS agent's on the instance role.
      for (const role of Object.values(template.findResources('AWS::IAM::Role')) as Resource[]) {
        expect(role.Properties.Policies).toBeUndefined();
        const managed = role.Properties.ManagedPolicyArns as unknown[] | undefined;
        if (managed) {
          expect(managed).toEqual([
            joined('arn:', PARTITION, ':iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role'),
          ]);
        }
      }
    }
  });

  it('builds the trainer image from trainer/Dockerfile for linux/amd64 and scans it on push', () => {
    // Assess
    for (const stack of synthesized.built.compute) {
      const manifest = synthesized.assembly
        .getStackByName(stack.stackName)
        .dependencies.find(AssetManifestArtifact.isAssetManifestArtifact);
      const images = Object.values(manifest?.contents.dockerImages ?? {});
      expect(images).toHaveLength(1);
      expect(images[0]?.source).toMatchObject({ dockerFile: 'trainer/Dockerfile', platform: 'linux/amd64' });
      expect(Object.values(images[0]?.destinations ?? {})[0]).toMatchObject({ region: stack.region });
    }
    for (const template of [east, west]) {
      template.resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 1);
      template.hasResourceProperties('AWS::ECR::RegistryScanningConfiguration', {
        ScanType: 'BASIC',
        Rules: [
          {
            ScanFrequency: 'SCAN_ON_PUSH',
            RepositoryFilters: [{ Filter: 'cdk-*-container-assets-*', FilterType: 'WILDCARD' }],
          },
        ],
      });
    }
  });

  it("forwards the other region's Batch events to the control region's default bus, with a dead-letter queue and its alarm", () => {
    // Prepare
    const controlBus = joined('arn:', PARTITION, ':events:us-east-1:', ACCOUNT, ':event-bus/default');

    // Assess
    east.resourceCountIs('AWS::Events::Rule', 0);
    east.resourceCountIs('AWS::SNS::Topic', 0);
    west.resourceCountIs('AWS::Events::Rule', 1);
    const forwardingDlq = Object.keys(west.findResources('AWS::SQS::Queue')).find((id) =>
      id.includes('Forward'),
    );
    expect(forwardingDlq).toBeDefined();
    west.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.batch'],
        'detail-type': ['Batch Job State Change'],
        detail: {
          jobQueue: [
            joined('arn:', PARTITION, ':batch:us-west-2:', ACCOUNT, ':job-queue/ml-platform-l4-on-demand'),
          ],
        },
      },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: controlBus,
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [forwardingDlq, 'Arn'] } },
          RoleArn: Match.anyValue(),
        }),
      ],
    });
    // Both dead-letter queues (forwarding and alarm e-mails) are encrypted and TLS-only.
    west.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    for (const policy of Object.values(west.findResources('AWS::SQS::QueuePolicy')) as Resource[]) {
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
    const topic = logicalIdOf(west, 'AWS::SNS::Topic', {});
    west.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [forwardingDlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topic }],
    });
    west.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ml-ops@example.com',
      TopicArn: { Ref: topic },
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    west.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      }),
    });
  });
});

describe('a compute stack with registry scanning off', () => {
  it('leaves the registry scanning configuration alone', () => {
    // Prepare
    const config: WhetstoneConfig = parseWhetstoneConfig({
      compute: { ...twoRegions.compute, registryScanning: false },
    });
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    });

    // Act
    const stack = new ComputeStack(app, 'Compute', { config, region: 'us-east-1' });

    // Assess
    Template.fromStack(stack as Stack).resourceCountIs('AWS::ECR::RegistryScanningConfiguration', 0);
    expect(stack.compute.registryScanning).toBeUndefined();
  });
});
