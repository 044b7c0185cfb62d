import fc from 'fast-check';
import { fullBucket, refill, take } from '../../lambda/sluice/core/bucket-math';
import type { BucketState } from '../../lambda/sluice/core/model';
import {
  type Counting,
  DEFAULT_JITTER_SECONDS,
  deriveBucket,
  type VendorLimit,
} from '../../lib/vendor-limit';

/**
 * A bucket derived from a limit in the vendor's words (lib/vendor-limit.ts, docs/design.md,
 * "Limits in the vendor's words"), granting as fast as it allows on the pure bucket maths, its
 * grants reaching the vendor up to the jitter margin late and in any order, is never refused by
 * a vendor counting as stated.
 */

/** Grants of a bucket taking as fast as it allows, for `grants` calls of `units` each, from T0. */
function greedyGrants(bucket: BucketState, units: number, grants: number): number[] {
  const at: number[] = [];
  let state = bucket;
  let nowMs = 0;
  while (at.length < grants) {
    const result = take(refill(state, nowMs), units * 1000, nowMs);
    if (result.ok) {
      state = result.bucket;
      at.push(nowMs);
    } else nowMs += Math.max(1, result.waitMs);
  }
  return at;
}

/** The most units in any half-open interval of `windowMs` (a sliding log; fixed windows, anchored or not, are such intervals). */
function mostInAnyWindow(arrivals: readonly number[], units: number, windowMs: number): number {
  let most = 0;
  let start = 0;
  for (let end = 0; end < arrivals.length; end++) {
    while ((arrivals[end] as number) - (arrivals[start] as number) >= windowMs) start++;
    most = Math.max(most, (end - start + 1) * units);
  }
  return most;
}

/** Whether a token bucket of `burst` refilling `limit` per `windowMs`, full at first, admits every arrival. */
function tokenBucketAdmitsAll(
  arrivals: readonly number[],
  units: number,
  limit: number,
  windowMs: number,
  burst: number,
) {
  let tokens = burst;
  let last = arrivals[0] ?? 0;
  for (const a of arrivals) {
    tokens = Math.min(burst, tokens + ((a - last) * limit) / windowMs);
    last = a;
    if (tokens < units - 1e-9) return false;
    tokens -= units;
  }
  return true;
}

/**
 * Whether a sliding counter admits every arrival: the previous clock window's units weighted by
 * the share of it still inside the sliding window, plus the current window's. `unrounded`: the
 * estimate plus the request compared with the limit as it is (the counter as Cloudflare
 * describes it). Otherwise the weighted count is rounded down and a request passes while that
 * plus the current window's units is below the limit, the request itself not counted (Upstash's
 * `slidingWindow`, requests and payload alike). Windows
 * start at `phaseMs` modulo the window, wherever the first grant falls.
 */
function slidingCounterAdmitsAll(
  arrivals: readonly number[],
  units: number,
  limit: number,
  windowMs: number,
  phaseMs: number,
  unrounded: boolean,
): boolean {
  const windowOf = (atMs: number) => Math.floor((atMs + phaseMs) / windowMs);
  for (let i = 0; i < arrivals.length; i++) {
    const at = arrivals[i] as number;
    const current = windowOf(at);
    let previousUnits = 0;
    let currentUnits = 0;
    for (let j = 0; j < i; j++) {
      const w = windowOf(arrivals[j] as number);
      if (w === current) currentUnits += units;
      else if (w === current - 1) previousUnits += units;
    }
    const left = 1 - (at + phaseMs - current * windowMs) / windowMs;
    const admitted = unrounded
      ? previousUnits * left + currentUnits + units <= limit + 1e-9
      : Math.floor(previousUnits * left + 1e-9) + currentUnits < limit;
    if (!admitted) return false;
  }
  return true;
}

describe('a derived bucket is never refused by a vendor counting as stated (property)', () => {
  it('with grants reaching the vendor up to the jitter margin late, in any order', () => {
    const countings: Counting[] = [
      'fixed-window',
      'sliding-window',
      'sliding-counter',
      'token-bucket',
      'unknown',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...countings),
        fc.boolean(),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(0.5, 1, 2, 10, 60),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 100 }),
        // Each grant's delay, in shares of the margin: the extremes (on time, the whole margin
        // late) as often as anything between, where the worst orders lie.
        fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: 60,
          maxLength: 60,
        }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (counting, tokens, limitUnits, perSeconds, unitsPerCall, burstExtra, delays, phase) => {
          const units = tokens ? unitsPerCall : 1;
          const L = tokens ? limitUnits * 10 : limitUnits;
          const burst = Math.min(L, units + Math.floor((burstExtra / 100) * L));
          const limit: VendorLimit = {
            ...(tokens ? { tokens: L } : { requests: L }),
            perSeconds,
            counting,
            ...(counting === 'token-bucket' ? { burst } : {}),
          };
          const result = deriveBucket('v#m', limit, units);
          if ('problem' in result) return;
          const { capacity, windowSeconds } = result.bucket;
          const bucket = fullBucket(
            {
              limitType: tokens ? 'tokens' : 'requests',
              capacityMilli: capacity * 1000,
              windowMs: Math.round(windowSeconds * 1000),
              costPerCall: 1,
            },
            0,
          );
          const jitterMs = DEFAULT_JITTER_SECONDS * 1000;
          const arrivals = greedyGrants(bucket, units, delays.length)
            .map((g, i) => g + (delays[i] as number) * jitterMs)
            .sort((a, b) => a - b);
          const windowMs = perSeconds * 1000;
          // Half a millisecond off ours: an arrival on a window's very first instant, when the
          // previous window (counted whole there) began with one too, would make a closed
          // interval of W, which a rate of exactly L / (W + J) fills with L + 1.
          const phaseMs = Math.floor(phase * windowMs) + 0.5;
          if (counting === 'token-bucket') {
            expect(tokenBucketAdmitsAll(arrivals, units, L, windowMs, burst)).toBe(true);
          } else if (counting === 'sliding-counter') {
            expect(slidingCounterAdmitsAll(arrivals, units, L, windowMs, phaseMs, true)).toBe(true);
          } else {
            // A sliding log, both fixed windows, and a counter that rounds its weighted count down.
            expect(slidingCounterAdmitsAll(arrivals, units, L, windowMs, phaseMs, false)).toBe(true);
            expect(mostInAnyWindow(arrivals, units, perSeconds * 1000)).toBeLessThanOrEqual(L);
            // `unknown` is also safe for a token bucket whose burst holds one call and what the
            // bucket grants in the jitter margin (two calls up to 20 calls a second at 50 ms).
            const inJitter = (capacity / windowSeconds) * DEFAULT_JITTER_SECONDS;
            if (counting === 'unknown' && burst >= units + inJitter)
              expect(tokenBucketAdmitsAll(arrivals, units, L, perSeconds * 1000, burst)).toBe(true);
          }
        },
      ),
    );
  });
});
