import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createBaselineTable, DocumentedSluice } from '../../bench/baseline/documented-sluice';
import { attachMeter, emptyUsage } from '../../local/aws/dynamodb-meter';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

const T0 = 1_700_000_000_000;

function client(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: 'us-east-1' });
}

async function baselineOnNewTable(clock: () => number = () => T0) {
  const dynamodb = client();
  const tableName = uniqueName('baseline');
  await createBaselineTable(dynamodb, tableName);
  const sluice = new DocumentedSluice({ dynamodb, tableName, clock, sleep: async () => {} });
  return { dynamodb, tableName, sluice };
}

describe('the documented Sluice baseline on DynamoDB Local', () => {
  it('grants up to capacity, then answers RetryIn with the computed wait', async () => {
    const { sluice } = await baselineOnNewTable();
    await sluice.putBucket({ dimension: 'openai#rpm', limitType: 'requests', capacity: 3, windowSeconds: 6 });

    const outcomes = [];
    for (let i = 0; i < 4; i += 1) outcomes.push(await sluice.acquire('openai#rpm'));

    expect(outcomes.map((result) => result.outcome)).toEqual(['Granted', 'Granted', 'Granted', 'RetryIn']);
    expect(outcomes[3]).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 2,
      dimension: 'openai#rpm',
      contention: false,
    });
  });

  it('costs a consistent GetItem and a two-item transaction per grant: 2 requests, 1 RCU, 4 WCU', async () => {
    const { dynamodb, sluice } = await baselineOnNewTable();
    await sluice.putBucket({
      dimension: 'openai#rpm',
      limitType: 'requests',
      capacity: 100,
      windowSeconds: 60,
    });
    const usage = emptyUsage();
    attachMeter(dynamodb, usage);

    for (let i = 0; i < 5; i += 1) await sluice.acquire('openai#rpm');

    expect(usage).toEqual({
      requests: 10,
      rcu: 5,
      wcu: 20,
      failedWrites: 0,
      byOperation: { GetItemCommand: 5, TransactWriteItemsCommand: 5 },
      // The baseline's calls carry no purpose tag of the project's own.
      byPurpose: { other: { requests: 10, rcu: 5, wcu: 20 } },
    });
  });

  it('costs a GetItem per dimension and one four-item transaction for rpm + tpm: 3 requests, 2 RCU, 8 WCU', async () => {
    const { dynamodb, sluice } = await baselineOnNewTable();
    await sluice.putBucket({
      dimension: 'openai#rpm',
      limitType: 'requests',
      capacity: 100,
      windowSeconds: 60,
    });
    await sluice.putBucket({
      dimension: 'openai#tpm',
      limitType: 'tokens',
      capacity: 100_000,
      windowSeconds: 60,
    });
    const usage = emptyUsage();
    attachMeter(dynamodb, usage);

    await sluice.acquire({ 'openai#rpm': 1, 'openai#tpm': 500 });

    expect(usage).toEqual({
      requests: 3,
      rcu: 2,
      wcu: 8,
      failedWrites: 0,
      byOperation: { GetItemCommand: 2, TransactWriteItemsCommand: 1 },
      byPurpose: { other: { requests: 3, rcu: 2, wcu: 8 } },
    });
  });

  it('writes a lease with a ttl on every acquisition, time buckets included', async () => {
    const { dynamodb, tableName, sluice } = await baselineOnNewTable();
    await sluice.putBucket({
      dimension: 'openai#rpm',
      limitType: 'requests',
      capacity: 10,
      windowSeconds: 60,
    });

    await sluice.acquire('openai#rpm');
    await sluice.acquire('openai#rpm');

    const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: tableName }));
    const leases = Items.filter((item) => item.vendor_dimension?.S?.startsWith('lease#openai#rpm#'));
    expect(leases.map((lease) => lease.ttl?.N)).toEqual([String(T0 / 1000 + 60), String(T0 / 1000 + 60)]);
  });

  it('grants several dimensions all or nothing, and names the dimension that is short', async () => {
    const { sluice } = await baselineOnNewTable();
    await sluice.putBucket({
      dimension: 'openai#rpm',
      limitType: 'requests',
      capacity: 10,
      windowSeconds: 60,
    });
    await sluice.putBucket({
      dimension: 'openai#tpm',
      limitType: 'tokens',
      capacity: 1000,
      windowSeconds: 60,
    });

    const first = await sluice.acquire({ 'openai#rpm': 1, 'openai#tpm': 800 });
    const second = await sluice.acquire({ 'openai#rpm': 1, 'openai#tpm': 800 });
    const smaller = [];
    for (let i = 0; i < 10; i += 1)
      smaller.push((await sluice.acquire({ 'openai#rpm': 1, 'openai#tpm': 1 })).outcome);

    expect(first.outcome).toEqual('Granted');
    expect(second).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 36,
      dimension: 'openai#tpm',
      contention: false,
    });
    // The refused attempt took no rpm: 9 of the 10 rpm units are still there.
    expect(smaller.filter((outcome) => outcome === 'Granted')).toHaveLength(9);
  });

  it('never admits more than capacity when 8 clients race on one bucket at one instant', async () => {
    const { tableName, sluice } = await baselineOnNewTable();
    await sluice.putBucket({
      dimension: 'openai#rpm',
      limitType: 'requests',
      capacity: 20,
      windowSeconds: 60,
    });
    const clients = Array.from(
      { length: 8 },
      () => new DocumentedSluice({ dynamodb: client(), tableName, clock: () => T0, sleep: async () => {} }),
    );

    const results = await Promise.all(
      clients.flatMap((racer) => Array.from({ length: 5 }, () => racer.acquire('openai#rpm'))),
    );
    const granted = results.filter((result) => result.outcome === 'Granted').length;
    const after = await sluice.acquire({ 'openai#rpm': 20 });

    expect(granted).toBeLessThanOrEqual(20);
    // Whatever was granted is gone from the bucket: tokens + granted = capacity.
    expect(after).toEqual({
      outcome: 'RetryIn',
      waitSeconds: granted * 3,
      dimension: 'openai#rpm',
      contention: false,
    });
  });

  it('refuses an unknown dimension with a message naming it', async () => {
    const { sluice } = await baselineOnNewTable();

    await expect(sluice.acquire('openai#rpd')).rejects.toThrow(
      'Unknown dimension "openai#rpd": no bucket is defined for it.',
    );
  });
});
