import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createBucketTable } from '../../lambda/sluice';
import { dynamoPurpose, meterDynamoDb, Purpose } from '../../local/aws/dynamodb-meter';
import { itemBytes } from '../../local/aws/item-sizes';
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
      byPurpose: { other: { requests: 3, rcu: 1, wcu: 2 } },
    });
  });

  it('counts each request for its purpose: a tagged bucket write, the idempotency record by the shape of its write, the circuit by its key', async () => {
    const dynamodb = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: 'us-east-1' });
    const usage = meterDynamoDb(dynamodb);
    const table = uniqueName('meter-purpose');
    await createBucketTable(dynamodb, table);
    const idem = { vendor_dimension: { S: 'idem#m-1' } };
    await dynamoPurpose.run(Purpose.grant, () =>
      dynamodb.send(new PutItemCommand({ TableName: table, Item: { vendor_dimension: { S: 'acme' } } })),
    );
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: { ...idem, status: { S: 'IN_PROGRESS' } } }),
    );
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...idem, status: { S: 'COMPLETED' }, outcome: { S: 'x'.repeat(1500) } },
      }),
    );
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: idem,
        UpdateExpression: 'SET outcome_published = :t',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      }),
    );
    await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: idem }));
    await dynamoPurpose.run(Purpose.reconciler, () =>
      dynamodb.send(
        new GetItemCommand({ TableName: table, Key: { vendor_dimension: { S: 'circuit#acme' } } }),
      ),
    );
    expect(usage().byPurpose).toEqual({
      grant: { requests: 1, rcu: 0, wcu: 1 },
      'idempotency claim': { requests: 1, rcu: 0, wcu: 1 },
      // 1.5 KB written: 2 WCU; the mark and the delete are billed on the item's size too.
      'idempotency complete': { requests: 1, rcu: 0, wcu: 2 },
      'idempotency publish mark': { requests: 1, rcu: 0, wcu: 2 },
      'idempotency give-back': { requests: 1, rcu: 0, wcu: 2 },
      circuit: { requests: 1, rcu: 0.5, wcu: 0 },
    });
  });

  it('measures an item as DynamoDB bills it: names and values, numbers by their digits', () => {
    expect(itemBytes({ vendor_dimension: { S: 'a#b' } })).toBe(16 + 3);
    expect(itemBytes({ n: { N: '12345' }, b: { BOOL: true } })).toBe(1 + 4 + 1 + 1);
    expect(itemBytes({ m: { M: { ab: { S: 'xyz' } } } })).toBe(1 + 3 + 1 + 2 + 3);
  });
});
