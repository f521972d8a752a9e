import { App, Duration, type Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import cdkJson from '../../cdk.json';
import { acknowledge } from '../../lib/infra/acknowledge';
import { recordedAcknowledgements } from './helpers';

/** Where a construct's test stack is pinned, so ARNs in its template are literal. */
export const ENV = { account: '123456789012', region: 'us-east-1' };

/** An empty app as `cdk synth` builds one: cdk.json's feature flags, both nag packs. */
export function nagApp(): App {
  const app = new App({ context: cdkJson.context });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

export interface StandInFunctionOptions {
  /** What the function stands in for, as the acknowledgements' reason names it (`events handler`). */
  readonly standsInFor: string;
  /** Default 60 s. */
  readonly timeout?: Duration;
  /** The handler's body; default one that returns nothing. */
  readonly code?: string;
}

/**
 * Stands in for a function the Api stack builds with its own role, tracing and findings, so a
 * construct that takes a function can be synthesized alone. Its three acknowledgements sit on the
 * function itself: a test that lists a construct's acknowledgements leaves this node out.
 */
export function standInFunction(stack: Stack, id: string, options: StandInFunctionOptions): lambda.Function {
  const fn = new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(options.code ?? 'exports.handler = async () => {};'),
    memorySize: 256,
    timeout: options.timeout ?? Duration.seconds(60),
  });
  const reason = `Test stand-in: the Api stack builds the real ${options.standsInFor} with its own role, tracing and findings.`;
  acknowledge(
    fn,
    'AwsSolutions-IAM4',
    reason,
    'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
  );
  acknowledge(fn, 'Serverless-LambdaDLQ', reason);
  acknowledge(fn, 'Serverless-LambdaTracing', reason);
  return fn;
}

/** The rule and path of every acknowledgement under `scope`, leaving out those on the stand-ins themselves. */
export function acknowledgedRules(
  scope: IConstruct,
  ...standIns: IConstruct[]
): { path: string; id: string }[] {
  return recordedAcknowledgements(scope)
    .filter(({ construct }) => !standIns.includes(construct))
    .map(({ path, id }) => ({ path, id }));
}
