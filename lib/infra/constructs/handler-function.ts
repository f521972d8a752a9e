import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, nagResource } from '../acknowledge';
import type { WildcardResource } from '../handler-policy';

/** The repository root: entries, the lockfile and tsconfig are found from here. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

export interface HandlerFunctionProps {
  /** Module under `lambdas/`, without extension (`files/create`); its `handler` export is the entry. */
  readonly module: string;
  /** Every statement the function's role gets besides writing its own logs. */
  readonly statements: readonly iam.PolicyStatement[];
  /** Resources in `statements` ending in a wildcard, each acknowledged on this role with its reason. */
  readonly wildcards?: readonly WildcardResource[];
  readonly environment: Readonly<Record<string, string>>;
  /** Days the log group keeps events. */
  readonly logRetention: logs.RetentionDays;
  /** Default 256 MiB. */
  readonly memorySize?: number;
  /** Default 29 seconds: API Gateway's integration limit. */
  readonly timeout?: Duration;
}

/**
 * One handler module as a Lambda function: bundled with esbuild (minified, source maps), Node.js
 * 24 on arm64, JSON logs to its own log group, active tracing, and a role of its own holding only
 * the statements given (no managed policy).
 */
export class HandlerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs lambdas/${props.module}`,
    });
    for (const statement of props.statements) this.role.addToPolicy(statement);
    this.logGroup.grantWrite(this.role);
    for (const wildcard of props.wildcards ?? []) {
      acknowledge(this.role, 'AwsSolutions-IAM5', wildcard.reason, nagResource(this, wildcard.arn));
    }
    acknowledge(
      this.role,
      'AwsSolutions-IAM5',
      'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; the statement holds only those two actions.',
      'Resource::*',
    );
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'lambdas', `${props.module}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(29),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        minify: true,
        sourceMap: true,
        // Pinned SDK clients go in the bundle: the runtime's own SDK is a version we never tested.
        bundleAwsSDK: true,
      },
    });
  }
}
