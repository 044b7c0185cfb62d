import fc from 'fast-check';
import { SluiceClient } from '../../lambda/sluice/client';
import type { BucketDefinition, Granted } from '../../lambda/sluice/core/types';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { RecordingLogger, seededRandom, T0, testSettings } from './helpers';

/**
 * Invariants of docs/design.md over random operation sequences on the memory store, with
 * simulated clocks (no sleeps). Counts and sums only, never durations.
 */

const RPS: BucketDefinition = { dimension: 'v#rps', limitType: 'requests', capacity: 5, windowSeconds: 2 };
const TPM: BucketDefinition = { dimension: 'v#tpm', limitType: 'tokens', capacity: 1_000, windowSeconds: 60 };
const SLOTS: BucketDefinition = { dimension: 'v#slots', limitType: 'concurrent', capacity: 3 };

/** Several clients on one store; client i reads true time + offsets[i]. */
function clients(store: MemoryBucketStore, trueTime: { now: number }, offsets: readonly number[]) {
  return offsets.map(
    (offset, i) =>
      new SluiceClient({
        settings: testSettings({ maxRetries: 5 }),
        store,
        clock: () => trueTime.now + offset,
        random: seededRandom(i + 1),
        logger: new RecordingLogger(),
        sleep: async () => undefined,
      }),
  );
}

/** Invariant 1: for every pair of grants i ≤ j, cost admitted in [t_i, t_j] ≤ capacity + rate·(Δ + slack). */
function overAdmission(
  grants: readonly { atMs: number; cost: number }[],
  capacity: number,
  ratePerSec: number,
  slackMs: number,
) {
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < grants.length; i++) {
    let admitted = 0;
    for (let j = i; j < grants.length; j++) {
      admitted += grants[j]!.cost;
      const allowed = capacity + (ratePerSec * (grants[j]!.atMs - grants[i]!.atMs + slackMs)) / 1000;
      worst = Math.max(worst, admitted - allowed);
    }
  }
  return worst;
}

const step = fc.record({
  advanceMs: fc.integer({ min: 0, max: 700 }),
  client: fc.nat(),
  cost: fc.integer({ min: 1, max: 3 }),
});

describe('bucket invariants (property-based)', () => {
  it('1. never admits more than capacity + refill_rate · Δ in any interval, for one client', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const store = new MemoryBucketStore();
        const time = { now: T0 };
        const [client] = clients(store, time, [0]);
        await client!.upsertBuckets([RPS]);
        const grants: { atMs: number; cost: number }[] = [];
        for (const s of steps) {
          time.now += s.advanceMs;
          const result = await client!.acquire({ 'v#rps': s.cost });
          if (result.outcome === 'Granted') grants.push({ atMs: time.now, cost: s.cost });
        }
        expect(overAdmission(grants, 5, 2.5, 0)).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 60 },
    );
  });

  it('1. and time never runs backwards when several clients disagree on the clock: over-admission ≤ rate × clock spread', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -300, max: 300 }), { minLength: 2, maxLength: 4 }),
        fc.array(step, { maxLength: 60 }),
        async (offsets, steps) => {
          const store = new MemoryBucketStore();
          const time = { now: T0 };
          const all = clients(store, time, offsets);
          await all[0]!.upsertBuckets([RPS]);
          const grants: { atMs: number; cost: number }[] = [];
          let lastRefill = Number.NEGATIVE_INFINITY;
          for (const s of steps) {
            time.now += s.advanceMs;
            const result = await all[s.client % all.length]!.acquire({ 'v#rps': s.cost });
            if (result.outcome === 'Granted') grants.push({ atMs: time.now, cost: s.cost });
            const stored = (await store.get('v'))!.buckets.rps!.lastRefillAtMs;
            expect(stored).toBeGreaterThanOrEqual(lastRefill);
            lastRefill = stored;
          }
          const spread = Math.max(...offsets) - Math.min(...offsets);
          expect(overAdmission(grants, 5, 2.5, spread)).toBeLessThanOrEqual(1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('4. keeps 0 ≤ tokens ≤ capacity through acquires, settles, penalties and resyncs', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('acquire' as const),
        cost: fc.double({ min: 0, max: 1_000, noNaN: true }),
      }),
      fc.record({
        kind: fc.constant('settle' as const),
        actual: fc.double({ min: 0, max: 3_000, noNaN: true }),
      }),
      fc.record({
        kind: fc.constant('penalize' as const),
        factor: fc.double({ min: 0.01, max: 1, noNaN: true }),
      }),
      fc.record({ kind: fc.constant('resync' as const), remaining: fc.integer({ min: 0, max: 2_000 }) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 90_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const store = new MemoryBucketStore();
        const time = { now: T0 };
        const [client] = clients(store, time, [0]);
        await client!.upsertBuckets([TPM]);
        let last: Granted | undefined;
        for (const o of ops) {
          if (o.kind === 'advance') time.now += o.ms;
          if (o.kind === 'acquire') {
            const r = await client!.acquire({ 'v#tpm': o.cost });
            if (r.outcome === 'Granted') last = r;
          }
          if (o.kind === 'settle' && last) {
            await last.settle({ 'v#tpm': o.actual });
            last = undefined;
          }
          if (o.kind === 'penalize') await client!.penalize('v#tpm', o.factor);
          if (o.kind === 'resync') await client!.resync('v#tpm', o.remaining);
          const bucket = (await store.get('v'))!.buckets.tpm!;
          expect(bucket.tokensMilli).toBeGreaterThanOrEqual(0);
          expect(bucket.tokensMilli).toBeLessThanOrEqual(bucket.capacityMilli);
          expect(bucket.debtMilli === 0 || bucket.tokensMilli === 0).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('2. and 3. concurrent: holders ≤ capacity at every moment; after reconcile tokens + live leases = capacity', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('acquire' as const),
        client: fc.nat(),
        cost: fc.integer({ min: 1, max: 2 }),
      }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      // A holder passes its lease on (handOver); a refused hand-over leaves it holding.
      fc.record({ kind: fc.constant('handOver' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
      fc.record({ kind: fc.constant('reconcile' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 50 }), async (ops) => {
        const store = new MemoryBucketStore();
        const time = { now: T0 };
        const all = clients(store, time, [0, 0, 0]);
        await all[0]!.upsertBuckets([SLOTS]);
        const held: { grant: Granted; by: SluiceClient }[] = [];
        for (const o of ops) {
          if (o.kind === 'advance') time.now += o.ms;
          if (o.kind === 'acquire') {
            const by = all[o.client % 3]!;
            const r = await by.acquire({ 'v#slots': o.cost });
            if (r.outcome === 'Granted') held.push({ grant: r, by });
          }
          if (o.kind === 'release' && held.length > 0)
            await held.splice(o.pick % held.length, 1)[0]!.grant.release();
          if (o.kind === 'handOver' && held.length > 0) {
            const holder = held[o.pick % held.length]!;
            const next = await holder.by.handOver(holder.grant);
            if (next) holder.grant = next;
          }
          const bucket = (await store.get('v'))!.buckets.slots!;
          const leased = Object.values(bucket.leases).reduce((sum, l) => sum + l.costMilli, 0);
          expect(leased).toBeLessThanOrEqual(bucket.capacityMilli);
          if (o.kind === 'reconcile') {
            await all[1]!.reconcile();
            const after = (await store.get('v'))!.buckets.slots!;
            const live = Object.values(after.leases).reduce((sum, l) => sum + l.costMilli, 0);
            expect(after.tokensMilli + live).toBe(after.capacityMilli);
            expect(Object.values(after.leases).every((l) => l.expiresAtMs >= time.now)).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
