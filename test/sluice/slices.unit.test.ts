import fc from 'fast-check';
import { SluiceClient } from '../../lambda/sluice/client';
import { leasedMilli } from '../../lambda/sluice/core/bucket-math';
import type { BucketDefinition } from '../../lambda/sluice/core/types';
import { isSluiceStoreError } from '../../lambda/sluice/errors';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { LostAnswerStore } from '../faults/lost-answer-store';
import { granted } from './fixtures';
import { memoryClient, RecordingLogger, SimulatedClock, seededRandom, testSettings } from './helpers';

/**
 * Leases for hot buckets on the memory store (docs/design.md, "Leases for hot buckets"): a
 * process takes a slice with one write and grants from it locally; stored tokens plus slices
 * held never exceed the capacity; unused parts come back exactly once; a process that dies
 * holding a slice costs at most that slice, until it is dropped after expiry.
 */

// 100 per 1,000 s: refill is negligible within a test (0.1 unit per second).
const HOT: BucketDefinition = {
  dimension: 'hot#rps',
  limitType: 'requests',
  capacity: 100,
  windowSeconds: 1_000,
  lease: { maxShare: 0.2, seconds: 5 },
};

async function stored(store: MemoryBucketStore) {
  const bucket = (await store.get('hot'))!.buckets.rps!;
  return {
    tokens: bucket.tokensMilli / 1000,
    sliced: leasedMilli(bucket) / 1000,
    slices: Object.keys(bucket.leases).length,
  };
}

function process(store: MemoryBucketStore | LostAnswerStore, clock: SimulatedClock, seed: number) {
  return new SluiceClient({
    settings: testSettings(),
    store,
    clock: clock.now,
    random: seededRandom(seed),
    logger: new RecordingLogger(),
    sleep: async (ms) => clock.advance(ms),
  });
}

describe('a sliced time bucket', () => {
  it('grants a slice with one write and then from it without any', async () => {
    const { client, store } = memoryClient();
    await client.upsertBuckets([HOT]);
    const writes = () => store.requests.write + store.requests.takeStored;
    const before = writes();
    for (let i = 0; i < 20; i++) granted(await client.acquire('hot#rps'));
    expect([writes() - before, await stored(store)]).toEqual([1, { tokens: 80, sliced: 20, slices: 1 }]);
    granted(await client.acquire('hot#rps')); // the 21st: the next slice, the used one given back in the same write
    expect([writes() - before, await stored(store)]).toEqual([2, { tokens: 60, sliced: 20, slices: 1 }]);
  });

  it('gives back exactly what was not used, once', async () => {
    const { client, store } = memoryClient();
    await client.upsertBuckets([HOT]);
    for (let i = 0; i < 5; i++) granted(await client.acquire('hot#rps'));
    expect(await client.returnSlices()).toBe(15);
    expect(await client.returnSlices()).toBe(0);
    expect(await stored(store)).toEqual({ tokens: 95, sliced: 0, slices: 0 });
  });

  it('refuses once the stored tokens and this process slice are used, with the wait refill needs', async () => {
    const { client } = memoryClient();
    await client.upsertBuckets([{ ...HOT, lease: { maxShare: 1, seconds: 5 } }]);
    for (let i = 0; i < 100; i++) granted(await client.acquire('hot#rps'));
    const refused = await client.acquire('hot#rps');
    expect(refused).toMatchObject({ outcome: 'RetryIn', waitSeconds: 10 });
  });

  it('loses at most the slice of a process that dies holding it, until the slice is dropped after expiry', async () => {
    const clock = new SimulatedClock();
    const store = new MemoryBucketStore();
    const dying = process(store, clock, 1);
    await dying.upsertBuckets([HOT]);
    granted(await dying.acquire('hot#rps')); // takes a slice of 20 and never returns it
    const other = process(store, clock, 2);
    for (let i = 0; i < 80; i++) granted(await other.acquire('hot#rps'));
    expect((await other.acquire('hot#rps')).outcome).toBe('RetryIn');
    clock.advance(5_000 + 1_001); // past the expiry and the drop margin
    const report = await other.reconcile();
    // Two dropped: the dead process's slice, and the other's used-up last one (its next slice
    // would have given it back).
    expect([report.restored, await stored(store)]).toMatchObject([2, { sliced: 0 }]);
    // Refill may now fill the bucket to its whole capacity again.
    clock.advance(1_000_000);
    expect((await other.snapshot('hot#rps')).tokens).toBe(100);
  });

  it('is dropped after expiry by the next writer too, without the reconciler', async () => {
    const clock = new SimulatedClock();
    const store = new MemoryBucketStore();
    const dying = process(store, clock, 1);
    await dying.upsertBuckets([HOT]);
    granted(await dying.acquire('hot#rps'));
    clock.advance(6_001);
    granted(await process(store, clock, 2).acquire('hot#rps'));
    expect(await stored(store)).toMatchObject({ slices: 1, sliced: 20 });
  });

  it('adopts its own slice whose write answer was lost, and takes no second one', async () => {
    const clock = new SimulatedClock();
    const memory = new MemoryBucketStore();
    const lossy = new LostAnswerStore(memory);
    const client = process(lossy, clock, 1);
    await client.upsertBuckets([HOT]);
    lossy.plan('write', 'fail');
    const error = await client.acquire('hot#rps').catch((e: unknown) => e);
    expect(isSluiceStoreError(error)).toBe(true);
    for (let i = 0; i < 20; i++) granted(await client.acquire('hot#rps'));
    expect(await stored(memory)).toEqual({ tokens: 80, sliced: 20, slices: 1 });
    expect(await client.returnSlices()).toBe(0);
    expect(await stored(memory)).toEqual({ tokens: 80, sliced: 0, slices: 0 });
  });

  it('rejects a lease on a concurrent bucket and bad shares in one message', async () => {
    const { client } = memoryClient();
    await expect(
      client.upsertBuckets([
        { dimension: 'x#slots', limitType: 'concurrent', capacity: 2, lease: { maxShare: 0, seconds: 0.5 } },
      ]),
    ).rejects.toThrow(
      'bucket definition x#slots is not valid: lease applies to time buckets (requests, tokens), not concurrent ones; ' +
        'lease.maxShare must be > 0 and <= 1 (got 0); lease.seconds must be a whole number from 1 to 300 (got 0.5)',
    );
  });
});

