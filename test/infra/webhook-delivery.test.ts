import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebhookDelivery } from '../../lib/infra/constructs/webhook-delivery';
import { acknowledgedRules, ENV, nagApp, standInFunction } from './stand-ins';

/** Stands in for webhooks/deliver as the Api stack builds it. */
function standInDeliverer(stack: Stack, timeout: Duration): lambda.Function {
  return standInFunction(stack, 'Deliverer', {
    standsInFor: 'deliverer',
    timeout,
    code: 'exports.handler = async () => ({ batchItemFailures: [] });',
  });
}

describe('WebhookDelivery', () => {
  let stack: Stack;
  let delivery: WebhookDelivery;
  let deliverer: lambda.Function;
  let template: Template;

  beforeAll(() => {
    // Prepare
    const app = nagApp();
    stack = new Stack(app, 'Webhooks', { env: ENV });

    // Act: the queue and bus first, as the functions are told their URL and name; then the deliverer
    delivery = new WebhookDelivery(stack, 'Delivery', { notificationBusName: 'ml-notifications' });
    deliverer = standInDeliverer(stack, Duration.seconds(30));
    delivery.attachDeliverer(deliverer);
    template = Template.fromJSON(app.synth().getStackByName('Webhooks').template);
  });

  it('encrypts every queue with SQS-managed keys and lets only TLS requests in', () => {
    // Assess
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    for (const queue of [delivery.queue, delivery.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [stack.resolve(queue.queueUrl)],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: stack.resolve(queue.queueArn),
            },
          ],
        },
      });
    }
  });

  it('hides a handed-over message for six deliverer timeouts and moves it to the dead-letter queue after 5 receives', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      MessageRetentionPeriod: 345_600,
      RedrivePolicy: {
        deadLetterTargetArn: stack.resolve(delivery.deadLetterQueue.queueArn),
        maxReceiveCount: 5,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.absent(),
    });
  });

  it('hands the deliverer ten records a batch and takes its partial batch failures', () => {
    // Assess
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: stack.resolve(delivery.queue.queueArn),
      FunctionName: stack.resolve(deliverer.functionName),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [stack.resolve(deliverer.role?.roleName)],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:ReceiveMessage',
            ],
            Resource: stack.resolve(delivery.queue.queueArn),
          },
        ],
      },
    });
  });

  it('creates the job-notification bus under its configured name, with no resource policy', () => {
    // Assess
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'ml-notifications' });
    template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
  });

  it('passes cdk-nag with the dead-letter queue and event source mapping acknowledgements only', () => {
    // Assess: beforeAll's synth would have thrown on an unacknowledged finding; the DLQ is the
    // delivery queue's redrive target in the same stack, so AwsSolutions-SQS3 needs no acknowledgement
    expect(acknowledgedRules(stack, deliverer)).toEqual([
      { path: 'Webhooks/Delivery/DeadLetters', id: 'Serverless::Serverless-SQSRedrivePolicy' },
      {
        path: 'Webhooks/Deliverer/WebhookDeliveries',
        id: 'Serverless::Serverless-LambdaEventSourceMappingDestination',
      },
    ]);
  });

  it('takes the visibility timeout, receive count and retention from the props', () => {
    // Prepare
    const app = nagApp();
    const other = new Stack(app, 'Other', { env: ENV });

    // Act
    const custom = new WebhookDelivery(other, 'Delivery', {
      notificationBusName: 'ml-notifications',
      visibilityTimeout: Duration.minutes(10),
      maxReceiveCount: 3,
      retentionPeriod: Duration.days(2),
    });
    custom.attachDeliverer(standInDeliverer(other, Duration.seconds(100)));

    // Assess
    Template.fromJSON(app.synth().getStackByName('Other').template).hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 600,
      MessageRetentionPeriod: 172_800,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
  });

  it("puts the event source mapping in the deliverer's stack when the queue is in another", () => {
    // Prepare
    const app = nagApp();
    const platform = new Stack(app, 'Platform', { env: ENV });
    const api = new Stack(app, 'Api', { env: ENV });
    const shared = new WebhookDelivery(platform, 'Delivery', { notificationBusName: 'ml-notifications' });

    // Act
    shared.attachDeliverer(standInDeliverer(api, Duration.seconds(30)));
    const assembly = app.synth();

    // Assess
    Template.fromJSON(assembly.getStackByName('Api').template).resourceCountIs(
      'AWS::Lambda::EventSourceMapping',
      1,
    );
    const platformTemplate = Template.fromJSON(assembly.getStackByName('Platform').template);
    platformTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    platformTemplate.resourceCountIs('AWS::SQS::Queue', 2);
  });

  it('refuses a deliverer whose timeout needs a longer visibility timeout', () => {
    // Prepare
    const other = new Stack(new App(), 'Slow', { env: ENV });
    const slow = new WebhookDelivery(other, 'Delivery', { notificationBusName: 'ml-notifications' });

    // Act / Assess
    expect(() => slow.attachDeliverer(standInDeliverer(other, Duration.seconds(31)))).toThrow(
      "the webhook deliverer's timeout (31 s) needs a delivery queue visibility timeout of at least 186 s; it is 180 s",
    );
  });
});
