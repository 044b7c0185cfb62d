import { randomUUID } from 'node:crypto';
import { CircuitClient } from '../../lambda/circuit/client';
import { type CircuitState, CLOSED, circuitRules } from '../../lambda/circuit/state';
import { Metric } from '../../lambda/contract';
import { type MemoryHarnessOptions, MemoryWorkerHarness, steppedClock } from './memory-harness';

/**
 * The vendor's return after an outage, on memory ports with one stepped clock for the worker, the
 * SDK, the simulator and the work queue: minutes of outage are played in milliseconds. The driver
 * delivers what is visible, then moves the clock to the next requeued copy due, as the queue
 * brings it back. Everything asserted is read from the vendor's recorded calls (its timeline, on
 * the same clock) and the queues. The circuit item as DynamoDB Local decodes it: worker-stores.test.ts.
 */

const vendor: MemoryHarnessOptions['vendor'] = {
  name: 'waitwhile',
  allowedPaths: ['/locations'],
  operations: {
    createVisit: {
      method: 'POST',
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1 },
    },
  },
  policy: {
    maxAttempts: 5,
    maxAgeSeconds: 7_200,
    requeueJitterSeconds: 1,
    inlineRetryThresholdSeconds: 2,
    maxVendorRetries: 0,
  },
  // The defaults that matter here: a probe every 30 s, backing off only past 30 minutes.
  circuit: { failureThreshold: 3, windowSeconds: 60 },
  maxInFlight: 1,
};

/** The booking vendor's 5 requests/s, the bucket the same. */
const buckets: MemoryHarnessOptions['buckets'] = [
  { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 5, windowSeconds: 1 },
];

const visits = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    operation: 'createVisit',
    params: { locationId: `loc-${prefix}${i}` },
    body: { i },
  }));

interface Run {
  readonly harness: MemoryWorkerHarness;
  readonly time: ReturnType<typeof steppedClock>;
}

async function start(options: Partial<MemoryHarnessOptions> = {}): Promise<Run> {
  const time = steppedClock();
  const harness = await MemoryWorkerHarness.start({
    simulator: { profile: 'waitwhile', latencyMs: 1, clock: time.clock, limits: { requestsPerSecond: 5 } },
    buckets,
    vendor,
    circuit: true,
    time: time,
    ...options,
  });
  return { harness, time };
}

/**
 * Delivers everything visible, then moves the clock to the next copy due on the work queue,
 * until no copy is left; `at` runs once when the clock reaches its time (the vendor changes),
 * and the drive goes on only once the change is done (a state, not a moment).
 */
async function drive(
  run: Run,
  at: Array<{ atMs: number; change: () => void | Promise<void> }> = [],
): Promise<void> {
  const pending = [...at].sort((a, b) => a.atMs - b.atMs);
  for (let round = 0; round < 20_000; round += 1) {
    while ((await run.harness.pollOnce(10)) !== undefined) {}
    const nextCopy = run.harness.workQueue.nextVisibleAtMs();
    const nextChange = pending[0];
    if (nextCopy === undefined && nextChange === undefined) return;
    if (nextChange && (nextCopy === undefined || nextChange.atMs <= nextCopy)) {
      run.time.advance(Math.max(0, nextChange.atMs - run.time.clock()));
      await nextChange.change();
      pending.shift();
      continue;
    }
    run.time.advance(Math.max(0, (nextCopy ?? 0) - run.time.clock()));
  }
  throw new Error('the backlog never drained');
}

async function circuitOf(run: Run): Promise<CircuitState> {
  return new CircuitClient({
    store: run.harness.circuitStore,
    vendor: 'waitwhile',
    rules: circuitRules(run.harness.settings.circuit),
    newId: randomUUID,
    clock: run.time.clock,
  }).view();
}

const ok = (status: number) => status >= 200 && status < 300;

