import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCircuitStore } from '../../lambda/circuit/dynamo-store';
import { CLOSED } from '../../lambda/circuit/state';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import {
  AWS_CLIENT_MAX_ATTEMPTS,
  createBucketTable,
  isSluiceStoreError,
  SluiceStoreError,
} from '../../lambda/sluice';
import { FaultProxy } from '../faults/fault-proxy';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

/**
 * The three stores that write to the bucket table speak one failure vocabulary (the SDK's kit):
 * a failed condition is an answer, throttling and a lost answer a `SluiceStoreError` carrying
 * the AWS error as its cause. Here for the idempotency records and the vendor circuit, through
 * the fault proxy in front of DynamoDB Local (the SDK's own stores: test/sluice/faults.test.ts).
 * Needs the servers: the failures are DynamoDB's own answers (throttling, a lost answer, a failed
 * condition) as the AWS SDK reads them, which no memory store can produce.
 */

const REGION = 'us-east-1';
const NOW_MS = 1_700_000_000_000;

async function tableBehindProxy(prefix: string) {
  const proxy = await FaultProxy.start(localEndpoints().dynamodb);
  const direct = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: REGION });
  const tableName = uniqueName(prefix);
  await createBucketTable(direct, tableName);
  // The runtime's number of attempts, without its short request timeouts: on a loaded machine a
  // slow answer from DynamoDB Local must not pass for a lost one (the faults come from the proxy).
  const dynamodb = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: REGION,
    maxAttempts: AWS_CLIENT_MAX_ATTEMPTS,
  });
  return {
    proxy,
    dynamodb,
    tableName,
    done: async () => {
      dynamodb.destroy();
      direct.destroy();
      await proxy.stop();
    },
  };
}

/** The store error's reason and message, and its cause's name (the AWS error it maps). */
function described(error: unknown) {
  if (!isSluiceStoreError(error)) return { notAStoreError: String(error) };
  return { reason: error.reason, message: error.message, cause: (error.cause as Error | undefined)?.name };
}

const throttled = {
  reason: 'throttled',
  message: 'DynamoDB kept throttling after bounded retries: ProvisionedThroughputExceededException',
  cause: 'ProvisionedThroughputExceededException',
};

describe('the idempotency store on a failing table', () => {
  it('reports throttling after the bounded attempts as SluiceStoreError("throttled"), with the AWS error as cause', async () => {
    const table = await tableBehindProxy('idem-throttle');
    try {
      const store = new DynamoDbIdempotencyStore(table.dynamodb, table.tableName, randomUUID);
      table.proxy.plan('PutItem', { kind: 'throttle' }, AWS_CLIENT_MAX_ATTEMPTS);
      const error = await store.begin('m-1', NOW_MS, NOW_MS + 60_000).catch((e: unknown) => e);
      expect(table.proxy.pending).toBe(0);
      expect(error).toBeInstanceOf(SluiceStoreError);
      expect(described(error)).toEqual(throttled);
    } finally {
      await table.done();
    }
  }, 30_000);

  it('reports an answer lost on every attempt as SluiceStoreError("unavailable")', async () => {
    const table = await tableBehindProxy('idem-lost');
    try {
      const store = new DynamoDbIdempotencyStore(table.dynamodb, table.tableName, randomUUID);
      table.proxy.plan('UpdateItem', { kind: 'unreachable' }, AWS_CLIENT_MAX_ATTEMPTS);
      const error = await store.markPublished('m-1').catch((e: unknown) => e);
      expect(table.proxy.pending).toBe(0);
      expect(described(error)).toMatchObject({
        reason: 'unavailable',
        message: expect.stringMatching(/^DynamoDB is unavailable: /),
      });
    } finally {
      await table.done();
    }
  }, 30_000);

  it('still takes a failed condition for an answer: a live claim is in progress, an abandon of another owner is a no-op', async () => {
    const table = await tableBehindProxy('idem-condition');
    try {
      const store = new DynamoDbIdempotencyStore(table.dynamodb, table.tableName, randomUUID);
      const first = await store.begin('m-1', NOW_MS, NOW_MS + 60_000);
      expect(first.state).toBe('started');
      expect(await store.begin('m-1', NOW_MS + 1, NOW_MS + 60_001)).toEqual({
        state: 'in_progress',
        expiresAtMs: NOW_MS + 60_000,
      });
      await expect(store.abandon('m-1', 'someone-else')).resolves.toBeUndefined();
      await expect(store.markPublished('never-seen')).resolves.toBeUndefined();
    } finally {
      await table.done();
    }
  }, 30_000);
});

describe('the circuit store on a failing table', () => {
  it('reports a throttled read as SluiceStoreError("throttled"), with the AWS error as cause', async () => {
    const table = await tableBehindProxy('circuit-throttle');
    try {
      const store = new DynamoDbCircuitStore(table.dynamodb, table.tableName);
      table.proxy.plan('GetItem', { kind: 'throttle' }, AWS_CLIENT_MAX_ATTEMPTS);
      const error = await store.read('waitwhile').catch((e: unknown) => e);
      expect(table.proxy.pending).toBe(0);
      expect(described(error)).toEqual(throttled);
    } finally {
      await table.done();
    }
  }, 30_000);

  it('reports a write whose answer is lost on every attempt as SluiceStoreError("unavailable")', async () => {
    const table = await tableBehindProxy('circuit-lost');
    try {
      const store = new DynamoDbCircuitStore(table.dynamodb, table.tableName);
      table.proxy.plan('PutItem', { kind: 'unreachable' }, AWS_CLIENT_MAX_ATTEMPTS);
      const error = await store
        .write('waitwhile', { state: CLOSED, version: 1, ops: ['op-1'] }, 0)
        .catch((e: unknown) => e);
      expect(table.proxy.pending).toBe(0);
      expect(described(error)).toMatchObject({ reason: 'unavailable' });
    } finally {
      await table.done();
    }
  }, 30_000);

  it('still takes a failed condition for an answer: a stale version is refused with the item as it is', async () => {
    const table = await tableBehindProxy('circuit-condition');
    try {
      const store = new DynamoDbCircuitStore(table.dynamodb, table.tableName);
      expect(await store.write('waitwhile', { state: CLOSED, version: 1, ops: ['op-1'] }, 0)).toEqual({
        written: true,
      });
      const refused = await store.write('waitwhile', { state: CLOSED, version: 2, ops: ['op-2'] }, 0);
      expect(refused).toMatchObject({ written: false, current: { version: 1, ops: ['op-1'] } });
    } finally {
      await table.done();
    }
  }, 30_000);
});
