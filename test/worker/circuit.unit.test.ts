import { randomUUID } from 'node:crypto';
import { CircuitClient } from '../../lambda/circuit/client';
import { type CircuitState, circuitRules } from '../../lambda/circuit/state';
import { MessageAttr, Metric } from '../../lambda/contract';
import { circuitBuckets as buckets, circuitVendor as vendor, circuitVisit as visit } from './circuit-fixture';
import { MemoryWorkerHarness, VirtualTime } from './memory-harness';

describe('the vendor circuit in the worker (memory stores and queues, the simulator)', () => {
  let harness: MemoryWorkerHarness;
  let time: VirtualTime;

  beforeEach(async () => {
    time = new VirtualTime();
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets,
      vendor,
      circuit: true,
      time: time,
    });
  });

  afterEach(() => harness.stop());

  /** The circuit as a worker that never saw it would read it. */
  async function circuit(): Promise<CircuitState> {
    return new CircuitClient({
      store: harness.circuitStore,
      vendor: 'waitwhile',
      rules: circuitRules(harness.settings.circuit),
      newId: randomUUID,
      clock: time.clock,
    }).view();
  }

  /** Every copy the worker sent to the work queue by its id, with its attempt attribute. */
  function queuedAttempts(expected: number): Record<string, number> {
    const seen: Record<string, number> = {};
    for (const copy of harness.queues.requeued) {
      const id = (JSON.parse(copy.MessageBody) as { id: string }).id;
      seen[id] = Number(copy.MessageAttributes[MessageAttr.attempt]?.StringValue);
    }
    expect(Object.keys(seen)).toHaveLength(expected);
    return seen;
  }

  it('opens after the threshold, stays shut for a second worker, defers without acquiring or spending attempts; one probe of two racing workers closes it', async () => {
    harness.simulator.setFaults({ down: true });
    await harness.enqueue([visit('m1'), visit('m2'), visit('m3')]);
    for (let i = 0; i < 3; i++) {
      await harness.pollOnce(1);
      time.advance(100);
    }
    expect(harness.simulator.stats().faults.down).toBe(3);
    expect((await circuit()).status).toBe('open');
    expect(harness.telemetry.countOf(Metric.circuitOpened)).toBe(1);

    // A second worker, which never saw a failure, finds it shut: no acquire, no call.
    const other = harness.anotherWorker();
    const grantsBefore =
      harness.telemetry.countOf(Metric.grants) + harness.telemetry.countOf(Metric.retryIns);
    await harness.enqueue([visit('m4'), visit('m5')]);
    let deferred = 0;
    while (deferred < 2) {
      await harness.pollOnce(10, other);
      deferred = harness.telemetry.countOf(Metric.circuitDeferrals) - 1;
    }
    expect(harness.simulator.stats().calls).toBe(3);
    expect(harness.telemetry.countOf(Metric.grants) + harness.telemetry.countOf(Metric.retryIns)).toBe(
      grantsBefore,
    );
    // The two calls that failed before it opened spent an attempt; the deferrals did not.
    expect(queuedAttempts(5)).toEqual({ m1: 1, m2: 1, m3: 0, m4: 0, m5: 0 });

    // The vendor is back and the probe is due: two workers race, one probes.
    harness.simulator.setFaults({});
    time.advance(2_000);
    const callsBefore = harness.simulator.stats().calls;
    await Promise.all([harness.pollOnce(1), harness.pollOnce(1, other)]);
    expect(harness.telemetry.fieldsOf('circuit.probe')).toHaveLength(1);
    expect(harness.simulator.stats().calls).toBe(callsBefore + 1);
    expect((await circuit()).status).toBe('closed');
    expect(harness.telemetry.countOf(Metric.circuitClosed)).toBe(1);

    time.advance(2_000);
    await harness.runUntilIdle();
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.simulator.stats().completions).toBe(5);
    expect(harness.simulator.stats().duplicateCompletions).toBe(0);
  });

  it('a key refused after a fresh read makes the backlog wait, not the DLQ; the restored key resumes it', async () => {
    await harness.stop();
    let keyReads = 0;
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      // Two writes per location: the repeat after the key is read again is a request at the
      // vendor too, and is granted like any other.
      buckets: [
        buckets[0]!,
        { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 2, windowSeconds: 2 },
      ],
      vendor,
      circuit: true,
      time: time,
      refreshApiKey: async () => {
        keyReads += 1;
        return 'local-dev-key';
      },
    });
    harness.simulator.setFaults({ keyRevoked: true });
    await harness.enqueue([visit('k1'), visit('k2'), visit('k3')]);
    await harness.pollOnce(1);
    // The 401 was met twice: with the key as cached, and after reading it again.
    expect(keyReads).toBe(1);
    expect(harness.simulator.stats().calls).toBe(2);
    expect((await circuit()).status).toBe('unauthorized');
    await harness.pollOnce(10);
    expect(harness.simulator.stats().calls).toBe(2);
    expect(queuedAttempts(3)).toEqual({ k1: 0, k2: 0, k3: 0 });
    harness.simulator.setFaults({});
    time.advance(2_000);
    await harness.runUntilIdle();
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.simulator.stats().completions).toBe(3);
  });

  it('still dead-letters a message by age while the circuit is open', async () => {
    harness.simulator.setFaults({ down: true });
    await harness.enqueue([visit('a1'), visit('a2'), visit('a3'), visit('old')]);
    for (let i = 0; i < 3; i++) await harness.pollOnce(1);
    expect((await circuit()).status).toBe('open');
    const calls = harness.simulator.stats().calls;
    // Past maxAgeSeconds (600) from the producer's stamp, whatever the real time the set-up took.
    time.advance(700_000);
    await harness.runUntilIdle();
    const deadLetters = await harness.deadLetters();
    expect(deadLetters.map((entry) => entry.reason)).toEqual(['max_age', 'max_age', 'max_age', 'max_age']);
    expect(harness.simulator.stats().calls).toBe(calls);
  });
});

