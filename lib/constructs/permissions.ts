import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Exactly the DynamoDB actions each function calls. There is no TransactWriteItems action:
 * a transaction needs the item actions it contains plus ConditionCheckItem (DESIGN §6).
 */
export const WORKER_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** The reconciler also scans for expired leases; nothing else may Scan the table. */
export const RECONCILER_TABLE_ACTIONS = ['dynamodb:Scan', ...WORKER_TABLE_ACTIONS] as const;

/** Seeding upserts bucket definitions (conditional writes that keep live token state). */
export const SEEDING_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
] as const;

export function tableStatement(table: dynamodb.ITable, actions: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] });
}
