import { type App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOB_METRICS } from '../../lib/core/jobs/metrics';
import { JOB_STATUSES } from '../../lib/core/schemas';
import { acknowledge } from '../../lib/infra/acknowledge';
import { DeadLetterQueue } from '../../lib/infra/constructs/dead-letter-queue';
import { Observability, type ObservabilityProps } from '../../lib/infra/constructs/observability';
import { acknowledgedRules, ENV, nagApp } from './stand-ins';

/** Stands in for the Api stack's RestApi; its findings are the Api construct's to fix. */
function standInApi(stack: Stack): apigateway.RestApi {
  const api = new apigateway.RestApi(stack, 'Api', { restApiName: 'ml' });
  api.root.addMethod('GET', new apigateway.MockIntegration());
  const reason =
    'Test stand-in: the Api construct builds the real API with validation, logging, throttling and auth.';
  for (const rule of [
    'AwsSolutions-APIG1',
    'AwsSolutions-APIG2',
    'AwsSolutions-APIG3',
    'AwsSolutions-APIG4',
    'AwsSolutions-APIG6',
    'AwsSolutions-COG4',
    'Serverless-APIGWAccessLogging',
    'Serverless-APIGWDefaultThrottling',
    'Serverless-APIGWXrayEnabled',
  ] as const) {
    acknowledge(api, rule, reason);
  }
  return api;
}

/** Builds the construct in a stack of its own, beside a stand-in API and two dead-letter queues. */
function observed(app: App, id: string, props: Partial<ObservabilityProps> = {}) {
  const stack = new Stack(app, id, { env: ENV });
  const deadLetterQueues = {
    BatchEvents: new DeadLetterQueue(stack, 'BatchEventsDlq', { deadLetterOf: 'a test' }),
    WebhookDeliveries: new DeadLetterQueue(stack, 'WebhookDlq', { deadLetterOf: 'a test' }),
  };
  const observability = new Observability(stack, 'Observability', {
    api: standInApi(stack),
    deadLetterQueues,
    apiServerErrorPercent: 5,
    dashboardName: `ml-${id}`,
    ...props,
  });
  return { stack, deadLetterQueues, observability };
}

interface DashboardWidget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly markdown?: string;
    readonly metrics?: unknown[][];
    readonly alarms?: string[];
  };
}

/** The dashboard's body as JSON, each token written `<LogicalId>` or `<LogicalId.Attribute>`. */
function dashboardWidgets(template: Template): DashboardWidget[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  if (!dashboard) throw new Error('the template has no dashboard');
  const [separator, parts] = dashboard.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const token = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return `<${token.Ref ?? token['Fn::GetAtt']?.join('.')}>`;
    })
    .join(separator);
  return (JSON.parse(text) as { widgets: DashboardWidget[] }).widgets;
}

