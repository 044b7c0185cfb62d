import { randomUUID } from 'node:crypto';
import { type AttributeValue, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CircuitClient } from '../../lambda/circuit/client';
import { DynamoDbCircuitStore } from '../../lambda/circuit/dynamo-store';
import { type CircuitRules, CLOSED, holdsProbe } from '../../lambda/circuit/state';
import { CIRCUIT_KEY_PREFIX, type CircuitStore, MemoryCircuitStore } from '../../lambda/circuit/store';
import { TABLE_PARTITION_KEY } from '../../lambda/contract';
import { createBucketTable, SluiceClient, SluiceConfig } from '../../lambda/sluice';
import { FaultProxy } from '../faults/fault-proxy';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

const REGION = 'us-east-1';
const rules: CircuitRules = {
  failureThreshold: 3,
  windowMs: 60_000,
  probeIntervalMs: 30_000,
  maxProbeIntervalMs: 120_000,
  backoffAfterMs: 1_800_000,
  slowStartMs: 5_000,
};
const failure = { kind: 'answer', signal: 'failure', detail: 'fetch failed' } as const;

/** A clock both "workers" read: tests move it, nothing waits. */
function sharedClock(startMs = 1_700_000_000_000) {
  let nowMs = startMs;
  return {
    clock: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

function worker(store: CircuitStore, clock: () => number, vendor = 'waitwhile'): CircuitClient {
  return new CircuitClient({ store, vendor, rules, clock, newId: randomUUID, viewMaxAgeMs: 0 });
}

const stores: Array<[string, () => Promise<{ store: CircuitStore; done: () => Promise<void> }>]> = [
  ['memory', async () => ({ store: new MemoryCircuitStore(), done: async () => {} })],
  [
    'DynamoDB Local',
    async () => {
      const dynamodb = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: REGION });
      const tableName = uniqueName('circuit');
      await createBucketTable(dynamodb, tableName);
      return { store: new DynamoDbCircuitStore(dynamodb, tableName), done: async () => dynamodb.destroy() };
    },
  ],
];

describe.each(stores)('the circuit shared through the %s store', (_name, open) => {
  let store: CircuitStore;
  let done: () => Promise<void>;
  beforeEach(async () => {
    ({ store, done } = await open());
  });
  afterEach(() => done());

  it('opens after the threshold counted across two workers, and both see it shut', async () => {
    const { clock, advance } = sharedClock();
    const a = worker(store, clock);
    const b = worker(store, clock);
    await a.apply(failure);
    advance(1_000);
    await b.apply(failure);
    expect((await a.view()).status).toBe('closed');
    advance(1_000);
    const third = await a.apply(failure);
    expect(third.after.status).toBe('open');
    expect((await b.view()).status).toBe('open');
    // Another vendor's circuit is its own item.
    expect((await worker(store, clock, 'openai').view()).status).toBe('closed');
  });

  it('lets one of two racing workers claim the probe, and a success closes it for both', async () => {
    const { clock, advance } = sharedClock();
    const a = worker(store, clock);
    const b = worker(store, clock);
    for (let i = 0; i < 3; i++) await a.apply(failure);
    advance(rules.probeIntervalMs);
    const untilMs = clock() + 10_000;
    const [ca, cb] = await Promise.all([
      a.apply({ kind: 'claim_probe', owner: 'a', untilMs }),
      b.apply({ kind: 'claim_probe', owner: 'b', untilMs }),
    ]);
    const holders = [holdsProbe(ca.after, 'a', clock()), holdsProbe(cb.after, 'b', clock())];
    expect(holders.filter(Boolean)).toHaveLength(1);
    const winner = holders[0] ? 'a' : 'b';
    const loserView = await (winner === 'a' ? b : a).view();
    expect(loserView.probe?.owner).toBe(winner);
    await (winner === 'a' ? a : b).apply({ kind: 'probe_result', owner: winner, signal: 'up' });
    expect((await a.view()).status).toBe('closed');
    expect((await b.view()).status).toBe('closed');
  });

  it('counts one failure once whatever the interleaving of 20 concurrent reports', async () => {
    const { clock } = sharedClock();
    const big: CircuitRules = { ...rules, failureThreshold: 1_000 };
    const counters = Array.from(
      { length: 4 },
      () => new CircuitClient({ store, vendor: 'waitwhile', rules: big, clock, newId: randomUUID }),
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => counters[i % 4]!.apply(failure)));
    // A fresh reader: each counter's own view may be up to a second old by design.
    expect((await worker(store, clock).view()).failures).toBe(20);
  });
});

