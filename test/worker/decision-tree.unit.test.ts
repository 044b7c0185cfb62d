import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metric } from '../../lambda/contract';
import { MemoryWorkerHarness, steppedClock } from './memory-harness';

/**
 * The tree's branches end to end, with one stepped clock for the SDK and the worker: an
 * inline sleep advances it, so a wait of 4.9 s is exactly 4.9 s and no test waits for real.
 * The probe bucket refills 10 units/s: after a drain, a cost of c units waits c / 10 s.
 */
const probeBuckets = [
  { dimension: 'probe#units', limitType: 'requests' as const, capacity: 20_000, windowSeconds: 2_000 },
];

const probeVendor = {
  name: 'probe',
  allowedPaths: ['/locations'],
  policy: { requeueJitterSeconds: 3, inlineRetryThresholdSeconds: 5 },
};

describe('the requeue delay at the boundaries, on real buckets', () => {
  let harness: MemoryWorkerHarness;

  beforeEach(async () => {
    const time = steppedClock();
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: probeBuckets,
      vendor: probeVendor,
      time,
      random: () => 0.5,
    });
  });

  afterEach(() => harness.stop());

  async function waitOf(units: number, location: string) {
    // Drain and probe write to different locations: the simulator allows 1 write/s per location.
    const drain = { method: 'POST', path: '/locations/drain/visits' };
    const call = { method: 'POST', path: `/locations/${location}/visits` };
    await harness.enqueue([{ id: `drain-${location}`, ...drain, dimensions: { 'probe#units': 20_000 } }]);
    await harness.pollOnce();
    await harness.enqueue([{ id: `probe-${location}`, ...call, dimensions: { 'probe#units': units } }]);
    await harness.pollOnce();
  }

  it.each([
    ['4.9 s is slept inline', 49],
    ['5 s (the threshold itself) is slept inline', 50],
  ])('a wait of %s and the message completes', async (_title, units) => {
    await waitOf(units, 'loc-1');
    expect(harness.telemetry.countOf(Metric.inlineWaits)).toBe(1);
    expect(harness.telemetry.fieldsOf('message.inline_wait')).toEqual([
      { id: 'probe-loc-1', wait_ms: units * 100 },
    ]);
    expect(harness.telemetry.countOf(Metric.completed)).toBe(2);
    expect(harness.telemetry.countOf(Metric.requeues)).toBe(0);
  });

  it.each([
    ['5.1 s is requeued with DelaySeconds 6 before jitter', 51, 6, 8],
    ['899.5 s is requeued with DelaySeconds 900', 8_995, 900, 900],
    ['2,000 s is chained: requeued with 900 and re-evaluated on arrival', 20_000, 900, 900],
  ])('a wait of %s', async (_title, units, base, jittered) => {
    await waitOf(units, 'loc-2');
    const [requeued] = harness.telemetry.fieldsOf('message.requeued');
    expect(requeued).toMatchObject({ attempt: 1, base_delay_seconds: base, delay_seconds: jittered });
    // Jitter is bounded: within [base, base + requeueJitterSeconds] and never above 900.
    expect(jittered).toBeLessThanOrEqual(Math.min(base + 3, 900));
    expect(await harness.depth()).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    expect(harness.simulator.stats().calls).toBe(1);
  });
});

