import { Aws, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { WhetstoneConfig } from '../config';
import { SpendBudget } from '../constructs/spend-budget';
import { DataStorage } from '../constructs/storage';
import { PlatformTable } from '../constructs/table';
import { DeploymentNames } from '../names';

export interface PlatformStackProps extends StackProps {
  readonly config: WhetstoneConfig;
}

/**
 * The control region's stateful core: the data bucket with its key and log bucket, the table, and
 * the account's spend budget when one is configured.
 */
export class PlatformStack extends Stack {
  readonly storage: DataStorage;
  readonly table: PlatformTable;
  /** Only when `budgets.monthlyUsd` is set. */
  readonly spendBudget?: SpendBudget;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.storage = new DataStorage(this, 'Storage', {
      // Deterministic, so stacks in other regions can name it without a cross-region reference.
      bucketName: `${config.deploymentName}-data-${Aws.ACCOUNT_ID}-${config.controlRegion}`,
      noncurrentVersionDays: config.storage.noncurrentVersionDays,
      abortIncompleteMultipartUploadDays: config.storage.abortIncompleteMultipartUploadDays,
      accessLogDays: config.storage.accessLogDays,
    });
    this.table = new PlatformTable(this, 'Table', { tableName: config.deploymentName });
    const { monthlyUsd, alertPercents } = config.budgets;
    if (monthlyUsd !== undefined) {
      // parseWhetstoneConfig already refuses this; a config built by hand reaches here.
      if (config.alarms.email === undefined) {
        throw new Error('budgets.monthlyUsd needs alarms.email to notify');
      }
      this.spendBudget = new SpendBudget(this, 'SpendBudget', {
        budgetName: new DeploymentNames(config).spendBudget,
        monthlyUsd,
        alertPercents,
        email: config.alarms.email,
      });
    }
  }
}
