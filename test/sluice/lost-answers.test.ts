import { buildDynamoDbClient, SluiceClient } from '../../lambda/sluice/client';
import type { BucketDefinition } from '../../lambda/sluice/core/types';
import { isSluiceStoreError } from '../../lambda/sluice/errors';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { FaultProxy } from '../faults/fault-proxy';
import { LostAnswerStore } from '../faults/lost-answer-store';
import { localEndpoints } from '../setup/local-endpoints';
import { granted } from './fixtures';
import { localTable, RecordingLogger, SimulatedClock, seededRandom, testSettings } from './helpers';

/**
 * A write DynamoDB applied whose answer was lost, sent again by the AWS SDK's retry (or by the
 * caller after an error), is recognised and answers as the first did: nothing is applied twice.
 * Each case runs on the memory store (the loss simulated in front of it) and on DynamoDB Local
 * behind a proxy that applies the request and then answers 500 or drops the connection.
 */

type StoreOperation = 'write' | 'writeAll' | 'takeStored' | 'handOverLeases' | 'returnLease' | 'create';

interface Harness {
  readonly client: SluiceClient;
  readonly clock: SimulatedClock;
  /** The next `operation` is applied and its answer lost; `repeat`: the SDK retries it, `fail`: no retry gets through. */
  lose(operation: StoreOperation, kind: 'repeat' | 'fail'): void;
  /** Faults planned and not met: must be 0, or the case proved nothing. */
  pending(): number;
  close(): Promise<void>;
}

const DEFINITIONS: BucketDefinition[] = [
  { dimension: 'waitwhile#loc#*', limitType: 'requests', capacity: 5, windowSeconds: 60 },
  { dimension: 'openai#rpm', limitType: 'requests', capacity: 60, windowSeconds: 60 },
  { dimension: 'openai#tpm', limitType: 'tokens', capacity: 10_000, windowSeconds: 60 },
  { dimension: 'sweeppea#slots', limitType: 'concurrent', capacity: 2 },
  // A hot bucket taken from in slices of 20 (leases for hot buckets); refill 0.1 per second.
  {
    dimension: 'hot#rps',
    limitType: 'requests',
    capacity: 100,
    windowSeconds: 1_000,
    lease: { maxShare: 0.2, seconds: 5 },
  },
];

async function memoryHarness(): Promise<Harness> {
  const store = new LostAnswerStore(new MemoryBucketStore());
  const clock = new SimulatedClock();
  const client = new SluiceClient({
    settings: testSettings(),
    store,
    clock: clock.now,
    random: seededRandom(7),
    logger: new RecordingLogger(),
    sleep: async (ms) => clock.advance(ms),
  });
  return {
    client,
    clock,
    lose: (operation, kind) => store.plan(operation, kind),
    pending: () => store.pending,
    close: async () => undefined,
  };
}

const DYNAMODB_OPERATION: Record<StoreOperation, string> = {
  write: 'UpdateItem',
  takeStored: 'UpdateItem',
  returnLease: 'UpdateItem',
  handOverLeases: 'UpdateItem',
  writeAll: 'TransactWriteItems',
  // A key's item is created with a check on its template, in one transaction.
  create: 'TransactWriteItems',
};

function dynamoHarness(fault: 'applyThen500' | 'applyThenDrop') {
  return async (): Promise<Harness> => {
    const { dynamodb, tableName } = await localTable('sdk-lost');
    dynamodb.destroy();
    const proxy = await FaultProxy.start(localEndpoints().dynamodb);
    // The runtime's own client: its bounded retries are the ones that resend the request.
    const viaProxy = buildDynamoDbClient({ endpointUrl: proxy.endpoint, region: 'us-east-1' });
    const clock = new SimulatedClock();
    const client = new SluiceClient({
      settings: testSettings({ tableName }),
      dynamodb: viaProxy,
      clock: clock.now,
      random: seededRandom(7),
      logger: new RecordingLogger(),
      sleep: async (ms) => clock.advance(ms),
    });
    return {
      client,
      clock,
      // The client makes 2 attempts: one lost answer is retried, two are the caller's error.
      lose: (operation, kind) =>
        proxy.plan(DYNAMODB_OPERATION[operation], { kind: fault }, kind === 'repeat' ? 1 : 2),
      pending: () => proxy.pending,
      close: async () => {
        viaProxy.destroy();
        await proxy.stop();
      },
    };
  };
}

const HARNESSES: [string, () => Promise<Harness>][] = [
  ['the memory store', memoryHarness],
  ['DynamoDB Local, answer replaced by a 500', dynamoHarness('applyThen500')],
  ['DynamoDB Local, connection dropped after the apply', dynamoHarness('applyThenDrop')],
];

