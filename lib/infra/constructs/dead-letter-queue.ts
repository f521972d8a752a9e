import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from '../acknowledge';

export interface DeadLetterQueueProps {
  /** What parks its failures here, as the acknowledgements name it: "the Batch events rule". */
  readonly deadLetterOf: string;
  /**
   * Whether the queue's source is an SQS queue in the same stack that redrives here; cdk-nag
   * recognizes that pairing itself, and no other. Default false.
   */
  readonly redriveSourceInStack?: boolean;
  /** How long a parked message waits to be looked at; default 14 days, SQS's maximum. */
  readonly retentionPeriod?: Duration;
}

/**
 * A queue where failures end up: SQS-managed encryption, TLS only, kept for the longest SQS
 * allows so a failure found after a holiday is still there. It has no dead-letter queue of its
 * own, and its depth is what the observability alarms watch.
 */
export class DeadLetterQueue extends sqs.Queue {
  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
    });
    acknowledge(
      this,
      'Serverless-SQSRedrivePolicy',
      'A dead-letter queue is where failures end: a redrive policy would move them out of sight of the ' +
        'depth alarm that watches this queue, into a queue nobody watches.',
    );
    if (!props.redriveSourceInStack) {
      acknowledge(
        this,
        'AwsSolutions-SQS3',
        `This queue is itself the dead-letter queue of ${props.deadLetterOf}; cdk-nag recognizes a ` +
          'dead-letter queue only as an SQS redrive target or a Lambda DeadLetterConfig in the same stack.',
      );
    }
  }
}
