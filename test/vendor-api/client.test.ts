import type { VendorCallResult } from '../../lambda/vendor-api';
import { startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { clientFor, createVisit, KEY, settingsFor, summary } from './client-helpers';

/** The vendor client against the real simulator. */

describe('VendorClient against the simulator', () => {
  let simulator: VendorSimulator;
  beforeAll(async () => {
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      latencyMs: 1,
      limits: { requestsPerSecond: 10_000, locationWritesPerSecond: 10_000 },
    });
  });
  afterAll(() => simulator.stop());
  beforeEach(() => {
    simulator.reset();
    simulator.setFaults({});
  });

  it('sends the key and the idempotency key, and reads the answer', async () => {
    const { client, measures } = clientFor(simulator.url);
    const result = await client.call(createVisit({ idempotencyKey: 'msg-1' }));
    expect(summary(result)).toEqual({
      class: 'success',
      status: 201,
      attempts: 1,
      outcomeUnknown: false,
      cached: false,
    });
    expect(result.body).toMatchObject({ name: 'Ada', locationId: 'loc-1' });
    expect(simulator.stats().byIdempotencyKey).toEqual({ 'msg-1': 1 });
    expect(measures.map((m) => [m.operation, m.class])).toEqual([['createVisit', 'success']]);
  });

  it('does not repeat a POST without an idempotency key after a 500: its outcome is unknown', async () => {
    simulator.setFaults({ errorRate: 1 });
    const { client, sleeps } = clientFor(simulator.url);
    const result = await client.call(createVisit());
    expect(summary(result)).toEqual({
      class: 'transient',
      status: 500,
      attempts: 1,
      outcomeUnknown: true,
      cached: false,
    });
    expect(sleeps).toEqual([]);
    expect(simulator.stats().calls).toBe(1);
  });

  it('repeats a POST with an idempotency key after 500s, with full-jitter backoff, within the budget', async () => {
    simulator.setFaults({ errorRate: 1 });
    const { client, sleeps, measures } = clientFor(simulator.url);
    const result = await client.call(createVisit({ idempotencyKey: 'msg-2' }));
    expect(summary(result)).toEqual({
      class: 'transient',
      status: 500,
      attempts: 3,
      outcomeUnknown: false,
      cached: false,
    });
    // random 0.5 of min(5000, 200·2^i): 100, then 200.
    expect(sleeps).toEqual([100, 200]);
    expect(simulator.stats().calls).toBe(3);
    expect(measures.map((m) => m.class)).toEqual(['transient', 'transient', 'transient']);
  });

  it('asks before every repeat, and a refused repeat is not sent: the last answer comes back', async () => {
    simulator.setFaults({ errorRate: 1 });
    const { client, sleeps } = clientFor(simulator.url);
    const asked: number[] = [];
    const result = await client.call({
      ...createVisit({ idempotencyKey: 'msg-4' }),
      // The first repeat is granted, the second is not.
      beforeRepeat: async () => {
        asked.push(simulator.stats().calls);
        return asked.length < 2;
      },
    });
    expect(summary(result)).toEqual({
      class: 'transient',
      status: 500,
      attempts: 2,
      outcomeUnknown: false,
      cached: false,
    });
    // Asked after the first and the second request, each time after the backoff.
    expect([asked, sleeps]).toEqual([
      [1, 2],
      [100, 200],
    ]);
    expect(simulator.stats().calls).toBe(2);
  });

  it('repeats a dropped GET, but not a dropped POST without a key', async () => {
    simulator.setFaults({ dropRate: 1 });
    const { client } = clientFor(simulator.url);
    const read = await client.call({
      method: 'GET',
      path: '/locations/loc-1',
      deadlineMs: Date.now() + 10_000,
    });
    const write = await client.call(createVisit());
    expect([summary(read), summary(write)]).toEqual([
      { class: 'transient', status: undefined, attempts: 3, outcomeUnknown: false, cached: false },
      { class: 'transient', status: undefined, attempts: 1, outcomeUnknown: true, cached: false },
    ]);
    expect(write.error).toMatch(/^network error/);
    expect(write.error).not.toContain(KEY);
  });

  it('refreshes the key once after a 401 and succeeds with the new one', async () => {
    const keys: string[] = [];
    const { client } = clientFor(simulator.url, {
      apiKey: async () => 'stale-key',
      refreshApiKey: async () => {
        keys.push('refreshed');
        return KEY;
      },
    });
    const result = await client.call(createVisit());
    expect(summary(result)).toEqual({
      class: 'success',
      status: 201,
      attempts: 2,
      outcomeUnknown: false,
      cached: false,
    });
    expect(keys).toEqual(['refreshed']);
  });

  it('refreshes only once: a key that stays wrong is unauthorized', async () => {
    let refreshes = 0;
    const { client } = clientFor(simulator.url, {
      apiKey: async () => 'wrong',
      refreshApiKey: async () => {
        refreshes += 1;
        return 'still-wrong';
      },
    });
    const result = await client.call(createVisit());
    expect([summary(result), refreshes]).toEqual([
      { class: 'unauthorized', status: 401, attempts: 2, outcomeUnknown: false, cached: false },
      1,
    ]);
    expect(JSON.stringify(result)).not.toContain('still-wrong');
  });

  it('aborts a hung POST at the deadline; without a key its outcome is unknown, with one it is safe', async () => {
    simulator.setFaults({ hangRate: 1 });
    const { client } = clientFor(simulator.url);
    const unkeyed = await client.call(createVisit({ deadlineMs: Date.now() + 150 }));
    const keyed = await client.call(createVisit({ deadlineMs: Date.now() + 150, idempotencyKey: 'msg-3' }));
    expect([summary(unkeyed), summary(keyed)]).toEqual([
      { class: 'transient', status: undefined, attempts: 1, outcomeUnknown: true, cached: false },
      { class: 'transient', status: undefined, attempts: 1, outcomeUnknown: false, cached: false },
    ]);
    expect(unkeyed.error).toMatch(/^aborted at the call deadline \(\d+ ms were left\)$/);
  });

  it("stops at the caller's signal, and does not repeat what the caller cancelled", async () => {
    simulator.setFaults({ hangRate: 1 });
    const { client, sleeps } = clientFor(simulator.url);
    const controller = new AbortController();
    const pending = client.call({
      method: 'GET',
      path: '/locations/loc-1',
      deadlineMs: Date.now() + 10_000,
      signal: controller.signal,
    });
    while (simulator.stats().faults.hang === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const result = await pending;
    expect([summary(result), result.error, sleeps]).toEqual([
      { class: 'transient', status: undefined, attempts: 1, outcomeUnknown: false, cached: false },
      'aborted by the caller',
      [],
    ]);
  });

  it('serves a cacheable read from the cache: the hit spends no call', async () => {
    let nowMs = Date.now();
    const { client } = clientFor(simulator.url, { clock: () => nowMs });
    const request = {
      operation: 'getLocation',
      method: 'GET',
      path: '/locations/loc-7',
      deadlineMs: nowMs + 10_000,
    };
    const first = await client.call(request);
    const second = await client.call(request);
    const peek = client.cachedResponse(request);
    nowMs += 30_001;
    const stale = client.cachedResponse(request);
    expect([summary(first), summary(second), peek?.cached, stale]).toEqual([
      { class: 'success', status: 200, attempts: 1, outcomeUnknown: false, cached: false },
      { class: 'success', status: 200, attempts: 0, outcomeUnknown: false, cached: true },
      true,
      undefined,
    ]);
    expect(second.body).toEqual(first.body);
    expect(simulator.stats().calls).toBe(1);
  });

  it('never caches a write or an operation without cacheSeconds', async () => {
    const { client } = clientFor(simulator.url);
    await client.call(createVisit());
    expect(
      client.cachedResponse({ operation: 'createVisit', method: 'POST', path: '/locations/loc-1/visits' }),
    ).toBeUndefined();
  });
});

