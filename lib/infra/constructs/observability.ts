import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOB_METRICS } from '../../core/jobs/metrics';
import { JOB_STATUSES } from '../../core/schemas';
import { AlarmTopic } from './alarm-topic';
import type { DeadLetterQueue } from './dead-letter-queue';

export interface ObservabilityProps {
  /** The public API; its request, error and latency metrics (dimension `ApiName`) are watched. */
  readonly api: apigateway.RestApiBase;
  /**
   * The dead-letter queues to alarm on, by a name that becomes part of the alarm's id and the
   * dashboard's label (`BatchEvents`, `WebhookDeliveries`). A name must not change once deployed:
   * the alarm would be replaced.
   */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Where alarms are e-mailed (the address must confirm the subscription); default no e-mail. */
  readonly alarmEmail?: string;
  /** The API's 5xx responses, as a percentage of its requests in 5 minutes, above which it alarms. */
  readonly apiServerErrorPercent: number;
  readonly dashboardName: string;
  /** The Batch job queues' names, listed where the dashboard says how to see their depth; default none listed. */
  readonly jobQueueNames?: readonly string[];
}

export interface ObservabilityAlarms {
  /** The API's 5xx share of requests over 5 minutes. */
  readonly apiServerErrors: cloudwatch.Alarm;
  /** Any job Batch cancelled for sitting RUNNABLE past its queue's limit, in an hour. */
  readonly stuckJobs: cloudwatch.Alarm;
  /** Any message in a dead-letter queue, by the queue's name in `deadLetterQueues`. */
  readonly deadLetters: Readonly<Record<string, cloudwatch.Alarm>>;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_HOUR = Duration.hours(1);

/**
 * Alarms to the region's AlarmTopic (e-mailed when an address is configured) and the operations dashboard:
 * jobs by status and stuck jobs (the events handler's EMF metrics, JOB_METRICS), the API's
 * traffic, errors and latency, dead-letter queue depths, and the alarms' states.
 */
export class Observability extends Construct {
  /** The region's alarm topic; every alarm here acts on it. */
  readonly alarmTopic: AlarmTopic;
  /** The alarm topic's SNS topic (`alarmTopic.topic`). */
  readonly topic: sns.Topic;
  readonly alarms: ObservabilityAlarms;
  readonly dashboard: cloudwatch.Dashboard;
  /** Holds alarm e-mails SNS could not deliver (`alarmTopic.emailDeadLetterQueue`); only when `alarmEmail` is set. */
  readonly emailDeadLetterQueue?: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { email: props.alarmEmail });
    this.topic = this.alarmTopic.topic;
    this.emailDeadLetterQueue = this.alarmTopic.emailDeadLetterQueue;
    const action = new cwActions.SnsAction(this.topic);

    const deadLetterDepth = (queue: sqs.IQueue, label?: string) =>
      queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES, label });
    const deadLetters: Record<string, cloudwatch.Alarm> = {};
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      deadLetters[name] = new cloudwatch.Alarm(this, `${name}DeadLetters`, {
        alarmDescription: `Messages are waiting in the ${name} dead-letter queue: each is an event or delivery that failed every retry. Read them in the SQS console and the handler's logs, then redrive or delete them.`,
        metric: deadLetterDepth(queue),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // SQS stops reporting an idle queue's metrics; an empty queue is healthy.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const requests = props.api.metricCount({ statistic: 'Sum', period: FIVE_MINUTES, label: 'Requests' });
    const clientErrors = props.api.metricClientError({
      statistic: 'Sum',
      period: FIVE_MINUTES,
      label: '4xx',
    });
    const serverErrors = props.api.metricServerError({
      statistic: 'Sum',
      period: FIVE_MINUTES,
      label: '5xx',
    });
    const serverErrorRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { errors: serverErrors, requests },
      period: FIVE_MINUTES,
      label: '5xx % of requests',
    });
    const apiServerErrors = new cloudwatch.Alarm(this, 'ApiServerErrors', {
      alarmDescription: `More than ${props.apiServerErrorPercent}% of the API's requests in 5 minutes answered 5xx. The handlers' logs name the failing route.`,
      metric: serverErrorRate,
      threshold: props.apiServerErrorPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Published without dimensions (lambdas/events/metrics.ts), so none are named here.
    const stuckJobsCancelled = new cloudwatch.Metric({
      namespace: JOB_METRICS.namespace,
      metricName: JOB_METRICS.stuckJobsCancelled,
      statistic: 'Sum',
      period: ONE_HOUR,
    });
    const stuckJobs = new cloudwatch.Alarm(this, 'StuckJobs', {
      alarmDescription:
        'Batch cancelled a job that stayed RUNNABLE past its queue time limit: the queue has no capacity it can use (instance types, service quotas, Spot capacity, or a misconfigured compute environment).',
      metric: stuckJobsCancelled,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // The metric exists only in hours with a cancellation.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.alarms = { apiServerErrors, stuckJobs, deadLetters };
    const allAlarms = [apiServerErrors, stuckJobs, ...Object.values(deadLetters)];
    for (const alarm of allAlarms) alarm.addAlarmAction(action);

    const jobStatusChanges = JOB_STATUSES.map(
      (status) =>
        new cloudwatch.Metric({
          namespace: JOB_METRICS.namespace,
          metricName: JOB_METRICS.statusChanges,
          dimensionsMap: { [JOB_METRICS.statusDimension]: status },
          statistic: 'Sum',
          period: FIVE_MINUTES,
          label: status,
        }),
    );
    const depthQueues: [string, sqs.IQueue][] = Object.entries(props.deadLetterQueues);
    if (this.emailDeadLetterQueue) depthQueues.push(['AlarmEmails', this.emailDeadLetterQueue]);
    const queueList = props.jobQueueNames?.length
      ? `\n\nJob queues: ${props.jobQueueNames.map((name) => `\`${name}\``).join(', ')}.`
      : '';

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Jobs by status (status changes)',
            left: jobStatusChanges,
            width: 12,
            height: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'Stuck jobs cancelled (per hour)',
            left: [stuckJobsCancelled.with({ label: 'Stuck jobs cancelled' })],
            leftAnnotations: [{ value: 1, label: 'alarm', color: cloudwatch.Color.RED }],
            width: 6,
            height: 6,
          }),
          new cloudwatch.TextWidget({
            // No cost records exist yet, so there is no metric to bind; the cost work adds the widget.
            markdown:
              '### Spend today\n\nCompute spend appears here once jobs record their cost. Until then, Cost Explorer shows it, updated about once a day.',
            width: 6,
            height: 6,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'API requests and errors',
            left: [requests, clientErrors, serverErrors],
            width: 12,
            height: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency',
            left: [
              props.api.metricLatency({ statistic: 'p50', period: FIVE_MINUTES, label: 'p50' }),
              props.api.metricLatency({ statistic: 'p99', period: FIVE_MINUTES, label: 'p99' }),
            ],
            width: 12,
            height: 6,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Dead-letter queue depth',
            left: depthQueues.map(([name, queue]) => deadLetterDepth(queue, name)),
            width: 12,
            height: 6,
          }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: allAlarms, width: 6, height: 6 }),
          new cloudwatch.TextWidget({
            markdown:
              '### Job queue depth\n\nAWS Batch publishes no CloudWatch metrics, so queued jobs are not graphed here. ' +
              "The Batch console lists each job queue's RUNNABLE and RUNNING jobs; a job stuck RUNNABLE is cancelled " +
              `at the queue's time limit and counted under stuck jobs.${queueList}`,
            width: 6,
            height: 6,
          }),
        ],
      ],
    });
  }
}
