import {
  fullBucket,
  penalize,
  redefine,
  refill,
  resync,
  settle,
  take,
  waitMs,
} from '../../lambda/sluice/core/bucket-math';
import { definitionState } from '../../lambda/sluice/core/dimensions';
import type { BucketState } from '../../lambda/sluice/core/model';
import { mulDivCeil, mulDivFloor } from '../../lambda/sluice/core/mul-div';
import { RPM_60, T0 } from './fixtures';

const rpm = RPM_60;
const slots = fullBucket({ limitType: 'concurrent', capacityMilli: 2_000, windowMs: 0, costPerCall: 1 }, T0);
const withTokens = (b: BucketState, tokensMilli: number, extra: Partial<BucketState> = {}): BucketState => ({
  ...b,
  tokensMilli,
  ...extra,
});

describe('refill', () => {
  it.each([
    [
      'credits elapsed time at the refill rate',
      withTokens(rpm, 0),
      T0 + 2_500,
      { tokensMilli: 2_500, lastRefillAtMs: T0 + 2_500 },
    ],
    [
      'caps tokens at capacity after a long idle period',
      withTokens(rpm, 59_000),
      T0 + 86_400_000,
      { tokensMilli: 60_000, lastRefillAtMs: T0 + 86_400_000 },
    ],
    [
      'never moves time backwards when the local clock is behind',
      withTokens(rpm, 10_000),
      T0 - 5_000,
      { tokensMilli: 10_000, lastRefillAtMs: T0 },
    ],
    [
      'repays debt before tokens grow',
      withTokens(rpm, 0, { debtMilli: 1_500 }),
      T0 + 2_000,
      { tokensMilli: 500, debtMilli: 0 },
    ],
  ])('%s', (_name, bucket, now, expected) => {
    expect(refill(bucket, now)).toMatchObject(expected);
  });

  it('does not starve a bucket refilled every millisecond, and never credits more than one refill would', () => {
    // 60,000 milli per 200,000 ms = 0.3 milli per ms: each 1 ms step alone gains 0 whole milli-units.
    // Uncredited time is kept, so the steps still gain; rounding the credited time up loses under
    // 1 ms per credit (2 vs 3 here).
    const slow = { ...withTokens(rpm, 0), windowMs: 200_000 };
    let stepwise = slow;
    for (let t = 1; t <= 10; t++) stepwise = refill(stepwise, T0 + t);
    expect([stepwise.tokensMilli, refill(slow, T0 + 10).tokensMilli]).toEqual([2, 3]);
  });

  it('leaves a concurrent bucket to releases: no refill with time', () => {
    expect(refill(withTokens(slots, 0), T0 + 3_600_000)).toMatchObject({
      tokensMilli: 0,
      lastRefillAtMs: T0 + 3_600_000,
    });
  });
});

describe('take and waitMs', () => {
  it('takes the cost when it is available', () => {
    // A grant from a full bucket records when it was full (a refusal within a window may be the burst's).
    expect(take(rpm, 1_000, T0)).toEqual({ ok: true, bucket: { ...withTokens(rpm, 59_000), fullAtMs: T0 } });
  });

  it('computes the wait as the missing amount over the refill rate, rounded up to the ms', () => {
    expect(take(withTokens(rpm, 250), 1_000, T0)).toEqual({ ok: false, waitMs: 750 });
    // 60,000 milli per 20,000 ms: 1,000 milli take 333.3 ms, rounded up.
    expect(waitMs({ ...withTokens(rpm, 0), windowMs: 20_000 }, 1_000, T0)).toBe(334);
  });

  it('adds the time to repay debt to the wait', () => {
    expect(waitMs(withTokens(rpm, 0, { debtMilli: 2_000 }), 1_000, T0)).toBe(3_000);
  });

  it('counts time already elapsed but not yet credited', () => {
    expect(waitMs({ ...withTokens(rpm, 0), lastRefillAtMs: T0 - 400 }, 1_000, T0)).toBe(600);
  });

  it('records a lease when taking from a concurrent bucket', () => {
    const lease = { id: 'l1', state: { costMilli: 1_000, expiresAtMs: T0 + 60_000 } };
    expect(take(slots, 1_000, T0, lease)).toEqual({
      ok: true,
      bucket: { ...withTokens(slots, 1_000), leases: { l1: lease.state } },
    });
  });

  it.each([
    ['the earliest lease expiry when it is near', T0 + 300, 300],
    ['at most 1 s, since a release may come sooner', T0 + 60_000, 1_000],
    ['at least 50 ms, so callers do not spin', T0 + 10, 50],
    ['1 s when the lease already expired: reconcile returns it, not a release', T0 - 10, 1_000],
  ])('waits on a full concurrent bucket until %s', (_name, expiresAtMs, expected) => {
    const full = { ...withTokens(slots, 0), leases: { a: { costMilli: 2_000, expiresAtMs } } };
    expect(waitMs(full, 1_000, T0)).toBe(expected);
  });
});

