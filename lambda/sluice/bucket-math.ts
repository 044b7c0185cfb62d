import { type BucketDefinitionState, type BucketState, FULL_RATE_PERMILLE, type LeaseState } from './model';

/**
 * Pure token-bucket maths on integer milli-units and milliseconds. Every function takes
 * `nowMs` and returns new state; nothing here reads a clock or a store.
 */

/** Concurrent waits are a polling hint: leases come back on release, not on a schedule. */
export const CONCURRENT_MAX_WAIT_MS = 1_000;
export const CONCURRENT_MIN_WAIT_MS = 50;

/**
 * AIMD on the refill rate (docs/design.md, "penalize"): penalize multiplies the rate scale by
 * its factor, never below this floor (5 % of the configured rate, so refill always heals)...
 */
export const RATE_SCALE_MIN_PERMILLE = 50;
/** ...and the scale then recovers additively by this much per minute (10 % of the configured rate). */
export const RATE_RECOVERY_PERMILLE_PER_MINUTE = 100;
const MINUTE_MS = 60_000;
/**
 * A penalize within this long of the last rate cut scales tokens but does not cut the rate
 * again: a burst of refusals from one overshoot (many workers hitting 429 at once) is one
 * congestion signal, as TCP cuts its window once per round trip. Without it, ten 429s from one
 * burst took the rate to the floor (0.8 · 0.5⁹) and throughput stayed low for minutes.
 */
export const RATE_CUT_HOLD_MS = 1_000;

/** A full bucket, as created on first definition or first use of a key. */
export function fullBucket(definition: BucketDefinitionState, nowMs: number): BucketState {
  return {
    ...definition,
    tokensMilli: definition.capacityMilli,
    debtMilli: 0,
    lastRefillAtMs: nowMs,
    leases: {},
    rateScalePermille: FULL_RATE_PERMILLE,
    rateScaleAtMs: nowMs,
  };
}

/**
 * The effective rate scale at `atMs`, in permille: the stored scale plus the additive
 * recovery since it was set, `floor((atMs − rateScaleAtMs) · 100 / 60,000)`, at most 1000.
 * Non-decreasing in `atMs` (flat before `rateScaleAtMs`, so a clock behind never recovers).
 */
export function rateScaleAt(bucket: BucketState, atMs: number): number {
  if (bucket.rateScalePermille >= FULL_RATE_PERMILLE) return FULL_RATE_PERMILLE;
  const sinceMs = Math.max(0, atMs - bucket.rateScaleAtMs);
  const room = FULL_RATE_PERMILLE - bucket.rateScalePermille;
  // Checked before the product, so a long idle period cannot overflow.
  if (sinceMs >= mulDivCeil(room, MINUTE_MS, RATE_RECOVERY_PERMILLE_PER_MINUTE)) return FULL_RATE_PERMILLE;
  return bucket.rateScalePermille + mulDivFloor(sinceMs, RATE_RECOVERY_PERMILLE_PER_MINUTE, MINUTE_MS);
}

/**
 * The refill rate in force from `lastRefillAtMs` on, as milli-units `perMilli` per `windowMs`
 * ms: `capacityMilli · scale / 1000` per window, kept as the exact fraction
 * `(capacityMilli · scale) / (windowMs · 1000)`, or `capacityMilli / windowMs` unscaled (the
 * very same quotients, without the larger products).
 *
 * An interval is credited at the scale at its start, `lastRefillAtMs`. Between penalties the
 * scale only rises, so that is the lower of the scales at the interval's two ends, and
 * penalize refills (settles the interval at the old scale) before it lowers the scale: no
 * interval is ever credited above the scale in force at any point of it.
 */
export function refillRate(bucket: BucketState): { readonly milli: number; readonly perMs: number } {
  const scale = rateScaleAt(bucket, bucket.lastRefillAtMs);
  return scale >= FULL_RATE_PERMILLE
    ? { milli: bucket.capacityMilli, perMs: bucket.windowMs }
    : { milli: bucket.capacityMilli * scale, perMs: bucket.windowMs * FULL_RATE_PERMILLE };
}

/**
 * Credits the time elapsed since `lastRefillAtMs`, at exactly `capacityMilli` per `windowMs`.
 * `now = max(nowMs, lastRefillAtMs)`, so a client whose clock is behind never moves time
 * backwards. Once the elapsed time covers the room (`capacity − tokens + debt`), the bucket is
 * full and `lastRefillAtMs = now`: credited time is capped, and this check comes before any
 * product with the elapsed time, so a long idle period cannot overflow. Otherwise
 * `gained = floor(elapsedMs · capacityMilli / windowMs)` (rounded down) and `lastRefillAtMs`
 * advances only by `ceil(gained · windowMs / capacityMilli)` ≤ elapsed (the time actually
 * credited, rounded up), so repeated refills never over-credit and never starve on sub-unit
 * gains. Debt is repaid before tokens grow.
 */
