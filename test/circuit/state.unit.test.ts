import fc from 'fast-check';
import {
  admission,
  type CircuitEvent,
  type CircuitRules,
  type CircuitState,
  CLOSED,
  holdsProbe,
  slowStartShare,
  transition,
} from '../../lambda/circuit/state';

const rules: CircuitRules = {
  failureThreshold: 3,
  windowMs: 10_000,
  probeIntervalMs: 30_000,
  maxProbeIntervalMs: 120_000,
  backoffAfterMs: 1_800_000,
  slowStartMs: 5_000,
};
const failure: CircuitEvent = { kind: 'answer', signal: 'failure', detail: 'HTTP 502' };
const up: CircuitEvent = { kind: 'answer', signal: 'up' };

function run(
  events: ReadonlyArray<readonly [number, CircuitEvent]>,
  start: CircuitState = CLOSED,
): CircuitState {
  return events.reduce((state, [atMs, event]) => transition(state, event, atMs, rules), start);
}

describe('the vendor circuit state machine', () => {
  it('opens at the threshold of consecutive failures within the window', () => {
    const two = run([
      [1_000, failure],
      [2_000, failure],
    ]);
    expect(two).toEqual({ status: 'closed', failures: 2, windowStartedAtMs: 1_000 });
    const opened = transition(two, failure, 3_000, rules);
    expect(opened).toEqual({
      status: 'open',
      failures: 0,
      windowStartedAtMs: 0,
      openedAtMs: 3_000,
      nextProbeAtMs: 33_000,
      intervalMs: 30_000,
      detail: 'HTTP 502',
    });
  });

  it('forgets failures older than the window, and resets on any answer of a live vendor', () => {
    const late = run([
      [1_000, failure],
      [2_000, failure],
      [12_001, failure],
    ]);
    expect(late).toEqual({ status: 'closed', failures: 1, windowStartedAtMs: 12_001 });
    const reset = run([
      [1_000, failure],
      [2_000, failure],
      [2_500, up],
      [3_000, failure],
    ]);
    expect(reset).toEqual({ status: 'closed', failures: 1, windowStartedAtMs: 3_000 });
  });

  it('writes nothing for a success on a closed circuit without failures', () => {
    expect(transition(CLOSED, up, 5_000, rules)).toBe(CLOSED);
  });

  it('opens as unauthorized on one refused key', () => {
    const state = transition(
      CLOSED,
      { kind: 'answer', signal: 'unauthorized', detail: 'HTTP 401' },
      0,
      rules,
    );
    expect(state.status).toBe('unauthorized');
    expect(state.nextProbeAtMs).toBe(30_000);
  });

  it('waits until the probe time, then lets exactly one claim through', () => {
    const opened = run([
      [0, failure],
      [0, failure],
      [0, failure],
    ]);
    expect(admission(opened, 29_999)).toEqual({ kind: 'wait', untilMs: 30_000 });
    expect(transition(opened, { kind: 'claim_probe', owner: 'a', untilMs: 60_000 }, 29_999, rules)).toBe(
      opened,
    );
    expect(admission(opened, 30_000)).toEqual({ kind: 'probe_due' });
    const claimed = transition(opened, { kind: 'claim_probe', owner: 'a', untilMs: 60_000 }, 30_000, rules);
    expect(holdsProbe(claimed, 'a', 30_000)).toBe(true);
    expect(transition(claimed, { kind: 'claim_probe', owner: 'b', untilMs: 61_000 }, 30_001, rules)).toBe(
      claimed,
    );
    expect(admission(claimed, 30_001)).toEqual({ kind: 'wait', untilMs: 60_000 });
    // A prober that died: its claim lapses and another may take the slot.
    const taken = transition(claimed, { kind: 'claim_probe', owner: 'b', untilMs: 90_000 }, 60_000, rules);
    expect(holdsProbe(taken, 'b', 60_000)).toBe(true);
  });

  /** Probes failing one after another from `state`, each at its probe time; the intervals seen. */
  function failProbes(
    start: CircuitState,
    rounds: number,
    retryAfterMs?: (round: number) => number | undefined,
  ): { state: CircuitState; intervals: number[]; probeTimes: number[] } {
    let state = start;
    const intervals: number[] = [];
    const probeTimes: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const nowMs = state.nextProbeAtMs ?? 0;
      probeTimes.push(nowMs);
      state = transition(
        state,
        { kind: 'claim_probe', owner: `p${round}`, untilMs: nowMs + 5_000 },
        nowMs,
        rules,
      );
      const after = retryAfterMs?.(round);
      state = transition(
        state,
        {
          kind: 'probe_result',
          owner: `p${round}`,
          signal: 'failure',
          ...(after === undefined ? {} : { retryAfterMs: after }),
        },
        nowMs + 100,
        rules,
      );
      intervals.push(state.intervalMs ?? 0);
    }
    return { state, intervals, probeTimes };
  }

  it('closes on a successful probe; failed probes keep the interval until the outage is long, then double it up to the maximum', () => {
    const opened = run([
      [0, failure],
      [0, failure],
      [0, failure],
    ]);
    // 30 s probes for the first 30 minutes (backoffAfterMs), then 60, 120, 120.
    const { state: long, intervals, probeTimes } = failProbes(opened, 63);
    expect(intervals.slice(0, 59)).toEqual(Array(59).fill(30_000));
    // Probes start an interval apart: from the claim, not from the answer 100 ms later.
    expect(probeTimes.slice(0, 3)).toEqual([30_000, 60_000, 90_000]);
    // The 60th probe is the first to fail past 30 minutes of outage.
    expect(probeTimes[58]).toBeLessThan(1_800_000);
    expect(probeTimes[59]).toBeGreaterThanOrEqual(1_800_000);
    expect(intervals.slice(59)).toEqual([60_000, 120_000, 120_000, 120_000]);
    let state = long;
    expect(state.openedAtMs).toBe(0);
    const nowMs = state.nextProbeAtMs ?? 0;
    state = transition(state, { kind: 'claim_probe', owner: 'last', untilMs: nowMs + 5_000 }, nowMs, rules);
    // Only the holder's result counts.
    expect(transition(state, { kind: 'probe_result', owner: 'other', signal: 'up' }, nowMs, rules)).toBe(
      state,
    );
    expect(transition(state, { kind: 'probe_result', owner: 'last', signal: 'up' }, nowMs, rules)).toEqual({
      ...CLOSED,
      recoveredAtMs: nowMs,
    });
  });

  it("waits longer only when the vendor's own Retry-After asks for it, never past the maximum", () => {
    const opened = transition(
      run([
        [0, failure],
        [0, failure],
      ]),
      { kind: 'answer', signal: 'failure', detail: 'HTTP 503', retryAfterMs: 45_000 },
      0,
      rules,
    );
    expect(opened.nextProbeAtMs).toBe(45_000);
    const { intervals } = failProbes(opened, 4, (round) => [90_000, undefined, 10_000, 600_000][round]);
    // A Retry-After shorter than the interval does not shorten it; one past the maximum is cut to it.
    expect(intervals).toEqual([90_000, 30_000, 30_000, 120_000]);
  });

  it('counts a failure once per source: one message failing again and again never opens it', () => {
    const from = (source: string): CircuitEvent => ({ ...failure, source });
    const same = run([
      [0, from('m1')],
      [1_000, from('m1')],
      [2_000, from('m1')],
      [3_000, from('m1')],
    ]);
    expect(same).toEqual({ status: 'closed', failures: 1, windowStartedAtMs: 0, sources: ['m1'] });
    const distinct = run([
      [0, from('m1')],
      [1_000, from('m1')],
      [2_000, from('m2')],
      [3_000, from('m3')],
    ]);
    expect(distinct.status).toBe('open');
    // The window forgets its sources with its failures.
    const later = run([
      [0, from('m1')],
      [70_000, from('m1')],
    ]);
    expect(later).toEqual({ status: 'closed', failures: 1, windowStartedAtMs: 70_000, sources: ['m1'] });
  });

  it('lets a growing share of deliveries through for the slow start after a probe succeeds', () => {
    const recovered: CircuitState = { ...CLOSED, recoveredAtMs: 100_000 };
    expect(slowStartShare(CLOSED, 100_000, rules)).toBe(1);
    expect(slowStartShare(recovered, 100_000, rules)).toBe(0.25);
    expect(slowStartShare(recovered, 102_500, rules)).toBeCloseTo(0.625);
    expect(slowStartShare(recovered, 105_000, rules)).toBe(1);
    // A failure counted after the recovery keeps the slow start running.
    const failed = transition(recovered, failure, 101_000, rules);
    expect(slowStartShare(failed, 101_000, rules)).toBeCloseTo(0.4);
  });

  it('ignores answers of calls still in flight when it opened; an abandoned probe frees the slot', () => {
    const opened = run([
      [0, failure],
      [0, failure],
      [0, failure],
    ]);
    expect(transition(opened, up, 1_000, rules)).toBe(opened);
    const claimed = transition(opened, { kind: 'claim_probe', owner: 'a', untilMs: 90_000 }, 30_000, rules);
    const freed = transition(claimed, { kind: 'abandon_probe', owner: 'a' }, 31_000, rules);
    expect(freed.probe).toBeUndefined();
    expect(admission(freed, 31_000)).toEqual({ kind: 'probe_due' });
  });

  /**
   * Planted once: `onAnswer` counting a 'up' as a failure made this property fail (a run of
   * 429s opened the circuit); reverted.
   */
  it('never opens on answers of a live vendor, and a probe interval stays within its bounds', () => {
    const signal = fc.constantFrom('up', 'failure', 'unauthorized') as fc.Arbitrary<
      'up' | 'failure' | 'unauthorized'
    >;
    const event = fc.oneof(
      signal.map((s): CircuitEvent => ({ kind: 'answer', signal: s })),
      fc.constantFrom('a', 'b').map((owner): CircuitEvent => ({ kind: 'claim_probe', owner, untilMs: 0 })),
      fc
        .tuple(fc.constantFrom('a', 'b'), signal)
        .map(([owner, s]): CircuitEvent => ({ kind: 'probe_result', owner, signal: s })),
      fc.constantFrom('a', 'b').map((owner): CircuitEvent => ({ kind: 'abandon_probe', owner })),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(20_000), event), { maxLength: 60 }), (steps) => {
        let nowMs = 0;
        let state: CircuitState = CLOSED;
        let onlyUp = true;
        for (const [gapMs, next] of steps) {
          nowMs += gapMs;
          const claim = next.kind === 'claim_probe' ? { ...next, untilMs: nowMs + 5_000 } : next;
          if (next.kind === 'answer' && next.signal !== 'up') onlyUp = false;
          state = transition(state, claim, nowMs, rules);
          if (onlyUp && state.status !== 'closed') return false;
          if (state.status === 'closed' && state.probe !== undefined) return false;
          if (state.status !== 'closed') {
            const interval = state.intervalMs ?? -1;
            if (interval < rules.probeIntervalMs || interval > rules.maxProbeIntervalMs) return false;
          }
          if (state.failures >= rules.failureThreshold) return false;
        }
        return true;
      }),
    );
  });

  /**
   * Planted once: `onAnswer` without the `seen.includes(source)` check (every failure counted)
   * made this property fail at once (three failures of one message opened the circuit); reverted.
   */
  it('opens only after failures from as many distinct sources as the threshold, in one window', () => {
    const step = fc.tuple(
      fc.nat(30_000),
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc.constantFrom('m1', 'm2', 'm3', 'm4').map((source) => ({ ...failure, source })),
        },
        { weight: 1, arbitrary: fc.constant(up) },
      ),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let nowMs = 0;
        let state: CircuitState = CLOSED;
        // The sources of the failures since the last answer of a live vendor, with their times.
        let recent: Array<{ atMs: number; source: string | undefined }> = [];
        for (const [gapMs, event] of steps) {
          nowMs += gapMs;
          const before = state;
          state = transition(state, event, nowMs, rules);
          if (before.status !== 'closed') return true;
          if (event.kind === 'answer' && event.signal === 'up') {
            recent = [];
            continue;
          }
          recent.push({ atMs: nowMs, source: event.kind === 'answer' ? event.source : undefined });
          if (state.status === 'open') {
            // Some window of windowMs holds threshold distinct sources.
            const inWindow = recent.filter((entry) => nowMs - entry.atMs <= rules.windowMs);
            if (new Set(inWindow.map((entry) => entry.source)).size < rules.failureThreshold) return false;
          }
        }
        return true;
      }),
    );
  });
});
