import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { CircuitClient } from '../../lambda/circuit/client';
import { DynamoDbCircuitStore } from '../../lambda/circuit/dynamo-store';
import { type CircuitState, circuitRules } from '../../lambda/circuit/state';
import { LogEvent, MessageAttr, Metric, TABLE_PARTITION_KEY } from '../../lambda/contract';
import { IdempotencyStatus } from '../../lambda/idempotency/store';
import type { CompletedOutcome } from '../../lambda/producer/outcome';
import { FaultProxy } from '../faults/fault-proxy';
import { localEndpoints } from '../setup/local-endpoints';
import { chat, chatVendor } from './chat-vendor';
import { circuitBuckets, circuitVendor, circuitVisit } from './circuit-fixture';
import { steppedClock, WorkerHarness } from './harness';

/**
 * The worker's stores on DynamoDB Local: the idempotency records, the circuit item and the
 * buckets. Each test here proves what only the table can: the records' keys, the circuit's
 * conditional writes between two workers and an item DynamoDB decodes as unreadable, two
 * environments meeting on one bucket item, and a table failing behind the fault proxy. The
 * worker's logic behind each one runs on memory ports in the unit tests (product-idempotency,
 * circuit, circuit-recovery, pool-worker, repeat-grant-faults `.unit.test.ts`); the outcomes'
 * topic and bucket are in outcome-topic.test.ts.
 */

const visitVendor = {
  name: 'waitwhile',
  allowedPaths: ['/locations'],
  operations: {
    createVisit: {
      method: 'POST' as const,
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1 },
    },
  },
  policy: { maxAttempts: 3, requeueJitterSeconds: 0, inlineRetryThresholdSeconds: 0.5 },
};

describe('idempotency records in the table', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.stop());

  it('runs the same id of two products as two requests, each recorded and keyed under its product', async () => {
    harness = await WorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: 50, windowSeconds: 1 }],
      vendor: visitVendor,
      products: ['checkout', 'support'],
    });
    const visit = (product: string, name: string) => ({
      id: 'order-1',
      product,
      operation: 'createVisit',
      params: { locationId: 'loc-1' },
      body: { name },
    });
    await harness.enqueue([visit('checkout', 'Ada'), visit('support', 'Grace')]);
    await harness.runUntilIdle();

    const stats = harness.simulator.stats();
    expect(stats.byIdempotencyKey).toEqual({ 'checkout#order-1': 1, 'support#order-1': 1 });
    expect(stats.duplicateCompletions).toBe(0);
    const [checkout] = (await harness.outcomesOf('checkout', 1)) as CompletedOutcome[];
    const [support] = (await harness.outcomesOf('support', 1)) as CompletedOutcome[];
    expect(checkout).toMatchObject({ outcome: 'completed', id: 'order-1', body: { name: 'Ada' } });
    expect(support).toMatchObject({ outcome: 'completed', id: 'order-1', body: { name: 'Grace' } });

    for (const product of ['checkout', 'support']) {
      const record = await harness.dynamodb.send(
        new GetItemCommand({
          TableName: harness.tableName,
          Key: { [TABLE_PARTITION_KEY]: { S: `idem#${product}#order-1` } },
          ConsistentRead: true,
        }),
      );
      expect(record.Item?.status?.S).toBe(IdempotencyStatus.completed);
    }

    // A redelivered copy of one product's order is still a duplicate, and the vendor sees nothing new.
    await harness.enqueue([visit('checkout', 'Ada')]);
    await harness.runUntilIdle();
    expect(harness.simulator.stats().calls).toBe(stats.calls);
  });
});

