import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { Construct } from 'constructs';
import { batchJobStateChangePattern } from '../batch-job-state-change';
import { DeadLetterQueue } from './dead-letter-queue';

export interface JobEventsProps {
  /**
   * The events handler (lambdas/events/batch-state-change.ts). A `Function` rather than an
   * `IFunction`: its asynchronous-invoke configuration and the grant to send to the dead-letter
   * queue go on the function and its role, which an imported function does not carry. It must be
   * in this construct's stack (the rule targets it and it sends to the queue created here).
   */
  readonly handler: lambda.Function;
  /**
   * Every configured Batch job queue's ARN, in every compute region. Compute stacks forward
   * their Batch events to this region's default bus unchanged (source `aws.batch`, the same
   * detail-type), so one rule here matches them all.
   */
  readonly jobQueueArns: readonly string[];
  /** How long EventBridge keeps trying to hand an event to Lambda; default 24 hours, its maximum. */
  readonly maxEventAge?: Duration;
  /** EventBridge's attempts to hand an event to Lambda; default 185, its maximum. */
  readonly retryAttempts?: number;
}

/**
 * Batch's "Batch Job State Change" events for Whetstone's queues, delivered to the events
 * handler, with one dead-letter queue for both ways an event can be lost. EventBridge invokes
 * Lambda asynchronously, so its target dead-letter queue and retry policy cover only handing the
 * event over; an event the handler throws on is retried by Lambda's asynchronous invocation and
 * then sent to the function's on-failure destination, the same queue. Applying an event is
 * idempotent, so every retry is safe.
 */
export class JobEvents extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: JobEventsProps) {
    super(scope, id);
    if (props.jobQueueArns.length === 0) {
      // EventBridge rejects an empty list in a pattern; with no queue there is nothing to watch.
      throw new Error('JobEvents needs at least one job queue ARN');
    }
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      deadLetterOf:
        'the Batch job state change rule (EventBridge target) and the events handler (Lambda on-failure destination)',
    });
    this.rule = new events.Rule(this, 'BatchJobStateChange', {
      description: "Batch job state changes of Whetstone's job queues, in every compute region",
      eventPattern: batchJobStateChangePattern(props.jobQueueArns),
      targets: [
        new targets.LambdaFunction(props.handler, {
          deadLetterQueue: this.deadLetterQueue,
          maxEventAge: props.maxEventAge ?? Duration.hours(24),
          retryAttempts: props.retryAttempts ?? 185,
        }),
      ],
    });
    // configureAsyncInvoke refuses a second configuration, so a conflicting one fails synth
    // instead of deploying two EventInvokeConfigs for one function.
    props.handler.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
  }
}
