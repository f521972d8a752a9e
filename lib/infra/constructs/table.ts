import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TTL_ATTRIBUTE, tableDefinition } from '../../adapters/dynamodb/table';

export interface PlatformTableProps {
  /** The table's name: the handlers and trainers are told it, so it is chosen, not generated. */
  readonly tableName: string;
}

/**
 * The one DynamoDB table every store uses, with the keys and index `tableDefinition` gives the
 * local platform: on-demand, point-in-time recovery, deletion protection, TTL, encrypted at rest,
 * retained when the stack is deleted.
 */
export class PlatformTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PlatformTableProps) {
    super(scope, id);
    const definition = tableDefinition(props.tableName);
    const keyOf = (type: 'HASH' | 'RANGE', schema = definition.KeySchema ?? []) => {
      const name = schema.find((key) => key.KeyType === type)?.AttributeName;
      if (!name) throw new Error(`tableDefinition has no ${type} key`);
      return { name, type: dynamodb.AttributeType.STRING };
    };
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: keyOf('HASH'),
      sortKey: keyOf('RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of definition.GlobalSecondaryIndexes ?? []) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName as string,
        partitionKey: keyOf('HASH', index.KeySchema),
        sortKey: keyOf('RANGE', index.KeySchema),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