describe('the vendor circuit in the worker (DynamoDB Local, fauxqs, the simulator)', () => {
  let harness: WorkerHarness;
  let time: ReturnType<typeof steppedClock>;

  beforeEach(async () => {
    // From now: the producer stamps the first-seen time with the real clock.
    time = steppedClock(Date.now());
    harness = await WorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: circuitBuckets,
      vendor: circuitVendor,
      circuit: true,
      clock: time.clock,
      sleep: time.sleep,
    });
  });

  afterEach(() => harness.stop());

  /** The circuit as a worker that never saw it would read it. */
  async function circuit(): Promise<CircuitState> {
    return new CircuitClient({
      store: new DynamoDbCircuitStore(harness.dynamodb, harness.tableName),
      vendor: 'waitwhile',
      rules: circuitRules(harness.settings.circuit),
      newId: randomUUID,
      clock: time.clock,
    }).view();
  }

  /** Every message on the work queue by its id, with its attempt attribute (left visible). */
  async function queuedAttempts(expected: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    while (Object.keys(seen).length < expected) {
      const { Messages = [] } = await harness.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: harness.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
          VisibilityTimeout: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      for (const message of Messages) {
        const id = (JSON.parse(message.Body ?? '{}') as { id: string }).id;
        seen[id] = Number(message.MessageAttributes?.[MessageAttr.attempt]?.StringValue);
      }
    }
    return seen;
  }

  it('opens after the threshold, stays shut for a second worker, defers without acquiring or spending attempts; one probe of two racing workers closes it', async () => {
    harness.simulator.setFaults({ down: true });
    await harness.enqueue([circuitVisit('m1'), circuitVisit('m2'), circuitVisit('m3')]);
    for (let i = 0; i < 3; i++) {
      await harness.pollOnce(1);
      time.advance(100);
    }
    expect(harness.simulator.stats().faults.down).toBe(3);
    expect((await circuit()).status).toBe('open');
    expect(harness.telemetry.countOf(Metric.circuitOpened)).toBe(1);

    // A second worker, which never saw a failure, finds it shut: no acquire, no call.
    const other = harness.anotherWorker();
    const grantsBefore =
      harness.telemetry.countOf(Metric.grants) + harness.telemetry.countOf(Metric.retryIns);
    await harness.enqueue([circuitVisit('m4'), circuitVisit('m5')]);
    let deferred = 0;
    while (deferred < 2) {
      await harness.pollOnce(10, other);
      deferred = harness.telemetry.countOf(Metric.circuitDeferrals) - 1;
    }
    expect(harness.simulator.stats().calls).toBe(3);
    expect(harness.telemetry.countOf(Metric.grants) + harness.telemetry.countOf(Metric.retryIns)).toBe(
      grantsBefore,
    );
    // The two calls that failed before it opened spent an attempt; the deferrals did not.
    expect(await queuedAttempts(5)).toEqual({ m1: 1, m2: 1, m3: 0, m4: 0, m5: 0 });

    // The vendor is back and the probe is due: two workers race, one probes.
    harness.simulator.setFaults({});
    time.advance(2_000);
    const callsBefore = harness.simulator.stats().calls;
    await Promise.all([harness.pollOnce(1), harness.pollOnce(1, other)]);
    expect(harness.telemetry.fieldsOf('circuit.probe')).toHaveLength(1);
    expect(harness.simulator.stats().calls).toBe(callsBefore + 1);
    expect((await circuit()).status).toBe('closed');
    expect(harness.telemetry.countOf(Metric.circuitClosed)).toBe(1);

    time.advance(2_000);
    await harness.runUntilIdle();
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.simulator.stats().completions).toBe(5);
    expect(harness.simulator.stats().duplicateCompletions).toBe(0);
  });

  it('an unreadable circuit item does not stop the work: reported, taken as closed, rewritten', async () => {
    // The item as a hand edit leaves it: the DynamoDB store decodes it as unreadable.
    await harness.dynamodb.send(
      new PutItemCommand({
        TableName: harness.tableName,
        Item: {
          [TABLE_PARTITION_KEY]: { S: 'circuit#waitwhile' },
          circuit_status: { S: 'opne' },
          circuit_version: { N: '12' },
        },
      }),
    );
    await harness.enqueue([circuitVisit('c0'), circuitVisit('c1'), circuitVisit('c2')]);
    await harness.runUntilIdle();
    expect(harness.simulator.stats().completions).toBe(3);
    expect(harness.telemetry.countOf(Metric.circuitUnreadable)).toBeGreaterThanOrEqual(1);
    expect(harness.telemetry.fieldsOf('circuit.unreadable')[0]).toMatchObject({ taken_as: 'closed' });
    const { Item } = await harness.dynamodb.send(
      new GetItemCommand({
        TableName: harness.tableName,
        Key: { [TABLE_PARTITION_KEY]: { S: 'circuit#waitwhile' } },
        ConsistentRead: true,
      }),
    );
    expect(Item?.circuit_status).toEqual({ S: 'closed' });
    expect(Item?.circuit_version).toEqual({ N: '13' });
  });
});