describe('settle, penalize, resync, redefine', () => {
  it.each([
    [
      'refunds an unused estimate',
      withTokens(rpm, 10_000),
      5_000,
      2_000,
      { tokensMilli: 13_000, debtMilli: 0 },
    ],
    [
      'never refunds above capacity',
      withTokens(rpm, 59_000),
      5_000,
      0,
      { tokensMilli: 60_000, debtMilli: 0 },
    ],
    [
      'takes an overrun from tokens first, then records debt',
      withTokens(rpm, 1_000),
      1_000,
      4_000,
      { tokensMilli: 0, debtMilli: 2_000 },
    ],
    [
      'repays debt with a refund before tokens',
      withTokens(rpm, 0, { debtMilli: 3_000 }),
      5_000,
      1_000,
      { tokensMilli: 1_000, debtMilli: 0 },
    ],
  ])('settle %s', (_name, bucket, estimate, actual, expected) => {
    expect(settle(bucket, estimate, actual, 0)).toMatchObject(expected);
  });

  // rpm refills 1,000 milli a second: what refill gave back since the grant is not refunded again.
  it.each([
    ['refunds in full right after the grant', 0, 10_000, 0, 50_000],
    ['refunds what refill has not given back yet', 4_000, 10_000, 0, 46_000],
    ['refunds nothing once refill gave back the whole estimate', 10_000, 10_000, 0, 40_000],
    ['refunds nothing a window later', 120_000, 10_000, 0, 40_000],
    ['refunds the unused part while it is below what is left', 4_000, 10_000, 5_000, 45_000],
    ['refunds only what is left when that is less than the unused part', 8_000, 10_000, 5_000, 42_000],
  ])('a late settle %s', (_name, elapsedMs, estimate, actual, tokensAfter) => {
    expect(settle(withTokens(rpm, 40_000), estimate, actual, elapsedMs).tokensMilli).toBe(tokensAfter);
  });

  it('keeps debt at or below capacity, however large the overrun', () => {
    expect(settle(withTokens(rpm, 0), 1_000, 10_000_000, 0)).toMatchObject({
      tokensMilli: 0,
      debtMilli: 60_000,
    });
  });

  it('penalize scales tokens down, rounded down, never below 0', () => {
    expect([0.8, 0.5, 0.3].map((f) => penalize(withTokens(rpm, 10_001), f, T0).tokensMilli)).toEqual([
      8_000, 5_000, 3_000,
    ]);
  });

  it('resync lowers tokens to the remaining count and never raises them', () => {
    expect([
      resync(withTokens(rpm, 10_000), 4_000).tokensMilli,
      resync(withTokens(rpm, 10_000), 40_000).tokensMilli,
    ]).toEqual([4_000, 10_000]);
  });

  it('resync keeps the progress toward the next unit: the vendor counts whole units', () => {
    expect([
      resync(withTokens(rpm, 2_500), 1_000).tokensMilli,
      resync(withTokens(rpm, 171), 0).tokensMilli,
      resync(withTokens(rpm, 10_999), 4_000).tokensMilli,
    ]).toEqual([1_500, 171, 4_999]);
  });

  it('a resync answered after a grant on a bucket of one call does not push the next grant back', () => {
    // 3 per 1.05 s, one call at a time: a unit every 350 ms. Granted at T0, answered 60 ms later
    // with "0 remaining": the next call is still due 350 ms after the grant, not 350 ms after the answer.
    const oneCall = fullBucket(
      { limitType: 'requests', capacityMilli: 1_000, windowMs: 350, costPerCall: 1 },
      T0,
    );
    const granted = take(oneCall, 1_000, T0);
    if (!granted.ok) throw new Error('a full bucket grants');
    const answered = resync(refill(granted.bucket, T0 + 60), 0);
    // 290 ms, plus the millisecond the refill's rounding leaves uncredited.
    expect(waitMs(answered, 1_000, T0 + 60)).toBe(291);
    expect(take(refill(answered, T0 + 351), 1_000, T0 + 351).ok).toBe(true);
  });

  it('redefine clamps a time bucket to a lowered capacity and keeps its tokens otherwise', () => {
    const lowered = redefine(withTokens(rpm, 50_000), {
      limitType: 'requests',
      capacityMilli: 30_000,
      windowMs: 120_000,
      costPerCall: 1,
    });
    const raised = redefine(withTokens(rpm, 50_000), {
      limitType: 'requests',
      capacityMilli: 90_000,
      windowMs: 60_000,
      costPerCall: 1,
    });
    expect([lowered.tokensMilli, lowered.windowMs, raised.tokensMilli]).toEqual([30_000, 120_000, 50_000]);
  });

  it('redefine keeps the leases of a concurrent bucket and conserves capacity', () => {
    const held = { ...withTokens(slots, 1_000), leases: { a: { costMilli: 1_000, expiresAtMs: T0 } } };
    const bigger = redefine(held, {
      limitType: 'concurrent',
      capacityMilli: 5_000,
      windowMs: 0,
      costPerCall: 1,
    });
    expect([bigger.tokensMilli, Object.keys(bigger.leases)]).toEqual([4_000, ['a']]);
  });
});