describe('a circuit write whose answer was lost', () => {
  it('is recognised as applied when the AWS SDK sends it again, not counted twice', async () => {
    const proxy = await FaultProxy.start(localEndpoints().dynamodb);
    const direct = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: REGION });
    const viaProxy = new DynamoDBClient({ endpoint: proxy.endpoint, region: REGION, maxAttempts: 3 });
    try {
      const tableName = uniqueName('circuit-lost');
      await createBucketTable(direct, tableName);
      const { clock } = sharedClock();
      const client = worker(new DynamoDbCircuitStore(viaProxy, tableName), clock);
      await client.apply(failure);
      proxy.plan('PutItem', { kind: 'applyThen500' });
      const applied = await client.apply(failure);
      expect(proxy.pending).toBe(0);
      expect(proxy.forwarded.get('PutItem')).toBe(3);
      expect(applied.changed).toBe(true);
      const fresh = worker(new DynamoDbCircuitStore(direct, tableName), clock);
      expect((await fresh.view()).failures).toBe(2);
    } finally {
      viaProxy.destroy();
      direct.destroy();
      await proxy.stop();
    }
  });

  it('leaves the buckets alone: the reconciler does not take the circuit item for a bucket', async () => {
    const dynamodb = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: REGION });
    try {
      const tableName = uniqueName('circuit-reconcile');
      await createBucketTable(dynamodb, tableName);
      const { clock } = sharedClock();
      const client = worker(new DynamoDbCircuitStore(dynamodb, tableName), clock);
      for (let i = 0; i < 3; i++) await client.apply(failure);
      const sluice = new SluiceClient({
        settings: SluiceConfig.fromEnv(
          { tableName, endpointUrl: localEndpoints().dynamodb, region: REGION },
          {},
        ),
        dynamodb,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      const report = await sluice.reconcile();
      expect(report).toMatchObject({ totalLeases: 0, failedItems: 0 });
      expect((await client.view()).status).toBe('open');
    } finally {
      dynamodb.destroy();
    }
  });
});

describe('an unreadable circuit item (DynamoDB Local)', () => {
  const corrupted: Array<[string, Record<string, AttributeValue>]> = [
    ['an unknown status', { circuit_status: { S: 'half-melted' }, circuit_version: { N: '4' } }],
    [
      'a version and counters of the wrong types',
      { circuit_status: { S: 'open' }, circuit_version: { S: 'four' }, failures: { S: 'many' } },
    ],
    [
      'an open circuit without its probe time',
      { circuit_status: { S: 'open' }, circuit_version: { N: '2' } },
    ],
    ['nothing but the key', {}],
  ];

  it.each(corrupted)(
    'with %s is reported, read as closed, and replaced by the next write',
    async (_what, attributes) => {
      const dynamodb = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: REGION });
      try {
        const tableName = uniqueName('circuit-corrupt');
        await createBucketTable(dynamodb, tableName);
        await dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: { [TABLE_PARTITION_KEY]: { S: `${CIRCUIT_KEY_PREFIX}waitwhile` }, ...attributes },
          }),
        );
        const { clock } = sharedClock();
        const problems: string[] = [];
        const client = new CircuitClient({
          store: new DynamoDbCircuitStore(dynamodb, tableName),
          vendor: 'waitwhile',
          rules,
          clock,
          newId: randomUUID,
          viewMaxAgeMs: 0,
          onUnreadable: (problem) => problems.push(problem),
        });
        expect(await client.view()).toEqual(CLOSED);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^circuit item circuit#waitwhile: /);
        // A success on a closed circuit writes nothing, except over an unreadable item.
        const applied = await client.apply({ kind: 'answer', signal: 'up' });
        expect(applied.changed).toBe(true);
        const fresh = worker(new DynamoDbCircuitStore(dynamodb, tableName), clock);
        expect(await fresh.view()).toEqual(CLOSED);
        expect(problems).toHaveLength(2);
        // Readable again: the next events go through the versioned writes as always.
        for (let i = 0; i < 3; i++) await fresh.apply({ ...failure, source: `m${i}` });
        expect((await client.view()).status).toBe('open');
        expect(problems).toHaveLength(2);
      } finally {
        dynamodb.destroy();
      }
    },
  );
});