describe('Observability', () => {
  let stack: Stack;
  let deadLetterQueues: Record<string, DeadLetterQueue>;
  let observability: Observability;
  let template: Template;
  let quietStack: Stack;
  let quiet: Observability;
  let quietTemplate: Template;

  beforeAll(() => {
    // Prepare
    const app = nagApp();

    // Act: synth runs cdk-nag and throws on any finding not acknowledged
    ({ stack, deadLetterQueues, observability } = observed(app, 'Observed', {
      alarmEmail: 'ops@example.com',
      jobQueueNames: ['ml-none-on-demand', 'ml-a10g-spot'],
    }));
    ({ stack: quietStack, observability: quiet } = observed(app, 'Quiet'));
    const assembly = app.synth();
    template = Template.fromJSON(assembly.getStackByName('Observed').template);
    quietTemplate = Template.fromJSON(assembly.getStackByName('Quiet').template);
  });

  it('sends alarms to a TLS-only topic that CloudWatch alarms of this account may publish to', () => {
    // Assess
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [stack.resolve(observability.topic.topicArn)],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:*' },
              StringEquals: { 'aws:SourceAccount': '123456789012' },
            },
          }),
        ],
      },
    });
  });

  it('subscribes the configured e-mail address, with an encrypted TLS-only dead-letter queue', () => {
    // Assess
    const emailDeadLetterQueue = observability.emailDeadLetterQueue;
    expect(emailDeadLetterQueue).toBeDefined();
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: stack.resolve(observability.topic.topicArn),
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(emailDeadLetterQueue?.queueArn) },
    });
    template.resourceCountIs('AWS::SQS::Queue', 3);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(emailDeadLetterQueue?.queueUrl)],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': stack.resolve(observability.topic.topicArn) } },
          }),
        ],
      },
    });
  });

  it('subscribes nobody when no e-mail address is configured', () => {
    // Assess
    expect(quiet.emailDeadLetterQueue).toBeUndefined();
    quietTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
    quietTemplate.resourceCountIs('AWS::SQS::Queue', 2);
    quietTemplate.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    quietTemplate.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [quietStack.resolve(quiet.topic.topicArn)],
    });
  });

  it('raises every alarm on one breaching period, counts missing data as healthy, and notifies the topic', () => {
    // Assess
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [stack.resolve(observability.topic.topicArn)],
    });
  });

  it('alarms on any message in each dead-letter queue', () => {
    // Assess
    expect(Object.keys(observability.alarms.deadLetters)).toEqual(['BatchEvents', 'WebhookDeliveries']);
    for (const queue of Object.values(deadLetterQueues)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: stack.resolve(queue.queueName) }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it("alarms when the API's 5xx responses exceed the configured share of its requests", () => {
    // Assess
    const apiMetric = (id: string, metricName: string) => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApiGateway',
          MetricName: metricName,
          Dimensions: [{ Name: 'ApiName', Value: 'ml' }],
        },
        Period: 300,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)', ReturnData: true }),
        Match.objectLike(apiMetric('errors', '5XXError')),
        Match.objectLike(apiMetric('requests', 'Count')),
      ],
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on any job Batch cancelled as stuck within an hour', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: JOB_METRICS.namespace,
      MetricName: JOB_METRICS.stuckJobsCancelled,
      Dimensions: Match.absent(),
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('graphs jobs by status, stuck jobs, API traffic and latency, and dead-letter depth, and explains what it cannot show', () => {
    // Prepare
    const widgets = dashboardWidgets(template);
    const byTitle = (title: string) => widgets.find((widget) => widget.properties.title === title);
    const metricNames = (title: string) =>
      byTitle(title)?.properties.metrics?.map((metric) => metric.slice(0, -1));
    const markdown = widgets.map((widget) => widget.properties.markdown).filter(Boolean);

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'ml-Observed' });
    expect(metricNames('Jobs by status (status changes)')).toEqual(
      JOB_STATUSES.map((status) => [
        JOB_METRICS.namespace,
        JOB_METRICS.statusChanges,
        JOB_METRICS.statusDimension,
        status,
      ]),
    );
    expect(metricNames('Stuck jobs cancelled (per hour)')).toEqual([
      [JOB_METRICS.namespace, JOB_METRICS.stuckJobsCancelled],
    ]);
    expect(metricNames('API requests and errors')).toEqual([
      ['AWS/ApiGateway', 'Count', 'ApiName', 'ml'],
      ['AWS/ApiGateway', '4XXError', 'ApiName', 'ml'],
      ['AWS/ApiGateway', '5XXError', 'ApiName', 'ml'],
    ]);
    expect(byTitle('API latency')?.properties.metrics?.map((metric) => [metric[1], metric.at(-1)])).toEqual([
      ['Latency', expect.objectContaining({ stat: 'p50' })],
      ['Latency', expect.objectContaining({ stat: 'p99' })],
    ]);
    const queueId = (queue: DeadLetterQueue) =>
      `<${stack.getLogicalId(queue.node.defaultChild as never)}.QueueName>`;
    expect(metricNames('Dead-letter queue depth')).toEqual(
      [
        deadLetterQueues.BatchEvents,
        deadLetterQueues.WebhookDeliveries,
        observability.emailDeadLetterQueue,
      ].map((queue) => [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        queueId(queue as DeadLetterQueue),
      ]),
    );
    expect(byTitle('Alarms')?.properties.alarms).toHaveLength(4);
    expect(markdown).toEqual([
      expect.stringContaining('### Spend today'),
      expect.stringMatching(
        /### Job queue depth[\s\S]*AWS Batch publishes no CloudWatch metrics[\s\S]*`ml-a10g-spot`/,
      ),
    ]);
  });

  it("passes cdk-nag with only the e-mail dead-letter queue's two acknowledgements", () => {
    // Assess: beforeAll's synth would have thrown on an unacknowledged finding
    expect(acknowledgedRules(observability)).toEqual([
      {
        path: 'Observed/Observability/AlarmTopic/EmailDeadLetters',
        id: 'Serverless::Serverless-SQSRedrivePolicy',
      },
      { path: 'Observed/Observability/AlarmTopic/EmailDeadLetters', id: 'AwsSolutions::AwsSolutions-SQS3' },
    ]);
    expect(acknowledgedRules(quiet)).toEqual([]);
  });
});