describe('two environments on one bucket item', () => {
  it('hands the lease of a concurrent bucket of 1 from record to record, in two environments at once, never 2 calls at the vendor', async () => {
    const sweeppea = {
      simulator: {
        profile: 'sweeppea' as const,
        limits: { concurrentPerEndpoint: 1, requestsPerMinute: 100_000 },
        latencyMs: 20,
      },
      buckets: [{ dimension: 'sweeppea#concurrent', limitType: 'concurrent' as const, capacity: 1 }],
      vendor: {
        name: 'sweeppea',
        maxInFlight: 4,
        operations: {
          createContact: {
            method: 'POST' as const,
            path: '/v1/contacts',
            dimensions: { 'sweeppea#concurrent': 1 },
          },
        },
        policy: { requeueJitterSeconds: 0 },
      },
    };
    const harness = await WorkerHarness.start(sweeppea);
    try {
      const ids = Array.from({ length: 16 }, (_, i) => `h${i}`);
      await harness.enqueue(
        ids.map((id) => ({ id, operation: 'createContact', body: { email: `${id}@x.test` } })),
      );
      // Two environments (reserved concurrency is per function, a second stack or a test may
      // run another) take batches together: each hands leases on inside itself, and both
      // meet on the one bucket item in DynamoDB Local.
      const other = harness.anotherWorker();
      await Promise.all([harness.pollOnce(8), harness.pollOnce(8, other)]);
      await harness.runUntilIdle(45_000);
      const stats = harness.simulator.stats();
      expect({
        maxInFlight: stats.maxInFlight,
        refusals: stats.refusals,
        completions: stats.completions,
      }).toEqual({ maxInFlight: 1, refusals: 0, completions: 16 });
      expect(Object.keys(stats.byIdempotencyKey).sort()).toEqual([...ids].sort());
      // Leases went from record to record inside each environment (passed on as they were, or
      // renewed by a hand-over write), not only released and acquired; every one came back at the end.
      const passedOn = harness.telemetry.fieldsOf('lease.passed_on').length;
      expect(passedOn + harness.handOvers.granted).toBeGreaterThan(0);
      expect(await harness.sluice.snapshot('sweeppea#concurrent')).toMatchObject({ tokens: 1, leases: 0 });
    } finally {
      await harness.stop();
    }
  });
});

const openaiBuckets = (rpmCapacity: number) => [
  { dimension: 'openai#rpm', limitType: 'requests' as const, capacity: rpmCapacity, windowSeconds: 60 },
  { dimension: 'openai#tpm', limitType: 'tokens' as const, capacity: 40_000, windowSeconds: 60 },
];

/** Draws for the simulator's faults: the listed ones first, then draws that inject nothing. */
function draws(...first: number[]): () => number {
  return () => first.shift() ?? 0.99;
}

describe('a repeat whose acquire meets a failing bucket table', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await FaultProxy.start(localEndpoints().dynamodb);
  });
  afterEach(async () => {
    await proxy.stop();
  });

  // More than the AWS SDK's retries of one request: the table stays failed for the whole repeat.
  const FAULTS = 10;

  it.each([
    ['unreachable', { kind: 'unreachable' as const }, /DynamoDB is unavailable/],
    ['throttled', { kind: 'throttle' as const }, /DynamoDB kept throttling/],
  ])(
    '%s: the repeat is not sent, the message is requeued and completes later',
    async (_, fault, error) => {
      const time = steppedClock();
      let harness: WorkerHarness | undefined;
      const vendorRequests: string[] = [];
      harness = await WorkerHarness.start({
        // The first request is answered 500; the repeat (if it were sent) and the copy 200.
        simulator: { profile: 'openai', latencyMs: 1, faults: { errorRate: 0.5 }, random: draws(0) },
        buckets: openaiBuckets(60),
        vendor: chatVendor,
        dynamodbEndpoint: proxy.endpoint,
        // The table fails from the moment the vendor's 500 is in: the repeat's acquire is the
        // next bucket write.
        fetch: async (input, init) => {
          const answer = await fetch(input, init);
          vendorRequests.push(String(answer.status));
          if (answer.status === 500) proxy.plan('UpdateItem', fault, FAULTS);
          return answer;
        },
        clock: time.clock,
        sleep: time.sleep,
        random: () => 0,
      });
      try {
        await harness.enqueue([chat('f1')]);
        const response = await harness.pollOnce(1);
        // The fault fired on the repeat's acquire; the table is back for what follows.
        expect(proxy.injected.get('UpdateItem')).toBeGreaterThan(0);
        expect(proxy.clear()).toBeGreaterThan(0);
        expect(vendorRequests).toEqual(['500']);
        expect(harness.telemetry.countOf(Metric.grants)).toBe(1);
        expect(harness.telemetry.fieldsOf(LogEvent.repeatNotGranted)).toEqual([
          { id: 'f1', error: expect.stringMatching(error) },
        ]);
        // A transient answer is requeued as a copy: the record is acknowledged, not failed.
        expect(response?.batchItemFailures).toEqual([]);
        expect(harness.telemetry.fieldsOf(LogEvent.messageRequeued)).toEqual([
          expect.objectContaining({ attempt: 1, why: 'vendor HTTP 500 transient' }),
        ]);
        // Not lost: the copy comes back once its delay is over and completes with one more grant.
        await harness.runUntilIdle();
        expect(vendorRequests).toEqual(['500', '200']);
        expect(harness.simulator.stats().calls).toBe(2);
        expect(harness.telemetry.countOf(Metric.grants)).toBe(2);
        expect(harness.telemetry.fieldsOf(LogEvent.messageCompleted).map((fields) => fields.id)).toEqual([
          'f1',
        ]);
        expect(await harness.deadLetters()).toEqual([]);
      } finally {
        await harness.stop();
      }
    },
    60_000,
  );
});
