import { randomUUID } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CircuitClient } from '../../lambda/circuit/client';
import { DynamoDbCircuitStore } from '../../lambda/circuit/dynamo-store';
import { circuitRules } from '../../lambda/circuit/state';
import { TABLE_PARTITION_KEY } from '../../lambda/contract';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import { createReconciler } from '../../lambda/reconciler/reconciler';
import { createBucketTable, SluiceClient, SluiceConfig } from '../../lambda/sluice';
import { parseVendorSettings } from '../../lambda/worker-settings';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { steppedClock } from './harness';

/**
 * The reconciler Lambda on DynamoDB Local: its sweep reads the whole bucket table and writes
 * back expired leases conditionally, and its report reads the circuit item as DynamoDB holds it
 * (an unreadable one too), so it needs the table itself, which the memory stores only imitate.
 */

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
      // As Lambda calls it: with its context, whose remaining time bounds the sweep.
      expect(await handler({}, { getRemainingTimeInMillis: () => 50_000 })).toEqual({
        totalLeases: 0,
        restored: 0,
        deleted: 0,
        failedItems: 0,
      });
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

describe("the reconciler's report of the vendor circuit", () => {
  it('reports its state and open time on every run, with no message in sight, and an unreadable item as closed', async () => {
    const endpoints = localEndpoints();
    const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
    const tableName = uniqueName('reconcile-circuit');
    await createBucketTable(dynamodb, tableName);
    const time = steppedClock();
    const settings = SluiceConfig.fromEnv({ tableName, endpointUrl: endpoints.dynamodb, region: REGION }, {});
    const sluice = new SluiceClient({ settings, dynamodb, clock: time.clock, logger: quietLogger });
    const store = new DynamoDbCircuitStore(dynamodb, tableName);
    const rules = circuitRules(parseVendorSettings({ name: 'waitwhile', baseUrl: 'https://x.test' }).circuit);
    const worker = new CircuitClient({
      store,
      vendor: 'waitwhile',
      rules,
      newId: randomUUID,
      clock: time.clock,
    });
    try {
      const metrics = new Metrics({ namespace: 'Sluice', serviceName: 'waitwhile' });
      const published: Array<Record<string, unknown>> = [];
      jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
        published.push(this.serializeMetrics() as unknown as Record<string, unknown>);
        this.clearMetrics();
        return this;
      });
      const lines: Array<[string, Record<string, unknown>]> = [];
      const log = {
        info: (message: string, fields: Record<string, unknown>) => lines.push([message, fields]),
        error: (message: string, fields: Record<string, unknown>) => lines.push([message, fields]),
      };
      const reconcile = createReconciler(sluice, metrics, {
        vendor: 'waitwhile',
        store,
        clock: time.clock,
        log,
      });
      const report = () => {
        const last = published.at(-1) ?? {};
        return [last.CircuitOpen, last.CircuitOpenSeconds, last.CircuitItemUnreadable];
      };

      // No item yet: closed.
      await reconcile();
      expect(report()).toEqual([0, 0, undefined]);
      for (let i = 0; i < rules.failureThreshold; i++) {
        await worker.apply({ kind: 'answer', signal: 'failure', detail: 'fetch failed', source: `m${i}` });
      }
      // A minute later, and another: the open time grows with no delivery to report it.
      time.advance(60_000);
      await reconcile();
      expect(report()).toEqual([1, 60, undefined]);
      time.advance(60_000);
      await reconcile();
      expect(report()).toEqual([1, 120, undefined]);
      expect(lines.at(-1)).toEqual([
        'circuit.state',
        { vendor: 'waitwhile', status: 'open', open_seconds: 120, detail: 'fetch failed' },
      ]);
      // A probe succeeds: the next run clears it.
      const owner = worker.newOwner();
      await worker.apply({ kind: 'claim_probe', owner, untilMs: time.clock() + 10_000 });
      await worker.apply({ kind: 'probe_result', owner, signal: 'up' });
      time.advance(60_000);
      await reconcile();
      expect(report()).toEqual([0, 0, undefined]);

      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { [TABLE_PARTITION_KEY]: { S: 'circuit#waitwhile' }, circuit_status: { S: '???' } },
        }),
      );
      await reconcile();
      expect(report()).toEqual([0, 0, 1]);
      expect(lines.find(([message]) => message === 'circuit.unreadable')?.[1]).toMatchObject({
        vendor: 'waitwhile',
        taken_as: 'closed',
      });
      // Every run also swept the table as before.
      expect(published.every((emf) => emf.ReconcilerRuns === 1)).toBe(true);
    } finally {
      dynamodb.destroy();
    }
  });

  it('is reported by the Lambda entry point for the vendor the stack names', async () => {
    const endpoints = localEndpoints();
    const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
    const tableName = uniqueName('reconcile-circuit-env');
    await createBucketTable(dynamodb, tableName);
    const saved = { ...process.env };
    Object.assign(process.env, {
      SLUICE_TABLE_NAME: tableName,
      SLUICE_ENDPOINT_URL: endpoints.dynamodb,
      SLUICE_AWS_REGION: REGION,
      SLUICE_LOG_LEVEL: 'INFO',
      SLUICE_CIRCUIT_VENDOR: 'waitwhile',
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
      });
    } finally {
      write.mockRestore();
      process.env = saved;
      dynamodb.destroy();
    }
    const states = lines
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('circuit.state'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(states).toEqual([
      expect.objectContaining({ vendor: 'waitwhile', status: 'closed', open_seconds: 0 }),
    ]);
  });
});
