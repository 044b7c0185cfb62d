import { Metric } from '../../lambda/contract';
import { chat, chatVendor } from './chat-vendor';
import { MemoryWorkerHarness, steppedClock } from './memory-harness';

/**
 * Every request that reaches the vendor is granted: the vendor client's repeats after a 5xx
 * acquire the call's request dimensions again. The simulator counts the requests it received,
 * the worker's telemetry the grants; they must be equal.
 */

async function harnessWith(rpmCapacity: number, errorRate: number): Promise<MemoryWorkerHarness> {
  const time = steppedClock();
  return MemoryWorkerHarness.start({
    simulator: { profile: 'openai', latencyMs: 1, faults: { errorRate }, random: () => 0 },
    buckets: [
      { dimension: 'openai#rpm', limitType: 'requests', capacity: rpmCapacity, windowSeconds: 60 },
      { dimension: 'openai#tpm', limitType: 'tokens', capacity: 40_000, windowSeconds: 60 },
    ],
    vendor: chatVendor,
    time: time,
    random: () => 0,
  });
}

describe('repeats of a vendor request', () => {
  it('acquire again for every repeat: vendor requests equal grants', async () => {
    const harness = await harnessWith(60, 1);
    try {
      await harness.enqueue([chat('r1'), chat('r2')]);
      await harness.pollOnce(2);
      // Each message: the first request and both repeats, every one a 500, every one granted.
      expect(harness.simulator.stats().calls).toBe(6);
      expect(harness.telemetry.countOf(Metric.grants)).toBe(6);
      // Only the request dimension is taken again; the token estimate is the repeats' sub-budget.
      const rpm = await harness.sluice.snapshot('openai#rpm');
      const tpm = await harness.sluice.snapshot('openai#tpm');
      expect([Math.round(rpm.tokens), Math.round(tpm.tokens)]).toEqual([54, 39_800]);
    } finally {
      await harness.stop();
    }
  });

  it('does not happen when the bucket refuses it: the decision tree gets the 500', async () => {
    // One request a minute: the first request takes it, the repeat would wait 60 s.
    const harness = await harnessWith(1, 1);
    try {
      await harness.enqueue([chat('only')]);
      await harness.pollOnce(1);
      expect(harness.simulator.stats().calls).toBe(1);
      expect(harness.telemetry.countOf(Metric.grants)).toBe(1);
      expect(harness.telemetry.fieldsOf('vendor.repeat_not_granted')).toEqual([{ id: 'only' }]);
      expect(harness.telemetry.fieldsOf('message.requeued').map((fields) => fields.why)).toEqual([
        expect.stringMatching(/transient$/),
      ]);
    } finally {
      await harness.stop();
    }
  });
});
