import fc from 'fast-check';
import { fullBucket, penalize, refill, take } from '../../lambda/sluice/core/bucket-math';
import type { BucketState } from '../../lambda/sluice/core/model';
import {
  cutRate,
  probeDelayMs,
  RATE_PROBE_DELAY_MS,
  RATE_SCALE_MIN_PERMILLE,
  RATE_TIMING_MARGIN_PERMILLE,
  type RateScaleState,
  rateScaleAt,
  UNSCALED,
} from '../../lambda/sluice/core/rate-scale';
import { PenaltyFactor } from '../../lambda/sluice/core/types';
import { memoryClient, T0 } from './helpers';

/**
 * What a refusal costs, on the pure core with time injected (docs/design.md, "penalize and the
 * rate scale"): the refusals a vendor's window edge or jitter causes at the start of a run cost
 * seconds of quota, not a third of it for the rest of the run; an isolated refusal heals within
 * 30 s; a learnt ceiling is probed again within a minute; a limit the vendor states is believed.
 * (A bucket configured 2× too high still converges: rate-scale-simulation.unit.test.ts.)
 */

/** 3 requests per 1 s, as a vendor documents it and a user first configures it (burst 3). */
const THREE_PER_SECOND = {
  limitType: 'requests' as const,
  capacityMilli: 3_000,
  windowMs: 1_000,
  costPerCall: 1,
};

interface Refusal {
  /** The vendor refuses the first grant at or after this instant (ms after T0)... */
  readonly atMs: number;
  /** ...answering Retry-After this long. */
  readonly holdMs: number;
}

/**
 * One client taking as fast as the bucket allows for `durationMs`, the vendor refusing as
 * scripted; each refusal penalized as the worker does (0.8, then 0.5 within a minute) with the
 * hold. `statedPermille`: the limit the vendor's answers state, relative to the bucket's rate.
 * Returns the calls the vendor accepted.
 */
function run(refusals: readonly Refusal[], durationMs: number, statedPermille?: number): number {
  let bucket: BucketState = fullBucket(THREE_PER_SECOND, T0);
  let nowMs = T0;
  let accepted = 0;
  let next = 0;
  let lastRefusalMs = Number.NEGATIVE_INFINITY;
  while (nowMs < T0 + durationMs) {
    const result = take(refill(bucket, nowMs), 1_000, nowMs);
    if (!result.ok) {
      nowMs += Math.max(1, result.waitMs);
      continue;
    }
    bucket = result.bucket;
    const refusal = refusals[next];
    if (refusal && nowMs >= T0 + refusal.atMs) {
      next++;
      const factor =
        nowMs - lastRefusalMs < 60_000 ? PenaltyFactor.repeatedRateLimit : PenaltyFactor.firstRateLimit;
      lastRefusalMs = nowMs;
      bucket = penalize(refill(bucket, nowMs), factor, nowMs, refusal.holdMs, statedPermille);
    } else accepted++;
  }
  return accepted;
}

/** Seconds of the configured rate lost against the same run with no refusal. */
function quotaLostSeconds(refusals: readonly Refusal[], durationMs: number, statedPermille?: number): number {
  return (run([], durationMs) - run(refusals, durationMs, statedPermille)) / 3;
}

describe('the quota a refusal costs (pure core, time injected)', () => {
  // The sequence: a 429 at the fourth grant of the start burst (333 ms, the vendor's first
  // window), its Retry-After of 1 s, then another 1.75 s later.
  const startRefusals = [
    { atMs: 333, holdMs: 1_000 },
    { atMs: 2_083, holdMs: 1_000 },
  ];

  it('two refusals 1.75 s apart at the start of a run cost seconds of quota, not a third of the run', () => {
    // Over 10 minutes: the two holds (2 s), the regain from the second cut (0.5 of 0.87) to the
    // ceiling it learnt (0.65), 10 s there and the probe back to whole: 10.7 s in all, against
    // the ~200 s a ceiling of 0.625 probed as (τ / 80 s)³ cost.
    const lost = quotaLostSeconds(startRefusals, 600_000);
    expect(lost).toBeLessThanOrEqual(11);
    // And they cost no more over a longer run: nothing is learnt that lasts.
    expect(quotaLostSeconds(startRefusals, 1_200_000)).toBeLessThanOrEqual(lost + 0.5);
  });

  it('with the limit stated in the answers, the same refusals cost the holds alone', () => {
    // The bucket runs at the stated limit: both refusals are timing, the rate is never cut.
    expect(quotaLostSeconds(startRefusals, 600_000, 1_000)).toBeLessThanOrEqual(2.5);
  });

  it.each([
    ['a first 429 (0.8)', PenaltyFactor.firstRateLimit],
    ['a repeated 429 (0.5)', PenaltyFactor.repeatedRateLimit],
    ['a long Retry-After (0.3)', PenaltyFactor.longRetryAfter],
  ])('after an isolated refusal, %s, the rate is back to 95 %% within 30 s', (_name, factor) => {
    // A steady run: the bucket drained, then one refusal at 60 s that learns a ceiling.
    let state: RateScaleState = UNSCALED;
    state = cutRate(state, 3_000, factor, T0 + 60_000);
    expect(state.rateCeilingPermille).toBe(950);
    expect(rateScaleAt(state, T0 + 60_000 + 30_000)).toBeGreaterThanOrEqual(950);
  });

  it('an isolated refusal in a steady run: admitted at ≥ 95 % of the rate from 30 s after it', () => {
    const accepted = (refusals: readonly Refusal[]) => run(refusals, 100_000) - run(refusals, 90_000);
    // The 10 s from 90 s to 100 s, a refusal at 60 s.
    expect(accepted([{ atMs: 60_000, holdMs: 1_000 }])).toBeGreaterThanOrEqual(0.95 * accepted([]));
  });

  it('a learnt ceiling is probed again within a minute of the cut that taught it, whatever the cut', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: RATE_SCALE_MIN_PERMILLE, max: 1_000 }),
        fc.constantFrom(
          PenaltyFactor.firstRateLimit,
          PenaltyFactor.repeatedRateLimit,
          PenaltyFactor.longRetryAfter,
        ),
        fc.integer({ min: 0, max: 120_000 }),
        (scale, factor, sinceMs) => {
          // A bucket at `scale` (a ceiling of it), a full bucket granted since, refused again.
          const before: RateScaleState = {
            rateScalePermille: scale,
            rateScaleAtMs: T0,
            rateCeilingPermille: scale,
            grantedSinceCutMilli: 3_000,
          };
          const atMs = T0 + 1_000 + sinceMs;
          const after = cutRate(before, 3_000, factor, atMs);
          if (after.rateCeilingPermille >= 1_000) return;
          expect(rateScaleAt(after, atMs + 60_000)).toBeGreaterThan(after.rateCeilingPermille);
        },
      ),
    );
  });
});

