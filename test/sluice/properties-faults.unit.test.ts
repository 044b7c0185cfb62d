import fc from 'fast-check';
import { SluiceClient } from '../../lambda/sluice/client';
import type { BucketItem } from '../../lambda/sluice/core/model';
import type { BucketDefinition, Granted } from '../../lambda/sluice/core/types';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { LostAnswerStore } from '../faults/lost-answer-store';
import { RecordingLogger, seededRandom, T0, testSettings } from './helpers';

/**
 * Invariants 1–4 (docs/design.md) after every step of random mixes of every operation, with
 * several clients whose caches go stale and whose clocks are up to ±500 ms apart, answers lost
 * and resent, and operators upserting new capacities, windows, types and templates meanwhile.
 * Counts and sums only, on the memory store with simulated clocks.
 */

const TPM: BucketDefinition = { dimension: 'v#tpm', limitType: 'tokens', capacity: 1_000, windowSeconds: 60 };
/** A bucket operators keep changing: type, capacity and window (a concurrent capacity is never lowered). */
const FLIPS: readonly BucketDefinition[] = [
  { dimension: 'v#x', limitType: 'concurrent', capacity: 3 },
  { dimension: 'v#x', limitType: 'requests', capacity: 2, windowSeconds: 10 },
  { dimension: 'v#x', limitType: 'requests', capacity: 4, windowSeconds: 5 },
];
const SLOTS: BucketDefinition = { dimension: 'v#slots', limitType: 'concurrent', capacity: 2 };
const TEMPLATES: readonly BucketDefinition[] = [
  { dimension: 'w#k#*', limitType: 'requests', capacity: 5, windowSeconds: 10 },
  { dimension: 'w#k#*', limitType: 'requests', capacity: 2, windowSeconds: 10 },
  { dimension: 'w#k#*', limitType: 'requests', capacity: 8, windowSeconds: 20 },
];

const weighted = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const operation = fc.oneof(
  weighted(
    4,
    fc.record({
      kind: fc.constant('acquireTokens' as const),
      client: fc.nat(),
      cost: fc.integer({ min: 1, max: 600 }),
    }),
  ),
  weighted(
    3,
    fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      usedPermille: fc.integer({ min: 0, max: 1_000 }),
    }),
  ),
  weighted(
    1,
    fc.record({
      kind: fc.constant('penalize' as const),
      client: fc.nat(),
      factor: fc.double({ min: 0.1, max: 1, noNaN: true }),
    }),
  ),
  weighted(
    1,
    fc.record({
      kind: fc.constant('resync' as const),
      client: fc.nat(),
      remaining: fc.integer({ min: 0, max: 1_200 }),
    }),
  ),
  weighted(
    2,
    fc.record({
      kind: fc.constant('acquireOther' as const),
      client: fc.nat(),
      which: fc.constantFrom('v#x', 'v#slots'),
    }),
  ),
  weighted(
    2,
    fc.record({
      kind: fc.constant('acquireKey' as const),
      client: fc.nat(),
      key: fc.integer({ min: 1, max: 4 }),
    }),
  ),
  weighted(2, fc.record({ kind: fc.constant('release' as const), pick: fc.nat() })),
  weighted(1, fc.record({ kind: fc.constant('reconcile' as const) })),
  weighted(1, fc.record({ kind: fc.constant('upsertFlip' as const), pick: fc.nat() })),
  weighted(1, fc.record({ kind: fc.constant('upsertSlots' as const) })),
  weighted(1, fc.record({ kind: fc.constant('upsertTemplate' as const), pick: fc.nat() })),
  weighted(
    2,
    fc.record({
      kind: fc.constant('lose' as const),
      operation: fc.constantFrom('write', 'takeStored', 'writeAll', 'create', 'returnLease'),
    }),
  ),
  weighted(4, fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) })),
);

/** Invariant 1 for the tokens bucket: admitted (actual, or the estimate while unsettled) ≤ C + rate · (Δ + spread). */
function overAdmission(grants: readonly { atMs: number; units: number }[], spreadMs: number): number {
  const ratePerMs = TPM.capacity / (TPM.windowSeconds! * 1000);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < grants.length; i++) {
    let admitted = 0;
    for (let j = i; j < grants.length; j++) {
      admitted += grants[j]!.units;
      worst = Math.max(
        worst,
        admitted - (TPM.capacity + ratePerMs * (grants[j]!.atMs - grants[i]!.atMs + spreadMs)),
      );
    }
  }
  return worst;
}

