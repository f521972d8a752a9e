import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue';

export interface AlarmTopicProps {
  /** Where the alarms are e-mailed (the address must confirm the subscription); default no e-mail. */
  readonly email?: string;
  /** The topic's display name, the sender name of its e-mails; default `Whetstone alarms`. */
  readonly displayName?: string;
}

/**
 * An SNS topic CloudWatch alarms of this stack's region publish to: TLS only, optionally e-mailed,
 * with undeliverable e-mails kept in a dead-letter queue. CloudWatch alarm actions must name a
 * topic in the alarm's own region, so each region with alarms has one.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  /** Only when `email` is set. */
  readonly emailDeadLetterQueue?: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName ?? 'Whetstone alarms',
      enforceSSL: true,
    });
    // The TLS-only policy replaces the topic's default policy, which is what let the account's
    // CloudWatch alarms publish; this grant puts that back for this account's alarms only.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (props.email) {
      this.emailDeadLetterQueue = new DeadLetterQueue(this, 'EmailDeadLetters', {
        deadLetterOf: "the alarm topic's e-mail subscription (SNS redrive policy)",
      });
      this.topic.addSubscription(
        new subscriptions.EmailSubscription(props.email, { deadLetterQueue: this.emailDeadLetterQueue }),
      );
    }
  }
}