describe('a limit the vendor states (property)', () => {
  const step = fc.record({
    afterMs: fc.integer({ min: 0, max: 90_000 }),
    factor: fc.constantFrom(
      PenaltyFactor.firstRateLimit,
      PenaltyFactor.repeatedRateLimit,
      PenaltyFactor.longRetryAfter,
    ),
    inBurst: fc.boolean(),
    grantedMilli: fc.integer({ min: 0, max: 6_000 }),
  });

  it('the learnt ceiling stays at or above its margin until the margin is refused, the scale stays in bounds, and a limit a margin above the bucket never cuts it', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(1_000), fc.integer({ min: 30, max: 3_000 })),
        fc.array(step, { maxLength: 30 }),
        (stated, steps) => {
          let state: RateScaleState = UNSCALED;
          let atMs = T0;
          // Timing refusals take a margin below the stated limit, and more only once the margin
          // itself was refused, outside a burst, after a whole bucket granted at it.
          const margin = Math.floor((stated * RATE_TIMING_MARGIN_PERMILLE) / 1_000);
          const floor = Math.max(RATE_SCALE_MIN_PERMILLE, Math.min(1_000, margin));
          let marginRefused = false;
          for (const s of steps) {
            atMs += s.afterMs;
            const before = { ...state, grantedSinceCutMilli: s.grantedMilli };
            const cutRecently = before.rateScalePermille < 1_000 && atMs - before.rateScaleAtMs < 1_000;
            marginRefused ||=
              !cutRecently &&
              !s.inBurst &&
              before.rateScalePermille < 1_000 &&
              s.grantedMilli >= 3_000 &&
              atMs - before.rateScaleAtMs < probeDelayMs(before) &&
              rateScaleAt(before, atMs) <= floor;
            state = cutRate(before, 3_000, s.factor, atMs, { inBurst: s.inBurst, statedPermille: stated });
            if (!marginRefused) expect(state.rateCeilingPermille).toBeGreaterThanOrEqual(floor);
            expect(state.rateScalePermille).toBeGreaterThanOrEqual(RATE_SCALE_MIN_PERMILLE);
            expect(state.rateScalePermille).toBeLessThanOrEqual(1_000);
            const now = rateScaleAt(state, atMs);
            expect(now).toBeLessThanOrEqual(1_000);
            if (margin >= 1_000) expect(now).toBe(1_000);
          }
        },
      ),
    );
  });

  it('a refusal at the stated rate, outside a burst, takes the jitter margin once and probes it away', () => {
    // A bucket paced at exactly the stated limit meets a window's edge: 950‰ of it, held as a ceiling.
    const first = cutRate(UNSCALED, 3_000, PenaltyFactor.firstRateLimit, T0, { statedPermille: 1_000 });
    expect(first).toMatchObject({ rateScalePermille: 950, rateCeilingPermille: 950 });
    // Inside the margin, another refusal is the phase: nothing changes, however many come.
    const again = cutRate(first, 3_000, PenaltyFactor.repeatedRateLimit, T0 + 5_000, {
      statedPermille: 1_000,
    });
    expect(again).toEqual(first);
    // In a burst, nothing either; and the probe delay later, the scale climbs back to whole.
    expect(
      cutRate(UNSCALED, 3_000, PenaltyFactor.firstRateLimit, T0, { statedPermille: 1_000, inBurst: true }),
    ).toEqual(UNSCALED);
    expect(rateScaleAt(first, T0 + 15_000)).toBe(1_000);
    // A refused probe keeps the margin and waits twice as long before the next.
    const probed = cutRate(first, 3_000, PenaltyFactor.firstRateLimit, T0 + 12_000, {
      statedPermille: 1_000,
    });
    expect(probed).toMatchObject({
      rateScalePermille: 950,
      rateCeilingPermille: 950,
      rateProbeDelayMs: 20_000,
    });
    // A bucket already a margin under the stated limit (vendorLimit's own derivation) keeps its rate.
    expect(cutRate(UNSCALED, 3_000, PenaltyFactor.firstRateLimit, T0, { statedPermille: 1_053 })).toEqual(
      UNSCALED,
    );
  });

  it('a vendor that refuses a whole bucket inside the margin twice is learnt from as if it stated nothing', () => {
    // A sliding counter of 3 per 1 s passes a steady stream at 2 per s: the margin is refused too.
    const margin = cutRate(UNSCALED, 3_000, PenaltyFactor.firstRateLimit, T0, { statedPermille: 1_000 });
    const refused = { ...margin, grantedSinceCutMilli: 3_000 };
    // The first time, a second margin as deep: one late arrival is not yet a stream.
    const deeper = cutRate(refused, 3_000, PenaltyFactor.repeatedRateLimit, T0 + 5_000, {
      statedPermille: 1_000,
    });
    expect(deeper).toMatchObject({ rateScalePermille: 902, rateCeilingPermille: 902 });
    const refusedAgain = { ...deeper, grantedSinceCutMilli: 3_000 };
    const after = cutRate(refusedAgain, 3_000, PenaltyFactor.repeatedRateLimit, T0 + 8_000, {
      statedPermille: 1_000,
    });
    expect(after).toEqual(cutRate(refusedAgain, 3_000, PenaltyFactor.repeatedRateLimit, T0 + 8_000));
    expect(after.rateScalePermille).toBe(451);
    // Refused before a whole bucket went through at the margin, or after its probe delay: the
    // window's phase, or a moment of jitter.
    expect(
      cutRate(margin, 3_000, PenaltyFactor.repeatedRateLimit, T0 + 5_000, { statedPermille: 1_000 }),
    ).toEqual(margin);
    const late = T0 + 1_000 + RATE_PROBE_DELAY_MS;
    expect(
      rateScaleAt(
        cutRate(refused, 3_000, PenaltyFactor.repeatedRateLimit, late, { statedPermille: 1_000 }),
        late,
      ),
    ).toBeGreaterThanOrEqual(950);
  });

  it('a stated limit below the configured rate becomes the ceiling at the first refusal above it', () => {
    const after = cutRate(UNSCALED, 3_000, PenaltyFactor.firstRateLimit, T0, { statedPermille: 500 });
    // Less the jitter margin: a bucket paced at exactly the stated rate meets the vendor's window
    // edge again within seconds (in the vendor zoo, a second refusal 2 to 5 s after the first).
    expect(after).toMatchObject({ rateScalePermille: 475, rateCeilingPermille: 475 });
    // It holds there: no probe above the vendor's own word for minutes.
    expect(rateScaleAt(after, T0 + 300_000)).toBe(475);
  });
});

