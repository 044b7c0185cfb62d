import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoBucketStore } from '../../lambda/sluice/dynamo-store';
import { createBucketTable } from '../../lambda/sluice/table';
import { uniqueName } from '../setup/local-endpoints';
import { localDynamoDb } from './helpers';
import { describeBucketStoreContract } from './store.contract';

let dynamodb: DynamoDBClient;
beforeAll(() => {
  dynamodb = localDynamoDb();
});
afterAll(() => dynamodb.destroy());

// A fresh table per case, as the memory store starts empty for each.
describeBucketStoreContract('DynamoBucketStore on DynamoDB Local', async () => {
  const tableName = uniqueName('sdk-store');
  await createBucketTable(dynamodb, tableName);
  return new DynamoBucketStore(dynamodb, tableName);
});

describe('createBucketTable', () => {
  it('is idempotent: creating the same table twice keeps it', async () => {
    const tableName = uniqueName('sdk-table');
    await createBucketTable(dynamodb, tableName);
    await expect(createBucketTable(dynamodb, tableName)).resolves.toBeUndefined();
  });
});
