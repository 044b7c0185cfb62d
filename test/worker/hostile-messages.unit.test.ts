import { Metric } from '../../lambda/contract';
import type { DeadLetteredOutcome } from '../../lambda/producer/outcome';
import { MemoryWorkerHarness } from './memory-harness';

/**
 * Messages an attacker with enqueue rights would send, through the worker on memory ports,
 * with the vendor simulator counting what reached it: each ends once, in
 * the DLQ as invalid_message with its reason, and the vendor never hears of it.
 */

const vendor = {
  name: 'waitwhile',
  allowedPaths: ['/locations'],
  operations: {
    createVisit: {
      method: 'POST' as const,
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1, 'waitwhile#location-writes#{locationId}': 1 },
    },
  },
  policy: { maxAttempts: 3, requeueJitterSeconds: 0, inlineRetryThresholdSeconds: 0.5 },
};
const buckets = [
  { dimension: 'waitwhile#rps', limitType: 'requests' as const, capacity: 50, windowSeconds: 1 },
  { dimension: 'waitwhile#location-writes#*', limitType: 'requests' as const, capacity: 5, windowSeconds: 1 },
];

describe('hostile messages at the worker', () => {
  let harness: MemoryWorkerHarness;
  beforeEach(async () => {
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets,
      vendor,
      products: ['checkout'],
    });
  });
  afterEach(() => harness.stop());

  it('ends an invalid message with an over-long id once: its outcome is keyed by the SQS message id', async () => {
    await harness.sendRaw(JSON.stringify({ id: 'x'.repeat(5_000), product: 'checkout', operation: 42 }));
    await harness.runUntilIdle();
    const [outcome] = (await harness.outcomesOf('checkout', 1)) as DeadLetteredOutcome[];
    expect(outcome).toMatchObject({ outcome: 'dead_lettered', reason: 'invalid_message', attempts: 1 });
    expect(outcome?.id).toMatch(/^sqs:[0-9a-f-]{36}$/);
    expect([
      (await harness.deadLetters()).map((letter) => letter.reason),
      harness.telemetry.countOf(Metric.messageFailures),
    ]).toEqual([['invalid_message'], 0]);
  });

  it('refuses a message that prices itself below its operation, or walks out of the path, before any call', async () => {
    await harness.enqueue([
      {
        id: 'free-1',
        product: 'checkout',
        operation: 'createVisit',
        params: { locationId: 'l-1' },
        dimensions: { 'waitwhile#rps': 0 },
      },
      { id: 'tab-1', product: 'checkout', method: 'POST', path: '/locations/.\t./.\t./admin/keys' },
      { id: 'slash-1', product: 'checkout', operation: 'createVisit', params: { locationId: '../../admin' } },
    ]);
    await harness.runUntilIdle();
    const outcomes = (await harness.outcomesOf('checkout', 3)) as DeadLetteredOutcome[];
    expect(outcomes.map((outcome) => [outcome.id, outcome.reason, outcome.detail]).sort()).toEqual([
      [
        'free-1',
        'invalid_message',
        'dimensions.waitwhile#rps: is priced by the configuration of operation "createVisit", not by the message (it lets a message price none) (got 0)',
      ],
      [
        'slash-1',
        'invalid_message',
        'params.locationId: must not contain / (it would be sent as %2F, which some servers read as a separator) (got "../../admin")',
      ],
      [
        'tab-1',
        'invalid_message',
        'path: must not contain control characters (U+0009) (got "/locations/.\\t./.\\t./admin/keys")',
      ],
    ]);
    expect((await harness.deadLetters()).map((letter) => letter.reason)).toEqual(
      Array(3).fill('invalid_message'),
    );
    expect(harness.simulator.stats().calls).toBe(0);
  });
});