describe('leases for hot buckets, over random schedules (memory store)', () => {
  const CAPACITY = 30;
  const RATE_PER_SECOND = 3; // 30 per 10 s
  const DEF: BucketDefinition = {
    dimension: 'hot#rps',
    limitType: 'requests',
    capacity: CAPACITY,
    windowSeconds: 10,
    lease: { maxShare: 0.25, seconds: 2 },
  };
  const step = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('acquire' as const),
        who: fc.nat(2),
        burst: fc.integer({ min: 1, max: 12 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('return' as const), who: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('die' as const), who: fc.nat(2) }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconcile' as const) }) },
  );

  it('never holds more than the capacity in stored tokens plus slices, and never over-admits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 50 }), async (steps) => {
        const clock = new SimulatedClock();
        const store = new MemoryBucketStore();
        let seed = 10;
        const procs = [0, 1, 2].map((i) => process(store, clock, i + 1));
        await procs[0]!.upsertBuckets([DEF]);
        const grants: number[] = [];
        for (const s of steps) {
          if (s.kind === 'acquire') {
            const results = await Promise.all(
              Array.from({ length: s.burst }, () => procs[s.who]!.acquire('hot#rps')),
            );
            for (const r of results) if (r.outcome === 'Granted') grants.push(clock.now());
          } else if (s.kind === 'return') await procs[s.who]!.returnSlices();
          else if (s.kind === 'die') procs[s.who] = process(store, clock, seed++);
          else if (s.kind === 'advance') clock.advance(s.ms);
          else await procs[0]!.reconcile();
          const bucket = (await store.get('hot'))!.buckets.rps!;
          expect(bucket.tokensMilli).toBeGreaterThanOrEqual(0);
          expect(bucket.tokensMilli + leasedMilli(bucket)).toBeLessThanOrEqual(CAPACITY * 1000);
        }
        // Invariant 1 on the grants' instants: within [t_i, t_j], at most capacity + rate·Δ.
        for (let i = 0; i < grants.length; i++) {
          for (let j = i; j < grants.length; j++) {
            const allowed = CAPACITY + (RATE_PER_SECOND * (grants[j]! - grants[i]!)) / 1000;
            expect(j - i + 1).toBeLessThanOrEqual(allowed);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
