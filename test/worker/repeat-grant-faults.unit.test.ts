import { LogEvent, Metric } from '../../lambda/contract';
import { chat, chatVendor } from './chat-vendor';
import { MemoryWorkerHarness, steppedClock } from './memory-harness';

/**
 * Repeats of a vendor request beyond the plain 5xx (repeat-grant.unit.test.ts): the repeat after
 * the vendor client read the key again, on memory ports. A repeat whose acquire meets a failing
 * bucket table needs the fault proxy in front of DynamoDB Local: worker-stores.test.ts.
 * Every request that reaches the vendor is granted (docs/worker.md, "Repeats are granted"): the
 * simulator counts the requests it received, the worker's telemetry the grants.
 */

const buckets = (rpmCapacity: number) => [
  { dimension: 'openai#rpm', limitType: 'requests' as const, capacity: rpmCapacity, windowSeconds: 60 },
  { dimension: 'openai#tpm', limitType: 'tokens' as const, capacity: 40_000, windowSeconds: 60 },
];

/** Draws for the simulator's faults: the listed ones first, then draws that inject nothing. */
function draws(...first: number[]): () => number {
  return () => first.shift() ?? 0.99;
}

describe('the repeat after a refreshed key', () => {
  it('is granted like any request: 401, key read again, 500, repeat; three requests, three grants', async () => {
    const time = steppedClock();
    let keyReads = 0;
    const harness = await MemoryWorkerHarness.start({
      // The first admitted request (the one with the fresh key) is answered 500, the next 200.
      simulator: { profile: 'openai', latencyMs: 1, faults: { errorRate: 0.5 }, random: draws(0) },
      buckets: buckets(60),
      vendor: chatVendor,
      apiKey: 'a-rotated-away-key',
      refreshApiKey: async () => {
        keyReads += 1;
        return harness.simulator.apiKey;
      },
      time: time,
      random: () => 0,
    });
    try {
      await harness.enqueue([chat('k1')]);
      await harness.pollOnce(1);
      expect(keyReads).toBe(1);
      expect(harness.simulator.stats().byStatus).toEqual({ 200: 1, 401: 1, 500: 1 });
      expect(harness.simulator.stats().calls).toBe(3);
      expect(harness.telemetry.countOf(Metric.grants)).toBe(3);
      expect(harness.telemetry.fieldsOf(LogEvent.messageCompleted).map((fields) => fields.id)).toEqual([
        'k1',
      ]);
      // Three requests took three from the request bucket; the tokens were paid once.
      const rpm = await harness.sluice.snapshot('openai#rpm');
      expect(Math.round(rpm.tokens)).toBe(57);
    } finally {
      await harness.stop();
    }
  });

  it('is not sent when the bucket refuses it: the 401 goes to the decision tree', async () => {
    const time = steppedClock();
    let keyReads = 0;
    // One request a minute: the stale key's request takes it, the repeat would wait 60 s.
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'openai', latencyMs: 1 },
      buckets: buckets(1),
      vendor: chatVendor,
      apiKey: 'a-rotated-away-key',
      refreshApiKey: async () => {
        keyReads += 1;
        return harness.simulator.apiKey;
      },
      time: time,
      random: () => 0,
    });
    try {
      await harness.enqueue([chat('k2')]);
      await harness.pollOnce(1);
      expect(keyReads).toBe(1);
      expect(harness.simulator.stats().byStatus).toEqual({ 401: 1 });
      expect(harness.telemetry.countOf(Metric.grants)).toBe(1);
      expect(harness.telemetry.fieldsOf(LogEvent.repeatNotGranted)).toEqual([{ id: 'k2' }]);
      // Without a circuit, a key refused is a dead letter (docs/worker.md, the decision tree).
      expect((await harness.deadLetters()).map((entry) => entry.reason)).toEqual(['vendor_unauthorized']);
    } finally {
      await harness.stop();
    }
  });
});