describe('VendorClient and the refusals the worker owns', () => {
  it('hands a 429 back at once with its Retry-After, without retrying', async () => {
    const simulator = await startVendorSimulator({
      profile: 'waitwhile',
      latencyMs: 0,
      clock: () => 1_000_000,
    });
    try {
      const { client, sleeps } = clientFor(simulator.url);
      const results: VendorCallResult[] = [];
      for (let i = 0; i < 6; i += 1) {
        results.push(
          await client.call({ method: 'GET', path: `/locations/loc-${i}`, deadlineMs: Date.now() + 10_000 }),
        );
      }
      expect(results.map((r) => [r.class, r.retryAfterSeconds])).toEqual([
        ['success', undefined],
        ['success', undefined],
        ['success', undefined],
        ['success', undefined],
        ['success', undefined],
        ['rate_limited', 1],
      ]);
      expect([sleeps, simulator.stats().calls]).toEqual([[], 6]);
    } finally {
      await simulator.stop();
    }
  });

  it('hands a 409 "Location too busy" back as busy', async () => {
    const simulator = await startVendorSimulator({
      profile: 'waitwhile',
      latencyMs: 0,
      clock: () => 1_000_000,
    });
    try {
      const { client } = clientFor(simulator.url);
      const first = await client.call(createVisit({ idempotencyKey: 'a' }));
      const second = await client.call(createVisit({ idempotencyKey: 'b' }));
      expect([summary(first), summary(second), second.body]).toEqual([
        { class: 'success', status: 201, attempts: 1, outcomeUnknown: false, cached: false },
        { class: 'busy', status: 409, attempts: 1, outcomeUnknown: false, cached: false },
        { error: 'Location too busy', locationId: 'loc-1' },
      ]);
    } finally {
      await simulator.stop();
    }
  });

  it('hands the same 409 back as rejected for a vendor whose busyStatuses leave it out', async () => {
    const simulator = await startVendorSimulator({
      profile: 'waitwhile',
      latencyMs: 0,
      clock: () => 1_000_000,
    });
    try {
      const settings = { ...settingsFor(simulator.url), busyStatuses: [] };
      const { client } = clientFor(simulator.url, { settings });
      await client.call(createVisit({ idempotencyKey: 'a' }));
      const second = await client.call(createVisit({ idempotencyKey: 'b' }));
      expect(summary(second)).toEqual({
        class: 'rejected',
        status: 409,
        attempts: 1,
        outcomeUnknown: false,
        cached: false,
      });
    } finally {
      await simulator.stop();
    }
  });
});

