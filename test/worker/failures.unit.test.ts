import { Metric } from '../../lambda/contract';
import { MemoryWorkerHarness, missingDeadLetterQueue } from './memory-harness';

/**
 * Surprises at the worker on memory ports. The DLQ send that fails is the SQS client's own error
 * for a missing queue, thrown by the memory queues; the same failure from fauxqs, through the
 * SQS adapter, is in worker.test.ts.
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

describe('surprises and deadlines', () => {
  it('reports only the record whose DLQ send failed in batchItemFailures; the others in the batch still end', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      queues: missingDeadLetterQueue,
    });
    try {
      await harness.sendRaw('{"id":"poison"}');
      await harness.enqueue([{ id: 'fine', operation: 'createContact', body: { email: 'a@example.com' } }]);
      const response = await harness.pollOnce(10);
      expect(response?.batchItemFailures).toHaveLength(1);
      expect(harness.telemetry.fieldsOf('message.failed')).toEqual([
        {
          message_id: response?.batchItemFailures[0]?.itemIdentifier,
          error: expect.any(String),
          error_name: expect.any(String),
          receive_count: 1,
        },
      ]);
      expect(harness.telemetry.countOf(Metric.messageFailures)).toBe(1);
      expect(harness.telemetry.countOf(Metric.completed)).toBe(1);
      expect(harness.telemetry.flushes).toBe(1);
    } finally {
      await harness.stop();
    }
  });

  it("starts the invocation's first record even when a little less than a whole slot is left", async () => {
    // Every reading of this clock is 1 ms later than the last: the invocation begins with 5,999
    // of its 6,000 ms left, so its 1 s slot is already short of a whole slot when the pool asks.
    let nowMs = 1_700_000_000_000;
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      lambdaTimeoutSeconds: 6,
      time: {
        clock: () => nowMs++,
        sleep: async (ms) => {
          nowMs += ms;
        },
        advance: (ms) => {
          nowMs += ms;
        },
      },
    });
    try {
      await harness.enqueue([{ id: 'first', operation: 'createContact', body: { email: 'f@example.com' } }]);
      expect(await harness.pollOnce()).toEqual({ batchItemFailures: [] });
      expect(harness.telemetry.fieldsOf('message.requeued')).toEqual([]);
      expect(harness.simulator.stats().calls).toBe(1);
    } finally {
      await harness.stop();
    }
  });

  it('aborts a hanging vendor call at the slot deadline, releases the slot and requeues the message', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1, faults: { hangRate: 1 } },
      ...sweeppea,
      // A 6 s function leaves a 1 s slot after the 5 s margin.
      lambdaTimeoutSeconds: 6,
    });
    try {
      await harness.enqueue([{ id: 'hung', operation: 'createContact', body: { email: 'h@example.com' } }]);
      const response = await harness.pollOnce();
      expect(response).toEqual({ batchItemFailures: [] });
      expect(harness.telemetry.fieldsOf('message.requeued').map((fields) => fields.why)).toEqual([
        expect.stringMatching(/transient$/),
      ]);
      expect((await harness.sluice.snapshot('sweeppea#concurrent')).leases).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});
