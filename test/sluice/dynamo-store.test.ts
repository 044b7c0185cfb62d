import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { fullBucket } from '../../lambda/sluice/core/bucket-math';
import { SluiceError } from '../../lambda/sluice/errors';
import { DynamoBucketStore } from '../../lambda/sluice/store/dynamo-store';
import { Attr, itemToRecord } from '../../lambda/sluice/store/item-codec';
import { createBucketTable } from '../../lambda/sluice/store/table';
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

describe('items written before writes carried an op', () => {
  it('gain an empty writers map on their first write, which then applies as usual', async () => {
    const tableName = uniqueName('sdk-legacy');
    await createBucketTable(dynamodb, tableName);
    const store = new DynamoBucketStore(dynamodb, tableName);
    const rpm = fullBucket(
      { limitType: 'requests', capacityMilli: 60_000, windowMs: 60_000, costPerCall: 1 },
      1,
    );
    const { [Attr.writers]: _none, ...legacy } = itemToRecord({
      pk: 'openai',
      version: 1,
      buckets: { rpm },
      templates: {},
      writers: {},
    });
    await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: marshall(legacy) }));
    const op = { writer: 'w.0', seq: 5 };
    const take = {
      metric: 'rpm',
      definition: rpm,
      costMilli: 1_000,
      guard: { kind: 'leases' as const },
      countGrant: false,
    };
    const taken = await store.takeStored({ pk: 'openai', op, nowMs: 0, takes: [take] });
    const written = await store.write({
      pk: 'openai',
      expectedVersion: 2,
      buckets: { rpm: { ...rpm, tokensMilli: 1 } },
      op: { ...op, seq: 6 },
    });
    expect([taken.ok && taken.item.writers, written, (await store.get('openai'))?.writers]).toEqual([
      { 'w.0': 5 },
      { ok: true },
      { 'w.0': 6 },
    ]);
  });
});

describe('an item the codec cannot read', () => {
  it('fails the read with a SluiceError that names the item and the field', async () => {
    const tableName = uniqueName('sdk-corrupt');
    await createBucketTable(dynamodb, tableName);
    const store = new DynamoBucketStore(dynamodb, tableName);
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall({ vendor_dimension: 'openai', version: 'two' }),
      }),
    );
    const read = store.get('openai');
    await expect(read).rejects.toBeInstanceOf(SluiceError);
    await expect(read).rejects.toThrow('stored item openai has no number version (got "two")');
  });
});
