import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../acknowledge';
import { DeadLetterQueue } from './dead-letter-queue';

/** Lambda's guidance for SQS sources: six function timeouts, so a batch retried after throttling is not handed over again while in flight. */
const VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT = 6;
/** Lambda's timeout when none is set. */
const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

export interface WebhookDeliveryProps {
  /**
   * The job-notification bus's name (`DeploymentNames.notificationBus`); handlers are told it in
   * `WHETSTONE_EVENT_BUS`.
   */
  readonly notificationBusName: string;
  /**
   * How long a message handed to the deliverer stays hidden; `attachDeliverer` refuses a deliverer
   * whose timeout is more than a sixth of it. Default 180 seconds (a 30-second deliverer).
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before a message the deliverer keeps reporting failed moves to the dead-letter
   * queue; default 5, as the local delivery queue. The deliverer reports a message failed only
   * when it could not record the attempt, so this bounds table outages, not endpoint failures.
   */
  readonly maxReceiveCount?: number;
  /** How long an undelivered message waits in the queue; default 4 days. */
  readonly retentionPeriod?: Duration;
}

/**
 * Webhook delivery's queue and the job-notification bus, created before the functions that are
 * told their URL and name; `attachDeliverer` then connects webhooks/deliver. The queue holds
 * `{team, deliveryId}` messages sent with a delay of at most 900 seconds (SQS's limit); the
 * deliverer re-enqueues a message that arrives before its attempt is due, and reports a record
 * failed (`ReportBatchItemFailures`) only when it could not record the attempt.
 */
export class WebhookDelivery extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly bus: events.EventBus;
  private readonly visibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: WebhookDeliveryProps) {
    super(scope, id);
    this.visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(180);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      deadLetterOf: 'the webhook delivery queue',
      redriveSourceInStack: true,
    });
    this.queue = new sqs.Queue(this, 'Deliveries', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    this.bus = new events.EventBus(this, 'Notifications', {
      eventBusName: props.notificationBusName,
      description: 'Whetstone job notifications (source whetstone, detail-type the event type)',
    });
  }

  /**
   * Makes `deliverer` (webhooks/deliver) the queue's consumer, ten records a batch with partial
   * batch responses. Only what the mapping needs is granted here; the deliverer's own
   * re-enqueueing (SendMessage) is part of its handler access. The mapping is created beside the
   * function, so the function may live in another stack than the queue.
   */
  attachDeliverer(deliverer: lambda.Function): lambda.EventSourceMapping {
    const timeout = deliverer.timeout ?? LAMBDA_DEFAULT_TIMEOUT;
    const needed = timeout.toSeconds() * VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT;
    if (needed > this.visibilityTimeout.toSeconds()) {
      throw new Error(
        `the webhook deliverer's timeout (${timeout.toSeconds()} s) needs a delivery queue visibility timeout of at least ${needed} s; it is ${this.visibilityTimeout.toSeconds()} s`,
      );
    }
    // Lambda's SQS poller acts with the function's role.
    iam.Grant.addToPrincipal({
      grantee: deliverer,
      actions: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ],
      resourceArns: [this.queue.queueArn],
    });
    const mapping = deliverer.addEventSourceMapping('WebhookDeliveries', {
      eventSourceArn: this.queue.queueArn,
      batchSize: 10,
      reportBatchItemFailures: true,
    });
    acknowledge(
      mapping,
      'Serverless-LambdaEventSourceMappingDestination',
      'Lambda offers on-failure destinations only for stream and Kafka event sources, not SQS; a message ' +
        "the deliverer keeps failing moves to the delivery queue's dead-letter queue through its redrive policy.",
    );
    return mapping;
  }
}
