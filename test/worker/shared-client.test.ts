import fc from 'fast-check';
import { type Granted, SluiceClient } from '../../lambda/sluice';
import { localTable, RecordingLogger, SimulatedClock, seededRandom, testSettings } from '../sluice/helpers';

/**
 * The worker's pool runs several acquires at once on its one SluiceClient, which keeps one
 * item cache. On DynamoDB Local, with real concurrency (the HTTP requests of one round are
 * in flight together) and a clock the test moves between rounds, the shared cache must keep:
 * 1. no over-admission: in any interval, admitted cost ≤ capacity + refill · Δ;
 * 2. concurrent holders ≤ capacity at every moment;
 * 3. conservation after reconcile: tokens + cost of live leases = capacity;
 * 4. 0 ≤ tokens ≤ capacity.
 * Needs DynamoDB Local: the rounds' writes really interleave on the wire and are decided by its
 * conditional writes (the memory store's own property tests are in test/sluice/).
 */
jest.setTimeout(300_000);

const WINDOW_SECONDS = 60;

const roundArb = fc.record({
  tasks: fc.integer({ min: 2, max: 8 }),
  keep: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  advanceMs: fc.integer({ min: 0, max: 30_000 }),
});

let table: Awaited<ReturnType<typeof localTable>>;
beforeAll(async () => {
  table = await localTable('pool-shared');
});
afterAll(() => table.dynamodb.destroy());

describe('one SluiceClient shared by the pool, on DynamoDB Local', () => {
  let run = 0;

  it('keeps invariants 1-4 whatever the rounds of concurrent acquires and releases', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(roundArb, { minLength: 1, maxLength: 4 }),
        async (timeCapacity, slots, rounds) => {
          run += 1;
          const rpm = `p${run}#rpm`;
          const concurrent = `p${run}#concurrent`;
          const clock = new SimulatedClock();
          const client = new SluiceClient({
            settings: testSettings({ tableName: table.tableName }),
            dynamodb: table.dynamodb,
            clock: clock.now,
            random: seededRandom(run),
            logger: new RecordingLogger(),
          });
          await client.upsertBuckets([
            { dimension: rpm, limitType: 'requests', capacity: timeCapacity, windowSeconds: WINDOW_SECONDS },
            { dimension: concurrent, limitType: 'concurrent', capacity: slots },
          ]);
          const admittedAt: number[] = [];
          const kept: Granted[] = [];
          let holding = 0;
          let maxHolding = 0;
          for (const round of rounds) {
            await Promise.all(
              Array.from({ length: round.tasks }, async (_, task) => {
                const timed = await client.acquire({ [rpm]: 1 });
                if (timed.outcome === 'Granted') admittedAt.push(clock.now());
                const slot = await client.acquire(concurrent);
                if (slot.outcome !== 'Granted') return;
                maxHolding = Math.max(maxHolding, ++holding);
                if (round.keep[task]) {
                  kept.push(slot);
                  return;
                }
                holding -= 1;
                await slot.release();
              }),
            );
            for (const dimension of [rpm, concurrent]) {
              const snapshot = await client.snapshot(dimension);
              // Invariant 4.
              expect(snapshot.tokens).toBeGreaterThanOrEqual(0);
              expect(snapshot.tokens).toBeLessThanOrEqual(snapshot.capacity);
            }
            // Invariant 2, counted by the holders and by the table itself.
            expect(maxHolding).toBeLessThanOrEqual(slots);
            expect((await client.snapshot(concurrent)).leases).toBe(holding);
            clock.advance(round.advanceMs);
          }
          // Invariant 1 over every interval between two grants.
          const refillPerMs = timeCapacity / (WINDOW_SECONDS * 1000);
          for (let i = 0; i < admittedAt.length; i++) {
            for (let j = i; j < admittedAt.length; j++) {
              const admitted = j - i + 1;
              const allowed =
                timeCapacity + refillPerMs * ((admittedAt[j] as number) - (admittedAt[i] as number));
              expect(admitted).toBeLessThanOrEqual(allowed + 1e-9);
            }
          }
          // Invariant 3: the kept leases expire, the reconciler gives them back exactly once.
          clock.advance(120_000);
          const report = await client.reconcile();
          const after = await client.snapshot(concurrent);
          expect(report.restored).toBeGreaterThanOrEqual(kept.length);
          expect([after.tokens + after.leases, after.leases]).toEqual([slots, 0]);
          for (const slot of kept) await slot.release();
          expect((await client.snapshot(concurrent)).tokens).toBe(slots);
        },
      ),
      { numRuns: 12, seed: 1212 },
    );
  });
});