export function refill(bucket: BucketState, nowMs: number): BucketState {
  const now = Math.max(nowMs, bucket.lastRefillAtMs);
  const { capacityMilli } = bucket;
  if (bucket.windowMs <= 0)
    return bucket.lastRefillAtMs === now ? bucket : { ...bucket, lastRefillAtMs: now };
  // The rate is milli per perMs ms: capacityMilli per windowMs, times the rate scale (refillRate).
  const { milli, perMs } = refillRate(bucket);
  const elapsedMs = now - bucket.lastRefillAtMs;
  const room = capacityMilli - bucket.tokensMilli + bucket.debtMilli;
  // elapsed ≥ ceil(room · W / C) ⇔ floor(elapsed · C / W) ≥ room, for integers: same as "gained ≥ room".
  if (room <= 0 || elapsedMs >= mulDivCeil(room, perMs, milli)) {
    return {
      ...bucket,
      tokensMilli: Math.max(bucket.tokensMilli, capacityMilli),
      debtMilli: 0,
      lastRefillAtMs: now,
    };
  }
  // Here elapsedMs < room · W / C + 1, so every product below is < (room + 1) · max(C, W).
  const gained = mulDivFloor(elapsedMs, milli, perMs);
  const creditedMs = mulDivCeil(gained, perMs, milli);
  const repaid = Math.min(gained, bucket.debtMilli);
  return {
    ...bucket,
    debtMilli: bucket.debtMilli - repaid,
    tokensMilli: Math.min(capacityMilli, bucket.tokensMilli + gained - repaid),
    lastRefillAtMs: bucket.lastRefillAtMs + creditedMs,
  };
}

/**
 * `floor(a · b / c)` for integers a, b ≥ 0 and c > 0, exactly. While `a · b ≤ 2^53 − 1` the
 * product is exact in a double and the quotient is correctly rounded: its error is at most
 * `a·b / (c · 2^53) < 1/c`, while a non-integer `a·b/c` lies at least `1/c` from any integer,
 * so `floor` and `ceil` cannot cross or land on one. Larger products (e.g. a daily window of
 * a billion tokens: 10^12 milli × 8.64·10^7 ms) go through BigInt; a non-integer input (a
 * fractional clock) is computed in doubles, as exactly as it can be.
 */
export function mulDivFloor(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER || !Number.isInteger(a) || !Number.isInteger(b)) {
    return Math.floor(product / c);
  }
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** `ceil(a · b / c)`, exactly, on the terms of `mulDivFloor`. */
export function mulDivCeil(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER || !Number.isInteger(a) || !Number.isInteger(b)) {
    return Math.ceil(product / c);
  }
  const bc = BigInt(c);
  return Number((BigInt(a) * BigInt(b) + bc - 1n) / bc);
}

/** Units a caller can take now from a refilled bucket (never negative). */
export function availableMilli(bucket: BucketState): number {
  return bucket.debtMilli > 0 ? 0 : Math.max(0, bucket.tokensMilli);
}

export type TakeResult =
  | { readonly ok: true; readonly bucket: BucketState }
  | { readonly ok: false; readonly waitMs: number };

/**
 * Takes `costMilli` from a bucket already refilled to `nowMs`, adding `lease` for a
 * concurrent bucket; or says how long to wait.
 */
export function take(
  bucket: BucketState,
  costMilli: number,
  nowMs: number,
  lease?: { readonly id: string; readonly state: LeaseState },
): TakeResult {
  if (availableMilli(bucket) >= costMilli) {
    const leases =
      bucket.limitType === 'concurrent' && lease
        ? { ...bucket.leases, [lease.id]: lease.state }
        : bucket.leases;
    return { ok: true, bucket: { ...bucket, tokensMilli: bucket.tokensMilli - costMilli, leases } };
  }
  return { ok: false, waitMs: waitMs(bucket, costMilli, nowMs) };
}

/**
 * Time buckets: the time until refill covers the missing amount plus the debt,
 * `ceil(missing · windowMs / capacityMilli)` (exact, rounded up to the ms) at the configured
 * rate, longer by `1000 / scale` while a penalty lowers the rate (`refillRate`), counted from
 * `lastRefillAtMs` (time already elapsed but not yet credited counts).
 * Concurrent: until the earliest lease expiry, at most 1 s (a release may come sooner) and at
 * least 50 ms (no busy loop).
 */
