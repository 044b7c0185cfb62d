import { randomUUID } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createBucketTable, SluiceClient, SluiceConfig } from '../../lambda/sluice';
import { DynamoDbIdempotencyStore } from '../../lambda/worker/idempotency';
import { createReconciler } from '../../lambda/worker/reconciler';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { steppedClock } from './harness';

const REGION = process.env.AWS_REGION ?? 'us-east-1';
const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

describe('the reconciler handler', () => {
  it('gives back the slot of a worker that died between acquire and release, once its lease expired', async () => {
    const endpoints = localEndpoints();
    const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
    const tableName = uniqueName('reconcile');
    await createBucketTable(dynamodb, tableName);
    const time = steppedClock();
    const settings = SluiceConfig.fromEnv(
      { tableName, endpointUrl: endpoints.dynamodb, region: REGION, leaseTtlSeconds: 60 },
      {},
    );
    const sluice = new SluiceClient({ settings, dynamodb, clock: time.clock, logger: quietLogger });
    try {
      await sluice.upsertBuckets([
        { dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 },
      ]);
      // The worker's idempotency records share the table: the sweep must pass over them.
      const idempotency = new DynamoDbIdempotencyStore(dynamodb, tableName, randomUUID);
      await idempotency.begin('in-flight-message', time.clock(), time.clock() + 30_000);
      await idempotency.complete('done-message', time.clock());

      const dying = await sluice.acquire({ 'sweeppea#concurrent': 1 });
      expect(dying.outcome).toBe('Granted');
      // The process "dies": no release. The next caller is told to wait.
      expect((await sluice.acquire({ 'sweeppea#concurrent': 1 })).outcome).toBe('RetryIn');

      const metrics = new Metrics({ namespace: 'Sluice', serviceName: 'sweeppea' });
      const published: unknown[] = [];
      jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
        published.push(this.serializeMetrics());
        this.clearMetrics();
        return this;
      });
      const reconcile = createReconciler(sluice, metrics);

      // Before the lease expires, a live holder is never reclaimed.
      expect(await reconcile()).toEqual({ totalLeases: 1, restored: 0, deleted: 0, failedItems: 0 });
      time.advance(61_000);
      expect(await reconcile()).toEqual({ totalLeases: 1, restored: 1, deleted: 0, failedItems: 0 });
      // Idempotent: a second tick finds nothing left to give back.
      expect(await reconcile()).toEqual({ totalLeases: 0, restored: 0, deleted: 0, failedItems: 0 });
      expect((await sluice.acquire({ 'sweeppea#concurrent': 1 })).outcome).toBe('Granted');

      const values = published.map((emf) => {
        const record = emf as Record<string, unknown>;
        return [record.ReconcilerRuns, record.ReclaimedLeases, record.ReconcilerItemErrors];
      });
      expect(values).toEqual([
        [1, 0, 0],
        [1, 1, 0],
        [1, 0, 0],
      ]);
    } finally {
      dynamodb.destroy();
    }
  });
});

describe('the reconciler Lambda entry point', () => {
  it('reads the SDK settings from the environment and sweeps the table', async () => {
    const endpoints = localEndpoints();
    const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
    const tableName = uniqueName('reconcile-env');
    await createBucketTable(dynamodb, tableName);
    const saved = { ...process.env };
    Object.assign(process.env, {
      SLUICE_TABLE_NAME: tableName,
      SLUICE_ENDPOINT_URL: endpoints.dynamodb,
      SLUICE_AWS_REGION: REGION,
      SLUICE_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    try {
      const { handler } = await import('../../lambda/handlers/reconciler');
      expect(await handler()).toEqual({ totalLeases: 0, restored: 0, deleted: 0, failedItems: 0 });
    } finally {
      process.env = saved;
      dynamodb.destroy();
    }
  });
});

describe("the reconciler's log", () => {
  it('says reconciler.scan_complete once per sweep, with the counts', async () => {
    const endpoints = localEndpoints();
    const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
    const tableName = uniqueName('reconcile-log');
    await createBucketTable(dynamodb, tableName);
    const saved = { ...process.env };
    Object.assign(process.env, {
      SLUICE_TABLE_NAME: tableName,
      SLUICE_ENDPOINT_URL: endpoints.dynamodb,
      SLUICE_AWS_REGION: REGION,
      SLUICE_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await jest.isolateModulesAsync(async () => {
        const { handler } = await import('../../lambda/handlers/reconciler');
        await handler();
        await handler();
      });
    } finally {
      write.mockRestore();
      process.env = saved;
      dynamodb.destroy();
    }
    const sweeps = lines
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('reconciler.scan_complete'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      sweeps.map(({ total_leases, restored, deleted, failed_items }) => ({
        total_leases,
        restored,
        deleted,
        failed_items,
      })),
    ).toEqual([
      { total_leases: 0, restored: 0, deleted: 0, failed_items: 0 },
      { total_leases: 0, restored: 0, deleted: 0, failed_items: 0 },
    ]);
  });
});
