import { fullBucket, inBurst, penalize, refill, take } from '../../lambda/sluice/core/bucket-math';
import type { BucketState } from '../../lambda/sluice/core/model';
import { rateScaleAt } from '../../lambda/sluice/core/rate-scale';
import { PenaltyFactor } from '../../lambda/sluice/core/types';
import { T0 } from './helpers';

/**
 * A vendor allowing 3 requests per fixed 1 s window, a bucket of 3 per 1 s starting full: the
 * burst and the refill send a fourth request within the vendor's first window, and it is
 * refused. That refusal is about the burst: the rate must come back whole, not keep a ceiling
 * learnt from it for the rest of the run.
 */
const definition = { limitType: 'requests' as const, capacityMilli: 3_000, windowMs: 1_000, costPerCall: 1 };

function grant(bucket: BucketState, atMs: number): BucketState {
  const result = take(refill(bucket, atMs), 1_000, atMs);
  if (!result.ok) throw new Error(`expected a grant at +${atMs - T0} ms, wait ${result.waitMs} ms`);
  return result.bucket;
}

/** The start burst: three at once, one more after a third of a second. */
function afterStartBurst(): BucketState {
  let bucket = fullBucket(definition, T0);
  for (let i = 0; i < 3; i++) bucket = grant(bucket, T0);
  return grant(bucket, T0 + 334);
}

describe('refusals of a burst', () => {
  it('records when a grant found the bucket full', () => {
    const bucket = afterStartBurst();
    expect(bucket.fullAtMs).toBe(T0);
  });

  it('learn no ceiling from the first refusal: the rate is whole again 10 s later', () => {
    const cut = penalize(refill(afterStartBurst(), T0 + 340), PenaltyFactor.firstRateLimit, T0 + 340);
    expect([cut.rateScalePermille, cut.rateCeilingPermille]).toEqual([800, 1000]);
    expect(rateScaleAt(cut, T0 + 340 + 10_000)).toBe(1000);
  });

  it('a refusal after the burst was spent learns its ceiling as before', () => {
    let bucket = afterStartBurst();
    // At the steady rate, the bucket never full again, until past one window from the burst.
    for (const atMs of [T0 + 667, T0 + 1_000, T0 + 1_334, T0 + 1_667, T0 + 2_000])
      bucket = grant(bucket, atMs);
    expect(bucket.fullAtMs).toBe(T0);
    const cut = penalize(refill(bucket, T0 + 2_100), PenaltyFactor.firstRateLimit, T0 + 2_100);
    expect([cut.rateScalePermille, cut.rateCeilingPermille]).toEqual([800, 950]);
  });

  it('a refusal in a burst never learns, however soon after another', () => {
    const first = penalize(refill(afterStartBurst(), T0 + 340), PenaltyFactor.firstRateLimit, T0 + 340);
    // Without a hold the bucket fills again while the caller sleeps, and bursts again.
    let bucket = refill(first, T0 + 5_000);
    for (let i = 0; i < 3; i++) bucket = grant(bucket, T0 + 5_000);
    const second = penalize(refill(bucket, T0 + 5_100), PenaltyFactor.repeatedRateLimit, T0 + 5_100);
    expect(second.rateCeilingPermille).toBe(1000);
  });

  it('a hold restarts the bucket with one call: the next refusal comes at the rate, not in a burst, and learns', () => {
    // The vendor's Retry-After of 1 s: the bucket comes out of the hold with one call, not a burst.
    const first = penalize(
      refill(afterStartBurst(), T0 + 340),
      PenaltyFactor.firstRateLimit,
      T0 + 340,
      1_000,
    );
    // 18 milli refilled since the grant at 334 ms, 14 after the cut, 2,400 more during the hold at
    // 0.8 · 3/s: 1,414 beyond one call, the 14 taken from the tokens and 1,400 owed.
    expect([first.tokensMilli, first.debtMilli, first.holdUntilMs]).toEqual([0, 1_400, T0 + 1_340]);
    const afterHold = refill(first, T0 + 1_340);
    expect(afterHold.tokensMilli).toBe(1_000);
    // Granted at the rate from there, one unit at a time: never a full bucket, so never a burst.
    let bucket = afterHold;
    let atMs = T0 + 1_340;
    for (let i = 0; i < 6; i++) {
      const result = take(refill(bucket, atMs), 1_000, atMs);
      if (!result.ok) {
        atMs += result.waitMs;
        i--;
        continue;
      }
      bucket = result.bucket;
    }
    expect(bucket.fullAtMs).toBe(T0);
    const second = penalize(refill(bucket, atMs), PenaltyFactor.repeatedRateLimit, atMs, 1_000);
    expect(second.rateCeilingPermille).toBeLessThan(1000);
  });

  it('a bucket of one call has no burst: a refusal of its paced grants is learnt from', () => {
    // vendorLimit's windowed bucket for 3 per 1 s: one call, a unit every 350 ms. Every grant
    // it paces finds it full; without this rule each refusal looked like a burst's and the
    // bucket kept its rate through a refusal every two seconds.
    const oneCall = { limitType: 'requests' as const, capacityMilli: 1_000, windowMs: 350, costPerCall: 1 };
    let bucket = fullBucket(oneCall, T0);
    for (let i = 0; i < 4; i++) bucket = grant(bucket, T0 + 350 * i);
    expect(bucket.fullAtMs).toBe(T0 + 1_050);
    expect(inBurst(bucket, T0 + 1_060)).toBe(false);
    const cut = penalize(refill(bucket, T0 + 1_060), PenaltyFactor.firstRateLimit, T0 + 1_060);
    expect([cut.rateScalePermille, cut.rateCeilingPermille]).toEqual([800, 950]);
  });
});
