import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobEvents } from '../../lib/infra/constructs/job-events';
import { DeploymentNames } from '../../lib/infra/names';
import { acknowledgedRules, ENV, nagApp, standInFunction } from './stand-ins';

/** Stands in for the events handler the Api stack builds. */
function standInHandler(stack: Stack): lambda.Function {
  return standInFunction(stack, 'Handler', { standsInFor: 'events handler' });
}

describe('JobEvents', () => {
  const names = new DeploymentNames({ deploymentName: 'ml', controlRegion: 'us-east-1' });
  let stack: Stack;
  let handler: lambda.Function;
  let jobEvents: JobEvents;
  let template: Template;
  let queueArns: string[];

  beforeAll(() => {
    // Prepare
    const app = nagApp();
    stack = new Stack(app, 'Events', { env: ENV });
    handler = standInHandler(stack);
    queueArns = [
      names.jobQueueArn('us-east-1', 'none', 'on-demand'),
      names.jobQueueArn('us-west-2', 'a10g', 'spot'),
    ];

    // Act: synth runs cdk-nag and throws on any finding not acknowledged
    jobEvents = new JobEvents(stack, 'JobEvents', { handler, jobQueueArns: queueArns });
    template = Template.fromJSON(app.synth().getStackByName('Events').template);
  });

  it('sends Batch job state changes of every configured queue, in every region, from the default bus to the handler', () => {
    // Assess
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.absent(),
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.batch'],
        'detail-type': ['Batch Job State Change'],
        detail: { jobQueue: queueArns.map((arn) => stack.resolve(arn)) },
      },
      Targets: [
        {
          Id: Match.anyValue(),
          Arn: stack.resolve(handler.functionArn),
          DeadLetterConfig: { Arn: stack.resolve(jobEvents.deadLetterQueue.queueArn) },
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: stack.resolve(handler.functionArn),
      SourceArn: stack.resolve(jobEvents.rule.ruleArn),
    });
  });

  it('sends an event the handler still throws on after two retries to the same dead-letter queue', () => {
    // Assess
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: stack.resolve(handler.functionName),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21_600,
      DestinationConfig: { OnFailure: { Destination: stack.resolve(jobEvents.deadLetterQueue.queueArn) } },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [stack.resolve(handler.role?.roleName)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: stack.resolve(jobEvents.deadLetterQueue.queueArn),
          }),
        ]),
      },
    });
  });

  it('keeps the dead-letter queue encrypted with SQS-managed keys for 14 days, TLS only, writable by the rule', () => {
    // Assess
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.absent(),
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(jobEvents.deadLetterQueue.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: stack.resolve(jobEvents.deadLetterQueue.queueArn),
          },
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': stack.resolve(jobEvents.rule.ruleArn) } },
          }),
        ]),
      },
    });
  });

  it("passes cdk-nag with only the dead-letter queue's two acknowledgements", () => {
    // Assess: beforeAll's synth would have thrown on an unacknowledged finding
    expect(acknowledgedRules(jobEvents, handler)).toEqual([
      { path: 'Events/JobEvents/DeadLetters', id: 'Serverless::Serverless-SQSRedrivePolicy' },
      { path: 'Events/JobEvents/DeadLetters', id: 'AwsSolutions::AwsSolutions-SQS3' },
    ]);
  });

  it("takes EventBridge's retry policy from the props", () => {
    // Prepare
    const app = nagApp();
    const other = new Stack(app, 'Other', { env: ENV });

    // Act
    new JobEvents(other, 'JobEvents', {
      handler: standInHandler(other),
      jobQueueArns: ['arn:aws:batch:us-east-1:123456789012:job-queue/q'],
      maxEventAge: Duration.hours(2),
      retryAttempts: 10,
    });

    // Assess
    Template.fromJSON(app.synth().getStackByName('Other').template).hasResourceProperties(
      'AWS::Events::Rule',
      {
        Targets: [
          Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 7_200, MaximumRetryAttempts: 10 } }),
        ],
      },
    );
  });

  it('refuses an empty queue list, which EventBridge would reject', () => {
    // Prepare
    const other = new Stack(new App(), 'Empty', { env: ENV });

    // Act / Assess
    expect(
      () => new JobEvents(other, 'JobEvents', { handler: standInHandler(other), jobQueueArns: [] }),
    ).toThrow('JobEvents needs at least one job queue ARN');
  });

  it('refuses a second asynchronous-invoke configuration on the handler', () => {
    // Prepare
    const other = new Stack(new App(), 'Twice', { env: ENV });
    const twice = standInHandler(other);
    twice.configureAsyncInvoke({ retryAttempts: 0 });

    // Act / Assess
    expect(
      () =>
        new JobEvents(other, 'JobEvents', {
          handler: twice,
          jobQueueArns: ['arn:aws:batch:us-east-1:123456789012:job-queue/q'],
        }),
    ).toThrow(/An EventInvokeConfig has already been configured/);
  });
});
