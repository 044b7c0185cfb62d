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
 * Creates the bucket table as the CDK stack defines it: on-demand, string partition key
 * `vendor_dimension`, TTL on `ttl` (a garbage-collection backstop only: bucket items carry
 * no `ttl`, so TTL never removes a bucket or a live lease). Idempotent: an existing table is kept.
 */
export async function createBucketTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: TABLE_PARTITION_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' }],
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
