import { Aws, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { WhetstoneConfig } from '../config';
import { DataStorage } from '../constructs/storage';
import { PlatformTable } from '../constructs/table';

export interface PlatformStackProps extends StackProps {
  readonly config: WhetstoneConfig;
}

/** The control region's stateful core: the data bucket with its key and log bucket, and the table. */
export class PlatformStack extends Stack {
  readonly storage: DataStorage;
  readonly table: PlatformTable;

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
  }
}
