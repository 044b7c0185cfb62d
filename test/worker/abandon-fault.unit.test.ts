import type { IdempotencyStore } from '../../lambda/idempotency/store';
import { MemoryWorkerHarness } from './memory-harness';

/**
 * A claim that cannot be given back (DynamoDB fails the DeleteItem) must not undo an ending
 * that was carried out: the requeued copy or the dead letter stands, the original is
 * acknowledged, and SQS delivers nothing twice. The claim then ends at its expiry.
 */

const sweeppea = {
  buckets: [{ dimension: 'sweeppea#concurrent', limitType: 'concurrent' as const, capacity: 1 }],
  vendor: {
    name: 'sweeppea',
    operations: {
      createContact: {
        method: 'POST' as const,
        path: '/v1/contacts',
        dimensions: { 'sweeppea#concurrent': 1 },
      },
    },
    policy: { requeueJitterSeconds: 0, maxVendorRetries: 0 },
  },
};

const failingAbandon = (store: IdempotencyStore): IdempotencyStore => ({
  begin: (id, nowMs, expiresAtMs) => store.begin(id, nowMs, expiresAtMs),
  beginAll: (ids, nowMs, expiresAtMs) => store.beginAll(ids, nowMs, expiresAtMs),
  complete: (id, nowMs, outcome) => store.complete(id, nowMs, outcome),
  deadLettered: (id, nowMs, outcome) => store.deadLettered(id, nowMs, outcome),
  markPublished: (id) => store.markPublished(id),
  abandon: async () => {
    throw new Error('injected: DeleteItem failed');
  },
});

describe('a failing abandon after an ending', () => {
  it('keeps a requeue carried out: the record is not reported failed, one copy waits, the failure is logged', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      idempotency: failingAbandon,
    });
    try {
      // The one slot is held elsewhere, for longer than the inline threshold: the message is requeued.
      const held = await harness.sluice.acquire('sweeppea#concurrent');
      expect(held.outcome).toBe('Granted');
      await harness.enqueue([{ id: 'c-1', operation: 'createContact', body: { email: 'a@example.com' } }]);
      const response = await harness.pollOnce();
      expect(response?.batchItemFailures).toEqual([]);
      expect(harness.telemetry.fieldsOf('message.requeued')).toHaveLength(1);
      expect(harness.telemetry.fieldsOf('message.claim_abandon_failed')).toEqual([
        expect.objectContaining({ id: 'c-1', ended: 'requeued', error: 'injected: DeleteItem failed' }),
      ]);
      // Exactly the requeued copy: the original was acknowledged, not left to come back.
      expect(await harness.depth()).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
      expect(harness.simulator.stats().calls).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});
