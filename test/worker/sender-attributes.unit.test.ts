import { MessageAttr } from '../../lambda/contract';
import { LOCAL_SENDER_ID, MemoryWorkerHarness } from './memory-harness';

/**
 * A producer cannot set a message's attempt count or first-seen time: `sluice-*` attributes
 * count only on the worker's own requeued copies, which SQS marks with the worker role as
 * `SenderId`. The memory queue gives every message one SenderId (`LOCAL_SENDER_ID`, fauxqs's
 * `000000000000`), so the same forged message is read once as a producer's (the worker's id
 * configured as another) and once as the worker's own copy. The same on fauxqs, whose SenderId
 * SQS itself sets: worker.test.ts.
 */

const sweeppea = {
  buckets: [{ dimension: 'sweeppea#rps', limitType: 'requests' as const, capacity: 50, windowSeconds: 1 }],
  vendor: {
    name: 'sweeppea',
    operations: {
      createContact: { method: 'POST' as const, path: '/v1/contacts', dimensions: { 'sweeppea#rps': 1 } },
    },
    policy: { requeueJitterSeconds: 0, maxVendorRetries: 0, maxAttempts: 3, maxAgeSeconds: 3_600 },
  },
};

// A fresh message claiming it was first seen two hours ago (maxAgeSeconds is one hour) and is
// on its second attempt. Read as the worker's own copy, it is too old on arrival.
const forged = (nowMs: number) => ({
  [MessageAttr.attempt]: { DataType: 'Number', StringValue: '2' },
  [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(nowMs - 7_200_000) },
});
const body = JSON.stringify({ id: 'c-1', operation: 'createContact', body: { email: 'a@example.com' } });

describe('sluice-* attributes from a producer', () => {
  it('are ignored on a message the worker did not send: it runs as a first attempt', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      ownSenderIds: ['AROAWORKERROLE'],
    });
    try {
      await harness.sendRaw(body, forged(harness.now()));
      await harness.pollOnce();
      expect(harness.telemetry.fieldsOf('message.completed')).toEqual([
        expect.objectContaining({ id: 'c-1', attempt: 0 }),
      ]);
      expect(harness.simulator.stats().completions).toBe(1);
    } finally {
      await harness.stop();
    }
  });

  it("count on the worker's own copy (its SenderId): two hours old, it is dead-lettered on arrival", async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      ownSenderIds: [LOCAL_SENDER_ID],
    });
    try {
      await harness.sendRaw(body, forged(harness.now()));
      await harness.pollOnce();
      expect((await harness.deadLetters()).map((letter) => letter.reason)).toEqual(['max_age']);
      expect(harness.simulator.stats().calls).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});

describe('a product checked against its sender', () => {
  it('runs a product its sender may name, and dead-letters one it may not, with the sender in the reason', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      products: ['checkout', 'support'],
      ownSenderIds: ['AROAWORKERROLE'],
      // The memory queue's SenderId for every message.
      productSenders: { checkout: [LOCAL_SENDER_ID], support: ['AROASUPPORTAPP'] },
    });
    try {
      const contact = (id: string, product: string) => ({
        id,
        product,
        operation: 'createContact',
        body: { email: `${id}@example.com` },
      });
      await harness.enqueue([contact('mine', 'checkout'), contact('claimed', 'support')]);
      await harness.runUntilIdle();
      expect(harness.telemetry.fieldsOf('message.completed').map((f) => f.id)).toEqual(['mine']);
      expect(await harness.deadLetters()).toEqual([{ id: 'claimed', reason: 'invalid_message' }]);
      expect(harness.telemetry.fieldsOf('message.invalid')).toEqual([
        expect.objectContaining({
          detail: 'product: "support" may not be sent by 000000000000 (allowed: AROASUPPORTAPP)',
        }),
      ]);
      expect(harness.simulator.stats().completions).toBe(1);
    } finally {
      await harness.stop();
    }
  });
});
