import { Metric } from '../../lambda/contract';
import type { BucketDefinition } from '../../lambda/sluice';
import type { VendorSettingsInput } from '../../lambda/worker-settings';
import type { SimulatorLimits, SimulatorProfileName } from '../../local/simulator';
import { MemoryWorkerHarness } from './memory-harness';

/**
 * 50 messages per simulator profile, the buckets configured at the simulator's true limits
 * (small ones, so each run takes seconds): every id ends completed, none is sent twice, and
 * the vendor refuses fewer than 5% of the calls. On memory ports, one clock for all: the sweeppea
 * case on the real servers and the real clock is in worker.test.ts.
 */
interface ProfileCase {
  readonly limits: Partial<SimulatorLimits>;
  readonly buckets: readonly BucketDefinition[];
  readonly vendor: Omit<VendorSettingsInput, 'baseUrl'>;
  readonly message: (index: number) => Record<string, unknown>;
}

const policy = { requeueJitterSeconds: 0 };

const cases: Record<SimulatorProfileName, ProfileCase> = {
  waitwhile: {
    limits: { requestsPerSecond: 10, locationWritesPerSecond: 2 },
    buckets: [
      { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 10, windowSeconds: 1 },
      { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 2, windowSeconds: 1 },
    ],
    vendor: {
      name: 'waitwhile',
      operations: {
        createVisit: {
          method: 'POST',
          path: '/locations/{locationId}/visits',
          dimensions: { 'waitwhile#rps': 1, 'waitwhile#location-writes#{locationId}': 1 },
        },
      },
      policy,
    },
    message: (index) => ({
      id: `visit-${index}`,
      operation: 'createVisit',
      params: { locationId: `loc-${index % 8}` },
      body: { name: `Guest ${index}` },
    }),
  },
  openai: {
    limits: { requestsPerMinute: 600, tokensPerMinute: 20_000 },
    buckets: [
      { dimension: 'openai#rpm', limitType: 'requests', capacity: 600, windowSeconds: 60 },
      { dimension: 'openai#tpm', limitType: 'tokens', capacity: 20_000, windowSeconds: 60 },
    ],
    vendor: {
      name: 'openai',
      operations: {
        chat: {
          method: 'POST',
          path: '/v1/chat/completions',
          dimensions: { 'openai#rpm': 1, 'openai#tpm': 500 },
        },
      },
      policy,
    },
    message: (index) => ({
      id: `chat-${index}`,
      operation: 'chat',
      tokenEstimate: 300,
      body: {
        model: 'gpt-4o-mini',
        max_tokens: 250,
        messages: [{ role: 'user', content: `Summarise ticket ${index}` }],
      },
    }),
  },
  sweeppea: {
    limits: { concurrentPerEndpoint: 1, requestsPerMinute: 600 },
    buckets: [
      { dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 },
      { dimension: 'sweeppea#rpm', limitType: 'requests', capacity: 600, windowSeconds: 60 },
    ],
    vendor: {
      name: 'sweeppea',
      operations: {
        createContact: {
          method: 'POST',
          path: '/v1/contacts',
          dimensions: { 'sweeppea#concurrent': 1, 'sweeppea#rpm': 1 },
        },
      },
      policy,
    },
    message: (index) => ({
      id: `contact-${index}`,
      operation: 'createContact',
      body: { email: `c${index}@example.com` },
    }),
  },
};

describe.each(Object.keys(cases) as SimulatorProfileName[])(
  '50 messages against the %s profile',
  (profile) => {
    it('all complete exactly once, with vendor refusals under 5% of calls', async () => {
      const spec = cases[profile];
      const harness = await MemoryWorkerHarness.start({
        simulator: { profile, limits: spec.limits, latencyMs: 2 },
        buckets: spec.buckets,
        vendor: spec.vendor,
      });
      try {
        const ids = Array.from({ length: 50 }, (_, index) => spec.message(index));
        await harness.enqueue(ids);
        await harness.runUntilIdle(45_000);
        const stats = harness.simulator.stats();
        expect(await harness.deadLetters()).toEqual([]);
        expect(stats.completions).toBe(50);
        expect(stats.duplicateCompletions).toBe(0);
        expect(Object.values(stats.byIdempotencyKey).every((count) => count === 1)).toBe(true);
        expect(Object.keys(stats.byIdempotencyKey).sort()).toEqual(
          ids.map((message) => String(message.id)).sort(),
        );
        expect(harness.telemetry.countOf(Metric.completed)).toBe(50);
        expect(stats.refusals / stats.calls).toBeLessThan(0.05);
      } finally {
        await harness.stop();
      }
    });
  },
);
