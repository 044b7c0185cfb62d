import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import { createBucketTable } from '../../lambda/sluice';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { countingOwners, describeIdempotencyContract } from './contract';

describeIdempotencyContract('DynamoDB Local', async () => {
  const dynamodb = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: 'us-east-1' });
  const tableName = uniqueName('idem-contract');
  await createBucketTable(dynamodb, tableName);
  return {
    store: new DynamoDbIdempotencyStore(dynamodb, tableName, countingOwners()),
    done: async () => dynamodb.destroy(),
  };
});
