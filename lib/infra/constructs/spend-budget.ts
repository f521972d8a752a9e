import * as budgets from 'aws-cdk-lib/aws-budgets';
import { Construct } from 'constructs';

export interface SpendBudgetProps {
  /** Unique in the account (AWS Budgets names budgets per account). */
  readonly budgetName: string;
  /** The account's expected monthly cost in USD; the percentages are of this amount. */
  readonly monthlyUsd: number;
  /** Percentages of `monthlyUsd` whose actual spend sends an e-mail; default `[80, 100]`. */
  readonly alertPercents?: readonly number[];
  /** Who AWS Budgets e-mails (it sends them itself: no topic or subscription confirmation). */
  readonly email: string;
}

/**
 * A monthly cost budget over everything the account spends, not only this deployment's resources:
 * an e-mail when actual spend passes each alert percentage, and one when the month is forecast to
 * pass the whole amount. It only notifies; nothing is stopped.
 */
export class SpendBudget extends Construct {
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: SpendBudgetProps) {
    super(scope, id);
    const subscribers = [{ subscriptionType: 'EMAIL', address: props.email }];
    const notification = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) => ({
      notification: {
        notificationType,
        comparisonOperator: 'GREATER_THAN',
        threshold,
        thresholdType: 'PERCENTAGE',
      },
      subscribers,
    });
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [
        ...(props.alertPercents ?? [80, 100]).map((percent) => notification('ACTUAL', percent)),
        notification('FORECASTED', 100),
      ],
    });
  }
}
