import { MessageAttr, Metric } from '../../lambda/contract';
import { MemoryWorkerHarness } from './memory-harness';

/** The booking vendor: 5 requests/s, 1 write/s per location. */
const waitwhileVendor = {
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

const waitwhileBuckets = [
  { dimension: 'waitwhile#rps', limitType: 'requests' as const, capacity: 5, windowSeconds: 1 },
  { dimension: 'waitwhile#location-writes#*', limitType: 'requests' as const, capacity: 1, windowSeconds: 2 },
];

describe('the worker on memory stores and queues, with the vendor simulator', () => {
  let harness: MemoryWorkerHarness;

  beforeEach(async () => {
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: waitwhileBuckets,
      vendor: waitwhileVendor,
    });
  });

  afterEach(() => harness.stop());

  it('dead-letters an invalid message at once with its reason, without calling the vendor', async () => {
    await harness.sendRaw(JSON.stringify({ id: 'bad-1', operation: 42 }));
    await harness.sendRaw('not json at all');
    await harness.runUntilIdle();
    const deadLetters = await harness.deadLetters();
    expect(deadLetters).toEqual([
      { id: 'bad-1', reason: 'invalid_message' },
      { id: expect.stringMatching(/^sqs:/), reason: 'invalid_message' },
    ]);
    expect(harness.simulator.stats().calls).toBe(0);
    expect(harness.telemetry.fieldsOf('message.invalid').map((fields) => fields.detail)).toEqual([
      'operation: Invalid input: expected string, received number (got 42)',
      expect.stringMatching(/^\(message\): body is not JSON \(/),
    ]);
  });

  it('dead-letters a message whose request the configuration does not allow', async () => {
    await harness.enqueue([
      { id: 'unknown-op', operation: 'deleteEverything' },
      { id: 'outside', method: 'POST', path: '/admin/wipe', dimensions: { 'waitwhile#rps': 1 } },
      { id: 'no-param', operation: 'createVisit' },
    ]);
    await harness.runUntilIdle();
    expect((await harness.deadLetters()).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'no-param', reason: 'invalid_message' },
      { id: 'outside', reason: 'invalid_message' },
      { id: 'unknown-op', reason: 'invalid_message' },
    ]);
    expect(harness.simulator.stats().calls).toBe(0);
  });

  it('acknowledges a duplicate delivery of a completed id without a second vendor call', async () => {
    const message = {
      id: 'visit-dup',
      operation: 'createVisit',
      params: { locationId: 'loc-1' },
      body: { name: 'Ada' },
    };
    await harness.enqueue([message]);
    await harness.runUntilIdle();
    await harness.enqueue([message]);
    await harness.runUntilIdle();
    expect(harness.simulator.stats().calls).toBe(1);
    expect(harness.telemetry.countOf(Metric.completed)).toBe(1);
    expect(harness.telemetry.countOf(Metric.duplicatesSkipped)).toBe(1);
  });

  it('requeues a capacity wait with the next attempt and the first-seen time, then completes it', async () => {
    // Everything runs on the harness's stepped clock, so the second write to loc-9 waits exactly
    // 1.5 s (> the 0.5 s inline threshold).
    // One invocation each: in one batch the pool would run both at once, and either could win loc-9.
    await harness.enqueue([{ id: 'first', operation: 'createVisit', params: { locationId: 'loc-9' } }]);
    await harness.pollOnce(10);
    harness.time.advance(500);
    await harness.enqueue([{ id: 'second', operation: 'createVisit', params: { locationId: 'loc-9' } }]);
    await harness.pollOnce(10);
    const [requeued] = harness.telemetry.fieldsOf('message.requeued');
    expect(requeued).toMatchObject({
      attempt: 1,
      delay_seconds: 2,
      why: expect.stringMatching(/^capacity: waitwhile#location-writes#loc-9 needs /),
    });
    // The copy is delayed: not visible to a consumer until the clock passes its 2 s.
    expect(harness.workQueue.receive(10, 0)).toEqual([]);
    harness.time.advance(2_000);
    const [copy] = harness.workQueue.receive(10, 0);
    const attributes = copy?.MessageAttributes ?? {};
    expect(JSON.parse(copy?.Body ?? '{}').id).toBe('second');
    expect(attributes[MessageAttr.attempt]?.StringValue).toBe('1');
    // The first-seen time travels with the copy: it predates the copy's 2 s delay.
    const firstSeen = Number(attributes[MessageAttr.firstSeenAtMs]?.StringValue);
    expect(harness.now() - firstSeen).toBeGreaterThanOrEqual(2_000);
    await harness.runUntilIdle();
    expect(harness.telemetry.countOf(Metric.completed)).toBe(2);
    expect(harness.simulator.stats().refusals).toBe(0);
  });

  it('dead-letters a message that would pass maxAttempts instead of requeueing it again', async () => {
    // The filler takes loc-2's one write first (its own invocation: in one batch the pool would
    // run both records at once, and either could win the slot).
    await harness.enqueue([{ id: 'filler', operation: 'createVisit', params: { locationId: 'loc-2' } }]);
    await harness.pollOnce();
    await harness.sendRaw(
      JSON.stringify({ id: 'tired', operation: 'createVisit', params: { locationId: 'loc-2' } }),
      {
        [MessageAttr.attempt]: { DataType: 'Number', StringValue: '3' },
        [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(harness.now()) },
      },
    );
    await harness.runUntilIdle();
    expect(await harness.deadLetters()).toEqual([{ id: 'tired', reason: 'max_attempts' }]);
    expect(harness.telemetry.countOf(`${Metric.deadLettered}[Reason=max_attempts]`)).toBe(1);
  });

  it('dead-letters a message already past maxAgeSeconds on arrival, without calling the vendor', async () => {
    const dayAndASecondAgo = harness.now() - 86_401_000; // maxAgeSeconds defaults to a day
    await harness.sendRaw(
      JSON.stringify({ id: 'stale', operation: 'createVisit', params: { locationId: 'loc-3' } }),
      {
        [MessageAttr.attempt]: { DataType: 'Number', StringValue: '1' },
        [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(dayAndASecondAgo) },
      },
    );
    await harness.runUntilIdle();
    expect(await harness.deadLetters()).toEqual([{ id: 'stale', reason: 'max_age' }]);
    expect(harness.simulator.stats().calls).toBe(0);
    expect(harness.telemetry.fieldsOf('message.dead_lettered')).toEqual([
      expect.objectContaining({
        reason: 'max_age',
        detail: expect.stringMatching(/^age 8640\d s .*\(on arrival\)$/),
      }),
    ]);
  });
});

describe('a worker with the wrong vendor key', () => {
  it('dead-letters on 401 with vendor_unauthorized after one call, never retrying', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: waitwhileBuckets,
      vendor: waitwhileVendor,
      apiKey: 'a-revoked-key',
    });
    try {
      await harness.enqueue([{ id: 'visit-401', operation: 'createVisit', params: { locationId: 'loc-1' } }]);
      await harness.runUntilIdle();
      expect(await harness.deadLetters()).toEqual([{ id: 'visit-401', reason: 'vendor_unauthorized' }]);
      expect(harness.simulator.stats().byStatus).toEqual({ '401': 1 });
      expect(harness.telemetry.countOf(`${Metric.vendorCalls}[ResponseClass=unauthorized]`)).toBe(1);
    } finally {
      await harness.stop();
    }
  });
});
