import {
  CreateTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/** Partition key and the TTL attribute of the bucket table (the CDK stack defines the same). */
export const TABLE_PARTITION_KEY = 'vendor_dimension';
export const TABLE_TTL_ATTRIBUTE = 'ttl';

/**
 * The sparse index the reconciler sweeps: its partition key `sweep` is written on bucket items
 * only (the item's own pk, at creation and on every write), never on idempotency records or the
 * circuit item, so the index holds the few items that can hold leases and writer lanes, not the
 * millions of records beside them. Keys only: the sweep reads the items themselves,
 * consistently, and nothing a grant changes is projected, so a grant writes nothing to the index.
 */
export const SWEEP_INDEX = { name: 'sweep', partitionKey: 'sweep' } as const;

/**
 * Creates the bucket table as the CDK stack defines it: on-demand, string partition key
 * `vendor_dimension`, TTL on `ttl` (a garbage-collection backstop only: bucket items carry
 * no `ttl`, so TTL never removes a bucket or a live lease), the sparse `SWEEP_INDEX`.
 * Idempotent: an existing table is kept.
 */
export async function createBucketTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: SWEEP_INDEX.partitionKey, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: SWEEP_INDEX.name,
            KeySchema: [{ AttributeName: SWEEP_INDEX.partitionKey, KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists(
    { client: dynamodb, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
    { TableName: tableName },
  );
  try {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // Enabling TTL twice is refused with "TimeToLive is already enabled": that is the wanted state.
    if (!/already enabled/i.test((error as Error).message)) throw error;
  }
}
