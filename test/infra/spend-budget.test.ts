import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseWhetstoneConfig, type WhetstoneConfigInput } from '../../lib/infra';
import { PlatformStack } from '../../lib/infra/stacks/platform-stack';
import { ENV, nagApp } from './stand-ins';

const EMAIL = 'ml-ops@example.com';

/** One notification as the template holds it, e-mailed to EMAIL. */
function emailed(notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) {
  return {
    Notification: {
      NotificationType: notificationType,
      ComparisonOperator: 'GREATER_THAN',
      Threshold: threshold,
      ThresholdType: 'PERCENTAGE',
    },
    Subscribers: [{ SubscriptionType: 'EMAIL', Address: EMAIL }],
  };
}

describe('the spend budget', () => {
  let budgeted: PlatformStack;
  let defaults: Template;
  let custom: Template;
  let none: Template;

  beforeAll(() => {
    // Prepare
    const app = nagApp();
    const platform = (id: string, config: WhetstoneConfigInput) =>
      new PlatformStack(app, id, { env: ENV, config: parseWhetstoneConfig(config) });

    // Act: synth runs cdk-nag and throws on any finding not acknowledged
    budgeted = platform('Defaults', {
      deploymentName: 'ml',
      alarms: { email: EMAIL },
      budgets: { monthlyUsd: 2500 },
    });
    platform('Custom', {
      alarms: { email: EMAIL },
      budgets: { monthlyUsd: 99.5, alertPercents: [50, 90, 120] },
    });
    platform('None', { alarms: { email: EMAIL } });
    const assembly = app.synth();
    [defaults, custom, none] = ['Defaults', 'Custom', 'None'].map((name) =>
      Template.fromJSON(assembly.getStackByName(name).template),
    ) as [Template, Template, Template];
  });

  it("budgets the account's monthly cost under the deployment's name", () => {
    // Assess
    defaults.resourceCountIs('AWS::Budgets::Budget', 1);
    defaults.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'ml-monthly-spend',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 2500, Unit: 'USD' },
        CostFilters: Match.absent(),
        FilterExpression: Match.absent(),
      },
    });
    expect(budgeted.spendBudget).toBeDefined();
  });

  it('e-mails the alarm address when actual spend passes 80 % and 100 %, and when the month is forecast to pass 100 %', () => {
    // Assess
    defaults.hasResourceProperties('AWS::Budgets::Budget', {
      NotificationsWithSubscribers: [
        emailed('ACTUAL', 80),
        emailed('ACTUAL', 100),
        emailed('FORECASTED', 100),
      ],
    });
  });

  it('takes the amount and the alert percentages from the configuration', () => {
    // Assess
    custom.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({
        BudgetName: 'whetstone-monthly-spend',
        BudgetLimit: { Amount: 99.5, Unit: 'USD' },
      }),
      NotificationsWithSubscribers: [
        emailed('ACTUAL', 50),
        emailed('ACTUAL', 90),
        emailed('ACTUAL', 120),
        emailed('FORECASTED', 100),
      ],
    });
  });

  it('makes no budget when no monthly amount is configured', () => {
    // Assess
    none.resourceCountIs('AWS::Budgets::Budget', 0);
  });

  it('refuses a configuration built without parsing that has a budget but no e-mail address', () => {
    // Prepare
    const config = parseWhetstoneConfig({});
    const unchecked = { ...config, budgets: { monthlyUsd: 100, alertPercents: [80] } };

    // Act / Assess
    expect(() => new PlatformStack(nagApp(), 'Unchecked', { config: unchecked })).toThrow(
      'budgets.monthlyUsd needs alarms.email to notify',
    );
  });
});