describe("VendorClient: the vendor's pacing headers on an answer", () => {
  // A vendor answering with fixed headers: only the answer is stood in for, the client is real.
  const answering =
    (headers: Record<string, string>): typeof fetch =>
    async () =>
      new Response('{"ok":true}', {
        status: 200,
        headers: { 'content-type': 'application/json', ...headers },
      });

  it('reads the standard RateLimit fields (as express-rate-limit sends them) into rateLimit', async () => {
    const { client } = clientFor('http://vendor.test', {
      fetch: answering({ 'RateLimit-Policy': '3;w=1', RateLimit: 'limit=3, remaining=0, reset=1' }),
    });
    const result = await client.call(createVisit());
    expect(result.rateLimit).toEqual({
      limitRequests: 3,
      limitRequestsWindowSeconds: 1,
      remainingRequests: 0,
      resetRequestsSeconds: 1,
    });
  });

  it("reads Anthropic's reset instants against the client's own clock", async () => {
    const { client } = clientFor('http://vendor.test', {
      clock: () => Date.parse('2026-11-23T10:00:00Z'),
      fetch: answering({
        'anthropic-ratelimit-tokens-remaining': '12000',
        'anthropic-ratelimit-tokens-reset': '2026-11-23T10:00:20Z',
      }),
    });
    const result = await client.call(createVisit({ deadlineMs: Date.parse('2026-11-23T10:01:00Z') }));
    expect(result.rateLimit).toEqual({ remainingTokens: 12_000, resetTokensSeconds: 20 });
  });
});