describe('exact refill from capacity and window (no rounded rate)', () => {
  // A stored rate rounded down to milli/s made these slow: 1/60 s at 16 milli/s (4 %), 2/60 s at
  // 33 milli/s (a 30.304 s wait for one unit), 10,000/60 s at 166,666 milli/s (3,001 ms for 500).
  it.each([
    // name, capacity, windowSeconds, cost (units), exact wait from empty (ms), a step dividing the window exactly
    ['1 per 60 s', 1, 60, 1, 60_000, 60],
    ['2 per 60 s', 2, 60, 1, 30_000, 30],
    ['10,000 tokens per 60 s', 10_000, 60, 500, 3_000, 3],
  ])(
    '%s: waits exactly, refills exactly, and fills in exactly one window',
    (_name, capacity, windowSeconds, cost, wait, stepMs) => {
      const definition = definitionState({ dimension: 'v#m', limitType: 'tokens', capacity, windowSeconds });
      expect(definition).toMatchObject({ capacityMilli: capacity * 1_000, windowMs: windowSeconds * 1_000 });
      const empty = withTokens(fullBucket(definition, T0), 0);
      const costMilli = cost * 1_000;
      expect(waitMs(empty, costMilli, T0)).toBe(wait);
      // The wait is the least one: one ms sooner is not enough, at the wait the cost is there exactly.
      expect(refill(empty, T0 + wait - 1).tokensMilli).toBeLessThan(costMilli);
      expect(refill(empty, T0 + wait)).toMatchObject({ tokensMilli: costMilli, lastRefillAtMs: T0 + wait });
      expect(refill(empty, T0 + wait / 2).tokensMilli).toBe(costMilli / 2);
      // Refilled step by step, the bucket is full exactly one window after empty, not a step later.
      let stepwise = empty;
      const windowMs = windowSeconds * 1_000;
      for (let t = stepMs; t < windowMs; t += stepMs) stepwise = refill(stepwise, T0 + t);
      expect(stepwise.tokensMilli).toBe(capacity * 1_000 - (capacity * 1_000 * stepMs) / windowMs);
      expect(refill(stepwise, T0 + windowMs)).toMatchObject({
        tokensMilli: capacity * 1_000,
        lastRefillAtMs: T0 + windowMs,
      });
    },
  );

  it('stays exact past 2^53: a billion tokens a day, half a day after empty, and the wait back', () => {
    const daily = definitionState({
      dimension: 'v#tpd',
      limitType: 'tokens',
      capacity: 1e9,
      windowSeconds: 86_400,
    });
    const empty = withTokens(fullBucket(daily, T0), 0);
    // 43,200,000 ms × 10^12 milli = 4.32 · 10^19 > 2^53: computed with BigInt.
    expect(refill(empty, T0 + 43_200_000)).toMatchObject({
      tokensMilli: 5e11,
      lastRefillAtMs: T0 + 43_200_000,
    });
    expect(waitMs(empty, 5e11, T0)).toBe(43_200_000);
    expect(waitMs(empty, 1_000, T0)).toBe(1);
  });

  it.each([
    // a, b, c, floor, ceil: the first product is safe, the others are not (doubles would be off by one)
    [7, 60_000, 1_000_000, 0, 1],
    [1_000_672_251_259, 87_376_455, 87_121_066, 1_003_605_648_395, 1_003_605_648_396],
    [1_000_561_045_154, 86_494_193, 86_626_896, 999_028_294_259, 999_028_294_260],
  ])('mulDivFloor / mulDivCeil(%d, %d, %d) are exact', (a, b, c, floor, ceil) => {
    expect([mulDivFloor(a, b, c), mulDivCeil(a, b, c)]).toEqual([floor, ceil]);
  });

  it.each([
    ['whole seconds', 60, 60_000],
    ['a window given to the ms despite binary noise (1.001 × 1000 = 1000.9999999999999)', 1.001, 1_001],
    ['a sub-ms remainder, rounded up (never faster than defined)', 0.0015, 2],
    ['less than 1 ms, at least 1 ms', 0.0001, 1],
  ])('stores the window in whole ms: %s', (_name, windowSeconds, windowMs) => {
    expect(
      definitionState({ dimension: 'v#m', limitType: 'requests', capacity: 100, windowSeconds }).windowMs,
    ).toBe(windowMs);
  });

  it('stores window 0 for a concurrent bucket', () => {
    expect(definitionState({ dimension: 'v#c', limitType: 'concurrent', capacity: 2 }).windowMs).toBe(0);
  });
});
