import { MessageAttr, Metric } from '../../lambda/contract';
import { sha256Hex } from '../../lambda/outcomes/claim-check';
import type { CompletedOutcome, DeadLetteredOutcome } from '../../lambda/producer/outcome';
import { type MemoryHarnessOptions, MemoryWorkerHarness } from './memory-harness';

/**
 * Every way a message ends reaches its product as one final outcome, on memory ports: the
 * memory idempotency store keeps the outcome, the memory topic hands each product only its own
 * events (as the filtered subscriptions do) and claim-checked bodies land in a memory bucket;
 * the vendor simulator answers. The same through SNS, S3 and DynamoDB Local: outcome-topic.test.ts.
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
const buckets = [
  { dimension: 'waitwhile#rps', limitType: 'requests' as const, capacity: 50, windowSeconds: 1 },
];

function start(options: Partial<MemoryHarnessOptions> = {}): Promise<MemoryWorkerHarness> {
  return MemoryWorkerHarness.start({
    simulator: { profile: 'waitwhile', latencyMs: 1 },
    buckets,
    vendor,
    products: ['checkout', 'support'],
    ...options,
  });
}

const visit = (id: string, product: string, body: Record<string, unknown> = { name: 'Ada' }) => ({
  id,
  product,
  operation: 'createVisit',
  params: { locationId: 'loc-1' },
  body,
});

describe('message outcomes, published to each product', () => {
  let harness: MemoryWorkerHarness;
  afterEach(() => harness.stop());

  it('publishes a completed outcome that carries the vendor answer: status, headers, body, attempts, latency', async () => {
    harness = await start();
    await harness.enqueue([visit('order-1', 'checkout', { name: 'Ada', seats: 2 })]);
    await harness.runUntilIdle();
    const [outcome] = (await harness.outcomesOf('checkout', 1)) as CompletedOutcome[];
    expect(outcome).toMatchObject({
      schemaVersion: 1,
      outcome: 'completed',
      id: 'order-1',
      product: 'checkout',
      operation: 'createVisit',
      attempts: 1,
      status: 201,
      cached: false,
      body: { name: 'Ada', seats: 2, locationId: 'loc-1', id: expect.stringMatching(/^visit/) },
    });
    expect(outcome?.headers['content-type']).toMatch(/application\/json/);
    expect(outcome?.vendorLatencyMs).toBeGreaterThanOrEqual(0);
    expect(outcome?.bodyRef).toBeUndefined();
    expect(
      harness.telemetry.countOf(`${Metric.outcomesPublished}[Product=checkout,OutcomeClass=completed]`),
    ).toBe(1);
  });

  it("counts each product's grants, what it took from its share and from the common part, and its messages' age", async () => {
    harness = await start({ buckets: [{ ...buckets[0]!, shares: { checkout: 0.5, support: 0.5 } }] });
    await harness.enqueue([visit('s-1', 'checkout'), visit('s-2', 'checkout'), visit('s-3', 'support')]);
    await harness.runUntilIdle();
    const { telemetry } = harness;
    const grants = (product: string) => telemetry.countOf(`${Metric.productGrants}[Product=${product}]`);
    // Every grant is counted for its product (a busy vendor's repeats are granted too).
    expect(grants('checkout') + grants('support')).toBe(telemetry.countOf(Metric.grants));
    expect(grants('checkout')).toBeGreaterThanOrEqual(2);
    expect(grants('support')).toBeGreaterThanOrEqual(1);
    // Each grant takes its one unit from its share or from the common part, nothing else.
    const units = (product: string) =>
      telemetry.countOf(`${Metric.productReservedUnits}[Product=${product},Bucket=waitwhile#rps]`) +
      telemetry.countOf(`${Metric.productCommonUnits}[Product=${product},Bucket=waitwhile#rps]`);
    expect([units('checkout'), units('support')]).toEqual([grants('checkout'), grants('support')]);
    expect(telemetry.values.get(`${Metric.productMessageAge}[Product=checkout]`)).toHaveLength(2);
  });

  it('claim-checks a body too large for the topic to the outcome bucket: the event names it, and its bytes match the sha256', async () => {
    harness = await start();
    const large = 'x'.repeat(210 * 1024);
    await harness.enqueue([visit('big-1', 'support', { name: 'Ada', notes: large })]);
    await harness.runUntilIdle();
    const [outcome] = (await harness.outcomesOf('support', 1)) as CompletedOutcome[];
    expect(outcome?.body).toBeUndefined();
    const ref = outcome?.bodyRef;
    expect(ref).toMatchObject({ bucket: 'memory-outcome-bodies', format: 'json' });
    const bytes = harness.bodies.get(ref?.key ?? '') ?? Buffer.alloc(0);
    expect(bytes.length).toBe(ref?.size);
    expect(sha256Hex(bytes)).toBe(ref?.sha256);
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({
      name: 'Ada',
      notes: large,
      locationId: 'loc-1',
    });
    expect(harness.telemetry.countOf(Metric.outcomeBodiesClaimChecked)).toBe(1);
  });

  it('publishes dead_lettered outcomes with their reasons: an invalid message of a known product, and a 401', async () => {
    harness = await start({ apiKey: 'not-the-key' });
    await harness.sendRaw(JSON.stringify({ id: 'bad-1', product: 'checkout', operation: 42 }));
    await harness.enqueue([visit('refused-1', 'support')]);
    await harness.runUntilIdle();
    const [invalid] = (await harness.outcomesOf('checkout', 1)) as DeadLetteredOutcome[];
    expect(invalid).toMatchObject({
      outcome: 'dead_lettered',
      id: 'bad-1',
      product: 'checkout',
      reason: 'invalid_message',
      detail: 'operation: Invalid input: expected string, received number (got 42)',
      attempts: 1,
    });
    const [refused] = (await harness.outcomesOf('support', 1)) as DeadLetteredOutcome[];
    expect(refused).toMatchObject({
      outcome: 'dead_lettered',
      id: 'refused-1',
      product: 'support',
      operation: 'createVisit',
      reason: 'vendor_unauthorized',
    });
    expect((await harness.deadLetters()).map((letter) => letter.reason).sort()).toEqual([
      'invalid_message',
      'vendor_unauthorized',
    ]);
  });

  it('dead-letters a message naming an unknown product, or none, with the reason; no product receives anything', async () => {
    harness = await start();
    await harness.enqueue([visit('stranger-1', 'billing')]);
    await harness.sendRaw(
      JSON.stringify({ id: 'anonymous-1', operation: 'createVisit', params: { locationId: 'l' } }),
    );
    await harness.runUntilIdle();
    expect(await harness.deadLetters()).toEqual([
      { id: 'stranger-1', reason: 'invalid_message' },
      { id: 'anonymous-1', reason: 'invalid_message' },
    ]);
    expect(harness.telemetry.fieldsOf('message.invalid').map((fields) => fields.detail)).toEqual([
      'product: "billing" is not a configured product (known: checkout, support)',
      'product: is required (known: checkout, support)',
    ]);
    expect(harness.simulator.stats().calls).toBe(0);
    expect(await harness.outcomesNowOf('checkout')).toEqual([]);
    expect(await harness.outcomesNowOf('support')).toEqual([]);
  });

  it('publishes the stored outcome on the redelivery after a failed publish, without a second vendor call', async () => {
    let failuresLeft = 1;
    harness = await start({
      maxReceiveCount: 5,
      outcomeTopic: (topic) => ({
        publish: (json, product, outcome) => {
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            return Promise.reject(new Error('injected: SNS is unavailable'));
          }
          return topic.publish(json, product, outcome);
        },
      }),
    });
    await harness.enqueue([visit('order-2', 'checkout')]);
    const first = await harness.pollOnce();
    expect(first?.batchItemFailures).toHaveLength(1);
    expect(harness.telemetry.countOf(Metric.outcomePublishFailures)).toBe(1);
    await harness.runUntilIdle();
    const outcomes = (await harness.outcomesOf('checkout', 1)) as CompletedOutcome[];
    expect(outcomes.map((outcome) => [outcome.id, outcome.outcome, outcome.status])).toEqual([
      ['order-2', 'completed', 201],
    ]);
    expect(outcomes[0]?.body).toMatchObject({ name: 'Ada' });
    expect(harness.simulator.stats().calls).toBe(1);
    expect(harness.telemetry.countOf(Metric.duplicatesSkipped)).toBe(1);
    expect(harness.telemetry.fieldsOf('message.duplicate')).toEqual([
      expect.objectContaining({ id: 'order-2', republished: true }),
    ]);
    // Once published, a later duplicate publishes nothing more.
    await harness.enqueue([visit('order-2', 'checkout')]);
    await harness.runUntilIdle();
    expect(await harness.outcomesNowOf('checkout')).toEqual([]);
    expect(harness.simulator.stats().calls).toBe(1);
  });

  it('a later copy of a completed id publishes its stored outcome once more, then never again; no second vendor call', async () => {
    harness = await start();
    await harness.enqueue([visit('order-3', 'checkout')]);
    await harness.runUntilIdle();
    expect((await harness.outcomesOf('checkout', 1)).map((o) => (o as CompletedOutcome).id)).toEqual([
      'order-3',
    ]);
    // The first publish is not marked (a write saved per message): the first copy republishes.
    await harness.enqueue([visit('order-3', 'checkout')]);
    await harness.runUntilIdle();
    expect((await harness.outcomesOf('checkout', 1)).map((o) => (o as CompletedOutcome).id)).toEqual([
      'order-3',
    ]);
    expect(harness.telemetry.fieldsOf('message.duplicate')).toEqual([
      expect.objectContaining({ id: 'order-3', republished: true }),
    ]);
    // Marked then: later copies publish nothing.
    await harness.enqueue([visit('order-3', 'checkout')]);
    await harness.runUntilIdle();
    expect(await harness.outcomesNowOf('checkout')).toEqual([]);
    expect(harness.simulator.stats().calls).toBe(1);
    expect(harness.telemetry.countOf(Metric.duplicatesSkipped)).toBe(2);
  });

  it('publishes dead_lettered outcomes for the age limit and for a message the worker keeps failing on (worker_error)', async () => {
    harness = await start({
      maxReceiveCount: 2,
      readApiKey: () => Promise.reject(new Error('injected: the vendor secret is unreadable')),
    });
    // First seen two days ago: older than maxAgeSeconds (one day) on arrival.
    await harness.sendRaw(JSON.stringify(visit('stale-1', 'checkout')), {
      [MessageAttr.firstSeenAtMs]: {
        DataType: 'Number',
        StringValue: String(harness.now() - 2 * 86_400_000),
      },
    });
    await harness.enqueue([visit('failing-1', 'support')]);
    await harness.runUntilIdle();
    expect(await harness.outcomesOf('checkout', 1)).toEqual([
      expect.objectContaining({ outcome: 'dead_lettered', id: 'stale-1', reason: 'max_age' }),
    ]);
    expect(await harness.outcomesOf('support', 1)).toEqual([
      expect.objectContaining({
        outcome: 'dead_lettered',
        id: 'failing-1',
        reason: 'worker_error',
        detail: expect.stringContaining('injected: the vendor secret is unreadable'),
      }),
    ]);
    expect(harness.simulator.stats().calls).toBe(0);
  });

  it('delivers each product only its own outcomes', async () => {
    harness = await start();
    await harness.enqueue([
      visit('c-1', 'checkout'),
      visit('s-1', 'support'),
      visit('c-2', 'checkout'),
      visit('s-2', 'support'),
      visit('c-3', 'checkout'),
    ]);
    await harness.runUntilIdle();
    const checkout = await harness.outcomesOf('checkout', 3);
    const support = await harness.outcomesOf('support', 2);
    expect(checkout.map((outcome) => `${outcome.product}:${outcome.id}`).sort()).toEqual([
      'checkout:c-1',
      'checkout:c-2',
      'checkout:c-3',
    ]);
    expect(support.map((outcome) => `${outcome.product}:${outcome.id}`).sort()).toEqual([
      'support:s-1',
      'support:s-2',
    ]);
    expect(await harness.outcomesNowOf('checkout')).toEqual([]);
    expect(await harness.outcomesNowOf('support')).toEqual([]);
  });
});
