import fc from 'fast-check';
import { SluiceConfigError } from '../../lambda/sluice';
import { fullBucket, refill, take } from '../../lambda/sluice/core/bucket-math';
import type { BucketState } from '../../lambda/sluice/core/model';
import { parseStackConfig } from '../../lib/config';
import {
  type Counting,
  DEFAULT_JITTER_SECONDS,
  deriveBucket,
  type VendorLimit,
} from '../../lib/vendor-limit';
import { validConfig } from './fixtures';

/**
 * Limits in the vendor's words (`vendorLimit`): what Sluice derives, how the configuration reads
 * it, and, as a property, that the derived bucket granting as fast as it allows, its grants
 * reaching the vendor up to the jitter margin late and in any order, is never refused by a vendor
 * counting as stated.
 */

function derived(limit: VendorLimit, callUnits = 1) {
  const result = deriveBucket('v#m', limit, callUnits);
  if ('problem' in result) throw new Error(result.problem);
  return result.bucket;
}

function problemsOf(input: unknown): string {
  try {
    parseStackConfig(input, 'config/x.json');
  } catch (error) {
    if (error instanceof SluiceConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('deriveBucket', () => {
  it.each<[string, VendorLimit, number, number, number]>([
    [
      'fixed window 3 per 1 s: one at a time, 3 per 1.05 s',
      { requests: 3, perSeconds: 1, counting: 'fixed-window' },
      1,
      1,
      0.35,
    ],
    ['sliding window: the same', { requests: 3, perSeconds: 1, counting: 'sliding-window' }, 1, 1, 0.35],
    ['unknown: the windowed mapping', { requests: 3, perSeconds: 1, counting: 'unknown' }, 1, 1, 0.35],
    ['500 a minute, unknown', { requests: 500, perSeconds: 60, counting: 'unknown' }, 1, 1, 0.121],
    [
      'token bucket 5/s, burst 5: burst less the jitter, full rate',
      { requests: 5, perSeconds: 1, counting: 'token-bucket', burst: 5 },
      1,
      4,
      0.8,
    ],
    [
      'token bucket of burst 1: spaced by the jitter',
      { requests: 1, perSeconds: 1, counting: 'token-bucket', burst: 1 },
      1,
      1,
      1.05,
    ],
    [
      'tokens, fixed window, calls of up to 260: a burst of one call',
      { tokens: 40_000, perSeconds: 60, counting: 'fixed-window' },
      260,
      260,
      0.393,
    ],
    [
      'tokens, token bucket',
      { tokens: 40_000, perSeconds: 60, counting: 'token-bucket', burst: 40_000 },
      260,
      39_966,
      59.949,
    ],
  ])('%s', (_name, limit, callUnits, capacity, windowSeconds) => {
    expect(derived(limit, callUnits)).toMatchObject({ capacity, windowSeconds });
  });

  it('says what it derived in one line', () => {
    expect(derived({ requests: 3, perSeconds: 1, counting: 'fixed-window' }).line).toBe(
      'v#m: vendor 3 requests per 1 s, fixed-window → capacity 1, windowSeconds 0.35 (2.857/s, 95.2 % of the limit; burst of one call, 0.05 s of jitter in every window)',
    );
  });

  it('refuses a limit no call could pass', () => {
    expect(deriveBucket('v#m', { tokens: 100, perSeconds: 60, counting: 'unknown' }, 100)).toEqual({
      problem: 'one call (100 tokens) is not less than the limit 100: no call could pass',
    });
    expect(
      deriveBucket('v#m', { tokens: 1000, perSeconds: 60, counting: 'token-bucket', burst: 50 }, 100),
    ).toEqual({
      problem: 'burst 50 is smaller than one call (100 tokens): no call could pass',
    });
  });
});

describe('vendorLimit in the stack configuration', () => {
  const buckets = (rps: Record<string, unknown>) => [
    { dimension: 'waitwhile#rps', ...rps },
    { dimension: 'waitwhile#location-writes#*', vendorLimit: { requests: 1, perSeconds: 1 } },
  ];

  it('derives the buckets and keeps one line per derivation', () => {
    const config = parseStackConfig(
      validConfig({
        buckets: buckets({ vendorLimit: { requests: 3, perSeconds: 1, counting: 'fixed-window' } }),
      }),
    );
    expect(config.buckets).toEqual([
      { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 1, windowSeconds: 0.35 },
      { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 1, windowSeconds: 1.05 },
    ]);
    expect(config.bucketDerivations).toHaveLength(2);
    expect(config.bucketDerivations?.[1]).toMatch(
      /^waitwhile#location-writes#\*: vendor 1 requests per 1 s, unknown →/,
    );
  });

  it('keeps the expert form as given, with no derivation line', () => {
    const config = parseStackConfig(validConfig());
    expect(config.buckets[0]).toEqual({
      dimension: 'waitwhile#rps',
      limitType: 'requests',
      capacity: 5,
      windowSeconds: 1,
    });
    expect(config.bucketDerivations).toEqual([]);
  });

  it('reports every problem of the two forms at once, each with its place', () => {
    const input = validConfig({
      buckets: [
        {
          dimension: 'waitwhile#rps',
          limitType: 'tokens',
          capacity: 3,
          vendorLimit: { requests: 3, perSeconds: 1, counting: 'fixed-window', burst: 3 },
        },
        {
          dimension: 'waitwhile#location-writes#*',
          vendorLimit: { perSeconds: 1, counting: 'token-bucket' },
        },
        { dimension: 'waitwhile#other', windowSeconds: 1 },
      ] as never,
    });
    expect(problemsOf(input)).toBe(
      [
        'Invalid stack configuration (7 problems):',
        '  config/x.json: buckets.0.capacity: cannot be combined with vendorLimit: give the vendor limit (Sluice derives the bucket) or the bucket, not both (got 3)',
        '  config/x.json: buckets.0.limitType: must be requests for a vendorLimit counted in requests (or be left out) (got "tokens")',
        '  config/x.json: buckets.0.vendorLimit.burst: applies to counting token-bucket only (got counting fixed-window) (got 3)',
        '  config/x.json: buckets.1.vendorLimit: needs exactly one of requests or tokens (the unit the vendor counts)',
        '  config/x.json: buckets.1.vendorLimit.burst: is required for counting token-bucket (the most the vendor allows at once)',
        '  config/x.json: buckets.2.limitType: is required (or give vendorLimit)',
        '  config/x.json: buckets.2.capacity: is required (or give vendorLimit)',
      ].join('\n'),
    );
  });

  it('names an unknown counting', () => {
    expect(
      problemsOf(
        validConfig({
          buckets: buckets({ vendorLimit: { requests: 3, perSeconds: 1, counting: 'leaky' } }) as never,
        }),
      ),
    ).toContain(
      'config/x.json: buckets.0.vendorLimit.counting: must be one of fixed-window, sliding-window, token-bucket, unknown (got "leaky")',
    );
  });
});

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

describe('a derived bucket is never refused by a vendor counting as stated (property)', () => {
  it('with grants reaching the vendor up to the jitter margin late, in any order', () => {
    const countings: Counting[] = ['fixed-window', 'sliding-window', 'token-bucket', 'unknown'];
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
        (counting, tokens, limitUnits, perSeconds, unitsPerCall, burstExtra, delays) => {
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
          if (counting === 'token-bucket') {
            expect(tokenBucketAdmitsAll(arrivals, units, L, perSeconds * 1000, burst)).toBe(true);
          } else {
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
