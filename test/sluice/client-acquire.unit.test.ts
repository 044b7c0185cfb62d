import { SluiceLogEvent } from '../../lambda/sluice/ops/log-events';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { DEFINITIONS, granted } from './fixtures';
import { memoryClient, SimulatedClock } from './helpers';

async function seeded() {
  const setup = memoryClient();
  await setup.client.upsertBuckets(DEFINITIONS);
  return setup;
}

const requestsOf = (store: MemoryBucketStore) => ({ ...store.requests });
const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .filter(([k, v]) => v !== before[k])
      .map(([k, v]) => [k, v - (before[k] ?? 0)]),
  );

describe('acquire on the memory store', () => {
  it('grants a warm acquire with one conditional write (a take from stored tokens) and no read', async () => {
    const { client, store } = await seeded();
    granted(await client.acquire('openai#rpm'));
    const before = requestsOf(store);
    granted(await client.acquire('openai#rpm'));
    expect(delta(before, requestsOf(store))).toEqual({ takeStored: 1 });
  });

  it('grants rpm and tpm of one vendor with one write on one item, not a transaction', async () => {
    const { client, store } = await seeded();
    const before = requestsOf(store);
    const grant = granted(await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 750 }));
    expect(grant.costs).toEqual({ 'openai#rpm': 1, 'openai#tpm': 750 });
    expect(delta(before, requestsOf(store))).toEqual({ takeStored: 1 });
  });

  it('says which granted dimensions count tokens, from the buckets themselves, not their names', async () => {
    const { client } = memoryClient();
    await client.upsertBuckets([
      { dimension: 'acme#budget', limitType: 'tokens', capacity: 5_000, windowSeconds: 60 },
      { dimension: 'acme#tpm', limitType: 'requests', capacity: 60, windowSeconds: 60 },
      { dimension: 'acme#slots', limitType: 'concurrent', capacity: 2 },
    ]);
    const grant = granted(await client.acquire({ 'acme#budget': 700, 'acme#tpm': 1, 'acme#slots': 1 }));
    expect(grant.tokenDimensions).toEqual(['acme#budget']);
    await grant.release();
  });

  // 10,000 tokens per 60,000 ms, computed exactly: 500 missing tokens take 3,000 ms.
  it('answers a cached "not enough" on a time bucket with zero requests and the computed wait', async () => {
    const { client, store } = await seeded();
    granted(await client.acquire({ 'openai#tpm': 9_500 }));
    const before = requestsOf(store);
    expect(await client.acquire({ 'openai#tpm': 1_000 })).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 3,
      dimension: 'openai#tpm',
    });
    expect(delta(before, requestsOf(store))).toEqual({});
  });

  it('grants again once refill covers the cost, on the simulated clock', async () => {
    const { client, clock } = await seeded();
    for (let i = 0; i < 5; i++) granted(await client.acquire('waitwhile#rps'));
    const denied = await client.acquire('waitwhile#rps');
    expect(denied).toEqual({ outcome: 'RetryIn', waitSeconds: 0.2, dimension: 'waitwhile#rps' });
    clock.advance(200);
    granted(await client.acquire('waitwhile#rps'));
  });

  it('returns the largest wait over the dimensions that said no', async () => {
    const { client } = await seeded();
    granted(await client.acquire({ 'openai#rpm': 59, 'openai#tpm': 9_000 }));
    expect(await client.acquire({ 'openai#rpm': 3, 'openai#tpm': 2_000 })).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 6,
      dimension: 'openai#tpm',
    });
  });

  it('is all-or-nothing: a denied dimension leaves the others untouched', async () => {
    const { client } = await seeded();
    granted(await client.acquire({ 'openai#tpm': 10_000 }));
    expect((await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 1 })).outcome).toBe('RetryIn');
    expect((await client.snapshot('openai#rpm')).tokens).toBe(60);
  });

  it('is all-or-nothing across items, one conditional write per item (no transaction, billed twice)', async () => {
    const { client, store } = await seeded();
    const before = requestsOf(store);
    granted(await client.acquire(['openai#rpm', 'sweeppea#concurrent']));
    expect(delta(before, requestsOf(store))).toEqual({ write: 2 });
    granted(await client.acquire('sweeppea#concurrent'));
    expect((await client.acquire(['openai#rpm', 'sweeppea#concurrent'])).outcome).toBe('RetryIn');
    expect((await client.snapshot('openai#rpm')).tokens).toBe(59);
  });

  it('gives back what the first item took when the second refuses the grant at write time', async () => {
    const store = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const a = memoryClient({ store, clock });
    const b = memoryClient({ store, clock, seed: 7 });
    await a.client.upsertBuckets(DEFINITIONS);
    granted(await b.client.acquire(['openai#rpm', 'sweeppea#concurrent']));
    // The last slot goes to a; b's cache still shows it free.
    granted(await a.client.acquire('sweeppea#concurrent'));
    const before = requestsOf(store);
    const refused = await b.client.acquire(['openai#rpm', 'sweeppea#concurrent']);
    expect(refused.outcome).toBe('RetryIn');
    // openai's take (written first) refused by sweeppea's version, then given back.
    expect(delta(before, requestsOf(store))).toEqual({ write: 3 });
    expect((await a.client.snapshot('openai#rpm')).tokens).toBe(59);
    expect((await a.client.snapshot('sweeppea#concurrent')).leases).toBe(2);
  });

  it('refuses a concurrent slot from a view at most a second old, then reads again and sees a release by another client', async () => {
    const store = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const a = memoryClient({ store, clock });
    const b = memoryClient({ store, clock, seed: 7 });
    await a.client.upsertBuckets(DEFINITIONS);
    granted(await b.client.acquire('sweeppea#concurrent'));
    const held = granted(await a.client.acquire('sweeppea#concurrent'));
    expect((await b.client.acquire('sweeppea#concurrent')).outcome).toBe('RetryIn');
    await held.release();
    const before = requestsOf(store);
    expect((await b.client.acquire('sweeppea#concurrent')).outcome).toBe('RetryIn'); // b's view is this instant's
    clock.advance(1_001);
    granted(await b.client.acquire('sweeppea#concurrent'));
    expect(delta(before, requestsOf(store))).toEqual({ get: 1, takeStored: 1 });
  });

  it('lets two clients with stale caches take from stored tokens without conflicting', async () => {
    const store = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const a = memoryClient({ store, clock });
    const b = memoryClient({ store, clock, seed: 7 });
    await a.client.upsertBuckets(DEFINITIONS);
    granted(await b.client.acquire('openai#rpm'));
    granted(await a.client.acquire('openai#rpm'));
    const before = requestsOf(store);
    // b still believes 59 are stored; 58 are, which covers the cost just as well.
    granted(await b.client.acquire('openai#rpm'));
    expect(delta(before, requestsOf(store))).toEqual({ takeStored: 1 });
    expect((await a.client.snapshot('openai#rpm')).tokens).toBe(57);
  });

  it('retries a version conflict from the item handed back, without a read', async () => {
    const store = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const a = memoryClient({ store, clock });
    const b = memoryClient({ store, clock, seed: 7 });
    await a.client.upsertBuckets(DEFINITIONS);
    for (let i = 0; i < 5; i++) granted(await b.client.acquire('waitwhile#rps'));
    clock.advance(1_000); // refilled, but only a refill (a versioned write) can say so
    granted(await a.client.acquire('waitwhile#rps'));
    const before = requestsOf(store);
    // b's cache shows nothing stored: it refills and writes on a version a has moved on, then
    // takes from what a's write stored, from the item the conflict handed back.
    granted(await b.client.acquire('waitwhile#rps'));
    expect(delta(before, requestsOf(store))).toEqual({ write: 1, takeStored: 1 });
    expect((await a.client.snapshot('waitwhile#rps')).tokens).toBe(3);
  });

  it('answers RetryIn with a short jittered backoff once conflicts exhaust maxRetries, and logs it', async () => {
    const memory = new MemoryBucketStore();
    // Another writer always gets in first: every write meets a newer version.
    const hot: BucketStore = Object.assign(Object.create(memory), {
      write: async (w: Parameters<BucketStore['write']>[0]) => {
        const current = await memory.get(w.pk);
        return { ok: false as const, current: current && { ...current, version: current.version + 1 } };
      },
      takeStored: async (t: Parameters<BucketStore['takeStored']>[0]) => ({
        ok: false as const,
        current: await memory.get(t.pk),
      }),
    });
    const { client, logger } = memoryClient({ store: hot, settings: { maxRetries: 2 } });
    await client.upsertBuckets(DEFINITIONS);
    const result = await client.acquire('openai#rpm');
    const exhausted = logger.events(SluiceLogEvent.acquireContentionRetry).at(-1);
    expect(result).toEqual({
      outcome: 'RetryIn',
      waitSeconds: Number(exhausted?.backoff_ms) / 1000,
      dimension: 'openai#rpm',
    });
    expect(exhausted).toMatchObject({ attempt: 3 });
    expect(Number(exhausted?.backoff_ms)).toBeGreaterThanOrEqual(5);
    expect(Number(exhausted?.backoff_ms)).toBeLessThan(200);
  });

  it('creates a keyed dimension on first use from its template, with full tokens', async () => {
    const { client, store } = await seeded();
    granted(await client.acquire('waitwhile#location-writes#loc-42'));
    expect(await store.get('waitwhile#location-writes#loc-42')).toMatchObject({
      version: 2,
      buckets: { 'location-writes': { capacityMilli: 1_000, tokensMilli: 0 } },
    });
    expect((await client.acquire('waitwhile#location-writes#loc-42')).outcome).toBe('RetryIn');
    granted(await client.acquire('waitwhile#location-writes#loc-43'));
  });

  it('lets two clients race to create one key: one creates, the other adopts it', async () => {
    const store = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const a = memoryClient({ store, clock });
    const b = memoryClient({ store, clock, seed: 9 });
    await a.client.upsertBuckets(DEFINITIONS);
    const results = await Promise.all([
      a.client.acquire('waitwhile#location-writes#x'),
      b.client.acquire('waitwhile#location-writes#x'),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['Granted', 'RetryIn']);
  });

  it('logs acquire.granted and acquire.retry_in with snake_case fields', async () => {
    const { client, logger } = await seeded();
    granted(await client.acquire({ 'openai#tpm': 10_000 }));
    await client.acquire({ 'openai#tpm': 100 });
    expect(logger.events(SluiceLogEvent.acquireGranted)).toEqual([
      { dimensions: ['openai#tpm'], costs: { 'openai#tpm': 10_000 }, lease_ids: [], attempt: 0 },
    ]);
    expect(logger.events(SluiceLogEvent.acquireRetryIn)).toEqual([
      { dimension: 'openai#tpm', wait_seconds: 0.6 },
    ]);
  });
});
