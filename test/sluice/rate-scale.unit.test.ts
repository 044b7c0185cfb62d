import fc from 'fast-check';
import { penalize, redefine, refill, take, waitMs } from '../../lambda/sluice/core/bucket-math';
import type { BucketState } from '../../lambda/sluice/core/model';
import {
  RATE_CEILING_AFTER_PROBE_PERMILLE,
  RATE_CEILING_AFTER_REGAIN_PERMILLE,
  RATE_CEILING_YOUNG_MS,
  RATE_CUT_HOLD_MS,
  RATE_PROBE_DELAY_MS,
  RATE_PROBE_MAX_DELAY_MS,
  RATE_PROBE_PERMILLE_PER_MINUTE,
  RATE_REGAIN_PERMILLE_PER_MINUTE,
  RATE_SCALE_MIN_PERMILLE,
  rateScaleAt,
} from '../../lambda/sluice/core/rate-scale';
import { PenaltyFactor } from '../../lambda/sluice/core/types';
import { bucketToRecord, itemFromRecord, itemToRecord } from '../../lambda/sluice/store/item-codec';
import { RPM_60, T0 } from './fixtures';

/**
 * The rate scale: penalize cuts it and learns a ceiling; refill regains the ceiling quickly and
 * stays there for the probe delay, then probes above it (docs/design.md, "penalize and the rate scale").
 */

const rpm = RPM_60;
const FULL_BURST = rpm.capacityMilli;
/** A bucket cut to `permille` at T0, with no ceiling learnt unless `extra` says so. */
const scaled = (permille: number, extra: Partial<BucketState> = {}): BucketState => ({
  ...rpm,
  rateScalePermille: permille,
  rateScaleAtMs: T0,
  rateCeilingPermille: permille,
  ...extra,
});
/** Cut to 800 at T0 with a ceiling of 950: regained 3.75 s later (150 permille at 40 a second). */
const regaining = scaled(800, { rateCeilingPermille: 950 });

