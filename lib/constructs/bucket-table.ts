import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableDefinition } from '../derived-settings';

export interface BucketTableProps {
  /** A `dev` stage is disposable: no deletion protection, destroyed with the stack. */
  readonly stage: string;
}

/** Stages whose data may be thrown away with the stack. */
export const DISPOSABLE_STAGES: readonly string[] = ['dev'];

export function removalPolicyFor(stage: string): RemovalPolicy {
  return DISPOSABLE_STAGES.includes(stage) ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/**
 * The one table holding every bucket and lease. On demand, because the write rate follows
 * the callers, not a provisioned guess. TTL only garbage-collects records long after the
 * reconciler handled them (TTL deletes days late and restores nothing). Point-in-time
 * recovery always; deletion protection and RETAIN outside disposable stages.
 */
export class BucketTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: BucketTableProps) {
    super(scope, id);
    const disposable = DISPOSABLE_STAGES.includes(props.stage);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: tableDefinition.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !disposable,
      removalPolicy: removalPolicyFor(props.stage),
    });
  }
}
