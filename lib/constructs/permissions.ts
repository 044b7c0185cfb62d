import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Exactly the DynamoDB actions each caller needs (lambda/sluice/store/dynamo-store.ts and
 * lambda/worker/idempotency.ts). There is no TransactWriteItems action: a transaction needs
 * the actions of the items it contains; the SDK's transactions hold only updates, so no
 * ConditionCheckItem (docs/deploy.md).
 *
 * An SDK caller (acquire, slot, release, penalize, resync): read a bucket, create a keyed
 * bucket on first use, conditional updates (also in transactions). `BucketTable.grantAcquire`
 * grants exactly these.
 */
export const SDK_CALLER_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

export const WORKER_TABLE_ACTIONS = [
  ...SDK_CALLER_TABLE_ACTIONS,
  // Idempotency records: an abandoned claim is deleted so the next delivery need not wait.
  'dynamodb:DeleteItem',
] as const;

/** The sweep scans for expired leases and returns each with a conditional update. */
export const RECONCILER_TABLE_ACTIONS = ['dynamodb:Scan', 'dynamodb:UpdateItem'] as const;

/**
 * Upserts keep live token state (read, create or update); a keyed definition (`#*`) is also
 * applied to every existing key item, found by a scan. That runs at deploy time, never on the
 * hot path, so the worker still has no Scan.
 */
export const SEEDING_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Scan',
] as const;

export function tableStatement(table: dynamodb.ITable, actions: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] });
}
