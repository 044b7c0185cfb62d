import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CIRCUIT_KEY_PREFIX } from '../../lambda/circuit/store';
import { SWEEP_INDEX } from '../../lambda/contract';
import { IDEMPOTENCY_KEY_PREFIX } from '../../lambda/idempotency/store';

/**
 * Exactly the DynamoDB actions each caller needs (lambda/sluice/store/dynamo-store.ts and
 * lambda/idempotency/dynamo-store.ts). There is no TransactWriteItems action: a transaction needs the
 * actions of the items it holds. The SDK's transactions hold updates (a grant over several
 * buckets) and, on the first use of a key, a ConditionCheck on the keyed template with a Put of
 * the key's item: so ConditionCheckItem too (docs/deploy.md). test/infra/iam/ evaluates every
 * call the code can make against the synthesized policies.
 *
 * An SDK caller (acquire, slot, release, penalize, resync): read a bucket, create a keyed
 * bucket on first use, conditional updates (also in transactions). `BucketTable.grantAcquire`
 * grants exactly these, on bucket items only (`bucketItemsOnly`).
 */
export const SDK_CALLER_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
] as const;

export const WORKER_TABLE_ACTIONS = [
  ...SDK_CALLER_TABLE_ACTIONS,
  // Idempotency records: an abandoned claim is deleted so the next delivery need not wait.
  'dynamodb:DeleteItem',
  // A batch's new claims, as PartiQL INSERTs in one BatchExecuteStatement (lambda/idempotency/dynamo-store.ts).
  'dynamodb:PartiQLInsert',
] as const;

/**
 * The sweep returns expired leases and forgets idle writer lanes, each with a conditional update.
 * It finds the items through the sweep index (`sweepStatements`), never by scanning the table.
 */
export const RECONCILER_TABLE_ACTIONS = ['dynamodb:UpdateItem'] as const;

/**
 * The sweep's reads: `Scan` on the sweep index only (it lists bucket items' keys and nothing
 * else), and `BatchGetItem` of bucket items only (`dynamodb:LeadingKeys`), so the reconciler can
 * read neither an idempotency record nor, through this, the circuit item.
 */
export function sweepStatements(table: dynamodb.ITable): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ['dynamodb:Scan'],
      resources: [`${table.tableArn}/index/${SWEEP_INDEX.name}`],
    }),
    new iam.PolicyStatement({
      actions: ['dynamodb:BatchGetItem'],
      resources: [table.tableArn],
      conditions: bucketKeysOnly(),
    }),
  ];
}

/**
 * The reconciler also reads the vendor circuit's item every run, to report its state with no
 * traffic: GetItem on that one item (`dynamodb:LeadingKeys`), nothing else of it.
 */
export function circuitReadStatement(table: dynamodb.ITable, vendor: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['dynamodb:GetItem'],
    resources: [table.tableArn],
    conditions: {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`${CIRCUIT_KEY_PREFIX}${vendor}`] },
    },
  });
}

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

/**
 * Partition-key prefixes of the items in the bucket table that are not buckets: the worker's
 * idempotency records and the vendor circuit. No vendor may be named after one
 * (lib/config-rules.ts), so a bucket's key never starts with one.
 */
export const NON_BUCKET_KEY_PREFIXES = [IDEMPOTENCY_KEY_PREFIX, CIRCUIT_KEY_PREFIX] as const;

/** A condition on item-level actions: every key a request touches is a bucket item's. */
function bucketKeysOnly() {
  return {
    'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': NON_BUCKET_KEY_PREFIXES.map((p) => `${p}*`) },
    // ForAllValues also holds for a request without the key: every action granted so carries it.
    Null: { 'dynamodb:LeadingKeys': 'false' },
  };
}

export function tableStatement(table: dynamodb.ITable, actions: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] });
}

/**
 * An SDK caller's grant, scoped with `dynamodb:LeadingKeys` to bucket items: it can never read
 * or write an idempotency record or the circuit item, and it creates whole items only for keyed
 * buckets (`vendor#metric#key`): a vendor's item (its bucket definitions and templates) is
 * written whole only by the seeding's upserts. The vendor item's unkeyed buckets share that
 * item, so a caller still updates it (token state); see docs/deploy.md, "Default settings".
 */
export function grantBucketItems(table: dynamodb.ITable, grantee: iam.IGrantable): iam.Grant {
  const notOtherRecords = bucketKeysOnly();
  const resourceArns = [table.tableArn];
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
    resourceArns,
    conditions: notOtherRecords,
  }).combine(
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem'],
      resourceArns,
      conditions: { ...notOtherRecords, 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#*#*'] } },
    }),
  );
}
