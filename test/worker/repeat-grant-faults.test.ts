import { LogEvent, Metric } from '../../lambda/contract';
import { FaultProxy } from '../faults/fault-proxy';
import { localEndpoints } from '../setup/local-endpoints';
import { chat, chatVendor } from './chat-vendor';
import { steppedClock, WorkerHarness } from './harness';

/**
 * Repeats of a vendor request beyond the plain 5xx (repeat-grant.test.ts): the repeat after the
 * vendor client read the key again, and a repeat whose acquire meets a failing bucket table.
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
    const harness = await WorkerHarness.start({
      // The first admitted request (the one with the fresh key) is answered 500, the next 200.
      simulator: { profile: 'openai', latencyMs: 1, faults: { errorRate: 0.5 }, random: draws(0) },
      buckets: buckets(60),
      vendor: chatVendor,
      apiKey: 'a-rotated-away-key',
      refreshApiKey: async () => {
        keyReads += 1;
        return harness.simulator.apiKey;
      },
      clock: time.clock,
      sleep: time.sleep,
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
    const harness = await WorkerHarness.start({
      simulator: { profile: 'openai', latencyMs: 1 },
      buckets: buckets(1),
      vendor: chatVendor,
      apiKey: 'a-rotated-away-key',
      refreshApiKey: async () => {
        keyReads += 1;
        return harness.simulator.apiKey;
      },
      clock: time.clock,
      sleep: time.sleep,
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

describe('a repeat whose acquire meets a failing bucket table', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await FaultProxy.start(localEndpoints().dynamodb);
  });
  afterEach(async () => {
    await proxy.stop();
  });

  // More than the AWS SDK's retries of one request: the table stays failed for the whole repeat.
  const FAULTS = 10;

  it.each([
    ['unreachable', { kind: 'unreachable' as const }, /DynamoDB is unavailable/],
    ['throttled', { kind: 'throttle' as const }, /DynamoDB kept throttling/],
  ])(
    '%s: the repeat is not sent, the message is requeued and completes later',
    async (_, fault, error) => {
      const time = steppedClock();
      let harness: WorkerHarness | undefined;
      const vendorRequests: string[] = [];
      harness = await WorkerHarness.start({
        // The first request is answered 500; the repeat (if it were sent) and the copy 200.
        simulator: { profile: 'openai', latencyMs: 1, faults: { errorRate: 0.5 }, random: draws(0) },
        buckets: buckets(60),
        vendor: chatVendor,
        dynamodbEndpoint: proxy.endpoint,
        // The table fails from the moment the vendor's 500 is in: the repeat's acquire is the
        // next bucket write.
        fetch: async (input, init) => {
          const answer = await fetch(input, init);
          vendorRequests.push(String(answer.status));
          if (answer.status === 500) proxy.plan('UpdateItem', fault, FAULTS);
          return answer;
        },
        clock: time.clock,
        sleep: time.sleep,
        random: () => 0,
      });
      try {
        await harness.enqueue([chat('f1')]);
        const response = await harness.pollOnce(1);
        // The fault fired on the repeat's acquire; the table is back for what follows.
        expect(proxy.injected.get('UpdateItem')).toBeGreaterThan(0);
        expect(proxy.clear()).toBeGreaterThan(0);
        expect(vendorRequests).toEqual(['500']);
        expect(harness.telemetry.countOf(Metric.grants)).toBe(1);
        expect(harness.telemetry.fieldsOf(LogEvent.repeatNotGranted)).toEqual([
          { id: 'f1', error: expect.stringMatching(error) },
        ]);
        // A transient answer is requeued as a copy: the record is acknowledged, not failed.
        expect(response?.batchItemFailures).toEqual([]);
        expect(harness.telemetry.fieldsOf(LogEvent.messageRequeued)).toEqual([
          expect.objectContaining({ attempt: 1, why: 'vendor HTTP 500 transient' }),
        ]);
        // Not lost: the copy comes back once its delay is over and completes with one more grant.
        await harness.runUntilIdle();
        expect(vendorRequests).toEqual(['500', '200']);
        expect(harness.simulator.stats().calls).toBe(2);
        expect(harness.telemetry.countOf(Metric.grants)).toBe(2);
        expect(harness.telemetry.fieldsOf(LogEvent.messageCompleted).map((fields) => fields.id)).toEqual([
          'f1',
        ]);
        expect(await harness.deadLetters()).toEqual([]);
      } finally {
        await harness.stop();
      }
    },
    60_000,
  );
});
