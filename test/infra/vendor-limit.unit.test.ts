import { SluiceConfigError } from '../../lambda/sluice';
import { parseStackConfig } from '../../lib/config';
import { deriveBucket, type VendorLimit } from '../../lib/vendor-limit';
import { validConfig } from './fixtures';

/**
 * Limits in the vendor's words (`vendorLimit`): what Sluice derives, how the configuration reads
 * it (the property that the derived bucket is never refused by a vendor counting as stated is in
 * test/sluice/vendor-limit-property.unit.test.ts, beside the bucket maths it runs).
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
    [
      'sliding counter 3 per 1 s: one call less per window, 2 per 1.05 s',
      { requests: 3, perSeconds: 1, counting: 'sliding-counter' },
      1,
      1,
      0.525,
    ],
    [
      'sliding counter 1 per 1 s: one call every two windows and the jitter',
      { requests: 1, perSeconds: 1, counting: 'sliding-counter' },
      1,
      1,
      2.05,
    ],
    [
      'sliding counter, tokens: the windowed tokens mapping',
      { tokens: 40_000, perSeconds: 60, counting: 'sliding-counter' },
      260,
      260,
      0.393,
    ],
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
      'config/x.json: buckets.0.vendorLimit.counting: must be one of fixed-window, sliding-window, sliding-counter, token-bucket, unknown (got "leaky")',
    );
  });
});