export function waitMs(bucket: BucketState, costMilli: number, nowMs: number): number {
  if (bucket.limitType === 'concurrent') {
    const expiries = Object.values(bucket.leases).map((l) => l.expiresAtMs - nowMs);
    const untilExpiry = expiries.length ? Math.min(...expiries) : CONCURRENT_MAX_WAIT_MS;
    return Math.max(CONCURRENT_MIN_WAIT_MS, Math.min(untilExpiry, CONCURRENT_MAX_WAIT_MS));
  }
  const missing = costMilli - availableMilli(bucket) + bucket.debtMilli;
  if (missing <= 0) return 0;
  const { milli, perMs } = refillRate(bucket);
  const neededMs = mulDivCeil(missing, perMs, milli);
  return Math.max(0, bucket.lastRefillAtMs + neededMs - nowMs);
}

/** Refunds an unused estimate (never above capacity) or records an overrun as debt. */
export function settle(bucket: BucketState, estimateMilli: number, actualMilli: number): BucketState {
  const refund = estimateMilli - actualMilli;
  if (refund >= 0) {
    const repaid = Math.min(refund, bucket.debtMilli);
    const tokensMilli = Math.min(bucket.capacityMilli, bucket.tokensMilli + refund - repaid);
    return { ...bucket, debtMilli: bucket.debtMilli - repaid, tokensMilli };
  }
  const overrun = -refund;
  const fromTokens = Math.min(overrun, Math.max(0, bucket.tokensMilli));
  return {
    ...bucket,
    tokensMilli: bucket.tokensMilli - fromTokens,
    debtMilli: bucket.debtMilli + overrun - fromTokens,
  };
}

/**
 * On a bucket already refilled to `nowMs` (so the elapsed interval is settled at the old
 * scale): scales tokens by `factor` (0 < factor ≤ 1), rounded down, never below 0, and the
 * refill rate too: the effective scale at `nowMs` times `factor`, rounded down, at least
 * `RATE_SCALE_MIN_PERMILLE`, from `nowMs` on (never moved back before a later stored instant);
 * unless the rate was cut less than `RATE_CUT_HOLD_MS` ago, when only the tokens are scaled.
 * The factor is taken to the millionth (`round(factor · 10^6)`), so the product is integer maths.
 */
export function penalize(bucket: BucketState, factor: number, nowMs: number): BucketState {
  const tokensMilli = Math.max(0, Math.floor(bucket.tokensMilli * factor));
  if (bucket.windowMs <= 0) return { ...bucket, tokensMilli };
  const atMs = Math.max(nowMs, bucket.lastRefillAtMs, bucket.rateScaleAtMs);
  const cutRecently =
    bucket.rateScalePermille < FULL_RATE_PERMILLE && atMs - bucket.rateScaleAtMs < RATE_CUT_HOLD_MS;
  if (cutRecently) return { ...bucket, tokensMilli };
  const scaled = mulDivFloor(rateScaleAt(bucket, atMs), Math.round(factor * 1_000_000), 1_000_000);
  return {
    ...bucket,
    tokensMilli,
    rateScalePermille: Math.min(FULL_RATE_PERMILLE, Math.max(RATE_SCALE_MIN_PERMILLE, scaled)),
    rateScaleAtMs: atMs,
  };
}

/** Lowers tokens to at most what the vendor says remains; never raises them. */
export function resync(bucket: BucketState, remainingMilli: number): BucketState {
  return bucket.tokensMilli <= remainingMilli
    ? bucket
    : { ...bucket, tokensMilli: Math.max(0, remainingMilli) };
}

/** Capacity held by live leases. */
export function leasedMilli(bucket: BucketState): number {
  return Object.values(bucket.leases).reduce((sum, lease) => sum + lease.costMilli, 0);
}

/**
 * Applies a new definition and keeps live state, the rate scale included: time buckets keep
 * their tokens, clamped to a lowered capacity; concurrent buckets keep their leases and take `tokens = capacity −
 * leased` (may be negative while more is held than the new capacity), so conservation holds.
 */
export function redefine(bucket: BucketState, definition: BucketDefinitionState): BucketState {
  const next = { ...bucket, ...definition };
  if (definition.limitType !== bucket.limitType)
    return {
      ...next,
      tokensMilli: definition.capacityMilli,
      leases: {},
      debtMilli: 0,
      rateScalePermille: FULL_RATE_PERMILLE,
    };
  if (definition.limitType === 'concurrent')
    return { ...next, tokensMilli: definition.capacityMilli - leasedMilli(bucket) };
  return { ...next, tokensMilli: Math.min(bucket.tokensMilli, definition.capacityMilli) };
}
