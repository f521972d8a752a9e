import type { RetryStrategy as BatchRetryStrategy } from '@aws-sdk/client-batch';
import { Aws, Duration, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { batchRetryStrategy } from '../../adapters/launchers/batch-launcher';
import { acknowledge, nagResource } from '../acknowledge';

/** The bucket prefixes the trainer reads (inputs, a parent model, checkpoints) and writes (its outputs). */
export const TRAINER_READ_PREFIXES = ['files/', 'models/', 'artifacts/'] as const;
export const TRAINER_WRITE_PREFIXES = ['artifacts/'] as const;

export interface TrainerJobRoleProps {
  /** The control region's table. */
  readonly tableArn: string;
  /** The control region's data bucket. */
  readonly bucketArn: string;
  /** Where the bucket and its KMS key live. */
  readonly controlRegion: string;
}

/**
 * The role every trainer container runs with, holding only what trainer/src/runtime does: get
 * and put its job's records (records.ts: the job, its events, checkpoints and result file; the
 * job is rewritten with a conditional put), read inputs, parent models and checkpoints
 * (downloads.ts, checkpoints.ts), write artifacts (outputs.ts), in parts for large files, and
 * delete the checkpoints and checkpoint records older than the newest kept ones (query and delete).
 *
 * It cannot be narrowed to one job's prefix: a Batch job role is fixed per job definition, ECS
 * task sessions carry no job tags to match on, and a session policy the trainer put on itself
 * (AssumeRole naming `artifacts/{team}/{job}/`) would bind only code that chose to use it, while
 * anything else in the container still holds this role. So the prefixes are the boundary, and the
 * trainer image (built from this repository, run as a non-root user) is trusted code.
 */
export class TrainerJobRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TrainerJobRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Whetstone trainer: its job records, inputs and artifacts',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'JobRecords',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:DeleteItem'],
        resources: [props.tableArn],
      }),
    );
    const objects = (prefixes: readonly string[]) =>
      prefixes.map((prefix) => `${props.bucketArn}/${prefix}*`);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadInputs',
        actions: ['s3:GetObject'],
        resources: objects(TRAINER_READ_PREFIXES),
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteArtifacts',
        // PutObject covers the multipart calls but abort, which a failed large upload makes;
        // DeleteObject removes superseded checkpoints (a delete marker: no version is destroyed).
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        resources: objects(TRAINER_WRITE_PREFIXES),
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListInputs',
        actions: ['s3:ListBucket'],
        resources: [props.bucketArn],
        // S3 answers a HEAD of a missing object 404 only to a caller that may list its key (as
        // `s3:prefix`); the trainer checks its input files exist that way, so `files/` is here too.
        conditions: {
          StringLike: { 's3:prefix': TRAINER_READ_PREFIXES.map((prefix) => `${prefix}*`) },
        },
      }),
    );
    const anyKey = `arn:${Aws.PARTITION}:kms:${props.controlRegion}:${Aws.ACCOUNT_ID}:key/*`;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DataKeyThroughS3',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        // The key's ARN is random and lives in the control region's stack; a compute stack in
        // another region cannot reference it. Any key, but only as S3 uses it for this bucket.
        resources: [anyKey],
        conditions: {
          StringEquals: {
            'kms:ViaService': `s3.${props.controlRegion}.amazonaws.com`,
            // With S3 Bucket Keys the encryption context is the bucket's ARN, not the object's.
            'kms:EncryptionContext:aws:s3:arn': props.bucketArn,
          },
        },
      }),
    );

    for (const resource of objects(TRAINER_READ_PREFIXES)) {
      acknowledge(
        this.role,
        'AwsSolutions-IAM5',
        'Object keys under this prefix are made at run time per team and job; the prefix is the narrowest ' +
          'scope a role fixed per job definition can hold, since per-job scoping is not sound (see TrainerJobRole).',
        nagResource(this, resource),
      );
    }
    acknowledge(
      this.role,
      'AwsSolutions-IAM5',
      "The data bucket's key has a random ARN made in the platform stack; every compute stack, in any region, " +
        'names it without a cross-stack reference, and kms:ViaService plus the bucket ARN as encryption context limit its use to S3 on this bucket.',
      nagResource(this, anyKey),
    );
  }
}

export interface TrainerJobDefinitionProps {
  /** Physical name; SubmitJob names it without a revision, so it runs the latest. */
  readonly jobDefinitionName: string;
  /** The trainer image. */
  readonly image: ecs.ContainerImage;
  readonly jobRole: iam.IRole;
  /** Pulls the image and writes the logs. */
  readonly executionRole: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** GPUs the container gets; 0 (the default) adds no GPU requirement. */
  readonly gpus?: number;
  /** Fixed variables; SubmitJob adds the job's own (DESIGN.md, Trainer contract). */
  readonly environment?: Readonly<Record<string, string>>;
  /** One attempt's wall-clock limit; default 24 hours. SubmitJob may pass its own. */
  readonly attemptTimeout?: Duration;
  /** Default the launcher's (`batchRetryStrategy()`), so the two cannot drift apart. */
  readonly retryStrategy?: BatchRetryStrategy;
}

/**
 * The trainer as a Batch job definition: the image, the job's size, the environment every
 * attempt shares, retries on spot reclaims and SIGTERM only, tags propagated to the ECS task, and
 * logs in the given group. The root filesystem stays writable: the work directory (downloads,
 * checkpoints, outputs) is on it, and a Docker-created volume would be root-owned while the image
 * runs as `node`.
 */
export class TrainerJobDefinition extends Construct {
  readonly jobDefinition: batch.EcsJobDefinition;
  readonly container: batch.EcsEc2ContainerDefinition;

  constructor(scope: Construct, id: string, props: TrainerJobDefinitionProps) {
    super(scope, id);
    const gpus = props.gpus ?? 0;
    this.container = new batch.EcsEc2ContainerDefinition(this, 'Container', {
      image: props.image,
      cpu: props.vcpus,
      memory: Size.mebibytes(props.memoryMiB),
      ...(gpus > 0 ? { gpu: gpus } : {}),
      jobRole: props.jobRole,
      executionRole: props.executionRole,
      logging: ecs.LogDriver.awsLogs({ logGroup: props.logGroup, streamPrefix: 'trainer' }),
      environment: { ...props.environment },
      readonlyRootFilesystem: false,
      // An init process as PID 1 hands Batch's SIGTERM to the trainer and reaps what it leaves.
      linuxParameters: new batch.LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
    });
    const retry = props.retryStrategy ?? batchRetryStrategy();
    this.jobDefinition = new batch.EcsJobDefinition(this, 'Resource', {
      jobDefinitionName: props.jobDefinitionName,
      container: this.container,
      propagateTags: true,
      retryAttempts: retry.attempts,
      retryStrategies: (retry.evaluateOnExit ?? []).map((rule) =>
        batch.RetryStrategy.of(
          rule.action?.toUpperCase() === 'RETRY' ? batch.Action.RETRY : batch.Action.EXIT,
          batch.Reason.custom({
            onStatusReason: rule.onStatusReason,
            onExitCode: rule.onExitCode,
            onReason: rule.onReason,
          }),
        ),
      ),
      timeout: props.attemptTimeout ?? Duration.hours(24),
    });
  }
}