describe('the head of a bucket line keeps its turn through a remainder', () => {
  it('a unit taken elsewhere during its inline sleep costs one more short sleep, not a requeue', async () => {
    const time = steppedClock();
    let harness: MemoryWorkerHarness | undefined;
    let takenElsewhere = false;
    // Another environment takes 1 s of the bucket's refill while the message sleeps its 4.9 s.
    const sleep = async (ms: number) => {
      await time.sleep(ms);
      if (!takenElsewhere && harness) {
        takenElsewhere = true;
        expect((await harness.sluice.acquire({ 'probe#units': 10 })).outcome).toBe('Granted');
      }
    };
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: probeBuckets,
      vendor: probeVendor,
      time: { ...time, sleep },
      random: () => 0.5,
    });
    try {
      const call = (id: string, location: string, units: number) => ({
        id,
        method: 'POST',
        path: `/locations/${location}/visits`,
        dimensions: { 'probe#units': units },
      });
      await harness.enqueue([call('drain', 'drain', 20_000)]);
      await harness.pollOnce();
      await harness.enqueue([call('probe', 'loc-3', 49)]);
      await harness.pollOnce();
      expect(takenElsewhere).toBe(true);
      // The wait computed before the sleep fell 10 units (1 s) short: the head sleeps that too.
      expect(harness.telemetry.fieldsOf('message.inline_wait')).toEqual([
        { id: 'probe', wait_ms: 4_900 },
        { id: 'probe', wait_ms: 1_000 },
      ]);
      expect(harness.telemetry.countOf(Metric.completed)).toBe(2);
      expect(harness.telemetry.countOf(Metric.requeues)).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});

describe('a vendor 429 after a grant', () => {
  it('penalizes the exhausted bucket with 0.8, holds it for the Retry-After, and requeues the next message without a call', async () => {
    const time = steppedClock();
    const harness = await MemoryWorkerHarness.start({
      // The vendor allows 2 requests per minute; the bucket wrongly believes in 60.
      simulator: { profile: 'openai', latencyMs: 1, limits: { requestsPerMinute: 2 } },
      buckets: [
        { dimension: 'openai#rpm', limitType: 'requests', capacity: 60, windowSeconds: 60 },
        { dimension: 'openai#tpm', limitType: 'tokens', capacity: 40_000, windowSeconds: 60 },
      ],
      vendor: {
        name: 'openai',
        allowedPaths: ['/v1/chat/completions'],
        operations: {
          chat: {
            method: 'POST',
            path: '/v1/chat/completions',
            dimensions: { 'openai#rpm': 1, 'openai#tpm': 500 },
          },
        },
        // A long-Retry-After threshold out of reach, so the factors are the first and the repeat.
        policy: { requeueJitterSeconds: 0, longRetryAfterSeconds: 600 },
      },
      time,
      random: () => 0,
    });
    try {
      const chat = (id: string) => ({
        id,
        operation: 'chat',
        tokenEstimate: 100,
        body: { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
      });
      await harness.enqueue([chat('c1'), chat('c2'), chat('c3'), chat('c4')]);
      for (let polls = 0; polls < 4; polls++) await harness.pollOnce(1);
      expect(harness.telemetry.countOf(Metric.completed)).toBe(2);
      // The 429's Retry-After is held in the bucket: the fourth message is refused by acquire
      // and never reaches the vendor (before the hold it drew a second 429).
      expect(harness.telemetry.countOf(Metric.vendor429AfterGrant)).toBe(1);
      expect(harness.simulator.stats().calls).toBe(3);
      // The 429 says requests are out (x-ratelimit-remaining-requests: 0) while tokens are left: only rpm is penalized.
      expect(harness.telemetry.countOf(Metric.penalties)).toBe(1);
      const requeued = harness.telemetry.fieldsOf('message.requeued');
      // The bucket still has tokens (it believes in 60 a minute): the 29 s is the vendor's
      // Retry-After. On the one clock the vendor frees a request 30 s after c1, and c3 called it
      // 1 s later, after its inline wait for the token the resync to "0 remaining" took away.
      expect(harness.telemetry.fieldsOf('message.inline_wait')).toEqual([{ id: 'c3', wait_ms: 1_000 }]);
      expect(requeued.map((fields) => fields.why)).toEqual([
        'vendor HTTP 429 rate limited',
        'capacity: openai#rpm needs 29 s',
      ]);
      expect(requeued.every((fields) => (fields.delay_seconds as number) > 5)).toBe(true);
      expect(harness.sdkCalls.filter((call) => call.startsWith('penalize'))).toEqual([
        'penalize openai#rpm 0.8',
      ]);
      // What the penalty left of the configured refill rate, per bucket, for the dashboard: the
      // answer states the vendor's limit (x-ratelimit-limit-requests: 2 a minute), below the 60 a
      // minute the bucket believes, so that limit is the bucket's ceiling now (3.3 %, held at the
      // scale's floor of 5 %).
      expect(harness.telemetry.values.get(`${Metric.rateScale}[Bucket=openai#rpm]`)).toEqual([5]);
      expect(harness.telemetry.countOf(`${Metric.statedLimitBelowConfigured}[Bucket=openai#rpm]`)).toBe(1);
      expect(harness.telemetry.fieldsOf('bucket.stated_limit_below_configured')).toEqual([
        { dimension: 'openai#rpm', stated_limit_per_second: 2 / 60, rate_scale_after: 0.05 },
      ]);
      // The vendor's x-ratelimit-remaining-* headers resynchronised both buckets after each success.
      expect(
        harness.sdkCalls.filter((call) => call.startsWith('resync')).map((call) => call.split(' ')[1]),
      ).toEqual(['openai#rpm', 'openai#tpm', 'openai#rpm', 'openai#tpm']);
    } finally {
      await harness.stop();
    }
  });
});

describe('a 429 after a wait in the bucket line', () => {
  it('sleeps the Retry-After inline and calls again in the same delivery, not a requeue behind the batch', async () => {
    // A loopback vendor refusing its first call with Retry-After: 1, answering 201 afterwards.
    const calls: string[] = [];
    const vendor = createServer((req, res) => {
      req.resume();
      calls.push(`${req.method} ${req.url}`);
      if (calls.length === 1) res.writeHead(429, { 'retry-after': '1' }).end('{}');
      else res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
    const time = steppedClock();
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      vendorUrl: `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`,
      buckets: probeBuckets,
      vendor: { ...probeVendor, policy: { ...probeVendor.policy, requeueJitterSeconds: 0 } },
      time,
      random: () => 0.5,
    });
    try {
      // Drain the bucket without the vendor (its cost alone), so the probe waits 1 s in line first.
      expect((await harness.sluice.acquire({ 'probe#units': 20_000 })).outcome).toBe('Granted');
      await harness.enqueue([
        { id: 'probe', method: 'POST', path: '/locations/loc-4/visits', dimensions: { 'probe#units': 10 } },
      ]);
      await harness.pollOnce();
      expect(calls).toHaveLength(2);
      // The line's 1 s first, then the Retry-After (and what the held bucket adds in line again).
      const waits = harness.telemetry.fieldsOf('message.inline_wait').map((fields) => fields.wait_ms);
      expect(waits[0]).toBe(1_000);
      expect(waits.length).toBeGreaterThanOrEqual(2);
      expect(harness.telemetry.countOf(Metric.completed)).toBe(1);
      expect(harness.telemetry.countOf(Metric.requeues)).toBe(0);
    } finally {
      await harness.stop();
      await new Promise<void>((resolve) => vendor.close(() => resolve()));
    }
  });
});
