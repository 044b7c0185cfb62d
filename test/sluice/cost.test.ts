import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SluiceClient } from '../../lambda/sluice/client';
import { DEFINITIONS, granted } from './fixtures';
import { localTable, RecordingLogger, testSettings } from './helpers';

interface Meter {
  requests: string[];
  wcu: number;
  rcu: number;
}

/** Asks DynamoDB Local for the consumed capacity of every call and adds it up. */
function meter(dynamodb: DynamoDBClient): Meter {
  const m: Meter = { requests: [], wcu: 0, rcu: 0 };
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      m.requests.push(String(context.commandName).replace('Command', ''));
      const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const read = /^(Get|Scan|Query|BatchGet)/.test(String(context.commandName));
      for (const c of [consumed].flat() as ({ CapacityUnits?: number } | undefined)[]) {
        if (read) m.rcu += c?.CapacityUnits ?? 0;
        else m.wcu += c?.CapacityUnits ?? 0;
      }
      return out;
    },
    { step: 'initialize', name: 'capacityMeter' },
  );
  return m;
}

/** What each operation costs, measured on DynamoDB Local (the baseline Sluice: 2 requests, ~4 WCU + 1 RCU). */
describe('request and capacity cost per operation on DynamoDB Local', () => {
  let client: SluiceClient;
  let m: Meter;
  let dynamodb: DynamoDBClient;
  beforeAll(async () => {
    const table = await localTable('sdk-cost');
    dynamodb = table.dynamodb;
    client = new SluiceClient({
      settings: testSettings({ tableName: table.tableName }),
      dynamodb,
      logger: new RecordingLogger(),
    });
    await client.upsertBuckets(DEFINITIONS);
    granted(await client.acquire(['openai#rpm', 'sweeppea#concurrent'])); // warms the cache of both items
    m = meter(dynamodb);
  });
  afterAll(() => dynamodb.destroy());

  const measure = async (run: () => Promise<unknown>) => {
    Object.assign(m, { requests: [], wcu: 0, rcu: 0 });
    await run();
    return { ...m };
  };

  it('a warm grant of one dimension is one UpdateItem of 1 WCU and no read', async () => {
    expect(await measure(() => client.acquire('openai#rpm'))).toEqual({
      requests: ['UpdateItem'],
      wcu: 1,
      rcu: 0,
    });
  });

  it('a warm grant of rpm and tpm of one vendor is still one UpdateItem of 1 WCU', async () => {
    expect(await measure(() => client.acquire({ 'openai#rpm': 1, 'openai#tpm': 500 }))).toEqual({
      requests: ['UpdateItem'],
      wcu: 1,
      rcu: 0,
    });
  });

  it('a grant across two items is one conditional write of 1 WCU per item (a transaction would bill 2 per item)', async () => {
    granted(await client.acquire(['openai#rpm', 'waitwhile#rps']));
    expect(await measure(() => client.acquire(['openai#rpm', 'waitwhile#rps']))).toEqual({
      requests: ['UpdateItem', 'UpdateItem'],
      wcu: 2,
      rcu: 0,
    });
  });

  it('a concurrent slot is one write to grant and one to release', async () => {
    expect(
      await measure(async () => {
        await granted(await client.acquire('sweeppea#concurrent')).release();
      }),
    ).toEqual({ requests: ['UpdateItem', 'UpdateItem'], wcu: 2, rcu: 0 });
  });

  it("a key's first use: a read that finds no item, one transaction (template checked, item put), one take", async () => {
    expect(await measure(() => client.acquire('waitwhile#location-writes#loc-cost'))).toEqual({
      requests: ['GetItem', 'TransactWriteItems', 'UpdateItem'],
      // As DynamoDB Local reports it: the transaction 8 for the table (it misreports transactions)
      // and 4 for the new item's sweep index entry, the take 1. DynamoDB's billing rule: 4, 1 and 1.
      wcu: 13,
      rcu: 1,
    });
  });

  it('a cached denial on a time bucket costs nothing', async () => {
    granted(await client.acquire({ 'openai#tpm': 9_000 }));
    expect(await measure(() => client.acquire({ 'openai#tpm': 5_000 }))).toEqual({
      requests: [],
      wcu: 0,
      rcu: 0,
    });
  });
});
