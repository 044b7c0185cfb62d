import { MessageAttr } from '../../lambda/contract';
import { WorkerHarness } from './harness';

/**
 * A producer cannot set a message's attempt count or first-seen time: `sluice-*` attributes
 * count only on the worker's own requeued copies, which SQS marks with the worker role as
 * `SenderId`. On fauxqs every message's SenderId is `000000000000`, so the same forged message
 * is read once as a producer's (the worker's id configured as another) and once as the
 * worker's own copy.
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
const forged = {
  [MessageAttr.attempt]: { DataType: 'Number', StringValue: '2' },
  [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(Date.now() - 7_200_000) },
};
const body = JSON.stringify({ id: 'c-1', operation: 'createContact', body: { email: 'a@example.com' } });

describe('sluice-* attributes from a producer', () => {
  it('are ignored on a message the worker did not send: it runs as a first attempt', async () => {
    const harness = await WorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      ownSenderIds: ['AROAWORKERROLE'],
    });
    try {
      await harness.sendRaw(body, forged);
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
    const harness = await WorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      ownSenderIds: ['000000000000'],
    });
    try {
      await harness.sendRaw(body, forged);
      await harness.pollOnce();
      expect((await harness.deadLetters()).map((letter) => letter.reason)).toEqual(['max_age']);
      expect(harness.simulator.stats().calls).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});
