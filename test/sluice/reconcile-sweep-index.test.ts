import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbCircuitStore } from '../../lambda/circuit/dynamo-store';
import { CLOSED } from '../../lambda/circuit/state';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import { SluiceClient } from '../../lambda/sluice/client';
import { SWEEP_INDEX, TABLE_PARTITION_KEY } from '../../lambda/sluice/store/table';
import { localTable, RecordingLogger, T0, testSettings } from './helpers';

/**
 * The reconciler reads bucket items only, however many other records share the table: on
 * DynamoDB Local, with thousands of the worker's real idempotency records and its circuit item
 * beside a few buckets holding leaked leases, the sweep reclaims every lease while each Scan it
 * sends is on the sweep index and every item it reads is a bucket, as DynamoDB's own answers
 * (ScannedCount, the keys read) say.
 */

const RECORDS = 1_000;

interface Sent {
  readonly command: string;
  readonly indexName?: string;
  readonly scannedCount?: number;
  readonly keysRead: string[];
}

/** Records what each request asked and what DynamoDB answered: the sweep's reads, from the wire. */
function recordRequests(dynamodb: DynamoDBClient): Sent[] {
  const sent: Sent[] = [];
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as { IndexName?: string };
      const output = result.output as {
        ScannedCount?: number;
        Responses?: Record<string, Record<string, { S?: string }>[]>;
      };
      sent.push({
        command: String(context.commandName),
        ...(input.IndexName === undefined ? {} : { indexName: input.IndexName }),
        ...(output.ScannedCount === undefined ? {} : { scannedCount: output.ScannedCount }),
        keysRead: Object.values(output.Responses ?? {})
          .flat()
          .map((item) => item[TABLE_PARTITION_KEY]?.S ?? '?'),
      });
      return result;
    },
    { step: 'initialize', name: 'recordSweepRequests' },
  );
  return sent;
}

async function writeIdempotencyRecords(dynamodb: DynamoDBClient, tableName: string) {
  const records = new DynamoDbIdempotencyStore(dynamodb, tableName, () => 'owner-1');
  for (let first = 0; first < RECORDS; first += 100) {
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const id = `message-${first + i}`;
        await records.begin(id, T0, T0 + 60_000);
        await records.complete(id, T0, '{"status":200}');
      }),
    );
  }
  await new DynamoDbCircuitStore(dynamodb, tableName).write(
    'sweeppea',
    { state: CLOSED, version: 1, ops: [] },
    0,
  );
}

describe('the sweep on the sparse index', () => {
  it('reclaims leaked leases and reads none of the records beside the buckets', async () => {
    const { dynamodb, tableName, store } = await localTable('sweep-index');
    let now = T0;
    const client = new SluiceClient({
      settings: testSettings({ tableName }),
      dynamodb,
      clock: () => now,
      logger: new RecordingLogger(),
    });
    await client.upsertBuckets([
      { dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 2 },
      { dimension: 'sweeppea#seats#*', limitType: 'concurrent', capacity: 1 },
    ]);
    // Three leases no one releases: two on the vendor item, one on a key created on first use.
    for (const dimension of ['sweeppea#concurrent', 'sweeppea#concurrent', 'sweeppea#seats#loc-1']) {
      expect((await client.acquire(dimension)).outcome).toBe('Granted');
    }
    await writeIdempotencyRecords(dynamodb, tableName);
    const sent = recordRequests(dynamodb);
    now += 120_000;

    expect(await client.reconcile()).toEqual({ totalLeases: 3, restored: 3, deleted: 0, failedItems: 0 });

    const scans = sent.filter((s) => s.command === 'ScanCommand');
    expect({
      scans: scans.map((s) => [s.indexName, s.scannedCount]),
      read: sent.flatMap((s) => s.keysRead).sort(),
      commands: [...new Set(sent.map((s) => s.command))].sort(),
    }).toEqual({
      scans: [[SWEEP_INDEX.name, 2]],
      read: ['sweeppea', 'sweeppea#seats#loc-1'],
      commands: ['BatchGetItemCommand', 'ScanCommand', 'UpdateItemCommand'],
    });
    expect((await client.snapshot('sweeppea#concurrent')).leases).toBe(0);
    expect((await client.snapshot('sweeppea#seats#loc-1')).leases).toBe(0);
    // The same table scanned whole reads every record: what the sweep no longer pays.
    sent.length = 0;
    let cursor: string | undefined;
    do cursor = (await store.scan(cursor, 1_000)).cursor;
    while (cursor !== undefined);
    expect(sent.reduce((n, s) => n + (s.scannedCount ?? 0), 0)).toBe(RECORDS + 3);
    dynamodb.destroy();
  });

  it('reaches items written before the index once the seeding has passed over the table', async () => {
    const { dynamodb, tableName } = await localTable('sweep-backfill');
    let now = T0;
    const client = new SluiceClient({
      settings: testSettings({ tableName }),
      dynamodb,
      clock: () => now,
      logger: new RecordingLogger(),
    });
    const seats = { dimension: 'sweeppea#seats#*', limitType: 'concurrent' as const, capacity: 1 };
    const rooms = { dimension: 'sweeppea#rooms#*', limitType: 'concurrent' as const, capacity: 1 };
    await client.upsertBuckets([seats, rooms]);
    const legacy = ['sweeppea#seats#loc-old', 'sweeppea#rooms#r-old'];
    for (const pk of legacy) {
      expect((await client.acquire(pk)).outcome).toBe('Granted');
      // As an item written by a version without the index: no sweep key.
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { [TABLE_PARTITION_KEY]: { S: pk } },
          UpdateExpression: 'REMOVE #sweep',
          ExpressionAttributeNames: { '#sweep': SWEEP_INDEX.partitionKey },
        }),
      );
    }
    await new DynamoDbIdempotencyStore(dynamodb, tableName, () => 'owner-1').begin('m-1', T0, T0 + 60_000);
    now += 120_000;
    expect((await client.reconcile()).restored).toBe(0);

    // The seeding, on the first deploy with the index: the seats key is redefined (a write, which
    // marks it); the rooms key, whose template is no longer configured, is only marked.
    await client.upsertBuckets([seats]);
    expect((await client.reconcile()).restored).toBe(2);
    const sweepKeyOf = async (pk: string) =>
      (
        await dynamodb.send(
          new GetItemCommand({ TableName: tableName, Key: { [TABLE_PARTITION_KEY]: { S: pk } } }),
        )
      ).Item?.[SWEEP_INDEX.partitionKey]?.S;
    expect(await Promise.all([...legacy, 'idem#m-1'].map(sweepKeyOf))).toEqual([...legacy, undefined]);
    dynamodb.destroy();
  });
});
