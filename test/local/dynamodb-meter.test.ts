import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createBucketTable } from '../../lambda/sluice';
import { meterDynamoDb } from '../../local/dynamodb-meter';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

describe('the DynamoDB meter of the local stack', () => {
  it('counts data-plane requests and the capacity DynamoDB Local reports, plus 1 WCU per failed conditional write', async () => {
    const dynamodb = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: 'us-east-1' });
    const usage = meterDynamoDb(dynamodb);
    const table = uniqueName('meter');
    await createBucketTable(dynamodb, table);
    const item = { vendor_dimension: { S: 'a#b' } };

    await dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
    await dynamodb.send(new GetItemCommand({ TableName: table, Key: item, ConsistentRead: true }));
    await expect(
      dynamodb.send(
        new PutItemCommand({
          TableName: table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(vendor_dimension)',
        }),
      ),
    ).rejects.toThrow('The conditional request failed');

    expect(usage()).toEqual({
      requests: 3,
      rcu: 1,
      wcu: 2,
      byOperation: { PutItemCommand: 2, GetItemCommand: 1 },
    });
  });
});
