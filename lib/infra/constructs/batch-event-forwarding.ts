import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { batchJobStateChangePattern } from '../batch-job-state-change';
import { DeadLetterQueue } from './dead-letter-queue';

export interface BatchEventForwardingProps {
  /** This region's job queues; their "Batch Job State Change" events are forwarded. */
  readonly jobQueueArns: readonly string[];
  /** The control region's default event bus, where the events handler's rule listens. */
  readonly targetBusArn: string;
  /** Where the dead-letter alarm goes (a topic in this region); default no action. */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Sends this region's Batch job state changes to the control region's default bus unchanged
 * (source `aws.batch`, detail-type and `region` kept), where the events handler's rule matches
 * them by queue ARN. An event EventBridge cannot hand over after its retries (24 hours) is kept
 * in a dead-letter queue in this region, and any message there raises an alarm: a lost event
 * leaves a job's status behind until the next event of that job.
 */
export class BatchEventForwarding extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BatchEventForwardingProps) {
    super(scope, id);
    if (props.jobQueueArns.length === 0) {
      // EventBridge refuses an empty list in a pattern; without queues there is nothing to forward.
      throw new Error('BatchEventForwarding needs at least one job queue ARN');
    }
    // An EventBridge dead-letter queue must be in the rule's region.
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      deadLetterOf: 'the rule forwarding Batch job state changes to the control region (EventBridge target)',
    });
    this.rule = new events.Rule(this, 'Rule', {
      description: "Forwards Batch job state changes of this region's Whetstone queues to the control region",
      eventPattern: batchJobStateChangePattern(props.jobQueueArns),
      targets: [
        new targets.EventBus(events.EventBus.fromEventBusArn(this, 'ControlBus', props.targetBusArn), {
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'Batch job state changes could not be forwarded to the control region: the jobs they belong to keep a stale status. Read the messages in the SQS console, then send them to the control region bus or delete them.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // SQS stops reporting an idle queue's metrics; an empty queue is healthy.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.deadLetterAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
  }
}