describe('rate scale maths', () => {
  it('uses the named constants of the design', () => {
    expect([
      RATE_SCALE_MIN_PERMILLE,
      RATE_REGAIN_PERMILLE_PER_MINUTE,
      RATE_PROBE_DELAY_MS,
      RATE_PROBE_MAX_DELAY_MS,
      RATE_PROBE_PERMILLE_PER_MINUTE,
      RATE_CUT_HOLD_MS,
      RATE_CEILING_AFTER_PROBE_PERMILLE,
      RATE_CEILING_AFTER_REGAIN_PERMILLE,
      RATE_CEILING_YOUNG_MS,
    ]).toEqual([50, 2_400, 10_000, 320_000, 1_200, 1_000, 950, 750, 60_000]);
  });

  it.each([
    ['a new bucket runs at the configured rate', rpm, T0, 1_000],
    ['right after a cut, the stored scale', regaining, T0, 800],
    ['regains 2400 permille a minute: 100 in 2.5 s', regaining, T0 + 2_500, 900],
    ['rounded down: 24 ms regain nothing yet', regaining, T0 + 24, 800],
    ['25 ms regain one permille', regaining, T0 + 25, 801],
    ['1 ms before the ceiling, just under it', regaining, T0 + 3_749, 949],
    ['at the ceiling after 3.75 s', regaining, T0 + 3_750, 950],
    ['stays at the ceiling for the probe delay', regaining, T0 + 3_750 + 10_000, 950],
    ['then probes 20 a second: 1 after 50 ms', regaining, T0 + 3_750 + 10_050, 951],
    ['40 after 2 s', regaining, T0 + 3_750 + 12_000, 990],
    ['capped at 1000', regaining, T0 + 3_750 + 12_500, 1_000],
    ['from the floor with no ceiling above it: the delay, then the probe', scaled(50), T0 + 11_000, 70],
    ['full after 50 s of probing, whatever the ceiling', scaled(50), T0 + 60_000, 1_000],
    [
      'a stored probe delay: still at the ceiling',
      scaled(500, { rateProbeDelayMs: 40_000 }),
      T0 + 40_000,
      500,
    ],
    ['a stored probe delay: probing after it', scaled(500, { rateProbeDelayMs: 40_000 }), T0 + 41_000, 520],
    ['capped after a very long idle period', scaled(50), T0 + 10 ** 12, 1_000],
    ['flat before it was set (a clock behind never recovers)', regaining, T0 - 30_000, 800],
  ])('rateScaleAt: %s', (_name, bucket, atMs, expected) => {
    expect(rateScaleAt(bucket, atMs)).toBe(expected);
  });

  it('rateScaleAt never decreases with time between cuts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 50, max: 1_000 }),
        fc.integer({ min: 50, max: 1_000 }),
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (stored, ceiling, atMs, stepMs) => {
          const bucket = scaled(stored, { rateCeilingPermille: Math.max(stored, ceiling) });
          const now = rateScaleAt(bucket, T0 + atMs);
          expect(rateScaleAt(bucket, T0 + atMs + stepMs)).toBeGreaterThanOrEqual(now);
          expect(now).toBeGreaterThanOrEqual(stored);
          expect(now).toBeLessThanOrEqual(1_000);
        },
      ),
    );
  });

  it.each([
    ['multiplies the configured rate by the factor', rpm, 0.8, T0, 800, 950],
    ['multiplies the effective (regained) scale, rounded down', regaining, 0.5, T0 + 2_010, 440, 950],
    ['a factor of 0.3', rpm, PenaltyFactor.longRetryAfter, T0, 300, 950],
    ['never below the floor', scaled(100), 0.3, T0 + RATE_CUT_HOLD_MS, RATE_SCALE_MIN_PERMILLE, 100],
    ['at the floor stays at the floor', scaled(50), 0.5, T0 + RATE_CUT_HOLD_MS, 50, 50],
    ['a factor of 1 keeps the effective scale', scaled(700), 1, T0 + RATE_CUT_HOLD_MS, 700, 700],
    ['within the hold of the last cut, the rate is not cut again', regaining, 0.5, T0 + 999, 800, 950],
    [
      'a full bucket granted since a young cut, at or below its ceiling: 750‰ of the refused scale',
      scaled(400, { rateCeilingPermille: 950, grantedSinceCutMilli: FULL_BURST }),
      0.5,
      T0 + 10_000, // regained 400 + 400 = 800
      400,
      600,
    ],
    [
      'a full bucket granted since the cut, refused while probing: the ceiling that held is kept',
      scaled(400, { rateCeilingPermille: 500, grantedSinceCutMilli: FULL_BURST }),
      0.8,
      T0 + 2_500 + 10_000 + 1_000, // 500 regained after 2.5 s, the delay, then 20 probed: 520
      416,
      500,
    ],
    [
      'less than a full bucket granted since the cut: the vendor still refuses, the ceiling stays',
      scaled(400, { rateCeilingPermille: 950, grantedSinceCutMilli: FULL_BURST - 1 }),
      0.5,
      T0 + 10_000,
      400,
      950,
    ],
  ])('penalize: %s', (_name, bucket, factor, nowMs, expectedScale, expectedCeiling) => {
    const after = penalize(bucket, factor, nowMs);
    expect(after.rateScalePermille).toBe(expectedScale);
    expect(after.rateCeilingPermille).toBe(expectedCeiling);
    expect(after.tokensMilli).toBe(Math.floor(bucket.tokensMilli * factor));
  });

  it('take counts the units granted since the last cut up to the capacity; a cut starts again from 0', () => {
    const cut = scaled(800);
    const once = take(cut, 3_000, T0);
    expect(once.ok && once.bucket.grantedSinceCutMilli).toBe(3_000);
    const nearlyFull = { ...cut, grantedSinceCutMilli: FULL_BURST - 1_000 };
    const capped = take(nearlyFull, 3_000, T0);
    expect(capped.ok && capped.bucket.grantedSinceCutMilli).toBe(FULL_BURST);
    expect(penalize(nearlyFull, 0.8, T0 + RATE_CUT_HOLD_MS).grantedSinceCutMilli).toBe(0);
    // A bucket never cut counts nothing: its first cut learns a ceiling anyway.
    const never = take(rpm, 3_000, T0);
    expect(never.ok && never.bucket.grantedSinceCutMilli).toBe(0);
  });

  it('penalize stamps the cut with the later of now and the stored instants', () => {
    expect(penalize(rpm, 0.8, T0 + 5_000).rateScaleAtMs).toBe(T0 + 5_000);
    expect(penalize(scaled(900, { rateScaleAtMs: T0 + 9_000 }), 0.8, T0 + 5_000).rateScaleAtMs).toBe(
      T0 + 9_000,
    );
  });

  it.each([
    ['at the configured rate', rpm, T0 + 2_500, 2_500],
    ['at half the rate', scaled(500), T0 + 10_000, 5_000],
    // At T0 + 10 s the scale is 516: the interval is still credited at 500, its lower end.
    ['at the lower of the scales at the two ends of the interval', scaled(500), T0 + 10_000, 5_000],
    ['at the floor', scaled(50), T0 + 20_000, 1_000],
  ])('refill: %s', (_name, bucket, nowMs, expectedTokens) => {
    expect(refill({ ...bucket, tokensMilli: 0 }, nowMs).tokensMilli).toBe(expectedTokens);
  });

  it('refill at a scaled rate does not starve when called every ms, and never credits more than one refill', () => {
    // 60,000 milli per minute at 30 %: 0.3 milli per ms; a 1 ms step alone gains 0.
    let bucket: BucketState = { ...scaled(300), tokensMilli: 0 };
    for (let t = 1; t <= 1_000; t++) bucket = refill(bucket, T0 + t);
    const once = refill({ ...scaled(300), tokensMilli: 0 }, T0 + 1_000).tokensMilli;
    expect(once).toBe(300);
    expect(bucket.tokensMilli).toBeLessThanOrEqual(once);
    // Each credit loses under one milli-unit's time (3.33 ms here), as at the configured rate.
    expect(bucket.tokensMilli).toBeGreaterThanOrEqual(200);
  });

  it('penalize after refill settles the elapsed interval at the old scale, the rest at the new one', () => {
    const settled = refill({ ...rpm, tokensMilli: 0 }, T0 + 1_000);
    expect(settled.tokensMilli).toBe(1_000);
    const cut = penalize(settled, 0.5, T0 + 1_000);
    expect(cut).toMatchObject({ tokensMilli: 500, rateScalePermille: 500, rateScaleAtMs: T0 + 1_000 });
    expect(refill(cut, T0 + 3_000).tokensMilli).toBe(1_500);
  });

  it.each([
    ['at the configured rate', rpm, 1_000],
    ['twice as long at half the rate', scaled(500), 2_000],
    ['four times as long at a quarter', scaled(250), 4_000],
    ['twenty times as long at the floor', scaled(50), 20_000],
  ])('waitMs uses the effective rate: %s', (_name, bucket, expected) => {
    const empty = { ...bucket, tokensMilli: 0 };
    expect(waitMs(empty, 1_000, T0)).toBe(expected);
    expect(take(empty, 1_000, T0)).toEqual({ ok: false, waitMs: expected });
    // The wait is exact for refill: after it, the cost is there; 1 ms before, it is not.
    expect(refill(empty, T0 + expected).tokensMilli).toBe(1_000);
    expect(refill(empty, T0 + expected - 1).tokensMilli).toBeLessThan(1_000);
  });

  it('redefine keeps the scale; a change of limit type starts full and unscaled', () => {
    const definition = {
      limitType: 'requests' as const,
      capacityMilli: 30_000,
      windowMs: 60_000,
      costPerCall: 1,
    };
    const cut = scaled(400, { rateCeilingPermille: 700, grantedSinceCutMilli: 5 });
    expect(redefine(cut, definition)).toMatchObject({
      rateScalePermille: 400,
      rateScaleAtMs: T0,
      rateCeilingPermille: 700,
      grantedSinceCutMilli: 5,
    });
    expect(redefine(cut, { ...definition, limitType: 'tokens' })).toMatchObject({
      rateScalePermille: 1_000,
      rateCeilingPermille: 1_000,
      grantedSinceCutMilli: 0,
    });
  });

  it('stores the scale as four integers, only where they differ from a bucket never cut', () => {
    const bucket = scaled(437, { rateScaleAtMs: T0 + 7, rateCeilingPermille: 612, grantedSinceCutMilli: 9 });
    expect(bucketToRecord(bucket)).toMatchObject({
      rate_scale_permille: 437,
      rate_scale_at_ms: T0 + 7,
      rate_ceiling_permille: 612,
      rate_granted_milli: 9,
    });
    const item = { pk: 'v', version: 3, buckets: { rpm: bucket, never: rpm }, templates: {}, writers: {} };
    expect(itemFromRecord(itemToRecord(item))).toEqual(item);
    // A bucket never cut (and an item written before the rate scale existed) carries none of them.
    const stored = bucketToRecord(rpm);
    for (const name of [
      'rate_scale_permille',
      'rate_scale_at_ms',
      'rate_ceiling_permille',
      'rate_granted_milli',
    ])
      expect(stored).not.toHaveProperty(name);
    expect(itemFromRecord(itemToRecord(item)).buckets.never).toMatchObject({
      rateScalePermille: 1_000,
      rateScaleAtMs: 0,
      rateCeilingPermille: 1_000,
      grantedSinceCutMilli: 0,
    });
  });
});