describe.each(HARNESSES)('a lost answer on %s', (_name, makeHarness) => {
  let h: Harness;
  beforeEach(async () => {
    h = await makeHarness();
    await h.client.upsertBuckets(DEFINITIONS);
  });
  afterEach(() => h.close());

  it('settle refunds once', async () => {
    const first = granted(await h.client.acquire({ 'openai#tpm': 4_000 }));
    granted(await h.client.acquire({ 'openai#tpm': 4_000 }));
    h.lose('write', 'repeat');
    await first.settle({ 'openai#tpm': 0 });
    expect([h.pending(), (await h.client.snapshot('openai#tpm')).tokens]).toEqual([0, 6_000]);
  });

  it('settle whose every answer was lost can be called again, and still refunds once', async () => {
    const first = granted(await h.client.acquire({ 'openai#tpm': 4_000 }));
    granted(await h.client.acquire({ 'openai#tpm': 4_000 }));
    h.lose('write', 'fail');
    const error = await first.settle({ 'openai#tpm': 0 }).catch((e: unknown) => e);
    expect(isSluiceStoreError(error) && error.reason).toBe('unavailable');
    await first.settle({ 'openai#tpm': 0 });
    expect([h.pending(), (await h.client.snapshot('openai#tpm')).tokens]).toEqual([0, 6_000]);
  });

  it('a concurrent slot is taken once under its lease, and its release gives it all back', async () => {
    h.lose('takeStored', 'repeat');
    const slot = granted(await h.client.acquire('sweeppea#slots'));
    const held = await h.client.snapshot('sweeppea#slots');
    await slot.release();
    const after = await h.client.snapshot('sweeppea#slots');
    expect([h.pending(), held.tokens, held.leases, after.tokens, after.leases]).toEqual([0, 1, 1, 2, 0]);
  });

  it('a take from a full time bucket (stored tokens) is taken once', async () => {
    h.lose('takeStored', 'repeat');
    granted(await h.client.acquire('openai#rpm'));
    expect([h.pending(), (await h.client.snapshot('openai#rpm')).tokens]).toEqual([0, 59]);
  });

  it('a take that refills first (versioned write) is taken once', async () => {
    granted(await h.client.acquire({ 'openai#rpm': 30 }));
    h.clock.advance(40_000); // refill may have filled it: the take must refill first, on the version
    h.lose('write', 'repeat');
    granted(await h.client.acquire('openai#rpm'));
    expect([h.pending(), (await h.client.snapshot('openai#rpm')).tokens]).toEqual([0, 59]);
  });

  it('a take over two items (one write each, the first answer lost) is taken once from each', async () => {
    h.lose('write', 'repeat');
    const grant = granted(await h.client.acquire({ 'openai#rpm': 2, 'sweeppea#slots': 1 }));
    const rpm = await h.client.snapshot('openai#rpm');
    const slots = await h.client.snapshot('sweeppea#slots');
    expect([h.pending(), grant.leases.length, rpm.tokens, slots.tokens, slots.leases]).toEqual([
      0, 1, 58, 1, 1,
    ]);
  });

  it("a key's first use creates its item once and takes once", async () => {
    h.lose('create', 'repeat');
    granted(await h.client.acquire('waitwhile#loc#k1'));
    expect([h.pending(), (await h.client.snapshot('waitwhile#loc#k1')).tokens]).toEqual([0, 4]);
  });

  it('penalize cuts once', async () => {
    h.lose('write', 'repeat');
    const result = await h.client.penalize('openai#rpm', 0.8);
    const after = await h.client.snapshot('openai#rpm');
    expect([h.pending(), result.tokensAfter, after.tokens, after.rateScale]).toEqual([0, 48, 48, 0.8]);
  });

  it('a hand-over swaps the lease once, and the new holder returns the slot', async () => {
    const a = granted(await h.client.acquire('sweeppea#slots'));
    granted(await h.client.acquire('sweeppea#slots'));
    h.lose('handOverLeases', 'repeat');
    const b = await h.client.handOver(a);
    const held = await h.client.snapshot('sweeppea#slots');
    await a.release();
    await b?.release();
    const after = await h.client.snapshot('sweeppea#slots');
    expect([h.pending(), held.tokens, held.leases, after.tokens, after.leases]).toEqual([0, 0, 2, 1, 1]);
  });

  it('a hand-over whose every answer was lost can be called again, and swaps the lease once', async () => {
    const a = granted(await h.client.acquire('sweeppea#slots'));
    granted(await h.client.acquire('sweeppea#slots'));
    h.lose('handOverLeases', 'fail');
    const error = await h.client.handOver(a).catch((e: unknown) => e);
    expect(isSluiceStoreError(error) && error.reason).toBe('unavailable');
    const b = await h.client.handOver(a);
    const held = await h.client.snapshot('sweeppea#slots');
    await b?.release();
    const after = await h.client.snapshot('sweeppea#slots');
    expect([h.pending(), b?.leases.length, held.tokens, held.leases, after.tokens, after.leases]).toEqual([
      0, 1, 0, 2, 1, 1,
    ]);
  });

  it('a slice is taken once, and its unused part comes back once', async () => {
    h.lose('write', 'repeat');
    for (let i = 0; i < 5; i++) granted(await h.client.acquire('hot#rps'));
    const held = await h.client.snapshot('hot#rps');
    h.lose('returnLease', 'repeat');
    await h.client.returnSlices();
    const after = await h.client.snapshot('hot#rps');
    expect([h.pending(), held.tokens, held.leases, after.tokens, after.leases]).toEqual([0, 80, 1, 95, 0]);
  });

  it('a slice whose every answer was lost is adopted by the next acquire: one slice, granted from once', async () => {
    h.lose('write', 'fail');
    const error = await h.client.acquire('hot#rps').catch((e: unknown) => e);
    expect(isSluiceStoreError(error) && error.reason).toBe('unavailable');
    for (let i = 0; i < 20; i++) granted(await h.client.acquire('hot#rps'));
    const held = await h.client.snapshot('hot#rps');
    expect(await h.client.returnSlices()).toBe(0);
    const after = await h.client.snapshot('hot#rps');
    expect([h.pending(), held.tokens, held.leases, after.tokens, after.leases]).toEqual([0, 80, 1, 80, 0]);
  });

  it('release returns a slot once', async () => {
    const a = granted(await h.client.acquire('sweeppea#slots'));
    granted(await h.client.acquire('sweeppea#slots'));
    h.lose('returnLease', 'repeat');
    await a.release();
    const after = await h.client.snapshot('sweeppea#slots');
    expect([h.pending(), after.tokens, after.leases]).toEqual([0, 1, 1]);
  });
});