describe('the vendor back after an outage (injected time, memory ports)', () => {
  let run: Run | undefined;
  afterEach(async () => {
    await run?.harness.stop();
    run = undefined;
  });

  it.each([
    ['45 s', 45_000],
    ['5 minutes', 300_000],
    ['20 minutes', 1_200_000],
  ])(
    'after %s: one probe per 30 s while down, the first completion within 30 s of its return, no 429 in the 10 s after',
    async (_name, downForMs) => {
      run = await start();
      const { harness, time } = run;
      harness.simulator.setFaults({ down: true });
      const backAtMs = time.clock() + downForMs;
      const messages = visits('o', 30);
      await harness.enqueue(messages);
      await drive(run, [{ atMs: backAtMs, change: () => harness.simulator.setFaults({}) }]);

      const calls = harness.simulator.stats().timeline;
      const down = calls.filter((call) => call.atMs < backAtMs);
      // Three failures from three messages open it; then only probes, one per 30 s at most.
      expect(down.every((call) => call.status === 0)).toBe(true);
      const probes = down.slice(3);
      const starts = [down[2]!.atMs, ...probes.map((call) => call.atMs)];
      const gaps = starts.slice(1).map((atMs, i) => atMs - starts[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30_000);
      // ... and not fewer: the interval does not grow during an outage shorter than 30 minutes.
      expect(Math.max(...gaps)).toBeLessThan(31_000);

      const firstOk = calls.find((call) => call.atMs >= backAtMs && ok(call.status));
      expect(firstOk).toBeDefined();
      expect(firstOk!.atMs - backAtMs).toBeLessThanOrEqual(30_000);
      // The backlog comes back through the buckets: the vendor answers no 429 in the first 10 s.
      const resumed = calls.filter(
        (call) => call.atMs >= firstOk!.atMs && call.atMs < firstOk!.atMs + 10_000,
      );
      expect(resumed.filter((call) => call.status === 429)).toEqual([]);
      expect(calls.filter((call) => call.status === 429)).toEqual([]);

      expect(harness.simulator.stats().completions).toBe(messages.length);
      expect(harness.simulator.stats().duplicateCompletions).toBe(0);
      expect(await harness.deadLetters()).toEqual([]);
      expect((await circuitOf(run)).status).toBe('closed');
      expect(harness.telemetry.countOf(Metric.circuitOpened)).toBe(1 + probes.length);
      expect(harness.telemetry.countOf(Metric.circuitClosed)).toBe(1);
    },
  );

  it('the first probe comes one interval after the opening even when every deferred copy draws the largest jitter', async () => {
    // Every random draw at its top: each deferral of the backlog comes back at the end of its
    // spread, so only the copy of the delivery whose failure opened the circuit (back exactly at
    // the probe time, as the prober's) can make the probe on time.
    run = await start({ random: () => 0.999 });
    const { harness, time } = run;
    harness.simulator.setFaults({ down: true });
    const backAtMs = time.clock() + 100_000;
    await harness.enqueue(visits('j', 4));
    await drive(run, [{ atMs: backAtMs, change: () => harness.simulator.setFaults({}) }]);
    const down = harness.simulator.stats().timeline.filter((call) => call.atMs < backAtMs);
    expect(down.every((call) => call.status === 0)).toBe(true);
    // The third failure opened it; then the probes at 30, 60 and 90 s from it.
    const starts = down.slice(2).map((call) => call.atMs - down[2]!.atMs);
    expect(starts).toEqual([0, 30_000, 60_000, 90_000]);
    expect(harness.simulator.stats().completions).toBe(4);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('backs off past a long outage: 30 s probes for 30 minutes, then doubling to the maximum', async () => {
    run = await start();
    const { harness, time } = run;
    harness.simulator.setFaults({ down: true });
    const startedAtMs = time.clock();
    const backAtMs = startedAtMs + 50 * 60_000;
    await harness.enqueue(visits('l', 5));
    await drive(run, [{ atMs: backAtMs, change: () => harness.simulator.setFaults({}) }]);
    const calls = harness.simulator.stats().timeline.filter((call) => call.atMs < backAtMs);
    const starts = calls.slice(2).map((call) => call.atMs);
    const gaps = starts.slice(1).map((atMs, i) => Math.floor((atMs - starts[i]!) / 1000));
    // The gaps in seconds, each run of equal gaps once: 30 s until 30 minutes, then doubling.
    const steps = gaps.filter((gap, i) => gap !== gaps[i - 1]);
    expect(steps).toEqual([30, 60, 120, 240, 300]);
    expect(gaps.filter((gap) => gap === 30).length).toBe(60);
    expect(harness.simulator.stats().completions).toBe(5);
    expect(await harness.deadLetters()).toEqual([]);
  });
});

describe('probes that meet a live vendor saying no, one broken message, an unreadable item', () => {
  let run: Run | undefined;
  afterEach(async () => {
    await run?.harness.stop();
    run = undefined;
  });

  it('a probe answered 429 (another caller took the window) closes the circuit: the vendor is up, the backlog follows through the buckets', async () => {
    run = await start();
    const { harness } = run;
    harness.simulator.setFaults({ down: true });
    const messages = visits('r', 10);
    await harness.enqueue(messages);
    // Until the circuit is open, with the vendor down.
    while ((await harness.pollOnce(10)) !== undefined) {}
    const opened = await circuitOf(run);
    expect(opened.status).toBe('open');
    const probeAtMs = opened.nextProbeAtMs ?? 0;
    const otherAnswers: number[] = [];
    const otherCaller = async () => {
      // Another program using the same key spends the vendor's window at the probe's moment.
      for (let i = 0; i < 5; i++) {
        const answer = await fetch(`${harness.simulator.url}/locations/elsewhere-${i}/visits`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${harness.simulator.apiKey}`,
            'content-type': 'application/json',
          },
          body: '{}',
        });
        otherAnswers.push(answer.status);
      }
    };
    // The drive waits for the other caller's five answers before the probe's delivery comes
    // back: the window is spent when the probe calls (a state, not a race with its fetches).
    await drive(run, [
      {
        atMs: probeAtMs - 10_000,
        change: () => harness.simulator.setFaults({}),
      },
      {
        atMs: probeAtMs,
        change: otherCaller,
      },
    ]);
    expect(otherAnswers).toEqual([201, 201, 201, 201, 201]);
    const calls = harness.simulator.stats().timeline;
    const probe = calls.find((call) => call.atMs >= probeAtMs - 10_000 && call.status === 429);
    expect(probe).toBeDefined();
    // The 429 was the probe's answer: the first call of the worker after the outage.
    const workerCallsAfter = calls.filter((call) => call.atMs >= probeAtMs - 10_000).slice(5);
    expect(workerCallsAfter[0]?.status).toBe(429);
    expect(harness.telemetry.countOf(Metric.circuitProbes)).toBe(1);
    expect(harness.telemetry.countOf(Metric.circuitClosed)).toBe(1);
    expect(harness.telemetry.countOf(Metric.circuitOpened)).toBe(1);
    expect(harness.simulator.stats().completions).toBe(messages.length + 5);
    expect(harness.simulator.stats().duplicateCompletions).toBe(0);
    expect(await harness.deadLetters()).toEqual([]);
    expect((await circuitOf(run)).status).toBe('closed');
  });

  it('a probe answered 401 after the key was fixed reads the key again and resumes the work, no redrive', async () => {
    let secret = 'revoked-key';
    let cached = secret;
    run = await start({
      apiKey: 'revoked-key',
      readApiKey: async () => cached,
      refreshApiKey: async () => {
        cached = secret;
        return secret;
      },
    });
    const { harness, time } = run;
    const fixedAtMs = time.clock() + 75_000;
    const messages = visits('k', 8);
    await harness.enqueue(messages);
    await drive(run, [
      {
        atMs: fixedAtMs,
        change: () => {
          secret = harness.simulator.apiKey;
        },
      },
    ]);
    const calls = harness.simulator.stats().timeline;
    const before = calls.filter((call) => call.atMs < fixedAtMs);
    // One refused key opens it (twice 401: the cached key and the one read again); then one probe per 30 s.
    expect(before.every((call) => call.status === 401)).toBe(true);
    const probeStarts = [...new Set(before.map((call) => call.atMs))];
    const gaps = probeStarts.slice(1).map((atMs, i) => atMs - probeStarts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30_000);
    // The first probe after the fix still sends the cached key: 401, then the key read again: 201.
    const after = calls.filter((call) => call.atMs >= fixedAtMs);
    expect(after.slice(0, 2).map((call) => call.status)).toEqual([401, 201]);
    expect(after[0]!.atMs - fixedAtMs).toBeLessThanOrEqual(30_000);
    expect(harness.simulator.stats().completions).toBe(messages.length);
    expect(await harness.deadLetters()).toEqual([]);
    expect((await circuitOf(run)).status).toBe('closed');
  });

  it('one message whose own call keeps failing ends on its own attempts; the circuit stays closed for the others', async () => {
    const brokenCalls: number[] = [];
    let clock: () => number = Date.now;
    run = await start({
      // The broken path: every call for this one location is answered 502 (as a redirect
      // target or a broken route of the vendor would); the others reach the simulator.
      fetch: async (input, init) => {
        if (String(input).includes('/locations/loc-bad/')) {
          brokenCalls.push(clock());
          return new Response('{"error":"bad gateway"}', { status: 502 });
        }
        return fetch(input, init);
      },
    });
    clock = run.time.clock;
    const { harness } = run;
    await harness.enqueue([
      { id: 'bad', operation: 'createVisit', params: { locationId: 'loc-bad' }, body: {} },
      ...visits('g', 6),
    ]);
    await drive(run);
    // Its first delivery and its maxAttempts (5) requeued attempts, each failing the same way.
    expect(brokenCalls.length).toBe(6);
    expect(harness.telemetry.countOf(Metric.circuitOpened)).toBe(0);
    const deadLetters = await harness.deadLetters();
    expect(deadLetters.map((entry) => entry.reason)).toEqual(['max_attempts']);
    expect(harness.simulator.stats().completions).toBe(6);
    expect((await circuitOf(run)).failures).toBe(1);
  });

  it('an unreadable circuit item does not stop the work: reported, taken as closed, rewritten', async () => {
    run = await start();
    const { harness } = run;
    // The item as the DynamoDB store reads one it cannot decode (a hand edit: status "opne").
    await harness.circuitStore.write(
      'waitwhile',
      {
        state: CLOSED,
        version: 12,
        ops: [],
        unreadable: 'circuit item circuit#waitwhile: circuit_status "opne"',
      },
      0,
    );
    await harness.enqueue(visits('c', 3));
    await drive(run);
    expect(harness.simulator.stats().completions).toBe(3);
    expect(harness.telemetry.countOf(Metric.circuitUnreadable)).toBeGreaterThanOrEqual(1);
    expect(harness.telemetry.fieldsOf('circuit.unreadable')[0]).toMatchObject({ taken_as: 'closed' });
    const item = await harness.circuitStore.read('waitwhile');
    expect(item?.unreadable).toBeUndefined();
    expect(item?.state.status).toBe('closed');
    expect(item?.version).toBe(13);
  });
});
