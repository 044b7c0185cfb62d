import { BatchWriteItemCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbIdempotencyStore } from '../lambda/idempotency/dynamo-store';
import { IDEMPOTENCY_KEY_PREFIX } from '../lambda/idempotency/store';
import { createBucketTable, DynamoBucketStore, SluiceClient, TABLE_PARTITION_KEY } from '../lambda/sluice';
import { meterDynamoDb } from '../local/aws/dynamodb-meter';
import { startDynamoDbLocal } from '../local/servers/dynamodb-local';

/**
 * What one reconciler sweep reads beside many idempotency records, on DynamoDB Local:
 * `npx tsx bench/sweep-scale.ts [records]` (default 20,000). One bucket with a leaked lease and
 * `records` completed idempotency records (copies of one the worker's store wrote); the sweep
 * (sweep index, then the items) against a whole-table scan, in requests, items DynamoDB
 * scanned, and wall time. Not part of `npm run bench`: a one-off figure for docs/design.md.
 */

const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

async function main(records: number) {
  const server = await startDynamoDbLocal();
  try {
    const dynamodb = new DynamoDBClient({ ...LOCAL, endpoint: server.endpoint });
    const tableName = `sweep-scale-${Date.now()}`;
    await createBucketTable(dynamodb, tableName);
    let now = 1_700_000_000_000;
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const settings = {
      tableName,
      leaseTtlSeconds: 60,
      maxRetries: 3,
      defaultSlotTimeoutSeconds: 30,
      inlineRetryThresholdSeconds: 5,
      logLevel: 'ERROR' as const,
    };
    const client = new SluiceClient({ settings, dynamodb, clock: () => now, logger: silent });
    await client.upsertBuckets([{ dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 }]);
    await client.acquire('sweeppea#concurrent');
    await writeRecords(dynamodb, tableName, records);
    now += 120_000;

    const metered = new DynamoDBClient({ ...LOCAL, endpoint: server.endpoint });
    const usage = meterDynamoDb(metered);
    const sweeper = new SluiceClient({ settings, dynamodb: metered, clock: () => now, logger: silent });
    const sweepStarted = performance.now();
    const report = await sweeper.reconcile();
    const sweepMs = performance.now() - sweepStarted;
    const sweep = usage();

    const store = new DynamoBucketStore(dynamodb, tableName);
    const scanStarted = performance.now();
    let pages = 0;
    let cursor: string | undefined;
    do {
      cursor = (await store.scan(cursor)).cursor;
      pages++;
    } while (cursor !== undefined);
    const scanMs = performance.now() - scanStarted;
    process.stdout.write(
      `${JSON.stringify(
        {
          records,
          sweep: { report, requests: sweep.byOperation, ms: Math.round(sweepMs) },
          tableScan: { pages, ms: Math.round(scanMs) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await server.stop();
  }
}

/** `records` completed records: one written by the worker's store, the rest copies of it. */
async function writeRecords(dynamodb: DynamoDBClient, tableName: string, records: number) {
  const store = new DynamoDbIdempotencyStore(dynamodb, tableName, () => 'owner');
  await store.begin('m-0', 0, 60_000);
  await store.complete('m-0', 0, '{"status":200}');
  const key = { [TABLE_PARTITION_KEY]: { S: `${IDEMPOTENCY_KEY_PREFIX}m-0` } };
  const { Item: template } = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key }));
  for (let first = 1; first < records; first += 25) {
    const ids = Array.from({ length: Math.min(25, records - first) }, (_, i) => first + i);
    let pending = ids.map((id) => ({
      PutRequest: { Item: { ...template, [TABLE_PARTITION_KEY]: { S: `${IDEMPOTENCY_KEY_PREFIX}m-${id}` } } },
    }));
    while (pending.length > 0) {
      const out = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
  }
}

main(Number(process.argv[2] ?? 20_000)).catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
