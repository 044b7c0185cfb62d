import fc from 'fast-check';
import { SluiceClient } from '../../lambda/sluice/client';
import { MAX_HOLD_SECONDS } from '../../lambda/sluice/core/model';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { DEFINITIONS, granted } from './fixtures';
import {
  localTable,
  memoryClient,
  RecordingLogger,
  SimulatedClock,
  seededRandom,
  testSettings,
} from './helpers';

/**
 * The vendor's Retry-After, shared through the bucket item: once one worker stores a hold, every
 * other client (its cache warm from before the hold) is refused until the hold has passed.
 */
function clientsOn(store: BucketStore, clock: SimulatedClock) {
  const make = (seed: number) =>
    new SluiceClient({
      settings: testSettings(),
      store,
      clock: clock.now,
      random: seededRandom(seed),
      logger: new RecordingLogger(),
      sleep: async (ms) => clock.advance(ms),
    });
  return { penalizer: make(1), other: make(2) };
}

describe.each([
  ['the memory store', async () => memoryClient().store as BucketStore],
  ['DynamoDB Local', async () => (await localTable('hold')).store as BucketStore],
])('a Retry-After hold on %s', (_name, makeStore) => {
  it('refuses every acquire of the bucket by any client until it has passed, with the time left', async () => {
    const clock = new SimulatedClock();
    const { penalizer, other } = clientsOn(await makeStore(), clock);
    await penalizer.upsertBuckets(DEFINITIONS);
    // The other client's view is warm from before the hold: it would take from stored tokens.
    granted(await other.acquire('waitwhile#rps'));
    const result = await penalizer.penalize('waitwhile#rps', 0.8, { holdSeconds: 2.5 });
    expect(result.holdUntilMs).toBe(clock.nowMs + 2_500);
    clock.advance(1_000);
    expect(await other.acquire('waitwhile#rps')).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 1.5,
      dimension: 'waitwhile#rps',
    });
    // Several dimensions at once: the hold sets the wait, and nothing is taken from the others.
    expect(await other.acquire({ 'waitwhile#rps': 1, 'openai#rpm': 1 })).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 1.5,
      dimension: 'waitwhile#rps',
    });
    expect((await other.snapshot('openai#rpm')).tokens).toBe(60);
    clock.advance(1_499);
    expect(await penalizer.acquire('waitwhile#rps')).toMatchObject({
      outcome: 'RetryIn',
      waitSeconds: 0.001,
    });
    clock.advance(1);
    granted(await other.acquire('waitwhile#rps'));
    // Other buckets of the same vendor item were never held.
    granted(await other.acquire('openai#rpm'));
  });

  it('keeps a longer hold against a shorter Retry-After, and caps a hold at the documented maximum', async () => {
    const clock = new SimulatedClock();
    const { penalizer, other } = clientsOn(await makeStore(), clock);
    await penalizer.upsertBuckets(DEFINITIONS);
    await penalizer.penalize('openai#rpm', 0.8, { holdSeconds: 10 });
    const shorter = await other.penalize('openai#rpm', 0.8, { holdSeconds: 1 });
    expect(shorter.holdUntilMs).toBe(clock.nowMs + 10_000);
    const capped = await other.penalize('openai#rpm', 0.8, { holdSeconds: 10 * MAX_HOLD_SECONDS });
    expect(capped.holdUntilMs).toBe(clock.nowMs + MAX_HOLD_SECONDS * 1000);
  });
});

describe('the cost of the hold', () => {
  it('adds no write to a grant: one take per grant before and after a hold', async () => {
    const { client, store, clock } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    const writes = () => store.requests.write + store.requests.writeAll + store.requests.takeStored;
    const before = writes();
    granted(await client.acquire('openai#rpm'));
    expect(writes() - before).toBe(1);
    await client.penalize('openai#rpm', 1, { holdSeconds: 1 });
    clock.advance(1_000);
    const afterHold = writes();
    granted(await client.acquire('openai#rpm'));
    expect(writes() - afterHold).toBe(1);
  });

  it('refuses a hold that is not a number of seconds >= 0', async () => {
    const { client } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    await expect(client.penalize('openai#rpm', 0.8, { holdSeconds: -1 })).rejects.toThrow(
      'penalize holdSeconds for openai#rpm must be a number >= 0 (got -1)',
    );
  });
});

describe('the hold, as a property', () => {
  it('no client is granted the bucket before the latest hold stored, and no refusal in a hold waits past its end', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
      fc.record({ kind: fc.constant('acquire' as const), client: fc.integer({ min: 0, max: 2 }) }),
      fc.record({
        kind: fc.constant('hold' as const),
        client: fc.integer({ min: 0, max: 2 }),
        seconds: fc.double({ min: 0, max: 5, noNaN: true }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const clock = new SimulatedClock();
        const store = memoryClient().store;
        const clients = [1, 2, 3].map((seed) => memoryClient({ store, clock, seed }).client);
        await clients[0]!.upsertBuckets(DEFINITIONS);
        let heldUntilMs = 0;
        for (const s of steps) {
          if (s.kind === 'advance') clock.advance(s.ms);
          else if (s.kind === 'hold') {
            await clients[s.client]!.penalize('openai#rpm', 1, { holdSeconds: s.seconds });
            if (s.seconds > 0) heldUntilMs = Math.max(heldUntilMs, clock.nowMs + Math.ceil(s.seconds * 1000));
          } else {
            const result = await clients[s.client]!.acquire('openai#rpm');
            if (clock.nowMs < heldUntilMs) {
              // Never granted inside a hold. A refusal from a view up to a second old (the SDK's
              // refusal rule) may know an earlier hold: its wait is then shorter, never longer,
              // and the take after it meets the stored hold.
              if (result.outcome !== 'RetryIn')
                throw new Error(`granted ${heldUntilMs - clock.nowMs} ms before the hold ends`);
              expect(result.waitSeconds).toBeGreaterThan(0);
              // A hold restarts the bucket's phase (one call's worth at its end, docs/design.md,
              // "The Retry-After hold"): past the hold, the wait is the bucket's own, for a call
              // it does not hold yet.
              const { tokens, refillPerSecond } = await clients[s.client]!.snapshot('openai#rpm');
              const ownWaitSeconds = Math.max(0, 1 - tokens) / refillPerSecond;
              expect(result.waitSeconds).toBeLessThanOrEqual(
                Math.max((heldUntilMs - clock.nowMs) / 1000, ownWaitSeconds + 0.001),
              );
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