describe('penalize with the limit the vendor states (SDK, memory store)', () => {
  const rpm = {
    dimension: 'openai#rpm',
    limitType: 'requests' as const,
    capacity: 499,
    windowSeconds: 59.88,
  };

  it('at the bucket rate: timing, a jitter margin and no lower, the hold kept', async () => {
    const { client } = memoryClient();
    await client.upsertBuckets([rpm]);
    // 500 a minute stated, the bucket derived from it: equal, whatever the float noise.
    const result = await client.penalize('openai#rpm', 0.8, {
      holdSeconds: 2,
      statedLimitPerSecond: 500 / 60,
    });
    expect(result).toMatchObject({ statedLimit: 'timing', rateScaleAfter: 0.95, rateCeilingAfter: 0.95 });
    expect(result.holdUntilMs).toBe(T0 + 2_000);
  });

  it('below the bucket rate: the stated limit is the ceiling', async () => {
    const { client, logger } = memoryClient();
    await client.upsertBuckets([rpm]);
    const result = await client.penalize('openai#rpm', 0.8, { statedLimitPerSecond: 250 / 60 });
    expect(result).toMatchObject({ statedLimit: 'ceiling', rateScaleAfter: 0.475, rateCeilingAfter: 0.475 });
    expect(logger.events('penalize.applied')[0]).toMatchObject({ stated_limit: 'ceiling' });
  });

  it('refuses a stated limit that is not a rate above 0', async () => {
    const { client } = memoryClient();
    await client.upsertBuckets([rpm]);
    await expect(client.penalize('openai#rpm', 0.8, { statedLimitPerSecond: 0 })).rejects.toThrow(
      'penalize statedLimitPerSecond for openai#rpm must be a number > 0 (got 0)',
    );
  });
});
