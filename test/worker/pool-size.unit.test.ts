import { PoolSizer } from '../../lambda/worker/policy/pool-size';

/**
 * The pool's size from Little's law on a simulated clock: calls start as the pool and the
 * vendor's quota allow, each answers after the vendor's latency, and the sizer sees only what
 * the worker sees (starts and answers).
 */
function drive(options: {
  readonly sizer: PoolSizer;
  /** The vendor's quota in calls per second (starts are spaced by it); Infinity: none. */
  readonly allowedPerSecond: number;
  readonly latencyMs: number;
  readonly seconds: number;
}): { limits: number[]; mostInFlight: number } {
  const { sizer, allowedPerSecond, latencyMs } = options;
  const answersAt: number[] = [];
  const limits: number[] = [];
  let nextGrantMs = 0;
  let mostInFlight = 0;
  for (let nowMs = 0; nowMs <= options.seconds * 1000; nowMs += 10) {
    while (answersAt.length > 0 && (answersAt[0] as number) <= nowMs) {
      answersAt.shift();
      sizer.answered(latencyMs);
    }
    while (answersAt.length < sizer.limit(nowMs) && nowMs >= nextGrantMs) {
      sizer.callStarted(nowMs);
      answersAt.push(nowMs + latencyMs);
      nextGrantMs = Number.isFinite(allowedPerSecond) ? nextGrantMs + 1000 / allowedPerSecond : nowMs;
      if (nextGrantMs < nowMs - 1000) nextGrantMs = nowMs;
    }
    mostInFlight = Math.max(mostInFlight, answersAt.length);
    if (nowMs % 1000 === 0) limits.push(sizer.limit(nowMs));
  }
  return { limits, mostInFlight };
}

describe('PoolSizer', () => {
  it('starts at 4 slots (at most maxInFlight) before any answer', () => {
    expect(new PoolSizer({ maxInFlight: 16 }).limit(0)).toBe(4);
    expect(new PoolSizer({ maxInFlight: 3 }).limit(0)).toBe(3);
    expect(new PoolSizer({ maxInFlight: 1 }).limit(0)).toBe(1);
  });

  it('grows to what a slow vendor needs: 3/s at 1.5 s is 4.5 in flight, 1.5 × that + 1 slots', () => {
    const sizer = new PoolSizer({ maxInFlight: 16 });
    const { limits } = drive({ sizer, allowedPerSecond: 3, latencyMs: 1_500, seconds: 40 });
    expect(limits.at(-1)).toBe(Math.ceil(3 * 1.5 * 1.5) + 1);
    // The rate the sizer measures reaches the quota: the pool no longer holds it back.
    expect(sizer.ratePerSecond(40_000)).toBeCloseTo(3, 0);
  });

  it('never passes maxInFlight, however slow the vendor', () => {
    const sizer = new PoolSizer({ maxInFlight: 8 });
    const { limits, mostInFlight } = drive({ sizer, allowedPerSecond: 20, latencyMs: 5_000, seconds: 60 });
    expect([Math.max(...limits), mostInFlight]).toEqual([8, 8]);
  });

  it('keeps a small pool for a fast vendor (few records asleep in the lines)', () => {
    const sizer = new PoolSizer({ maxInFlight: 16 });
    const { limits } = drive({ sizer, allowedPerSecond: 5, latencyMs: 50, seconds: 30 });
    expect(limits.at(-1)).toBe(2);
  });

  it('stays at 1 when maxInFlight is 1', () => {
    const sizer = new PoolSizer({ maxInFlight: 1 });
    const { limits, mostInFlight } = drive({ sizer, allowedPerSecond: 100, latencyMs: 300, seconds: 10 });
    expect([Math.max(...limits), mostInFlight]).toEqual([1, 1]);
  });

  it('shrinks again when the rate falls (a quiet queue) and counts only the last seconds', () => {
    const sizer = new PoolSizer({ maxInFlight: 32 });
    drive({ sizer, allowedPerSecond: 10, latencyMs: 2_000, seconds: 30 });
    // 10/s × 2 s × 1.5 + 1 = 31, within one start of the window's edge.
    expect(sizer.limit(30_000)).toBeGreaterThanOrEqual(31);
    expect(sizer.limit(30_000)).toBeLessThanOrEqual(32);
    expect(sizer.limit(60_000)).toBe(2);
  });

  it('calls an attempt hung after 4 × the slow end of the answers, only once it has seen 20', () => {
    const sizer = new PoolSizer({ maxInFlight: 16 });
    for (let i = 0; i < 19; i++) sizer.answered(1_500);
    expect(sizer.hangTimeoutMs(20_000)).toBeUndefined();
    sizer.answered(1_500);
    const timeout = sizer.hangTimeoutMs(20_000)!;
    expect(timeout).toBeGreaterThanOrEqual(6_000);
    expect(timeout).toBeLessThan(20_000);
    // Never shorter than 2 s for a fast vendor, never the request timeout or more.
    const fast = new PoolSizer({ maxInFlight: 4 });
    for (let i = 0; i < 30; i++) fast.answered(50);
    expect(fast.hangTimeoutMs(20_000)).toBe(2_000);
    expect(fast.hangTimeoutMs(2_000)).toBeUndefined();
  });

  it('widens the hang timeout for a vendor whose answers vary', () => {
    const steady = new PoolSizer({ maxInFlight: 4 });
    const varying = new PoolSizer({ maxInFlight: 4 });
    for (let i = 0; i < 40; i++) {
      steady.answered(1_000);
      varying.answered(i % 2 === 0 ? 200 : 1_800);
    }
    expect(varying.hangTimeoutMs(60_000)!).toBeGreaterThan(steady.hangTimeoutMs(60_000)!);
  });

  it('refuses a bound that is not a whole number of slots', () => {
    expect(() => new PoolSizer({ maxInFlight: 0 })).toThrow(
      'the pool needs a whole number of slots ≥ 1 (got 0)',
    );
  });
});
