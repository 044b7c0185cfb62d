import { Metric } from '../../lambda/contract';
import type { IdempotencyStore } from '../../lambda/idempotency/store';
import { MemoryWorkerHarness, steppedClock } from './memory-harness';

/**
 * The worker's pool on memory ports, with the vendor simulator on loopback. Nothing here waits
 * for a moment: calls are held until a state is reached, time is the harness's (it moves on when
 * no call is in flight, or at each sleep with a stepped clock), and what reached the vendor is
 * counted by the vendor. Two environments meeting on one bucket item in DynamoDB Local:
 * worker-stores.test.ts.
 */

const waitwhile = (maxInFlight: number, requestTimeoutMs = 20_000) => ({
  buckets: [
    { dimension: 'waitwhile#rps', limitType: 'requests' as const, capacity: 50, windowSeconds: 1 },
    {
      dimension: 'waitwhile#location-writes#*',
      limitType: 'requests' as const,
      capacity: 50,
      windowSeconds: 1,
    },
  ],
  vendor: {
    name: 'waitwhile',
    maxInFlight,
    requestTimeoutMs,
    operations: {
      createVisit: {
        method: 'POST' as const,
        path: '/locations/{locationId}/visits',
        dimensions: { 'waitwhile#rps': 1, 'waitwhile#location-writes#{locationId}': 1 },
      },
    },
    policy: { requeueJitterSeconds: 0 },
  },
});
const simulatorLimits = { requestsPerSecond: 1_000, locationWritesPerSecond: 1_000 };
const visit = (id: string) => ({
  id,
  operation: 'createVisit',
  params: { locationId: `loc-${id}` },
  body: { name: id },
});
const idempotencyKey = (init: RequestInit | undefined) =>
  new Headers(init?.headers).get('Idempotency-Key') ?? '';

