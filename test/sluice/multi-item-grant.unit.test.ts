import fc from 'fast-check';
import type { BucketDefinition } from '../../lambda/sluice/core/types';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { memoryClient, SimulatedClock } from './helpers';

/**
 * A grant over two items is written one item after the other; a refusal on the second gives
 * back what the first took. Three clients with their own (so often stale) caches acquire left,
 * right or both in a random order, on buckets that do not refill during the run: every unit
 * must be either granted or still in its bucket, none lost to a give-back that did not
 * happen, none granted twice.
 */
/** The slowest refill a bucket takes (0.001 units/s): the simulated clock moves only by backoffs, so a run refills less than a unit. */
const DEFINITIONS: BucketDefinition[] = [
  { dimension: 'left#rpm', limitType: 'requests', capacity: 6, windowSeconds: 6_000 },
  { dimension: 'right#rpm', limitType: 'requests', capacity: 9, windowSeconds: 9_000 },
];
const REQUESTS = [{ 'left#rpm': 1 }, { 'right#rpm': 1 }, { 'left#rpm': 1, 'right#rpm': 1 }] as const;

describe('a grant over two items, written one after the other', () => {
  it('conserves every unit under stale caches: granted plus left equals capacity, per bucket', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ client: fc.nat(2), request: fc.nat(2) }), { minLength: 1, maxLength: 40 }),
        async (steps) => {
          const store = new MemoryBucketStore();
          const clock = new SimulatedClock();
          const clients = [0, 1, 2].map((seed) => memoryClient({ store, clock, seed }).client);
          await clients[0]!.upsertBuckets(DEFINITIONS);
          const granted = { 'left#rpm': 0, 'right#rpm': 0 };
          for (const { client, request } of steps) {
            const costs = REQUESTS[request]!;
            const result = await clients[client]!.acquire(costs);
            if (result.outcome !== 'Granted') continue;
            for (const dimension of Object.keys(costs) as (keyof typeof granted)[]) granted[dimension] += 1;
          }
          for (const definition of DEFINITIONS) {
            const dimension = definition.dimension as keyof typeof granted;
            const left = Math.round((await clients[0]!.snapshot(dimension)).tokens);
            expect([dimension, granted[dimension] + left]).toEqual([dimension, definition.capacity]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