/** Invariants 2, 3 and 4 on every bucket of every item, as stored. */
function checkBuckets(items: readonly BucketItem[]): void {
  for (const item of items) {
    for (const bucket of Object.values(item.buckets)) {
      if (bucket.limitType === 'concurrent') {
        const leased = Object.values(bucket.leases).reduce((sum, l) => sum + l.costMilli, 0);
        expect(leased).toBeLessThanOrEqual(bucket.capacityMilli); // 2 (capacities here only rise)
        expect(bucket.tokensMilli + leased).toBe(bucket.capacityMilli); // 3, at every moment
      } else {
        expect(bucket.tokensMilli).toBeGreaterThanOrEqual(0); // 4
        expect(bucket.tokensMilli).toBeLessThanOrEqual(bucket.capacityMilli);
        expect(Object.keys(bucket.leases)).toEqual([]);
        expect(bucket.debtMilli === 0 || bucket.tokensMilli === 0).toBe(true);
      }
    }
  }
}

describe('invariants under faults, stale caches, skewed clocks and live upserts (property-based)', () => {
  it('1–4 hold after every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -500, max: 500 }), { minLength: 2, maxLength: 3 }),
        fc.array(operation, { maxLength: 60 }),
        async (offsets, ops) => {
          const memory = new MemoryBucketStore();
          const store = new LostAnswerStore(memory);
          const time = { now: T0 };
          const clients = offsets.map(
            (offset, i) =>
              new SluiceClient({
                settings: testSettings({ maxRetries: 5 }),
                store,
                clock: () => time.now + offset,
                random: seededRandom(i + 1),
                logger: new RecordingLogger(),
                sleep: async () => undefined,
                writerId: `client-${i}`,
              }),
          );
          const client = (n: number) => clients[n % clients.length]!;
          // The operator is a client of its own, warm only for what it upserts.
          const operator = clients[0]!;
          let template = TEMPLATES[0]!;
          let slotsCapacity = SLOTS.capacity;
          await operator.upsertBuckets([TPM, FLIPS[0]!, SLOTS, template]);
          const tokens: { atMs: number; units: number; grant: Granted }[] = [];
          const unsettled: number[] = [];
          const held: Granted[] = [];
          for (const o of ops) {
            switch (o.kind) {
              case 'advance':
                time.now += o.ms;
                break;
              case 'lose':
                store.plan(o.operation, 'repeat');
                break;
              case 'acquireTokens': {
                const r = await client(o.client).acquire({ 'v#tpm': o.cost });
                if (r.outcome === 'Granted') {
                  unsettled.push(tokens.length);
                  tokens.push({ atMs: time.now, units: o.cost, grant: r });
                }
                break;
              }
              case 'settle': {
                if (unsettled.length === 0) break;
                const index = unsettled.splice(o.pick % unsettled.length, 1)[0]!;
                const entry = tokens[index]!;
                const actual = Math.floor((entry.units * o.usedPermille) / 1_000);
                await entry.grant.settle({ 'v#tpm': actual });
                entry.units = actual; // what the vendor counted at the grant
                break;
              }
              case 'penalize':
                await client(o.client).penalize('v#tpm', o.factor);
                break;
              case 'resync':
                await client(o.client).resync('v#tpm', o.remaining);
                break;
              case 'acquireOther':
              case 'acquireKey': {
                const dimension = o.kind === 'acquireKey' ? `w#k#k${o.key}` : o.which;
                const r = await client(o.client).acquire(dimension);
                if (r.outcome === 'Granted') held.push(r);
                break;
              }
              case 'release':
                if (held.length > 0) await held.splice(o.pick % held.length, 1)[0]!.release();
                break;
              case 'reconcile':
                await client(1).reconcile();
                break;
              case 'upsertFlip':
                await operator.upsertBuckets([FLIPS[o.pick % FLIPS.length]!]);
                break;
              case 'upsertSlots':
                slotsCapacity += 1;
                await operator.upsertBuckets([{ ...SLOTS, capacity: slotsCapacity }]);
                break;
              case 'upsertTemplate':
                template = TEMPLATES[o.pick % TEMPLATES.length]!;
                await operator.upsertBuckets([template]);
                break;
            }
            const items = (await memory.scan(undefined, 1_000)).items;
            checkBuckets(items);
            // Every key follows the template as it is now (upserts here run one at a time).
            for (const key of items.filter((i) => i.pk.startsWith('w#k#'))) {
              expect(key.buckets.k?.capacityMilli).toBe(template.capacity * 1000);
            }
          }
          const spread = Math.max(...offsets) - Math.min(...offsets);
          expect(overAdmission(tokens, spread)).toBeLessThanOrEqual(1e-9);
        },
      ),
      {
        numRuns: 200,
        // Always tried first: the late refund of the issue (a grant, a window of refill taken by
        // another, then the refund) and a lost answer on a settle.
        examples: [
          [
            [0, 0],
            [
              { kind: 'acquireTokens', client: 0, cost: 600 },
              { kind: 'advance', ms: 40_000 },
              { kind: 'acquireTokens', client: 1, cost: 600 },
              { kind: 'lose', operation: 'write' },
              { kind: 'settle', pick: 0, usedPermille: 0 },
              { kind: 'acquireTokens', client: 0, cost: 600 },
            ],
          ],
        ],
      },
    );
  });
});