describe('the pool inside one invocation', () => {
  it('keeps maxInFlight vendor calls in flight at once, and never more', async () => {
    // Every call is held until four are in flight together: a sequential worker never gets there.
    // Calls in flight are counted where the worker hands them to the network, not at the
    // simulator: four calls released together may still reach a 5 ms simulator one after the
    // other on a loaded machine, so a count there would depend on timing.
    const held: Array<() => void> = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const barrier: typeof fetch = async (input, init) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        if (held.length < 4) {
          await new Promise<void>((resolve) => {
            held.push(resolve);
            if (held.length === 4) for (const release of held) release();
          });
        }
        return await fetch(input, init);
      } finally {
        inFlight -= 1;
      }
    };
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', limits: simulatorLimits, latencyMs: 5 },
      ...waitwhile(4),
      fetch: barrier,
    });
    try {
      await harness.enqueue(Array.from({ length: 8 }, (_, i) => visit(`v${i}`)));
      const response = await harness.pollOnce(8);
      expect(response).toEqual({ batchItemFailures: [] });
      expect([harness.simulator.stats().completions, mostInFlight]).toEqual([8, 4]);
      expect(harness.telemetry.countOf(Metric.callsInFlight)).toBeGreaterThan(0);
    } finally {
      await harness.stop();
    }
  });

  it('a concurrent bucket of 1 keeps one call in flight at the vendor, with four records in the pool', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: {
        profile: 'sweeppea',
        limits: { concurrentPerEndpoint: 1, requestsPerMinute: 100_000 },
        latencyMs: 20,
      },
      buckets: [{ dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 }],
      vendor: {
        name: 'sweeppea',
        maxInFlight: 4,
        operations: {
          createContact: { method: 'POST', path: '/v1/contacts', dimensions: { 'sweeppea#concurrent': 1 } },
        },
        policy: { requeueJitterSeconds: 0 },
      },
    });
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
      await harness.enqueue(
        ids.map((id) => ({ id, operation: 'createContact', body: { email: `${id}@x.test` } })),
      );
      await harness.runUntilIdle(45_000);
      const stats = harness.simulator.stats();
      expect({
        maxInFlight: stats.maxInFlight,
        refusals: stats.refusals,
        completions: stats.completions,
      }).toEqual({
        maxInFlight: 1,
        refusals: 0,
        completions: 12,
      });
      expect(Object.keys(stats.byIdempotencyKey).sort()).toEqual([...ids].sort());
      // The records did share the pool: some were refused by the bucket and waited in its line.
      expect(harness.telemetry.countOf(Metric.retryIns)).toBeGreaterThan(0);
      expect((await harness.sluice.snapshot('sweeppea#concurrent')).tokens).toBe(1);
    } finally {
      await harness.stop();
    }
  });

  it('hands the lease of a concurrent bucket of 1 from record to record, in two environments at once, never 2 calls at the vendor', async () => {
    const sweeppea = {
      simulator: {
        profile: 'sweeppea' as const,
        limits: { concurrentPerEndpoint: 1, requestsPerMinute: 100_000 },
        latencyMs: 20,
      },
      buckets: [{ dimension: 'sweeppea#concurrent', limitType: 'concurrent' as const, capacity: 1 }],
      vendor: {
        name: 'sweeppea',
        maxInFlight: 4,
        operations: {
          createContact: {
            method: 'POST' as const,
            path: '/v1/contacts',
            dimensions: { 'sweeppea#concurrent': 1 },
          },
        },
        policy: { requeueJitterSeconds: 0 },
      },
    };
    const harness = await MemoryWorkerHarness.start(sweeppea);
    try {
      const ids = Array.from({ length: 16 }, (_, i) => `h${i}`);
      await harness.enqueue(
        ids.map((id) => ({ id, operation: 'createContact', body: { email: `${id}@x.test` } })),
      );
      // Two environments (reserved concurrency is per function, a second stack or a test may
      // run another) take batches together: each hands leases on inside itself, and both
      // meet on the one bucket item in the store.
      const other = harness.anotherWorker();
      await Promise.all([harness.pollOnce(8), harness.pollOnce(8, other)]);
      await harness.runUntilIdle(45_000);
      const stats = harness.simulator.stats();
      expect({
        maxInFlight: stats.maxInFlight,
        refusals: stats.refusals,
        completions: stats.completions,
      }).toEqual({ maxInFlight: 1, refusals: 0, completions: 16 });
      expect(Object.keys(stats.byIdempotencyKey).sort()).toEqual([...ids].sort());
      // Leases went from record to record inside each environment (passed on as they were, or
      // renewed by a hand-over write), not only released and acquired; every one came back at the end.
      const passedOn = harness.telemetry.fieldsOf('lease.passed_on').length;
      expect(passedOn + harness.handOvers.granted).toBeGreaterThan(0);
      expect(await harness.sluice.snapshot('sweeppea#concurrent')).toMatchObject({ tokens: 1, leases: 0 });
    } finally {
      await harness.stop();
    }
  });

  it('records refused by one bucket wait in its line, one at a time, instead of all waking together and being requeued', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', limits: simulatorLimits, latencyMs: 1 },
      buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: 1, windowSeconds: 1 }],
      vendor: {
        name: 'waitwhile',
        maxInFlight: 4,
        operations: {
          getLocation: { method: 'GET', path: '/locations/{locationId}', dimensions: { 'waitwhile#rps': 1 } },
        },
        policy: { requeueJitterSeconds: 0 },
      },
    });
    try {
      const ids = ['a', 'b', 'c', 'd'];
      await harness.enqueue(ids.map((id) => ({ id, operation: 'getLocation', params: { locationId: id } })));
      const response = await harness.pollOnce(4);
      expect(response).toEqual({ batchItemFailures: [] });
      expect({
        completed: harness.telemetry.countOf(Metric.completed),
        requeues: harness.telemetry.countOf(Metric.requeues),
        inlineWaits: harness.telemetry.countOf(Metric.inlineWaits),
      }).toEqual({ completed: 4, requeues: 0, inlineWaits: 3 });
    } finally {
      await harness.stop();
    }
  });

  it('requeues records it cannot start before the deadline as unstarted copies, which start first next time', async () => {
    // Each vendor call takes 4 s of the stepped clock; the slot is 15 s (20 s − 5 s) and a record
    // starts only while a whole call (5 s) fits: three records per invocation.
    const time = steppedClock();
    const calls: string[] = [];
    const slowCalls: typeof fetch = async (input, init) => {
      calls.push(idempotencyKey(init));
      time.advance(4_000);
      return fetch(input, init);
    };
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', limits: simulatorLimits, latencyMs: 1 },
      ...waitwhile(1, 5_000),
      time: time,
      lambdaTimeoutSeconds: 20,
      fetch: slowCalls,
    });
    try {
      await harness.enqueue(Array.from({ length: 8 }, (_, i) => visit(`m${i}`)));
      const first = await harness.pollOnce(5);
      expect(first).toEqual({ batchItemFailures: [] });
      expect(calls).toEqual(['m0', 'm1', 'm2']);
      const unstarted = harness.telemetry.fieldsOf('message.requeued');
      expect(unstarted.map((fields) => [fields.attempt, fields.why])).toEqual([
        [0, 'not started: no vendor call fits before the deadline'],
        [0, 'not started: no vendor call fits before the deadline'],
      ]);
      expect(harness.telemetry.countOf(Metric.unstartedRequeues)).toBe(2);
      // The queue now holds m5, m6, m7 and, behind them, the copies of m3 and m4.
      calls.length = 0;
      const second = await harness.pollOnce(10);
      expect(second).toEqual({ batchItemFailures: [] });
      expect(calls).toEqual(['m3', 'm4', 'm5']);
      const completed = harness.telemetry.fieldsOf('message.completed');
      // A copy keeps its attempt: a deferral for time is not an attempt.
      expect(completed.filter((fields) => fields.id === 'm3').map((fields) => fields.attempt)).toEqual([0]);
      await harness.runUntilIdle(30_000);
      expect(harness.simulator.stats().completions).toBe(8);
      expect(await harness.deadLetters()).toEqual([]);
    } finally {
      await harness.stop();
    }
  });

  it('reports exactly the records that failed, once each, while the others run beside them', async () => {
    const failing = new Set(['p1', 'p4']);
    const faulty = (store: IdempotencyStore): IdempotencyStore => ({
      begin: (id, nowMs, expiresAtMs) =>
        failing.has(id)
          ? Promise.reject(new Error(`injected: the idempotency table is unreachable for ${id}`))
          : store.begin(id, nowMs, expiresAtMs),
      // The batch's claims taken together fail when one of their ids does; each record then
      // claims on its own, and only the failing ids fail.
      beginAll: (ids, nowMs, expiresAtMs) =>
        ids.some((id) => failing.has(id))
          ? Promise.reject(new Error('injected: the idempotency table is unreachable'))
          : store.beginAll(ids, nowMs, expiresAtMs),
      complete: (id, nowMs, outcome) => store.complete(id, nowMs, outcome),
      deadLettered: (id, nowMs, outcome) => store.deadLettered(id, nowMs, outcome),
      markPublished: (id) => store.markPublished(id),
      abandon: (id, owner) => store.abandon(id, owner),
    });
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', limits: simulatorLimits, latencyMs: 5 },
      ...waitwhile(3),
      idempotency: faulty,
    });
    try {
      await harness.enqueue(Array.from({ length: 6 }, (_, i) => visit(`p${i}`)));
      const response = await harness.pollOnce(6);
      const failedIds = harness.telemetry.fieldsOf('message.failed').map((fields) => fields.message_id);
      expect(failedIds).toHaveLength(2);
      // The records that started together asked together; that failed once, then each alone.
      expect(harness.telemetry.fieldsOf('batch.claims_together_failed')).not.toHaveLength(0);
      expect(response?.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
        [...failedIds].sort(),
      );
      expect(
        harness.telemetry
          .fieldsOf('message.completed')
          .map((fields) => fields.id)
          .sort(),
      ).toEqual(['p0', 'p2', 'p3', 'p5']);
      // The two failed records stay on the queue (not visible until their visibility timeout).
      expect((await harness.depth()).inFlight).toBe(2);
    } finally {
      await harness.stop();
    }
  });
});