describe('a storm of rate and busy answers', () => {
  // A 429 is classified like a 409 (the vendor is up: not a failure), but its Retry-After now
  // holds the bucket for every caller, so a storm at the vendor is made of 409s here; the state
  // machine's property test covers any sequence of answers from a live vendor.
  it('never opens the circuit', async () => {
    // The buckets allow 50 writes per location; the vendor allows 1 write/s to each.
    const harness = await MemoryWorkerHarness.start({
      simulator: {
        profile: 'waitwhile',
        latencyMs: 1,
        limits: { requestsPerSecond: 100, locationWritesPerSecond: 1 },
      },
      buckets: [
        { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 50, windowSeconds: 1 },
        { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 50, windowSeconds: 1 },
      ],
      vendor: { ...vendor, maxInFlight: 10, busyStatuses: [409] },
      circuit: true,
    });
    try {
      const messages = Array.from({ length: 10 }, (_, i) => ({
        id: `s${i}`,
        operation: 'createVisit',
        params: { locationId: 'same' },
        body: {},
      }));
      await harness.enqueue(messages);
      await harness.pollOnce(10);
      const refused = harness.simulator.stats().refusedByStatus;
      expect((refused['429'] ?? 0) + (refused['409'] ?? 0)).toBeGreaterThanOrEqual(3);
      const state = await new CircuitClient({
        store: harness.circuitStore,
        vendor: 'waitwhile',
        rules: circuitRules(harness.settings.circuit),
        newId: randomUUID,
        clock: harness.time.clock,
      }).view();
      expect(state).toMatchObject({ status: 'closed', failures: 0 });
      expect(harness.telemetry.countOf(Metric.circuitOpened)).toBe(0);
      expect(harness.telemetry.countOf(Metric.circuitDeferrals)).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});