describe('a late or missing answer from DynamoDB Local (through the fault proxy)', () => {
  let proxy: FaultProxy;
  let viaProxy: ReturnType<typeof buildDynamoDbClient>;
  let client: SluiceClient;
  beforeEach(async () => {
    const { dynamodb, tableName } = await localTable('sdk-late');
    dynamodb.destroy();
    proxy = await FaultProxy.start(localEndpoints().dynamodb);
    viaProxy = buildDynamoDbClient({ endpointUrl: proxy.endpoint, region: 'us-east-1' });
    const clock = new SimulatedClock();
    client = new SluiceClient({
      settings: testSettings({ tableName }),
      dynamodb: viaProxy,
      clock: clock.now,
      random: seededRandom(3),
      logger: new RecordingLogger(),
    });
    await client.upsertBuckets(DEFINITIONS);
  });
  afterEach(async () => {
    viaProxy.destroy();
    await proxy.stop();
  });

  const forwarded = (operation: string) => proxy.forwarded.get(operation) ?? 0;
  async function until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise((resolve) => setImmediate(resolve));
  }

  it('a write answered late but in time is a write like any other', async () => {
    proxy.plan('UpdateItem', { kind: 'delay', ms: 200 });
    granted(await client.acquire('openai#rpm'));
    expect([proxy.pending, (await client.snapshot('openai#rpm')).tokens]).toEqual([0, 59]);
  });

  it('a silent endpoint fails the write as "unavailable" and applies nothing; the settle is then retried once', async () => {
    const grant = granted(await client.acquire({ 'openai#tpm': 4_000 }));
    proxy.plan('UpdateItem', { kind: 'silent' }, 2);
    const error = await grant.settle({ 'openai#tpm': 0 }).catch((e: unknown) => e);
    expect([isSluiceStoreError(error) && error.reason, proxy.pending]).toEqual(['unavailable', 0]);
    expect((await client.snapshot('openai#tpm')).tokens).toBe(6_000);
    await grant.settle({ 'openai#tpm': 0 });
    expect((await client.snapshot('openai#tpm')).tokens).toBe(10_000);
  });

  it('a penalize applied twice after the client gave up on both attempts cuts once', async () => {
    // Each attempt reaches DynamoDB only after the client's 1.5 s request timeout: both apply.
    proxy.plan('UpdateItem', { kind: 'delay', ms: 2_000 }, 2);
    const before = forwarded('UpdateItem');
    const error = await client.penalize('openai#rpm', 0.5).catch((e: unknown) => e);
    expect(isSluiceStoreError(error) && error.reason).toBe('unavailable');
    await until(() => forwarded('UpdateItem') === before + 2);
    expect((await client.snapshot('openai#rpm')).tokens).toBe(30);
  });
});
