import * as iam from 'aws-cdk-lib/aws-iam';
import { GSI1 } from '../adapters/dynamodb/table';
import type { BucketPrefix, HandlerAccess } from './handler-access';

/** ARNs a handler's statements may name. Strings, so they may come from another stack or region. */
export interface PlatformResourceArns {
  readonly tableArn: string;
  readonly bucketArn: string;
  /** The data bucket's KMS key. */
  readonly keyArn: string;
  readonly jobQueueArns: readonly string[];
  /** Job definitions without revision; the statements also cover every revision (`:*`). */
  readonly jobDefinitionArns: readonly string[];
  /** `arn:...:batch:{region}:{account}:job/*` for every compute region. */
  readonly computeJobArns: readonly string[];
  readonly webhookQueueArn: string;
  readonly notificationBusArn: string;
}

const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query'];
const TABLE_WRITE = [
  ...TABLE_READ,
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];

/** A resource ARN ending in a wildcard, and why nothing narrower can be named. */
export interface WildcardResource {
  readonly arn: string;
  readonly reason: string;
}

export interface HandlerPolicy {
  readonly statements: iam.PolicyStatement[];
  /** Every resource in `statements` that holds a `*`, each with its reason. */
  readonly wildcards: WildcardResource[];
}

/**
 * The least-privilege statements for one handler's access: exact actions, resources down to the
 * bucket prefix, queue or job definition. No statement names `*` alone as a resource.
 */
export function handlerPolicy(access: HandlerAccess, arns: PlatformResourceArns): HandlerPolicy {
  const wildcards = new Map<string, string>();
  const objectArns = (prefixes: readonly BucketPrefix[]) =>
    prefixes.map((prefix) => {
      const arn = `${arns.bucketArn}/${prefix}/*`;
      wildcards.set(
        arn,
        `Object keys under ${prefix}/ are made at run time (team, file, model and job ids); the prefix is the narrowest scope the handler's callers can reach, and the handler checks the team itself.`,
      );
      return arn;
    });
  const statements = [
    new iam.PolicyStatement({
      actions: access.table === 'read' ? TABLE_READ : TABLE_WRITE,
      // The stores' list queries (by team, by job) read GSI1.
      resources: [arns.tableArn, `${arns.tableArn}/index/${GSI1}`],
    }),
  ];
  const objectActions: [readonly BucketPrefix[] | undefined, string][] = [
    [access.readObjects, 's3:GetObject'],
    [access.writeObjects, 's3:PutObject'],
    [access.deleteObjects, 's3:DeleteObject'],
    [access.abortUploads, 's3:AbortMultipartUpload'],
  ];
  for (const [prefixes, action] of objectActions) {
    if (prefixes?.length) {
      statements.push(new iam.PolicyStatement({ actions: [action], resources: objectArns(prefixes) }));
    }
  }
  if (access.listObjects?.length) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [arns.bucketArn],
        conditions: { StringLike: { 's3:prefix': access.listObjects.map((prefix) => `${prefix}/*`) } },
      }),
    );
  }
  const reads = Boolean(access.readObjects?.length || access.abortUploads?.length);
  const writes = Boolean(access.writeObjects?.length);
  if (reads || writes) {
    // SSE-KMS: writes need a data key; reads and multipart uploads need to decrypt one.
    const actions = writes ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
    statements.push(new iam.PolicyStatement({ actions, resources: [arns.keyArn] }));
  }
  if (access.launchesJobs && arns.jobQueueArns.length > 0) {
    for (const arn of arns.jobDefinitionArns) {
      wildcards.set(
        `${arn}:*`,
        'SubmitJob names the job definition without a revision and Batch authorises the revision it resolves to; `:*` covers the revisions of this one definition after each deploy.',
      );
    }
    for (const arn of arns.computeJobArns) {
      wildcards.set(
        arn,
        'Batch job ids are made by SubmitJob, so TerminateJob and tag-on-submit can only name the jobs of the region; the handlers terminate only jobs their job records hold.',
      );
    }
    statements.push(
      new iam.PolicyStatement({
        actions: ['batch:SubmitJob'],
        resources: [
          ...arns.jobQueueArns,
          ...arns.jobDefinitionArns,
          ...arns.jobDefinitionArns.map((arn) => `${arn}:*`),
        ],
      }),
      new iam.PolicyStatement({
        // Job ids are made by SubmitJob; tagging on submit is authorised as TagResource on the new job.
        actions: ['batch:TerminateJob', 'batch:TagResource'],
        resources: [...arns.computeJobArns],
      }),
    );
  }
  if (access.notifies) {
    statements.push(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [arns.webhookQueueArn] }),
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [arns.notificationBusArn] }),
    );
  }
  if (access.deliversWebhooks) {
    statements.push(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [arns.webhookQueueArn] }),
    );
  }
  return { statements, wildcards: [...wildcards].map(([arn, reason]) => ({ arn, reason })) };
}
