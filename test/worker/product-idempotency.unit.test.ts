import type { CompletedOutcome } from '../../lambda/producer/outcome';
import { MemoryWorkerHarness } from './memory-harness';

/**
 * Idempotency is per product: two products that both number their orders send `order-1`, and
 * each is a request of its own, on memory ports. What counts is what the vendor
 * received: two completions under two Idempotency-Keys, no replay.
 */

const vendor = {
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

describe('idempotency scoped by product', () => {
  let harness: MemoryWorkerHarness;
  afterEach(() => harness.stop());

  it('runs the same id of two products as two requests, each recorded and keyed under its product', async () => {
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: 50, windowSeconds: 1 }],
      vendor,
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

    // Each product's id has its own record, ended as a completion (the record's key in the
    // table, idem#<product>#<id>, is the DynamoDB store's: worker-stores.test.ts).
    for (const product of ['checkout', 'support']) {
      const nowMs = harness.now();
      expect(await harness.idempotencyStore.begin(`${product}#order-1`, nowMs, nowMs + 60_000)).toMatchObject(
        {
          state: 'ended',
          outcome: { json: expect.stringContaining('"outcome":"completed"') },
        },
      );
    }

    // A redelivered copy of one product's order is still a duplicate, and the vendor sees nothing new.
    await harness.enqueue([visit('checkout', 'Ada')]);
    await harness.runUntilIdle();
    expect(harness.simulator.stats().calls).toBe(stats.calls);
  });
});
